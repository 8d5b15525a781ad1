"""wasmtime-py inside this process: compile, instantiate and call under fuel, epoch and memory limits."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, final

from .protocol import WASM_PAGE, WASMTIME_PY_HINT, Limits, LimitKind, WasmError, WasmLimitExceeded, WasmUnavailable
from ._epoch import EPOCH_TICK_S, EpochTicker

if TYPE_CHECKING:
    from ...provenance import Engine

__all__ = ["UNLIMITED_FUEL", "WasmtimeEmbedded", "WasmtimeInstance", "last_line"]

UNLIMITED_FUEL: Final = (1 << 63) - 1


@final
@dataclass(frozen=True, slots=True, eq=False)
class WasmtimeInstance:
    """One instance in its own Store, with the limits every call on it gets."""

    store: Any
    instance: Any
    limits: Limits
    funcs: dict[str, Any]
    memories: tuple[Any, ...]


class WasmtimeEmbedded:
    """wasmtime-py in this process; each instance has its own Store with fuel, epoch, memory caps.

    Fuel metering is compiled into the code, so it costs some speed even with ``Limits(fuel=None)``
    (the budget is then simply huge). ``consume_fuel=False`` builds an engine without it, named
    ``in-process-nofuel`` so that its figures are never mixed up with metered ones.
    """

    def __init__(self, *, consume_fuel: bool = True) -> None:
        try:
            import wasmtime
        except ImportError as exc:  # pragma: no cover - wasmtime is a dependency
            raise WasmUnavailable(
                f"wasmtime-py not importable ({exc}): {WASMTIME_PY_HINT}"
            ) from None
        self._wt = wasmtime
        config = wasmtime.Config()
        config.consume_fuel = consume_fuel
        config.epoch_interruption = True
        self._engine = wasmtime.Engine(config)
        self._linker = wasmtime.Linker(self._engine)
        self._linker.define_wasi()
        self._ticker = EpochTicker(self._engine)
        self.consume_fuel = consume_fuel

    @cached_property
    def engine(self) -> Engine:
        """Named on first use: the Wasm launcher, one process per timed run, never asks."""
        from ...provenance import Engine
        from .._text import package_version

        mode = "in-process" if self.consume_fuel else "in-process-nofuel"
        return Engine("wasmtime", package_version("wasmtime"), mode)

    def compile(self, wasm: bytes | bytearray) -> Any:
        try:
            return self._wt.Module(self._engine, bytes(wasm))
        except self._wt.WasmtimeError as exc:
            raise WasmError(f"invalid module: {last_line(str(exc))}", detail=str(exc)) from None

    def instantiate(
        self,
        module: Any,
        limits: Limits = Limits(),
        *,
        stdout: Path | Literal["inherit"] | None = None,
    ) -> WasmtimeInstance:
        """A fresh Store and instance; runs the start function and a reactor's ``_initialize``.

        WASI stdout goes to ``/dev/null`` (``stdout=None``), to a file, or to this process's own
        stdout (``"inherit"``, for the launcher). Stderr is inherited only with ``"inherit"``.
        """
        if limits.fuel is not None and not self.consume_fuel:
            raise ValueError("this engine was built without fuel metering: use Limits(fuel=None)")
        wt = self._wt
        wasi = wt.WasiConfig()
        if stdout == "inherit":
            wasi.inherit_stdout()
            wasi.inherit_stderr()
        else:
            wasi.stdout_file = str(stdout) if stdout is not None else os.devnull
            wasi.stderr_file = os.devnull
        store = wt.Store(self._engine)
        store.set_wasi(wasi)
        store.set_limits(memory_size=limits.memory_bytes, table_elements=limits.table_elements)
        self._arm(store, limits)
        self._ticker.enter()
        try:
            instance = self._linker.instantiate(store, module)
        except wt.ExitTrap as exc:
            raise WasmError(
                f"exited with code {exc.code} while starting", exit_code=exc.code
            ) from None
        except (wt.Trap, wt.WasmtimeError) as exc:
            raise self._failure(exc, limits, ()) from None
        finally:
            self._ticker.leave()
        funcs: dict[str, Any] = {}
        memories: list[Any] = []
        for name, item in instance.exports(store).items():
            if isinstance(item, wt.Func):
                funcs[name] = item
            elif isinstance(item, wt.Memory):
                memories.append(item)
        handle = WasmtimeInstance(store, instance, limits, funcs, tuple(memories))
        if "_initialize" in funcs:  # a WASI reactor: its constructors run once, before any call
            self.call(handle, "_initialize")
        return handle

    def call(self, instance: WasmtimeInstance, export: str, *args: int) -> Any:
        """Call an export under the instance's limits (fresh fuel and deadline for every call).

        ``proc_exit(0)`` — a C ``main`` returning — is success and gives ``None``; another exit
        code raises :class:`WasmError`. Fuel, epoch and memory-cap traps raise
        :class:`WasmLimitExceeded`.
        """
        try:
            func = instance.funcs[export]
        except KeyError:
            raise WasmError(
                f"no exported function {export!r} (exports: {', '.join(sorted(instance.funcs))})"
            ) from None
        wt = self._wt
        store = instance.store
        self._arm(store, instance.limits)
        ticker = self._ticker
        ticker.enter()
        try:
            return func(store, *args)
        except wt.ExitTrap as exc:
            if exc.code == 0:
                return None
            raise WasmError(f"{export} exited with code {exc.code}", exit_code=exc.code) from None
        except (wt.Trap, wt.WasmtimeError) as exc:
            raise self._failure(exc, instance.limits, instance.memories, store) from None
        finally:
            ticker.leave()

    def serialize(self, module: Any) -> bytes:
        return bytes(module.serialize())

    def deserialize(self, artefact: bytes | bytearray) -> Any:
        try:
            return self._wt.Module.deserialize(self._engine, bytes(artefact))
        except self._wt.WasmtimeError as exc:
            raise WasmError(
                f"cannot load precompiled module: {last_line(str(exc))}", detail=str(exc)
            ) from None

    def memory_bytes(self, instance: WasmtimeInstance) -> int:
        return sum(memory.data_len(instance.store) for memory in instance.memories)

    # -- machinery --

    def _arm(self, store: Any, limits: Limits) -> None:
        if self.consume_fuel:
            store.set_fuel(limits.fuel if limits.fuel is not None else UNLIMITED_FUEL)
        store.set_epoch_deadline(math.ceil(limits.timeout_s / EPOCH_TICK_S) + 1)

    def _failure(
        self, exc: Exception, limits: Limits, memories: Sequence[Any], store: Any = None
    ) -> Exception:
        """Turn a wasmtime trap or error into WasmLimitExceeded (fuel/epoch/memory) or WasmError."""
        wt = self._wt
        text = str(exc)
        reason = last_line(text)
        code = getattr(exc, "trap_code", None) if isinstance(exc, wt.Trap) else None
        if code == wt.TrapCode.OUT_OF_FUEL or "all fuel consumed" in text:
            return WasmLimitExceeded(LimitKind.FUEL, f"fuel exhausted after {limits.fuel} units ({reason})")
        if code == wt.TrapCode.INTERRUPT or "wasm trap: interrupt" in text:
            return WasmLimitExceeded(
                LimitKind.TIMEOUT, f"epoch deadline of {limits.timeout_s:g} s passed ({reason})"
            )
        if "exceeds memory limits" in text:
            return WasmLimitExceeded(
                LimitKind.MEMORY,
                f"memory cap of {limits.memory_bytes} bytes refused instantiation ({reason})",
            )
        # wasmtime-py cannot make a refused memory.grow trap, so a module that traps (e.g. aborts
        # after a failed allocation) while a memory sits at the cap is reported as hitting it.
        if store is not None and any(
            memory.data_len(store) + WASM_PAGE > limits.memory_bytes for memory in memories
        ):
            return WasmLimitExceeded(
                LimitKind.MEMORY,
                f"trapped with memory at the cap of {limits.memory_bytes} bytes ({reason})",
            )
        if store is not None and memories:
            # A grow refused below the cap (one large request) cannot be told from the module's
            # own trap; the sizes let the reader judge.
            used = max(memory.data_len(store) for memory in memories)
            reason = (f"{reason or 'trap'} (memory {used} of its {limits.memory_bytes}-byte cap: a refused "
                      "memory.grow returns -1, which a module may turn into a trap)")
        return WasmError(reason or "trap", detail=text)


def last_line(text: str) -> str:
    """The last non-blank line: where wasmtime puts the one-line reason of a long error."""
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""
