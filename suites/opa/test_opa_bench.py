"""Cross-check with OPA's own harness: `opa bench` on the same policy and input, beside ours."""

from __future__ import annotations

import pytest

from opa_suite import INPUTS, POLICIES


@pytest.mark.parametrize("target", ["rego", "wasm"])
def test_opa_bench_beside_ours(perf, request, target) -> None:
    from pytest_perfdata.engines.opa import PolicyUnavailable, find_opa, opa_bench, opa_version
    from pytest_perfdata.record import DataSource, Engine, SourceKind

    try:
        opa = find_opa(request.config.getoption("perf_opa"))
    except PolicyUnavailable as reason:
        pytest.skip(f"opa bench not run: {reason}")
    figures = opa_bench(opa, POLICIES["admission"], INPUTS["small"], target=target)
    engine = Engine("opa", opa_version(opa), f"bench-{target}")
    perf.record_value(f"opa.bench.admission.small.{target}", figures["ns_per_op"] / 1e6, unit="ms", engine=engine,
                      source=DataSource(SourceKind.BENCHMARK, f"opa bench --target {target} (OPA's own harness)"))
