"""How a ``wasmedge`` binary was built, read from its files: the facts that move its figures.

The same WasmEdge version launches hello world in a few milliseconds when built without its
LLVM AOT compiler and several times slower when LLVM is linked as a shared library, which the
loader maps at every start. A version string cannot tell these apart, so a record of WasmEdge
carries its build: whether ``libwasmedge`` is shared, whether the AOT compiler is there and
how LLVM is linked. Everything is read from the ELF files (no run of the binary is needed);
what cannot be read (a stand-in script, a library the loader would not find) says so.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from ..elf import LinkedLibrary, contains, linked_libraries

__all__ = ["AotCompiler", "wasmedge_build"]

#: Strings only LLVM's own code holds (``report_fatal_error``, its option parser), so finding
#: one in WasmEdge's library means LLVM was linked into it statically.
_LLVM_MARKERS: Final = (b"LLVM ERROR: ", b"LLVM (http://llvm.org/)")


class AotCompiler(str, enum.Enum):
    """Whether this build can compile Wasm ahead of time, and how its LLVM is linked."""

    LLVM_SHARED = "llvm-shared"  # libLLVM*.so, mapped at every start
    LLVM_STATIC = "llvm-static"  # LLVM inside libwasmedge (or the executable)
    NONE = "none"  # interpreter only: ``wasmedge compile`` says it is not supported
    UNKNOWN = "unknown"  # the files could not be read


def _library_dirs(executable: Path) -> tuple[Path, ...]:
    """Where WasmEdge's installer puts ``libwasmedge`` beside ``bin/`` (``lib``, ``lib64``)."""
    prefix = executable.resolve().parent.parent
    return prefix / "lib", prefix / "lib64", Path.home() / ".wasmedge" / "lib"


def _first(libraries: Iterable[LinkedLibrary], prefix: str) -> LinkedLibrary | None:
    return next((library for library in libraries if library.name.startswith(prefix)), None)


def wasmedge_build(executable: Path) -> dict[str, str]:
    """``libwasmedge``, ``aot-compiler`` (an :class:`AotCompiler`) and ``llvm`` when shared.

    A non-ELF file (the stand-in CLI the tests use is a Python script) gives
    ``{"binary": "not ELF ...", "aot-compiler": "unknown"}``: the record then says the build
    was not read instead of guessing it.
    """
    executable = Path(executable)
    libraries = linked_libraries(executable, _library_dirs(executable))
    if libraries is None:
        return {"binary": "not ELF (a script or wrapper): build not read", "aot-compiler": AotCompiler.UNKNOWN.value}
    core = _first(libraries, "libwasmedge")
    llvm = _first(libraries, "libLLVM")
    build = {"libwasmedge": "static (in the executable)" if core is None else f"shared ({core.name})"}
    if llvm is not None:
        build |= {"aot-compiler": AotCompiler.LLVM_SHARED.value, "llvm": llvm.name}
    elif core is not None and core.path is None:
        build |= {"aot-compiler": AotCompiler.UNKNOWN.value, "libwasmedge": f"{core.name} not found"}
    elif contains(core.path if core is not None and core.path is not None else executable, _LLVM_MARKERS):
        build["aot-compiler"] = AotCompiler.LLVM_STATIC.value
    else:
        build["aot-compiler"] = AotCompiler.NONE.value
    return build
