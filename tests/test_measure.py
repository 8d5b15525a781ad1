"""The sampler's paired mode: structure only (turn order, bookkeeping), never how fast anything is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata.measure import SamplingPolicy, sample_paired

FAST = SamplingPolicy(budget_s=0.05, warmup_s=0.001, min_time_s=0.0, min_samples=20, batch=False)


def test_turns_alternate_the_order() -> None:
    """AB, BA, AB, ...: neither side always runs second, on caches the other warmed."""
    calls: list[str] = []
    policy = SamplingPolicy(budget_s=10.0, warmup_s=0.0, min_time_s=0.0, min_samples=20, max_samples=20, batch=False)
    paired = sample_paired(lambda: calls.append("a"), lambda: calls.append("b"), policy)
    turns = calls[-40:]  # the last 20 turns, after the warm-up calls
    assert [turns[i : i + 2] for i in range(0, 40, 2)] == [["a", "b"], ["b", "a"]] * 10
    assert len(paired.ratios) == len(paired.first_ns) == len(paired.second_ns) == 20
    assert paired.stopped_because == "max-samples"


def test_each_ratio_is_its_own_turn() -> None:
    paired = sample_paired(lambda: None, lambda: sum(range(50)), FAST)
    for ratio, first, second in zip(paired.ratios, paired.first_ns, paired.second_ns):
        assert ratio == pytest.approx(first / max(second, 1.0))


def test_an_undecided_verdict_keeps_sampling_to_the_cap() -> None:
    """While the provisional verdict cannot tell, sampling goes on until a cap ends it."""
    asked: list[float | None] = []

    def undecided(value: float, interval: object, reference: float | None) -> bool:
        asked.append(reference)
        return False

    capped = SamplingPolicy(
        budget_s=30.0, warmup_s=0.001, min_time_s=0.0, min_samples=20, max_samples=300, precision=1e9, batch=False
    )
    paired = sample_paired(lambda: None, lambda: None, capped, undecided)
    assert paired.stopped_because == "max-samples" and len(paired.ratios) == 300
    assert asked and set(asked) == {None}  # asked at every checkpoint; a paired ratio has no drift reference


def test_time_reference_times_each_call_with_the_given_clock() -> None:
    from pytest_perfdata.measure import DriftReference, time_reference

    ticks = iter(range(0, 1000, 10))  # every reading 10 ns after the last: each call "takes" 10 ns
    calls = []
    timings = time_reference(DriftReference("test", lambda: calls.append(1)), samples=5, clock=lambda: next(ticks))
    assert timings == [10.0] * 5 and len(calls) == 5


def test_a_run_split_between_two_speed_modes_is_corrected_block_by_block() -> None:
    """Measured here: the machine jumps between modes ×1.7 apart (reference ~70 µs and ~120 µs).

    A run with 11 blocks fast and 9 slow has its workload median in the fast mode; if the
    reference timings are 9 fast bursts to 11 slow ones, their median is in the slow mode, and
    dividing the one median by the other makes the loop look 1.7× faster than it is. Pairing
    each block with its own reference recovers the true 10 references per call.
    """
    from pytest_perfdata.measure import paired_reference

    modes = [70.0] * 11 + [120.0] * 9
    samples = [10 * ref * (1 + 0.001 * i) for ref in modes for i in range(8)]
    pairs = [(8, ref) for ref in modes]
    reference = paired_reference(samples, pairs, "p50")
    assert sorted(samples)[len(samples) // 2] / reference == pytest.approx(10.0, rel=0.01)


@given(st.lists(st.tuples(st.integers(1, 50), st.floats(10.0, 1000.0)), min_size=1, max_size=30),
       st.floats(0.1, 100.0), st.sampled_from(["p50", "p90", "mean", "min"]))
def test_a_workload_that_follows_its_reference_exactly_reads_the_same_in_any_mix_of_modes(
    blocks: list[tuple[int, float]], per_reference: float, statistic: str
) -> None:
    from pytest_perfdata.measure import paired_reference
    from pytest_perfdata.stats import statistic_value

    samples = [per_reference * ref for count, ref in blocks for _ in range(count)]
    reference = paired_reference(samples, blocks, statistic)
    assert statistic_value(statistic, samples) / reference == pytest.approx(per_reference, rel=1e-9)
