"""A host for OPA's Wasm ABI (1.2+) on wasmtime-py: one instance of a compiled policy, evaluated.

The caller passes the ``wasmtime`` module in, so that importing this module loads no runtime.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Final

from .._text import first_line
from .errors import PolicyError, PolicyEvalError
from .wasm_builtins import HOST_BUILTINS
from .wasm_calls import i32_function

__all__ = ["OpaWasmModule", "WasmAbort"]

_WASM_MAX_PAGES: Final = 4096  # 256 MiB of linear memory per loaded policy
_WASM_PAGE: Final = 65536


#: Every OPA Wasm module still alive, closed before the interpreter tears down (see below).
_LIVE_MODULES: weakref.WeakSet[OpaWasmModule] = weakref.WeakSet()


@atexit.register
def _close_live_modules() -> None:
    """Delete the stores of modules still alive at exit, while Python can still run their callbacks.

    A store holds our Python host functions (``opa_abort``, the builtins). Deleted later, by the
    interpreter's final clean-up, wasmtime calls back into a half-destroyed Python and the
    process dies with SIGSEGV after every test has passed (seen at the end of ``pytest tests/``).
    """
    for module in list(_LIVE_MODULES):
        module.store.close()


class OpaWasmModule:
    """One instance of an OPA-compiled Wasm module, driven through OPA's Wasm ABI (1.2+).

    The host imports ``env.memory``, ``opa_abort``, ``opa_println`` and ``opa_builtin0..4``;
    evaluation uses the one-call fast path ``opa_eval`` (ABI 1.2): the input JSON is written
    at the heap pointer, the result set comes back as a NUL-terminated JSON string. Builtins
    that OPA leaves to the host are provided for the ones in :data:`HOST_BUILTINS`; a module
    needing another is refused at load time, never half-evaluated.
    """

    def __init__(self, wasmtime: Any, wasm: bytes, data: Any) -> None:
        wt = self._wt = wasmtime
        store = self.store = wt.Store(wt.Engine())
        _LIVE_MODULES.add(self)
        try:
            module = wt.Module(store.engine, wasm)
        except wt.WasmtimeError as exc:
            raise PolicyError(
                f"policy.wasm is not a valid module: {first_line(str(exc))}"
            ) from None
        pages = 2
        for imported in module.imports:
            if imported.module == "env" and imported.name == "memory":
                pages = max(pages, imported.type.limits.min)
        self.memory = wt.Memory(store, wt.MemoryType(wt.Limits(pages, _WASM_MAX_PAGES)))
        i32 = wt.ValType.i32()
        linker = wt.Linker(store.engine)
        linker.define(store, "env", "memory", self.memory)
        linker.define_func("env", "opa_abort", wt.FuncType([i32], []), self._abort)
        linker.define_func("env", "opa_println", wt.FuncType([i32], []), lambda addr: None)
        for arity in range(5):
            linker.define_func(
                "env",
                f"opa_builtin{arity}",
                wt.FuncType([i32] * (arity + 2), [i32]),
                self._builtin,
            )
        try:
            instance = linker.instantiate(store, module)
        except (wt.Trap, wt.WasmtimeError) as exc:
            raise PolicyError(
                f"policy.wasm cannot be instantiated: {first_line(str(exc))}"
            ) from None
        exports = instance.exports(store)
        self._exports = exports
        major = self._global("opa_wasm_abi_version")
        minor = self._global("opa_wasm_abi_minor_version")
        if major != 1 or minor < 2:
            raise PolicyError(
                f"policy.wasm speaks OPA Wasm ABI {major}.{minor}; this runner needs 1.2 or later"
            )
        self.abi = (major, minor)
        self._eval, self._malloc, self._json_parse, self._json_dump, heap_get = (
            i32_function(wt, store, exports[name], name)
            for name in ("opa_eval", "opa_malloc", "opa_json_parse", "opa_json_dump", "opa_heap_ptr_get")
        )
        self.entrypoints: dict[str, int] = self._dump(exports["entrypoints"](store))
        needed: dict[str, int] = self._dump(exports["builtins"](store))
        missing = sorted(name for name in needed if name not in HOST_BUILTINS)
        if missing:
            raise PolicyError(
                f"policy.wasm needs host builtins that this runner does not provide:"
                f" {', '.join(missing)}"
            )
        self._builtins: dict[int, Callable[..., Any]] = {
            ident: HOST_BUILTINS[name] for name, ident in needed.items()
        }
        self._data = self._load_json(data)
        # Builtins that answer true or false (most of them) return one of these two values,
        # parsed once, below the heap that every opa_eval starts afresh: two calls saved a call.
        self._booleans = {True: self._load_json(True), False: self._load_json(False)}
        self._heap = heap_get()  # inputs go here; each opa_eval frees what it used

    def evaluate(self, entrypoint: int, input: Mapping[str, Any]) -> list[dict[str, Any]]:
        raw = json.dumps(input, separators=(",", ":")).encode()
        self._reserve(self._heap + len(raw) + _WASM_PAGE)
        self.memory.write(self.store, raw, self._heap)
        try:
            result = self._eval(
                0, entrypoint, self._data, self._heap, len(raw), self._heap + len(raw), 0,
            )  # fmt: skip
        except WasmAbort as exc:
            raise PolicyEvalError(f"opa_eval failed: {exc}") from None
        except (self._wt.Trap, self._wt.WasmtimeError) as exc:
            raise PolicyEvalError(f"opa_eval failed: {first_line(str(exc))}") from None
        results: list[dict[str, Any]] = json.loads(self._string(result))
        return results

    def _global(self, name: str) -> int:
        item = self._exports[name]
        return int(item.value(self.store)) if isinstance(item, self._wt.Global) else 0

    def _reserve(self, end: int) -> None:
        size = self.memory.data_len(self.store)
        if end > size:
            pages = (end - size + _WASM_PAGE - 1) // _WASM_PAGE
            try:
                self.memory.grow(self.store, pages)
            except self._wt.WasmtimeError as exc:
                raise PolicyEvalError(f"input does not fit in Wasm memory: {exc}") from None

    def _string(self, addr: int) -> bytes:
        base = ctypes.addressof(self.memory.data_ptr(self.store).contents)
        return ctypes.string_at(base + addr)

    def _dump(self, value_addr: int) -> Any:
        return json.loads(self._string(self._json_dump(value_addr)))

    def _load_json(self, value: Any) -> int:
        raw = json.dumps(value, separators=(",", ":")).encode()
        addr = self._malloc(len(raw))
        self.memory.write(self.store, raw, addr)
        parsed = self._json_parse(addr, len(raw))
        if parsed == 0:
            raise PolicyEvalError("opa_json_parse refused a value")
        return int(parsed)

    def _abort(self, addr: int) -> None:
        raise WasmAbort(f"opa_abort: {self._string(addr).decode(errors='replace')}")

    def _builtin(self, ident: int, _context: int, *args: int) -> int:
        function = self._builtins[ident]
        try:
            result = function(*(self._dump(arg) for arg in args))
        except Exception as exc:  # noqa: BLE001 - any host failure stops the module as a trap
            raise WasmAbort(f"host builtin {function.__name__}: {exc}") from None
        if result is True or result is False:
            return self._booleans[result]
        return self._load_json(result)


class WasmAbort(Exception):
    """Raised by a host function to stop the module; wasmtime-py re-raises it from the call."""
