"""Build benchmark workloads from their sources (WAT, WASI C, native C), cached by content hash.

Binaries never live in git: a suite names a source file and gets a built artefact. The cache
key covers the source bytes, the exact command line and the identity of the tool (its path,
size and modification time, or the wasmtime-py version), so a cache hit runs no compiler at all
and a changed compiler rebuilds. Artefacts are written to a temporary file and renamed into
place, so concurrent builds (xdist workers) or an interrupted one never leave a torn file.

A missing toolchain is not an error of the code under test: it raises
:class:`WorkloadUnavailable`, whose message is one line that says how to get the tool, so a
suite can ``pytest.skip(str(exc))``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, final

from ..._atomic import write_text_atomically
from .._text import first_line, package_version
from ..cache import default_cache_dir
from .native import CFLAGS, NativeBuildError, NativeUnavailable, build_native
from ..process import CompletedRun, RunTimeout, run_bounded

__all__ = [
    "CLANG_WASI_HINT",
    "WORKLOADS_DIR",
    "Workload",
    "WorkloadBuildError",
    "WorkloadBuilder",
    "WorkloadUnavailable",
]

WORKLOADS_DIR: Final = Path(__file__).resolve().parents[3] / "suites" / "wasmedge" / "workloads"
"""The workload sources in a source checkout (not part of an installed wheel)."""

CLANG_WASI_HINT: Final = "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32"

# The exact flags are part of the cache key: changing them rebuilds.
_WASI_FLAGS: Final = ("--target=wasm32-wasi", "-O2")
COMPILE_TIMEOUT_S: Final = 120.0
_PROBE_C: Final = '#include <stdio.h>\nint main(void) { return puts("") < 0; }\n'

Kind = Literal["wat", "wasi", "native"]
_Make = Callable[[Path], None]
_Describe = Callable[[], str]


class WorkloadUnavailable(Exception):
    """A tool to build a workload is missing; the message is one line saying how to get it."""


class WorkloadBuildError(Exception):
    """The tool is there but the source did not build (a real error in the workload)."""


@final
@dataclass(frozen=True, slots=True)
class Workload:
    """A built artefact and how it was made; usable wherever a path is (``os.fspath``)."""

    path: Path
    source: Path
    kind: Kind
    toolchain: str  # e.g. "clang 14.0.6 --target=wasm32-wasi -O2", for the record's provenance
    digest: str  # the cache key (sha256 hex)

    def __fspath__(self) -> str:
        return str(self.path)

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


class WorkloadBuilder:
    """Builds workloads into ``cache_dir`` and reuses earlier builds of identical inputs."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = (
            Path(cache_dir) if cache_dir is not None else default_cache_dir() / "workloads"
        )

    # -- public entry points -------------------------------------------------------------

    def build(self, source: Path | str) -> Workload:
        """``.wat`` → Wasm via wat2wasm; ``.c`` → a WASI command via clang."""
        source = Path(source)
        if source.suffix == ".wat":
            return self.wat(source)
        if source.suffix == ".c":
            return self.wasi(source)
        raise ValueError(f"{source}: no builder for {source.suffix!r} (expected .wat or .c)")

    def wat(self, source: Path | str) -> Workload:
        """Assemble WAT with wasmtime-py's ``wat2wasm`` (always there: wasmtime is a dependency)."""
        source = Path(source)
        text = _read(source)
        import wasmtime

        tool = f"wasmtime-py {package_version('wasmtime')} wat2wasm"
        digest = _digest("wat", text, tool)

        def make(out: Path) -> None:
            try:  # assemble, then validate: a type error should fail the build, not the first run
                wasm = wasmtime.wat2wasm(text.decode("utf-8"))
                wasmtime.Module.validate(wasmtime.Engine(), wasm)
            except Exception as exc:  # wasmtime raises WasmtimeError with the position
                raise WorkloadBuildError(f"{source}: {first_line(str(exc))}") from exc
            out.write_bytes(bytes(wasm))

        return self._cached(source, "wat", ".wasm", digest, tool, make)

    def wasi(self, source: Path | str) -> Workload:
        """C to a WASI command: ``_start`` runs ``main``; ``export_name`` functions are callable."""
        source = Path(source)
        clang = shutil.which("clang")
        if clang is None or shutil.which("wasm-ld") is None:
            missing = "clang" if clang is None else "wasm-ld (lld)"
            raise WorkloadUnavailable(f"{missing} for wasm32-wasi not found: {CLANG_WASI_HINT}")
        return self._compile_wasi(source, clang)

    def native(self, source: Path | str, *, static: bool = True) -> Workload:
        """The same C built natively (``gcc -O2``, static by default): the floor for Wasm.

        Delegates to :func:`pytest_perfdata.engines.build.native.build_native`, so there is one native
        builder and one cache-key rule for it; its errors are translated to this module's.
        """
        source = Path(source)
        try:
            program = build_native(source, self.cache_dir, static=static)
        except NativeUnavailable as exc:
            raise WorkloadUnavailable(str(exc)) from None
        except NativeBuildError as exc:
            raise WorkloadBuildError(str(exc)) from None
        digest = program.path.name.rsplit("-", 1)[-1]
        toolchain = " ".join([program.engine.version, *CFLAGS, *(["-static"] if static else [])])
        return Workload(program.path, source, "native", toolchain, digest)

    # -- machinery -------------------------------------------------------------------------

    def _compile_wasi(self, source: Path, compiler: str) -> Workload:
        """Compile on a miss; on failure a hello-world probe tells a missing sysroot from a bug."""
        kind: Kind = "wasi"
        flags = _WASI_FLAGS
        text = _read(source)
        identity = _tool_identity(compiler)
        digest = _digest(kind, text, identity, *flags)
        name = Path(compiler).name

        def make(out: Path) -> None:
            done = _compile([compiler, *flags, str(source), "-o", str(out)])
            if done.exit_code == 0:
                return
            if not self._probe(compiler, flags):
                raise WorkloadUnavailable(f"{name} cannot build a hello world for {kind}: {CLANG_WASI_HINT}")
            message = first_line(done.error_text) or "compiler failed"
            raise WorkloadBuildError(f"{source}: {message}")

        def describe() -> str:
            done = _compile([compiler, "--version"])
            version = first_line(done.stdout.decode(errors="replace")) or name
            return f"{version} {' '.join(flags)}".strip()

        return self._cached(source, kind, ".wasm", digest, describe, make)

    def _probe(self, compiler: str, flags: tuple[str, ...]) -> bool:
        with tempfile.TemporaryDirectory(prefix="perfdata-probe-") as tmp:
            src = Path(tmp) / "probe.c"
            src.write_text(_PROBE_C)
            done = _compile([compiler, *flags, str(src), "-o", str(Path(tmp) / "probe.out")])
            return done.exit_code == 0

    def _cached(
        self,
        source: Path,
        kind: Kind,
        suffix: str,
        digest: str,
        toolchain: str | _Describe,
        make: _Make,
    ) -> Workload:
        out = self.cache_dir / f"{source.stem}-{kind}-{digest[:16]}{suffix}"
        meta = out.with_name(out.name + ".json")
        if out.is_file() and meta.is_file():
            try:
                recorded = json.loads(meta.read_text())
                if recorded.get("digest") == digest:
                    return Workload(out, source, kind, str(recorded["toolchain"]), digest)
            except (OSError, ValueError, KeyError):
                pass  # a damaged sidecar: rebuild below
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.cache_dir, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            make(tmp)
            described = toolchain if isinstance(toolchain, str) else toolchain()
            write_text_atomically(
                meta, json.dumps({"digest": digest, "toolchain": described, "source": str(source)})
            )
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        return Workload(out, source, kind, described, digest)


def _compile(argv: list[str]) -> CompletedRun:
    try:
        return run_bounded(argv, timeout_s=COMPILE_TIMEOUT_S)
    except RunTimeout as exc:
        raise WorkloadBuildError(str(exc)) from None


def _read(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except OSError as exc:
        raise WorkloadBuildError(
            f"{source}: cannot read the workload source: {exc.strerror}"
        ) from exc


def _digest(kind: str, text: bytes, *parts: str) -> str:
    h = hashlib.sha256()
    h.update(kind.encode())
    for part in parts:
        h.update(b"\0" + part.encode())
    h.update(b"\0\0" + text)
    return h.hexdigest()


def _tool_identity(path: str) -> str:
    """Who the compiler is, without running it: resolved path, size and mtime."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return real
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"
