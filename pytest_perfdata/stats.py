"""Robust statistics of timing samples, with distribution-free confidence intervals.

Timings on a shared machine are skewed and heavy-tailed, so the intervals here make no
normality assumption: a quantile's interval comes from order statistics (the number of samples
below the true quantile is binomial), and the mean's from Student's t only as a fallback.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, final

__all__ = [
    "STATISTICS",
    "Interval",
    "Summary",
    "interval_for",
    "mean_interval",
    "min_samples_for",
    "quantile",
    "quantile_interval",
    "statistic_value",
    "summarize",
]

#: Names a baseline may use for ``statistic:`` and the quantile each stands for (None: not a quantile).
STATISTICS: Final[dict[str, float | None]] = {
    "p50": 0.5,
    "median": 0.5,
    "p90": 0.9,
    "p99": 0.99,
    "mean": None,
    "min": None,
    "max": None,
}


@final
@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval ``[low, high]`` at ``confidence``; bounds may be infinite."""

    low: float
    high: float
    confidence: float

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    def relative_half_width(self, centre: float) -> float:
        """Half the width relative to ``centre``: 0.01 means the value is known to ±1 %."""
        if not self.bounded:
            return math.inf
        if centre == 0:
            return 0.0 if self.high == self.low else math.inf
        return (self.high - self.low) / 2 / abs(centre)


@final
@dataclass(frozen=True, slots=True)
class Summary:
    """What a record keeps of its samples: location, spread and extremes."""

    n: int
    mean: float
    stdev: float
    min: float
    max: float
    p50: float
    p90: float
    p99: float
    mad: float
    iqr: float

    def get(self, statistic: str) -> float:
        """The named statistic (``p50``, ``median``, ``mean``, ...)."""
        if statistic == "median":
            statistic = "p50"
        return float(getattr(self, statistic))


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (Hyndman & Fan type 7, numpy's default) of sorted values."""
    if not sorted_values:
        raise ValueError("quantile of no samples")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile level {q} is outside [0, 1]")
    position = (len(sorted_values) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    fraction = position - below
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * fraction


def _mean(values: Sequence[float]) -> float:
    """Mean kept within [min, max]: ``fsum([x] * 5) / 5`` can miss ``x`` by an ulp."""
    return min(max(math.fsum(values) / len(values), min(values)), max(values))


def summarize(samples: Sequence[float]) -> Summary:
    """Summarise samples; a single sample gives zero spread rather than an error."""
    if not samples:
        raise ValueError("cannot summarise zero samples")
    ordered = sorted(samples)
    median = quantile(ordered, 0.5)
    deviations = sorted(abs(x - median) for x in ordered)
    return Summary(
        n=len(ordered),
        mean=_mean(ordered),
        stdev=statistics.stdev(ordered) if len(ordered) > 1 else 0.0,
        min=ordered[0],
        max=ordered[-1],
        p50=median,
        p90=quantile(ordered, 0.9),
        p99=quantile(ordered, 0.99),
        mad=quantile(deviations, 0.5),
        iqr=quantile(ordered, 0.75) - quantile(ordered, 0.25),
    )


def _binomial_cdf_table(n: int, q: float) -> tuple[int, list[float]]:
    """CDF of Binomial(n, q) on the window of ranks that carries all but ~1e-20 of the mass."""
    if q <= 0.0 or q >= 1.0:
        raise ValueError("quantile level must be strictly between 0 and 1 for an interval")
    sd = math.sqrt(n * q * (1 - q))
    start = max(0, math.floor(n * q - 12 * sd - 12))
    stop = min(n, math.ceil(n * q + 12 * sd + 12))
    log_q, log_p = math.log(q), math.log1p(-q)
    log_n_fact = math.lgamma(n + 1)
    cdf: list[float] = []
    total = 0.0
    for k in range(start, stop + 1):
        log_pmf = log_n_fact - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_q + (n - k) * log_p
        total += math.exp(log_pmf)
        cdf.append(min(total, 1.0))
    return start, cdf


def _order_statistic_ranks(n: int, q: float, confidence: float) -> tuple[int | None, int | None]:
    """1-based ranks (l, u) with P(X(l) <= quantile_q <= X(u)) >= confidence; None if none exists.

    The count B of samples below the true quantile is Binomial(n, q), and X(l) <= ξ_q <= X(u)
    exactly when l <= B <= u - 1, so each tail may hold at most (1 - confidence) / 2.
    """
    alpha_tail = (1.0 - confidence) / 2.0
    start, cdf = _binomial_cdf_table(n, q)

    def cdf_at(k: int) -> float:  # P(B <= k)
        if k < start:
            return 0.0
        if k - start >= len(cdf):
            return 1.0
        return cdf[k - start]

    lower: int | None = None
    # Largest l with P(B <= l - 1) <= alpha_tail.
    for rank in range(min(n, start + len(cdf) + 1), 0, -1):
        if cdf_at(rank - 1) <= alpha_tail:
            lower = rank
            break
    upper: int | None = None
    # Smallest u with P(B >= u) <= alpha_tail, i.e. P(B <= u - 1) >= 1 - alpha_tail.
    for rank in range(max(1, start), n + 1):
        if cdf_at(rank - 1) >= 1.0 - alpha_tail:
            upper = rank
            break
    return lower, upper


def quantile_interval(sorted_values: Sequence[float], q: float, confidence: float = 0.99) -> Interval:
    """Distribution-free interval for the ``q`` quantile from order statistics.

    With too few samples a bound does not exist (p99 needs hundreds of samples for an upper
    bound): that side is infinite, which no verdict can treat as decisive.
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("interval of no samples")
    lower, upper = _order_statistic_ranks(n, q, confidence)
    # Widen (never narrow) to the ranks around the point estimate, so that the interval always
    # contains the reported quantile: with few samples and an extreme q, the order-statistic
    # bound alone can sit beyond it (p99 of 5 samples at 90 %: [X(4), inf) with p99 < X(4)).
    position = (n - 1) * q
    if lower is not None:
        lower = min(lower, math.floor(position) + 1)
    if upper is not None:
        upper = max(upper, math.ceil(position) + 1)
    low = sorted_values[lower - 1] if lower is not None else -math.inf
    high = sorted_values[upper - 1] if upper is not None else math.inf
    return Interval(low, high, confidence)


def min_samples_for(q: float, confidence: float = 0.99) -> int:
    """The fewest samples for which the ``q`` quantile has a two-sided bounded interval."""
    tail = (1.0 - confidence) / 2.0
    extreme = max(q, 1.0 - q)
    # Both ends exist when extreme**n <= tail.
    return max(2, math.ceil(math.log(tail) / math.log(extreme)))


def _t_central_probability(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with a whole number of degrees of freedom (closed form).

    The finite series in cos²θ, θ = atan(t / √df), is exact for integer ``df`` (Abramowitz &
    Stegun 26.7.3/26.7.4), which is all a sample count can give.
    """
    theta = math.atan(t / math.sqrt(df))
    sin, cos2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 0:
        term = total = 1.0
        for k in range(1, df // 2):
            term *= cos2 * (2 * k - 1) / (2 * k)
            total += term
        return sin * total
    if df == 1:
        return 2 * theta / math.pi
    term = total = 1.0
    for k in range(1, (df - 1) // 2):
        term *= cos2 * (2 * k) / (2 * k + 1)
        total += term
    return 2 / math.pi * (theta + sin * math.cos(theta) * total)


def _t_quantile(p: float, df: int) -> float:
    """Student's t quantile for ``p`` > 0.5, by bisection on the exact distribution function."""
    if df > 400:  # indistinguishable from the Cornish-Fisher expansion here, and cheaper
        z = statistics.NormalDist().inv_cdf(p)
        return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
    target = 2 * p - 1
    low, high = 0.0, 1.0
    while _t_central_probability(high, df) < target:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        if _t_central_probability(middle, df) < target:
            low = middle
        else:
            high = middle
    return high


def mean_interval(samples: Sequence[float], confidence: float = 0.99) -> Interval:
    """Student-t interval for the mean; with fewer than 3 samples it is unbounded."""
    n = len(samples)
    if n < 3:
        return Interval(-math.inf, math.inf, confidence)
    mean = _mean(samples)
    half = _t_quantile(1 - (1 - confidence) / 2, n - 1) * statistics.stdev(samples) / math.sqrt(n)
    return Interval(mean - half, mean + half, confidence)


def interval_for(statistic: str, samples: Sequence[float], confidence: float = 0.99) -> Interval:
    """Confidence interval of a named statistic.

    ``min`` and ``max`` have no useful interval: they are reported as exact, which is what a
    user who chose them asked for (a deterministic figure such as a file size).
    """
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r} (known: {', '.join(STATISTICS)})")
    ordered = sorted(samples)
    level = STATISTICS[statistic]
    if len(ordered) > 1 and ordered[0] == ordered[-1]:
        return Interval(ordered[0], ordered[0], confidence)
    if level is not None:
        return quantile_interval(ordered, level, confidence)
    if statistic == "mean":
        return mean_interval(ordered, confidence)
    value = ordered[0] if statistic == "min" else ordered[-1]
    return Interval(value, value, confidence)


def statistic_value(statistic: str, samples: Sequence[float]) -> float:
    """Point estimate of a named statistic."""
    level = STATISTICS.get(statistic)
    ordered = sorted(samples)
    if level is not None:
        return quantile(ordered, level)
    if statistic == "mean":
        return _mean(ordered)
    if statistic == "min":
        return ordered[0]
    if statistic == "max":
        return ordered[-1]
    raise ValueError(f"unknown statistic {statistic!r} (known: {', '.join(STATISTICS)})")

