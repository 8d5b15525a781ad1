"""The ledger as plain data: what a run document carries under ``claims`` and every report renders.

One document, written into the run's JSON file and rendered by the Markdown run report, the
data-collection report and ``perfdata claims`` alike, so that a saved run file shows the ledger
as it stood when the run ended, and all reports say the same thing about the same claim.
"""

from __future__ import annotations

from typing import Any

from .ledger import LedgerReport
from .model import ClaimSource, ClaimStatus, Evidence

__all__ = ["ledger_document"]


def _source(source: ClaimSource) -> dict[str, str]:
    return {"kind": source.kind, "reference": source.reference, "quote": source.quote}


def _evidence(record: Evidence) -> dict[str, Any]:
    return {"metric": record.metric, "test": record.test, "collected": record.collected.isoformat(),
            "environment": record.environment, "run": record.run}


def ledger_document(report: LedgerReport) -> dict[str, Any]:
    """Every claim with its status, reason, newest evidence and source; every rule's finding."""
    inconsistent = report.inconsistent_claims()
    counts = report.counts
    used_facts = sorted({fact for finding in report.findings for fact in finding.facts})
    return {
        "judged": report.today.isoformat(),
        "max_age_days": report.max_age_days,
        "runs": report.runs,
        "files": len(report.ledger.files),
        "counts": {**{status.value: counts[status] for status in ClaimStatus}, "inconsistent": len(inconsistent)},
        "claims": [
            {
                "id": state.claim.id,
                "status": state.status.value,
                "inconsistent": state.claim.id in inconsistent,
                "says": state.claim.says,
                "claim": f"{state.claim.comparison.value} {state.claim.figure}",
                "metric": state.claim.metric,
                "reason": state.reason,
                "evidence": [_evidence(record) for record in state.evidence[:1]],
                "source": _source(state.claim.source),
                "collected": state.claim.collected.isoformat(),
            }
            for state in report.states
        ],
        "findings": [
            {"case": finding.case, "rule": finding.rule.id, "says": finding.rule.says, "holds": finding.holds,
             "arithmetic": finding.arithmetic, "claims": list(finding.claims), "facts": list(finding.facts)}
            for finding in report.findings
        ],
        "facts": [
            {"id": fact_id, "value": str(report.ledger.facts[fact_id]),
             "source": _source(report.ledger.facts[fact_id].source)}
            for fact_id in used_facts
        ],
        "warnings": list(report.warnings),
    }
