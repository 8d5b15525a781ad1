"""Pod density per runtime and node: ramp pods until something stops it, and say what did."""

from __future__ import annotations

import time

import pytest

from pytest_perfdata.engines.k8s.metrics import DensityStop, StopReason, density_stop, is_ready, is_stuck

#: Measured once: a second attempt would start among the first attempt's pods and pod history.
pytestmark = pytest.mark.perf(confirm=0)

STEP = 10


def test_density(perf, k3s_cluster, runtime, batches) -> None:  # type: ignore[no-untyped-def]
    """Add pods ten at a time until the target, max-pods, the pod CIDR, or a refused or failed pod.

    Each step waits until every pod is Ready or cannot become Ready. Max-pods is 110 by default
    and counts system pods; K3s gives each node a /24 pod CIDR (253 pods). The record is the
    count reached, with the time it took and why it stopped, in words a user can act on.
    """
    settings = k3s_cluster.settings
    for node in k3s_cluster.nodes:
        for name, version in k3s_cluster.runtimes(node).items():
            perf.runtime(name, version)
        selector, batch = batches.new("density")
        created, stop, ours = 0, None, []
        start = time.monotonic()
        while stop is None:
            count = min(STEP, settings.density_target - created)
            k3s_cluster.create_pods([f"{batch}-{i}" for i in range(created, created + count)], runtime, node, batch)
            created += count
            ours, settled = k3s_cluster.settle(selector, created, settings.timeout_s)
            stop = density_stop(k3s_cluster.node_object(node), k3s_cluster.node_pods(node), ours, k3s_cluster.events(),
                                settings.density_target)
            if stop is None and (not settled or count == 0):
                waiting = sum(1 for p in ours if not (is_ready(p) or is_stuck(p)))
                stop = DensityStop(StopReason.TIMEOUT, (
                    f"{waiting} pods on node {node.name} were neither Ready nor failed after {settings.timeout_s:g} s: "
                    f"the node is too slow at this density; raise --perf-k3s-timeout or look at the kubelet's log"))
        elapsed = time.monotonic() - start
        reached = sum(1 for p in ours if is_ready(p))
        notes = (f"stopped: {stop.message}", f"{reached} pods Ready after {elapsed:.1f} s ({created} created)",
                 *k3s_cluster.notes(node, runtime))
        engine = k3s_cluster.engine(node)
        perf.record_value(k3s_cluster.metric(f"k3s.density.pods.{runtime.label}", node), reached, unit="pods",
                          better="higher", engine=engine, notes=notes)
        perf.record_value(k3s_cluster.metric(f"k3s.density.ramp_time.{runtime.label}", node), elapsed, unit="s",
                          engine=engine, notes=notes)
        batches.remove(selector)
