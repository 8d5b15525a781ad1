"""Pod start-up latency per runtime and node, in kube-burner's and ClusterLoader2's views."""

from __future__ import annotations

import pytest

from pytest_perfdata.engines.k8s.metrics import (
    KUBE_BURNER_CONDITIONS,
    is_ready,
    not_ready_reason,
    quantiles,
    startup_report,
)

#: Measured once: a second attempt would start among the first attempt's pods and pod history.
pytestmark = pytest.mark.perf(confirm=0)

CONDITION_NAMES = {"PodScheduled": "scheduled", "Initialized": "initialized", "ContainersReady": "containers_ready",
                   "Ready": "ready"}
KUBE_BURNER_NOTE = ("kube-burner view: condition lastTransitionTime minus creationTimestamp; API server and kubelet "
                    "clocks; whole-second resolution")
CL2_NOTE = ("ClusterLoader2 view: arrival of watch events on this client's wall clock, ms resolution; create = create "
            "request sent, schedule = pod bound, run = all containers running, watch = pod Ready")


def _spread(samples, unit: str) -> str:  # type: ignore[no-untyped-def]
    q = quantiles(samples)
    return f"P50 {q.p50:g} {unit}, P90 {q.p90:g} {unit}, P99 {q.p99:g} {unit}, max {q.max:g} {unit} over {q.n} pods"


def test_pod_startup_latency(perf, k3s_cluster, runtime, batches) -> None:  # type: ignore[no-untyped-def]
    """Create pods while watching them; record both views per phase, or fail an invalid run.

    The image is pulled once per node first, because Kubernetes' start-up SLO (P99 <= 5 s)
    leaves image pulls out. kube-burner's view reads the pods' condition timestamps (server
    clocks, whole seconds); ClusterLoader2's times the watch events here (ms). A run in which
    more than 10% of the pods never become Ready is invalid, as in kube-burner: its latencies
    are not recorded and the test fails with the pods' reasons.
    """
    settings = k3s_cluster.settings
    problems = []
    for node in k3s_cluster.nodes:
        for name, version in k3s_cluster.runtimes(node).items():
            perf.runtime(name, version)
        engine, notes = k3s_cluster.engine(node), k3s_cluster.notes(node, runtime)

        warm_selector, warm = batches.new("warm")
        k3s_cluster.create_pods([f"{warm}-0"], runtime, node, warm)
        warmed, _ = k3s_cluster.settle(warm_selector, 1, settings.timeout_s)
        if not warmed or not all(is_ready(p) for p in warmed):
            reason = not_ready_reason(warmed[0], k3s_cluster.events()) if warmed else "no pod was created"
            problems.append(f"{node.name}: the warm-up pod did not start, so {runtime.image} cannot be measured: {reason}")
            continue
        batches.remove(warm_selector)

        selector, batch = batches.new("start")
        names = [f"{batch}-{i}" for i in range(settings.pods)]
        watch, sent = k3s_cluster.watch_startup(names, runtime, node, selector, batch)
        report = startup_report(k3s_cluster.list_pods(selector), watch, sent, k3s_cluster.events())
        perf.record_value(**k3s_cluster.per_node(f"k3s.pod_startup.not_ready.{runtime.label}", node),
                          value=len(report.not_ready), unit="pods", engine=engine,
                          notes=(f"{len(report.not_ready)} of {report.total} pods never became Ready",
                                 *(str(p) for p in report.not_ready[:10]), *notes))
        if not report.valid:
            problems.append(f"{node.name}: {report.invalid_reason}")
            batches.remove(selector)
            continue
        for condition in KUBE_BURNER_CONDITIONS:
            samples = report.kube_burner.get(condition)
            if samples:
                figure = k3s_cluster.per_node(f"k3s.pod_startup.kube_burner.{CONDITION_NAMES[condition]}.{runtime.label}",
                                              node)
                perf.record_samples(**figure, samples=samples, unit="s", engine=engine,
                                    notes=(KUBE_BURNER_NOTE, _spread(samples, "s"), *notes))
        for phase, samples in report.cl2.items():
            perf.record_samples(**k3s_cluster.per_node(f"k3s.pod_startup.cl2.{phase}.{runtime.label}", node),
                                samples=samples, unit="ms", engine=engine, notes=(CL2_NOTE, _spread(samples, "ms"), *notes))
        batches.remove(selector)
    if problems:
        pytest.fail("invalid start-up run: " + " | ".join(problems), pytrace=False)
