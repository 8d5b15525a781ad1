"""Bounded child processes for backends: one CompletedRun type and one way to run with a timeout."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, final

from ..measure import DriftReference

__all__ = ["SPAWN_REFERENCE", "CompletedRun", "RunTimeout", "run_bounded"]


@final
@dataclass(frozen=True, slots=True)
class CompletedRun:
    """What one finished run of a workload left behind: its exit code and its captured output.

    Shared by every backend (containers, native programs, Wasm runtimes) so that suites compare
    like with like and can check output the same way whichever engine ran.
    """

    exit_code: int
    stdout: bytes
    stderr: bytes


class RunTimeout(TimeoutError):
    """A run did not finish within its time limit; it was killed, and what it printed is kept.

    A subclass of :class:`TimeoutError` so callers can catch the builtin; the partial output
    helps to see where a workload hung.
    """

    def __init__(
        self, argv: Sequence[str], timeout_s: float, stdout: bytes = b"", stderr: bytes = b""
    ) -> None:
        self.argv = tuple(argv)
        self.timeout_s = timeout_s
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"{' '.join(self.argv)}: no exit within {timeout_s:g} s, killed")


def run_bounded(
    argv: Sequence[str | os.PathLike[str]],
    *,
    timeout_s: float,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> CompletedRun:
    """Run ``argv`` with output captured; on timeout kill its whole process group and raise.

    The child gets its own session, so a timeout also ends whatever it forked (a grandchild
    holding our pipes open would otherwise keep us waiting past the limit).
    """
    args = [os.fspath(arg) for arg in argv]
    with subprocess.Popen(
        args,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=None if env is None else dict(env),
        cwd=cwd,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_group(process.pid)
            stdout, stderr = _drain(process)
            raise RunTimeout(args, timeout_s, stdout, stderr) from None
        except BaseException:  # KeyboardInterrupt included: never leave the group running
            kill_group(process.pid)
            process.wait()
            raise
    return CompletedRun(process.returncode, stdout, stderr)


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid``; a group that is already gone is fine."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _drain(process: subprocess.Popen[bytes], timeout_s: float = 5.0) -> tuple[bytes, bytes]:
    """The output a killed process left in its pipes, without waiting on it forever."""
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return stdout or b"", stderr or b""


def _spawn_true() -> None:
    run_bounded(["true"], timeout_s=10.0)


#: Drift reference for process-level figures: what starting a trivial process costs right now.
#: Process creation slows with system load (fork, exec, page faults) far more than a CPU loop
#: does, so launch-to-exit timings are corrected by this rather than by the CPU loop.
SPAWN_REFERENCE: Final = DriftReference("spawn-true", _spawn_true)
