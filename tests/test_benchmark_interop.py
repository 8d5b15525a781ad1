"""pytest-benchmark interop: a ``benchmark`` test yields a judged record without any edit to it."""

from __future__ import annotations

import pytest
from builders import read_report, records_by_metric, write_baselines

#: Ten pedantic rounds: enough for a bounded 99 % interval of the median (eight is the minimum).
BENCHMARKED = """
def test_sum(benchmark):
    benchmark.pedantic(sum, args=(range(100),), rounds={rounds}, iterations=1)
"""


def test_benchmark_test_yields_a_record(pytester: pytest.Pytester) -> None:
    """Selected by ``-m perf``: the marker is added to tests using the benchmark fixture too."""
    pytester.makepyfile(BENCHMARKED.format(rounds=5))
    result = pytester.runpytest("--perf-report=r.json", "-m", "perf")
    result.assert_outcomes(passed=1)
    records = records_by_metric(read_report(pytester))
    assert list(records) == ["benchmark.test_sum"]
    record = records["benchmark.test_sum"]
    assert record["summary"]["n"] == 5 and record["unit"] in ("us", "ms", "s")
    assert record["verdict"]["outcome"] == "none"
    assert any("from pytest-benchmark: 5 rounds x 1 iterations" in note for note in record["notes"])


def test_benchmark_record_is_judged_against_its_baseline(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "benchmark.test_sum: {max: 1 ns}\n")
    pytester.makepyfile(BENCHMARKED.format(rounds=10))
    result = pytester.runpytest("--perf-report=r.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_sum: performance verdict failed:",
            "*benchmark.test_sum: p50 = * exceeds max 1 ns*",
        ]
    )
    verdict = records_by_metric(read_report(pytester))["benchmark.test_sum"]["verdict"]
    assert verdict["outcome"] == "fail" and [c["kind"] for c in verdict["checks"]] == ["max"]


def test_five_rounds_cannot_bound_the_median(pytester: pytest.Pytester) -> None:
    """With five rounds the median's 99 % interval is unbounded: the verdict cannot fail on it."""
    write_baselines(pytester, "benchmark.test_sum: {max: 1 ns}\n")
    pytester.makepyfile(BENCHMARKED.format(rounds=5))
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest("--perf-inconclusive=fail").assert_outcomes(failed=1)


def test_perf_marker_names_the_metric(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.perf(metric="sum.small")
        def test_sum(benchmark):
            benchmark.pedantic(sum, args=(range(100),), rounds=3, iterations=2)
        """
    )
    pytester.runpytest("--perf-report=r.json").assert_outcomes(passed=1)
    record = records_by_metric(read_report(pytester))["sum.small"]
    assert record["summary"]["n"] == 3


def test_a_benchmark_record_carries_the_drift_reference_timed_around_it(pytester: pytest.Pytester) -> None:
    """So its regression check is drift-corrected like perf.measure's: a slower process is not a regression."""
    pytester.makepyfile(BENCHMARKED.format(rounds=10))
    pytester.runpytest("--perf-report=r.json").assert_outcomes(passed=1)
    record = records_by_metric(read_report(pytester))["benchmark.test_sum"]
    assert record["reference_us"] > 0 and record["reference_kind"] == "cpu-loop"
    assert any("drift reference timed 31 times before and after" in note for note in record["notes"])


def test_figures_with_a_reference_are_drift_corrected_like_measured_ones(pytester: pytest.Pytester) -> None:
    """What the interop relies on, with fixed numbers: twice the time on a machine twice as slow is no regression."""
    write_baselines(pytester, (
        "m:\n  regression: 10%\n  value: 1 us\n  interval: [0.99 us, 1.01 us]\n  reference: 100 us\n"
        f"  machine: '{_machine_label()}'\n"
    ))
    pytester.makepyfile(
        """
        def test_m(perf):
            perf.record_samples("m", [2.0] * 8 + [1.98, 2.02], unit="us", reference_us=200.0)
        """
    )
    pytester.runpytest("--perf-report=r.json", "--perf-confirm=0")
    verdict = records_by_metric(read_report(pytester))["m"]["verdict"]
    assert verdict["outcome"] == "inconclusive" and "raw +100.0%, drift-corrected -0.0% (reference ×0.500)" in verdict["reason"]


def _machine_label() -> str:
    from pytest_perfdata.environment import collect_environment, machine_label

    return machine_label(collect_environment())
