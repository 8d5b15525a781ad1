"""Where the local cluster's three binaries are: the project's tool directory, then PATH."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final, final

from ...tools import SETUP_HINT, project_tool

__all__ = ["BINARY_NAMES", "LocalBinaries", "find_binaries"]

#: What tools/setup.py builds for the local cluster, by role.
BINARY_NAMES: Final = {"control_plane": "kube-control-plane", "kine": "kine", "kwok": "kwok"}


@final
@dataclass(frozen=True, slots=True)
class LocalBinaries:
    control_plane: Path  # kube-apiserver, kube-controller-manager and kube-scheduler, one binary
    kine: Path
    kwok: Path


def find_binaries(rootpath: Path) -> LocalBinaries | str:
    """The binaries, or why there are none: a one-line reason that says how to get them."""
    found: dict[str, Path] = {}
    missing = []
    for role, name in BINARY_NAMES.items():
        path = project_tool(rootpath, name)
        if path is None and (on_path := shutil.which(name)) is not None:
            path = Path(on_path)
        if path is None:
            missing.append(name)
        else:
            found[role] = path
    if missing:
        return f"no local cluster: {', '.join(missing)} not built ({SETUP_HINT})"
    return LocalBinaries(**found)
