"""What the installed plugin costs a pytest run that measures nothing: the price every user pays."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

#: Paired runs: each pair starts pytest once with the plugin and once without, in alternating order.
PAIRS = 12

TRIVIAL = "def test_trivial():\n    pass\n"


def _pytest_argv(root: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={root}",
            f"-c={root / 'pytest.ini'}", str(root / "test_trivial.py"), *extra]


def _wall_ms(argv: list[str]) -> float:
    started = time.perf_counter_ns()
    completed = subprocess.run(argv, capture_output=True, timeout=120)
    elapsed = (time.perf_counter_ns() - started) / 1e6
    assert completed.returncode == 0, completed.stdout.decode()[-2000:]
    return elapsed


def test_plugin_startup_cost(perf, tmp_path: Path) -> None:
    """Extra wall time of one trivial test's pytest run with the plugin, against its entry point disabled.

    Each pair of runs sees the same moment of the machine's load, so the per-pair differences
    carry the plugin's cost and little else; the record is their p50 with its interval, judged
    against the ``max:`` in the baselines. Bytecode is compiled by a first, unrecorded pair.
    """
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_trivial.py").write_text(TRIVIAL)
    with_plugin = _pytest_argv(tmp_path)
    without = _pytest_argv(tmp_path, "-p", "no:perfdata")
    _wall_ms(with_plugin), _wall_ms(without)
    differences = []
    for turn in range(PAIRS):
        if turn % 2:
            base, loaded = _wall_ms(without), _wall_ms(with_plugin)
        else:
            loaded, base = _wall_ms(with_plugin), _wall_ms(without)
        differences.append(loaded - base)
    record = perf.record_samples(
        "self.startup.plugin_cost", differences, unit="ms",
        notes=(f"{PAIRS} paired runs of `pytest` on one trivial test, with the plugin minus `-p no:perfdata`",),
    )
    assert record.summary.n == PAIRS
