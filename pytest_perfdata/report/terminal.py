"""The terminal summary: one table row per record, then what needs a human's attention."""

from __future__ import annotations

from collections.abc import Sequence

from ..environment import comparison_class
from ..record import Check, CheckKind, Outcome, Record
from ..units import format_quantity
from ..verdict import compared_elsewhere, stored_status

__all__ = ["summary_lines"]

_OUTCOME_WORDS = {
    Outcome.PASS: "pass",
    Outcome.FAIL: "FAIL",
    Outcome.INCONCLUSIVE: "inconclusive",
    Outcome.NONE: "no baseline",
}


def _status_cell(record: Record, saving: bool) -> str:
    if saving:
        return f"→ {stored_status(record).value}"  # what the saved entry will say
    return record.status.value


def _verdict_cell(record: Record, saving: bool) -> str:
    outcome = record.verdict.outcome if record.verdict else Outcome.NONE
    if outcome == Outcome.NONE and compared_elsewhere(record):
        return "not compared"
    if saving and outcome in (Outcome.NONE, Outcome.PASS):
        return "saved"  # under --perf-save this figure becomes the stored value
    return _OUTCOME_WORDS[outcome]


def _value_cell(record: Record) -> str:
    if record.interval.low == record.interval.high == record.value:
        return format_quantity(record.value, record.unit)  # an exact figure (a size, a count): no statistic
    text = f"{record.statistic} {format_quantity(record.value, record.unit)}"
    ci = record.interval
    if ci.bounded and ci.low != ci.high and record.value:
        half = (ci.high - ci.low) / 2 / abs(record.value)
        text += f" ±{half:.1%}"
    return text


def _limit_cell(checks: Sequence[Check], record: Record) -> str:
    parts = []
    for check in checks:
        if check.not_compared:
            parts.append("stored on another machine")
        elif check.kind == CheckKind.REGRESSION:
            parts.append(f"≤{check.limit - 1:+.0%} vs stored")
        else:
            sign = "≤" if check.kind == CheckKind.MAX else "≥"
            parts.append(f"{sign}{format_quantity(check.limit, record.unit)}")
    return ", ".join(parts) or "-"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def summary_lines(
    records: Sequence[Record],
    *,
    target: str,
    overhead_ns: float | None,
    stale: Sequence[str],
    written: Sequence[str],
    notes: Sequence[str] = (),
    saving: bool = False,
    baseline_entries: int | None = None,
) -> list[str]:
    """Lines for ``pytest_terminal_summary``; empty when the run recorded nothing."""
    if not records:  # nothing measured (e.g. the plugin's own tests): stale would be noise, notes are not
        return list(notes)
    rows: list[tuple[str, ...]] = [("metric", "value", "limits", "verdict", "status", "engine")]
    for record in sorted(records, key=lambda r: r.metric):
        checks = record.verdict.checks if record.verdict else ()
        rows.append(
            (
                record.metric,
                _value_cell(record),
                _limit_cell(checks, record),
                _verdict_cell(record, saving),
                _status_cell(record, saving),
                str(record.engine) if record.engine else "-",
            )
        )
    lines = [f"target {target}: {len(records)} records"]
    if baseline_entries is not None:
        lines[0] += f" against {baseline_entries} baseline entries"
    if overhead_ns is not None:
        lines[0] += f"; harness overhead {overhead_ns:.0f} ns per sample (no-op)"
    if records:
        lines += _table(rows)
    for record in records:
        if record.verdict and record.verdict.outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE):
            lines.append(f"{_OUTCOME_WORDS[record.verdict.outcome]}: {record.verdict.reason}")
    remeasured = sorted(r.metric for r in records if r.confirmation is not None
                        and not (r.verdict and r.verdict.outcome == Outcome.FAIL))
    if remeasured:
        lines.append(
            f"re-measured: {len(remeasured)} metric(s) failed a first attempt that a later one did not confirm "
            f"(the notes in the reports say what failed): {', '.join(remeasured[:10])}"
            + (" ..." if len(remeasured) > 10 else "")
        )
    elsewhere = [r for r in records if compared_elsewhere(r)]
    if elsewhere:
        lines.append(
            f"not compared: {len(elsewhere)} metric(s) have stored values from another machine than "
            f"this one ({comparison_class(elsewhere[0].environment, elsewhere[0].unit)}), so their regression limits were "
            "not applied (absolute limits were); `--perf-save` stores this machine class's values beside "
            "the others', `--perf-regression-scope=target` compares anyway"
        )
    pending = [  # under --perf-save nothing is compared with stored values: the save note says what changed
        r.metric for r in records
        if (r.verdict is None or r.verdict.outcome == Outcome.NONE) and not compared_elsewhere(r) and not saving
    ]
    if pending:
        lines.append(f"pending: {len(pending)} metric(s) have no baseline on {target}; "
                     f"`--perf-save` stores them: {', '.join(sorted(pending)[:10])}"
                     + (" ..." if len(pending) > 10 else ""))
    if stale:
        lines.append(f"stale: {len(stale)} baseline(s) of {target} not measured in this run: "
                     f"{', '.join(stale[:10])}" + (" ..." if len(stale) > 10 else ""))
    lines += list(notes)
    lines += [f"written: {path}" for path in written]
    return lines
