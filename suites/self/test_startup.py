"""What the installed plugin costs a pytest run that measures nothing: the price every user pays."""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_perfdata.counting import VALGRIND_HINT, instructions_of

#: Paired runs: each pair starts pytest once with the plugin and once without, in alternating order.
#: A pytest process's CPU time here varies by a quarter from one process to the next, far more
#: than the plugin costs, so even this many pairs leave an interval wider than the figure: the
#: paired record is the cross-check, the counted one below is the judged figure.
PAIRS = 30

#: Runs of each side under valgrind. Its count repeats to a few instructions in a billion (the
#: hash seed is fixed), so two runs per side show that it did, and more would add only minutes.
COUNTED_RUNS = 2

#: Native runs without the plugin, whose CPU time per instruction turns the counted difference
#: into milliseconds of this machine.
NATIVE_RUNS = 15

#: Fresh processes timing the plugin's imports, the part of its cost that can be measured in-process.
IMPORT_RUNS = 15

TRIVIAL = "def test_trivial():\n    pass\n"


def _cached_bytecode_env(root: Path) -> dict[str, str]:
    """The environment with bytecode cached, as on a user's machine, in a directory of this test's own.

    CI images often set ``PYTHONDONTWRITEBYTECODE``; then every process would compile the plugin
    from source and the figure would be the compiler's, not the plugin's.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    return env


@dataclass(frozen=True)
class _TrivialProject:
    """The one-test project both sides run: its directory (where each run starts) and environment.

    Runs start in the project, as a user's run starts in theirs; not in the plugin's checkout,
    where the interpreter finds a second copy of the plugin's metadata (the editable install's
    ``*.egg-info``) and pytest rewrites every plugin module, a cost no user pays.
    """

    root: Path
    env: dict[str, str]

    @classmethod
    def write(cls, root: Path) -> _TrivialProject:
        (root / "pytest.ini").write_text("[pytest]\n")
        (root / "test_trivial.py").write_text(TRIVIAL)
        env = _cached_bytecode_env(root)
        # A fixed seed makes the interpreter's dictionaries, and so its instruction count, repeat.
        env["PYTHONHASHSEED"] = "0"
        return cls(root, env)

    def argv(self, *extra: str) -> list[str]:
        # Hypothesis's plugin is left out of both sides: its import is most of a trivial run's time
        # and most of its spread, and it is not ours (as in the collection-cost test). The default
        # verbosity, as a user runs it: the plugin's header lines are part of its cost.
        return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                f"--rootdir={self.root}", f"-c={self.root / 'pytest.ini'}", str(self.root / "test_trivial.py"), *extra]

    def cost_ms(self, argv: list[str]) -> tuple[float, float]:
        """CPU time (user + system) and wall time of one pytest process, in ms.

        CPU time is what the plugin costs the run; on a shared machine it is far less disturbed
        by other load than wall time, which also counts the time the process waited for a core.
        """
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter_ns()
        completed = subprocess.run(argv, capture_output=True, timeout=120, env=self.env, cwd=self.root)
        wall = (time.perf_counter_ns() - started) / 1e6
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert completed.returncode == 0, completed.stdout.decode()[-2000:]
        cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1e3
        return cpu, wall

    def instructions(self, argv: list[str], logs: Path) -> int:
        """User-space instructions of one pytest process, counted by valgrind (see :mod:`pytest_perfdata.counting`)."""
        return instructions_of(argv, self.root, self.env, logs)


def test_plugin_startup_cost(perf, tmp_path: Path) -> None:
    """The instructions the plugin adds to a trivial pytest run, and the CPU time they take here.

    Timing cannot settle a cost of a few milliseconds inside a process whose CPU time varies by a
    quarter from one run to the next; counting can. Each side (with the plugin, and with
    ``-p no:perfdata``) runs under valgrind, whose count repeats to a few instructions. The
    difference is turned into milliseconds with this machine's CPU time per instruction on the
    side without the plugin, once per native run, so the record's interval carries the noise of
    that rate and nothing else. Assumed: the plugin's instructions cost what pytest's start-up
    instructions cost on average (both are the interpreter importing and running Python); not
    counted: time in the kernel beyond that average, and waiting.
    """
    if shutil.which("valgrind") is None:
        pytest.skip(VALGRIND_HINT)
    project = _TrivialProject.write(tmp_path)
    with_plugin, without = project.argv(), project.argv("-p", "no:perfdata")
    project.cost_ms(with_plugin), project.cost_ms(without)  # compiles and caches the bytecode
    logs = tmp_path / "valgrind"
    logs.mkdir(exist_ok=True)
    loaded = [project.instructions(with_plugin, logs) for _ in range(COUNTED_RUNS)]
    base = [project.instructions(without, logs) for _ in range(COUNTED_RUNS)]
    extra = statistics.median(loaded) - statistics.median(base)
    repeat = max(max(loaded) - min(loaded), max(base) - min(base))
    counted = (f"valgrind --tool=cachegrind, {COUNTED_RUNS} runs per side of `pytest` on one trivial test, "
               f"with the plugin minus `-p no:perfdata`; runs of a side differed by at most {repeat} instructions")
    perf.record_value("self.startup.plugin_instructions", extra, unit="instructions", notes=(counted,))
    per_instruction = [project.cost_ms(without)[0] / statistics.median(base) for _ in range(NATIVE_RUNS)]
    record = perf.record_samples(
        "self.startup.plugin_cost", [extra * rate for rate in per_instruction], unit="ms",
        notes=(f"{extra:,.0f} counted instructions × this machine's CPU time per instruction without the "
               f"plugin ({NATIVE_RUNS} native runs); {counted}",),
    )
    assert record.summary.n == NATIVE_RUNS
    assert min(base) > 0 and extra > 0, "the plugin's run must execute more than the run without it"


def test_plugin_startup_cost_paired(perf, tmp_path: Path) -> None:
    """Extra CPU time (and wall time) of the trivial run with the plugin, timed against without.

    The cross-check of the counted figure: it includes everything the count leaves out (the
    kernel, the files read), at the price of an interval wider than the figure on this machine.
    Each pair of runs sees the same moment of the machine's load, so the per-pair differences
    carry the plugin's cost and the processes' own spread.
    """
    project = _TrivialProject.write(tmp_path)
    with_plugin, without = project.argv(), project.argv("-p", "no:perfdata")
    project.cost_ms(with_plugin), project.cost_ms(without)
    cpu, wall = [], []
    for turn in range(PAIRS):
        if turn % 2:
            base, loaded = project.cost_ms(without), project.cost_ms(with_plugin)
        else:
            loaded, base = project.cost_ms(with_plugin), project.cost_ms(without)
        cpu.append(loaded[0] - base[0])
        wall.append(loaded[1] - base[1])
    described = f"{PAIRS} paired runs of `pytest` on one trivial test, with the plugin minus `-p no:perfdata`"
    record = perf.record_samples("self.startup.plugin_cost_paired", cpu, unit="ms", notes=(f"CPU time; {described}",))
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
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=True, cwd=tmp_path)
        return float(json.loads(completed.stdout))

    one()  # compiles and caches the bytecode
    samples = [one() for _ in range(IMPORT_RUNS)]
    record = perf.record_samples(
        "self.startup.plugin_import", samples, unit="ms",
        notes=(f"CPU time to import the plugin and its fixture modules after pytest; {IMPORT_RUNS} fresh processes",),
    )
    assert record.summary.n == IMPORT_RUNS
