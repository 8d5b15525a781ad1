"""Where engines and builds keep what they made, between runs and outside the work tree."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_cache_dir"]


def default_cache_dir() -> Path:
    """Where built workloads (and copied runtime binaries) are kept between runs.

    ``PYTEST_PERFDATA_CACHE`` wins, then ``$XDG_CACHE_HOME/pytest-perfdata``, then
    ``~/.cache/pytest-perfdata``: outside the work tree, so builds survive ``git clean``.
    """
    explicit = os.environ.get("PYTEST_PERFDATA_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pytest-perfdata"
