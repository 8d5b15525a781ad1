"""The wasm engine: a policy built to Wasm by the opa CLI (or a prebuilt bundle), run in wasmtime.

The mode is a metric's suffix (``wasm`` or ``wasm-prebuilt``), so versions stay out of it: an
upgrade must not rename every baseline.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...record import Engine
from .._text import package_version
from .cli import find_opa, opa_version
from .closing import Loaded
from .errors import PolicyError, PolicyUnavailable, PolicyUndefined
from .policy import Policy
from .wasm_abi import OpaWasmModule
from .wasm_bundle import build_wasm_bundle, read_wasm_bundle, wasm_bundle_path

__all__ = ["OpaWasmEngine", "OpaWasmPolicy", "WasmSource", "WasmSourcedEngine"]

class WasmSource:
    """Where a Wasm engine's modules come from: ``opa build -t wasm`` (cached), or one prebuilt bundle.

    Shared by our ABI runner and the opa-py-wasm peer, so both run the very same module.
    """

    def __init__(
        self,
        opa_path: str | os.PathLike[str] | None = None,
        *,
        bundle: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._cache_dir = cache_dir
        self.bundle = Path(bundle) if bundle is not None else None
        if self.bundle is not None:
            if not self.bundle.is_file():
                raise PolicyUnavailable(f"Wasm bundle {self.bundle} does not exist")
            self.opa: Path | None = None
            self.opa_version = "unknown"
        else:
            self.opa = find_opa(opa_path)
            self.opa_version = opa_version(self.opa)

    @property
    def prebuilt(self) -> bool:
        return self.bundle is not None

    def module_for(self, policy: Policy) -> tuple[bytes, Any, bool]:
        """``policy.wasm`` and ``data.json`` of ``policy``'s bundle, and whether it was built just now."""
        sources = policy.checked_sources()
        built = False
        if self.bundle is not None:
            bundle = self.bundle
        else:
            assert self.opa is not None
            cached = wasm_bundle_path(self.opa, policy, self._cache_dir)
            built = not cached.is_file()
            bundle = build_wasm_bundle(self.opa, policy, self._cache_dir) if built else cached
        wasm, data, rego = read_wasm_bundle(bundle)
        if self.bundle is not None and rego and sorted(rego) != sorted(text for _, text in sources):
            raise PolicyError(
                f"{policy.name}: bundle {bundle} was built from other sources than"
                f" {', '.join(name for name, _ in sources)}"
            )
        return wasm, data, built


class WasmSourcedEngine:
    """An engine that runs OPA-built Wasm modules: its host is loaded first, then its modules' source.

    A subclass names its ``mode`` and loads its host in :meth:`_load_host`, which returns the
    host's part of the engine's version; the record's ``Engine`` then names both, and the mode
    gains ``-prebuilt`` when the modules come from one given bundle.
    """

    mode = "wasm"

    def __init__(
        self,
        opa_path: str | os.PathLike[str] | None = None,
        *,
        bundle: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        host = self._load_host()
        self.source = WasmSource(opa_path, bundle=bundle, cache_dir=cache_dir)
        mode = f"{self.mode}-prebuilt" if self.source.prebuilt else self.mode
        self.engine = Engine("opa", f"{self.source.opa_version} {host}", mode)

    def _load_host(self) -> str:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


class OpaWasmEngine(WasmSourcedEngine):
    """OPA's Wasm target: policies built by the opa CLI (or one prebuilt bundle), run in wasmtime.

    The runner is :class:`OpaWasmModule`, our small host for OPA's Wasm ABI on wasmtime-py;
    the maintained SDK opa-py-wasm (:mod:`.opa_py_wasm`) runs beside it as a peer, on the same
    modules, so that every decision and every timing of ours has a second opinion.
    """

    mode = "wasm"

    def _load_host(self) -> str:
        try:
            import wasmtime
        except ImportError as exc:  # pragma: no cover - wasmtime is a dependency
            raise PolicyUnavailable(f"wasmtime-py not importable ({exc}): pip install wasmtime") from None
        self._wasmtime = wasmtime
        return f"+ wasmtime {package_version('wasmtime')}"

    def load(self, policy: Policy) -> OpaWasmPolicy:
        started = time.perf_counter()
        wasm, data, built = self.source.module_for(policy)
        module = OpaWasmModule(self._wasmtime, wasm, data)
        if policy.entrypoint not in module.entrypoints:
            raise PolicyError(
                f"{policy.name}: the Wasm module has no entrypoint {policy.entrypoint!r}"
                f" (it has: {', '.join(sorted(module.entrypoints)) or 'none'})"
            )
        elapsed = time.perf_counter() - started
        return OpaWasmPolicy(self.engine, module, policy, elapsed, len(wasm), built=built)


class OpaWasmPolicy(Loaded):
    """A Wasm policy instance; ``compile_seconds`` includes ``opa build`` only when ``built``.

    A bundle found in the cache is only read and compiled by wasmtime, so ``built`` says which
    of the two a ``compile_seconds`` figure is.
    """

    def __init__(
        self,
        engine: Engine,
        module: OpaWasmModule,
        policy: Policy,
        compile_seconds: float,
        artefact_bytes: int,
        *,
        built: bool = False,
    ) -> None:
        super().__init__(engine, policy, compile_seconds, artefact_bytes)
        self.built = built
        self._module: OpaWasmModule | None = module
        self._entrypoint_id = module.entrypoints[policy.entrypoint]

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._module is None:
            raise self._after_close()
        results = self._module.evaluate(self._entrypoint_id, input)
        if not results:
            raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
        return results[0]["result"]

    def close(self) -> None:
        self._module = None
