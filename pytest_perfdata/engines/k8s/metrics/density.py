"""Whether a pod-density ramp on a node must stop, and why, in words a user can act on."""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, final

from .facts import node_facts
from .objects import FINISHED, Json, conditions, name_of, phase_of
from .readiness import events_for, is_ready, is_stuck, not_ready_reason

__all__ = ["DensityStop", "StopReason", "density_stop", "pod_cidr_capacity"]

_IP_EXHAUSTED: Final = re.compile(r"no IP addresses available|failed to allocate for range|range is full",
                                  re.IGNORECASE)


class StopReason(str, enum.Enum):
    """What ended a density ramp: the closed set of causes a report can name."""

    TARGET = "target"  # the ramp reached --perf-k3s-density-target
    MAX_PODS = "max-pods"  # the kubelet's max-pods
    POD_CIDR = "pod-cidr"  # the node's pod CIDR ran out of addresses
    RESOURCES = "resources"  # the scheduler found no allocatable CPU/memory/... left
    UNSCHEDULABLE = "unschedulable"  # the scheduler refused for another reason
    FAILED = "failed"  # a pod of the ramp will not become Ready by itself
    TIMEOUT = "timeout"  # pods were still neither Ready nor failed at --perf-k3s-timeout


@final
@dataclass(frozen=True, slots=True)
class DensityStop:
    """Why a density ramp stopped: ``kind`` for code, ``message`` for the person reading the report.

    ``kind`` may be given as its text (``"timeout"``); it is kept as a :class:`StopReason`, so a
    misspelt kind fails where it is made.
    """

    kind: StopReason
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", StopReason(self.kind))


def pod_cidr_capacity(cidr: str) -> int | None:
    """Pod IPs a node's ``podCIDR`` can hand out: addresses minus network, broadcast and gateway.

    K3s gives each node a /24 from 10.42.0.0/16, so 253 pods; flannel's host-local IPAM keeps
    the first address for the bridge. ``None`` when there is no IPv4 CIDR to count against.
    """
    if not cidr:
        return None
    network = ipaddress.ip_network(cidr, strict=False)
    if network.version != 4:
        return None
    return max(network.num_addresses - 3, 0)


def _active(pods: Iterable[Json]) -> list[Json]:
    """Pods that hold a slot on their node: neither Succeeded nor Failed."""
    return [p for p in pods if phase_of(p) not in FINISHED]


def density_stop(
    node: Json,
    node_pods: Sequence[Json],
    ours: Sequence[Json],
    events: Sequence[Json],
    target: int,
) -> DensityStop | None:
    """Whether a density ramp on ``node`` must stop, and why, in words a user can act on.

    ``node_pods`` are all pods bound to the node (any namespace: system pods count against
    max-pods too), ``ours`` the ramp's own pods (bound or not), ``events`` the ramp namespace's
    events. The first cause found wins, in the order a user would look: the network (pod CIDR),
    the scheduler (max-pods, resources, other), failed pods, then the plain counts.
    """
    facts = node_facts(node)
    name, max_pods = facts.name, facts.allocatable.pods
    active_on_node = _active(node_pods)
    our_names = {name_of(p) for p in ours}
    others = sum(1 for p in active_on_node if name_of(p) not in our_names)
    running = sum(1 for p in ours if is_ready(p))
    capacity = pod_cidr_capacity(facts.pod_cidr)
    with_ip = sum(1 for p in active_on_node
                  if not (p.get("spec") or {}).get("hostNetwork") and (p.get("status") or {}).get("podIP"))

    def cidr_stop(detail: str) -> DensityStop:
        return DensityStop(StopReason.POD_CIDR, (
            f"pod CIDR {facts.pod_cidr or '?'} of node {name} is exhausted ({detail}): give each node a larger range "
            f"(K3s: a wider --cluster-cidr with --kube-controller-manager-arg=node-cidr-mask-size=N)"))

    def max_pods_stop() -> DensityStop:
        return DensityStop(StopReason.MAX_PODS, (
            f"kubelet max-pods={max_pods} reached on node {name} ({len(active_on_node)} pods on the node, "
            f"{others} of them not this run's): raise it with --kubelet-arg=max-pods=N (k3s server or agent) "
            f"and keep the pod CIDR larger"))

    for event in events:
        if event.get("reason") == "FailedCreatePodSandBox" and _IP_EXHAUSTED.search(str(event.get("message", ""))):
            pod = (event.get("involvedObject") or {}).get("name", "?")
            return cidr_stop(f"pod {pod} got no IP address, {with_ip} pods with an IP on the node")

    for pod in sorted(ours, key=name_of):
        scheduled = conditions(pod).get("PodScheduled", {})
        message = str(scheduled.get("message", ""))
        if scheduled.get("status") != "False":
            continue
        failed = [e for e in events_for(events, name_of(pod)) if e.get("reason") == "FailedScheduling"]
        message = message or (str(failed[-1].get("message", "")) if failed else "")
        if "Too many pods" in message:
            return max_pods_stop()
        insufficient = sorted({r.rstrip(".") for r in re.findall(r"Insufficient ([\w./-]+)", message)})
        if insufficient:
            return DensityStop(StopReason.RESOURCES, (
                f"node {name} has no allocatable {' and '.join(insufficient)} left for pod {name_of(pod)} "
                f"(allocatable: {facts.allocatable}): lower the pods' requests or use a larger node"))
        if scheduled.get("reason") == "Unschedulable":
            return DensityStop(StopReason.UNSCHEDULABLE,
                               f"pod {name_of(pod)} cannot be scheduled on node {name}: {message}")

    for pod in sorted(ours, key=name_of):
        if is_stuck(pod):
            why = not_ready_reason(pod, events)
            return DensityStop(StopReason.FAILED, (
                f"pod {why.name} failed on node {name} after {running} ready pods: {why.reason}"
                + (f": {why.message}" if why.message else "")))

    if running >= target:
        return DensityStop(StopReason.TARGET, f"target of {target} pods reached on node {name}")
    if max_pods and len(active_on_node) >= max_pods:
        return max_pods_stop()
    if capacity is not None and with_ip >= capacity:
        return cidr_stop(f"{with_ip} of {capacity} pod IPs in use")
    return None
