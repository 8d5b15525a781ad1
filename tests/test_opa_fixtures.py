"""The policy fixtures as a user meets them: engine choice, skip reasons, failing policies."""

from __future__ import annotations

import pytest

POLICY = """
package demo
import rego.v1

deny contains "no" if input.bad
"""

BROKEN = """
package demo
import rego.v1

deny contains "no" if {
    input.bad ==
}
"""

TEST = """
from pathlib import Path
from pytest_perfdata.engines.opa import Policy

def test_decides(opa_policy):
    loaded = opa_policy.load(Policy("demo", (Path("demo.rego"),), "demo/deny"))
    assert loaded.evaluate({"bad": True}) == ["no"]
    assert loaded.evaluate({"bad": False}) == []
    print("ENGINE", loaded.engine.name)
"""


def test_auto_uses_rego_cpp_without_the_opa_cli(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    pytester.makefile(".rego", demo=POLICY)
    pytester.makepyfile(TEST)
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ENGINE rego-cpp*"])


def test_missing_wasm_engine_skips_with_how_to_get_it(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    pytester.makefile(".rego", demo=POLICY)
    pytester.makepyfile(TEST)
    result = pytester.runpytest_subprocess("-rs", "--perf-opa-engine=wasm")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*opa CLI*"])


def test_policy_that_does_not_compile_fails_its_test_with_file_and_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".rego", demo=BROKEN)
    pytester.makepyfile(TEST)
    result = pytester.runpytest_subprocess("--perf-opa-engine=rego-cpp")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*policy demo does not compile under rego-cpp*demo.rego:*"])
