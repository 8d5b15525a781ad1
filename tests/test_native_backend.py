"""The native floor: building a C program with gcc (cached) and running it as a plain process."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from pytest_perfdata.engines.build import native
from pytest_perfdata.engines.build.native import (
    NativeBuildError,
    NativeProgram,
    NativeUnavailable,
    RunTimeout,
    build_native,
    run_native,
)
from pytest_perfdata.engines.oci import is_static_elf as _is_static_elf

HELLO = r"""
#include <stdio.h>
int main(int argc, char **argv) {
    printf("hello from native");
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\n");
    return argc - 1;
}
"""


def _source(directory: Path, text: str = HELLO, name: str = "hello.c") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def _logging_compiler(directory: Path) -> tuple[Path, Path]:
    """A gcc wrapper that logs each call, to count how often the compiler really ran."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not found: apt-get install gcc libc6-dev")
    log = directory / "calls.log"
    wrapper = directory / "logging-gcc"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{gcc}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def _compiles(log: Path) -> int:
    return (
        sum(" -o " in f" {line} " for line in log.read_text().splitlines()) if log.exists() else 0
    )


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> NativeProgram:
    directory = tmp_path_factory.mktemp("native")
    try:
        return build_native(_source(directory), directory / "out")
    except NativeUnavailable as reason:
        pytest.skip(str(reason))


def test_build_and_run_prints_its_output(hello: NativeProgram) -> None:
    result = run_native(hello)
    assert (result.exit_code, result.stdout, result.stderr) == (0, b"hello from native\n", b"")


def test_arguments_and_exit_code_pass_through(hello: NativeProgram) -> None:
    result = run_native(hello, "a b", "c")
    assert (result.exit_code, result.stdout) == (2, b"hello from native a b c\n")


def test_engine_names_the_compiler_and_the_binary_is_static(hello: NativeProgram) -> None:
    assert hello.engine.name == "native" and hello.engine.mode == "static"
    assert re.fullmatch(r"(gcc|clang) \d+\.\d+(\.\d+)?", hello.engine.version)
    assert _is_static_elf(hello.path)


def test_build_is_cached_by_source_hash(tmp_path: Path) -> None:
    wrapper, log = _logging_compiler(tmp_path)
    source = _source(tmp_path)
    first = build_native(source, tmp_path / "out", cc=str(wrapper))
    second = build_native(source, tmp_path / "out", cc=str(wrapper))
    assert first == second and _compiles(log) == 1
    source.write_text(HELLO.replace("hello from native", "changed"))
    third = build_native(source, tmp_path / "out", cc=str(wrapper))
    assert third.path != first.path and _compiles(log) == 2
    assert run_native(third).stdout == b"changed\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [first.path.name, third.path.name]
    )


def test_dynamic_build_is_another_cache_entry(tmp_path: Path, hello: NativeProgram) -> None:
    program = build_native(_source(tmp_path), tmp_path / "out", static=False)
    assert program.engine.mode == "dynamic" and program.path != hello.path
    assert not _is_static_elf(program.path)
    assert run_native(program).stdout == b"hello from native\n"


def test_compile_error_is_a_bug_not_a_skip(tmp_path: Path, hello: NativeProgram) -> None:
    source = _source(tmp_path, "int main(void) { return undeclared; }\n", "broken.c")
    with pytest.raises(NativeBuildError, match="undeclared"):
        build_native(source, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # no half-written binary left


def test_missing_compiler_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(
        NativeUnavailable, match=r"^no-such-cc not found: apt-get install gcc libc6-dev$"
    ):
        build_native(_source(tmp_path), tmp_path / "out", cc="no-such-cc")


def test_missing_static_libc_is_unavailable() -> None:
    error = native._build_failure(
        Path("/usr/bin/gcc"), Path("x.c"), "/usr/bin/ld: cannot find -lc: No such file", True
    )
    assert isinstance(error, NativeUnavailable) and "libc6-dev" in str(error)


def test_run_is_bounded_by_its_timeout(tmp_path: Path, hello: NativeProgram) -> None:
    source = _source(
        tmp_path, "#include <unistd.h>\nint main(void) { for (;;) pause(); }\n", "hang.c"
    )
    program = build_native(source, tmp_path / "out")
    started = time.monotonic()
    with pytest.raises(RunTimeout):
        run_native(program, timeout_s=0.5)
    assert time.monotonic() - started < 10
