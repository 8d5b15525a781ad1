"""Whether a process still runs: what decides if a leftover named by its pid may be removed."""

from __future__ import annotations

import os

__all__ = ["alive"]


def alive(pid: int) -> bool:
    """True unless ``pid`` surely names no process (another user's, or an odd pid, counts as alive).

    Leftovers (temporary files, key directories, container roots) carry their maker's pid; one
    whose maker is gone is safe to remove, and a doubt keeps it.
    """
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
