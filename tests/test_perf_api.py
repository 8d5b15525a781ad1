"""The perf fixture's API beyond the basics: ratios, memory, CPU time, engines, rates.

Figures come from ``record_value``/``record_samples`` with made-up numbers wherever a verdict
is checked; timed calls only check that a figure exists and is described, never its size.
"""

from __future__ import annotations

import pytest
from builders import read_report, records_by_metric, write_baselines

BUDGET = "--perf-budget=50ms"


def test_ratio_of_exact_figures_is_exact(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_ratio(perf):
            container = perf.record_value("size.container", 8, unit="MiB")
            wasm = perf.record_value("size.wasm", 512, unit="KiB")
            ratio = perf.record_ratio("size.container_vs_wasm", container, wasm)
            assert ratio.value == 16 and ratio.unit == "x"
            assert (ratio.interval.low, ratio.interval.high) == (16, 16)
        """
    )
    pytester.runpytest("--perf-report=r.json").assert_outcomes(passed=1)
    record = records_by_metric(read_report(pytester))["size.container_vs_wasm"]
    assert "ratio size.container ÷ size.wasm" in record["notes"][0]


def test_ratio_interval_spans_both_intervals(pytester: pytest.Pytester) -> None:
    """A ratio of two noisy figures must be no more certain than they are."""
    pytester.makepyfile(
        """
        import random

        def test_ratio(perf):
            rng = random.Random(7)
            slow = perf.record_samples("t.slow", [rng.uniform(90, 110) for _ in range(200)], unit="ms")
            fast = perf.record_samples("t.fast", [rng.uniform(9, 11) for _ in range(200)], unit="ms")
            ratio = perf.record_ratio("t.slow_vs_fast", slow, fast)
            assert ratio.interval.low == slow.interval.low / fast.interval.high
            assert ratio.interval.high == slow.interval.high / fast.interval.low
            assert ratio.interval.low < ratio.value < ratio.interval.high
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_ratio_is_judged_against_its_limit(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "growth: {max: 15 x}\n")
    pytester.makepyfile(
        """
        def test_growth(perf):
            small = perf.record_value("cost.100", 2, unit="ms")
            large = perf.record_value("cost.1000", 40, unit="ms")
            perf.record_ratio("growth", large, small)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*growth: 20 x exceeds max 15 x by +33.3%*"])


def test_measure_reports_cpu_time_and_peak_memory(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_alloc(perf):
            record = perf.measure("alloc", lambda: bytearray(4 << 20), unit="ms", memory=True)
            assert record.peak_memory_bytes >= 4 << 20
            assert record.cpu_time is not None and record.cpu_time >= 0
        """
    )
    pytester.runpytest(BUDGET, "--perf-report=r.json").assert_outcomes(passed=1)
    record = records_by_metric(read_report(pytester))["alloc"]
    assert record["peak_memory_bytes"] >= 4 << 20 and record["reference_us"] > 0


def test_measure_refuses_a_unit_that_is_not_time(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_perfdata import UnitError

        def test_size(perf):
            with pytest.raises(UnitError, match="must be a time unit"):
                perf.measure("x", lambda: None, unit="MiB")
        """
    )
    pytester.runpytest(BUDGET).assert_outcomes(passed=1)


def test_engine_and_runtimes_land_in_the_environment(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_perfdata import Engine

        def test_engine(perf):
            perf.runtime("wasi-libc", "0.2")
            perf.record_value("e", 1, unit="ms", engine=Engine("wasmtime", "50.0.1", "in-process"))
        """
    )
    pytester.runpytest("--perf-report=r.json", "--perf-report=r.md").assert_outcomes(passed=1)
    record = records_by_metric(read_report(pytester))["e"]
    assert record["engine"] == {"name": "wasmtime", "version": "50.0.1", "mode": "in-process"}
    assert record["environment"]["runtimes"] == {"wasi-libc": "0.2", "wasmtime": "50.0.1"}
    assert "wasmtime 50.0.1" in (pytester.path / "r.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("measured", "outcome"), [(800, "fail"), (1000, "pass")])
def test_rates_regress_when_they_fall(pytester: pytest.Pytester, measured: int, outcome: str) -> None:
    """For better="higher" (QPS) a fall beyond the limit is the regression, not a rise."""
    write_baselines(pytester, "qps: {better: higher, value: 1000 qps, regression: 10%}\n")
    pytester.makepyfile(
        f"""
        def test_qps(perf):
            perf.record_value("qps", {measured}, unit="qps", better="higher")
        """
    )
    result = pytester.runpytest("--perf-report=r.json")
    assert records_by_metric(read_report(pytester))["qps"]["verdict"]["outcome"] == outcome
    assert result.ret == (1 if outcome == "fail" else 0)


def test_expired_baseline_gives_expired_status(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "old: {max: 10 ms, collected: 2020-01-01}\n")
    pytester.makepyfile(
        """
        def test_old(perf):
            perf.record_value("old", 5, unit="ms")
        """
    )
    pytester.runpytest("--perf-report=r.json", "--perf-max-age=30").assert_outcomes(passed=1)
    assert records_by_metric(read_report(pytester))["old"]["status"] == "expired"


def test_compare_records_the_ratio_of_turns(pytester: pytest.Pytester) -> None:
    """Sleeping 2 ms never ends early and a no-op never takes 2 ms: above 1 on any machine."""
    pytester.makepyfile(
        """
        import time
        from pytest_perfdata import Engine

        def test_pair(perf):
            record = perf.compare("ratio.slow_vs_fast", lambda: time.sleep(0.002), lambda: None,
                                  engines=(Engine("sleep", "1", "long"), Engine("sleep", "1", "short")), budget="0.3s")
            assert record.unit == "x" and record.summary.n >= 20
            assert record.interval.low <= record.value <= record.interval.high
            assert record.value > 1
        """
    )
    pytester.runpytest("--perf-report=r.json").assert_outcomes(passed=1)
    record = records_by_metric(read_report(pytester))["ratio.slow_vs_fast"]
    assert record["notes"][0] == "paired turns, time ratio (sleep 1 (long) ÷ sleep 1 (short))"
    assert record["engine"] is None and record["reference_us"] is None


def test_compare_is_judged_against_its_limit(pytester: pytest.Pytester) -> None:
    """A limit the paired ratio cannot meet fails the test: sleeping 2 ms is never quicker than a no-op."""
    write_baselines(pytester, "ratio.slow_vs_fast: {max: 1 x}\n")
    pytester.makepyfile(
        """
        import time

        def test_pair(perf):
            perf.compare("ratio.slow_vs_fast", lambda: time.sleep(0.002), lambda: None, budget="0.3s")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ratio.slow_vs_fast: p50 = * x (99% CI * x .. * x) exceeds max 1 x by*"])


def test_compare_under_perf_disable_runs_both_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        calls = []

        def test_pair(perf):
            record = perf.compare("r", lambda: calls.append("a"), lambda: calls.append("b"))
            assert calls == ["a", "b"] and record.value > 0  # the ratio of the two single timings
        """
    )
    pytester.runpytest("--perf-disable").assert_outcomes(passed=1)
