"""The run's end on the controller: save baselines, write the reports, compose the terminal summary."""

from __future__ import annotations

import datetime as dt
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from . import __version__
from ._shown import bounded
from .baseline import BaselineError
from .baseline_writer import save_records
from .record import Record
from .report.json_report import RunInfo, build_run_document, write_json
from . import _defaults
from .report.markdown import write_markdown
from .report.terminal import summary_lines
from .session import PerfRun
from .targets import baseline_path, machine_target

__all__ = ["Finished", "finish_run"]


@final
@dataclass(frozen=True, slots=True)
class Finished:
    """What the run's end has to tell pytest: the summary's lines and whether the run must fail."""

    summary: list[str] = field(default_factory=list)
    failed: bool = False


def _save(run: PerfRun) -> tuple[list[str], bool]:
    """Save every metric recorded once, each into its record's target's file; the notes say what
    was saved and why anything was not.

    Anything not saved fails the run (the second value): a nightly save job that stops updating
    its baselines must go red, not stay green with a line in its log.
    """
    counts = Counter((record.target, record.metric) for record in run.records)
    twice = sorted(key for key, count in counts.items() if count > 1)
    notes = []
    for target, metric in twice:
        tests = sorted({r.test for r in run.records if (r.target, r.metric) == (target, metric)})
        by = f"by {len(tests)} tests ({', '.join(tests)})" if len(tests) > 1 else f"by test {tests[0]}"
        on = "" if target == run.settings.target else f" of target {target}"
        notes.append(f"not saved: metric {metric}{on} was recorded {counts[target, metric]} times, {by}; "
                     "a baseline needs one figure per metric")
    if not run.records:
        notes.append("not saved: no test of this run recorded a figure")
    refused = False
    targets = sorted({record.target for record in run.records}, key=lambda t: (t != run.settings.target, t))
    for target in targets:
        unique = [r for r in run.records if r.target == target and counts[target, r.metric] == 1]
        target_notes, target_refused = _save_target(run, target, unique)
        notes += target_notes
        refused = refused or target_refused
    return notes, bool(twice) or refused or not run.records


def _save_target(run: PerfRun, target: str, unique: list[Record]) -> tuple[list[str], bool]:
    """Save one target's records; a record its file refuses is named and dropped, the others saved."""
    notes, refused = [], False
    path = baseline_path(run.settings.baselines_dir, target)  # validated when its records were made
    while unique:
        try:
            result = save_records(path, target, unique, run.settings.default_regression)
        except BaselineError as error:
            # One record the file cannot hold must not cost the others their save: drop it, say
            # so, try again. An error about the file itself (no entry of ours) is raised as before.
            if error.entry is None or error.entry not in {record.metric for record in unique}:
                raise
            notes.append(f"not saved: {error}")
            unique = [record for record in unique if record.metric != error.entry]
            refused = True
            continue
        notes.append(f"saved {len(result.updated)} updated and {len(result.added)} new baseline(s) to {result.path}")
        break
    return notes, refused


def _ignored_by_git(records_dir: Path) -> None:
    """Put a ``.gitignore`` of ``*`` in the records' working directory (``.perfdata/``), as pytest does
    for ``.pytest_cache``: run files are the run's output, not something users commit.

    Only for a dot-directory (the default ``.perfdata/runs``, or a ``.name`` the user chose): a
    directory the user named otherwise is theirs to keep or ignore.
    """
    top = next((d for d in (records_dir.parent, records_dir) if d.name.startswith(".")), None)
    if top is None:
        return
    ignore = top / ".gitignore"
    if not ignore.exists():
        top.mkdir(parents=True, exist_ok=True)
        ignore.write_text("# Created by pytest-perfdata: run files are output, not sources.\n*\n")


def _run_file(run: PerfRun) -> Path | None:
    """Where this run's records are kept as evidence (``--perf-records-dir``), if anywhere."""
    if run.settings.records_dir is None or not run.records:
        return None
    return run.settings.records_dir / f"{run.started.strftime('%Y%m%dT%H%M%SZ')}-{run.run_id}.json"


def _write_reports(run: PerfRun, document: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Write every report; the paths written and a note for each that could not be.

    One report that cannot be written (its path is a directory, a disk is full) must not cost
    the others, nor end the run in a traceback: it is named, and the run fails.
    """
    written, missing = [], []
    targets = list(run.settings.reports)
    run_file = _run_file(run)
    if run_file is not None:
        targets.append(run_file)
    for path in targets:
        try:
            if path == run_file:
                _ignored_by_git(run_file.parent)
            if path.suffix == ".md":
                write_markdown(path, document, run.settings.report_lang)
            else:
                write_json(path, document)
        except (OSError, ValueError) as error:
            missing.append(f"not written: {path}: {error}")
            continue
        written.append(str(path))
    return written, missing


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
                saved_notes, incomplete = _save(run)
                notes += saved_notes
                failed = failed or incomplete
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
    document = build_run_document(info, run.records, stale)
    claims_lines, claims_broke = _judge_claims(run, document)
    written, missing = _write_reports(run, document)
    notes += missing
    failed = failed or bool(missing) or claims_broke
    summary = summary_lines(
        run.records, target=settings.target, overhead_ns=info.harness_overhead_ns,
        stale=stale, written=written, notes=notes, saving=settings.save,
        baseline_entries=len(run.baselines.entries),
    )
    return Finished(summary + claims_lines, failed)


def _judge_claims(run: PerfRun, document: dict[str, Any]) -> tuple[list[str], bool]:
    """Judge the project's claims (``claims/`` in the rootdir) with every stored run and this one.

    The ledger goes into the run document (``claims``), so the JSON and Markdown reports carry it,
    and its lines end the terminal summary. A claims file with an error is reported, not raised:
    the tests' outcome stands. A fault of the ledger itself is reported too and fails the run
    (the second value), but the run's records and reports are still written: a bug in judging
    claims must not lose the night's measurements.
    """
    folder = run.settings.rootdir / _defaults.CLAIMS_DIR
    if not folder.is_dir() or not run.records:
        return [], False
    try:
        return _ledger_lines(run, folder, document), False
    except Exception as error:  # noqa: BLE001 - reported with its place, and the run fails
        place = traceback.extract_tb(error.__traceback__)[-1]
        return [bounded(f"claims: not judged: the ledger failed ({type(error).__name__}: {error}, "
                        f"{Path(place.filename).name}:{place.lineno}); this is a bug in pytest-perfdata", 500)], True


def _ledger_lines(run: PerfRun, folder: Path, document: dict[str, Any]) -> list[str]:
    from .claims.document import ledger_document
    from .claims.evidence import evidence_from_document
    from .claims.files import ClaimsError
    from .claims.ledger import build_report
    from .claims.render import ledger_lines

    run_file = _run_file(run)
    this_run = list(evidence_from_document(document, run_file.name if run_file else "this run"))
    records_dir = run.settings.records_dir
    try:
        report = build_report(folder, records_dir or folder / "no-runs", run.settings.baseline_file.parent,
                              extra_evidence=this_run)
    except (ClaimsError, BaselineError) as error:
        return [f"claims: not judged: {error}"]
    document["claims"] = ledger_document(report)
    return ledger_lines(document["claims"])
