"""Pure computations on Kubernetes API objects: cluster facts, pod start-up latency, density, memory.

Everything here takes API objects as plain JSON dicts, as the API server sends them (or as
``ApiClient().sanitize_for_serialization`` returns them), and watch events with the time the
client received them. Nothing here talks to a cluster or imports its client: the suite feeds
live objects, the tests recorded ones, through the same functions. One module per subject:

- :mod:`.objects`: reading an object (names, conditions, phases, timestamps, quantities)
- :mod:`.facts`: the cluster's facts and the choice of nodes
- :mod:`.readiness`: whether a pod is Ready or stuck, and why not
- :mod:`.startup`: start-up latency, kube-burner's and ClusterLoader2's views
- :mod:`.density`: why a density ramp stops
- :mod:`.memory`: stats-summary memory
"""

from __future__ import annotations

from .density import DensityStop, StopReason, density_stop, pod_cidr_capacity
from .facts import (
    ClusterFacts,
    NodeFacts,
    Resources,
    RuntimeClassFacts,
    cluster_facts,
    node_facts,
    runtime_class_facts,
    select_nodes,
    server_version,
    target_for_architecture,
)
from .memory import ContainerMemory, MemoryReport, memory_report
from .objects import Json, PodPhase, k8s_quantity, parse_time
from .readiness import STUCK_REASONS, NotReadyPod, is_ready, is_stuck, not_ready_reason
from .startup import (
    CL2_PHASES,
    KUBE_BURNER_CONDITIONS,
    MAX_NOT_READY_RATIO,
    StartupReport,
    WatchEvent,
    cl2_latencies,
    kube_burner_latencies,
    quantiles,
    startup_report,
)

__all__ = [
    "CL2_PHASES",
    "KUBE_BURNER_CONDITIONS",
    "MAX_NOT_READY_RATIO",
    "STUCK_REASONS",
    "ClusterFacts",
    "ContainerMemory",
    "DensityStop",
    "Json",
    "MemoryReport",
    "NodeFacts",
    "NotReadyPod",
    "PodPhase",
    "Resources",
    "RuntimeClassFacts",
    "StartupReport",
    "StopReason",
    "WatchEvent",
    "cl2_latencies",
    "cluster_facts",
    "density_stop",
    "is_ready",
    "is_stuck",
    "k8s_quantity",
    "kube_burner_latencies",
    "memory_report",
    "node_facts",
    "not_ready_reason",
    "parse_time",
    "pod_cidr_capacity",
    "quantiles",
    "runtime_class_facts",
    "select_nodes",
    "server_version",
    "startup_report",
    "target_for_architecture",
]
