"""The pytest plugin's hooks: options, the ``perf`` marker and fixture, the confirm loop, the run's end.

Registered through the ``pytest11`` entry point, so it is imported by every pytest run in an
environment where the plugin is installed: it imports only pytest and the light option, marker
and state modules. The measuring core, the baselines and the reports load when a test measures;
each engine family's fixtures load their engine when a test asks for them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Generator
from importlib import import_module
from typing import TYPE_CHECKING, Any

import pytest

from ._defaults import COUNTING_CHILD_ENV
from .options import Option, add_options
from .settings import CORE_OPTIONS, settings_from
from .state import PERF_KEY, RUN_KEY, SETTINGS_KEY, marker_of, perf_for, run_for, started_run
from .targets import UnknownTargetError, check_target, machine_target

if TYPE_CHECKING:
    from .perf import Perf
    from .session import PerfRun

SUMMARY_KEY = pytest.StashKey[list[str]]()
_DESELECTED_KEY = pytest.StashKey[bool]()

_WORKEROUTPUT_KEY = "perfdata_records"

#: The ``perf`` marker's line in ``pytest --markers``; its keywords are checked by :mod:`.marker`,
#: which is imported only when a test carries the marker.
MARKER_HELP = (
    "perf(metric=None, budget=None, statistic=None, confidence=None, confirm=None, counter=None): a test that "
    "measures (counter='instructions' also counts each metric's instructions with valgrind); "
    "added automatically to tests using the perf or benchmark fixture"
)

#: The engine families' fixture modules, each light to import: its engine loads on first use.
FIXTURE_MODULES = (
    "pytest_perfdata.engines.wasm.fixtures",
    "pytest_perfdata.engines.oci.fixtures",
    "pytest_perfdata.engines.build.fixtures",
    "pytest_perfdata.engines.opa.fixtures",
    "pytest_perfdata.engines.k8s.fixtures",
)

#: Fixtures whose tests measure: they get the ``perf`` marker, and the run starts for them.
_MEASURING_FIXTURES = ("perf", "benchmark")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Register each family's fixture module and add every option, the core's and the families'."""
    options: list[Option] = list(CORE_OPTIONS)
    for name in FIXTURE_MODULES:
        module = pluginmanager.get_plugin(name)
        if module is None:
            module = import_module(name)
            pluginmanager.register(module, name)
        options += module.OPTIONS
    add_options(parser, options)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.pluginmanager.register(SkipCounter(), _SKIP_COUNTER)
    settings = settings_from(config)
    try:
        check_target(settings.target, settings.baselines_dir, saving=settings.save)
    except UnknownTargetError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS_KEY] = settings
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(config), "perfdata-xdist")
    if config.pluginmanager.hasplugin("benchmark"):
        from .interop_benchmark import BenchmarkInterop

        config.pluginmanager.register(BenchmarkInterop(), "perfdata-benchmark")
    if COUNTING_CHILD_ENV in os.environ:  # pytest-benchmark is blocked there; this fixture stands in
        config.pluginmanager.register(import_module("pytest_perfdata.counting_child"), "perfdata-counting-child")
    _interrupt_on_sigterm(config)


def _interrupt_on_sigterm(config: pytest.Config) -> None:
    """SIGTERM unwinds the run as Ctrl-C does: fixtures stop what they started, reports are written.

    A CI runner cancelling a job, ``timeout`` and ``kill`` send SIGTERM, whose default action
    ends the process on the spot, leaving running containers, servers and clusters behind.
    Taken over only while its handler is the default (a handler someone else installed is
    theirs), and handed back at the end of the run.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt("SIGTERM: stopping what the run started")

    signal.signal(signal.SIGTERM, interrupt)
    config.add_cleanup(lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL)
                       if signal.getsignal(signal.SIGTERM) is interrupt else None)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say up front what this run is judged against, for logs read later (without reading the file)."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return []
    from .environment import collect_environment, machine_label

    mode = "disabled (--perf-disable)" if settings.disabled else ("saving baselines" if settings.save else "judging")
    return [
        f"perfdata: target {settings.target}, baselines {settings.baseline_file}, {mode}, "
        f"regression scope {settings.regression_scope.value}, confirm {settings.confirm}",
        f"perfdata: machine {machine_label(collect_environment())}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every ``perf`` marker, mark measuring tests (``-m perf``), and start the run if one measures."""
    measuring = False
    for item in items:
        names = getattr(item, "fixturenames", ())
        if any(name in names for name in _MEASURING_FIXTURES):
            measuring = True
            if item.get_closest_marker("perf") is None:
                item.add_marker(pytest.mark.perf)
        if item.get_closest_marker("perf") is not None:
            marker_of(item)  # a misspelt keyword or a bad value is a usage error naming the test
    if measuring:
        run_for(config)  # a malformed baseline file stops the run here, before any test measures


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash[_DESELECTED_KEY] = True


def pytest_collection_finish(session: pytest.Session) -> None:
    """Tell the run which tests were selected, so that only their baselines can be stale."""
    run = started_run(session.config)
    if run is not None:
        from .session import test_base

        run.selected_tests = frozenset(test_base(item.nodeid) for item in session.items)
        run.deselected = session.config.stash.get(_DESELECTED_KEY, False)


@pytest.fixture
def perf(request: pytest.FixtureRequest) -> Perf:
    """Measure, record and judge performance figures in this test (see :class:`pytest_perfdata.Perf`)."""
    return perf_for(request.node)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail the test after its body when its records failed their verdicts in every attempt.

    A shared machine has bursts of load that no interval inside one attempt can see. So a test
    whose verdict failed runs its body again (``--perf-confirm`` times, default once) and fails
    only if the failure is confirmed; a real regression fails every attempt. The records of the
    last attempt are kept, with the earlier attempts' verdicts on them.
    """
    result = yield
    perf = item.stash.get(PERF_KEY, None)
    if perf is None or not perf.failures:
        return result
    from .perf import PerfFailure

    attempts = _attempts_for(item, perf)
    earlier: list[str] = []
    while perf.failures and len(earlier) + 1 < attempts:
        earlier.append(" | ".join(r.verdict.reason for r in perf.failures if r.verdict))
        perf.discard_records()
        item.runtest()
    if perf.failures:
        if earlier:
            perf.confirmed_after(earlier)  # the records say the failure stood in every attempt
        else:
            perf.failed_unconfirmed()
        lines = [r.verdict.reason for r in perf.failures if r.verdict]
        confirmed = f" (in all {attempts} attempts)" if attempts > 1 else ""
        numbered = [f"attempt {n}: {reason}" for n, reason in enumerate(earlier, 1)]
        path, line, _ = item.location
        where = f"{path}:{(line or 0) + 1}: {item.name}"  # the user's test, not this hook
        raise PerfFailure(f"{where}: performance verdict failed{confirmed}:\n" + "\n".join([*numbered, *lines]))
    perf.confirmed_after(earlier)
    return result


def _attempts_for(item: pytest.Item, perf: Perf) -> int:
    """How many attempts a test gets: 1 + ``confirm=`` of its perf marker, else of the run.

    A test that uses pytest-benchmark's fixture gets one: that fixture can be used once per test.
    """
    if "benchmark" in getattr(item, "fixturenames", ()):
        return 1
    confirm = perf.marker.confirm
    return 1 + max(perf.run.settings.confirm if confirm is None else confirm, 0)


class XdistHooks:
    """Carries run identity to workers and their records back to the controller.

    A worker's records ride on each test's teardown report as the test finishes (xdist sends
    a report's every attribute), so a worker that crashes later takes only the test it was
    running with it; what is left at the worker's end (a session fixture's records) comes in
    its ``workeroutput``.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["perfdata_run_id"] = run_for(node.config).run_id

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Generator[None, Any, Any]:
        report = yield
        if call.when == "teardown" and _is_worker(item.config):
            run = started_run(item.config)
            if run is not None and len(run.records) > run.sent:
                setattr(report, _WORKEROUTPUT_KEY, [record.to_dict() for record in run.unsent()])
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, _WORKEROUTPUT_KEY, None)
        if data and not _is_worker(self.config):
            self._receive(data)

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        data = output.get(_WORKEROUTPUT_KEY, ())
        if data:
            self._receive(data)

    def _receive(self, data: list[dict[str, Any]]) -> None:
        from .record import Record

        run_for(self.config).records.extend(Record.from_dict(item) for item in data)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    run: PerfRun | None = started_run(config)
    if _is_worker(config):
        if run is not None:
            config.workeroutput[_WORKEROUTPUT_KEY] = [r.to_dict() for r in run.unsent()]  # type: ignore[attr-defined]
        return
    if run is None:
        return
    from .finish import finish_run

    finished = finish_run(run, interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
    if finished.failed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    config.stash[SUMMARY_KEY] = finished.summary


class SkipCounter:
    """Counts the measuring tests that skipped, by reason: a missing engine should not hide in ``-rs``.

    On the controller under xdist too, which sees every worker's reports.
    """

    def __init__(self) -> None:
        self.reasons: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and "perf" in report.keywords and isinstance(report.longrepr, tuple):
            self.reasons[str(report.longrepr[2]).removeprefix("Skipped: ")] += 1

    def lines(self) -> list[str]:
        if not self.reasons:
            return []
        head = (f"skipped: {self.reasons.total()} measuring test(s), so their figures are missing; "
                "how to get what they need:")
        return [head, *(f"  {count} × {reason}" for reason, count in self.reasons.most_common())]


_SKIP_COUNTER = "perfdata-skips"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    counter = config.pluginmanager.get_plugin(_SKIP_COUNTER)
    lines = [*config.stash.get(SUMMARY_KEY, []), *(counter.lines() if counter else [])]
    if lines:
        terminalreporter.section("perfdata")
        for line in lines:
            terminalreporter.write_line(line)


__all__ = ["FIXTURE_MODULES", "PERF_KEY", "RUN_KEY", "machine_target", "perf", "perf_for"]
