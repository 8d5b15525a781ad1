"""Pod density per runtime and node: ramp pods until something stops it, and say what did."""

from __future__ import annotations

import time

import pytest

from pytest_perfdata.engines.k8s import resolve_runtime
from pytest_perfdata.engines.k8s.local import SimulatedNode
from pytest_perfdata.engines.k8s.metrics import (
    DensityStop,
    StopReason,
    density_stop,
    is_ready,
    is_stuck,
    pod_cidr_capacity,
)

#: Measured once: a second attempt would start among the first attempt's pods and pod history.
pytestmark = pytest.mark.perf(confirm=0)

STEP = 10
CREATORS = 4  # creates in flight at once, as a load generator sends them


def _ramp(k3s_cluster, runtime, node, batches, target: int, step: int):  # type: ignore[no-untyped-def]
    """Add ``step`` pods at a time on ``node`` until ``target`` or a stop; ``(reached, created, stop, seconds)``."""
    settings = k3s_cluster.settings
    selector, batch = batches.new("density")
    created, stop, ours = 0, None, []
    # KWOK hands out pod IPs past the end of a node's range, where a real node's IPAM refuses the
    # next pod: on a simulated node, no more pods are made than its pod CIDR holds.
    room = pod_cidr_capacity(node.pod_cidr) if node.simulated else None
    if room is not None:
        room -= len(k3s_cluster.node_pods(node))
    start = time.monotonic()
    while stop is None:
        count = min(step, target - created, step if room is None else room - created)
        k3s_cluster.create_pods([f"{batch}-{i}" for i in range(created, created + count)], runtime, node, batch,
                                parallel=CREATORS)
        created += count
        ours, settled = k3s_cluster.settle(selector, created, settings.timeout_s)
        stop = density_stop(k3s_cluster.node_object(node), k3s_cluster.node_pods(node), ours, k3s_cluster.events(),
                            target)
        if stop is None and (not settled or count == 0):
            waiting = sum(1 for p in ours if not (is_ready(p) or is_stuck(p)))
            stop = DensityStop(StopReason.TIMEOUT, (
                f"{waiting} pods on node {node.name} were neither Ready nor failed after {settings.timeout_s:g} s: "
                f"the node is too slow at this density; raise --perf-k3s-timeout or look at the kubelet's log"))
    elapsed = time.monotonic() - start
    reached = sum(1 for p in ours if is_ready(p))
    batches.remove(selector)
    return reached, created, stop, elapsed


def test_density(perf, k3s_cluster, runtime, batches) -> None:  # type: ignore[no-untyped-def]
    """Add pods ten at a time until the target, max-pods, the pod CIDR, or a refused or failed pod.

    Each step waits until every pod is Ready or cannot become Ready. Max-pods is 110 by default
    and counts system pods; K3s gives each node a /24 pod CIDR (253 pods). The record is the
    count reached, with the time it took and why it stopped, in words a user can act on.
    """
    for node in k3s_cluster.nodes:
        for name, version in k3s_cluster.runtimes(node).items():
            perf.runtime(name, version)
        reached, created, stop, elapsed = _ramp(k3s_cluster, runtime, node, batches,
                                                k3s_cluster.settings.density_target, STEP)
        notes = (f"stopped: {stop.message}", f"{reached} pods Ready after {elapsed:.1f} s ({created} created)",
                 *k3s_cluster.notes(node, runtime))
        engine = k3s_cluster.engine(node)
        pods = k3s_cluster.per_node(f"k3s.density.pods.{runtime.label}", node)
        perf.record_value(**pods, value=reached, unit="pods", better="higher", engine=engine, notes=notes)
        ramp = k3s_cluster.per_node(f"k3s.density.ramp_time.{runtime.label}", node)
        perf.record_value(**ramp, value=elapsed, unit="s", engine=engine, notes=notes)


def _ramp_on_a_new_node(perf, k3s_cluster, local_cluster, batches, name: str, added: SimulatedNode, step: int,
                        note: str):  # type: ignore[no-untyped-def]
    """The ramp to ``added.max_pods`` on a node added for it, recorded as ``k3s.control_plane.density.<name>.*``;
    the node is removed however the ramp ends. Returns ``(reached, stop)``."""
    runtime = resolve_runtime(k3s_cluster.facts, "runc", k3s_cluster.settings)
    perf.runtime(k3s_cluster.facts.distribution, k3s_cluster.facts.server_version)
    local_cluster.add_nodes([added])
    try:
        node = k3s_cluster.refresh_node(added.name)
        reached, created, stop, elapsed = _ramp(k3s_cluster, runtime, node, batches, added.max_pods, step)
    finally:
        local_cluster.remove_node(added.name)
    notes = (f"stopped: {stop.message}", f"{reached} pods Ready after {elapsed:.1f} s ({created} created)",
             f"node raised to max-pods {added.max_pods} with pod CIDR {added.pod_cidr}", note,
             *k3s_cluster.notes(node, runtime))
    engine = k3s_cluster.engine(node)
    perf.record_value(k3s_cluster.cluster_metric(f"k3s.control_plane.density.{name}.pods"), reached, unit="pods",
                      better="higher", engine=engine, notes=notes)
    perf.record_value(k3s_cluster.cluster_metric(f"k3s.control_plane.density.{name}.ramp_time"), elapsed, unit="s",
                      engine=engine, notes=notes)
    return reached, stop


#: A node whose max-pods is above what its /24 can address: the network stops the ramp first.
CIDR_NODE_PODS = 300
CIDR_NODE_CIDR = "10.42.239.0/24"  # beside the /20 below, never inside it


def test_density_until_the_pod_cidr_runs_out(perf, k3s_cluster, local_cluster, batches) -> None:  # type: ignore[no-untyped-def]
    """A node allowed 300 pods with K3s's /24: the ramp stops at the 253 addresses it has, and says so.

    KWOK does not model address exhaustion (it hands out addresses past the range), so the stop
    comes from the addresses in use against the range's size, as a real node's IPAM would refuse
    the next pod; on a real node the ramp also reads the CNI's "no IP addresses available" events.
    """
    node = SimulatedNode("kwok-amd64-cidr", "amd64", max_pods=CIDR_NODE_PODS, pod_cidr=CIDR_NODE_CIDR)
    reached, stop = _ramp_on_a_new_node(perf, k3s_cluster, local_cluster, batches, "cidr_24", node, 50,
                                        "KWOK does not run out of addresses, so the ramp stopped making pods when "
                                        "the range's were in use")
    assert stop.kind is StopReason.POD_CIDR, f"the ramp stopped for another reason: {stop.message}"
    assert reached == pod_cidr_capacity(CIDR_NODE_CIDR)


#: The figure our users quote for one edge node, and a pod CIDR wide enough to hold it (/20: 4094).
EDGE_PODS = 3000
EDGE_CIDR = "10.42.240.0/20"


def test_density_at_the_3000_pods_per_node_figure(perf, k3s_cluster, local_cluster, batches) -> None:  # type: ignore[no-untyped-def]
    """The same ramp on a node raised to 3,000 pods with a /20, local cluster only: what the control plane does.

    The node is simulated, so this says nothing of a Raspberry Pi's memory (the claims ledger
    shows that 3,000 × 32 MiB cannot fit in 8 GiB); it shows whether the scheduler, the API
    server and kine keep up with 3,000 pods bound to one node, and how long the ramp takes.
    """
    node = SimulatedNode("kwok-arm64-edge", "arm64", max_pods=EDGE_PODS, pod_cidr=EDGE_CIDR)
    reached, stop = _ramp_on_a_new_node(perf, k3s_cluster, local_cluster, batches, "edge_3000", node, 300,
                                        "the scheduler, API server and kine with 3,000 pods bound to one node")
    assert reached == EDGE_PODS, f"the control plane stopped at {reached} pods: {stop.message}"
