"""Instruction counts: a metric's calls counted by valgrind in two child runs of its test, not timed.

A count does not move with the machine's load or clock speed, so a regression limit of 2 % is
safe on a count where a timing on a shared machine cannot hold 10 %. valgrind (cachegrind)
counts in software, as no hardware counters are exposed on these machines; it runs a process
some fifty times slower, so only tests that opt in (``@pytest.mark.perf(counter="instructions")``)
are counted, after their timing.

Method: the test runs twice more, each time in a child pytest under cachegrind with a fixed
hash seed and measuring disabled: once calling the metric's callable once, once calling it
``1 + extra`` times, ``extra`` sized from the timing so that the calls add up to billions of
instructions (:func:`extra_calls_for`). The difference divided by ``extra`` is one call's count; pytest's start-up,
the fixtures and every other metric of the test are in both children and cancel out. What a
count leaves out: time in the kernel (system calls), waiting (I/O, sleeps, locks, other
processes) and how long each instruction takes (cache misses), so a change that only moves
memory traffic is invisible to it. The record is ``<metric>.instructions`` beside the timing.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, final

from ._defaults import COUNTING_CHILD_ENV

__all__ = [
    "COUNT_SUFFIX",
    "EXTRA_CALLS",
    "VALGRIND_HINT",
    "Count",
    "CountError",
    "ValgrindMissing",
    "calls_in_this_process",
    "count_calls",
    "extra_calls_for",
    "instructions_of",
    "is_counting_child",
]

#: What a counting child is told: ``<metric>=<calls>``, the metric whose callable it calls that often.
CHILD_ENV: Final = COUNTING_CHILD_ENV

#: Fewest calls the second child makes beyond the first's one.
EXTRA_CALLS: Final = 20
#: Most extra calls, so that a sub-microsecond callable is not called for hours under valgrind.
MAX_EXTRA_CALLS: Final = 2_000_000
#: Instructions the extra calls should add up to. Two child runs of one test usually differ by a
#: few thousand instructions, but while other processes wrote files nearby they were seen to
#: differ by up to 14 million (0.3 % of a pytest run, 5 % of 20 calls of a 13-million-instruction
#: loop); against 2.5 billion such a difference is half a percent.
EXTRA_INSTRUCTIONS: Final = 2.5e9
#: Instructions per nanosecond assumed to size the extra calls from a timing: a recent x86 core
#: running the interpreter retires about 12 (13.2 million in a 1.1 ms loop, here).
_INSTRUCTIONS_PER_NS: Final = 10.0


def extra_calls_for(ns_per_call: float | None) -> int:
    """How many extra calls make up about :data:`EXTRA_INSTRUCTIONS`, from the timing of one call."""
    if not ns_per_call or ns_per_call <= 0:
        return EXTRA_CALLS
    wanted = math.ceil(EXTRA_INSTRUCTIONS / (ns_per_call * _INSTRUCTIONS_PER_NS))
    return max(EXTRA_CALLS, min(MAX_EXTRA_CALLS, wanted))

#: The name of a count's record: the timed metric's name and this.
COUNT_SUFFIX: Final = ".instructions"

VALGRIND_HINT: Final = "valgrind is not installed (apt-get install valgrind; python3 tools/setup.py does it as root)"

#: Options every child gets: quiet, measuring disabled (one call per metric, nothing judged or
#: saved), no cache written, tests in file order, pytest-benchmark blocked (its fixture would
#: calibrate and run rounds; :mod:`.counting_child` stands in). The hash seed is in the environment.
_CHILD_OPTIONS: Final = ("-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:benchmark",
                         "--perf-disable", "--perf-progress=off")

_COUNTED = re.compile(r"I\s+refs:\s+([\d,]+)")


class CountError(RuntimeError):
    """A counted process failed, or valgrind's log had no count: the message carries its output."""


class ValgrindMissing(CountError):
    """No valgrind on PATH: nothing can be counted (the message says how to get it)."""


@final
@dataclass(frozen=True, slots=True)
class Count:
    """One call's instruction count and the two child counts it came from."""

    per_call: float
    once: int  # instructions of the child that called the metric's callable once
    extended: int  # ... and of the one that called it 1 + extra_calls times
    extra_calls: int

    def describe(self) -> str:
        return (f"valgrind --tool=cachegrind, the test run twice: {self.extended:,} instructions with "
                f"{1 + self.extra_calls} calls, {self.once:,} with one; the difference over {self.extra_calls}")


def is_counting_child() -> bool:
    """Whether this process is a counting child (which counts nothing itself)."""
    return CHILD_ENV in os.environ


def calls_in_this_process(metric: str) -> int:
    """How often a disabled measurement of ``metric`` calls its callable here: 1, except in a counting child."""
    asked = os.environ.get(CHILD_ENV)
    if not asked:
        return 1
    name, _, calls = asked.rpartition("=")
    return int(calls) if name == metric and calls.isdigit() else 1


def _child_environment(metric: str, calls: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST"))}
    env["PYTHONHASHSEED"] = "0"  # the same dictionaries in both children, so the same instructions
    env[CHILD_ENV] = f"{metric}={calls}"
    return env


def instructions_of(argv: Sequence[str], cwd: Path, env: dict[str, str], logs: Path) -> int:
    """User-space instructions one process executes, counted by cachegrind; ``argv`` runs under valgrind.

    Only the process itself is read: helpers it forks (version-control probes of other plugins)
    have log files of their own in ``logs`` (``%p`` is the pid), and their instructions are not its.
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise ValgrindMissing(VALGRIND_HINT)
    command = [valgrind, "--tool=cachegrind", "--cache-sim=no", "--branch-sim=no", "--cachegrind-out-file=/dev/null",
               f"--log-file={logs / 'cachegrind.%p'}", *argv]
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    output, _ = process.communicate()
    said = output.decode(errors="replace").strip().splitlines()[-15:]
    if process.returncode != 0:
        raise CountError(f"counted process exited {process.returncode}: {' '.join(argv)}\n" + "\n".join(said))
    log = logs / f"cachegrind.{process.pid}"
    found = _COUNTED.search(log.read_text(errors="replace")) if log.exists() else None
    if found is None:
        raise CountError(f"valgrind wrote no instruction count to {log}: {' '.join(argv)}\n" + "\n".join(said))
    return int(found.group(1).replace(",", ""))


def count_calls(nodeid: str, metric: str, rerun: Sequence[str], rootdir: Path, extra_calls: int = EXTRA_CALLS) -> Count:
    """Count one call of ``metric``'s callable in test ``nodeid`` of the session in ``rootdir``, run with ``rerun``."""
    argv = [sys.executable, "-m", "pytest", nodeid, *_CHILD_OPTIONS, "--rootdir", str(rootdir), *rerun]
    with tempfile.TemporaryDirectory(prefix="perfdata-count-") as tmp:
        once, extended = (instructions_of(argv, rootdir, _child_environment(metric, calls), Path(tmp))
                          for calls in (1, 1 + extra_calls))
    return Count((extended - once) / extra_calls, once, extended, extra_calls)
