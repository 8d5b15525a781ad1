"""The sampler's paired mode: structure only (turn order, bookkeeping), never how fast anything is."""

from __future__ import annotations

import pytest

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
