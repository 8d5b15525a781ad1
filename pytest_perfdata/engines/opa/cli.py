"""The opa CLI: where it is (``--perf-opa``, the project's ``.tools/bin``, PATH) and what it can do."""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path
from typing import Final

from .._text import first_line
from ..process import RunTimeout, run_bounded
from ..tools import SETUP_HINT
from .errors import PolicyUnavailable

__all__ = ["OPA_CLI_HINT", "find_opa", "opa_has_wasm_runtime", "opa_version"]

OPA_CLI_HINT: Final = f"{SETUP_HINT}; or put an opa v1 CLI on PATH, or pass --perf-opa PATH"

_VERSION_TIMEOUT_S: Final = 30.0


def find_opa(opa_path: str | os.PathLike[str] | None = None) -> Path:
    """The opa CLI: ``opa_path`` when given (it must exist), else ``opa`` on PATH."""
    if opa_path is not None:
        path = Path(opa_path)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise PolicyUnavailable(f"opa CLI {path} is not an executable file: {OPA_CLI_HINT}")
        return path
    found = shutil.which("opa")
    if found is None:
        raise PolicyUnavailable(f"the opa CLI is not on PATH: {OPA_CLI_HINT}")
    return Path(found)


def opa_version(opa: Path) -> str:
    """``opa version``'s ``Version:`` line (``"1.4.2"``); the CLI must answer within 30 s."""
    return _version_report(opa)[0]


def opa_has_wasm_runtime(opa: Path) -> bool:
    """Whether this build evaluates Wasm itself (``WebAssembly: available``: the ``opa_wasm`` tag).

    Every build compiles policies to Wasm; only such a build can also run them, which
    ``opa bench --target wasm`` and ``opa eval --target wasm`` need.
    """
    return _version_report(opa)[1]


def _version_report(opa: Path) -> tuple[str, bool]:
    stat = opa.stat()
    return _opa_version_cached(str(opa.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _opa_version_cached(opa: str, mtime_ns: int, size: int) -> tuple[str, bool]:
    try:
        done = run_bounded([opa, "version"], timeout_s=_VERSION_TIMEOUT_S)
    except (OSError, RunTimeout) as exc:
        raise PolicyUnavailable(f"{opa} version failed: {exc}") from None
    text = done.stdout.decode(errors="replace")
    match = re.search(r"^Version:\s*v?(\S+)", text, re.MULTILINE)
    if done.exit_code != 0 or match is None:
        detail = first_line(done.stderr.decode(errors="replace")) or first_line(text)
        raise PolicyUnavailable(f"{opa} version did not give a version: {detail or 'no output'}")
    wasm = re.search(r"^WebAssembly:\s*available\b", text, re.MULTILINE) is not None
    return match.group(1), wasm
