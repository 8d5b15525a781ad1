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
from pytest_perfdata.engines.k8s.metrics import is_ready, quantiles, select_nodes

#: Measured once: a second attempt would start among the first attempt's objects.
pytestmark = pytest.mark.perf(confirm=0)

MIB = 1024 * 1024
PODS = 400  # a bounded burst: pods created (then deleted) one call after another, each call timed


def test_server_startup_and_idle_memory(perf, k3s_cluster, local_cluster) -> None:  # type: ignore[no-untyped-def]
    """API server start (process start to /readyz 200), and the control plane's resident memory idle."""
    local = local_cluster
    node = k3s_cluster.nodes[0]
    engine, notes = k3s_cluster.engine(node), k3s_cluster.notes(node)
    perf.runtime(k3s_cluster.facts.distribution, k3s_cluster.facts.server_version)
    perf.record_value(k3s_cluster.cluster_metric("k3s.server.ready_time"),
                      local.plane.apiserver_ready_s, unit="s", engine=engine,
                      notes=("kube-apiserver process start to the first /readyz 200, kine already serving", *notes))
    server_bytes, sizes = local.started_bytes
    assert server_bytes > 0, "the local cluster did not read its memory when it started"
    perf.record_value(k3s_cluster.cluster_metric("k3s.server.memory.idle"), server_bytes / MIB, unit="MiB",
                      engine=engine, notes=("kine + kube-apiserver + kube-controller-manager + kube-scheduler, "
                                            "without KWOK; K3s runs them in one process", sizes,
                                            "read once the session's cluster and its nodes were ready, before any "
                                            "test ran", *notes))


def test_api_call_latency_and_memory_with_pods(perf, k3s_cluster, local_cluster, batches) -> None:  # type: ignore[no-untyped-def]
    """PODS creates, one call after another, spread over the nodes; memory with them; then PODS deletes.

    Both are mutating calls for single objects, the Kubernetes SLI (P99 <= 1 s): 2 x PODS samples.
    A P99's distribution-free interval needs its upper order statistic inside the sample: at 95 %
    confidence 800 samples give one (at 99 % it would take about 1,300 calls), so the record
    states 95 %.
    """
    local = local_cluster
    facts_nodes = select_nodes("all", k3s_cluster.facts, k3s_cluster.target)
    node = k3s_cluster.nodes[0]
    engine, notes = k3s_cluster.engine(node), k3s_cluster.notes(node)
    perf.runtime(k3s_cluster.facts.distribution, k3s_cluster.facts.server_version)
    runtime = resolve_runtime(k3s_cluster.facts, "runc", k3s_cluster.settings)
    assert len(facts_nodes) * 110 >= PODS, f"{len(facts_nodes)} nodes cannot hold {PODS} pods"
    selector, batch = batches.new("api")
    cpu_before = local.plane.server_cpu_seconds()
    latencies_ms = []
    names = [f"{batch}-{index}" for index in range(PODS)]
    for index, name in enumerate(names):
        started = time.perf_counter()
        k3s_cluster.create_pods([name], runtime, facts_nodes[index % len(facts_nodes)], batch)
        latencies_ms.append((time.perf_counter() - started) * 1000)
    pods, settled = k3s_cluster.wait_pods(selector, lambda pods: len(pods) == PODS and all(is_ready(p) for p in pods),
                                          k3s_cluster.settings.timeout_s)
    assert settled, f"{sum(is_ready(p) for p in pods)} of {PODS} pods Ready in {k3s_cluster.settings.timeout_s:g} s"
    server_bytes, sizes = local.plane.server_bytes()
    for name in names:
        started = time.perf_counter()
        k3s_cluster.read(f"delete pod {name}", k3s_cluster.core.delete_namespaced_pod, name, k3s_cluster.namespace,
                         grace_period_seconds=0)
        latencies_ms.append((time.perf_counter() - started) * 1000)
    used = local.plane.server_cpu_seconds() - cpu_before
    q = quantiles(latencies_ms)
    perf.record_samples(k3s_cluster.cluster_metric("k3s.api.mutating_call_latency"), latencies_ms, unit="ms",
                        statistic="p99", confidence=0.95, engine=engine,
                        notes=(f"{PODS} POST pod then {PODS} DELETE pod, one call after another, timed on the client: "
                               f"P50 {q.p50:.1f} ms, P99 {q.p99:.1f} ms, max {q.max:.1f} ms; the Kubernetes SLI for "
                               f"mutating calls is P99 <= 1 s", *notes))
    perf.record_value(k3s_cluster.cluster_metric(f"k3s.server.memory.with_{PODS}_pods"),
                      server_bytes / MIB, unit="MiB", engine=engine,
                      notes=(f"after {PODS} pods over {len(facts_nodes)} nodes were created and Running", sizes, f"control-plane CPU time for the {2 * PODS} calls: {used:.2f} s",
                             *notes))
