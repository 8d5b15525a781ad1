"""The stand-in for the wasmtime CLI: :mod:`.launcher` in a fresh Python process, named as such."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Final

from ..._atomic import write_bytes_atomically
from ...provenance import Engine
from .._text import package_version
from .protocol import LimitKind, Limits
from ._cli import ProcessCli
from .wasmtime_embedded import WasmtimeEmbedded

__all__ = ["LAUNCHER_MODULE", "PythonLauncherCli", "classify_launcher"]

LAUNCHER_MODULE: Final = "pytest_perfdata.engines.wasm.launcher"

_LIMIT_RE: Final = re.compile(r"^wasm_launcher: (fuel|timeout|memory) limit: ", re.MULTILINE)


def classify_launcher(text: str) -> LimitKind | None:
    """Which limit a launcher run hit: it prints one ``wasm_launcher: <limit> limit:`` line."""
    match = _LIMIT_RE.search(text)
    return LimitKind(match.group(1)) if match else None


class PythonLauncherCli(ProcessCli):
    """A stand-in for the wasmtime CLI: ``python -m pytest_perfdata.engines.wasm.launcher FILE``.

    It runs the module in a fresh Python process with wasmtime-py, so process-level figures
    include Python's start-up. Its ``Engine.mode`` is ``python-launcher`` (and
    ``python-launcher-precompiled``) so that records never claim the wasmtime CLI ran.
    """

    classify = staticmethod(classify_launcher)

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable
        self._embedded: WasmtimeEmbedded | None = None
        version = package_version("wasmtime")
        self.engine = Engine("wasmtime", version, "python-launcher")
        self.precompiled_engine = Engine("wasmtime", version, "python-launcher-precompiled")

    def options_argv(self, limits: Limits, *, precompiled: bool) -> list[str]:
        argv = [self.python, "-m", LAUNCHER_MODULE]
        argv += ["--fuel", str(limits.fuel) if limits.fuel is not None else "none"]
        argv += ["--memory", str(limits.memory_bytes), "--timeout", repr(limits.timeout_s),
                 "--tables", str(limits.table_elements)]
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
