"""Pure computations on Kubernetes API objects: cluster facts, pod start-up latency, density, memory."""

# Everything here takes API objects as plain JSON dicts, as the API server sends them (or as
# ``ApiClient().sanitize_for_serialization`` returns them), and watch events with the time the
# client received them. Nothing here talks to a cluster: the suite feeds live objects, the
# tests recorded ones, through the same functions.

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, final

from ...stats import Summary, summarize

__all__ = [
    "CL2_PHASES",
    "KUBE_BURNER_CONDITIONS",
    "MAX_NOT_READY_RATIO",
    "ClusterFacts",
    "ContainerMemory",
    "DensityStop",
    "MemoryReport",
    "NodeFacts",
    "NotReadyPod",
    "Resources",
    "RuntimeClassFacts",
    "StartupReport",
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
    "stale_namespaces",
    "startup_report",
    "target_for_architecture",
]

Json = Mapping[str, Any]

#: Pod conditions whose ``lastTransitionTime`` kube-burner's podLatency measures from creation.
KUBE_BURNER_CONDITIONS: Final = ("PodScheduled", "Initialized", "ContainersReady", "Ready")
#: ClusterLoader2's phases, each the gap between two instants the watching client saw.
CL2_PHASES: Final = ("create_to_schedule", "schedule_to_run", "run_to_watch", "create_to_run")
#: Like kube-burner: a start-up run with more pods than this that never became Ready is invalid.
MAX_NOT_READY_RATIO: Final = 0.10

#: Waiting reasons after which a pod will not become Ready by itself within a measurement.
STUCK_REASONS: Final = frozenset({
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    "CreateContainerConfigError", "CreateContainerError", "CrashLoopBackOff", "RunContainerError",
})
_ARCHITECTURE_TARGETS: Final = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}
_BINARY_SUFFIXES: Final = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES: Final = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
                            "P": 1e15, "E": 1e18}
_QUANTITY: Final = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*$")


# -- small parsers ----------------------------------------------------------------------------


def parse_time(text: str) -> dt.datetime:
    """An API timestamp (``2024-09-12T08:30:00Z``, or MicroTime with a fraction) as aware UTC.

    ``metav1.Time`` is serialised to whole seconds, which is why kube-burner's view of start-up
    latency has one-second resolution; ``MicroTime`` (events) keeps microseconds.
    """
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def k8s_quantity(text: str | float) -> float:
    """A resource quantity (``"110"``, ``"500m"``, ``"8023128Ki"``, ``"4Gi"``) as a plain number."""
    if isinstance(text, (int, float)):
        return float(text)
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, suffix = float(match.group(1)), match.group(2)
    if suffix in _BINARY_SUFFIXES:
        return number * _BINARY_SUFFIXES[suffix]
    if suffix in _DECIMAL_SUFFIXES:
        return number * _DECIMAL_SUFFIXES[suffix]
    raise ValueError(f"unknown suffix {suffix!r} in Kubernetes quantity {text!r}")


def target_for_architecture(architecture: str) -> str:
    """The baseline target name (``x86_64``, ``arm64``) of a node's ``nodeInfo.architecture``."""
    return _ARCHITECTURE_TARGETS.get(architecture, architecture)


def _conditions(obj: Json) -> dict[str, Json]:
    return {c.get("type", ""): c for c in (obj.get("status") or {}).get("conditions") or ()}


def _name(obj: Json) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


# -- cluster facts ----------------------------------------------------------------------------


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

    @property
    def target(self) -> str:
        """The baseline target whose claims apply to this node."""
        return target_for_architecture(self.architecture)

    def describe(self) -> str:
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
    ready = _conditions(node).get("Ready", {}).get("status") == "True"
    no_schedule = any(t.get("effect") in ("NoSchedule", "NoExecute") for t in spec.get("taints") or ())
    return NodeFacts(
        name=_name(node),
        hostname=str(labels.get("kubernetes.io/hostname", _name(node))),
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
    )


def runtime_class_facts(runtime_classes: Json) -> tuple[RuntimeClassFacts, ...]:
    """The RuntimeClasses of a ``RuntimeClassList``, sorted by name."""
    facts = []
    for item in runtime_classes.get("items") or ():
        selector = ((item.get("scheduling") or {}).get("nodeSelector")) or {}
        facts.append(RuntimeClassFacts(_name(item), str(item.get("handler", "")), tuple(sorted(selector.items()))))
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


def stale_namespaces(namespaces: Json, now: dt.datetime, max_age: dt.timedelta, annotation: str) -> list[str]:
    """Names of namespaces (of a ``NamespaceList`` already filtered by our label) older than ``max_age``.

    Age comes from our created-at annotation, else the creation timestamp; namespaces already
    being deleted are left alone.
    """
    stale = []
    for item in namespaces.get("items") or ():
        metadata = item.get("metadata") or {}
        if metadata.get("deletionTimestamp") or (item.get("status") or {}).get("phase") == "Terminating":
            continue
        stamp = (metadata.get("annotations") or {}).get(annotation) or metadata.get("creationTimestamp")
        if stamp is None:
            continue
        try:
            created = parse_time(str(stamp))
        except ValueError:
            continue
        if now - created > max_age:
            stale.append(str(metadata.get("name")))
    return sorted(stale)


# -- pod start-up latency ---------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One watch event and when this client received it (seconds on the client's wall clock)."""

    type: str
    object: Json
    received_at: float

    @classmethod
    def from_dict(cls, data: Json) -> WatchEvent:
        """A recorded event: ``{"type": ..., "object": ..., "receivedAt": ...}``."""
        return cls(str(data["type"]), data["object"], float(data["receivedAt"]))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "receivedAt": self.received_at, "object": self.object}


#: P50/P90/P99/max (and the rest) of some samples: the plugin's own summary, type-7 quantiles.
quantiles: Final = summarize


def is_ready(pod: Json) -> bool:
    return _conditions(pod).get("Ready", {}).get("status") == "True"


def _is_running(pod: Json) -> bool:
    """Phase Running with every container started: the kubelet has run the pod."""
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or ()
    return status.get("phase") == "Running" and bool(containers) and all(
        "running" in (c.get("state") or {}) for c in containers
    )


def _waiting(pod: Json) -> tuple[str, str] | None:
    status = pod.get("status") or {}
    for container in (*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())):
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") not in (None, "ContainerCreating", "PodInitializing"):
            return str(waiting["reason"]), str(waiting.get("message", ""))
    return None


def is_stuck(pod: Json) -> bool:
    """The pod will not become Ready without someone acting (bad image, crash loop, unschedulable)."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Failed", "Succeeded"):
        return True
    scheduled = _conditions(pod).get("PodScheduled", {})
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return True
    waiting = _waiting(pod)
    return waiting is not None and waiting[0] in STUCK_REASONS


def kube_burner_latencies(pod: Json) -> dict[str, float]:
    """Seconds from ``creationTimestamp`` to each True condition's ``lastTransitionTime``.

    Both are whole-second API timestamps, so each figure is a whole number of seconds, set by
    the API server's and the kubelet's clocks (the same machine on a one-node K3s).
    """
    created = parse_time(pod["metadata"]["creationTimestamp"])
    latencies = {}
    for kind, condition in _conditions(pod).items():
        if kind in KUBE_BURNER_CONDITIONS and condition.get("status") == "True" and condition.get("lastTransitionTime"):
            latencies[kind] = (parse_time(condition["lastTransitionTime"]) - created).total_seconds()
    return latencies


def cl2_latencies(events: Iterable[WatchEvent], created_at: Mapping[str, float] | None = None) -> dict[str, dict[str, float]]:
    """ClusterLoader2's phases per pod, in ms, from when this client saw each step.

    The four instants, all on the client's clock: *create* (the create request was sent, from
    ``created_at``; else the ``ADDED`` event arrived), *schedule* (the first event with the pod
    bound to a node), *run* (the first event with every container running), *watch* (the first
    event with the pod Ready). Only pods that reached all four appear.
    """
    seen: dict[str, dict[str, float]] = {}
    for event in sorted(events, key=lambda e: e.received_at):
        if event.type not in ("ADDED", "MODIFIED"):
            continue
        pod = event.object
        name = _name(pod)
        instants = seen.setdefault(name, {})
        instants.setdefault("create", event.received_at)
        if (pod.get("spec") or {}).get("nodeName"):
            instants.setdefault("schedule", event.received_at)
        if _is_running(pod):
            instants.setdefault("schedule", event.received_at)
            instants.setdefault("run", event.received_at)
        if is_ready(pod):
            for step in ("schedule", "run", "watch"):
                instants.setdefault(step, event.received_at)
    latencies = {}
    for name, instants in seen.items():
        if created_at and name in created_at:
            instants["create"] = created_at[name]
        if {"create", "schedule", "run", "watch"} <= instants.keys():
            ms = {step: t * 1000.0 for step, t in instants.items()}
            latencies[name] = {
                "create_to_schedule": ms["schedule"] - ms["create"],
                "schedule_to_run": ms["run"] - ms["schedule"],
                "run_to_watch": ms["watch"] - ms["run"],
                "create_to_run": ms["run"] - ms["create"],
            }
    return latencies


@final
@dataclass(frozen=True, slots=True)
class NotReadyPod:
    """A pod that never became Ready, with the most specific reason the API gave."""

    name: str
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}" + (f" ({self.message})" if self.message else "")


def not_ready_reason(pod: Json, events: Sequence[Json] = ()) -> NotReadyPod:
    """Why ``pod`` is not Ready: a container's waiting reason, unschedulability, or its latest event."""
    name = _name(pod)
    waiting = _waiting(pod)
    if waiting is not None:
        return NotReadyPod(name, *waiting)
    scheduled = _conditions(pod).get("PodScheduled", {})
    if scheduled.get("status") == "False":
        return NotReadyPod(name, str(scheduled.get("reason", "Unschedulable")), str(scheduled.get("message", "")))
    status = pod.get("status") or {}
    if status.get("phase") == "Failed":
        return NotReadyPod(name, str(status.get("reason", "Failed")), str(status.get("message", "")))
    warnings = [e for e in _events_for(events, name) if e.get("type") == "Warning"]
    if warnings:
        return NotReadyPod(name, str(warnings[-1].get("reason", "")), str(warnings[-1].get("message", "")))
    return NotReadyPod(name, f"phase {status.get('phase', 'unknown')}", "not Ready before the deadline")


def _event_time(event: Json) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")


def _events_for(events: Sequence[Json], pod_name: str) -> list[Json]:
    """Events about one pod, oldest first."""
    mine = [e for e in events if (e.get("involvedObject") or {}).get("name") == pod_name]
    return sorted(mine, key=_event_time)


@final
@dataclass(frozen=True, slots=True)
class StartupReport:
    """Both views of one start-up run, and the pods that never became Ready.

    ``kube_burner`` maps each condition to per-pod seconds (whole seconds, server clocks);
    ``cl2`` maps each phase to per-pod milliseconds (client watch clock). Both hold only pods
    that became Ready, so the two views describe the same pods.
    """

    total: int
    kube_burner: dict[str, tuple[float, ...]]
    cl2: dict[str, tuple[float, ...]]
    not_ready: tuple[NotReadyPod, ...]

    @property
    def error_ratio(self) -> float:
        return len(self.not_ready) / self.total if self.total else 1.0

    @property
    def valid(self) -> bool:
        return self.total > 0 and self.error_ratio <= MAX_NOT_READY_RATIO

    @property
    def invalid_reason(self) -> str | None:
        """Why the run cannot be judged (``None`` when it can), naming the pods and their reasons."""
        if self.total == 0:
            return "no pods were created"
        if self.valid:
            return None
        listed = "; ".join(str(p) for p in self.not_ready[:5]) + ("; ..." if len(self.not_ready) > 5 else "")
        return (f"{len(self.not_ready)} of {self.total} pods ({self.error_ratio:.0%}) never became Ready, more than "
                f"the {MAX_NOT_READY_RATIO:.0%} a valid run allows (as in kube-burner): {listed}")


def startup_report(
    pods: Sequence[Json],
    watch: Iterable[WatchEvent] = (),
    created_at: Mapping[str, float] | None = None,
    events: Sequence[Json] = (),
) -> StartupReport:
    """Both latency views for ``pods`` (their final objects), from their watch events."""
    ready = [p for p in pods if is_ready(p)]
    ready_names = {_name(p) for p in ready}
    burner: dict[str, list[float]] = {kind: [] for kind in KUBE_BURNER_CONDITIONS}
    for pod in sorted(ready, key=_name):
        for kind, seconds in kube_burner_latencies(pod).items():
            burner[kind].append(seconds)
    cl2: dict[str, list[float]] = {phase: [] for phase in CL2_PHASES}
    for name, phases in sorted(cl2_latencies(watch, created_at).items()):
        if name in ready_names:
            for phase, ms in phases.items():
                cl2[phase].append(ms)
    not_ready = tuple(not_ready_reason(p, events) for p in sorted(pods, key=_name) if not is_ready(p))
    return StartupReport(
        total=len(pods),
        kube_burner={k: tuple(v) for k, v in burner.items() if v},
        cl2={k: tuple(v) for k, v in cl2.items() if v},
        not_ready=not_ready,
    )


# -- density ----------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class DensityStop:
    """Why a density ramp stopped: ``kind`` for code, ``message`` for the person reading the report.

    Kinds: ``target``, ``max-pods``, ``pod-cidr``, ``resources``, ``unschedulable``, ``failed``,
    ``timeout``.
    """

    kind: str
    message: str


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
    return [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]


_IP_EXHAUSTED = re.compile(r"no IP addresses available|failed to allocate for range|range is full", re.IGNORECASE)


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
    our_names = {_name(p) for p in ours}
    others = sum(1 for p in active_on_node if _name(p) not in our_names)
    running = sum(1 for p in ours if is_ready(p))
    capacity = pod_cidr_capacity(facts.pod_cidr)
    with_ip = sum(1 for p in active_on_node
                  if not (p.get("spec") or {}).get("hostNetwork") and (p.get("status") or {}).get("podIP"))

    def cidr_stop(detail: str) -> DensityStop:
        return DensityStop("pod-cidr", (
            f"pod CIDR {facts.pod_cidr or '?'} of node {name} is exhausted ({detail}): give each node a larger range "
            f"(K3s: a wider --cluster-cidr with --kube-controller-manager-arg=node-cidr-mask-size=N)"))

    def max_pods_stop() -> DensityStop:
        return DensityStop("max-pods", (
            f"kubelet max-pods={max_pods} reached on node {name} ({len(active_on_node)} pods on the node, "
            f"{others} of them not this run's): raise it with --kubelet-arg=max-pods=N (k3s server or agent) "
            f"and keep the pod CIDR larger"))

    for event in events:
        if event.get("reason") == "FailedCreatePodSandBox" and _IP_EXHAUSTED.search(str(event.get("message", ""))):
            pod = (event.get("involvedObject") or {}).get("name", "?")
            return cidr_stop(f"pod {pod} got no IP address, {with_ip} pods with an IP on the node")

    for pod in sorted(ours, key=_name):
        scheduled = _conditions(pod).get("PodScheduled", {})
        message = str(scheduled.get("message", ""))
        if scheduled.get("status") != "False":
            continue
        failed = [e for e in _events_for(events, _name(pod)) if e.get("reason") == "FailedScheduling"]
        message = message or (str(failed[-1].get("message", "")) if failed else "")
        if "Too many pods" in message:
            return max_pods_stop()
        insufficient = sorted({r.rstrip(".") for r in re.findall(r"Insufficient ([\w./-]+)", message)})
        if insufficient:
            return DensityStop("resources", (
                f"node {name} has no allocatable {' and '.join(insufficient)} left for pod {_name(pod)} "
                f"(allocatable: {facts.allocatable}): lower the pods' requests or use a larger node"))
        if scheduled.get("reason") == "Unschedulable":
            return DensityStop("unschedulable", f"pod {_name(pod)} cannot be scheduled on node {name}: {message}")

    for pod in sorted(ours, key=_name):
        if is_stuck(pod):
            why = not_ready_reason(pod, events)
            return DensityStop("failed", (
                f"pod {why.name} failed on node {name} after {running} ready pods: {why.reason}"
                + (f": {why.message}" if why.message else "")))

    if running >= target:
        return DensityStop("target", f"target of {target} pods reached on node {name}")
    if max_pods and len(active_on_node) >= max_pods:
        return max_pods_stop()
    if capacity is not None and with_ip >= capacity:
        return cidr_stop(f"{with_ip} of {capacity} pod IPs in use")
    return None


# -- memory -----------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class ContainerMemory:
    """Working set of one container of one pod, in bytes."""

    pod: str
    container: str
    working_set_bytes: int


@final
@dataclass(frozen=True, slots=True)
class MemoryReport:
    """Per-pod and per-container working sets of one namespace, and the node's own footprint.

    ``footprint_bytes`` is what Kubernetes itself costs on the node: the kubelet's and the
    container runtime's system containers. On K3s both live in the one ``k3s`` process and
    cgroup, so when they report the same figures they are counted once.
    """

    node: str
    pods: tuple[tuple[str, int], ...]
    containers: tuple[ContainerMemory, ...]
    system: tuple[tuple[str, int], ...]
    node_working_set_bytes: int
    footprint_bytes: int
    footprint_note: str
    missing: tuple[str, ...] = field(default=())

    @property
    def pod_bytes(self) -> list[int]:
        return [b for _, b in self.pods]

    @property
    def average_bytes(self) -> float:
        return sum(self.pod_bytes) / len(self.pods) if self.pods else float("nan")

    def pod_quantiles(self) -> Summary:
        return quantiles(self.pod_bytes)


def _working_set(stats: Json | None) -> int | None:
    value = (stats or {}).get("workingSetBytes")
    return int(value) if value is not None else None


def memory_report(summary: Json, namespace: str) -> MemoryReport:
    """Working sets from a kubelet stats summary (``/api/v1/nodes/{node}/proxy/stats/summary``).

    A pod's own figure (its cgroup, sandbox included) is used when the kubelet reports one, else
    the sum of its containers. Pods of ``namespace`` the kubelet has not measured yet are listed
    in ``missing`` rather than counted as zero.
    """
    node = summary.get("node") or {}
    pods: list[tuple[str, int]] = []
    containers: list[ContainerMemory] = []
    missing: list[str] = []
    for pod in summary.get("pods") or ():
        ref = pod.get("podRef") or {}
        if ref.get("namespace") != namespace:
            continue
        name = str(ref.get("name"))
        own = []
        for container in pod.get("containers") or ():
            ws = _working_set(container.get("memory"))
            if ws is not None:
                own.append(ContainerMemory(name, str(container.get("name")), ws))
        total = _working_set(pod.get("memory"))
        if total is None and own:
            total = sum(c.working_set_bytes for c in own)
        if total is None:
            missing.append(name)
            continue
        pods.append((name, total))
        containers += own
    system = {str(c.get("name")): c for c in node.get("systemContainers") or ()}
    parts = {name: system[name] for name in ("kubelet", "runtime") if name in system}
    figures = {name: _working_set(c.get("memory")) or 0 for name, c in parts.items()}
    if len(parts) == 2 and parts["kubelet"].get("memory") == parts["runtime"].get("memory"):
        footprint, note = figures["kubelet"], "kubelet and runtime report one cgroup (K3s runs both in one process): counted once"
    else:
        footprint = sum(figures.values())
        note = " + ".join(figures) + " system containers" if figures else "no kubelet/runtime system containers reported"
    return MemoryReport(
        node=str(node.get("nodeName", "")),
        pods=tuple(sorted(pods)),
        containers=tuple(sorted(containers, key=lambda c: (c.pod, c.container))),
        system=tuple(sorted((name, _working_set(c.get("memory")) or 0) for name, c in system.items())),
        node_working_set_bytes=_working_set(node.get("memory")) or 0,
        footprint_bytes=footprint,
        footprint_note=note,
        missing=tuple(sorted(missing)),
    )
