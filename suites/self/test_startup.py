"""What the installed plugin costs a pytest run that measures nothing: the price every user pays."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

#: Paired runs: each pair starts pytest once with the plugin and once without, in alternating order.
PAIRS = 16

TRIVIAL = "def test_trivial():\n    pass\n"


def _pytest_argv(root: Path, *extra: str) -> list[str]:
    # Hypothesis's plugin is left out of both sides: its import is most of a trivial run's time
    # and most of its spread, and it is not ours (as in the collection-cost test).
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", f"--rootdir={root}",
            f"-c={root / 'pytest.ini'}", str(root / "test_trivial.py"), *extra]


def _cost_ms(argv: list[str]) -> tuple[float, float]:
    """CPU time (user + system) and wall time of one pytest process, in ms.

    CPU time is what the plugin costs the run; on a shared machine it is far less disturbed by
    other load than wall time, which also counts the time the process waited for a core.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter_ns()
    completed = subprocess.run(argv, capture_output=True, timeout=120)
    wall = (time.perf_counter_ns() - started) / 1e6
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert completed.returncode == 0, completed.stdout.decode()[-2000:]
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1e3
    return cpu, wall


def test_plugin_startup_cost(perf, tmp_path: Path) -> None:
    """Extra CPU time (and wall time) of one trivial test's pytest run with the plugin, against without.

    "Without" is the same run with the plugin's entry point disabled (``-p no:perfdata``). Each
    pair of runs sees the same moment of the machine's load, so the per-pair differences carry
    the plugin's cost and little else; each record is their p50 with its interval, the CPU one
    judged against the ``max:`` in the baselines. Bytecode is compiled by a first, unrecorded pair.
    """
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_trivial.py").write_text(TRIVIAL)
    with_plugin = _pytest_argv(tmp_path)
    without = _pytest_argv(tmp_path, "-p", "no:perfdata")
    _cost_ms(with_plugin), _cost_ms(without)
    cpu, wall = [], []
    for turn in range(PAIRS):
        if turn % 2:
            base, loaded = _cost_ms(without), _cost_ms(with_plugin)
        else:
            loaded, base = _cost_ms(with_plugin), _cost_ms(without)
        cpu.append(loaded[0] - base[0])
        wall.append(loaded[1] - base[1])
    described = f"{PAIRS} paired runs of `pytest` on one trivial test, with the plugin minus `-p no:perfdata`"
    record = perf.record_samples("self.startup.plugin_cost", cpu, unit="ms", notes=(f"CPU time; {described}",))
    perf.record_samples("self.startup.plugin_cost_wall", wall, unit="ms", notes=(f"wall time; {described}",))
    assert record.summary.n == PAIRS
