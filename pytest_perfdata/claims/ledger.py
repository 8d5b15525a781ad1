"""The ledger as a whole: claims read, checked for consistency, and given a status from evidence.

This is what the console script (``perfdata claims``), the terminal summary and the reports
share, so that all three say the same thing about the same claims.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import final

from ..targets import known_targets
from .consistency import check_consistency
from .evidence import load_evidence
from .files import Ledger, load_ledger
from .lifecycle import MAX_AGE_DAYS, claim_state
from .model import ClaimState, ClaimStatus, Evidence, Finding

__all__ = ["LedgerReport", "build_report", "known_metrics_in"]


@final
@dataclass(frozen=True, slots=True)
class LedgerReport:
    """Every claim's state and every consistency finding, as of one day."""

    ledger: Ledger
    states: tuple[ClaimState, ...]
    findings: tuple[Finding, ...]
    today: dt.date
    max_age_days: int
    runs: int  # run files read
    warnings: tuple[str, ...] = field(default=())

    @property
    def inconsistent(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if not finding.holds)

    @property
    def counts(self) -> Counter[ClaimStatus]:
        return Counter(state.status for state in self.states)

    def inconsistent_claims(self) -> set[str]:
        """Ids of the claims some failed rule used."""
        return {claim for finding in self.inconsistent for claim in finding.claims}

    @property
    def failing(self) -> bool:
        """What ``perfdata claims --check`` fails on: a refuted claim or an impossible case."""
        return bool(self.inconsistent) or self.counts[ClaimStatus.REFUTED] > 0


def known_metrics_in(baselines: Path, evidence: list[Evidence]) -> frozenset[str]:
    """Metrics a claim may name: those stored in a baseline file or measured by some run."""
    from ..baseline import load_baseline_file  # the plugin's own reader, errors with file and line

    metrics = {record.metric for record in evidence}
    for target in known_targets(baselines):
        metrics.update(load_baseline_file(baselines / f"{target}.yaml", target).entries)
    return frozenset(metrics)


def build_report(claims_dir: Path, runs_dir: Path, baselines_dir: Path, today: dt.date | None = None,
                 max_age_days: int = MAX_AGE_DAYS, extra_evidence: list[Evidence] | None = None) -> LedgerReport:
    """Read the claims and every run's records, and judge each claim as of ``today``.

    ``extra_evidence``: records of a run not yet written to ``runs_dir`` (the current one).
    """
    evidence, warnings = load_evidence(runs_dir)
    runs = len({record.run for record in evidence})
    evidence += extra_evidence or []
    targets = tuple(known_targets(baselines_dir)) if baselines_dir.is_dir() else None
    ledger = load_ledger(claims_dir, known_metrics_in(baselines_dir, evidence), targets)
    day = today or dt.date.today()
    states = tuple(claim_state(claim, evidence, day, max_age_days) for claim in ledger.claims)
    return LedgerReport(ledger, states, tuple(check_consistency(ledger)), day, max_age_days, runs, tuple(warnings))
