"""Reading plain-JSON API objects: names, conditions, pod phases, timestamps and resource quantities."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["FINISHED", "Json", "PodPhase", "conditions", "k8s_quantity", "name_of", "parse_time", "phase_of"]

#: An API object as the API server sends it: JSON, never a client model class.
Json = Mapping[str, Any]

_BINARY_SUFFIXES: Final = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES: Final = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
                            "P": 1e15, "E": 1e18}
_QUANTITY: Final = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*$")


class PodPhase(str, enum.Enum):
    """``status.phase`` of a pod. A str-Enum, so it compares equal to the text in the JSON."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    UNKNOWN = "Unknown"


#: Phases after which a pod holds no slot on its node and will not run again.
FINISHED: Final = (PodPhase.SUCCEEDED, PodPhase.FAILED)


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


def conditions(obj: Json) -> dict[str, Json]:
    """An object's ``status.conditions`` by type (``Ready``, ``PodScheduled``, ...)."""
    return {c.get("type", ""): c for c in (obj.get("status") or {}).get("conditions") or ()}


def name_of(obj: Json) -> str:
    """``metadata.name``, or ``""`` for an object without one."""
    return str((obj.get("metadata") or {}).get("name", ""))


def phase_of(pod: Json) -> str | None:
    """``status.phase`` as sent (compare it with :class:`PodPhase`), ``None`` when absent."""
    phase = (pod.get("status") or {}).get("phase")
    return None if phase is None else str(phase)
