"""The run's JSON file: every record of the run with the run's identity, in the versioned schema."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, final

from .._atomic import write_bytes_atomically
from .._shown import shown
from ..record import RECORD_SCHEMA, Environment, Outcome, Record

__all__ = ["RunInfo", "build_run_document", "load_run_document", "outcome_counts", "write_json"]


@final
@dataclass(frozen=True, slots=True)
class RunInfo:
    """Facts about the run as a whole (the controller's view under xdist)."""

    id: str
    started: str  # ISO 8601 timestamp, UTC
    finished: str
    target: str
    baselines: str  # path of the target's baseline file
    plugin_version: str
    harness_overhead_ns: float | None
    xdist_workers: int
    saved: bool
    environment: Environment


def outcome_counts(records: Sequence[Record]) -> dict[str, int]:
    """How many records ended in each verdict outcome (``none``: no baseline to judge by)."""
    counts = Counter((r.verdict.outcome if r.verdict else Outcome.NONE).value for r in records)
    return {outcome.value: counts.get(outcome.value, 0) for outcome in Outcome}


def build_run_document(run: RunInfo, records: Sequence[Record], stale: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON document of one run (schema ``pytest-perfdata/run/3``)."""
    info = asdict(run)
    environment = info.pop("environment")
    return {
        "schema": RECORD_SCHEMA,
        "run": info,
        "environment": environment,
        "summary": outcome_counts(records),
        "stale_baselines": list(stale),
        "records": [record.to_dict() for record in records],
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a run document atomically; non-finite numbers are refused, as JSON has none."""
    try:
        text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError as error:
        raise ValueError(f"{path}: cannot write the run document: {error}") from None
    try:
        data = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (from some tool's output): JSON's \u escapes keep it
        data = (json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")
    write_bytes_atomically(Path(path), data)


#: Run-file layouts this version reads: run/2 lacks only ``claims`` and an engine's ``build``, run/1 also each
#: record's ``confirmation``.
READABLE_SCHEMAS = (RECORD_SCHEMA, "pytest-perfdata/run/2", "pytest-perfdata/run/1")


def load_run_document(path: Path | str) -> dict[str, Any]:
    """Read a run file written by :func:`write_json`, refusing other layouts by their schema id.

    Only the id is checked: the full JSON Schema (``schema/run-3.json``) needs ``jsonschema``,
    which is a test dependency, not a runtime one.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not a JSON run file: {error}") from None
    except RecursionError:  # Python's parser recurses: a few thousand nested brackets break it
        raise ValueError(f"{path}: not a run file: nested too deeply to read") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a JSON run file: not UTF-8 ({error.reason} at byte {error.start})") from None
    found = document.get("schema") if isinstance(document, dict) else None
    if found not in READABLE_SCHEMAS:
        raise ValueError(f"{path}: expected a run file of schema {RECORD_SCHEMA!r}, got {shown(found)}")
    assert isinstance(document, dict)
    return document
