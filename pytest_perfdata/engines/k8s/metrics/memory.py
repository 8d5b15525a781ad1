"""Memory from a kubelet stats summary: working sets per pod and container, and what K3s itself costs a node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import final

from ....stats import Summary, summarize
from .objects import Json

__all__ = ["ContainerMemory", "MemoryReport", "memory_report"]


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
        return summarize(self.pod_bytes)


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
