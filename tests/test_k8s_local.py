"""The local cluster: its nodes, its names for what ran, and a real start that leaves nothing behind."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata.engines.k8s.local import (
    LocalCluster,
    LocalClusterError,
    SimulatedNode,
    default_nodes,
    find_binaries,
    scale_nodes,
)
from pytest_perfdata.engines.k8s.local.nodes import node_manifest
from pytest_perfdata.engines.k8s.metrics import cluster_facts
from pytest_perfdata.engines.k8s.metrics.facts import node_facts

ROOT = Path(__file__).resolve().parent.parent


@given(st.integers(min_value=1, max_value=200))
def test_default_nodes_split_the_architectures_and_never_share_a_pod_cidr(count: int) -> None:
    nodes = default_nodes(count)
    networks = [ipaddress.ip_network(node.pod_cidr) for node in nodes]
    assert len({node.name for node in nodes}) == count
    assert all(network.prefixlen == 24 and network.subnet_of(ipaddress.ip_network("10.42.0.0/16"))
               for network in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1:])
    arm = sum(node.architecture == "arm64" for node in nodes)
    assert arm - (count - arm) in (0, 1)


@given(st.integers(min_value=0, max_value=1023), st.integers(min_value=0, max_value=1024))
def test_scale_nodes_are_stable_distinct_and_outside_the_default_nodes_cidr(first: int, count: int) -> None:
    if first + count > 1024:
        with pytest.raises(ValueError, match="nodes 0..1023 only"):
            scale_nodes(first, count)
        return
    nodes = scale_nodes(first, count)
    networks = [ipaddress.ip_network(node.pod_cidr) for node in nodes]
    assert len({node.name for node in nodes}) == len({str(n) for n in networks}) == count
    assert not any(n.overlaps(ipaddress.ip_network("10.42.0.0/16")) for n in networks)
    if count > 1:  # the same index is the same node, whichever batch made it
        assert scale_nodes(first + 1, count - 1) == nodes[1:]


def test_a_bad_node_is_refused_where_it_is_made() -> None:
    with pytest.raises(ValueError, match="max_pods"):
        SimulatedNode("n", "arm64", max_pods=0)
    with pytest.raises(ValueError):
        SimulatedNode("n", "arm64", pod_cidr="10.42.300.0/24")


def test_a_simulated_node_is_known_as_one_and_its_figures_name_the_distribution() -> None:
    """The node object we create reads back as simulated; a record never names k3s for upstream Kubernetes."""
    from pytest_perfdata.engines.k8s.cluster import K3sCluster

    node = node_manifest(SimulatedNode("kwok-arm64-0", "arm64", pod_cidr="10.42.0.0/24"))
    node["status"]["nodeInfo"]["containerRuntimeVersion"] = "kwok-v0.8.0"
    facts = cluster_facts({"gitVersion": "v1.36.3"}, {"items": [node]}, {"items": []})
    (simulated,) = facts.nodes
    assert simulated.simulated and simulated.allocatable.pods == 110 and simulated.pod_cidr == "10.42.0.0/24"
    assert facts.distribution == "kubernetes"
    assert cluster_facts({"gitVersion": "v1.30.4+k3s1"}, {"items": []}, {"items": []}).distribution == "k3s"
    cluster = K3sCluster.__new__(K3sCluster)  # only its naming is under test: no connection
    cluster.facts, cluster.nodes, cluster.target = facts, facts.nodes, "arm64"
    assert cluster.metric("k3s.pod_startup.cl2.create_to_run.runc", simulated) == (
        "kubernetes.control_plane.pod_startup.cl2.create_to_run.runc")
    assert cluster.cluster_metric("k3s.server.ready_time") == "kubernetes.server.ready_time"
    engine = cluster.engine(simulated)
    assert engine.name == "kubernetes" and dict(engine.build) == {"kubelet": "simulated by kwok-v0.8.0"}
    assert any("simulated node" in note for note in cluster.notes(simulated))
    real = node_facts({"metadata": {"name": "pi"}, "status": {"nodeInfo": {"architecture": "arm64"}}})
    assert not real.simulated
    k3s = cluster_facts({"gitVersion": "v1.30.4+k3s1"}, {"items": []}, {"items": []})
    cluster.facts = k3s
    assert cluster.metric("k3s.pod_startup.cl2.create_to_run.runc", real) == "k3s.pod_startup.cl2.create_to_run.runc"


def test_without_the_binaries_the_reason_says_how_to_build_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = find_binaries(tmp_path)
    assert isinstance(reason, str)
    assert "kube-control-plane, kine, kwok not built" in reason and "python3 tools/setup.py suites" in reason


def _children_of(pids: list[int]) -> list[int]:
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


@pytest.fixture(scope="module")
def binaries():  # type: ignore[no-untyped-def]
    found = find_binaries(ROOT)
    if isinstance(found, str):
        pytest.skip(found)
    return found


def test_a_started_cluster_serves_its_version_and_nodes_and_stop_leaves_nothing(binaries) -> None:  # type: ignore[no-untyped-def]
    import json

    cluster = LocalCluster.start(binaries, default_nodes(2))
    pids, folder = cluster.plane.pids(), cluster.plane.folder
    try:
        assert len(_children_of(pids)) == 5
        status, body = cluster.plane.get("/version")
        assert status == 200 and json.loads(body)["gitVersion"].startswith("v1.")
        status, body = cluster.plane.get("/api/v1/nodes")
        names = sorted(item["metadata"]["name"] for item in json.loads(body)["items"])
        assert names == ["kwok-amd64-0", "kwok-arm64-0"]
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert cluster.plane.resident_bytes()["kube-apiserver"] > 10 * 2**20
    finally:
        cluster.stop()
    assert _children_of(pids) == [] and not folder.exists()
    cluster.stop()  # twice is fine


def test_a_component_that_dies_at_start_is_named_with_its_last_words_and_the_rest_is_stopped(
    binaries, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    broken_kwok = tmp_path / "kwok"
    broken_kwok.write_text("#!/bin/sh\necho 'cannot simulate today' >&2\nexit 3\n")
    broken_kwok.chmod(0o755)
    from dataclasses import replace

    with pytest.raises(LocalClusterError, match=r"kwok exited with 3; its last words: cannot simulate today") as caught:
        LocalCluster.start(replace(binaries, kwok=broken_kwok), default_nodes(1))
    assert "kwok" in str(caught.value)
    import subprocess

    left = subprocess.run(["pgrep", "-f", str(binaries.control_plane)], capture_output=True, text=True).stdout.split()
    mine = [pid for pid in left if Path(f"/proc/{pid}/environ").exists()
            and f"PYTEST_PERFDATA_OWNER=k8s-local:{os.getpid()}".encode() in Path(f"/proc/{pid}/environ").read_bytes()]
    assert mine == []


USES_CLUSTER = """
def test_cluster(k3s_cluster):
    raise AssertionError("there is no cluster here")
"""


def test_auto_without_kubeconfig_or_binaries_skips_naming_both(pytester: pytest.Pytester,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A newcomer without a cluster and without the build is told where it looked and what to run."""
    pytester.makepyfile(USES_CLUSTER)
    home = pytester.path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("PATH", str(pytester.path / "no-bin"))
    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    (skipped,) = [line for line in result.stdout.lines if line.startswith("SKIPPED")]
    assert "no kubeconfig found (tried --perf-kubeconfig: not given; KUBECONFIG: not set;" in skipped
    assert "no local cluster: kube-control-plane, kine, kwok not built (python3 tools/setup.py suites" in skipped
    named = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider", "--perf-k3s-cluster=kubeconfig")
    named.assert_outcomes(skipped=1)
    assert "no local cluster" not in named.stdout.str()


def test_the_cluster_choice_is_checked_at_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(USES_CLUSTER)
    result = pytester.runpytest_subprocess("--perf-k3s-cluster=remote")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*auto*local*kubeconfig*"])
