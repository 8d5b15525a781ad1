"""Bounded child processes: output, input, timeouts, and an exit noticed without a polling sleep."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata.engines import process as process_module
from pytest_perfdata.engines.process import (
    OUTPUT_HEAD,
    OUTPUT_TAIL,
    CompletedRun,
    RunTimeout,
    communicate_until_exit,
    run_bounded,
)

PYTHON = sys.executable


def test_output_and_exit_code_are_captured() -> None:
    done = run_bounded(
        [PYTHON, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
        timeout_s=30,
    )
    assert (done.exit_code, done.stdout, done.stderr) == (3, b"out\n", b"err\n")


def test_input_larger_than_a_pipe_buffer_reaches_the_child_whole() -> None:
    payload = (
        bytes(range(256)) * 4096
    )  # 1 MiB: a pipe holds 64 KiB, so writes must interleave with reads
    done = run_bounded(["cat"], timeout_s=30, input=payload)
    assert done.exit_code == 0 and done.stdout == payload


def test_a_child_that_stops_reading_does_not_hang_the_writer() -> None:
    done = run_bounded(
        [PYTHON, "-c", "import sys; sys.stdin.buffer.read(10)"],
        timeout_s=30,
        input=b"x" * 1_000_000,
    )
    assert done.exit_code == 0


def test_the_exit_is_noticed_without_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Popen.communicate(timeout=...)`` polls for the exit with sleeps; a launch timing must not."""

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s while waiting for a child")

    monkeypatch.setattr(time, "sleep", no_sleep)
    for _ in range(20):  # the pipe-closed-before-exit race goes either way; try it many times
        assert run_bounded(["true"], timeout_s=30).exit_code == 0


def test_timeout_keeps_what_was_printed_and_ends_the_group() -> None:
    script = "import sys, time; print('started', flush=True); time.sleep(60)"
    started = time.monotonic()
    with pytest.raises(RunTimeout) as caught:
        run_bounded([PYTHON, "-c", script], timeout_s=1.0)
    assert caught.value.stdout == b"started\n"
    assert time.monotonic() - started < 30


def test_timeout_lets_the_caller_end_the_run_and_keeps_all_output() -> None:
    """Containers end differently from process groups, so the caller says how (``on_timeout``)."""
    script = "import sys, time; print('before', flush=True); time.sleep(60)"
    with subprocess.Popen(
        [PYTHON, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:

        def end() -> tuple[bytes, bytes]:
            assert child.poll() is None  # still running: ending it is the caller's job
            child.kill()
            child.wait()
            return b"after\n", b""

        with pytest.raises(RunTimeout) as caught:
            communicate_until_exit(child, None, 1.0, on_timeout=end)
    assert caught.value.stdout == b"before\nafter\n" and caught.value.argv == (PYTHON, "-c", script)


@pytest.fixture(params=["pidfd", "polling"])
def exit_wait(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of waiting for the exit: a pidfd, and polling where the kernel has none."""
    if request.param == "polling":
        monkeypatch.delattr(process_module.os, "pidfd_open")
    return str(request.param)


def test_either_exit_wait_passes_input_and_output(exit_wait: str) -> None:
    done = run_bounded(["cat"], timeout_s=30, input=b"through " + exit_wait.encode())
    assert done.stdout == b"through " + exit_wait.encode()


def test_a_grandchild_holding_the_pipes_loses_no_output(
    exit_wait: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The killed group's pipes stay open in an escaped grandchild: the drain gives up, and keeps what it read."""
    monkeypatch.setattr(process_module, "_DRAIN_TIMEOUT_S", 0.5)
    script = (
        "import subprocess, time; print('progress', flush=True);"
        " subprocess.Popen(['setsid', 'sleep', '5']); time.sleep(60)"
    )
    with pytest.raises(RunTimeout) as caught:
        run_bounded([PYTHON, "-c", script], timeout_s=1.0)
    assert caught.value.stdout == b"progress\n"


def test_timeout_after_all_input_was_fed_still_reports_the_output() -> None:
    """Stdin is closed by then; ending the run must not trip over it."""
    script = "import sys, time; data = sys.stdin.buffer.read(); print(len(data), flush=True); time.sleep(60)"
    with pytest.raises(RunTimeout) as caught:
        run_bounded([PYTHON, "-c", script], timeout_s=1.0, input=b"x" * 100_000)
    assert caught.value.stdout == b"100000\n"


def test_either_exit_wait_times_out_with_the_output(exit_wait: str) -> None:
    script = "import time; print('begun', flush=True); time.sleep(60)"
    with pytest.raises(RunTimeout) as caught:
        run_bounded([PYTHON, "-c", script], timeout_s=1.0, input=b"ignored")
    assert caught.value.stdout == b"begun\n"


@pytest.mark.parametrize(
    ("stdout", "stderr", "text", "line"),
    [
        (b"", b"error: bad flag\nusage: ...\n", "error: bad flag\nusage: ...\n", "error: bad flag"),
        # WasmEdge logs its errors on stdout: a blank stderr does not hide them
        (b"[error] Compilation is not supported!\n", b"", "[error] Compilation is not supported!\n",
         "[error] Compilation is not supported!"),
        (b"[error] Compilation is not supported!\n", b" \n", "[error] Compilation is not supported!\n",
         "[error] Compilation is not supported!"),
        (b"partial output\n", b"the reason\n", "the reason\n", "the reason"),  # stderr first when it speaks
        (b"", b"", "", "exit 1"),
        (b"\xff\xfe broken\n", b"", "\ufffd\ufffd broken\n", "\ufffd\ufffd broken"),
    ],
)
def test_a_failure_is_explained_from_whichever_stream_has_the_text(
    stdout: bytes, stderr: bytes, text: str, line: str
) -> None:
    done = CompletedRun(1, stdout, stderr)
    assert done.error_text == text and done.error_line() == line
    assert done.error_output == (stderr if stderr.strip() else stdout)


def test_a_real_tool_that_fails_on_stdout_is_explained() -> None:
    done = run_bounded(["sh", "-c", "echo '[error] Compilation is not supported!'; exit 1"], timeout_s=30)
    assert (done.exit_code, done.stderr) == (1, b"")
    assert done.error_line() == "[error] Compilation is not supported!"


def test_a_flood_of_output_keeps_its_head_and_tail_and_says_what_was_dropped() -> None:
    """50 MB on stdout would grow the test process by as much; a bounded run keeps 5 MiB of it."""
    flood = "import sys; sys.stdout.buffer.write(b'<' + b'x' * 50_000_000 + b'>'); sys.stderr.write('ok')"
    done = run_bounded([sys.executable, "-c", flood], timeout_s=60)
    assert done.exit_code == 0 and done.stderr == b"ok"
    kept = OUTPUT_HEAD + OUTPUT_TAIL
    assert done.stdout.startswith(b"<xxx") and done.stdout.endswith(b"xxx>")
    dropped = 50_000_002 - kept
    assert f"[... {dropped} bytes left out ...]".encode() in done.stdout
    assert len(done.stdout) < kept + 100


@given(st.lists(st.binary(max_size=3 * 1024), max_size=40), st.integers(1, 4096), st.integers(1, 4096))
def test_what_a_capture_keeps_is_the_head_and_tail_of_what_came(chunks: list[bytes], head: int, tail: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(process_module, "OUTPUT_HEAD", head)
        patch.setattr(process_module, "OUTPUT_TAIL", tail)
        capture = process_module._Capture()
        for chunk in chunks:
            capture.add(chunk)
        whole = b"".join(chunks)
        if len(whole) <= head + tail:
            assert capture.value() == whole
        else:
            marker = f"\n[... {len(whole) - head - tail} bytes left out ...]\n".encode()
            assert capture.value() == whole[:head] + marker + whole[-tail:]
