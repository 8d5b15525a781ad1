"""The control plane's own cost, on the local cluster: start-up time, memory idle and with pods, API latency.

Only the local cluster (``--perf-k3s-cluster=local``, or ``auto`` without a kubeconfig) runs
its server on this machine, where its processes can be read; on a user's cluster these tests
skip. K3s's docs publish a server's resource profile to compare with (docs.k3s.io,
reference/resource-profiling); the claims under ``claims/`` cite it.
"""

from __future__ import annotations

import time

import pytest

from pytest_perfdata.engines.k8s import resolve_runtime
from pytest_perfdata.engines.k8s.local import LocalCluster
from pytest_perfdata.engines.k8s.metrics import quantiles

#: Measured once: a second attempt would start among the first attempt's objects.
pytestmark = pytest.mark.perf(confirm=0)

MIB = 1024 * 1024
PODS = 100  # a bounded burst: the pods created one after another while their calls are timed


def _local(k3s_cluster) -> LocalCluster:  # type: ignore[no-untyped-def]
    if k3s_cluster.local is None:
        pytest.skip("the server's processes are on another machine: its start-up time and memory are measured on "
                    "the local cluster (--perf-k3s-cluster=local; python3 tools/setup.py suites builds it)")
    return k3s_cluster.local


def _memory_note(sizes: dict[str, int]) -> str:
    return "resident memory (VmRSS): " + ", ".join(f"{name} {b / MIB:.1f} MiB" for name, b in sorted(sizes.items()))


def test_server_startup_and_idle_memory(perf, k3s_cluster) -> None:  # type: ignore[no-untyped-def]
    """API server start (process start to /readyz 200), and the control plane's resident memory idle."""
    local = _local(k3s_cluster)
    node = k3s_cluster.nodes[0]
    engine, notes = k3s_cluster.engine(node), k3s_cluster.notes(node)
    perf.runtime(k3s_cluster.facts.distribution, k3s_cluster.facts.server_version)
    perf.record_value(k3s_cluster.cluster_metric("k3s.server.ready_time"),
                      local.plane.apiserver_ready_s, unit="s", engine=engine,
                      notes=("kube-apiserver process start to the first /readyz 200, kine already serving", *notes))
    sizes = local.plane.resident_bytes()
    assert set(sizes) >= {"kine", "kube-apiserver"}, f"components not running: {sorted(sizes)}"
    perf.record_value(k3s_cluster.cluster_metric("k3s.server.memory.idle"),
                      sum(b for name, b in sizes.items() if name != "kwok") / MIB, unit="MiB", engine=engine,
                      notes=("kine + kube-apiserver + kube-controller-manager + kube-scheduler, without KWOK; "
                             "K3s runs them in one process", _memory_note(sizes), *notes))


def test_api_call_latency_and_memory_with_pods(perf, k3s_cluster, batches) -> None:  # type: ignore[no-untyped-def]
    """Create PODS pods one call after another: each call's latency (the SLI of mutating calls), then memory."""
    local = _local(k3s_cluster)
    node = k3s_cluster.nodes[0]
    engine, notes = k3s_cluster.engine(node), k3s_cluster.notes(node)
    perf.runtime(k3s_cluster.facts.distribution, k3s_cluster.facts.server_version)
    runtime = resolve_runtime(k3s_cluster.facts, "runc", k3s_cluster.settings)
    selector, batch = batches.new("api")
    cpu_before = sum(local.plane.cpu_seconds().values())
    latencies_ms = []
    for index in range(PODS):
        started = time.perf_counter()
        k3s_cluster.create_pods([f"{batch}-{index}"], runtime, node, batch)
        latencies_ms.append((time.perf_counter() - started) * 1000)
    pods, settled = k3s_cluster.settle(selector, PODS, k3s_cluster.settings.timeout_s)
    assert settled and len(pods) == PODS, f"{len(pods)} of {PODS} pods settled in {k3s_cluster.settings.timeout_s:g} s"
    q = quantiles(latencies_ms)
    perf.record_samples(k3s_cluster.cluster_metric("k3s.api.create_pod_latency"),
                        latencies_ms, unit="ms", statistic="p99", engine=engine,
                        notes=(f"POST pod, {PODS} calls one after another, client-side: P50 {q.p50:.1f} ms, "
                               f"P99 {q.p99:.1f} ms, max {q.max:.1f} ms; the Kubernetes SLI for mutating calls is "
                               f"P99 <= 1 s", *notes))
    sizes = local.plane.resident_bytes()
    used = sum(local.plane.cpu_seconds().values()) - cpu_before
    perf.record_value(k3s_cluster.cluster_metric(f"k3s.server.memory.with_{PODS}_pods"),
                      sum(b for name, b in sizes.items() if name != "kwok") / MIB, unit="MiB", engine=engine,
                      notes=(f"after {PODS} pods were created and Running", _memory_note(sizes),
                             f"control-plane CPU time for the burst: {used:.2f} s", *notes))
