"""The cluster a run measured, from ``/version``, the nodes and the RuntimeClasses; and which nodes to use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

from .objects import Json, conditions, k8s_quantity, name_of

__all__ = [
    "ClusterFacts",
    "NodeFacts",
    "Resources",
    "RuntimeClassFacts",
    "SIMULATED_ANNOTATION",
    "cluster_facts",
    "node_facts",
    "runtime_class_facts",
    "select_nodes",
    "server_version",
    "target_for_architecture",
]

#: The annotation KWOK manages its nodes by (``--manage-nodes-with-annotation-selector``).
SIMULATED_ANNOTATION: Final = ("kwok.x-k8s.io/node", "fake")
_ARCHITECTURE_TARGETS: Final = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


def target_for_architecture(architecture: str) -> str:
    """The baseline target name (``x86_64``, ``arm64``) of a node's ``nodeInfo.architecture``."""
    return _ARCHITECTURE_TARGETS.get(architecture, architecture)


@final
@dataclass(frozen=True, slots=True)
class Resources:
    """A node's capacity or allocatable: CPU in cores, memory in bytes, and the pod count."""

    cpu: float
    memory_bytes: int
    pods: int

    @classmethod
    def from_api(cls, resources: Json | None) -> Resources:
        resources = resources or {}
        return cls(
            cpu=k8s_quantity(resources.get("cpu", "0")),
            memory_bytes=int(k8s_quantity(resources.get("memory", "0"))),
            pods=int(k8s_quantity(resources.get("pods", "0"))),
        )

    def __str__(self) -> str:
        return f"{self.cpu:g} CPU, {self.memory_bytes / 2**30:.1f} GiB, {self.pods} pods"


@final
@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What a record needs to say about the node it ran on, and what the suite needs to pin pods."""

    name: str
    hostname: str
    architecture: str
    os_image: str
    kernel: str
    kubelet_version: str
    container_runtime: str
    capacity: Resources
    allocatable: Resources
    pod_cidr: str
    ready: bool
    schedulable: bool
    #: KWOK plays this node's kubelet: nothing runs on it, so nothing a kubelet measures is real.
    simulated: bool = False

    @property
    def target(self) -> str:
        """The baseline target whose claims apply to this node."""
        return target_for_architecture(self.architecture)

    def describe(self) -> str:
        if self.simulated:
            return (f"node {self.name} ({self.architecture}, simulated by {self.container_runtime or 'KWOK'}: no kubelet, "
                    f"no container runs; allocatable {self.allocatable}, pod CIDR {self.pod_cidr or 'none'})")
        return (f"node {self.name} ({self.architecture}, {self.container_runtime}, kubelet {self.kubelet_version}, "
                f"allocatable {self.allocatable})")


@final
@dataclass(frozen=True, slots=True)
class RuntimeClassFacts:
    """A RuntimeClass: its name, the CRI handler it selects, the nodes it is limited to."""

    name: str
    handler: str
    node_selector: tuple[tuple[str, str], ...] = ()


@final
@dataclass(frozen=True, slots=True)
class ClusterFacts:
    """The cluster a run measured: recorded with every figure so that runs compare fairly."""

    server_version: str
    platform: str
    nodes: tuple[NodeFacts, ...]
    runtime_classes: tuple[RuntimeClassFacts, ...]

    def node(self, name: str) -> NodeFacts:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def runtime_class(self, name: str) -> RuntimeClassFacts | None:
        return next((rc for rc in self.runtime_classes if rc.name == name), None)

    @property
    def distribution(self) -> str:
        """``k3s`` when the API server says so (``v1.30.4+k3s1``), else upstream ``kubernetes``.

        Records name the distribution that answered, never the one the suite was written for.
        """
        build = self.server_version.partition("+")[2]
        return "k3s" if build.startswith("k3s") else ("rke2" if build.startswith("rke2") else "kubernetes")

    def describe(self) -> str:
        classes = ", ".join(rc.name for rc in self.runtime_classes) or "none"
        return (f"cluster {self.server_version} ({self.platform}), {len(self.nodes)} node(s), "
                f"RuntimeClasses: {classes}")


def server_version(version: Json) -> str:
    """``gitVersion`` of a ``/version`` response, e.g. ``v1.30.4+k3s1``."""
    return str(version.get("gitVersion") or f"v{version.get('major', '?')}.{version.get('minor', '?')}")


def node_facts(node: Json) -> NodeFacts:
    """The facts of one Node object."""
    metadata, spec, status = node.get("metadata") or {}, node.get("spec") or {}, node.get("status") or {}
    info = status.get("nodeInfo") or {}
    labels = metadata.get("labels") or {}
    ready = conditions(node).get("Ready", {}).get("status") == "True"
    no_schedule = any(t.get("effect") in ("NoSchedule", "NoExecute") for t in spec.get("taints") or ())
    return NodeFacts(
        name=name_of(node),
        hostname=str(labels.get("kubernetes.io/hostname", name_of(node))),
        architecture=str(info.get("architecture") or labels.get("kubernetes.io/arch", "unknown")),
        os_image=str(info.get("osImage", "")),
        kernel=str(info.get("kernelVersion", "")),
        kubelet_version=str(info.get("kubeletVersion", "")),
        container_runtime=str(info.get("containerRuntimeVersion", "")),
        capacity=Resources.from_api(status.get("capacity")),
        allocatable=Resources.from_api(status.get("allocatable")),
        pod_cidr=str(spec.get("podCIDR", "")),
        ready=ready,
        schedulable=not spec.get("unschedulable", False) and not no_schedule,
        simulated=(metadata.get("annotations") or {}).get(SIMULATED_ANNOTATION[0]) == SIMULATED_ANNOTATION[1],
    )


def runtime_class_facts(runtime_classes: Json) -> tuple[RuntimeClassFacts, ...]:
    """The RuntimeClasses of a ``RuntimeClassList``, sorted by name."""
    facts = []
    for item in runtime_classes.get("items") or ():
        selector = ((item.get("scheduling") or {}).get("nodeSelector")) or {}
        facts.append(RuntimeClassFacts(name_of(item), str(item.get("handler", "")), tuple(sorted(selector.items()))))
    return tuple(sorted(facts, key=lambda rc: rc.name))


def cluster_facts(version: Json, nodes: Json, runtime_classes: Json) -> ClusterFacts:
    """All facts from a ``/version`` response, a ``NodeList`` and a ``RuntimeClassList``."""
    return ClusterFacts(
        server_version=server_version(version),
        platform=str(version.get("platform", "")),
        nodes=tuple(sorted((node_facts(n) for n in nodes.get("items") or ()), key=lambda n: n.name)),
        runtime_classes=runtime_class_facts(runtime_classes),
    )


def select_nodes(spec: str, facts: ClusterFacts, target: str) -> tuple[NodeFacts, ...]:
    """The nodes per-node measurements run on: ``auto``, ``all`` or ``NAME,NAME``.

    ``auto`` picks one usable node, preferring the run's target architecture, so that the
    verdicts use the baselines that belong to the hardware measured. Named nodes must exist and
    be usable; the error lists the usable ones.
    """
    usable = [n for n in facts.nodes if n.ready and n.schedulable]
    names = ", ".join(n.name for n in usable) or "none"
    spec = spec.strip() or "auto"
    if spec == "auto":
        if not usable:
            raise ValueError("no node is Ready and schedulable")
        return (next((n for n in usable if n.target == target), usable[0]),)
    if spec == "all":
        if not usable:
            raise ValueError("no node is Ready and schedulable")
        return tuple(usable)
    chosen = []
    for name in (part.strip() for part in spec.split(",") if part.strip()):
        node = next((n for n in facts.nodes if n.name == name), None)
        if node is None or node not in usable:
            why = "no such node" if node is None else "not Ready and schedulable"
            raise ValueError(f"--perf-k3s-nodes: {name}: {why} (usable nodes: {names})")
        chosen.append(node)
    return tuple(chosen)
