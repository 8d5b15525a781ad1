"""How the plugin's own cost grows with the work: 1, 100 and 1,000 measured tests; 10,000 baselines.

Each figure is a metric like any other, judged against ``baselines/<target>.yaml``, so a
regression in our own speed fails our own suite. The growth ratios (cost at 1,000 ÷ cost at
100) are recorded too: linear growth gives 10, and their limits catch accidental quadratic work.

Pure in-memory work is timed with the cyclic garbage collector paused: otherwise its figure
depends on how many objects the rest of this test process happens to hold, not on our code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_perfdata.baseline import load_baseline_file
from pytest_perfdata.baseline_writer import save_records
from pytest_perfdata.record import Record
from pytest_perfdata.report.json_report import RunInfo, build_run_document
from pytest_perfdata.report.markdown import render_markdown
from pytest_perfdata.verdict import JudgeSettings, judged

SIZES = (1, 100, 1000)


def _document(records: list[Record]) -> dict:
    info = RunInfo(
        id="self", started="2026-11-21T00:00:00+00:00", finished="2026-11-21T00:00:01+00:00",
        target="x86_64", baselines="baselines/x86_64.yaml", plugin_version="0", harness_overhead_ns=None,
        xdist_workers=0, saved=False, environment=records[0].environment,
    )
    return build_run_document(info, records)


def _record_growth(perf, name: str, work: dict[int, Callable[[], object]], budget: str = "1s") -> None:
    """Cost at 1,000 over cost at 100, timed in paired turns so load cannot skew one side."""
    perf.compare(f"{name}.growth_1000_vs_100", work[1000], work[100], budget=budget, collect_garbage=False)


def test_verdict_cost(perf, generated_records, project_writer, tmp_path: Path) -> None:
    """Judging N records against a file of N baselines."""
    work = {}
    for n in SIZES:
        root = project_writer(tmp_path / f"v{n}", 0, n)
        baselines = load_baseline_file(root / "baselines" / "x86_64.yaml", "x86_64")
        records = generated_records[n]
        settings = JudgeSettings()
        work[n] = lambda records=records, baselines=baselines, settings=settings: [  # bound now: used after the loop
            judged(r, baselines.get(r.metric), settings) for r in records
        ]
        perf.measure(f"self.verdicts.{n}", work[n], unit="ms", collect_garbage=False)
        assert all(judged(r, baselines.get(r.metric), settings).verdict.outcome.value == "pass" for r in records)
    _record_growth(perf, "self.verdicts", work)


@pytest.mark.parametrize("kind", ["json", "markdown"])
def test_report_cost(perf, generated_records, kind: str) -> None:
    """Building the run's JSON document or rendering its Markdown report for N records."""
    work = {}
    for n in SIZES:
        records = generated_records[n]
        if kind == "json":
            work[n] = lambda records=records: json.dumps(_document(records))
        else:
            document = _document(records)
            work[n] = lambda document=document: render_markdown(document, "zh")
        perf.measure(f"self.report.{kind}.{n}", work[n], unit="ms", collect_garbage=False)
    _record_growth(perf, f"self.report.{kind}", work)


def test_save_cost(perf, generated_records, project_writer, tmp_path: Path) -> None:
    """--perf-save of N records into a file of N entries: merge as text, validate, write atomically."""
    work = {}
    for n in SIZES:
        path = project_writer(tmp_path / f"s{n}", 0, n) / "baselines" / "x86_64.yaml"
        records = generated_records[n]
        work[n] = lambda path=path, records=records: save_records(path, "x86_64", records)
        perf.measure(f"self.save.{n}", work[n], unit="ms", budget="5s" if n == 1000 else None, collect_garbage=False)
        assert len(load_baseline_file(path, "x86_64").entries) == n
    _record_growth(perf, "self.save", work, budget="5s")


def test_save_into_10000_baselines(perf, generated_records, project_writer, tmp_path: Path) -> None:
    """--perf-save of 1,000 records into a file of 10,000 entries."""
    path = project_writer(tmp_path, 0, 10_000) / "baselines" / "x86_64.yaml"
    records = generated_records[1000]
    perf.measure(
        "self.save.1000_into_10000", lambda: save_records(path, "x86_64", records), unit="ms", budget="10s",
        collect_garbage=False,
    )
    reloaded = load_baseline_file(path, "x86_64")
    assert len(reloaded.entries) == 10_000
    assert reloaded.entries["gen.m999"].collected == records[0].collected


def test_load_10000_baselines(perf, project_writer, tmp_path: Path) -> None:
    """Reading and validating a baseline file of 10,000 entries (done once per process)."""
    path = project_writer(tmp_path, 0, 10_000) / "baselines" / "x86_64.yaml"
    record = perf.measure(
        "self.baselines.load.10000", lambda: load_baseline_file(path, "x86_64"), unit="ms", budget="5s",
        collect_garbage=False,
    )
    assert len(load_baseline_file(path, "x86_64").entries) == 10_000 and record.summary.n >= 3


def test_collection_cost(perf, project_writer, pytester: pytest.Pytester) -> None:
    """Collecting N measured tests in-process, and the plugin's share of it at 1,000 tests.

    Hypothesis's plugin is left out: each in-process run re-imports it, which would swamp the
    figure with a cost that is not ours.
    """
    work = {}
    for n in SIZES:
        root = project_writer(pytester.path / f"c{n}", n, n)
        args = [str(root), "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                f"--rootdir={root}", f"-c={root / 'pytest.ini'}"]
        work[n] = lambda args=args: pytester.inline_run(*args)
        perf.measure(f"self.collect.{n}", work[n], unit="ms", budget="2s", collect_garbage=False)
    _record_growth(perf, "self.collect", work, budget="3s")
    without = lambda: pytester.inline_run(*args, "-p", "no:perfdata")
    perf.measure("self.collect.1000.without_plugin", without, unit="ms", budget="2s", collect_garbage=False)
    perf.compare("self.collect.1000.plugin_share", work[1000], without, budget="4s", collect_garbage=False)
