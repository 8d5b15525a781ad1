"""The run's end on the controller: save baselines, write the reports, compose the terminal summary."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, final

from . import __version__
from .baseline import BaselineError
from .baseline_writer import save_records
from .record import Record
from .report.json_report import RunInfo, build_run_document, write_json
from .report.markdown import write_markdown
from .report.terminal import summary_lines
from .session import PerfRun
from .targets import machine_target

__all__ = ["Finished", "finish_run"]


@final
@dataclass(frozen=True, slots=True)
class Finished:
    """What the run's end has to tell pytest: the summary's lines and whether the run must fail."""

    summary: list[str] = field(default_factory=list)
    failed: bool = False


def _save(run: PerfRun) -> list[str]:
    counts = Counter(record.metric for record in run.records)
    twice = sorted(metric for metric, count in counts.items() if count > 1)
    unique = [record for record in run.records if counts[record.metric] == 1]
    notes = []
    if twice:
        tests = {m: sorted(r.test for r in run.records if r.metric == m) for m in twice}
        notes += [f"not saved: metric {m} was produced by {len(t)} tests ({', '.join(t)})" for m, t in tests.items()]
    if unique:
        result = save_records(run.settings.baseline_file, run.settings.target, unique, run.settings.default_regression)
        notes.append(f"saved {len(result.updated)} updated and {len(result.added)} new baseline(s) to {result.path}")
    return notes


def _write_reports(run: PerfRun, document: dict[str, Any]) -> list[str]:
    written = []
    targets = list(run.settings.reports)
    if run.settings.records_dir is not None and run.records:
        stamp = run.started.strftime("%Y%m%dT%H%M%SZ")
        targets.append(run.settings.records_dir / f"{stamp}-{run.run_id}.json")
    for path in targets:
        if path.suffix == ".md":
            write_markdown(path, document, run.settings.report_lang)
        else:
            write_json(path, document)
        written.append(str(path))
    return written


def _overhead_from(records: list[Record]) -> float | None:
    measured = [r.overhead_ns for r in records if r.overhead_ns]
    return min(measured) if measured else None


def finish_run(run: PerfRun, interrupted: bool) -> Finished:
    """Save (under ``--perf-save``), write every report, and say what the terminal should show."""
    notes: list[str] = []
    failed = False
    settings = run.settings
    if settings.save and settings.target != machine_target():
        notes.append(f"warning: saving baselines of target {settings.target} measured on a {machine_target()} machine")
    if settings.save:
        if interrupted:
            notes.append("not saved: the run was interrupted; the baseline file is unchanged")
        else:
            try:
                notes += _save(run)
            except (BaselineError, OSError) as error:
                notes.append(f"not saved: {error}")
                failed = True
    if settings.target != machine_target() and run.records:
        notes.append(f"warning: target {settings.target} judged on a {machine_target()} machine")
    info = RunInfo(
        id=run.run_id,
        started=run.started.isoformat(),
        finished=dt.datetime.now(dt.timezone.utc).isoformat(),
        target=settings.target,
        baselines=str(settings.baseline_file),
        plugin_version=__version__,
        harness_overhead_ns=run.measured_overhead_ns or _overhead_from(run.records),
        xdist_workers=run.xdist_workers,
        saved=settings.save,
        environment=run.environment(),
    )
    stale = run.stale_metrics()
    written = _write_reports(run, build_run_document(info, run.records, stale))
    summary = summary_lines(
        run.records, target=settings.target, overhead_ns=info.harness_overhead_ns,
        stale=stale, written=written, notes=notes, saving=settings.save,
        baseline_entries=len(run.baselines.entries),
    )
    return Finished(summary, failed)
