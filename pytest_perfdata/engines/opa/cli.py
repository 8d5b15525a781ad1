"""The opa CLI: where it is (``--perf-opa`` or PATH) and which version it is."""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path
from typing import Final

from .._text import first_line
from ..process import RunTimeout, run_bounded
from .errors import PolicyUnavailable

__all__ = ["OPA_CLI_HINT", "find_opa", "opa_version"]

OPA_CLI_HINT: Final = (
    "install the opa CLI (https://www.openpolicyagent.org/docs/#running-opa,"
    " a single static binary) and put it on PATH or pass --perf-opa PATH"
)

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
    stat = opa.stat()
    return _opa_version_cached(str(opa.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _opa_version_cached(opa: str, mtime_ns: int, size: int) -> str:
    try:
        done = run_bounded([opa, "version"], timeout_s=_VERSION_TIMEOUT_S)
    except (OSError, RunTimeout) as exc:
        raise PolicyUnavailable(f"{opa} version failed: {exc}") from None
    text = done.stdout.decode(errors="replace")
    match = re.search(r"^Version:\s*v?(\S+)", text, re.MULTILINE)
    if done.exit_code != 0 or match is None:
        detail = first_line(done.stderr.decode(errors="replace")) or first_line(text)
        raise PolicyUnavailable(f"{opa} version did not give a version: {detail or 'no output'}")
    return match.group(1)
