"""What a binary links, read from its ELF file: needed libraries, run paths, where each resolves.

Read in pure Python (no ``ldd``, which runs the loader, and no ``readelf``, which the machine
may lack) so that a record can say how the engine it names was built, e.g. whether WasmEdge
maps a shared libLLVM at every start. Only the dynamic section is read: ``DT_NEEDED``,
``DT_RPATH`` and ``DT_RUNPATH`` (with ``$ORIGIN``), found through the program headers, which
stripped binaries keep. Resolution follows the loader's order closely enough to name files:
``DT_RPATH`` (when there is no ``DT_RUNPATH``), ``LD_LIBRARY_PATH``, ``DT_RUNPATH``, the
directories of ``/etc/ld.so.conf``, then the default ones. Anything that is not a readable ELF
file (a script, a truncated file) is :data:`None`, never an exception.
"""

from __future__ import annotations

import glob
import mmap
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["DynamicSection", "LinkedLibrary", "contains", "linked_libraries", "read_dynamic"]

_MAGIC: Final = b"\x7fELF"
_PT_LOAD, _PT_DYNAMIC, _PT_INTERP = 1, 2, 3
_DT_NULL, _DT_NEEDED, _DT_STRTAB, _DT_STRSZ, _DT_RPATH, _DT_RUNPATH = 0, 1, 5, 10, 15, 29
_DEFAULT_DIRS: Final = ("/lib", "/usr/lib", "/lib64", "/usr/lib64")
#: A bound on the libraries followed, so that a cycle or a huge closure cannot run away.
_MAX_LIBRARIES: Final = 512


@dataclass(frozen=True, slots=True)
class DynamicSection:
    """The parts of one ELF file's dynamic section that decide which libraries it loads."""

    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    interpreter: str | None


@dataclass(frozen=True, slots=True)
class LinkedLibrary:
    """One library in a binary's closure: its ``DT_NEEDED`` name and the file it resolved to."""

    name: str
    path: Path | None  # None: not found where the loader would look


def read_dynamic(path: Path) -> DynamicSection | None:
    """The dynamic section of ``path``; None when it is not a readable ELF file."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _parse(data, Path(path))
    except (OSError, struct.error, IndexError, ValueError, OverflowError, UnicodeDecodeError):
        return None  # ValueError also for an empty file, which cannot be mapped


def _parse(data: mmap.mmap, path: Path) -> DynamicSection | None:
    if len(data) < 0x40 or data[:4] != _MAGIC or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    wide, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if wide:
        phoff, = struct.unpack_from(order + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36)
        header, entry = order + "IIQQQQQQ", order + "qQ"
    else:
        phoff, = struct.unpack_from(order + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 0x2A)
        header, entry = order + "IIIIIIII", order + "iI"
    loads: list[tuple[int, int, int]] = []  # (virtual address, file offset, file size)
    dynamic: tuple[int, int] | None = None
    interpreter = None
    for index in range(phnum):
        fields = struct.unpack_from(header, data, phoff + index * phentsize)
        if wide:
            kind, _flags, offset, vaddr, _paddr, filesz = fields[:6]
        else:
            kind, offset, vaddr, _paddr, filesz = fields[:5]
        if kind == _PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif kind == _PT_DYNAMIC:
            dynamic = (offset, filesz)
        elif kind == _PT_INTERP:
            interpreter = data[offset:offset + filesz].split(b"\0", 1)[0].decode()
    if dynamic is None:  # statically linked: nothing to load
        return DynamicSection((), (), (), interpreter)
    tags: list[tuple[int, int]] = []
    size = struct.calcsize(entry)
    for start in range(dynamic[0], dynamic[0] + dynamic[1] - size + 1, size):
        tag, value = struct.unpack_from(entry, data, start)
        if tag == _DT_NULL:
            break
        tags.append((tag, value))
    table = dict(tags)
    if _DT_STRTAB not in table:
        return DynamicSection((), (), (), interpreter)
    strtab = _file_offset(table[_DT_STRTAB], loads)
    limit = strtab + table.get(_DT_STRSZ, len(data) - strtab)

    def text(at: int) -> str:
        start = strtab + at
        if not strtab <= start < limit:
            raise ValueError(f"string at {at} outside the string table")
        end = data.find(b"\0", start)
        if end == -1:
            raise ValueError(f"string at {at} is not terminated")
        return data[start:end].decode()

    origin = str(path.resolve().parent)

    def paths(tag: int) -> tuple[str, ...]:
        found: list[str] = []
        for kind, value in tags:
            if kind == tag:
                found += [_expand_origin(part, origin) for part in text(value).split(":") if part]
        return tuple(found)

    needed = tuple(text(value) for kind, value in tags if kind == _DT_NEEDED)
    return DynamicSection(needed, paths(_DT_RPATH), paths(_DT_RUNPATH), interpreter)


def _file_offset(address: int, loads: Iterable[tuple[int, int, int]]) -> int:
    for vaddr, offset, filesz in loads:
        if vaddr <= address < vaddr + filesz:
            return address - vaddr + offset
    raise ValueError(f"address {address:#x} is in no loaded segment")


def _expand_origin(entry: str, origin: str) -> str:
    return entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)


def _system_dirs() -> tuple[str, ...]:
    """``/etc/ld.so.conf`` with its includes (the cache's sources), then the default directories."""
    dirs: list[str] = []

    def read(conf: Path, depth: int) -> None:
        try:
            lines = conf.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if line.startswith("include ") and depth < 8:
                pattern = line.split(None, 1)[1]
                pattern = pattern if os.path.isabs(pattern) else str(conf.parent / pattern)
                for included in sorted(glob.glob(pattern)):
                    read(Path(included), depth + 1)
            elif line:
                dirs.append(line)

    read(Path("/etc/ld.so.conf"), 0)
    return tuple(dict.fromkeys([*dirs, *_DEFAULT_DIRS]))


def _resolve(name: str, owner: DynamicSection, extra_dirs: tuple[str, ...]) -> Path | None:
    if "/" in name:
        return Path(name) if Path(name).is_file() else None
    library_path = tuple(part for part in os.environ.get("LD_LIBRARY_PATH", "").split(":") if part)
    rpath = owner.rpath if not owner.runpath else ()
    for directory in (*rpath, *library_path, *owner.runpath, *extra_dirs, *_system_dirs()):
        candidate = Path(directory) / name
        if candidate.is_file():
            return candidate
    return None


def linked_libraries(binary: Path, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> tuple[LinkedLibrary, ...] | None:
    """Every library ``binary`` loads, breadth first, each once; None when it is not ELF.

    ``extra_dirs`` are searched after the binary's own paths (WasmEdge's installer puts its
    library in ``~/.wasmedge/lib`` and sets ``LD_LIBRARY_PATH`` in a shell profile that a test
    process may not have read).
    """
    root = read_dynamic(binary)
    if root is None:
        return None
    extra = tuple(os.fspath(d) for d in extra_dirs)
    found: dict[str, LinkedLibrary] = {}
    queue: list[tuple[str, DynamicSection]] = [(name, root) for name in root.needed]
    while queue and len(found) < _MAX_LIBRARIES:
        name, owner = queue.pop(0)
        if name in found:
            continue
        path = _resolve(name, owner, extra)
        found[name] = LinkedLibrary(name, path)
        section = read_dynamic(path) if path is not None else None
        if section is not None:
            queue += [(child, section) for child in section.needed if child not in found]
    return tuple(found.values())


def contains(path: Path, needles: Iterable[bytes]) -> bool:
    """Whether the file holds any of ``needles`` (memory-mapped: a static libLLVM is ~100 MB)."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return any(view.find(needle) != -1 for needle in needles)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return False
