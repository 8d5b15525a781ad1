"""The backend fixtures as a user meets them: selection by option, skips that say how to fix them.

These run pytest in a subprocess: an in-process run would import wasmtime afresh inside
pytester's module snapshot, and the discarded copy breaks wasmtime's trap handling for every
later test in this process (it dies with SIGILL on the next Wasm trap).
"""

from __future__ import annotations

import pytest

USES_RUNTIME = """
def test_runtime(wasm_runtime, wasmedge_runtime):
    assert wasm_runtime is wasmedge_runtime
    print("RUNTIME", wasm_runtime.name, wasm_runtime.engine.name, wasm_runtime.engine.mode)
"""


def test_auto_without_wasmedge_gives_wasmtime(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(pytester.path))  # no ~/.wasmedge either
    pytester.makepyfile(USES_RUNTIME)
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*RUNTIME wasmtime wasmtime in-process"])


def test_missing_wasmedge_skips_with_how_to_get_it(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(pytester.path))
    pytester.makepyfile(USES_RUNTIME)
    result = pytester.runpytest_subprocess("-rs", "--perf-wasm-runtime=wasmedge", f"--perf-wasmedge={pytester.path / 'nope'}")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*wasmedge*"])
    skip_line = next(line for line in result.stdout.lines if line.startswith("SKIPPED"))
    assert "install" in skip_line.lower() or "not found" in skip_line.lower()


def test_unknown_wasm_runtime_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(USES_RUNTIME)
    result = pytester.runpytest_subprocess("--perf-wasm-runtime=wamr")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'wamr'*"])
