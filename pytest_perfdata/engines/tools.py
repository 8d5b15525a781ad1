"""The project's own tool directory: binaries built from pinned Go modules by ``tools/setup.py``.

``python3 tools/setup.py suites`` builds them into ``<rootdir>/.tools/bin`` (git-ignored). A
fixture looks there after its command-line option and before PATH, so the README's main-job
command is all a newcomer runs: no flag, no PATH change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

__all__ = ["SETUP_HINT", "TOOLS_BIN", "project_tool"]

#: Where ``tools/setup.py`` puts the binaries it builds, relative to the rootdir.
TOOLS_BIN: Final = Path(".tools") / "bin"

#: How to get a missing tool in this project; part of the skip reasons.
SETUP_HINT: Final = "python3 tools/setup.py suites builds it into .tools/bin"


def project_tool(rootpath: Path, name: str) -> Path | None:
    """``<rootpath>/.tools/bin/<name>`` when it is an executable file, else None."""
    candidate = rootpath / TOOLS_BIN / name
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None
