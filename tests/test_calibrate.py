"""tools/calibrate.py's sensitivity estimate, on synthetic runs (no pytest run, no timing)."""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from pathlib import Path
from types import ModuleType

from hypothesis import given
from hypothesis import strategies as st


def _load_calibrate() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "tools" / "calibrate.py"
    spec = importlib.util.spec_from_file_location("perfdata_tools_calibrate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


calibrate = _load_calibrate()


@given(st.floats(0.0, 2.0), st.integers(0, 2**32 - 1), st.integers(4, 12))
def test_the_range_holds_the_true_sensitivity_of_runs_spread_over_two_speed_modes(
    true: float, seed: int, runs: int
) -> None:
    """Runs land in a fast (70 µs) or a slow (120 µs) mode, each value off by up to ±1 %."""
    rng = random.Random(seed)
    references = [70.0, 120.0] + [rng.choice((70.0, 120.0)) * rng.uniform(0.98, 1.02) for _ in range(runs - 2)]
    pairs = [(5.0 * reference**true * rng.uniform(0.99, 1.01), reference) for reference in references]
    found = calibrate.sensitivity(pairs)
    assert found is not None
    low, high = found
    assert low <= true <= high and high - low >= 0.1  # ± 0.1 at least, less where 0 clips it


def test_no_range_when_the_reference_hardly_moved_or_there_are_too_few_runs() -> None:
    assert calibrate.sensitivity([(10 * r, r) for r in (70.0, 72.0, 75.0, 80.0, 71.0)]) is None
    assert calibrate.sensitivity([(10 * r, r) for r in (70.0, 120.0, 70.0)]) is None
    assert math.isclose(sum(calibrate.sensitivity([(10 * r, r) for r in (70.0, 120.0, 70.0, 120.0)])) / 2, 1.0,
                        abs_tol=0.06)
