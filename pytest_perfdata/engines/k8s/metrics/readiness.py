"""Where a pod stands: Ready, running, stuck (will not become Ready by itself), and why it is not Ready."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, final

from .objects import FINISHED, Json, PodPhase, conditions, name_of, phase_of

__all__ = [
    "STUCK_REASONS",
    "NotReadyPod",
    "events_for",
    "is_ready",
    "is_running",
    "is_stuck",
    "not_ready_reason",
    "waiting_reason",
]

#: Waiting reasons after which a pod will not become Ready by itself within a measurement.
STUCK_REASONS: Final = frozenset({
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    "CreateContainerConfigError", "CreateContainerError", "CrashLoopBackOff", "RunContainerError",
})
#: Waiting reasons of a pod that is simply on its way: not a reason to give up on it.
_ON_ITS_WAY: Final = (None, "ContainerCreating", "PodInitializing")


def is_ready(pod: Json) -> bool:
    return conditions(pod).get("Ready", {}).get("status") == "True"


def is_running(pod: Json) -> bool:
    """Phase Running with every container started: the kubelet has run the pod."""
    containers = (pod.get("status") or {}).get("containerStatuses") or ()
    return phase_of(pod) == PodPhase.RUNNING and bool(containers) and all(
        "running" in (c.get("state") or {}) for c in containers
    )


def waiting_reason(pod: Json) -> tuple[str, str] | None:
    """The first container (init containers first) waiting for a reason other than starting up."""
    status = pod.get("status") or {}
    for container in (*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())):
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") not in _ON_ITS_WAY:
            return str(waiting["reason"]), str(waiting.get("message", ""))
    return None


def is_stuck(pod: Json) -> bool:
    """The pod will not become Ready without someone acting (bad image, crash loop, unschedulable)."""
    if phase_of(pod) in FINISHED:
        return True
    scheduled = conditions(pod).get("PodScheduled", {})
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return True
    waiting = waiting_reason(pod)
    return waiting is not None and waiting[0] in STUCK_REASONS


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
    name = name_of(pod)
    waiting = waiting_reason(pod)
    if waiting is not None:
        return NotReadyPod(name, *waiting)
    scheduled = conditions(pod).get("PodScheduled", {})
    if scheduled.get("status") == "False":
        return NotReadyPod(name, str(scheduled.get("reason", "Unschedulable")), str(scheduled.get("message", "")))
    status = pod.get("status") or {}
    if phase_of(pod) == PodPhase.FAILED:
        return NotReadyPod(name, str(status.get("reason", "Failed")), str(status.get("message", "")))
    warnings = [e for e in events_for(events, name) if e.get("type") == "Warning"]
    if warnings:
        return NotReadyPod(name, str(warnings[-1].get("reason", "")), str(warnings[-1].get("message", "")))
    return NotReadyPod(name, f"phase {status.get('phase', 'unknown')}", "not Ready before the deadline")


def _event_time(event: Json) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")


def events_for(events: Sequence[Json], pod_name: str) -> list[Json]:
    """Events about one pod, oldest first."""
    mine = [e for e in events if (e.get("involvedObject") or {}).get("name") == pod_name]
    return sorted(mine, key=_event_time)
