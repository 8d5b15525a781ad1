"""Write a file so that readers see the old content or the new, never half of either."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Final

from ._pids import alive

__all__ = ["sweep_stale_temporaries", "write_bytes_atomically", "write_text_atomically"]

#: ``.<name>.<pid>.<8 hex>.tmp``: the temporary files this module makes, and nothing else.
_TEMPORARY: Final = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$")


def write_text_atomically(path: Path, text: str) -> None:
    """:func:`write_bytes_atomically` of ``text`` in UTF-8, line endings as given."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` through a synced temporary file and ``os.replace``.

    A run interrupted mid-write (Ctrl-C, a CI timeout) must not leave a truncated baseline,
    report or compiled module: the data goes to a uniquely named file in the same directory
    (same file system, so the rename is atomic), is fsynced, then replaces ``path``, and the
    directory is fsynced so that the rename itself survives a crash. An existing file keeps
    its permission bits; a new one gets the umask's (tempfile's 0600 would hide reports).

    A symbolic link is followed: its target is replaced and the link stays a link (a baseline
    file shared by several checkouts through a link must not become a private copy). Temporary
    files that killed writers left in the directory are removed first.
    """
    path = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # some file systems refuse to open a directory; the data itself is synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sweep_stale_temporaries(directory: Path) -> list[Path]:
    """Remove the temporary files of writers that no longer run; returns what was removed.

    A SIGKILL between creating the temporary file and ``os.replace`` leaves it behind. Its
    name carries the writer's pid, so a file whose writer is gone is safe to delete, while a
    live writer's (another xdist worker's) is left alone.
    """
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None or alive(int(match.group(1))):
            continue
        try:
            (Path(directory) / name).unlink()
            removed.append(Path(directory) / name)
        except OSError:
            pass
    return removed
