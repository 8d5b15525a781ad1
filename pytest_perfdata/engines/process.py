"""Bounded child processes for engines: one CompletedRun type, one way to run with a timeout."""

from __future__ import annotations

import collections
import os
import select
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, final

from ._text import first_line

#: Bytes a pipe reported writable takes without blocking (POSIX guarantees at least 512).
_PIPE_BUF: Final = getattr(select, "PIPE_BUF", 512)
#: What a run keeps of each stream: its first and its last bytes. A module that floods stdout
#: must not grow the test process without bound; the head shows how it started, the tail how
#: it ended, and the marker between them how much was dropped.
OUTPUT_HEAD: Final = 4 << 20
OUTPUT_TAIL: Final = 1 << 20


class _Capture:
    """One stream's output, kept to :data:`OUTPUT_HEAD` + :data:`OUTPUT_TAIL` bytes."""

    __slots__ = ("head", "tail", "tail_size", "dropped")

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_size = 0
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = OUTPUT_HEAD - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        while self.tail_size - len(self.tail[0]) >= OUTPUT_TAIL:
            self.tail_size -= len(gone := self.tail.popleft())
            self.dropped += len(gone)

    def value(self) -> bytes:
        tail = b"".join(self.tail)
        cut = max(len(tail) - OUTPUT_TAIL, 0)
        dropped = self.dropped + cut
        if not dropped:
            return bytes(self.head) + tail
        return bytes(self.head) + f"\n[... {dropped} bytes left out ...]\n".encode() + tail[cut:]

__all__ = [
    "CompletedRun",
    "RunTimeout",
    "communicate_until_exit",
    "kill_group",
    "run_bounded",
]


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

    @property
    def error_output(self) -> bytes:
        """The stream that explains a failure: stderr when it holds any text, else stdout.

        Tools disagree on where their errors go. Most write them to stderr, but WasmEdge logs
        through spdlog's default logger, which writes to stdout: a WasmEdge built without LLVM
        says ``[error] Compilation is not supported!`` there and nothing on stderr. Every failed
        tool run is explained from here, so no message is lost whichever stream carried it.
        """
        return self.stderr if self.stderr.strip() else self.stdout

    @property
    def error_text(self) -> str:
        """:attr:`error_output` as text (undecodable bytes replaced, never an exception)."""
        return self.error_output.decode(errors="replace")

    def error_line(self) -> str:
        """One line for an error message: the first line of :attr:`error_text`, else the exit code."""
        return first_line(self.error_text) or f"exit {self.exit_code}"


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
            stdout, stderr = communicate_until_exit(
                process, input, timeout_s, on_timeout=lambda: _end_group(process)
            )
        except RunTimeout:
            raise
        except BaseException:  # KeyboardInterrupt included: never leave the group running
            kill_group(process.pid)
            process.wait()
            raise
    return CompletedRun(process.returncode, stdout, stderr)


def communicate_until_exit(
    process: subprocess.Popen[bytes],
    input: bytes | None,
    timeout_s: float,
    *,
    on_timeout: Callable[[], tuple[bytes, bytes]],
) -> tuple[bytes, bytes]:
    """Feed ``input``, read stdout and stderr to their end, and return the moment the child exits.

    :meth:`subprocess.Popen.communicate` with a timeout notices the exit by polling: when the
    pipes close a moment before the child is reapable, it sleeps 1 ms before looking again. On a
    2-core machine that race goes either way from run to run, so every launch-to-exit timing
    gained a millisecond or not (a 0.27 ms native start measured 1.37 ms). Here the exit is
    waited for on a pidfd, in the same ``select`` as the pipes, so no sleep enters the figure.
    Where pidfds are missing (not Linux, or a kernel before 5.3) the exit is polled for after
    the pipes close, as Popen does. On timeout, ``on_timeout`` ends the run (how depends on what runs: a process
    group, a container) and returns what was left in the pipes; :class:`RunTimeout` is raised
    with all the output.
    """
    try:
        return _communicate(process, input, timeout_s)
    except subprocess.TimeoutExpired as expired:
        rest_out, rest_err = on_timeout()
        stdout, stderr = _as_bytes(expired.output) + rest_out, _as_bytes(expired.stderr) + rest_err
        raise RunTimeout(_argv_of(process), timeout_s, stdout, stderr) from None


def _communicate(
    process: subprocess.Popen[bytes], input: bytes | None, timeout_s: float
) -> tuple[bytes, bytes]:
    """One call's worth of I/O: what it returns (or its timeout carries) is only what it read.

    Output read by one call is never handed out again by the next, so a run that timed out
    and is then drained reports every byte once, whichever way the exit was waited for.
    """
    pidfd = _open_pidfd(process.pid)
    try:
        return _select_until_exit(process, pidfd, input, time.monotonic() + timeout_s, timeout_s)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _open_pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits; None without pidfds (not Linux 5.3+)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _select_until_exit(
    process: subprocess.Popen[bytes],
    pidfd: int | None,
    input: bytes | None,
    deadline: float,
    timeout_s: float,
) -> tuple[bytes, bytes]:
    output: dict[int, _Capture] = {}
    pending_input = memoryview(input or b"")
    with selectors.DefaultSelector() as selector:
        if pidfd is not None:
            selector.register(pidfd, selectors.EVENT_READ)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                output[pipe.fileno()] = _Capture()
                selector.register(pipe.fileno(), selectors.EVENT_READ)
        stdin_fd = None
        if process.stdin is not None:
            if pending_input:
                stdin_fd = process.stdin.fileno()
                selector.register(stdin_fd, selectors.EVENT_WRITE)
            else:
                process.stdin.close()
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _expired(process, timeout_s, output)
            for key, _ in selector.select(remaining):
                if key.fd == pidfd:
                    selector.unregister(pidfd)
                elif key.fd == stdin_fd and process.stdin is not None:
                    pending_input = _feed(selector, process.stdin, pending_input)
                else:
                    chunk = os.read(key.fd, 65536)
                    if chunk:
                        output[key.fd].add(chunk)
                    else:
                        selector.unregister(key.fd)
    if pidfd is not None:
        process.wait()  # the child has exited: this reaps it without sleeping
    else:
        try:  # no pidfd: waitpid polling, with Popen's sleeps, is all there is
            process.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            raise _expired(process, timeout_s, output) from None
    stdout, stderr = (_joined(output, pipe) for pipe in (process.stdout, process.stderr))
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()
    return stdout, stderr


def _expired(
    process: subprocess.Popen[bytes], timeout_s: float, output: dict[int, _Capture]
) -> subprocess.TimeoutExpired:
    stdout, stderr = (_joined(output, pipe) for pipe in (process.stdout, process.stderr))
    return subprocess.TimeoutExpired(process.args, timeout_s, stdout, stderr)


def _feed(selector: selectors.BaseSelector, stdin: IO[bytes], pending: memoryview) -> memoryview:
    """Write what the pipe takes now; close stdin once all is written or the child stopped reading.

    A pipe reported writable takes PIPE_BUF bytes without blocking (POSIX), so no write here
    can stall the loop that also watches for the child's exit.
    """
    fd = stdin.fileno()
    try:
        written = os.write(fd, pending[:_PIPE_BUF])
    except BrokenPipeError:
        written = len(pending)
    pending = pending[written:]
    if not pending:
        selector.unregister(fd)
        stdin.close()
    return pending


def _joined(output: dict[int, _Capture], pipe: IO[bytes] | None) -> bytes:
    capture = output.get(pipe.fileno()) if pipe is not None else None
    return capture.value() if capture is not None else b""


def _argv_of(process: subprocess.Popen[bytes]) -> list[str]:
    args = process.args
    return (
        [os.fsdecode(args)]
        if isinstance(args, str | bytes | os.PathLike)
        else [os.fsdecode(a) for a in args]
    )


def _as_bytes(captured: bytes | str | None) -> bytes:
    """The output a :class:`subprocess.TimeoutExpired` carries, as bytes (it may hold none, or text)."""
    if isinstance(captured, str):
        return captured.encode()
    return captured or b""


def _end_group(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Kill the run's whole process group and collect what it left in the pipes."""
    kill_group(process.pid)
    return _drain(process)


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid``; a group that is already gone is fine."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


#: How long a killed run's pipes are read before an escaped grandchild holding them is given up on.
_DRAIN_TIMEOUT_S: Final = 5.0


def _drain(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """The output a killed process left in its pipes, without waiting on it forever.

    Read by the same loop as the run itself (which may have fed and closed stdin already, a
    state ``Popen.communicate`` trips over). Pipes still held open by an escaped grandchild
    are abandoned after ``_DRAIN_TIMEOUT_S`` with what they gave so far.
    """
    try:
        return _communicate(process, None, _DRAIN_TIMEOUT_S)
    except subprocess.TimeoutExpired as expired:
        process.kill()
        process.wait()
        return _as_bytes(expired.output), _as_bytes(expired.stderr)
