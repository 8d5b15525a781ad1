"""What the installed plugin costs a pytest run that measures nothing: the price every user pays."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

#: Paired runs: each pair starts pytest once with the plugin and once without, in alternating order.
#: A pytest process's CPU time here varies by a quarter from one process to the next, far more
#: than the plugin costs, so it takes this many pairs for the median difference to mean something.
PAIRS = 40

#: Fresh processes timing the plugin's imports, the part of its cost that can be measured in-process.
IMPORT_RUNS = 15

TRIVIAL = "def test_trivial():\n    pass\n"


def _pytest_argv(root: Path, *extra: str) -> list[str]:
    # Hypothesis's plugin is left out of both sides: its import is most of a trivial run's time
    # and most of its spread, and it is not ours (as in the collection-cost test). The default
    # verbosity, as a user runs it: the plugin's header lines are part of its cost.
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", f"--rootdir={root}",
            f"-c={root / 'pytest.ini'}", str(root / "test_trivial.py"), *extra]


def _cached_bytecode_env(root: Path) -> dict[str, str]:
    """The environment with bytecode cached, as on a user's machine, in a directory of this test's own.

    CI images often set ``PYTHONDONTWRITEBYTECODE``; then every process would compile the plugin
    from source and the figure would be the compiler's, not the plugin's.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    return env


def _cost_ms(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU time (user + system) and wall time of one pytest process, in ms.

    CPU time is what the plugin costs the run; on a shared machine it is far less disturbed by
    other load than wall time, which also counts the time the process waited for a core.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter_ns()
    completed = subprocess.run(argv, capture_output=True, timeout=120, env=env)
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
    judged against the ``max:`` in the baselines. Bytecode is compiled by a first, unrecorded
    pair and cached for the rest (see :func:`_cached_bytecode_env`).
    """
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_trivial.py").write_text(TRIVIAL)
    env = _cached_bytecode_env(tmp_path)
    with_plugin = _pytest_argv(tmp_path)
    without = _pytest_argv(tmp_path, "-p", "no:perfdata")
    _cost_ms(with_plugin, env), _cost_ms(without, env)
    cpu, wall = [], []
    for turn in range(PAIRS):
        if turn % 2:
            base, loaded = _cost_ms(without, env), _cost_ms(with_plugin, env)
        else:
            loaded, base = _cost_ms(with_plugin, env), _cost_ms(without, env)
        cpu.append(loaded[0] - base[0])
        wall.append(loaded[1] - base[1])
    described = f"{PAIRS} paired runs of `pytest` on one trivial test, with the plugin minus `-p no:perfdata`"
    record = perf.record_samples("self.startup.plugin_cost", cpu, unit="ms", notes=(f"CPU time; {described}",))
    perf.record_samples("self.startup.plugin_cost_wall", wall, unit="ms", notes=(f"wall time; {described}",))
    assert record.summary.n == PAIRS


#: Run in a fresh process after ``import pytest``: the time to import what the entry point loads.
_IMPORT_PROBE = """
import json, time, importlib, pytest
started = time.process_time()
plugin = importlib.import_module("pytest_perfdata.plugin")
for name in (*plugin.FIXTURE_MODULES, "pytest_perfdata.interop_benchmark"):
    importlib.import_module(name)
print(json.dumps((time.process_time() - started) * 1e3))
"""


def test_plugin_import_cost(perf, tmp_path: Path) -> None:
    """CPU time to import the plugin and every module it registers, each time in a fresh process.

    The part of the start-up cost that one process can time by itself: it varies by a
    millisecond, not by the hundred that a whole pytest process does, so a module that starts
    importing something heavy shows here first. Bytecode is cached, as in the paired runs.
    """
    env = _cached_bytecode_env(tmp_path)
    argv = [sys.executable, "-c", _IMPORT_PROBE]

    def one() -> float:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=True)
        return float(json.loads(completed.stdout))

    one()  # compiles and caches the bytecode
    samples = [one() for _ in range(IMPORT_RUNS)]
    record = perf.record_samples(
        "self.startup.plugin_import", samples, unit="ms",
        notes=(f"CPU time to import the plugin and its fixture modules after pytest; {IMPORT_RUNS} fresh processes",),
    )
    assert record.summary.n == IMPORT_RUNS
