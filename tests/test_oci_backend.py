"""OCI bundles and the runc/crun backends: real containers where the machine allows them.

Nothing here times anything. Container tests skip with the runtime's own reason when there is
no runc, no root, or no static busybox.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_perfdata.engines import oci
from pytest_perfdata.engines.oci import (
    DEFAULT_APPLETS,
    Bundle,
    ContainerUnavailable,
    RunningContainer,
    RunTimeout,
    build_bundle,
    find_busybox,
    oci_config,
    select_container_runtime,
    tree_bytes,
)


def _busybox() -> Path:
    try:
        return find_busybox()
    except ContainerUnavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def runc() -> Iterator[oci.Runc]:
    """One probed runc for the module; every container it made is gone after."""
    try:
        runtime = select_container_runtime("runc")
    except ContainerUnavailable as reason:
        pytest.skip(str(reason))
    assert isinstance(runtime, oci.Runc)
    try:
        yield runtime
    finally:
        runtime.cleanup_all()


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Bundle]:
    _busybox()
    root = tmp_path_factory.mktemp("bundles")
    commands = {
        "hello": ["echo", "hello"],
        "exit3": ["sh", "-c", "exit 3"],
        "sleep": ["sleep", "60"],
    }
    return {name: build_bundle(root / name, command) for name, command in commands.items()}


def _listed(runtime: oci.Runc) -> list[str]:
    """Container ids under the runtime's private state root, as ``runc list`` reports them."""
    result = subprocess.run(
        [runtime.binary, "--root", runtime.state_root, "list", "-q"],
        capture_output=True,
        timeout=10,
        check=True,
    )
    return result.stdout.decode().split()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# -- config and bundle ---------------------------------------------------------------------


def test_config_has_the_fields_runc_needs() -> None:
    config = json.loads(json.dumps(oci_config(["echo", "hi"], memory_limit_bytes=64 << 20)))
    assert config["ociVersion"].startswith("1.0")
    assert config["process"]["args"] == ["echo", "hi"]
    assert config["process"]["terminal"] is False
    assert config["process"]["cwd"] == "/"
    assert config["root"] == {"path": "rootfs", "readonly": True}
    kinds = {namespace["type"] for namespace in config["linux"]["namespaces"]}
    assert {"pid", "mount", "ipc", "uts", "network"} <= kinds
    assert config["linux"]["resources"]["memory"] == {"limit": 64 << 20}
    assert "/proc" in {mount["destination"] for mount in config["mounts"]}


def test_config_without_limit_sets_no_memory_resources() -> None:
    assert "memory" not in oci_config(["true"])["linux"]["resources"]


@pytest.mark.parametrize("bad", [{"command": []}, {"command": ["true"], "memory_limit_bytes": 0}])
def test_config_rejects_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        oci_config(**bad)  # type: ignore[arg-type]


def test_config_matches_runc_spec_defaults(tmp_path: Path) -> None:
    """Written from scratch, but the same container ``runc spec`` would describe."""
    if shutil.which("runc") is None:
        pytest.skip("runc not found: apt-get install runc busybox-static")
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True, capture_output=True, timeout=10)
    spec = json.loads((tmp_path / "config.json").read_text())
    ours = oci_config(["sh"])
    assert set(spec) <= set(ours)
    assert ours["linux"]["namespaces"] == spec["linux"]["namespaces"]
    assert [m["destination"] for m in ours["mounts"]] == [m["destination"] for m in spec["mounts"]]
    assert ours["linux"]["maskedPaths"] == spec["linux"]["maskedPaths"]
    assert ours["linux"]["readonlyPaths"] == spec["linux"]["readonlyPaths"]
    assert (
        ours["process"]["capabilities"]["bounding"] == spec["process"]["capabilities"]["bounding"]
    )
    assert ours["root"] == spec["root"]


def test_bundle_has_busybox_applets_and_its_size(tmp_path: Path) -> None:
    busybox = _busybox()
    bundle = build_bundle(tmp_path / "bundle", ["echo", "hello"])
    assert bundle.path == tmp_path / "bundle" and bundle.rootfs == bundle.path / "rootfs"
    config = json.loads((bundle.path / "config.json").read_text())
    assert config["process"]["args"] == ["echo", "hello"]
    binary = bundle.rootfs / "bin" / "busybox"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert binary.stat().st_size == busybox.stat().st_size
    for applet in ("sh", "echo", "true", "sleep"):
        assert applet in DEFAULT_APPLETS
        assert os.readlink(bundle.rootfs / "bin" / applet) == "busybox"
    for mount_point in ("proc", "dev", "sys"):
        assert (bundle.rootfs / mount_point).is_dir()
    sizes = [
        os.lstat(path).st_size
        for path in bundle.rootfs.rglob("*")
        if not path.is_dir() or path.is_symlink()
    ]
    assert bundle.rootfs_bytes == sum(sizes) == tree_bytes(bundle.rootfs)
    assert bundle.rootfs_bytes > busybox.stat().st_size > 0


def test_bundle_replaces_an_old_one_and_leaves_no_staging(tmp_path: Path) -> None:
    _busybox()
    build_bundle(tmp_path / "bundle", ["echo", "one"])
    (tmp_path / "bundle" / "stale").write_text("from before")
    bundle = build_bundle(tmp_path / "bundle", ["echo", "two"], applets=["sh"])
    assert json.loads((bundle.path / "config.json").read_text())["process"]["args"] == [
        "echo",
        "two",
    ]
    assert not (bundle.path / "stale").exists()
    assert not (bundle.rootfs / "bin" / "echo").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_bundle_into_an_existing_empty_directory(tmp_path: Path) -> None:
    _busybox()
    bundle = build_bundle(tmp_path, ["true"])
    assert bundle.path == tmp_path and (tmp_path / "config.json").is_file()


def test_dynamic_busybox_is_refused_with_the_package_to_install(tmp_path: Path) -> None:
    """A dynamic binary would fail inside the rootfs with a misleading 'no such file'."""
    with pytest.raises(ContainerUnavailable, match="apt-get install busybox-static"):
        build_bundle(tmp_path / "bundle", ["true"], busybox=Path(sys.executable).resolve())
    assert list(tmp_path.iterdir()) == []


# -- runtime selection without containers --------------------------------------------------


def test_missing_runtime_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(
        ContainerUnavailable, match=r"^runc not found: apt-get install runc busybox-static$"
    ):
        oci.Runc()
    with pytest.raises(ContainerUnavailable, match=r"runc not found.*; crun not found"):
        select_container_runtime()


def test_not_root_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ContainerUnavailable, match=r"^not root: runc needs root here$"):
        oci.Runc()


def test_unknown_runtime_choice() -> None:
    with pytest.raises(ValueError, match="unknown container runtime 'docker'"):
        select_container_runtime("docker")


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        (
            (
                b'time="2026-11-22T00:13:15Z" level=error msg="runc run failed: unable to start '
                b'container process: exec: \\"nope\\": executable file not found in $PATH"\n'
            ),
            (
                'runc run failed: unable to start container process: exec: "nope": '
                "executable file not found in $PATH"
            ),
        ),
        (
            b"cgroups in hybrid mode not supported, drop all controllers from cgroupv2\n",
            "cgroups in hybrid mode not supported, drop all controllers from cgroupv2",
        ),
        (b"", ""),
    ],
)
def test_reason_is_the_runtimes_own_line(stderr: bytes, reason: str) -> None:
    assert oci.runtime_reason(stderr) == reason


# -- real containers (runc) ----------------------------------------------------------------


def test_select_picks_runc(runc: oci.Runc) -> None:
    with select_container_runtime() as runtime:
        assert runtime.engine.name == "runc" and runtime.engine.mode == "oci"
        assert re.fullmatch(r"\d+\.\d+\.\d+", runtime.engine.version)
        assert runtime.engine == runc.engine


def test_echo_prints_hello_and_leaves_nothing(runc: oci.Runc, bundles: dict[str, Bundle]) -> None:
    result = runc.run(bundles["hello"])
    assert (result.exit_code, result.stdout) == (0, b"hello\n"), result.stderr
    assert _listed(runc) == []
    assert tree_bytes(bundles["hello"].rootfs) == bundles["hello"].rootfs_bytes  # read-only rootfs


def test_failing_command_returns_its_exit_code(runc: oci.Runc, bundles: dict[str, Bundle]) -> None:
    assert runc.run(bundles["exit3"]).exit_code == 3
    assert _listed(runc) == []


def test_missing_executable_fails_with_the_runtime_message(runc: oci.Runc, tmp_path: Path) -> None:
    result = runc.run(build_bundle(tmp_path / "b", ["no-such-program"]))
    assert result.exit_code != 0
    assert b"no-such-program" in result.stderr
    assert _listed(runc) == []


def test_timeout_kills_and_deletes_the_container(
    runc: oci.Runc, bundles: dict[str, Bundle]
) -> None:
    started = time.monotonic()
    with pytest.raises(RunTimeout) as caught:
        runc.run(bundles["sleep"], timeout_s=1)
    assert time.monotonic() - started < 20  # bounded, not the 60 s the command asked for
    assert isinstance(caught.value, TimeoutError)
    assert _listed(runc) == []
    assert not runc.state_root.exists() or list(runc.state_root.iterdir()) == []


def test_memory_limit_reaches_the_cgroup(runc: oci.Runc, tmp_path: Path) -> None:
    """The limit is real: the container reads it back from its own memory cgroup."""
    script = (
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
        " || cat /sys/fs/cgroup/memory.max"
    )
    bundle = build_bundle(tmp_path / "b", ["sh", "-c", script], memory_limit_bytes=64 << 20)
    result = runc.run(bundle)
    assert (result.exit_code, result.stdout.strip()) == (0, str(64 << 20).encode()), result.stderr


def test_detached_container_has_memory_and_stops(
    runc: oci.Runc, bundles: dict[str, Bundle]
) -> None:
    container = runc.start_detached(bundles["sleep"])
    try:
        assert isinstance(container, RunningContainer) and container.bundle == bundles["sleep"]
        assert container.id in _listed(runc)
        assert _alive(container.pid)
        assert runc.pids(container) == [container.pid]
        assert runc.memory_bytes(container) > 0
    finally:
        runc.stop(container)
    assert not _alive(container.pid)
    assert container.id not in _listed(runc)
    runc.stop(container)  # idempotent


def test_ids_are_unique_per_container(runc: oci.Runc, bundles: dict[str, Bundle]) -> None:
    first = runc.start_detached(bundles["sleep"])
    second = runc.start_detached(bundles["sleep"])
    try:
        assert first.id != second.id and first.pid != second.pid
        assert re.fullmatch(rf"perfdata-{os.getpid()}-\d+", first.id)
        assert sorted(_listed(runc)) == sorted([first.id, second.id])
    finally:
        runc.cleanup_all()
    assert not _alive(first.pid) and not _alive(second.pid)


def test_with_block_cleans_up_after_an_exception(
    runc: oci.Runc, bundles: dict[str, Bundle]
) -> None:
    with (
        pytest.raises(RuntimeError, match="test body failed"),
        select_container_runtime("runc") as runtime,
    ):
        assert isinstance(runtime, oci.Runc)
        container = runtime.start_detached(bundles["sleep"])
        assert _alive(container.pid)
        raise RuntimeError("test body failed")
    assert not _alive(container.pid)
    assert not runtime.state_root.exists()
    assert runtime.run(bundles["hello"]).stdout == b"hello\n"  # still usable afterwards
    runtime.cleanup_all()


# -- crun ----------------------------------------------------------------------------------


def test_crun_runs_or_says_why_in_one_line(bundles: dict[str, Bundle]) -> None:
    """On a hybrid cgroup v1/v2 host crun 1.8 refuses; that must be a skip reason, not a crash."""
    if shutil.which("crun") is None:
        pytest.skip("crun not found: apt-get install crun busybox-static")
    try:
        runtime = select_container_runtime("crun")
    except ContainerUnavailable as reason:
        message = str(reason)
        assert message.startswith("crun: ") and "\n" not in message
        if os.geteuid() == 0 and os.path.ismount("/sys/fs/cgroup/unified"):
            assert "hybrid" in message
        return
    with runtime:
        assert runtime.engine.name == "crun"
        assert runtime.run(bundles["hello"]).stdout == b"hello\n"
