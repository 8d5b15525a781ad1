"""pytest-benchmark interop: a test using the ``benchmark`` fixture also yields a judged record.

Existing pytest-benchmark suites gain baselines, verdicts and annotations without edits. The
samples are pytest-benchmark's own rounds (seconds per iteration). Their harness is not ours, so
the drift reference cannot run between its rounds: it is timed just before and just after the
test, and the record's regression check is drift-corrected with it, as for ``perf.measure``.
Without that, a process that merely runs slower than the one that saved the baseline (common on
shared machines) failed a 10 % limit in 5 of 6 unchanged re-runs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from .state import perf_for

__all__ = ["BenchmarkInterop", "benchmark_metric", "benchmark_samples"]


def benchmark_metric(item: pytest.Item) -> str:
    """The metric a ``benchmark`` test's record is of: the marker's ``metric=``, else ``benchmark.<test>``."""
    return perf_for(item).marker.metric or f"benchmark.{item.name}"


def benchmark_samples(fixture: Any) -> tuple[list[float], int] | None:
    """Seconds per iteration of each round, and iterations per round; None if nothing ran."""
    stats = getattr(fixture, "stats", None)
    data = getattr(getattr(stats, "stats", None), "data", None)
    if not data:
        return None
    return [float(x) for x in data], int(getattr(stats, "iterations", 1) or 1)


def _unit_for(median: float) -> tuple[str, float]:
    """The unit a median of ``median`` seconds reads best in, and the factor from seconds to it."""
    if median < 1e-3:
        return "us", 1e6
    if median < 1.0:
        return "ms", 1e3
    return "s", 1.0


class BenchmarkInterop:
    """Registered only when pytest-benchmark is active."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        if "benchmark" not in getattr(item, "fixturenames", ()):
            return (yield)  # a test without the fixture pays for nothing here, not even an import
        from .measure import time_reference

        before = time_reference()
        result = yield
        fixture = getattr(item, "funcargs", {}).get("benchmark")
        harvested = benchmark_samples(fixture) if fixture is not None else None
        if harvested is not None:
            import statistics  # its decimal and fractions imports are not for runs that use no benchmark

            seconds, iterations = harvested
            reference_ns = statistics.median([*before, *time_reference()])
            perf = perf_for(item)
            metric = benchmark_metric(item)
            median = statistics.median(seconds)
            unit, factor = _unit_for(median)
            perf.record_samples(
                metric,
                [s * factor for s in seconds],
                unit=unit,
                reference_us=reference_ns / 1e3,
                notes=(f"from pytest-benchmark: {len(seconds)} rounds x {iterations} iterations; "
                       f"drift reference timed {len(before)} times before and after",),
            )
            perf.count_instructions(metric, median * 1e9)
        return result
