"""Every engine here: decisions agree (with each other and with an oracle), cost side by side.

A disagreement fails with the input that shows it (Hypothesis shrinks it). Figures of engines
that decide wrongly would mean nothing, so agreement is checked on the same policies first.
"""

from __future__ import annotations

import itertools
import json

import pytest
from admission import EDGE_CASES, admission_reviews, expected_denials, fired_rules
from hypothesis import HealthCheck, given, settings

from opa_suite import INPUTS, POLICIES


def _decide(loaded, review) -> set[str]:
    return fired_rules(loaded.evaluate(review)["deny"])


@pytest.fixture(scope="module")
def loaded_admission(policy_engines):
    if not policy_engines.engines:
        pytest.skip("; ".join(policy_engines.missing.values()))
    return {name: policy_engines.load(engine, POLICIES["admission"]) for name, engine in policy_engines.engines.items()}


def _check_agreement(loaded_admission, review, what: str) -> None:
    """Every engine's answer and the oracle's are the same set of fired rules; else say who said what."""
    expected = expected_denials(review)
    decisions = {name: _decide(loaded, review) for name, loaded in loaded_admission.items()}
    wrong = {name: sorted(answer) for name, answer in decisions.items() if answer != expected}
    assert not wrong, (
        f"{what}: engines disagree with the oracle ({sorted(expected)}): {wrong}; "
        f"agreeing: {sorted(set(decisions) - set(wrong))}; input: {json.dumps(review)[:4000]}"
    )


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_cases_agree_with_the_oracle(loaded_admission, case) -> None:
    _check_agreement(loaded_admission, EDGE_CASES[case], f"edge case {case}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(review=admission_reviews("small") | admission_reviews("large"))
def test_generated_reviews_agree(loaded_admission, review) -> None:
    _check_agreement(loaded_admission, review, "generated review")


#: Samples per record: a p99 needs 528 for a bounded 99 % interval, which the small input (under a
#: millisecond) gets within the budget; the large one takes up to 60 ms, and is judged on its p50.
MIN_SAMPLES = {"small": 528, "large": 20}


def test_engines_side_by_side(perf, policy_engines, loaded_admission) -> None:
    """Latency of the combined policy under each engine (judged on p50; p90 and p99 in its summary), and ratios.

    Each ratio ``a_vs_b`` is a's time over b's, timed in alternating turns; among them
    ``opa-py-wasm_vs_wasm`` is how many times longer the maintained SDK takes than our runner.
    """
    for name, reason in policy_engines.missing.items():
        perf.runtime(f"{name} (not run)", reason[:80])
    for size in ("small", "large"):
        for loaded in (loaded_admission[name] for name in sorted(loaded_admission)):
            engine = loaded.engine
            review = INPUTS[size]
            perf.measure(
                f"opa.compare.admission.{size}.{engine.slug}", lambda: loaded.evaluate(review),
                unit="ms", engine=engine, budget="3s", min_samples=MIN_SAMPLES[size])
        for first, second in itertools.combinations(sorted(loaded_admission), 2):
            a, b, review = loaded_admission[first], loaded_admission[second], INPUTS[size]
            perf.compare(f"ratio.opa.admission.{size}.{first}_vs_{second}",
                         lambda: a.evaluate(review), lambda: b.evaluate(review), engines=(a.engine, b.engine),
                         budget="3s")
    if len(loaded_admission) < 2:
        pytest.skip(f"only {', '.join(loaded_admission)} here: " + "; ".join(policy_engines.missing.values()))


#: Enough compiles for a bounded 99 % interval of the median (at least 9 are needed).
COMPILES = 12


def test_compile_time_and_size(perf, policy_engines) -> None:
    """Compiling the policy library, per engine; the artefact's size where there is one (Wasm)."""
    if not policy_engines.engines:
        pytest.skip("; ".join(policy_engines.missing.values()))
    for name, engine in sorted(policy_engines.engines.items()):
        compiles = []
        for _ in range(COMPILES):
            loaded = policy_engines.load(engine, POLICIES["admission"])
            compiles.append(loaded.compile_seconds * 1000)
            loaded.close()  # twelve live policies (twelve OPA servers over HTTP) help nobody
        label = engine.engine.slug
        perf.record_samples(f"opa.compile.admission.{label}", compiles, unit="ms", engine=engine.engine)
        if loaded.artefact_bytes is not None:
            perf.record_value(f"opa.size.admission.{label}", loaded.artefact_bytes / 1024, unit="KiB",
                              engine=engine.engine)
