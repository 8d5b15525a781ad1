"""A WasmEdge without its AOT compiler: the interpreter's figures are kept, the AOT ones skip with its reason.

WasmEdge 0.17.1 built without LLVM (interpreter only, as some distributions ship it) answers
``wasmedge compile`` with ``[error] Compilation is not supported!`` on **stdout** and exit 1:
WasmEdge logs through spdlog's default logger, which writes to stdout. The stand-in below
behaves the same way and runs modules by handing them to the wasmtime CLI (or, without it, the
Python launcher), so the runs work; nothing it does is a measurement that a test judges.
"""

from __future__ import annotations

import json
import shlex
import shutil
import stat
import sys
from pathlib import Path

import pytest
from builders import recorded_calls

from pytest_perfdata.engines.build.workloads import WORKLOADS_DIR, WorkloadBuilder
from pytest_perfdata.engines.oci import ContainerUnavailable, find_busybox
from pytest_perfdata.engines.wasm import (
    LimitKind,
    WasmAotUnavailable,
    WasmEdgeCli,
    WasmError,
    WasmLimitExceeded,
    WasmUnavailable,
    find_wasmtime_cli,
    select_wasm_backend,
)

NO_COMPILER = "[error] Compilation is not supported!"

STAND_IN = """#!/bin/bash
# A stand-in for a WasmEdge 0.17.1 built without LLVM: it interprets (through {runner}), never compiles.
printf '%q ' "$@" >> "$(dirname "$0")/calls.log"; echo >> "$(dirname "$0")/calls.log"
case "$1" in
  --version) echo "wasmedge version 0.17.1"; exit 0 ;;
  --help) printf '%s\\n' "--reactor" "--time-limit" "--gas-limit" "--memory-page-limit"; exit 0 ;;
  compile)
    if [ -n "$STAND_IN_COMPILE_ERROR" ]; then echo "$STAND_IN_COMPILE_ERROR"; exit 1; fi
    echo "{no_compiler}"; exit 1 ;;
esac
if [ -n "$STAND_IN_RUN_ERROR" ]; then echo "[error] $STAND_IN_RUN_ERROR"; exit 1; fi
invoke=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time-limit|--memory-page-limit|--gas-limit) shift 2 ;;
    --run-mode=*) shift ;;
    --reactor) file="$2"; invoke=({invoke_flag} "$3"); shift 3; break ;;
    *) file="$1"; shift; break ;;
  esac
done
exec {runner_argv} "${{invoke[@]}}" "$file" "$@"
"""


def make_stand_in(directory: Path) -> Path:
    """The stand-in ``wasmedge``, handing runs to the real wasmtime CLI when installed."""
    cli, _ = find_wasmtime_cli()
    if cli is not None:
        runner, argv, invoke_flag = "wasmtime", f"{shlex.quote(str(cli.executable))} run", "--invoke"
    else:
        launcher = f"{shlex.quote(sys.executable)} -m pytest_perfdata.engines.wasm.launcher --fuel none"
        runner, argv, invoke_flag = "the Python launcher", launcher, "--invoke"
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "wasmedge"
    script.write_text(
        STAND_IN.format(runner=runner, runner_argv=argv, invoke_flag=invoke_flag, no_compiler=NO_COMPILER)
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


@pytest.fixture
def stand_in(tmp_path: Path) -> Path:
    return make_stand_in(tmp_path / "edge")


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    return WorkloadBuilder(tmp_path / "cache").wat(WORKLOADS_DIR / "hello.wat").path


def test_the_interpreter_runs(stand_in: Path, hello: Path) -> None:
    backend = select_wasm_backend("wasmedge", wasmedge_path=str(stand_in))
    assert isinstance(backend.cli, WasmEdgeCli) and backend.cli.version == "0.17.1"
    done = backend.cli.run(hello)
    assert (done.exit_code, done.stdout) == (0, b"hello\n")


def test_no_compiler_is_aot_unavailable_with_the_tool_s_own_line(stand_in: Path, hello: Path, tmp_path: Path) -> None:
    """The line printed on stdout reaches the message; the condition is its own kind of error."""
    cli = WasmEdgeCli.probe(stand_in)
    with pytest.raises(WasmAotUnavailable) as raised:
        cli.precompile(hello, tmp_path / "aot")
    error = raised.value
    assert NO_COMPILER in str(error) and "\n" not in str(error)
    assert str(error).startswith("wasmedge compile cannot precompile with this build: ")
    # unavailable (a reason to skip), never a failure of the module
    assert isinstance(error, WasmUnavailable) and not isinstance(error, WasmError)
    assert recorded_calls(stand_in)[-1][0] == "compile"


def test_another_compile_failure_on_stdout_is_an_error_that_carries_it(
    stand_in: Path, hello: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not "exit 1" alone: the text comes from whichever stream has it."""
    monkeypatch.setenv("STAND_IN_COMPILE_ERROR", "[error] loading failed: magic header not detected")
    with pytest.raises(WasmError) as raised:
        WasmEdgeCli.probe(stand_in).precompile(hello, tmp_path / "aot")
    assert not isinstance(raised.value, WasmAotUnavailable)
    assert str(raised.value) == "wasmedge compile failed: [error] loading failed: magic header not detected"
    assert "magic header" in raised.value.detail


def test_a_limit_logged_on_stdout_is_still_a_limit(
    stand_in: Path, hello: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAND_IN_RUN_ERROR", "execution failed: cost limit exceeded, Code: 0x8a")
    with pytest.raises(WasmLimitExceeded) as raised:
        WasmEdgeCli.probe(stand_in).run(hello)
    assert raised.value.limit is LimitKind.FUEL and "cost limit exceeded" in str(raised.value)


SUITE = Path(__file__).resolve().parents[1] / "suites" / "wasmedge"
NO_CONTAINERS = """

@pytest.fixture(scope="session")
def container_runtime():
    pytest.skip("containers are left out of this run")
"""


def test_the_suite_records_what_it_can_and_skips_only_the_aot_figures(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """The two suite tests that precompile, run as a user would against the stand-in.

    No baselines, so no verdict can fail; nothing here depends on how fast anything ran.
    """
    if shutil.which("clang") is None or shutil.which("gcc") is None:
        pytest.skip("the suite's C workloads need clang (wasm32-wasi) and gcc")
    try:
        find_busybox()
    except ContainerUnavailable as reason:
        pytest.skip(str(reason))
    stand_in = make_stand_in(tmp_path / "edge")
    for name in ("conftest.py", "test_cold_start.py", "test_size.py"):
        shutil.copy(SUITE / name, pytester.path / name)
    shutil.copytree(SUITE / "workloads", pytester.path / "workloads")
    with (pytester.path / "conftest.py").open("a") as conftest:  # containers are not the point here
        conftest.write(NO_CONTAINERS)
    (pytester.path / "baselines").mkdir()
    report = pytester.path / "records.json"
    result = pytester.runpytest_subprocess(
        "-rs", "-p", "no:cacheprovider",
        "--perf-wasm-runtime=wasmedge", f"--perf-wasmedge={stand_in}",
        f"--perf-baselines={pytester.path / 'baselines'}", f"--perf-report={report}",
        "test_cold_start.py::test_process_cold_start_side_by_side", "test_size.py::test_module_and_rootfs_size",
    )
    result.assert_outcomes(skipped=2)
    skipped = [line for line in result.stdout.lines if line.startswith("SKIPPED")]
    assert len(skipped) == 2, skipped
    for what in ("precompiled cold start not measured: ", "precompiled module size not measured: "):
        assert any(what in line and line.endswith(NO_COMPILER) for line in skipped), skipped
    metrics = {record["metric"] for record in json.loads(report.read_text())["records"]}
    assert {
        "wasm.cold_start.process.wasmedge-cli",  # the interpreter's figures are kept
        "native.cold_start.process",
        "ratio.cold_start.wasm_vs_native",
        "wasm.size.hello_c",
        "wasm.size.hello_wat",
        "wasm.size.kernel_c",
        "container.size.rootfs_busybox",
        "ratio.size.rootfs_vs_wasm",
    } <= metrics
    assert not any("precompiled" in metric or "aot" in metric for metric in metrics)
