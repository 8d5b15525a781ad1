"""The annotated record: one metric's result in one test, with its provenance and verdict.

Records cross process boundaries (xdist workers) and land in the run's JSON file, so every type
here converts to and from plain JSON-compatible dicts. The layout is versioned by
:data:`RECORD_SCHEMA`; ``pytest_perfdata/schema/run-3.json`` is the JSON Schema of the run file.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import asdict, dataclass
from typing import Any, Final, final

from .environment import Environment
from .provenance import DataSource, Engine, SourceKind, VerificationStatus
from .stats import Interval, Summary

__all__ = [
    "CPU_REFERENCE_KIND",
    "MAX_METRIC_NAME",
    "RECORD_SCHEMA",
    "Better",
    "Check",
    "CheckKind",
    "Confirmation",
    "DataSource",
    "Engine",
    "Environment",
    "Outcome",
    "Record",
    "SourceKind",
    "Verdict",
    "VerificationStatus",
    "interval_from_dict",
    "metric_name_problem",
]

#: The drift reference a record was timed beside unless it says otherwise: the CPU loop.
#: Baselines saved before references had kinds were all timed beside it.
CPU_REFERENCE_KIND: Final = "cpu-loop"

RECORD_SCHEMA: Final = "pytest-perfdata/run/3"

#: The longest metric name: a YAML key, a table cell and a JUnit property name all hold it.
MAX_METRIC_NAME: Final = 200


def metric_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a metric's name (None: it can).

    A metric name becomes a key of the reviewed baseline file, a column of the terminal table,
    a JUnit property and a JSON string, so it is printable text (no control character, no lone
    surrogate, which UTF-8 cannot encode), without spaces at its ends and at most
    :data:`MAX_METRIC_NAME` characters (PyYAML writes a longer key as a complex ``?`` key).
    """
    if not isinstance(name, str) or not name:
        return "a metric name is non-empty text"
    if len(name) > MAX_METRIC_NAME:
        return f"a metric name has at most {MAX_METRIC_NAME} characters, this one {len(name)}"
    if not name.isprintable():
        return "a metric name is printable text (no control character or lone surrogate)"
    if name != name.strip():
        return "a metric name has no spaces at its ends"
    return None


class Better(str, enum.Enum):
    """Which direction of a figure is an improvement: lower for times and sizes, higher for rates."""

    LOWER = "lower"
    HIGHER = "higher"


class CheckKind(str, enum.Enum):
    """The comparisons a verdict makes: the absolute limits and the regression against a stored value."""

    MAX = "max"
    MIN = "min"
    REGRESSION = "regression"


class Outcome(str, enum.Enum):
    """A verdict's three answers (plus ``none`` when there was nothing to judge against)."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    NONE = "none"


@final
@dataclass(frozen=True, slots=True)
class Check:
    """One comparison inside a verdict (for example ``p50 <= max 6 ms``) and how it came out."""

    kind: CheckKind
    outcome: Outcome
    limit: float  # in the record's unit (for "regression": the allowed ratio, e.g. 1.1)
    observed: Interval  # the interval that was compared, same unit as ``limit``
    message: str

    @property
    def not_compared(self) -> bool:
        """A regression check left undecided because the stored value came from another machine."""
        return self.kind == CheckKind.REGRESSION and self.outcome == Outcome.NONE

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", CheckKind(self.kind))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "limit": self.limit,
            "observed": _interval_to_dict(self.observed),
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(
            CheckKind(data["kind"]),
            Outcome(data["outcome"]),
            float(data["limit"]),
            interval_from_dict(data["observed"]),
            data["message"],
        )


@final
@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of a record against its baseline."""

    outcome: Outcome
    reason: str
    checks: tuple[Check, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reason": self.reason,
            "checks": [check.to_dict() for check in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(
            Outcome(data["outcome"]),
            data["reason"],
            tuple(Check.from_dict(c) for c in data.get("checks", ())),
        )


@final
@dataclass(frozen=True, slots=True)
class Confirmation:
    """A test that failed its verdict and was measured again: what the earlier attempts said.

    ``earlier_failures`` holds the verdict reasons of each failed attempt, oldest first; the
    record itself is the last attempt's, and its verdict says how it ended: a pass means the
    failures were not confirmed, a fail means every one of ``attempts`` attempts failed.
    """

    attempts: int
    earlier_failures: tuple[str, ...]

    @property
    def note(self) -> str:
        """The same, as one sentence for the record's notes."""
        failed = " || ".join(f"attempt {n}: {reason}" for n, reason in enumerate(self.earlier_failures, 1))
        return f"measured {self.attempts} times; earlier attempts failed: {failed}"

    def to_dict(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "earlier_failures": list(self.earlier_failures)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Confirmation:
        return cls(int(data["attempts"]), tuple(str(x) for x in data["earlier_failures"]))


def _interval_to_dict(interval: Interval) -> dict[str, Any]:
    # JSON has no infinity; an unbounded side is null.
    def bound(x: float) -> float | None:
        return x if abs(x) != float("inf") else None

    return {"low": bound(interval.low), "high": bound(interval.high), "confidence": interval.confidence}


def interval_from_dict(data: dict[str, Any]) -> Interval:
    """An interval as run files keep it: an unbounded side is null (JSON has no infinity)."""
    low = float("-inf") if data["low"] is None else float(data["low"])
    high = float("inf") if data["high"] is None else float(data["high"])
    return Interval(low, high, float(data["confidence"]))


@final
@dataclass(frozen=True, slots=True)
class Record:
    """One metric's result in one test.

    All figures (``value``, ``interval``, ``summary``, ``reference``) are in ``unit``, except
    ``reference_us``, the drift reference's time in microseconds (``reference_kind`` names it).
    """

    metric: str
    test: str
    target: str
    unit: str
    statistic: str
    better: Better
    value: float
    interval: Interval
    summary: Summary
    source: DataSource
    environment: Environment
    status: VerificationStatus
    collected: dt.date
    engine: Engine | None = None
    loops: int = 1
    overhead_ns: float = 0.0
    cpu_time: float | None = None  # CPU time per sample, in ``unit`` (time metrics only)
    peak_memory_bytes: int | None = None
    reference_us: float | None = None
    reference_kind: str | None = None  # which drift reference ``reference_us`` timed
    verdict: Verdict | None = None
    notes: tuple[str, ...] = ()
    confirmation: Confirmation | None = None  # set when an earlier attempt failed and this one passed

    def __post_init__(self) -> None:
        object.__setattr__(self, "better", Better(self.better))
        if isinstance(self.collected, str):
            object.__setattr__(self, "collected", dt.date.fromisoformat(self.collected))

    def to_dict(self) -> dict[str, Any]:
        """The record as the JSON object described in the run schema."""
        return {
            "metric": self.metric,
            "test": self.test,
            "target": self.target,
            "unit": self.unit,
            "statistic": self.statistic,
            "better": self.better.value,
            "value": self.value,
            "interval": _interval_to_dict(self.interval),
            "summary": asdict(self.summary),
            "source": {"kind": self.source.kind.value, "reference": self.source.reference},
            "environment": asdict(self.environment),
            "status": self.status.value,
            "collected": self.collected.isoformat(),
            "engine": self.engine.to_dict() if self.engine else None,
            "loops": self.loops,
            "overhead_ns": self.overhead_ns,
            "cpu_time": self.cpu_time,
            "peak_memory_bytes": self.peak_memory_bytes,
            "reference_us": self.reference_us,
            "reference_kind": self.reference_kind,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "notes": list(self.notes),
            "confirmation": self.confirmation.to_dict() if self.confirmation else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """Rebuild a record from :meth:`to_dict`'s output (a round trip is exact)."""
        return cls(
            metric=data["metric"],
            test=data["test"],
            target=data["target"],
            unit=data["unit"],
            statistic=data["statistic"],
            better=Better(data["better"]),
            value=float(data["value"]),
            interval=interval_from_dict(data["interval"]),
            summary=Summary(**data["summary"]),
            source=DataSource.from_dict(data["source"]),
            environment=Environment.from_dict(data["environment"]),
            status=VerificationStatus(data["status"]),
            collected=dt.date.fromisoformat(data["collected"]),
            engine=Engine.from_dict(data["engine"]) if data.get("engine") else None,
            loops=int(data.get("loops", 1)),
            overhead_ns=float(data.get("overhead_ns", 0.0)),
            cpu_time=data.get("cpu_time"),
            peak_memory_bytes=data.get("peak_memory_bytes"),
            reference_us=data.get("reference_us"),
            reference_kind=data.get("reference_kind"),
            verdict=Verdict.from_dict(data["verdict"]) if data.get("verdict") else None,
            notes=tuple(data.get("notes", ())),
            confirmation=Confirmation.from_dict(data["confirmation"]) if data.get("confirmation") else None,
        )
