"""The sampler's rules, driven by a scripted clock: what it does follows from the script alone.

Every figure rests on ``measure.sample``: warm-up, batching of short calls, the interleaved
drift reference, the checkpoints and the stopping rule. Here time passes only when a fake
workload says so, so each count and each per-call time is known in advance and nothing
depends on how fast, or how busy, this machine is.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_perfdata.measure import (
    DriftReference,
    Measurement,
    PairedMeasurement,
    SamplingPolicy,
    StopReason,
    measure_overhead,
    sample,
    sample_paired,
)
from pytest_perfdata.stats import Interval

#: Below this a call is batched (the sampler's ``_MIN_SAMPLE_NS``), restated so a change shows here.
BATCH_BELOW_NS = 20_000
#: A call this long fills a block alone (the sampler's ``_BLOCK_NS``): one sample per block.
BLOCK_NS = 10_000_000
MS = 1_000_000


@dataclass(slots=True)
class FakeTime:
    """A machine whose wall and CPU clocks move only when a scripted workload advances them.

    ``tick`` is what one clock reading costs; zero makes every timed interval exactly the
    workload's own duration.
    """

    now: int = 0
    cpu: int = 0
    tick: int = 0
    events: list[str] = field(default_factory=list)

    def clock(self) -> int:
        """The wall clock (ns), as ``time.perf_counter_ns``."""
        value = self.now
        self.now += self.tick
        return value

    def cpu_clock(self) -> int:
        """The CPU clock (ns), which only the workload's own CPU share advances."""
        return self.cpu

    def work(self, ns: int, cpu_ns: int) -> None:
        """Spend ``ns`` of wall time, ``cpu_ns`` of it on the CPU."""
        self.now += ns
        self.cpu += cpu_ns


@dataclass(slots=True)
class Workload:
    """A callable whose every call takes the next scripted duration (the script repeats)."""

    time: FakeTime
    script: Iterator[int]
    name: str = "w"
    cpu_share: float = 0.5
    durations: list[int] = field(default_factory=list)

    def __call__(self) -> None:
        ns = next(self.script)
        self.durations.append(ns)
        self.time.events.append(self.name)
        self.time.work(ns, int(ns * self.cpu_share))

    @property
    def calls(self) -> int:
        """How many times it has been called, warm-up included."""
        return len(self.durations)


def workload(time: FakeTime, durations: Iterable[int], name: str = "w", cpu_share: float = 0.5) -> Workload:
    """A workload taking ``durations`` in turn, over and over."""
    return Workload(time, itertools.cycle(list(durations)), name, cpu_share)


def policy(**overrides: object) -> SamplingPolicy:
    """A policy with the real defaults except where a test says otherwise."""
    return SamplingPolicy(**overrides)  # type: ignore[arg-type]


def run(
    fn: Workload,
    settings_: SamplingPolicy,
    decided: Callable[[float, Interval, float | None], bool] | None = None,
) -> Measurement:
    """``sample`` on the fake clocks of ``fn``'s machine."""
    return sample(fn, settings_, decided, clock=fn.time.clock, cpu_clock=fn.time.cpu_clock)


def never(value: float, interval: Interval, reference: float | None) -> bool:
    """A provisional verdict that never settles the question."""
    return False


def always(value: float, interval: Interval, reference: float | None) -> bool:
    """A provisional verdict that settles the question at once."""
    return True


def checkpoints_from(first: int, up_to: int) -> list[int]:
    """The geometric checkpoints the module docstring promises: each 1.5 times the last, rounded up."""
    points = [first]
    while math.ceil(points[-1] * 1.5) <= up_to:
        points.append(math.ceil(points[-1] * 1.5))
    return points


# --- warm-up ----------------------------------------------------------------------------------


def test_warm_up_runs_first_and_is_not_sampled() -> None:
    """Two 50 µs warm-up calls fill a 100 µs warm-up; only the 30 µs calls after them are samples."""
    time = FakeTime()
    fn = Workload(time, itertools.chain([50_000, 50_000], itertools.repeat(30_000)))
    measured = run(fn, policy(warmup_s=100e-6, min_samples=20, max_samples=20))
    assert fn.calls == 2 + 20
    assert measured.samples_ns == (30_000.0,) * 20
    assert measured.loops == 1
    assert measured.stopped_because is StopReason.MAX_SAMPLES
    assert measured.elapsed_s == 20 * 30_000 / 1e9  # the warm-up is not part of the sampling time


def test_the_warm_up_does_not_spend_the_budget() -> None:
    """A warm-up longer than the budget still leaves the budget whole for sampling."""
    time = FakeTime()
    fn = workload(time, [MS])
    measured = run(fn, policy(warmup_s=0.02, budget_s=0.005, min_time_s=0.0, max_samples=10_000), never)
    assert fn.calls - len(measured.samples_ns) == 20  # 20 ms of 1 ms warm-up calls
    assert len(measured.samples_ns) == 10  # one block of 10 ms: the budget is checked between blocks
    assert measured.stopped_because is StopReason.BUDGET


# --- batching ---------------------------------------------------------------------------------


def test_a_short_call_is_timed_in_batches_and_divided_by_the_batch() -> None:
    """1 µs and 3 µs calls in turn: batches of 20 (from the fastest warm-up call), 2 µs per call."""
    time = FakeTime()
    fn = workload(time, [1_000, 3_000])
    measured = run(fn, policy(warmup_s=0.0, min_samples=40, max_samples=40))
    assert measured.loops == math.ceil(BATCH_BELOW_NS / 1_000) == 20
    assert fn.calls == 1 + 40 * 20  # one warm-up call, then 40 samples of 20 calls
    assert measured.samples_ns == (2_000.0,) * 40
    assert measured.cpu_ns_per_call == 1_000.0  # half of each call's wall time is CPU time


def test_batching_rounds_the_batch_up_to_the_threshold() -> None:
    time = FakeTime()
    fn = workload(time, [7_000])
    measured = run(fn, policy(warmup_s=0.0, min_samples=20, max_samples=20))
    assert measured.loops == math.ceil(BATCH_BELOW_NS / 7_000) == 3
    assert measured.samples_ns == (7_000.0,) * 20


def test_without_batching_a_short_call_is_timed_alone() -> None:
    time = FakeTime()
    fn = workload(time, [1_000])
    measured = run(fn, policy(warmup_s=0.0, min_samples=20, max_samples=20, batch=False))
    assert measured.loops == 1 and fn.calls == 1 + 20
    assert measured.samples_ns == (1_000.0,) * 20


def test_a_call_at_the_threshold_is_not_batched() -> None:
    time = FakeTime()
    fn = workload(time, [BATCH_BELOW_NS])
    assert run(fn, policy(warmup_s=0.0, min_samples=20, max_samples=20)).loops == 1


def test_each_sample_includes_the_cost_of_reading_the_clock() -> None:
    """What one reading of the timer costs lands in the sample: that is the harness overhead."""
    time = FakeTime(tick=100)
    fn = workload(time, [30_000])
    measured = run(fn, policy(warmup_s=0.0, min_samples=20, max_samples=20))
    assert measured.samples_ns == (30_100.0,) * 20


# --- the stopping rule ------------------------------------------------------------------------


def test_the_budget_stops_sampling_after_the_blocks_it_allows() -> None:
    """1 ms calls come in blocks of 10 ms; a 50 ms budget allows five blocks, whatever the machine."""
    time = FakeTime()
    fn = workload(time, [MS])
    measured = run(fn, policy(warmup_s=0.0, budget_s=0.05, min_time_s=0.0, max_samples=10_000), never)
    assert measured.stopped_because is StopReason.BUDGET
    assert measured.stopped_because == "budget"  # what callers compared with before the enum
    assert len(measured.samples_ns) == 5 * (BLOCK_NS // MS) == 50
    assert measured.elapsed_s == 0.05


def test_precise_and_decided_stops_at_the_first_checkpoint() -> None:
    """Constant times are precise at once; a decided verdict ends sampling at the first checkpoint."""
    time = FakeTime()
    fn = workload(time, [BLOCK_NS])  # one sample per block: every count can be a checkpoint
    asked: list[int] = []

    def decided(value: float, interval: Interval, reference: float | None) -> bool:
        asked.append(fn.calls - 1)
        assert value == BLOCK_NS and reference is None
        return True

    settings_ = policy(warmup_s=0.0, min_time_s=0.0, min_samples=20, budget_s=100.0)
    measured = run(fn, settings_, decided)
    assert measured.stopped_because is StopReason.PRECISE
    assert asked == [20] == [settings_.first_checkpoint]
    assert len(measured.samples_ns) == 20


def test_an_imprecise_statistic_does_not_ask_for_a_verdict() -> None:
    """Spread wider than the precision asked keeps sampling; the verdict is not consulted."""
    time = FakeTime()
    fn = workload(time, [BLOCK_NS, 2 * BLOCK_NS])
    asked: list[object] = []

    def decided(value: float, interval: Interval, reference: float | None) -> bool:
        asked.append(value)
        return True

    measured = run(
        fn, policy(warmup_s=0.0, min_time_s=0.0, precision=0.01, max_samples=60, budget_s=100.0), decided
    )
    assert measured.stopped_because is StopReason.MAX_SAMPLES and len(measured.samples_ns) == 60
    assert asked == []


def test_sampling_lasts_at_least_the_minimum_time() -> None:
    """Precise and decided from the start, it still samples 0.5 s: the first checkpoint past that time."""
    time = FakeTime()
    fn = workload(time, [BLOCK_NS])
    measured = run(fn, policy(warmup_s=0.0, min_time_s=0.5, min_samples=20, budget_s=100.0), always)
    # Checkpoints 20, 30, 45, 68: 68 samples of 10 ms is the first past 0.5 s.
    assert len(measured.samples_ns) == 68
    assert measured.stopped_because is StopReason.PRECISE


def _asked_at(settings_: SamplingPolicy) -> tuple[list[int], Measurement]:
    """Sample counts at which the sampler asked for a verdict (never decided), and what it measured."""
    time = FakeTime()
    fn = workload(time, [BLOCK_NS])
    asked: list[int] = []

    def undecided(value: float, interval: Interval, reference: float | None) -> bool:
        asked.append(fn.calls - 1)
        return False

    return asked, run(fn, settings_, undecided)


def test_checkpoints_grow_geometrically() -> None:
    """Asked at 20, 30, 45, 68, ...: a handful of looks, which keeps the optional-stopping bias small."""
    asked, measured = _asked_at(policy(warmup_s=0.0, min_time_s=0.0, min_samples=20, max_samples=1000, budget_s=100.0))
    assert asked == [20, 30, 45, 68, 102, 153, 230, 345, 518, 777] == checkpoints_from(20, 1000)
    assert measured.stopped_because is StopReason.MAX_SAMPLES and len(measured.samples_ns) == 1000


def test_the_first_checkpoint_waits_for_a_bounded_interval() -> None:
    """With min_samples below what a p99 interval needs, the first look waits for that many samples."""
    time = FakeTime()
    fn = workload(time, [BLOCK_NS])
    settings_ = policy(statistic="p99", warmup_s=0.0, min_time_s=0.0, min_samples=1, budget_s=100.0)
    measured = run(fn, settings_, always)
    assert settings_.first_checkpoint > 1
    assert len(measured.samples_ns) == settings_.first_checkpoint


def test_max_samples_caps_the_last_block() -> None:
    """A block is cut short at the cap: 1 ms calls come ten to a block, the cap of 25 is exact."""
    time = FakeTime()
    fn = workload(time, [MS])
    measured = run(fn, policy(warmup_s=0.0, min_samples=5, max_samples=25, budget_s=100.0), never)
    assert len(measured.samples_ns) == 25 and fn.calls == 1 + 25
    assert measured.stopped_because is StopReason.MAX_SAMPLES


# --- the drift reference ----------------------------------------------------------------------


def test_the_reference_is_interleaved_at_a_fifth_of_the_workload_time() -> None:
    """After each 10 ms block, a burst of the reference aimed at 2 ms: 1 call to calibrate, then 20.

    The reference is called once more before the first block (its warm-up; here 0 s, so one call).
    """
    time = FakeTime()
    fn = workload(time, [MS])
    reference = workload(time, [100_000], name="r")
    seen: list[float | None] = []

    def undecided(value: float, interval: Interval, ref: float | None) -> bool:
        seen.append(ref)
        return False

    settings_ = policy(
        warmup_s=0.0,
        budget_s=0.05,
        min_time_s=0.0,
        max_samples=10_000,
        reference=DriftReference("fake", reference),
    )
    measured = run(fn, settings_, undecided)
    bursts = [(name, len(list(group))) for name, group in itertools.groupby(time.events)]
    assert bursts == [("w", 1), ("r", 1), ("w", 10), ("r", 1)] + [("w", 10), ("r", 20)] * 4  # warm-ups, 5 blocks
    assert measured.reference_ns == (100_000.0,) * 81
    assert measured.reference_median_ns == 100_000.0
    assert seen == [100_000.0] * 3  # asked at 20, 30 and 50 samples, each time with the reference's median
    # The budget is wall time, reference included: 5 blocks of 10 ms plus 0.1 + 4 x 2 ms of reference.
    assert measured.elapsed_s == 58_100_000 / 1e9
    assert len(measured.samples_ns) == 50


def test_a_reference_burst_is_capped() -> None:
    """A reference far shorter than a fifth of a block is called at most 200 times per burst."""
    time = FakeTime()
    fn = workload(time, [MS])
    reference = workload(time, [10], name="r")
    settings_ = policy(
        warmup_s=0.0,
        budget_s=0.03,
        min_time_s=0.0,
        max_samples=10_000,
        reference=DriftReference("fake", reference),
    )
    run(fn, settings_, never)
    bursts = [len(list(group)) for name, group in itertools.groupby(time.events) if name == "r"]
    assert bursts == [1, 1, 200, 200]  # the warm-up call, then the bursts


# --- the paired mode --------------------------------------------------------------------------


def test_paired_turns_follow_the_fake_clock() -> None:
    """Each turn's ratio is the first's time over the second's; a 30 ms budget holds ten 3 ms turns."""
    time = FakeTime()
    first = workload(time, [2 * MS], name="a")
    second = workload(time, [MS], name="b")
    settings_ = policy(warmup_s=0.0, budget_s=0.03, min_time_s=0.0, max_samples=10_000)
    paired: PairedMeasurement = sample_paired(first, second, settings_, never, clock=time.clock)
    assert paired.stopped_because is StopReason.BUDGET
    assert paired.ratios == (2.0,) * 10
    assert paired.first_ns == (2.0 * MS,) * 10 and paired.second_ns == (1.0 * MS,) * 10


def test_paired_batches_each_side_by_its_own_warm_up() -> None:
    time = FakeTime()
    first = workload(time, [5_000], name="a")
    second = workload(time, [40_000], name="b")
    settings_ = policy(warmup_s=0.0, min_samples=20, max_samples=20)
    paired = sample_paired(first, second, settings_, clock=time.clock)
    assert first.calls == 1 + 20 * 4 and second.calls == 1 + 20
    assert paired.ratios == (5_000 / 40_000,) * 20
    assert paired.stopped_because is StopReason.MAX_SAMPLES


# --- the harness overhead ---------------------------------------------------------------------


def test_the_overhead_is_what_reading_the_clock_costs() -> None:
    time = FakeTime(tick=37)
    assert measure_overhead(100, clock=time.clock) == 37.0


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)  # deadline off: Hypothesis's deadline is real time
@given(
    durations=st.lists(st.integers(min_value=500, max_value=3 * MS), min_size=1, max_size=12),
    warmup_us=st.integers(min_value=0, max_value=2_000),
    min_samples=st.integers(min_value=1, max_value=60),
    extra_samples=st.integers(min_value=0, max_value=200),
    budget_ms=st.integers(min_value=1, max_value=200),
    min_time_ms=st.integers(min_value=0, max_value=50),
    precision=st.sampled_from([0.0, 0.01, 0.5, 1e9]),
    verdict=st.booleans(),
    batch=st.booleans(),
)
def test_per_call_times_are_what_the_clock_says(
    durations: list[int],
    warmup_us: int,
    min_samples: int,
    extra_samples: int,
    budget_ms: int,
    min_time_ms: int,
    precision: float,
    verdict: bool,
    batch: bool,
) -> None:
    """For any scripted durations: each sample is its calls' clock time over the batch size,
    the batch follows from the fastest warm-up call, and the stop reason matches the counts."""
    time = FakeTime()
    fn = workload(time, durations)
    settings_ = policy(
        warmup_s=warmup_us / 1e6,
        min_samples=min_samples,
        max_samples=min_samples + extra_samples,
        budget_s=budget_ms / 1e3,
        min_time_s=min_time_ms / 1e3,
        precision=precision,
        batch=batch,
    )
    measured = run(fn, settings_, lambda value, interval, reference: verdict)
    samples, loops = measured.samples_ns, measured.loops

    warm = fn.durations[: fn.calls - len(samples) * loops]
    assert sum(warm) >= warmup_us * 1_000  # the warm-up lasts as long as asked ...
    assert len(warm) == 1 or sum(warm[:-1]) < warmup_us * 1_000  # ... and no call longer
    fastest = min(warm)
    assert loops == (math.ceil(BATCH_BELOW_NS / fastest) if batch and fastest < BATCH_BELOW_NS else 1)
    timed = fn.durations[len(warm) :]
    assert list(samples) == [sum(timed[i * loops : (i + 1) * loops]) / loops for i in range(len(samples))]

    assert 1 <= len(samples) <= settings_.max_samples
    elapsed_ns = sum(timed)
    assert measured.elapsed_s == elapsed_ns / 1e9
    if measured.stopped_because is StopReason.PRECISE:
        assert verdict and len(samples) >= settings_.first_checkpoint >= min_samples
        assert elapsed_ns >= min_time_ms * MS
    elif measured.stopped_because is StopReason.MAX_SAMPLES:
        assert len(samples) == settings_.max_samples
    else:
        assert measured.stopped_because is StopReason.BUDGET
        assert elapsed_ns >= budget_ms * MS and len(samples) < settings_.max_samples


@settings(max_examples=40, deadline=None)
@given(min_samples=st.integers(min_value=1, max_value=120), extra=st.integers(min_value=0, max_value=400))
def test_verdicts_are_asked_at_geometric_checkpoints(min_samples: int, extra: int) -> None:
    """Whatever the minimum, the looks are the first checkpoint and then 1.5 times the last, to the cap."""
    settings_ = policy(
        warmup_s=0.0, min_time_s=0.0, min_samples=min_samples, max_samples=min_samples + extra, budget_s=1e4
    )
    asked, measured = _asked_at(settings_)
    first = settings_.first_checkpoint
    expected = checkpoints_from(first, settings_.max_samples) if first <= settings_.max_samples else []
    assert asked == expected
    assert len(measured.samples_ns) == settings_.max_samples


@pytest.mark.parametrize("reason", list(StopReason))
def test_stop_reasons_are_the_strings_reports_have_always_used(reason: StopReason) -> None:
    assert reason == reason.value and reason.value in {"precise", "max-samples", "budget"}
