"""Memory of a loaded policy engine, and its growth over 20,000 decisions (a leak check).

Resident cost of the engine with the admission library loaded: RSS growth of fresh processes
(``pytest_perfdata.engines.opa.footprint``, which says why RSS), because inside this
long-lived test process the allocator reuses pages earlier tests freed and "after minus
before" reads as zero.

Growth: private memory of this process (``/proc/self/smaps_rollup``) after many decisions. A
healthy engine grows at first (caches, arenas) and then stays flat, so growth is measured over
:data:`EVALUATIONS` decisions after a :data:`WARM_UP` of 5,000, and reported per 10,000.

The leak check counts decisions, never seconds: every machine makes the same number, a slower
one only takes longer. (It used to stop at a 12 s cap and then demand 10,000 decisions, so a
machine that made 9,000 in that time failed a check of memory for being slow.)
"""

from __future__ import annotations

import gc

import pytest

from opa_suite import INPUTS, POLICIES

#: Decisions judged after the warm-up. The figure is per 10,000 decisions, so it does not depend
#: on this count; the count sets how far a leak stands out from the allocator's noise. 20,000
#: take about 15 s with rego-cpp on the baseline machine, about 45 s on one three times slower.
EVALUATIONS = 20_000
WARM_UP = 5_000
BATCH = 1_000


def _private_kib() -> float:
    from pytest_perfdata.memory import process_memory

    gc.collect()
    return process_memory().private / 1024


FRESH_PROCESSES = 5


@pytest.mark.parametrize("engine_name", ["rego-cpp", "wasm", "opa-py-wasm"])
def test_loaded_memory(perf, request, policy_engines, engine_name) -> None:
    """Resident memory a fresh process gains by importing the engine, loading the library, deciding once."""
    from pytest_perfdata.engines.opa.fixtures import engine_options
    from pytest_perfdata.engines.opa.footprint import engine_footprint

    if engine_name not in policy_engines.engines:
        pytest.skip(policy_engines.missing.get(engine_name, f"{engine_name} not available"))
    policy, options = POLICIES["admission"], engine_options(request.config)
    footprints = [
        engine_footprint(engine_name, policy.files, policy.entrypoint, INPUTS["small"],
                         opa_path=options["opa_path"], bundle=options["bundle"])
        for _ in range(FRESH_PROCESSES)
    ]
    engine = footprints[0].engine
    assert engine == policy_engines.engines[engine_name].engine  # the child ran the engine we name
    perf.record_samples(
        f"opa.memory.loaded.{engine.slug}", [f.engine_bytes / 1024 for f in footprints], unit="KiB",
        statistic="mean", engine=engine,
        notes=(f"{FRESH_PROCESSES} fresh processes: resident set (RSS) after import, load and one decision, "
               f"minus before the import (interpreter alone: {footprints[0].before_bytes // 1024} KiB)",),
    )


def test_server_memory(perf, policy_engines) -> None:
    """Resident memory of the OPA server the http engine starts: each load is a fresh ``opa run``."""
    from pytest_perfdata.memory import process_memory

    if "http" not in policy_engines.engines:
        pytest.skip(policy_engines.missing.get("http", "http not available"))
    engine = policy_engines.engines["http"]
    resident = []
    for _ in range(FRESH_PROCESSES):
        with engine.load(POLICIES["admission"]) as loaded:
            loaded.evaluate(INPUTS["small"])
            if loaded.server_pid is None:
                pytest.skip("an existing server (--perf-opa-url): its memory is not ours to read")
            resident.append(process_memory(loaded.server_pid).rss / 1024)
    perf.record_samples(
        f"opa.memory.loaded.{engine.engine.slug}", resident, unit="KiB", statistic="mean", engine=engine.engine,
        notes=(f"{FRESH_PROCESSES} fresh `opa run --server` processes: resident set (RSS) after loading the "
               "library and one decision",),
    )


@pytest.mark.parametrize("engine_name", ["rego-cpp", "wasm", "opa-py-wasm", "http"])
def test_growth_over_evaluations(perf, policy_engines, engine_name) -> None:
    if engine_name not in policy_engines.engines:
        pytest.skip(policy_engines.missing.get(engine_name, f"{engine_name} not available"))
    engine = policy_engines.engines[engine_name]
    loaded = policy_engines.load(engine, POLICIES["admission"])
    label = engine.engine.slug
    review = INPUTS["small"]
    for _ in range(WARM_UP):
        loaded.evaluate(review)
    start, count = _private_kib(), 0
    while count < EVALUATIONS:
        for _ in range(BATCH):
            loaded.evaluate(review)
        count += BATCH
    growth = max(_private_kib() - start, 0.0) * 10_000 / count
    record = perf.record_value(f"opa.memory.growth_per_10k.{label}", growth, unit="KiB", engine=engine.engine,
                              notes=(f"{count} evaluations after {WARM_UP} warm-up ones",))
    assert record.value >= 0 and count >= 10_000
