"""The ledger's value types: claims, facts, rules, and what the ledger concludes about them."""

from __future__ import annotations

import datetime as dt
import enum
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, final

from ..units import Quantity

__all__ = [
    "CLAIM_SOURCE_KINDS",
    "Claim",
    "ClaimSource",
    "ClaimState",
    "ClaimStatus",
    "Comparison",
    "Evidence",
    "Fact",
    "Finding",
    "Location",
    "Rule",
    "engine_terms",
]


@final
@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written, for every message about it."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class Comparison(str, enum.Enum):
    """How a claimed figure bounds the measured one."""

    AT_MOST = "<="
    BELOW = "<"
    AT_LEAST = ">="
    ABOVE = ">"

    @property
    def holds(self) -> Callable[[float, float], bool]:
        return _OPERATORS[self]

    @property
    def upper(self) -> bool:
        """Whether the claim is an upper bound (the figure must not exceed it)."""
        return self in (Comparison.AT_MOST, Comparison.BELOW)


_OPERATORS: Final = {
    Comparison.AT_MOST: operator.le,
    Comparison.BELOW: operator.lt,
    Comparison.AT_LEAST: operator.ge,
    Comparison.ABOVE: operator.gt,
}

#: Kinds of published source a claim may cite (a measurement of ours is evidence, not a source).
CLAIM_SOURCE_KINDS: Final = ("official-docs", "benchmark", "community-case", "talk", "blog", "release-notes", "issue")


@final
@dataclass(frozen=True, slots=True)
class ClaimSource:
    """Who published a figure: the kind of source, a reference a reader can follow, their words."""

    kind: str
    reference: str
    quote: str = ""


@final
@dataclass(frozen=True, slots=True)
class Claim:
    """One published figure about one metric, as the ledger tracks it."""

    id: str
    location: Location
    comparison: Comparison
    figure: Quantity
    source: ClaimSource
    collected: dt.date
    says: str = ""  # the claim in words, as the source put it
    metric: str | None = None  # the metric a record of ours measures it by (None: none measures it)
    statistic: str | None = None  # the statistic the figure speaks of (p99, p50...), if it says
    case: str | None = None  # the case it was claimed in, whose claims must hold together
    role: str | None = None  # its name in the case's consistency rules (pods_per_node, ...)
    target: str | None = None  # the target it was claimed for (None: any)
    hardware: str | None = None  # the hardware fact it was claimed for
    engine: dict[str, str] = field(default_factory=dict)  # engine_terms a record must match
    requires: str = ""  # what measuring it needs, said when nothing measured it
    note: str = ""

    @property
    def text(self) -> str:
        return f"{self.metric or self.role or self.id} {self.comparison.value} {self.figure}"


@final
@dataclass(frozen=True, slots=True)
class Fact:
    """A platform fact the consistency rules use, with its source (a Pi 4B has at most 8 GiB)."""

    id: str
    location: Location
    source: ClaimSource
    value: Quantity | None = None
    items: tuple[str, ...] = ()  # a list fact, such as the flags of a K3s version
    note: str = ""

    def __str__(self) -> str:
        return str(self.value) if self.value is not None else ", ".join(self.items)


@final
@dataclass(frozen=True, slots=True)
class Rule:
    """A consistency rule: an expression over a case's claims and the facts, which must hold."""

    id: str
    location: Location
    says: str
    check: str


@final
@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found for one case: whether it holds, and the arithmetic that shows it."""

    rule: Rule
    case: str
    holds: bool
    arithmetic: str  # "3000 pods × 32 MiB + 1588 MiB = 95.3 GiB > 8 GiB (raspberry-pi-4b.memory)"
    claims: tuple[str, ...]  # the ids of the claims it used
    facts: tuple[str, ...]  # the ids of the facts it used


class ClaimStatus(str, enum.Enum):
    """A claim's status, computed from evidence (the team's four words)."""

    VERIFIED = "verified"  # a trustworthy record on a matching target meets it
    REFUTED = "refuted"  # one contradicts it, by a margin
    PENDING = "pending"  # nothing measured it yet, or what did could not tell; the reason says which
    EXPIRED = "expired"  # its newest deciding evidence is older than the allowed age


@final
@dataclass(frozen=True, slots=True)
class ClaimState:
    """The ledger's conclusion about one claim on one day."""

    claim: Claim
    status: ClaimStatus
    reason: str
    evidence: tuple["Evidence", ...] = ()  # the records that decided it, newest first


@final
@dataclass(frozen=True, slots=True)
class Evidence:
    """One record of a past run, as far as the ledger needs it."""

    metric: str
    value: float
    low: float
    high: float
    unit: str
    statistic: str
    target: str
    collected: dt.date
    test: str
    engine: dict[str, str]  # engine_terms of the engine that ran
    environment: str  # a one-line description of where it ran
    run: str  # the run file it came from
    notes: tuple[str, ...] = ()


def engine_terms(engine: Mapping[str, Any]) -> dict[str, str]:
    """An engine as the terms a claim matches: ``name``, ``version``, ``mode``, ``build.<fact>``.

    One flat vocabulary for both sides, a record's engine (``Engine.to_dict``) and a claim's
    ``engine:``, so that a claim made for, say, WasmEdge with LLVM linked statically names
    ``build: {aot-compiler: llvm-static}`` and is matched key by key like the version.
    """
    terms = {key: str(engine[key]) for key in ("name", "version", "mode") if engine.get(key)}
    build = engine.get("build") or {}
    return terms | {f"build.{key}": str(value) for key, value in build.items()}
