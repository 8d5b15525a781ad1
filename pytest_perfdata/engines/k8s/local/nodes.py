"""The simulated nodes of the local cluster: Node objects that KWOK keeps alive and "runs" pods on.

They look like K3s agents to the control plane: ``kubernetes.io/arch`` and ``os`` labels, a
``pods`` allocatable (K3s's default max-pods is 110) and a pod CIDR of their own (K3s gives
each node a /24 of 10.42.0.0/16), from which KWOK hands out pod IPs. KWOK manages exactly the
nodes annotated ``kwok.x-k8s.io/node: fake``; it starts no container and runs no kubelet, so
whatever a kubelet would measure is not there to be measured.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Final, final

from ..metrics.facts import SIMULATED_ANNOTATION as KWOK_ANNOTATION

__all__ = ["KWOK_ANNOTATION", "SimulatedNode", "default_nodes", "node_manifest", "scale_nodes"]

#: K3s's cluster CIDR; node N gets the N-th /24 of it, as K3s's node IPAM gives them out.
CLUSTER_CIDR: Final = ipaddress.ip_network("10.42.0.0/16")
#: A /16 holds 256 nodes' /24s; K3s's docs say to widen --cluster-cidr beyond 255 nodes. The
#: cluster-scale nodes take theirs from a /14 beside it (1,024 nodes).
SCALE_CIDR: Final = ipaddress.ip_network("10.44.0.0/14")
DEFAULT_MAX_PODS: Final = 110


@final
@dataclass(frozen=True, slots=True)
class SimulatedNode:
    """One KWOK node: its name, architecture, max-pods and pod CIDR."""

    name: str
    architecture: str  # kubernetes.io/arch: arm64, amd64
    max_pods: int = DEFAULT_MAX_PODS
    pod_cidr: str = ""
    cpu: str = "4"
    memory: str = "8Gi"

    def __post_init__(self) -> None:
        if self.max_pods < 1:
            raise ValueError(f"{self.name}: max_pods must be at least 1, got {self.max_pods}")
        if self.pod_cidr:
            ipaddress.ip_network(self.pod_cidr)  # a typo is an error here, not a pod without an IP later


def default_nodes(count: int = 4) -> tuple[SimulatedNode, ...]:
    """``count`` nodes, half ``arm64`` (the edge boxes), half ``amd64``, each with its own /24."""
    subnets = CLUSTER_CIDR.subnets(new_prefix=24)
    nodes = []
    for index in range(count):
        architecture = "arm64" if index % 2 == 0 else "amd64"
        nodes.append(SimulatedNode(f"kwok-{architecture}-{index // 2}", architecture, pod_cidr=str(next(subnets))))
    return tuple(nodes)


def scale_nodes(first: int, count: int) -> tuple[SimulatedNode, ...]:
    """Nodes ``first`` .. ``first + count - 1`` of a cluster-scale ramp, alternating arm64 and amd64,
    each with its own /24 of :data:`SCALE_CIDR`; the same index always gives the same node."""
    last = first + count
    if first < 0 or count < 0 or last > SCALE_CIDR.num_addresses // 256:
        raise ValueError(f"scale nodes {first}..{last - 1}: {SCALE_CIDR} holds /24s for nodes 0..1023 only")
    base = int(SCALE_CIDR.network_address)
    return tuple(SimulatedNode(f"kwok-scale-{index:04d}", "arm64" if index % 2 == 0 else "amd64",
                               pod_cidr=f"{ipaddress.ip_address(base + index * 256)}/24")
                 for index in range(first, last))


def node_manifest(node: SimulatedNode) -> dict[str, Any]:
    """The Node object; its status (capacity, allocatable, nodeInfo) is kept by KWOK as given here."""
    resources = {"cpu": node.cpu, "memory": node.memory, "pods": str(node.max_pods)}
    spec: dict[str, Any] = {}
    if node.pod_cidr:
        spec = {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr]}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": node.name,
            "annotations": {KWOK_ANNOTATION[0]: KWOK_ANNOTATION[1]},
            "labels": {"kubernetes.io/arch": node.architecture, "kubernetes.io/os": "linux",
                       "kubernetes.io/hostname": node.name, "type": "kwok"},
        },
        "spec": spec,
        "status": {"capacity": resources, "allocatable": resources,
                   "nodeInfo": {"architecture": node.architecture, "operatingSystem": "linux"}},
    }  # fmt: skip
