"""A local Kubernetes cluster for the K3s suite: a real control plane, simulated nodes.

K3s's own Go module is not served here, so the control plane is upstream Kubernetes's
(kube-apiserver, kube-controller-manager, kube-scheduler from ``k8s.io/kubernetes``, one
binary) on kine with SQLite, K3s's datastore; KWOK plays the kubelets. Records made on it name
the distribution the API server reports (``kubernetes v1.36.3``), never "k3s", and say that
their nodes are simulated.

- :mod:`.binaries`: where the three binaries are, or why there are none
- :mod:`.pki`: a fresh CA, serving, admin and tenant certificates and service-account key per cluster
- :mod:`.control_plane`: the five processes, started until ready and always stopped
- :mod:`.nodes`: the simulated nodes' objects (architecture, max-pods, pod CIDR)
- :mod:`.cluster`: all of it together, with the nodes Ready
"""

from __future__ import annotations

from .binaries import LocalBinaries, find_binaries
from .cluster import LocalCluster
from .control_plane import ControlPlaneOptions, LocalClusterError, LocalControlPlane
from .nodes import KWOK_ANNOTATION, SimulatedNode, default_nodes, scale_nodes

__all__ = [
    "KWOK_ANNOTATION",
    "ControlPlaneOptions",
    "LocalBinaries",
    "LocalCluster",
    "LocalClusterError",
    "LocalControlPlane",
    "SimulatedNode",
    "default_nodes",
    "find_binaries",
    "scale_nodes",
]
