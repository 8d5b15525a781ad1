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
    #: What the binary was built with, where that moves the figures and the version cannot tell
    #: (``(("aot-compiler", "llvm-shared"), ("llvm", "libLLVM-16.so"))``); pairs, so it hashes.
    build: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Engine:
        """The inverse of :meth:`to_dict`; run files before run/3 have no ``build``."""
        build = data.get("build") or {}
        return cls(str(data["name"]), str(data["version"]), str(data.get("mode", "")),
                   tuple((str(key), str(value)) for key, value in build.items()))

    def to_dict(self) -> dict[str, Any]:
        """``name``, ``version``, ``mode`` and, when known, ``build`` as a mapping."""
        data: dict[str, Any] = {"name": self.name, "version": self.version, "mode": self.mode}
        if self.build:
            data["build"] = dict(self.build)
        return data

    @property
    def slug(self) -> str:
        """Metric suffix naming what ran: ``wasmtime-cli``, ``wasmedge-cli-aot``, ``runc-oci``."""
        return f"{self.name}-{self.mode}" if self.mode else self.name

    def __str__(self) -> str:
        text = f"{self.name} {self.version}".strip()
        return f"{text} ({self.mode})" if self.mode else text

    @property
    def description(self) -> str:
        """:meth:`__str__` with the build, for reports that say where a figure came from."""
        build = ", ".join(f"{key} {value}" for key, value in self.build)
        return f"{self}; build: {build}" if build else str(self)
