"""The native floor: a workload compiled with gcc and run as a plain process, no sandbox at all."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import final

from ...provenance import Engine
from ..process import CompletedRun, RunTimeout, run_bounded

__all__ = [
    "CompletedRun",
    "NativeBuildError",
    "NativeProgram",
    "NativeUnavailable",
    "RunTimeout",
    "build_native",
    "compiler_identity",
    "run_native",
]

#: Flags every build gets; part of the cache key, so changing them rebuilds.
CFLAGS: tuple[str, ...] = ("-O2",)
COMPILE_TIMEOUT_S = 120.0


class NativeUnavailable(Exception):
    """This machine cannot build native programs; one line saying what to install."""


class NativeBuildError(Exception):
    """The compiler rejected the source: a bug in the workload, never a reason to skip."""


@final
@dataclass(frozen=True, slots=True)
class NativeProgram:
    """A built executable and its engine, e.g. ``Engine("native", "gcc 12.2.0", "static")``."""

    path: Path
    engine: Engine


def compiler_identity(cc: str | None = None) -> tuple[Path, str]:
    """The compiler's path and its ``name version`` (``gcc 12.2.0``), from ``--version``.

    ``cc`` defaults to ``$CC``, else ``gcc``. The identity is part of the build cache key, so a
    compiler upgrade rebuilds instead of reusing a binary another compiler made.
    """
    wanted = cc or os.environ.get("CC") or "gcc"
    found = shutil.which(wanted)
    if found is None:
        raise NativeUnavailable(f"{wanted} not found: apt-get install gcc libc6-dev")
    path = Path(found)
    stat = path.stat()
    return path, _identity(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _identity(path: Path, mtime_ns: int, size: int) -> str:
    """Asked once per compiler binary and process: ``--version`` costs a process each time."""
    result = run_bounded([path, "--version"], timeout_s=30.0)
    first = result.stdout.decode(errors="replace").strip().splitlines()[:1]
    if result.exit_code != 0 or not first:
        raise NativeUnavailable(f"{path} --version failed: {result.error_line()}")
    line = first[0]
    name = "clang" if "clang" in line else "gcc" if ("gcc" in line or "GCC" in line) else path.name
    versions = re.findall(r"\d+\.\d+(?:\.\d+)?", line)
    return f"{name} {versions[-1]}" if versions else name


def build_native(
    source: Path,
    out_dir: Path,
    *,
    static: bool = True,
    cc: str | None = None,
    extra_flags: Sequence[str] = (),
) -> NativeProgram:
    """Compile ``source`` with ``cc -O2 [-static]`` into ``out_dir``, reusing an earlier build.

    The output name carries a hash of the source bytes, the compiler identity and the flags, so
    an unchanged workload is compiled once per cache and any change rebuilds. Static linking
    (the default) keeps the dynamic loader out of start-up figures, as for a static busybox in a
    container. The binary is written to a temp name and renamed, so concurrent workers never
    run a half-written file.
    """
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"native workload source not found: {source}")
    compiler, identity = compiler_identity(cc)
    flags = [*CFLAGS, *(["-static"] if static else []), *extra_flags]
    digest = hashlib.sha256()
    for part in (source.read_bytes(), identity.encode(), "\0".join(flags).encode()):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = (
        out_dir / f"{source.stem}-{'static' if static else 'dynamic'}-{digest.hexdigest()[:16]}"
    )
    engine = Engine("native", identity, "static" if static else "dynamic")
    if target.is_file() and os.access(target, os.X_OK):
        return NativeProgram(path=target, engine=engine)
    handle, temp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.")
    os.close(handle)
    temp = Path(temp_name)
    try:
        result = run_bounded([compiler, *flags, "-o", temp, source], timeout_s=COMPILE_TIMEOUT_S)
        if result.exit_code != 0:
            raise _build_failure(compiler, source, result.error_text, static)
        temp.chmod(0o755)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return NativeProgram(path=target, engine=engine)


def _build_failure(compiler: Path, source: Path, text: str, static: bool) -> Exception:
    """Missing toolchain pieces become NativeUnavailable; everything else is the source's fault.

    ``text`` is the failed run's error text (:attr:`CompletedRun.error_text`), whichever stream held it.
    """
    if static and re.search(r"cannot find -lc\b", text):
        return NativeUnavailable("static libc not found: apt-get install libc6-dev")
    if re.search(r"(stdio|stdlib|string)\.h: No such file", text):
        return NativeUnavailable("C headers not found: apt-get install libc6-dev")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    detail = "\n".join(lines[-20:]) or "no message"
    return NativeBuildError(f"{compiler.name} failed on {source}:\n{detail}")


def run_native(
    program: NativeProgram, *args: str, timeout_s: float = 10.0, input: bytes | None = None
) -> CompletedRun:
    """Fork and exec ``program`` with ``args``, output captured; RunTimeout past the limit.

    No shell and no environment changes: the process starts the way a container's init or a
    Wasm runtime's host process would, so the comparison is of the sandboxes, not of launchers.
    """
    return run_bounded([program.path, *args], timeout_s=timeout_s, input=input)
