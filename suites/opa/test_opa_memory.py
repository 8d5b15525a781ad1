"""Memory of a loaded policy engine, and its growth over 100,000 evaluations (a leak check).

Private memory of this process (``/proc/self/smaps_rollup``) before and after: what loading
the policy library costs, and how much is still held after many decisions. A healthy engine
grows at first (caches, arenas) and then stays flat, so growth is measured over the last
evaluations after a 5,000-evaluation warm-up, and reported per 10,000 evaluations (so a slow
engine that stopped at the time cap is still comparable).
"""

from __future__ import annotations

import gc
import time

import pytest

from opa_suite import INPUTS, POLICIES

EVALUATIONS = 100_000
WARM_UP = 5_000
TIME_CAP_S = 12.0  # a slow engine stops earlier; the record says how many evaluations it made


def _private_kib() -> float:
    from pytest_perfdata.memory import process_memory

    gc.collect()
    return process_memory().private / 1024


@pytest.mark.parametrize("engine_name", ["rego-cpp", "opa-go", "wasm", "http"])
def test_loaded_memory_and_leak(perf, policy_engines, engine_name) -> None:
    if engine_name not in policy_engines.engines:
        pytest.skip(policy_engines.missing.get(engine_name, f"{engine_name} not available"))
    engine = policy_engines.engines[engine_name]
    before = _private_kib()
    loaded = policy_engines.load(engine, POLICIES["admission"])
    label = f"{engine.engine.name}-{engine.engine.mode}"
    perf.record_value(f"opa.memory.loaded.{label}", max(_private_kib() - before, 0.0), unit="KiB",
                      engine=engine.engine, notes=("private memory growth of this process when loading",))
    review = INPUTS["small"]
    for _ in range(WARM_UP):
        loaded.evaluate(review)
    start, count, began = _private_kib(), 0, time.perf_counter()
    while count < EVALUATIONS - WARM_UP and time.perf_counter() - began < TIME_CAP_S:
        for _ in range(1000):
            loaded.evaluate(review)
        count += 1000
    growth = max(_private_kib() - start, 0.0) * 10_000 / count
    record = perf.record_value(f"opa.memory.growth_per_10k.{label}", growth, unit="KiB", engine=engine.engine,
                              notes=(f"{count} evaluations after {WARM_UP} warm-up ones",))
    assert record.value >= 0 and count >= 10_000
