"""The pytest plugin: ``--perf-*`` options, the ``perf`` marker and fixture, and the run's end.

Registered through the ``pytest11`` entry point. Integrations with pytest-xdist and
pytest-benchmark are hook classes registered only when those plugins are active.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from . import __version__
from .baseline import BaselineError
from .baseline_writer import save_records
from .environment import machine_label, machine_target
from .option_types import confidence, non_negative_int, percentage, positive_int, positive_time
from .perf import Perf, PerfFailure
from .record import Record
from .report.json_report import RunInfo, build_run_document, write_json
from .report.markdown import write_markdown
from .report.terminal import UNCONFIRMED_NOTE, summary_lines
from .session import PerfRun, Settings, UnknownTargetError

RUN_KEY = pytest.StashKey[PerfRun]()
PERF_KEY = pytest.StashKey[Perf]()
SUMMARY_KEY = pytest.StashKey[list[str]]()

_WORKEROUTPUT_KEY = "perfdata_records"


# -- option types: bad input fails at the command line, with the reason -----------------------


_INI_OPTIONS: dict[str, tuple[str, Any]] = {
    # dest: (help, argparse type) -- each also settable as an ini key of the same name.
    "perf_target": ("target whose baselines apply (default: this machine's architecture)", str),
    "perf_baselines": ("directory of <target>.yaml baseline files (default: baselines)", str),
    "perf_budget": ("time budget for sampling one metric (default: 1s)", positive_time),
    "perf_confidence": ("confidence level of verdict intervals (default: 0.99)", confidence),
    "perf_regression": ("default allowed regression against a stored value (default: 10%)", percentage),
    "perf_max_age": ("days after which a baseline counts as expired (default: 365)", positive_int),
    "perf_inconclusive": ("what an inconclusive verdict does to its test: pass or fail (default: pass)", str),
    "perf_regression_scope": (
        (
            "which stored values regression limits compare with: machine (only those stored on this "
            "kind of machine) or target (any of the target's; default: machine)"
        ),
        str,
    ),
    "perf_confirm": (
        "times a test whose verdict failed is measured again; it fails only if every attempt fails (default: 1)",
        non_negative_int,
    ),
    "perf_report_lang": ("language of the Markdown report: en or zh (default: en)", str),
    "perf_records_dir": ("where each run's records JSON is written ('' to disable; default: .perfdata/runs)", str),
}
_DEFAULTS: dict[str, str] = {
    "perf_baselines": "baselines",
    "perf_budget": "1s",
    "perf_confidence": "0.99",
    "perf_regression": "10%",
    "perf_max_age": "365",
    "perf_inconclusive": "pass",
    "perf_regression_scope": "machine",
    "perf_confirm": "1",
    "perf_report_lang": "en",
    "perf_records_dir": ".perfdata/runs",
}


_CHOICES: dict[str, tuple[str, ...]] = {
    "perf_inconclusive": ("pass", "fail"),
    "perf_report_lang": ("en", "zh"),
    "perf_regression_scope": ("machine", "target"),
}


#: The engine families' fixture modules: light to import (each loads its engine on first use).
_FIXTURE_MODULES = (
    "pytest_perfdata.engines.wasm.fixtures",
    "pytest_perfdata.engines.oci.fixtures",
    "pytest_perfdata.engines.build.fixtures",
    "pytest_perfdata.engines.opa.fixtures",
    "pytest_perfdata.engines.k8s.fixtures",
)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("perfdata", "performance figures as tests (pytest-perfdata)")
    for name in _FIXTURE_MODULES:
        if pluginmanager.get_plugin(name) is None:
            pluginmanager.import_plugin(name)
    for dest, (help_text, type_) in _INI_OPTIONS.items():
        flag = "--" + dest.replace("_", "-")
        choices = _CHOICES.get(dest)
        extra: dict[str, Any] = {"choices": choices} if choices else {}
        group.addoption(
            flag, dest=dest, type=type_, default=None, metavar=dest.split("_", 1)[1].upper(),
            help=help_text.replace("%", "%%"),  # argparse formats help with %
            **extra,
        )
        parser.addini(dest, help=help_text, default=_DEFAULTS.get(dest))
    group.addoption("--perf-save", dest="perf_save", action="store_true", help="store this run's measurements as the target's new baselines")
    group.addoption("--perf-disable", dest="perf_disable", action="store_true", help="run tests but do not measure: perf.measure calls its function once")
    group.addoption(
        "--perf-report", dest="perf_report", action="append", default=[], metavar="PATH",
        help="write a report; the format follows the extension (.json, .md); may be repeated",
    )


def _setting(config: pytest.Config, dest: str) -> Any:
    """Command line first, then the ini key, converted and checked with the option's type."""
    value = config.getoption(dest)
    if value is not None:
        return value
    raw = config.getini(dest)
    if raw in (None, "") and dest == "perf_target":
        return machine_target()
    type_ = _INI_OPTIONS[dest][1]
    try:
        return type_(raw) if type_ is not str else raw
    except argparse.ArgumentTypeError as error:
        raise pytest.UsageError(f"ini option {dest} = {raw!r}: {error}") from None


def _settings(config: pytest.Config) -> Settings:
    for dest, choices in _CHOICES.items():
        if _setting(config, dest) not in choices:
            raise pytest.UsageError(f"{dest} must be one of {', '.join(choices)}, not {_setting(config, dest)!r}")
    inconclusive = _setting(config, "perf_inconclusive")
    lang = _setting(config, "perf_report_lang")
    baselines = Path(_setting(config, "perf_baselines"))
    if config.getoption("perf_baselines") is None and not baselines.is_absolute():
        baselines = config.rootpath / baselines
    records_dir = _setting(config, "perf_records_dir")
    return Settings(
        target=_setting(config, "perf_target"),
        baselines_dir=baselines,
        save=config.getoption("perf_save"),
        disabled=config.getoption("perf_disable"),
        budget_s=_setting(config, "perf_budget"),
        confidence=_setting(config, "perf_confidence"),
        inconclusive_fails=inconclusive == "fail",
        regression_scope=_setting(config, "perf_regression_scope"),
        confirm=_setting(config, "perf_confirm"),
        default_regression=_setting(config, "perf_regression"),
        max_age_days=_setting(config, "perf_max_age"),
        reports=tuple(Path(p) for p in config.getoption("perf_report")),
        report_lang=lang,
        records_dir=(config.rootpath / records_dir) if records_dir else None,
    )


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "perf(metric=None, budget=None, statistic=None, confidence=None, confirm=None): a test that measures; "
        "added automatically to tests using the perf or benchmark fixture",
    )
    for report in config.getoption("perf_report"):
        if Path(report).suffix not in (".json", ".md"):
            raise pytest.UsageError(f"--perf-report {report}: the extension must be .json or .md")
    try:
        run = PerfRun.start(_settings(config))
    except (UnknownTargetError, BaselineError) as error:
        raise pytest.UsageError(str(error)) from None
    if _is_worker(config):
        run.run_id = config.workerinput.get("perfdata_run_id", run.run_id)  # type: ignore[attr-defined]
    else:  # xdist tells only its workers how many there are; the controller reads its option
        run.xdist_workers = int(getattr(config.option, "numprocesses", 0) or 0)
    config.stash[RUN_KEY] = run
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(run), "perfdata-xdist")
    if config.pluginmanager.hasplugin("benchmark"):
        from .interop_benchmark import BenchmarkInterop

        config.pluginmanager.register(BenchmarkInterop(), "perfdata-benchmark")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say up front what this run is judged against and who measures, for logs read later."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return []
    settings = run.settings
    mode = "disabled (--perf-disable)" if settings.disabled else ("saving baselines" if settings.save else "judging")
    entries = len(run.baselines.entries)
    judging = f"{mode}, regression scope {settings.regression_scope}, confirm {settings.confirm}"
    return [
        f"perfdata: target {settings.target}, baselines {settings.baseline_file} ({entries} entries), {judging}",
        f"perfdata: machine {machine_label(run.environment())}",
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark measuring tests, so ``-m perf`` / ``-m "not perf"`` can run them apart."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if ("perf" in names or "benchmark" in names) and item.get_closest_marker("perf") is None:
            item.add_marker(pytest.mark.perf)


def perf_for(item: pytest.Item) -> Perf:
    """The item's :class:`Perf`, created on first use (by the fixture or an integration)."""
    perf = item.stash.get(PERF_KEY, None)
    if perf is None:
        marker = item.get_closest_marker("perf")
        perf = Perf(
            run=item.config.stash[RUN_KEY],
            test=item.nodeid,
            marker_kwargs=dict(marker.kwargs) if marker else {},
            user_properties=item.user_properties,
        )
        item.stash[PERF_KEY] = perf
    return perf


@pytest.fixture
def perf(request: pytest.FixtureRequest) -> Perf:
    """Measure, record and judge performance figures in this test (see :class:`Perf`)."""
    return perf_for(request.node)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail the test after its body when its records failed their verdicts in every attempt.

    A shared machine has bursts of load that no interval inside one attempt can see. So a test
    whose verdict failed runs its body again (``--perf-confirm`` times, default once) and fails
    only if the failure is confirmed; a real regression fails every attempt. The records of the
    last attempt are kept, with the earlier attempts' verdicts in their notes.
    """
    result = yield
    perf = item.stash.get(PERF_KEY, None)
    if perf is None or not perf.failures:
        return result
    attempts = _attempts_for(item, perf)
    earlier: list[str] = []
    while perf.failures and len(earlier) + 1 < attempts:
        earlier.append(f"attempt {len(earlier) + 1}: " + " | ".join(r.verdict.reason for r in perf.failures if r.verdict))
        perf.discard_records()
        item.runtest()
    if perf.failures:
        lines = [r.verdict.reason for r in perf.failures if r.verdict]
        confirmed = f" (in all {attempts} attempts)" if attempts > 1 else ""
        raise PerfFailure(f"performance verdict failed{confirmed}:\n" + "\n".join([*earlier, *lines]))
    perf.annotate(f"{UNCONFIRMED_NOTE} {len(earlier) + 1}; not confirmed: " + " || ".join(earlier))
    return result


def _attempts_for(item: pytest.Item, perf: Perf) -> int:
    """How many attempts a test gets: 1 + ``confirm=`` of its perf marker, else of the run.

    A test that uses pytest-benchmark's fixture gets one: that fixture can be used once per test.
    """
    if "benchmark" in getattr(item, "fixturenames", ()):
        return 1
    confirm = perf.marker_kwargs.get("confirm")
    return 1 + max(int(perf.run.settings.confirm if confirm is None else confirm), 0)


class XdistHooks:
    """Carries run identity to workers and their records back to the controller."""

    def __init__(self, run: PerfRun) -> None:
        self.run = run

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["perfdata_run_id"] = self.run.run_id

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        self.run.records.extend(Record.from_dict(data) for data in output.get(_WORKEROUTPUT_KEY, ()))


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    if _is_worker(config):
        config.workeroutput[_WORKEROUTPUT_KEY] = [r.to_dict() for r in run.records]  # type: ignore[attr-defined]
        return
    notes: list[str] = []
    if run.settings.save and run.settings.target != machine_target():
        notes.append(f"warning: saving baselines of target {run.settings.target} measured on a {machine_target()} machine")
    if run.settings.save:
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            notes.append("not saved: the run was interrupted; the baseline file is unchanged")
        else:
            try:
                notes += _save(run)
            except (BaselineError, OSError) as error:
                notes.append(f"not saved: {error}")
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if run.settings.target != machine_target() and run.records:
        notes.append(f"warning: target {run.settings.target} judged on a {machine_target()} machine")
    finished = dt.datetime.now(dt.timezone.utc)
    info = RunInfo(
        id=run.run_id,
        started=run.started.isoformat(),
        finished=finished.isoformat(),
        target=run.settings.target,
        baselines=str(run.settings.baseline_file),
        plugin_version=__version__,
        harness_overhead_ns=run.measured_overhead_ns or _overhead_from(run.records),
        xdist_workers=run.xdist_workers,
        saved=run.settings.save,
        environment=run.environment(),
    )
    stale = run.stale_metrics()
    written = _write_reports(run, build_run_document(info, run.records, stale))
    config.stash[SUMMARY_KEY] = summary_lines(
        run.records, target=run.settings.target, overhead_ns=info.harness_overhead_ns,
        stale=stale, written=written, notes=notes, saving=run.settings.save,
    )


def _overhead_from(records: list[Record]) -> float | None:
    measured = [r.overhead_ns for r in records if r.overhead_ns]
    return min(measured) if measured else None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(SUMMARY_KEY, [])
    if lines:
        terminalreporter.section("perfdata")
        for line in lines:
            terminalreporter.write_line(line)
