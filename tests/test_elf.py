"""Reading what a binary links (engines/elf.py) and how a WasmEdge was built (wasmedge_build.py)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_perfdata.engines.elf import DynamicSection, linked_libraries, read_dynamic
from pytest_perfdata.engines.wasm.wasmedge_build import AotCompiler, wasmedge_build

_NAME = st.text(st.sampled_from("abcxyz0123456789._-+"), min_size=1, max_size=20)


def synthetic_elf(needed: list[str], runpath: list[str], *, wide: bool, little: bool) -> bytes:
    """A minimal ELF file: header, PT_LOAD over the file at a shifted address, PT_DYNAMIC, strtab."""
    order = "<" if little else ">"
    base = 0x400000  # virtual address of file offset 0, so strtab's address must be translated
    strings = b"\0"
    offsets = []
    for text in [*needed, ":".join(runpath)]:
        offsets.append(len(strings))
        strings += text.encode() + b"\0"
    entries = [(1, off) for off in offsets[:-1]] + ([(29, offsets[-1])] if runpath else [])
    ehsize, phentsize = (64, 56) if wide else (52, 32)
    phoff = ehsize
    dynamic_at = phoff + 2 * phentsize
    entry_format = order + ("qQ" if wide else "iI")
    entry_size = struct.calcsize(entry_format)
    strtab_at = dynamic_at + (len(entries) + 3) * entry_size
    entries += [(5, base + strtab_at), (10, len(strings)), (0, 0)]
    dynamic = b"".join(struct.pack(entry_format, tag, value) for tag, value in entries)
    size = strtab_at + len(strings)
    if wide:
        header = struct.pack(order + "HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, 0, 0, ehsize, phentsize, 2, 0, 0, 0)
        programs = (struct.pack(order + "IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
                    + struct.pack(order + "IIQQQQQQ", 2, 6, dynamic_at, base + dynamic_at, 0, len(dynamic), len(dynamic), 8))
    else:
        header = struct.pack(order + "HHIIIIIHHHHHH", 3, 3, 1, 0, phoff, 0, 0, ehsize, phentsize, 2, 0, 0, 0)
        programs = (struct.pack(order + "IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)
                    + struct.pack(order + "IIIIIIII", 2, dynamic_at, base + dynamic_at, 0, len(dynamic), len(dynamic), 6, 4))
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if little else 2, 1]) + bytes(9)
    return ident + header + programs + dynamic + strings


@settings(max_examples=200)
@given(st.lists(_NAME, max_size=6), st.lists(_NAME, max_size=3), st.booleans(), st.booleans())
def test_the_dynamic_section_round_trips_in_every_class_and_byte_order(
    tmp_path_factory: pytest.TempPathFactory, needed: list[str], runpath: list[str], wide: bool, little: bool
) -> None:
    path = tmp_path_factory.mktemp("elf") / "binary"
    path.write_bytes(synthetic_elf(needed, runpath, wide=wide, little=little))
    assert read_dynamic(path) == DynamicSection(tuple(needed), (), tuple(runpath), None)


@settings(max_examples=300)
@given(st.binary(max_size=400), st.integers(0, 399), st.binary(max_size=8))
def test_damaged_files_are_not_elf_never_an_error(
    tmp_path_factory: pytest.TempPathFactory, noise: bytes, at: int, patch: bytes
) -> None:
    """Random bytes, and a valid file with bytes overwritten or cut short, never raise."""
    folder = tmp_path_factory.mktemp("noise")
    damaged = bytearray(synthetic_elf(["libc.so.6"], ["$ORIGIN/../lib"], wide=True, little=True))
    damaged[at:at + len(patch)] = patch
    for data in (noise, b"\x7fELF" + noise, bytes(damaged), bytes(damaged[:at])):
        (folder / "f").write_bytes(data)
        assert read_dynamic(folder / "f") is None or isinstance(read_dynamic(folder / "f"), DynamicSection)
        assert linked_libraries(folder / "f") is None or isinstance(linked_libraries(folder / "f"), tuple)


def test_origin_is_the_binary_s_own_folder(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    path = tmp_path / "bin" / "tool"
    path.write_bytes(synthetic_elf(["libx.so.1"], ["$ORIGIN/../lib", "${ORIGIN}"], wide=True, little=True))
    section = read_dynamic(path)
    assert section is not None
    assert section.runpath == (f"{tmp_path / 'bin'}/../lib", str(tmp_path / "bin"))
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libx.so.1").write_bytes(b"not elf either")
    (library,) = linked_libraries(path) or ()
    assert library.name == "libx.so.1" and library.path == tmp_path / "bin" / ".." / "lib" / "libx.so.1"


def test_a_script_and_a_missing_file_are_not_elf(tmp_path: Path) -> None:
    script = tmp_path / "wasmedge"
    script.write_text("#!/bin/sh\necho hi\n")
    assert read_dynamic(script) is None and read_dynamic(tmp_path / "nothing") is None
    assert read_dynamic(tmp_path / "empty") is None
    assert wasmedge_build(script) == {"binary": "not ELF (a script or wrapper): build not read",
                                      "aot-compiler": AotCompiler.UNKNOWN.value}


def test_this_python_links_libc() -> None:
    libraries = linked_libraries(Path(sys.executable).resolve())
    assert libraries is not None
    libc = {library.name: library.path for library in libraries}.get("libc.so.6")
    assert libc is not None and libc.is_file()


# -- WasmEdge builds, made with the C compiler: the three ways LLVM can be there -------------

CC = shutil.which("cc") or shutil.which("gcc")
needs_cc = pytest.mark.skipif(CC is None, reason="needs a C compiler: apt-get install gcc")


def cc(*args: str | Path) -> None:
    assert CC is not None
    subprocess.run([CC, *map(str, args)], check=True, capture_output=True)


def install(prefix: Path, *, llvm: str) -> Path:
    """``prefix/bin/wasmedge`` needing ``libwasmedge.so.0`` through ``$ORIGIN/../lib``.

    ``llvm``: ``shared`` (libwasmedge needs libLLVM-99.so), ``static`` (LLVM's strings inside
    libwasmedge), ``none``.
    """
    lib, bin_ = prefix / "lib", prefix / "bin"
    lib.mkdir(parents=True)
    bin_.mkdir()
    (prefix / "llvm.c").write_text('const char *llvm_error = "LLVM ERROR: out of memory";\n'
                                   "int llvm_compile(void) { return 1; }\n")
    (prefix / "core.c").write_text(
        ('extern int llvm_compile(void);\nint wasmedge_run(void) { return llvm_compile(); }\n' if llvm == "shared" else
         'const char *marker = "LLVM ERROR: ";\nint wasmedge_run(void) { return 0; }\n' if llvm == "static" else
         "int wasmedge_run(void) { return 0; }\n"))
    (prefix / "main.c").write_text("extern int wasmedge_run(void);\nint main(void) { return wasmedge_run(); }\n")
    if llvm == "shared":
        cc("-shared", "-fPIC", "-o", lib / "libLLVM-99.so", prefix / "llvm.c")
    cc("-shared", "-fPIC", "-Wl,-soname,libwasmedge.so.0", "-o", lib / "libwasmedge.so.0", prefix / "core.c",
       *(["-L", lib, "-lLLVM-99", "-Wl,-rpath,$ORIGIN"] if llvm == "shared" else []))
    cc("-o", bin_ / "wasmedge", prefix / "main.c", lib / "libwasmedge.so.0", "-Wl,-rpath,$ORIGIN/../lib")
    return bin_ / "wasmedge"


@needs_cc
@pytest.mark.parametrize(("llvm", "expected"), [
    ("shared", {"libwasmedge": "shared (libwasmedge.so.0)", "aot-compiler": "llvm-shared", "llvm": "libLLVM-99.so"}),
    ("static", {"libwasmedge": "shared (libwasmedge.so.0)", "aot-compiler": "llvm-static"}),
    ("none", {"libwasmedge": "shared (libwasmedge.so.0)", "aot-compiler": "none"}),
])
def test_the_build_says_how_llvm_is_linked(tmp_path: Path, llvm: str, expected: dict[str, str]) -> None:
    executable = install(tmp_path / "wasmedge", llvm=llvm)
    assert subprocess.run([executable]).returncode in (0, 1)  # it really loads what we say it links
    assert wasmedge_build(executable) == expected


@needs_cc
def test_a_library_the_loader_would_not_find_is_unknown(tmp_path: Path) -> None:
    executable = install(tmp_path / "wasmedge", llvm="none")
    (tmp_path / "wasmedge" / "lib" / "libwasmedge.so.0").unlink()
    assert wasmedge_build(executable) == {"libwasmedge": "libwasmedge.so.0 not found", "aot-compiler": "unknown"}
