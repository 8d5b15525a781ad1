"""Where a figure comes from: its source, the engine that actually ran, and how far it is verified.

Small value types with no dependencies, so that engines can name what ran without importing
the measuring core.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, final

__all__ = ["DataSource", "Engine", "SourceKind", "VerificationStatus"]


class VerificationStatus(str, enum.Enum):
    """How far a figure can be trusted, in the performance-data team's four words."""

    VERIFIED = "verified"  # measured here and within its baseline
    PENDING = "pending"  # not yet checked: no baseline, or the measurement could not decide
    EXPIRED = "expired"  # the baseline it rests on is older than the allowed age
    REFUTED = "refuted"  # measured here and outside its baseline


class SourceKind(str, enum.Enum):
    """Where a figure comes from."""

    MEASURED = "measured"
    OFFICIAL_DOCS = "official-docs"
    BENCHMARK = "benchmark"
    COMMUNITY_CASE = "community-case"


@final
@dataclass(frozen=True, slots=True)
class DataSource:
    """The kind of source and a reference a reader can follow (file, URL, talk)."""

    kind: SourceKind
    reference: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataSource:
        return cls(SourceKind(data["kind"]), str(data["reference"]))


@final
@dataclass(frozen=True, slots=True)
class Engine:
    """The backend that actually produced the samples (never the one that was asked for)."""

    name: str
    version: str
    mode: str = ""

    @property
    def slug(self) -> str:
        """Metric suffix naming what ran: ``wasmtime-cli``, ``wasmedge-cli-aot``, ``runc-oci``."""
        return f"{self.name}-{self.mode}" if self.mode else self.name

    def __str__(self) -> str:
        text = f"{self.name} {self.version}".strip()
        return f"{text} ({self.mode})" if self.mode else text
