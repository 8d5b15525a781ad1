"""The ``wasmedge`` binary as a process-level backend: interpreter runs, AOT where the build has it."""

from __future__ import annotations

import math
import os
import re
import shutil
from pathlib import Path
from collections.abc import Mapping
from typing import Final

from ...provenance import Engine
from .._text import first_line
from ..process import CompletedRun, RunTimeout, run_bounded
from .protocol import WASM_PAGE, WASMEDGE_HINT, LimitKind, Limits, WasmUnavailable
from ._cli import ProcessCli
from .wasmedge_build import wasmedge_build

__all__ = ["WasmEdgeCli", "classify_wasmedge", "find_wasmedge", "parse_version"]

_VERSION_TIMEOUT_S: Final = 30.0
_INT_MAX: Final = (1 << 31) - 1  # --gas-limit is parsed as a C int
_LIMIT_FLAGS: Final = ("--time-limit", "--memory-page-limit", "--gas-limit")
#: What a WasmEdge built without LLVM says when asked to compile (0.17.1: on stdout, exit 1).
_NO_COMPILER_RE: Final = re.compile(r"compil\w*\s+(?:is\s+)?not\s+supported", re.IGNORECASE)


def classify_wasmedge(text: str) -> LimitKind | None:
    """Which limit a failed run hit, from WasmEdge's error log (which it writes to stdout)."""
    lowered = text.lower()
    if "cost limit exceeded" in lowered:
        return LimitKind.FUEL
    if re.search(r"\binterrupted\b|time limit|execution timeout", lowered):
        return LimitKind.TIMEOUT
    if "exceeded limit page" in lowered or "memory grow page failed" in lowered:
        return LimitKind.MEMORY
    return None


class WasmEdgeCli(ProcessCli):
    """The ``wasmedge`` binary: interpreter by default, AOT through ``wasmedge compile``.

    Limits: ``--time-limit MS`` and ``--memory-page-limit PAGES`` when this build lists them in
    ``--help``; ``--gas-limit`` only for fuel up to 2**31-1 (WasmEdge parses it as a C int), so
    larger budgets rely on the time limit. The process timeout is the backstop in every case.
    AOT artefacts are compiled ``--interruptible`` so that the time limit can stop them, and run
    with ``--run-mode=aot`` from 0.17 on, where WasmEdge no longer runs AOT code by default.
    Some builds have no compiler (no LLVM): their ``precompile`` raises WasmAotUnavailable.
    Both engines carry the build read from the binary (:func:`wasmedge_build`), which moves the
    figures more than the version does.
    """

    classify = staticmethod(classify_wasmedge)

    def __init__(self, executable: Path, version: str, help_text: str = "",
                 build: Mapping[str, str] | None = None) -> None:
        self.executable = Path(executable)
        self.version = version
        self.version_info = parse_version(version)
        self.limit_flags = frozenset(flag for flag in _LIMIT_FLAGS if flag in help_text)
        built = tuple((build or {}).items())
        self.engine = Engine("wasmedge", version, "cli", built)
        self.precompiled_engine = Engine("wasmedge", version, "cli-aot", built)

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
        return cls(executable, match.group(1), help_text, wasmedge_build(executable))

    @property
    def aot_needs_run_mode(self) -> bool:
        return self.version_info >= (0, 17, 0)

    def options_argv(self, limits: Limits, *, precompiled: bool) -> list[str]:
        argv = [str(self.executable)]
        if "--time-limit" in self.limit_flags:
            argv += ["--time-limit", str(max(1, math.ceil(limits.timeout_s * 1000)))]
        if "--memory-page-limit" in self.limit_flags:
            argv += ["--memory-page-limit", str(limits.memory_bytes // WASM_PAGE)]
        if "--gas-limit" in self.limit_flags and limits.fuel is not None and limits.fuel <= _INT_MAX:
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

    def aot_unavailable(self, done: CompletedRun) -> str | None:
        """The build's own line when it has no compiler (``[error] Compilation is not supported!``)."""
        for line in done.error_text.splitlines():
            if _NO_COMPILER_RE.search(line):
                return line.strip()
        return None


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


def parse_version(text: str) -> tuple[int, int, int]:
    """``"wasmedge version 0.17.0-rc.1"`` → ``(0, 17, 0)``; unparseable → ``(0, 0, 0)``."""
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return (0, 0, 0)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))
