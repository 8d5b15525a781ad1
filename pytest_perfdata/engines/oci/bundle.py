"""OCI bundles on disk: a static busybox rootfs with applet links beside its ``config.json``."""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from .protocol import Bundle, ContainerUnavailable
from .config import oci_config

__all__ = ["DEFAULT_APPLETS", "build_bundle", "find_busybox", "is_static_elf", "tree_bytes"]

#: Applets linked into every rootfs: enough for a shell, output, success/failure and waiting.
DEFAULT_APPLETS: Final[tuple[str, ...]] = ("sh", "echo", "true", "false", "sleep", "cat")


def find_busybox() -> Path:
    """Debian's statically linked busybox: the only binary a minimal rootfs needs.

    A dynamically linked busybox would fail inside the rootfs with a misleading "no such file"
    (its loader is missing there), so it is refused here with the package to install.
    """
    candidates = [shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"]
    seen: list[Path] = []
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and Path(candidate) not in seen:
            seen.append(Path(candidate))
    for path in seen:
        if is_static_elf(path):
            return path
    if seen:
        raise ContainerUnavailable(
            f"busybox at {seen[0]} is dynamically linked: apt-get install busybox-static"
        )
    raise ContainerUnavailable("busybox not found: apt-get install busybox-static")


def is_static_elf(path: Path) -> bool:
    """True for a 64-bit little-endian ELF without a PT_INTERP header (no dynamic loader)."""
    with path.open("rb") as file:
        header = file.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False
        (phoff,) = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        file.seek(phoff)
        table = file.read(phentsize * phnum)
    return all(
        struct.unpack_from("<I", table, index * phentsize)[0] != 3  # PT_INTERP
        for index in range(phnum)
    )


def build_bundle(
    directory: Path,
    command: Sequence[str],
    *,
    busybox: Path | None = None,
    memory_limit_bytes: int | None = None,
    applets: Sequence[str] = DEFAULT_APPLETS,
) -> Bundle:
    """An OCI bundle at ``directory``: a busybox rootfs with applet symlinks, and ``config.json``.

    The bundle is built in a sibling temp directory and renamed into place, so an interrupted
    build never leaves a half bundle that a later run would take for a whole one; an existing
    bundle at ``directory`` is replaced. Mount points (``/proc``, ``/dev``, ``/sys``) are made
    here, so the runtime never writes into the rootfs and ``rootfs_bytes`` stays true.
    """
    busybox = find_busybox() if busybox is None else busybox
    if not is_static_elf(busybox):
        raise ContainerUnavailable(
            f"busybox at {busybox} is not a static binary: apt-get install busybox-static"
        )
    config = oci_config(command, memory_limit_bytes=memory_limit_bytes)
    directory = Path(directory).absolute()
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    try:
        staging.chmod(0o755)
        rootfs = staging / "rootfs"
        for sub in ("bin", "dev", "proc", "sys"):
            (rootfs / sub).mkdir(parents=True)
        shutil.copyfile(busybox, rootfs / "bin" / "busybox")
        (rootfs / "bin" / "busybox").chmod(0o755)
        for applet in applets:
            if applet != "busybox":
                (rootfs / "bin" / applet).symlink_to("busybox")
        (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        _move_into_place(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    rootfs = directory / "rootfs"
    return Bundle(path=directory, rootfs=rootfs, rootfs_bytes=tree_bytes(rootfs))


def _move_into_place(staging: Path, directory: Path) -> None:
    """Rename ``staging`` to ``directory``; a non-empty old one is moved aside, then removed."""
    try:
        os.rename(staging, directory)  # also replaces an empty directory
        return
    except OSError:
        if not directory.exists():
            raise
    old = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.old."))
    os.rename(directory, old / "bundle")
    os.rename(staging, directory)
    shutil.rmtree(old, ignore_errors=True)


def tree_bytes(path: Path) -> int:
    """Apparent size of a tree: the bytes of its regular files and symlinks (``lstat().st_size``).

    Directories are left out: their sizes are the file system's bookkeeping (4096 on ext4,
    something else on tmpfs), not content, and would make the figure depend on where the
    bundle was built. Hard links count once per name, as ``du --apparent-size -l`` does.
    """
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            total += os.lstat(os.path.join(root, name)).st_size
    return total
