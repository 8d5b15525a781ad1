"""Evidence for the ledger: the records of past runs, read from their JSON run files.

Every run writes its records to ``.perfdata/runs/<time>-<id>.json`` (``--perf-records-dir``),
and nothing ever rewrites one, so evidence only accumulates: the ledger reads them all. A file
that cannot be read is named in a warning and skipped; the others still count.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._shown import bounded
from ..environment import Environment, machine_label
from ..provenance import Engine
from ..record import interval_from_dict
from ..report.json_report import load_run_document
from .model import Evidence, engine_terms

__all__ = ["evidence_from_document", "load_evidence"]


def load_evidence(folder: Path) -> tuple[list[Evidence], list[str]]:
    """Every trustworthy record in the run files of ``folder``, and a warning per unreadable file."""
    evidence: list[Evidence] = []
    warnings: list[str] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            evidence.extend(evidence_from_document(load_run_document(path), path.name))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            warnings.append(bounded(f"{path}: skipped, not a readable run file ({type(error).__name__}: {error})", 500))
    return evidence, warnings


def evidence_from_document(document: dict[str, Any], run: str) -> Iterable[Evidence]:
    """The records of one run document that can speak for a claim.

    What a simulator stands in for is carried by the record itself, not guessed from its
    notes: a figure from simulated nodes has its own metric (``kubernetes.control_plane.*``,
    never the real-node ``k3s.pod_startup.*`` a claim such as the 5 s SLO names) and the build
    fact ``kubelet: simulated by ...``, which a claim's ``engine:`` can match or exclude; figures
    only a kubelet could give are never recorded from simulated nodes. A record whose interval
    is unbounded on a side (too few samples to bound a P99; a run file keeps that side as null)
    stays in: it straddles every figure, so it decides nothing, but the claim then says it was
    measured and why that could not tell.
    """
    for record in document["records"]:
        interval = interval_from_dict(record["interval"])
        low, high = interval.low, interval.high
        notes = tuple(record.get("notes") or ())
        if math.isnan(low) or math.isnan(high):
            continue
        engine = record.get("engine") or {}
        environment = record.get("environment") or {}
        yield Evidence(
            metric=record["metric"], value=float(record["value"]), low=low, high=high, unit=record["unit"],
            statistic=record["statistic"], target=record["target"],
            collected=dt.date.fromisoformat(record["collected"]), test=record["test"],
            engine=engine_terms(engine),
            environment=_where(environment, engine), run=run, notes=notes,
        )


def _where(environment: dict[str, Any], engine: dict[str, Any]) -> str:
    """The record's machine class and the engine that ran, as the rest of the plugin names them."""
    where = machine_label(Environment.from_dict(environment)) if environment else "unknown machine"
    if not engine.get("name") or "version" not in engine:
        return where
    return f"{where}; {Engine.from_dict(engine).description}"
