"""Pod start-up latency in two views: kube-burner's (condition timestamps) and ClusterLoader2's (watch arrivals)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

from ....stats import summarize
from .objects import Json, conditions, name_of, parse_time
from .readiness import NotReadyPod, is_ready, is_running, not_ready_reason

__all__ = [
    "CL2_PHASES",
    "KUBE_BURNER_CONDITIONS",
    "MAX_NOT_READY_RATIO",
    "StartupReport",
    "WatchEvent",
    "cl2_latencies",
    "kube_burner_latencies",
    "quantiles",
    "startup_report",
]

#: Pod conditions whose ``lastTransitionTime`` kube-burner's podLatency measures from creation.
KUBE_BURNER_CONDITIONS: Final = ("PodScheduled", "Initialized", "ContainersReady", "Ready")
#: ClusterLoader2's phases, each the gap between two instants the watching client saw.
CL2_PHASES: Final = ("create_to_schedule", "schedule_to_run", "run_to_watch", "create_to_run")
#: Like kube-burner: a start-up run with more pods than this that never became Ready is invalid.
MAX_NOT_READY_RATIO: Final = 0.10

#: P50/P90/P99/max (and the rest) of some samples: the plugin's own summary, type-7 quantiles.
quantiles: Final = summarize


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


def kube_burner_latencies(pod: Json) -> dict[str, float]:
    """Seconds from ``creationTimestamp`` to each True condition's ``lastTransitionTime``.

    Both are whole-second API timestamps, so each figure is a whole number of seconds, set by
    the API server's and the kubelet's clocks (the same machine on a one-node K3s).
    """
    created = parse_time(pod["metadata"]["creationTimestamp"])
    latencies = {}
    for kind, condition in conditions(pod).items():
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
        name = name_of(pod)
        instants = seen.setdefault(name, {})
        instants.setdefault("create", event.received_at)
        if (pod.get("spec") or {}).get("nodeName"):
            instants.setdefault("schedule", event.received_at)
        if is_running(pod):
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
    ready_names = {name_of(p) for p in ready}
    burner: dict[str, list[float]] = {kind: [] for kind in KUBE_BURNER_CONDITIONS}
    for pod in sorted(ready, key=name_of):
        for kind, seconds in kube_burner_latencies(pod).items():
            burner[kind].append(seconds)
    cl2: dict[str, list[float]] = {phase: [] for phase in CL2_PHASES}
    for name, phases in sorted(cl2_latencies(watch, created_at).items()):
        if name in ready_names:
            for phase, ms in phases.items():
                cl2[phase].append(ms)
    not_ready = tuple(not_ready_reason(p, events) for p in sorted(pods, key=name_of) if not is_ready(p))
    return StartupReport(
        total=len(pods),
        kube_burner={k: tuple(v) for k, v in burner.items() if v},
        cl2={k: tuple(v) for k, v in cl2.items() if v},
        not_ready=not_ready,
    )
