"""Memory per pod and container, and what K3s itself costs a node, from the kubelet's stats summary."""

from __future__ import annotations

import time

import pytest

from pytest_perfdata.engines.k8s.metrics import (
    is_ready,
    memory_report,
    not_ready_reason,
    quantiles,
)

#: Measured once: a second attempt would start among the first attempt's pods and pod history.
pytestmark = pytest.mark.perf(confirm=0)

MIB = 1024**2
STATS_WAIT_S = 90.0


def _figures(samples_bytes) -> str:  # type: ignore[no-untyped-def]
    q = quantiles(samples_bytes)
    return (f"average {q.mean / MIB:.3f} MiB, P90 {q.p90 / MIB:.3f} MiB, max {q.max / MIB:.3f} MiB "
            f"over {q.n}")


def test_pod_memory(perf, k3s_cluster, runtime, batches) -> None:  # type: ignore[no-untyped-def]
    """Working set per pod and per container (``/api/v1/nodes/{node}/proxy/stats/summary``).

    The kubelet refreshes the summary every 10-15 s, so the test waits until every measured pod
    appears in it.
    """
    settings = k3s_cluster.settings
    for node in k3s_cluster.kubelet_nodes("a pod's working set comes from its kubelet's stats summary"):
        for name, version in k3s_cluster.runtimes(node).items():
            perf.runtime(name, version)
        selector, batch = batches.new("memory")
        names = [f"{batch}-{i}" for i in range(settings.memory_pods)]
        k3s_cluster.create_pods(names, runtime, node, batch)
        pods, _ = k3s_cluster.settle(selector, len(names), settings.timeout_s)
        not_ready = [not_ready_reason(p) for p in pods if not is_ready(p)]
        if not_ready or len(pods) < len(names):
            pytest.fail(f"{node.name}: pods did not start, no memory to measure: "
                        + "; ".join(str(p) for p in not_ready[:5]), pytrace=False)
        deadline = time.monotonic() + STATS_WAIT_S
        while True:
            report = memory_report(k3s_cluster.stats_summary(node), k3s_cluster.namespace)
            if {n for n, _ in report.pods} >= set(names) or time.monotonic() > deadline:
                break
            time.sleep(2.0)
        if not report.pods:
            pytest.fail(f"{node.name}: the kubelet's stats summary has no figures for this run's pods after "
                        f"{STATS_WAIT_S:g} s", pytrace=False)
        engine, notes = k3s_cluster.engine(node), k3s_cluster.notes(node, runtime)
        source = "kubelet stats summary, workingSetBytes"
        pod_figure = k3s_cluster.per_node(f"k3s.memory.pod_working_set.{runtime.label}", node)
        perf.record_samples(**pod_figure, samples=[b / MIB for b in report.pod_bytes], unit="MiB", engine=engine,
                            notes=(f"{source} per pod (its cgroup, sandbox included): {_figures(report.pod_bytes)} pods",
                                   *notes))
        container_bytes = [c.working_set_bytes for c in report.containers]
        if container_bytes:
            container_figure = k3s_cluster.per_node(f"k3s.memory.container_working_set.{runtime.label}", node)
            perf.record_samples(**container_figure, samples=[b / MIB for b in container_bytes], unit="MiB",
                                engine=engine, notes=(f"{source} per container: {_figures(container_bytes)} containers", *notes))
        batches.remove(selector)


def test_node_footprint(perf, k3s_cluster) -> None:  # type: ignore[no-untyped-def]
    """What Kubernetes itself holds on each node (kubelet + runtime; one k3s process on K3s)."""
    for node in k3s_cluster.kubelet_nodes("a node's own memory comes from its kubelet's stats summary"):
        for name, version in k3s_cluster.runtimes(node).items():
            perf.runtime(name, version)
        report = memory_report(k3s_cluster.stats_summary(node), k3s_cluster.namespace)
        system = ", ".join(f"{name} {b / MIB:.1f} MiB" for name, b in report.system) or "none reported"
        notes = (report.footprint_note, f"system containers: {system}", *k3s_cluster.notes(node))
        engine = k3s_cluster.engine(node)
        perf.record_value(**k3s_cluster.per_node("k3s.memory.footprint", node), value=report.footprint_bytes / MIB,
                          unit="MiB", engine=engine, notes=notes)
        perf.record_value(**k3s_cluster.per_node("k3s.memory.node_working_set", node),
                          value=report.node_working_set_bytes / MIB, unit="MiB", engine=engine, notes=notes)
