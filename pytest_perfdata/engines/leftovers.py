"""What a killed run leaves behind, labelled when it is made and swept by the next run.

Teardown, ``atexit`` and a SIGTERM handler all need the process to live on; a SIGKILL (a CI job
cancelled, the OOM killer) skips them, and servers, containers and temporary directories stay.
So everything long-lived that an engine starts or makes names its maker:

- a child process carries ``PYTEST_PERFDATA_OWNER=<kind>:<pid>`` in its environment
  (:func:`owned_env`), which ``/proc/<pid>/environ`` shows to the next run;
- a temporary directory or file has the maker's pid in its name (:func:`owned_prefix`).

The next run removes those whose maker is gone (:func:`sweep_orphans`, :func:`sweep_paths`),
and nothing whose maker still runs: another xdist worker's server is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from .._pids import alive

__all__ = ["OWNER_ENV", "owned_env", "owned_prefix", "sweep_orphans", "sweep_paths"]

OWNER_ENV: Final = "PYTEST_PERFDATA_OWNER"


def owned_env(kind: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) plus the label naming this process as owner."""
    env = dict(os.environ if base is None else base)
    env[OWNER_ENV] = f"{kind}:{os.getpid()}"
    return env


def _owner(pid: str, kind: str) -> int | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    prefix = f"{OWNER_ENV}={kind}:".encode()
    for entry in environ.split(b"\0"):
        if entry.startswith(prefix):
            try:
                return int(entry[len(prefix):])
            except ValueError:
                return None
    return None


def sweep_orphans(kind: str) -> list[int]:
    """SIGKILL every process labelled ``kind`` whose owner is gone (with its process group); their pids."""
    killed = []
    try:
        entries = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return killed
    for name in entries:
        owner = _owner(name, kind)
        if owner is None or alive(owner):
            continue
        pid = int(name)
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)  # it leads its group (start_new_session): all of it
            else:
                os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except (ProcessLookupError, PermissionError):
            continue
    return killed


def owned_prefix(kind: str) -> str:
    """``perfdata-<kind>-<pid>-``: the start of a temporary name that says who made it."""
    return f"perfdata-{kind}-{os.getpid()}-"


def sweep_paths(kind: str, remove: Callable[[Path], None] | None = None,
                directory: Path | None = None) -> list[Path]:
    """Remove ``perfdata-<kind>-<pid>-*`` in ``directory`` (the temp dir) whose maker is gone.

    ``remove`` undoes what the path holds first where deleting it is not enough (a container
    state root: its containers are killed and deleted by their runtime); by default a
    directory is removed with its contents and a file is unlinked.
    """
    folder = Path(directory or tempfile.gettempdir())
    pattern = re.compile(rf"^perfdata-{re.escape(kind)}-(\d+)-")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match is None or alive(int(match.group(1))):
            continue
        path = folder / name
        try:
            if remove is not None:
                remove(path)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed
