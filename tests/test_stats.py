"""Statistics: quantiles, summaries and distribution-free intervals, on synthetic samples only."""

from __future__ import annotations

import math
import random
import statistics
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_perfdata.stats import (
    STATISTICS,
    Interval,
    _t_quantile,
    interval_for,
    mean_interval,
    min_samples_for,
    quantile,
    quantile_interval,
    statistic_value,
    summarize,
)

#: Sample values of realistic magnitude (timings, sizes, rates); type-7 interpolation of values
#: whose difference overflows a float (|x| near 1e308) is out of scope.
values = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
samples = st.lists(values, min_size=1, max_size=60)
levels = st.floats(min_value=0.0, max_value=1.0)
open_levels = st.one_of(
    st.sampled_from([0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999]),
    st.floats(min_value=0.001, max_value=0.999),
)
confidences = st.one_of(
    st.sampled_from([0.5, 0.9, 0.95, 0.99, 0.999]),
    st.floats(min_value=0.5, max_value=0.999),
)


@st.composite
def near_constant(draw: st.DrawFn) -> list[float]:
    """Samples one ulp apart, where rounding of sums and widths is most likely to show."""
    base = draw(values)
    neighbour = math.nextafter(base, draw(st.sampled_from([math.inf, -math.inf])))
    return draw(st.lists(st.sampled_from([base, neighbour]), min_size=1, max_size=40))


def lognormal(seed: int, n: int, mu: float = 1.0, sigma: float = 0.5) -> list[float]:
    """``n`` reproducible samples shaped like timings on a shared machine: skewed, positive."""
    rng = random.Random(seed)
    return [rng.lognormvariate(mu, sigma) for _ in range(n)]


def reference_type7(ordered: list[float], q: float) -> float:
    """Hyndman & Fan type 7 in exact arithmetic: h = (n - 1) q + 1, 1-based."""
    h = (len(ordered) - 1) * Fraction(q) + 1
    j = math.floor(h)
    lo = Fraction(ordered[j - 1])
    hi = Fraction(ordered[min(j, len(ordered) - 1)])
    return float(lo + (h - j) * (hi - lo))


# --- quantile --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "q", "expected"),
    [
        ([1, 2, 3, 4], 0.25, 1.75),  # numpy.percentile([1, 2, 3, 4], 25)
        ([1, 2, 3, 4], 0.5, 2.5),
        ([1, 2, 3, 4, 5], 0.5, 3.0),
        ([15, 20, 35, 40, 50], 0.4, 29.0),
        ([10, 20, 30, 40], 0.9, 37.0),
        (list(range(1, 11)), 0.9, 9.1),
        (list(range(1, 11)), 0.99, 9.91),
        ([7.0], 0.99, 7.0),
        ([3, 9], 0.0, 3.0),
        ([3, 9], 1.0, 9.0),
    ],
)
def test_quantile_worked_examples(data: list[float], q: float, expected: float) -> None:
    assert quantile(data, q) == pytest.approx(expected, rel=1e-12)
    assert reference_type7([float(x) for x in data], q) == pytest.approx(expected, rel=1e-12)


@given(samples, levels)
def test_quantile_matches_type7_reference(data: list[float], q: float) -> None:
    """Same definition as numpy's default, so figures agree with anyone's notebook."""
    ordered = sorted(data)
    expected = reference_type7(ordered, q)
    # Interpolation rounds on the scale of the samples, not of the result (which may be ~0).
    scale = max(abs(ordered[0]), abs(ordered[-1]))
    assert math.isclose(quantile(ordered, q), expected, rel_tol=1e-12, abs_tol=1e-12 * scale)


@given(samples, levels, levels)
def test_quantile_is_monotone_in_q(data: list[float], a: float, b: float) -> None:
    """p50 <= p90 <= p99 must hold for every sample, or summaries contradict themselves."""
    ordered = sorted(data)
    low, high = sorted((a, b))
    assert ordered[0] <= quantile(ordered, low) <= quantile(ordered, high) <= ordered[-1]


def test_quantile_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        quantile([], 0.5)
    for q in (-0.01, 1.01):
        with pytest.raises(ValueError):
            quantile([1.0, 2.0], q)


# --- summarize -------------------------------------------------------------------------------


@given(st.one_of(samples, near_constant()))
def test_summary_invariants(data: list[float]) -> None:
    """Orderings and signs every reader of a record relies on."""
    summary = summarize(data)
    assert summary.n == len(data)
    assert summary.min <= summary.p50 <= summary.p90 <= summary.p99 <= summary.max
    assert summary.min == min(data) and summary.max == max(data)
    assert summary.min <= summary.mean <= summary.max
    assert summary.mad >= 0 and summary.iqr >= 0 and summary.stdev >= 0
    assert summary.get("median") == summary.p50
    for name in ("p50", "p90", "p99", "mean", "min", "max"):
        assert summary.get(name) == statistic_value(name, data)


@given(samples)
def test_summary_is_order_independent(data: list[float]) -> None:
    assert summarize(data) == summarize(list(reversed(data)))


def test_summary_of_one_sample_has_no_spread() -> None:
    summary = summarize([4.2])
    assert (summary.n, summary.stdev, summary.mad, summary.iqr) == (1, 0.0, 0.0, 0.0)
    assert summary.min == summary.p50 == summary.p99 == summary.max == 4.2


def test_summary_worked_example() -> None:
    summary = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert summary.p50 == 3.0
    assert summary.mean == 22.0
    assert summary.mad == 1.0  # deviations 0, 1, 1, 2, 97: one outlier does not move it
    assert summary.iqr == 2.0


def test_summarize_rejects_no_samples() -> None:
    with pytest.raises(ValueError):
        summarize([])


# --- quantile_interval -----------------------------------------------------------------------


@settings(max_examples=200)
@given(st.lists(values, min_size=1, max_size=600), open_levels, confidences)
def test_quantile_interval_contains_the_estimate(
    data: list[float], q: float, confidence: float
) -> None:
    """The reported value must lie in its own interval, or a verdict can contradict its figure."""
    ordered = sorted(data)
    interval = quantile_interval(ordered, q, confidence)
    assert interval.low <= quantile(ordered, q) <= interval.high
    assert interval.low <= interval.high
    assert interval.confidence == confidence
    for bound in (interval.low, interval.high):
        assert bound in ordered or math.isinf(bound), "a finite bound is an order statistic"


@given(st.lists(values, min_size=1, max_size=400), open_levels, confidences, confidences)
def test_more_confidence_never_narrows(data: list[float], q: float, c1: float, c2: float) -> None:
    """Asking to be surer can only widen the interval."""
    ordered = sorted(data)
    lower, higher = sorted((c1, c2))
    narrow = quantile_interval(ordered, q, lower)
    wide = quantile_interval(ordered, q, higher)
    assert wide.low <= narrow.low and narrow.high <= wide.high


@given(st.integers(min_value=1, max_value=400), open_levels, confidences)
def test_more_samples_never_lose_a_bound(n: int, q: float, confidence: float) -> None:
    """Once a bound exists it keeps existing as samples accumulate."""
    few = quantile_interval([float(i) for i in range(n)], q, confidence)
    more = quantile_interval([float(i) for i in range(n + 1)], q, confidence)
    assert not (math.isfinite(few.low) and math.isinf(more.low))
    assert not (math.isfinite(few.high) and math.isinf(more.high))


def test_p99_of_100_samples_has_no_upper_bound() -> None:
    """No 100 samples can bound p99 from above at 99 %: the verdict must see infinity."""
    interval = quantile_interval(sorted(lognormal(1, 100)), 0.99, 0.99)
    assert math.isfinite(interval.low)
    assert interval.high == math.inf
    assert not interval.bounded
    assert interval.relative_half_width(1.0) == math.inf


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99, 0.01, 0.1])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_min_samples_for_is_the_threshold(q: float, confidence: float) -> None:
    """``min_samples_for`` samples give a bounded interval; one fewer does not."""
    needed = min_samples_for(q, confidence)
    assert quantile_interval([float(i) for i in range(needed)], q, confidence).bounded
    assert not quantile_interval([float(i) for i in range(needed - 1)], q, confidence).bounded


def test_min_samples_for_p99_at_99_percent() -> None:
    assert min_samples_for(0.99, 0.99) == 528
    assert quantile_interval(sorted(lognormal(2, 528)), 0.99, 0.99).bounded


def _coverage(q: float, confidence: float, sets: int = 400, n: int = 200) -> float:
    mu, sigma = 1.0, 0.5
    truth = math.exp(mu + sigma * statistics.NormalDist().inv_cdf(q))
    hits = 0
    for seed in range(sets):
        interval = quantile_interval(sorted(lognormal(seed, n, mu, sigma)), q, confidence)
        hits += interval.low <= truth <= interval.high
    return hits / sets


@pytest.mark.parametrize(("q", "confidence"), [(0.5, 0.95), (0.9, 0.95), (0.5, 0.99)])
def test_interval_covers_the_true_quantile(q: float, confidence: float) -> None:
    """Over 400 seeded lognormal sets the interval holds the true quantile as often as it says.

    Order-statistic intervals are conservative, so coverage may exceed the nominal level a
    little; it must not fall clearly below it (deterministic given the seeds).
    """
    coverage = _coverage(q, confidence)
    assert confidence - 0.03 <= coverage <= min(1.0, confidence + 0.03)


def test_quantile_interval_rejects_no_samples() -> None:
    with pytest.raises(ValueError):
        quantile_interval([], 0.5)


# --- mean_interval ---------------------------------------------------------------------------


@given(st.lists(values, min_size=3, max_size=200), confidences)
def test_mean_interval_is_centred_on_the_mean(data: list[float], confidence: float) -> None:
    interval = mean_interval(data, confidence)
    mean = statistic_value("mean", data)
    assert math.isclose(mean, math.fsum(data) / len(data), rel_tol=1e-15, abs_tol=1e-300)
    assert interval.low <= mean <= interval.high
    scale = max(1.0, abs(mean), max(abs(x) for x in data))
    below, above = mean - interval.low, interval.high - mean
    assert math.isclose(below, above, rel_tol=1e-6, abs_tol=1e-9 * scale)
    assert interval.confidence == confidence


@given(st.lists(values, min_size=3, max_size=200), confidences, confidences)
def test_mean_interval_widens_with_confidence(data: list[float], c1: float, c2: float) -> None:
    lower, higher = sorted((c1, c2))
    narrow, wide = mean_interval(data, lower), mean_interval(data, higher)
    assert wide.high - wide.low >= narrow.high - narrow.low


@pytest.mark.parametrize("data", [[], [1.0], [1.0, 2.0]])
def test_mean_interval_of_too_few_samples_is_unbounded(data: list[float]) -> None:
    assert mean_interval(data) == Interval(-math.inf, math.inf, 0.99)


def test_mean_interval_shrinks_like_one_over_root_n() -> None:
    """With many samples the half-width approaches z * s / sqrt(n)."""
    data = lognormal(3, 10_000)
    interval = mean_interval(data, 0.95)
    expected = 1.959964 * statistics.stdev(data) / math.sqrt(len(data))
    assert (interval.high - interval.low) / 2 == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize(
    ("p", "df", "table"),
    [
        (0.995, 3, 5.840909), (0.975, 1, 12.706205), (0.975, 2, 4.302653), (0.975, 10, 2.228139),
        (0.995, 10, 3.169273), (0.975, 30, 2.042272), (0.995, 30, 2.749996),
    ],
)
def test_t_quantile_matches_tables(p: float, df: int, table: float) -> None:
    """The mean's interval for few samples is only as honest as this quantile (tables: scipy)."""
    assert _t_quantile(p, df) == pytest.approx(table, rel=1e-5)


# --- interval_for / statistic_value ----------------------------------------------------------


@given(values, st.integers(min_value=2, max_value=50), st.sampled_from(sorted(STATISTICS)))
def test_interval_of_constant_samples_is_exact(value: float, n: int, statistic: str) -> None:
    """A deterministic figure (a file size) is known exactly, whatever the statistic."""
    assert interval_for(statistic, [value] * n, 0.99) == Interval(value, value, 0.99)
    assert statistic_value(statistic, [value] * n) == value


@settings(max_examples=300)
@given(
    st.one_of(st.lists(values, min_size=1, max_size=300), near_constant()),
    st.sampled_from(sorted(STATISTICS)),
    confidences,
)
def test_value_lies_in_its_interval(data: list[float], statistic: str, confidence: float) -> None:
    """A record's value and interval come from these two functions; they must agree."""
    interval = interval_for(statistic, data, confidence)
    assert interval.low <= statistic_value(statistic, data) <= interval.high


def test_interval_for_dispatches_by_statistic() -> None:
    data = lognormal(4, 300)
    ordered = sorted(data)
    assert interval_for("p50", data) == quantile_interval(ordered, 0.5)
    assert interval_for("median", data) == interval_for("p50", data)
    assert interval_for("p90", data, 0.95) == quantile_interval(ordered, 0.9, 0.95)
    assert interval_for("mean", data) == mean_interval(ordered)
    assert interval_for("min", data) == Interval(ordered[0], ordered[0], 0.99)
    assert interval_for("max", data) == Interval(ordered[-1], ordered[-1], 0.99)


@pytest.mark.parametrize("call", [interval_for, lambda s, d: statistic_value(s, d)])
def test_unknown_statistic_is_refused(call: object) -> None:
    with pytest.raises(ValueError, match="unknown statistic 'p42'"):
        call("p42", [1.0, 2.0])  # type: ignore[operator]


def test_relative_half_width() -> None:
    assert Interval(9.0, 11.0, 0.99).relative_half_width(10.0) == pytest.approx(0.1)
    assert Interval(0.0, 0.0, 0.99).relative_half_width(0.0) == 0.0
    assert Interval(-1.0, 1.0, 0.99).relative_half_width(0.0) == math.inf
    assert Interval(1.0, math.inf, 0.99).relative_half_width(2.0) == math.inf
