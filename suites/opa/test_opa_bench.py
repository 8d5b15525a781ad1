"""Cross-check with OPA's own harness: `opa bench` on the same policy and input, beside ours.

``opa bench`` reports Go's ``testing.Benchmark`` result: iterations and total time, so its
figure is a mean per decision. Ours is measured as a mean too, for the ratio ours ÷ OPA's:
``--target wasm`` beside our Wasm runner, ``--e2e`` (a decision through OPA's HTTP server
handler) beside our http engine, and ``--target rego`` (OPA's Go evaluator) beside rego-cpp,
the other native engine here.
"""

from __future__ import annotations

import pytest

from opa_suite import INPUTS, POLICIES

#: (``opa bench`` mode, the engine of ours beside it)
CASES = {"rego": "rego-cpp", "wasm": "wasm", "e2e": "http"}


@pytest.mark.parametrize("mode", sorted(CASES))
def test_opa_bench_beside_ours(perf, opa_cli, policy_engines, mode) -> None:
    from pytest_perfdata.engines.opa import opa_bench, opa_version
    from pytest_perfdata.engines.opa.cli import opa_has_wasm_runtime
    from pytest_perfdata.record import DataSource, Engine, SourceKind

    if mode == "wasm" and not opa_has_wasm_runtime(opa_cli):
        pytest.skip(f"{opa_cli} was built without its Wasm runtime (opa version: WebAssembly unavailable)")
    policy, review = POLICIES["admission"], INPUTS["small"]
    figures = opa_bench(opa_cli, policy, review, target="wasm" if mode == "wasm" else "rego", e2e=mode == "e2e")
    bench = perf.record_value(
        f"opa.bench.admission.small.{mode}", figures["ns_per_op"] / 1e6, unit="ms",
        engine=Engine("opa", opa_version(opa_cli), f"bench-{mode}"),
        source=DataSource(SourceKind.BENCHMARK, f"opa bench {mode} (OPA's own harness)"),
        notes=(f"mean of {int(figures['N'])} iterations (Go testing.Benchmark)",),
    )
    ours_name = CASES[mode]
    if ours_name not in policy_engines.engines:
        pytest.skip(policy_engines.missing.get(ours_name, f"{ours_name} not available"))
    loaded = policy_engines.load(policy_engines.engines[ours_name], policy)
    ours = perf.measure(
        f"opa.bench_peer.admission.small.{loaded.engine.slug}", lambda: loaded.evaluate(review),
        unit="ms", statistic="mean", engine=loaded.engine, budget="2s",
    )
    ratio = perf.record_ratio(
        f"ratio.opa.bench.admission.small.{ours_name}_vs_bench-{mode}", ours, bench,
        notes=(f"mean per decision: {loaded.engine} over opa bench {mode}",),
    )
    assert ratio.value > 0
