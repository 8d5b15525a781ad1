"""Sampling: warm-up, batching of tiny calls, adaptive sample count, interleaved drift reference.

The sampler knows nothing of baselines. It asks a ``decided`` callback, at a few geometrically
spaced checkpoints, whether the samples so far settle the question; the caller (the ``perf``
fixture) answers with a provisional verdict. Checking at a handful of checkpoints rather than
after every sample keeps the optional-stopping bias small.

Every reading of time goes through a ``clock`` (and, for CPU time, a ``cpu_clock``) that the
caller may replace, so that the sampler's rules can be tested against a scripted clock instead
of the machine's speed. The real clocks are bound to local names before any timed region.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import math
import resource
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias, final

from ._defaults import BUDGET_S, CONFIDENCE
from .record import CPU_REFERENCE_KIND
from .stats import STATISTICS, Interval, interval_for, min_samples_for, quantile, statistic_value

__all__ = [
    "CPU_REFERENCE",
    "Clock",
    "DriftReference",
    "Measurement",
    "PairedMeasurement",
    "SamplingPolicy",
    "StopReason",
    "measure_overhead",
    "paired_reference",
    "reference_kernel",
    "sample",
    "sample_paired",
]

#: Calls shorter than this are timed in batches so that timer cost stays a small fraction.
_MIN_SAMPLE_NS: Final = 20_000
#: Workload time between two bursts of the reference kernel.
_BLOCK_NS: Final = 10_000_000
#: Share of the workload's time spent on the reference kernel.
_REFERENCE_SHARE: Final = 0.2
#: Each checkpoint is this many times the previous one (rounded up).
_CHECKPOINT_GROWTH: Final = 1.5

#: A monotonic counter in nanoseconds, such as ``time.perf_counter_ns``: injectable so that
#: tests can script time instead of depending on how fast the machine is.
Clock: TypeAlias = Callable[[], int]


class StopReason(str, enum.Enum):
    """Why sampling ended: a report says whether a figure is as precise as asked or was cut short."""

    PRECISE = "precise"  # precise (and decided, when asked) at a checkpoint
    MAX_SAMPLES = "max-samples"  # the sample cap was reached first
    BUDGET = "budget"  # the time budget was spent first


def reference_kernel() -> int:
    """Fixed pure-Python work (~50 µs): its speed tracks this machine's speed right now.

    Timed between the workload's samples, it lets a verdict divide out drift that affects
    both (frequency scaling, a busy neighbour), which is what makes A/A re-runs agree.
    """
    acc = 0
    for i in range(1500):
        acc = (acc * 31 + i) % 1_000_003
    return acc


@final
@dataclass(frozen=True, slots=True)
class DriftReference:
    """Fixed work timed between a workload's samples, named so that only like is compared.

    The default times a pure-Python loop (machine and interpreter speed). Work dominated by
    something else (process creation, I/O) gets a reference of its own kind, such as spawning
    ``/bin/true`` for process-level cold starts.
    """

    name: str
    fn: Callable[[], object]


CPU_REFERENCE: Final = DriftReference(CPU_REFERENCE_KIND, reference_kernel)


def time_reference(reference: DriftReference = CPU_REFERENCE, samples: int = 31,
                   clock: Callable[[], int] = time.perf_counter_ns) -> list[float]:
    """``samples`` timings of the drift reference, in ns: for figures timed by someone else.

    A harness that is not ours (pytest-benchmark) cannot interleave the reference with its
    rounds; timing it just before and just after them still tells how fast this process and
    this moment are, which is what lets a verdict tell a slower machine from a slower workload.
    """
    timings = []
    for _ in range(samples):
        started = clock()
        reference.fn()
        timings.append(float(clock() - started))
    return timings


@final
@dataclass(frozen=True, slots=True)
class SamplingPolicy:
    """How long and how precisely to sample one metric."""

    statistic: str = "p50"
    confidence: float = CONFIDENCE
    precision: float = 0.01  # stop once the interval's half-width is within 1 % of the value
    budget_s: float = BUDGET_S  # wall-clock budget for sampling one metric (warm-up excluded)
    warmup_s: float = 0.05
    min_time_s: float = 0.1  # sample at least this long, so a passing burst of noise averages out
    min_samples: int = 20
    max_samples: int = 200_000
    batch: bool = True  # allow timing several calls per sample when one call is very short
    reference: DriftReference | None = None  # the drift reference to interleave (None: none)
    collect_garbage: bool = True  # leave the cyclic GC on while timing (off: pauses excluded)

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise ValueError(f"unknown statistic {self.statistic!r} (known: {', '.join(STATISTICS)})")
        if not 0.5 <= self.confidence < 1.0:
            raise ValueError(f"confidence must be in [0.5, 1), got {self.confidence}")
        if self.budget_s <= 0 or self.min_samples < 1 or self.max_samples < self.min_samples:
            raise ValueError("budget must be positive and 1 <= min_samples <= max_samples")

    @property
    def first_checkpoint(self) -> int:
        """Samples needed before the statistic can have a bounded interval at all."""
        level = STATISTICS[self.statistic]
        needed = min_samples_for(level, self.confidence) if level is not None else 3
        return max(self.min_samples, needed)


@final
@dataclass(frozen=True, slots=True)
class Measurement:
    """Raw outcome of sampling: per-call times in nanoseconds and how they were obtained."""

    samples_ns: tuple[float, ...]
    loops: int
    cpu_ns_per_call: float
    reference_ns: tuple[float, ...]
    peak_memory_bytes: int | None
    stopped_because: StopReason
    elapsed_s: float
    #: Per block of samples, in time order: (samples in the block, the reference's time beside it).
    reference_pairs: tuple[tuple[int, float], ...] = ()

    @property
    def reference_median_ns(self) -> float | None:
        """The drift reference's median (None: no reference was timed)."""
        return quantile(sorted(self.reference_ns), 0.5) if self.reference_ns else None

    def paired_reference_ns(self, statistic: str) -> float | None:
        """The reference time a verdict divides out: see :func:`paired_reference`."""
        if not self.reference_pairs:
            return self.reference_median_ns
        return paired_reference(self.samples_ns, self.reference_pairs, statistic)


def paired_reference(samples_ns: Sequence[float], pairs: Sequence[tuple[int, float]], statistic: str) -> float:
    """The reference time at which ``statistic(samples) / reference`` is the drift-corrected figure.

    Each sample is divided by the reference timed beside its own block (the mean of the bursts
    just before and just after it), and the statistic is taken of those ratios. On a machine
    whose speed jumps between modes within one run (here ×1.7, from one second to the next),
    the median of all workload samples and the median of all reference timings can land in
    different modes; block by block, each sample is corrected by the speed of its own moment.
    Returned as a time, ``statistic(samples) / statistic(ratios)``, so that a stored figure and
    its ``reference`` keep their meaning.
    """
    ratios: list[float] = []
    start = 0
    for count, reference in pairs:
        ratios.extend(sample / reference for sample in samples_ns[start:start + count])
        start += count
    corrected = statistic_value(statistic, ratios)
    return statistic_value(statistic, samples_ns[:start]) / corrected if corrected > 0 else 0.0


def _bracketing(burst_medians: Sequence[float], blocks: Sequence[int]) -> tuple[tuple[int, float], ...]:
    """(samples, reference) per block: block ``j`` lies between bursts ``j - 1`` and ``j``."""
    pairs = []
    for j, count in enumerate(blocks):
        after = burst_medians[j]
        before = burst_medians[j - 1] if j > 0 else after
        pairs.append((count, (before + after) / 2))
    return tuple(pairs)


def _cpu_ns() -> int:
    """CPU time of this process and its waited-for children, in ns: work done in a child counts too."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return int(seconds * 1e9)


def _timed_block(
    fn: Callable[[], object],
    loops: int,
    count: int,
    out: list[float],
    clock: Clock = time.perf_counter_ns,
) -> None:
    """Append ``count`` samples (ns per call) to ``out``. Kept minimal: this is the overhead.

    ``clock`` arrives as a local name, so the timed region costs what it did with the clock
    looked up here: one local load per reading.
    """
    append = out.append
    if loops == 1:
        for _ in range(count):
            start = clock()
            fn()
            append(clock() - start)
    else:
        loop_range = range(loops)
        for _ in range(count):
            start = clock()
            for _ in loop_range:
                fn()
            append((clock() - start) / loops)


def measure_overhead(samples: int = 20_000, clock: Clock = time.perf_counter_ns) -> float:
    """Median cost in ns of one sample of a no-op: the harness's own overhead per sample."""
    out: list[float] = []

    def noop() -> None:
        return None

    _timed_block(noop, 1, 1000, out, clock)  # warm the loop
    out.clear()
    _timed_block(noop, 1, samples, out, clock)
    return quantile(sorted(out), 0.5)


DecidedCallback = Callable[[float, Interval, "float | None"], bool]


def _calibrate(fn: Callable[[], object], policy: SamplingPolicy, clock: Clock) -> tuple[int, int]:
    """Warm up; return (calls per sample, samples per block) from the fastest warm-up call.

    The fastest call, not the mean, sizes the batch: a warm-up call slowed by a cold cache
    or a pause would otherwise leave a short call timed alone, mostly measuring the timer.
    """
    warm_start = clock()
    warm: list[float] = []
    while True:
        _timed_block(fn, 1, 1, warm, clock)
        if clock() - warm_start >= _ns(policy.warmup_s):
            break
    per_call = min(warm)
    loops = 1
    if policy.batch and per_call < _MIN_SAMPLE_NS:
        loops = max(1, math.ceil(_MIN_SAMPLE_NS / max(per_call, 1.0)))
    block = max(1, min(1000, int(_BLOCK_NS / max(per_call * loops, 1.0))))
    return loops, block


def _ns(seconds: float) -> int:
    """Seconds as whole nanoseconds: 123e-6 * 1e9 is 123000.00000000001, and a clock reading
    of exactly 123000 ns must count as having reached it."""
    return round(seconds * 1e9)


def _warm(fn: Callable[[], object], seconds: float, clock: Clock) -> None:
    """Call ``fn`` for ``seconds``: the reference runs warm, as the workload does after its warm-up.

    CPython specializes a function's bytecode only after it has run a few times. A reference
    timed cold in its first bursts reads slower than later, and a short run (a save samples for
    0.1 s, about ten bursts) would then store a corrected figure several per cent too low.
    """
    started = clock()
    while True:
        fn()
        if clock() - started >= _ns(seconds):
            break


@contextlib.contextmanager
def _collector_as_asked(policy: SamplingPolicy) -> Iterator[None]:
    """Collect garbage before timing, and pause the cyclic collector meanwhile if the policy says so."""
    gc.collect()
    was_on = gc.isenabled()
    if not policy.collect_garbage:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _settled(
    policy: SamplingPolicy, samples: list[float], elapsed_ns: float, decided: DecidedCallback | None,
    reference: float | None,
) -> bool:
    """Whether sampling may stop: the statistic is precise, the minimum time is spent, the verdict decided."""
    ordered = sorted(samples)  # sorted once: the statistics re-sort it in linear time
    value = statistic_value(policy.statistic, ordered)
    interval = interval_for(policy.statistic, ordered, policy.confidence)
    precise = interval.relative_half_width(value) <= policy.precision
    long_enough = elapsed_ns >= _ns(policy.min_time_s)
    return precise and long_enough and (decided is None or decided(value, interval, reference))


def sample(
    fn: Callable[[], object],
    policy: SamplingPolicy,
    decided: DecidedCallback | None = None,
    memory: bool = False,
    *,
    clock: Clock = time.perf_counter_ns,
    cpu_clock: Clock = _cpu_ns,
) -> Measurement:
    """Sample ``fn`` until its statistic is precise (and decided), or the budget runs out.

    ``clock`` times everything (warm-up, batches, the budget, each sample) and ``cpu_clock``
    the CPU time per call; both default to the real clocks and are replaced only in tests.
    """
    loops, block = _calibrate(fn, policy, clock)
    if policy.reference is not None:
        _warm(policy.reference.fn, policy.warmup_s / 2, clock)
    samples: list[float] = []
    reference: list[float] = []
    burst_medians: list[float] = []  # one per burst of the reference, in time order
    blocks: list[int] = []  # samples per block of the workload, in time order
    reference_block = 1
    checkpoint = policy.first_checkpoint
    cpu_spent = 0
    calls = 0
    budget_ns = _ns(policy.budget_s)
    reason = StopReason.BUDGET
    with _collector_as_asked(policy):
        start = clock()
        while True:
            count = min(block, policy.max_samples - len(samples))
            cpu_before = cpu_clock()
            block_start = clock()
            _timed_block(fn, loops, count, samples, clock)
            block_ns = clock() - block_start
            cpu_spent += cpu_clock() - cpu_before
            calls += count * loops
            if policy.reference is not None:
                ref_start = clock()
                _timed_block(policy.reference.fn, 1, reference_block, reference, clock)
                ref_ns = clock() - ref_start
                blocks.append(count)
                burst_medians.append(quantile(sorted(reference[-reference_block:]), 0.5))
                # Aim the next burst at the target share of the workload's time.
                wanted = block_ns * _REFERENCE_SHARE
                reference_block = max(1, min(200, int(reference_block * wanted / max(ref_ns, 1))))
            if len(samples) >= checkpoint:
                checkpoint = math.ceil(checkpoint * _CHECKPOINT_GROWTH)
                ref = (paired_reference(samples, _bracketing(burst_medians, blocks), policy.statistic)
                       if blocks else None)
                if _settled(policy, samples, clock() - start, decided, ref):
                    reason = StopReason.PRECISE
                    break
            if len(samples) >= policy.max_samples:
                reason = StopReason.MAX_SAMPLES
                break
            if clock() - start >= budget_ns:
                break
    elapsed = (clock() - start) / 1e9

    peak: int | None = None
    if memory:
        peak = _peak_python_memory(fn)
    return Measurement(
        samples_ns=tuple(samples),
        loops=loops,
        cpu_ns_per_call=cpu_spent / max(calls, 1),
        reference_ns=tuple(reference),
        reference_pairs=_bracketing(burst_medians, blocks),
        peak_memory_bytes=peak,
        stopped_because=reason,
        elapsed_s=elapsed,
    )


def _peak_python_memory(fn: Callable[[], object]) -> int:
    """Peak Python heap allocated during one call (tracemalloc; native allocations not seen)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        return max(0, peak - base)
    finally:
        if not was_tracing:
            tracemalloc.stop()


@final
@dataclass(frozen=True, slots=True)
class PairedMeasurement:
    """Two callables timed in alternating turns: per-turn times and their ratios."""

    ratios: tuple[float, ...]  # first ÷ second, one per turn
    first_ns: tuple[float, ...]
    second_ns: tuple[float, ...]
    stopped_because: StopReason


def sample_paired(
    first: Callable[[], object],
    second: Callable[[], object],
    policy: SamplingPolicy,
    decided: DecidedCallback | None = None,
    *,
    clock: Clock = time.perf_counter_ns,
) -> PairedMeasurement:
    """Time ``first`` and ``second`` in turns (AB, BA, AB, ...); sample the ratio of each turn.

    Two figures measured one after the other see different moments of a shared machine, and
    their ratio inherits every burst of load in between. Timed in the same turn, both sides of
    each ratio see the same moment, so the load cancels in the ratio and its interval is honest.
    The order alternates so that neither side always runs on caches the other one warmed.
    ``clock`` times everything, as in :func:`sample`.
    """
    loops_first, _ = _calibrate(first, policy, clock)
    loops_second, _ = _calibrate(second, policy, clock)
    times_first: list[float] = []
    times_second: list[float] = []
    ratios: list[float] = []
    checkpoint = policy.first_checkpoint
    budget_ns = _ns(policy.budget_s)
    reason = StopReason.BUDGET
    with _collector_as_asked(policy):
        start = clock()
        while True:
            if len(ratios) % 2 == 0:
                _timed_block(first, loops_first, 1, times_first, clock)
                _timed_block(second, loops_second, 1, times_second, clock)
            else:
                _timed_block(second, loops_second, 1, times_second, clock)
                _timed_block(first, loops_first, 1, times_first, clock)
            ratios.append(times_first[-1] / max(times_second[-1], 1.0))
            if len(ratios) >= checkpoint:
                checkpoint = math.ceil(checkpoint * _CHECKPOINT_GROWTH)
                if _settled(policy, ratios, clock() - start, decided, None):
                    reason = StopReason.PRECISE
                    break
            if len(ratios) >= policy.max_samples:
                reason = StopReason.MAX_SAMPLES
                break
            if clock() - start >= budget_ns:
                break
    return PairedMeasurement(
        ratios=tuple(ratios),
        first_ns=tuple(times_first),
        second_ns=tuple(times_second),
        stopped_because=reason,
    )
