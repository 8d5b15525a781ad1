"""What a killed run leaves: swept by the next run, and SIGTERM unwinding like Ctrl-C.

A SIGKILL is simulated faithfully: a child Python process makes the real thing (a container, an
OPA server) and leaves with ``os._exit``, which runs no finalizer, no ``atexit``, no teardown.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_perfdata.engines.leftovers import OWNER_ENV, owned_env, owned_prefix, sweep_orphans, sweep_paths

ROOT = Path(__file__).resolve().parent.parent


def dead_pid() -> int:
    child = multiprocessing.get_context("fork").Process(target=int)
    child.start()
    child.join()
    assert child.pid is not None
    return child.pid


def sleeper(owner: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, OWNER_ENV: owner}
    return subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)


def test_labelled_processes_of_a_dead_owner_are_killed_and_a_live_owner_s_are_left() -> None:
    orphan, kept, other = sleeper(f"t-kind:{dead_pid()}"), sleeper(f"t-kind:{os.getpid()}"), sleeper(f"u-kind:{dead_pid()}")
    try:
        time.sleep(0.05)  # until exec has replaced the environment /proc shows
        assert sweep_orphans("t-kind") == [orphan.pid]
        assert orphan.wait(timeout=10) == -signal.SIGKILL
        assert kept.poll() is None and other.poll() is None
    finally:
        for process in (orphan, kept, other):
            process.kill()
            process.wait()


def test_owned_env_names_this_process() -> None:
    assert owned_env("opa", {"A": "1"}) == {"A": "1", OWNER_ENV: f"opa:{os.getpid()}"}
    assert owned_prefix("runc") == f"perfdata-runc-{os.getpid()}-"


def test_paths_of_a_dead_maker_are_removed_and_others_kept(tmp_path: Path) -> None:
    gone = dead_pid()
    (tmp_path / f"perfdata-k-{gone}-abc").mkdir()
    (tmp_path / f"perfdata-k-{gone}-abc" / "inside").write_text("x")
    (tmp_path / f"perfdata-k-{gone}-x.log").write_text("log")
    for kept in (f"perfdata-k-{os.getpid()}-mine", f"perfdata-other-{gone}-z", "perfdata-k-notapid"):
        (tmp_path / kept).mkdir()
    removed = sweep_paths("k", directory=tmp_path)
    assert sorted(p.name for p in removed) == sorted([f"perfdata-k-{gone}-abc", f"perfdata-k-{gone}-x.log"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"perfdata-k-{os.getpid()}-mine", f"perfdata-other-{gone}-z", "perfdata-k-notapid"])


def killed_child(code: str) -> str:
    """Run ``code`` in a fresh interpreter that ends with os._exit(0); what it printed."""
    script = textwrap.dedent(code) + "\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_killed_run_s_container_is_deleted_by_the_next_runtime(tmp_path: Path) -> None:
    from pytest_perfdata.engines.oci import ContainerUnavailable, select_container_runtime

    try:
        select_container_runtime("runc").cleanup_all()
    except ContainerUnavailable as reason:
        pytest.skip(str(reason))
    pid, root = killed_child(f"""
        from pathlib import Path
        from pytest_perfdata.engines.oci import select_container_runtime
        from pytest_perfdata.engines.oci.bundle import build_bundle
        runtime = select_container_runtime("runc")
        container = runtime.start_detached(build_bundle(Path({str(tmp_path)!r}) / "bundle", ["sleep", "600"]))
        print(container.pid, runtime.state_root.parent)
    """).split()
    assert os.path.exists(f"/proc/{pid}") and Path(root).is_dir()  # left running by the "kill"
    select_container_runtime("runc").cleanup_all()  # the next run's runtime sweeps on creation
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}") and not Path(root).exists()


def test_a_killed_run_s_opa_server_is_stopped_by_the_next_one(tmp_path: Path) -> None:
    from pytest_perfdata.engines.tools import project_tool

    opa = project_tool(ROOT, "opa") or shutil.which("opa")
    if opa is None:
        pytest.skip("no opa CLI: python3 tools/setup.py tests")
    (tmp_path / "p.rego").write_text("package t\nallow := true\n")
    code = textwrap.dedent(f"""
        from pathlib import Path
        from pytest_perfdata.engines.opa.policy import Policy
        from pytest_perfdata.engines.opa.server import OpaServer
        server = OpaServer.start(Path({str(opa)!r}), Policy("t", (Path({str(tmp_path / 'p.rego')!r}),), "t/allow"))
        print(server.process.pid)
    """)
    orphan = int(killed_child(code))
    assert os.path.exists(f"/proc/{orphan}")
    survivor = int(killed_child(code + "\nserver.stop()\n"))  # a new start sweeps first
    assert not os.path.exists(f"/proc/{orphan}") or open(f"/proc/{orphan}/stat").read().split()[2] == "Z"
    assert not os.path.exists(f"/proc/{survivor}")


SIGTERMED = """
import os, signal, pytest

@pytest.fixture
def started(tmp_path_factory):
    yield
    open(os.path.join(os.path.dirname(__file__), "stopped"), "w").write("teardown ran")

def test_measured(perf):
    perf.record_value("before.term", 1.0, unit="ms")

def test_cancelled(started):
    os.kill(os.getpid(), signal.SIGTERM)
"""


def test_sigterm_unwinds_like_ctrl_c(pytester: pytest.Pytester) -> None:
    """A cancelled CI job: fixtures tear down (what they started stops) and the report is written."""
    pytester.makepyfile(SIGTERMED)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--perf-report=r.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (pytester.path / "stopped").read_text() == "teardown ran"
    assert "before.term" in (pytester.path / "r.json").read_text()
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*", "*SIGTERM: stopping what the run started*"])
