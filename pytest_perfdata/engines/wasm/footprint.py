"""Memory per live Wasm instance and instance density, measured in a fresh interpreter.

The child compiles the module, runs one instance to warm the runtime's lazily built state,
then keeps creating instances (each after its ``_start`` has run) in batches, reading its own
private memory (``/proc/self/smaps_rollup``) after each batch. Private memory, not RSS: the
engine's shared code is mapped once whatever the number of instances, which is the point of
density. In the long test process the same ramp read 4 KiB per instance in one session and
15 KiB in another, depending on how much memory earlier tests had freed (see :mod:`.fresh`).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

from ...memory import process_memory
from ...provenance import Engine
from ..fresh import answer_fresh, run_fresh

__all__ = ["InstanceRamp", "instance_ramp"]


@final
@dataclass(frozen=True, slots=True)
class InstanceRamp:
    """What a fresh process held while it kept instances alive, batch by batch."""

    engine: Engine
    per_instance_bytes: tuple[float, ...]  # private memory growth per instance, one figure per batch
    instances: int
    held_bytes: int  # private memory growth from before the first batch to the end
    stopped: str  # why the ramp ended: the cap, the memory budget, or a failed instantiation


def instance_ramp(
    wasm: Path, *, consume_fuel: bool, batch: int, cap: int, budget_bytes: int, timeout_s: float = 300.0
) -> InstanceRamp:
    """Ramp live instances of ``wasm`` in a fresh interpreter until ``cap`` or ``budget_bytes``."""
    job = {"wasm": str(wasm), "consume_fuel": consume_fuel, "batch": batch, "cap": cap, "budget": budget_bytes}
    answer = run_fresh(__name__, job, label="wasm instance ramp", timeout_s=timeout_s)
    return InstanceRamp(
        Engine.from_dict(answer["engine"]), tuple(answer["per_instance"]), answer["instances"], answer["held"], answer["stopped"]
    )


def _private_now() -> int:
    gc.collect()
    return process_memory().private


def _child(job: dict[str, Any]) -> dict[str, Any]:
    from .protocol import Limits, WasmError, WasmLimitExceeded
    from .wasmtime_embedded import WasmtimeEmbedded

    embedded = WasmtimeEmbedded(consume_fuel=job["consume_fuel"])
    limits = Limits() if job["consume_fuel"] else Limits(fuel=None)
    module = embedded.compile(Path(job["wasm"]).read_bytes())
    warm = embedded.instantiate(module, limits)
    embedded.call(warm, "_start")
    alive: list[object] = []
    per_instance: list[float] = []
    start = before = _private_now()
    stopped = f"cap of {job['cap']} instances reached"
    while len(alive) < job["cap"]:
        try:
            for _ in range(job["batch"]):
                instance = embedded.instantiate(module, limits)
                embedded.call(instance, "_start")
                alive.append(instance)
        except (WasmError, WasmLimitExceeded, MemoryError) as error:
            stopped = f"instantiation failed after {len(alive)} instances: {error}"
            break
        now = _private_now()
        per_instance.append((now - before) / job["batch"])
        before = now
        if now - start >= job["budget"]:
            stopped = f"memory budget of {job['budget'] // 1024**2} MiB reached"
            break
    return {
        "engine": embedded.engine.to_dict(),
        "per_instance": per_instance,
        "instances": len(alive),
        "held": max(_private_now() - start, 1),
        "stopped": stopped,
    }


if __name__ == "__main__":
    answer_fresh(_child)
