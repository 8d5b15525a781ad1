"""Instruction counts: the child protocol, the opt-in, the missing valgrind, and one real count."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest

from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata import counting
from pytest_perfdata.counting import (
    CHILD_ENV,
    EXTRA_CALLS,
    EXTRA_INSTRUCTIONS,
    MAX_EXTRA_CALLS,
    Count,
    calls_in_this_process,
    extra_calls_for,
)

#: Work whose instruction count is linear in ``n`` (every step the same small-integer arithmetic):
#: a real count of 3n must be three times n's.
KERNELS = """
import pytest

def work(n):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1_000_003
    return acc
"""


def _records(pytester: pytest.Pytester) -> dict[str, dict]:
    (run,) = (pytester.path / ".perfdata" / "runs").glob("*.json")
    return {r["metric"]: r for r in json.loads(run.read_text())["records"]}


def _run_as_counting_child(pytester: pytest.Pytester, asked: str) -> pytest.RunResult:
    """The project's tests run as a counting child would run them (without valgrind)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CHILD_ENV, asked)
        return pytester.runpytest("-p", "no:benchmark", "--perf-disable")


def test_only_the_named_metric_is_called_more_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHILD_ENV, raising=False)
    assert calls_in_this_process("m") == 1
    monkeypatch.setenv(CHILD_ENV, "a.b=21")
    assert (calls_in_this_process("a.b"), calls_in_this_process("a"), calls_in_this_process("a.b.c")) == (21, 1, 1)
    monkeypatch.setenv(CHILD_ENV, "a=b=3")  # a metric's name may hold "="; the count follows the last
    assert calls_in_this_process("a=b") == 3


def test_a_count_says_how_it_was_made() -> None:
    count = Count(per_call=10.0, once=1_000, extended=1_210, extra_calls=21)
    assert "1,210 instructions with 22 calls, 1,000 with one; the difference over 21" in count.describe()


def test_a_counting_child_calls_the_metric_as_often_as_asked_in_both_fixtures(pytester: pytest.Pytester) -> None:
    """What the parent relies on: perf.measure and the benchmark stand-in call exactly ``calls`` times."""
    pytester.makepyfile(
        """
        calls = {"measured": 0, "benchmarked": 0, "other": 0}

        def test_measured(perf):
            perf.measure("m", lambda: calls.__setitem__("measured", calls["measured"] + 1))
            perf.measure("other", lambda: calls.__setitem__("other", calls["other"] + 1))
            assert (calls["measured"], calls["other"]) == (7, 1)

        def test_benchmarked(benchmark):
            benchmark(lambda: calls.__setitem__("benchmarked", calls["benchmarked"] + 1))
            assert calls["benchmarked"] == 1  # the child was asked for metric "m" only
        """
    )
    _run_as_counting_child(pytester, "m=7").assert_outcomes(passed=2)


def test_the_benchmark_stand_in_calls_the_named_benchmark_with_setup(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        made = []

        def test_b(benchmark):
            benchmark.pedantic(lambda x: made.append(x), setup=lambda: ((len(made),), {}), rounds=100)
            assert made == [0, 1, 2]
        """
    )
    _run_as_counting_child(pytester, "benchmark.test_b=3").assert_outcomes(passed=1)


def test_counting_off_or_not_asked_makes_no_count_record(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        KERNELS + textwrap.dedent("""
        @pytest.mark.perf(counter="instructions")
        def test_asked(perf):
            perf.measure("asked", lambda: work(100), budget="0.1s")

        def test_not_asked(perf):
            perf.measure("not_asked", lambda: work(100), budget="0.1s")
        """)
    )
    result = pytester.runpytest("--perf-counter=off")
    result.assert_outcomes(passed=2)
    assert sorted(_records(pytester)) == ["asked", "not_asked"]


def test_without_valgrind_the_count_is_left_out_with_a_warning_saying_how_to_get_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "valgrind" else "/bin/" + name)
    pytester.makepyfile(
        KERNELS + textwrap.dedent("""
        @pytest.mark.perf(counter="instructions")
        def test_asked(perf):
            perf.measure("asked", lambda: work(100), budget="0.1s")
        """)
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*asked: instructions not counted: valgrind is not installed (apt-get install valgrind*"])
    assert sorted(_records(pytester)) == ["asked"]


@given(st.floats(min_value=0.1, max_value=1e10), st.floats(min_value=1.0, max_value=100.0))
def test_extra_calls_are_bounded_and_fewer_for_slower_calls(ns: float, factor: float) -> None:
    assert EXTRA_CALLS <= extra_calls_for(ns) <= MAX_EXTRA_CALLS
    assert extra_calls_for(ns * factor) <= extra_calls_for(ns)


def test_extra_calls_add_up_to_the_target_where_the_bounds_allow() -> None:
    calls = extra_calls_for(1_100_000.0)  # a 1.1 ms loop
    assert calls * 1_100_000.0 * 10 == pytest.approx(EXTRA_INSTRUCTIONS, rel=0.01)
    assert extra_calls_for(None) == extra_calls_for(0.0) == EXTRA_CALLS


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed (apt-get install valgrind)")
def test_a_real_count_is_linear_in_the_work_and_repeats(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four valgrind children: three times the work counts three times the instructions, within 1 %.

    The extra calls are sized for 200 million instructions instead of billions, to keep it short.
    """
    monkeypatch.setattr(counting, "EXTRA_INSTRUCTIONS", 2e8)
    pytester.makepyfile(
        KERNELS + textwrap.dedent("""
        @pytest.mark.perf(counter="instructions")
        def test_two_sizes(perf):
            perf.measure("small", lambda: work(2_000), budget="0.1s")
            perf.measure("large", lambda: work(6_000), budget="0.1s")
        """)
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    records = _records(pytester)
    small, large = records["small.instructions"], records["large.instructions"]
    assert small["unit"] == "instructions" and small["value"] > 2_000  # more than one instruction per step
    assert large["value"] / small["value"] == pytest.approx(3.0, rel=0.01)
    assert "valgrind --tool=cachegrind" in small["notes"][0]
