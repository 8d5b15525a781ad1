"""The drift reference for process-level figures: what starting a trivial process costs right now."""

from __future__ import annotations

from typing import Final

from ..measure import DriftReference
from .process import run_bounded

__all__ = ["SPAWN_REFERENCE"]


def _spawn_true() -> None:
    run_bounded(["true"], timeout_s=10.0)


#: Process creation slows with system load (fork, exec, page faults) far more than a CPU loop
#: does, so launch-to-exit timings are corrected by this rather than by the CPU loop.
SPAWN_REFERENCE: Final = DriftReference("spawn-true", _spawn_true)
