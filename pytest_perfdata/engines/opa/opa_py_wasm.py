"""The opa-py-wasm engine: the same OPA-built Wasm modules, run by the maintained SDK opa-py-wasm.

A peer for our own ABI runner (:mod:`.opa_wasm`): every decision of ours is checked against it,
and our runner's cost per evaluation is judged as a ratio to it. Both run the module that one
``opa build -t wasm`` produced (:class:`~.opa_wasm.WasmSource`), on the same wasmtime-py.

The SDK is configured with our runner's bounds, so the comparison is of the two hosts and not
of their safety nets: one instance (no pool contention in a single-threaded test), linear memory
capped at 4096 pages, no evaluation deadline (our runner has none). Builtins that OPA leaves to
the host and the SDK does not provide are registered from :data:`.wasm_builtins.HOST_BUILTINS`;
the record's notes say which, since those decisions then share our code.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from ...record import Engine
from .._text import package_version
from .closing import Loaded
from .errors import PolicyError, PolicyEvalError, PolicyUnavailable, PolicyUndefined
from .opa_wasm import WasmSourcedEngine
from .policy import Policy
from .wasm_builtins import HOST_BUILTINS

__all__ = ["OPA_PY_WASM_HINT", "OpaPyWasmEngine", "OpaPyWasmPolicy"]

OPA_PY_WASM_HINT: Final = "pip install opa-py-wasm (the project's 'peers' extra; tools/setup.py installs it)"

_MAX_MEMORY_PAGES: Final = 4096  # as our runner: 256 MiB of linear memory per loaded policy


class OpaPyWasmEngine(WasmSourcedEngine):
    """OPA's Wasm target run by opa-py-wasm; ``Engine.mode`` is ``py-wasm`` (slug ``opa-py-wasm``)."""

    mode = "py-wasm"

    def _load_host(self) -> str:
        try:
            import opapywasm
        except ImportError as exc:
            raise PolicyUnavailable(f"opa-py-wasm is not importable ({exc}): {OPA_PY_WASM_HINT}") from None
        self._sdk = opapywasm
        return f"+ opa-py-wasm {package_version('opa-py-wasm')} + wasmtime {package_version('wasmtime')}"

    def load(self, policy: Policy) -> OpaPyWasmPolicy:
        sdk = self._sdk
        started = time.perf_counter()
        wasm, data, built = self.source.module_for(policy)
        config = sdk.PolicyConfig(
            pool_size=1, default_entrypoint=policy.entrypoint, eval_timeout_seconds=None,
            max_memory_pages=_MAX_MEMORY_PAGES,
        )
        try:
            loaded = sdk.OpaWasmPolicy.from_wasm_bytes(wasm, config=config)
        except sdk.OpaWasmError as exc:
            raise PolicyError(f"{policy.name}: opa-py-wasm refused the module: {exc}") from None
        if policy.entrypoint not in loaded.entrypoints:
            loaded.close()
            raise PolicyError(
                f"{policy.name}: the Wasm module has no entrypoint {policy.entrypoint!r}"
                f" (it has: {', '.join(sorted(loaded.entrypoints)) or 'none'})"
            )
        ours = sorted(name for name in loaded.builtins if name not in loaded.registered_builtins)
        for name in ours:
            if name not in HOST_BUILTINS:
                loaded.close()
                raise PolicyError(f"{policy.name}: the module needs host builtin {name}, which neither"
                                  " opa-py-wasm nor this plugin provides")
            loaded.register_builtin(name, HOST_BUILTINS[name])
        loaded.set_data(data)
        elapsed = time.perf_counter() - started
        return OpaPyWasmPolicy(self.engine, loaded, policy, elapsed, len(wasm), built=built,
                               builtins_from_plugin=tuple(ours), sdk_error=sdk.OpaWasmError)


class OpaPyWasmPolicy(Loaded):
    """A policy loaded by opa-py-wasm; ``builtins_from_plugin`` names the host builtins we lent it."""

    def __init__(
        self,
        engine: Engine,
        loaded: Any,
        policy: Policy,
        compile_seconds: float,
        artefact_bytes: int,
        *,
        built: bool,
        builtins_from_plugin: tuple[str, ...],
        sdk_error: type[Exception],
    ) -> None:
        super().__init__(engine, policy, compile_seconds, artefact_bytes)
        self.built = built
        self.builtins_from_plugin = builtins_from_plugin
        self._loaded: Any = loaded
        self._sdk_error = sdk_error

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._loaded is None:
            raise self._after_close()
        try:
            results = self._loaded.evaluate_raw(input)
        except self._sdk_error as exc:
            raise PolicyEvalError(f"opa-py-wasm: {exc}") from None
        if not results:
            raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
        return results[0]["result"]

    def close(self) -> None:
        if self._loaded is not None:
            self._loaded.close()
            self._loaded = None
