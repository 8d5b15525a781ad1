"""Run-wide state of one process: its settings, the target's baselines, the records so far.

One :class:`PerfRun` lives in ``config.stash`` of every process (controller and each xdist
worker). Workers collect their own records; the controller merges them in ``pytest_testnodedown``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field

from .baseline import BaselineFile, load_baseline_file
from .environment import collect_environment
from .measure import measure_overhead
from .progress import SILENT, Progress
from .record import DataSource, Environment, Record
from .settings import Settings
from .targets import baseline_path, check_target

__all__ = ["PerfRun", "test_base", "test_of_source"]

#: How the plugin names the test in a measured figure's source (``DataSource.reference``).
_SOURCE_PREFIX = "pytest-perfdata, "


def test_base(nodeid: str) -> str:
    """``file::function`` of a node id: parameters dropped, so ``t.py::f[a]`` and ``t.py::f[b]`` are one."""
    return nodeid.split("[", 1)[0]


def test_of_source(source: DataSource | None) -> str | None:
    """The test a stored figure came from, when the plugin measured it; None for other sources."""
    if source is None or not source.reference.startswith(_SOURCE_PREFIX):
        return None
    return test_base(source.reference[len(_SOURCE_PREFIX):])


def _families(metrics: set[str]) -> set[str]:
    """Every prefix of the metrics up to a '.' (``a`` and ``a.b`` of ``a.b.c``): a family's baseline
    judged a member's record (``k3s.density.pods`` judged ``k3s.density.pods.rpi5``), so it is not stale."""
    return {metric[:index] for metric in metrics for index, char in enumerate(metric) if char == "."}


def _xdist_workers() -> int:
    try:
        return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    except ValueError:
        return 0


@dataclass
class PerfRun:
    """The measuring state of one pytest process."""

    settings: Settings
    baselines: BaselineFile
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    records: list[Record] = field(default_factory=list)
    xdist_workers: int = field(default_factory=_xdist_workers)
    #: The tests this run selected (``file::function``, parameters dropped), and whether some were
    #: left out (``-k``, ``-m``, a single file): a baseline of a test that did not run is not stale.
    selected_tests: frozenset[str] | None = None
    deselected: bool = False
    progress: Progress = SILENT  # the per-metric line while measuring (see :mod:`.progress`)
    #: On an xdist worker: how many of ``records`` have gone to the controller with a test report.
    sent: int = 0
    _overhead_ns: float | None = None
    #: Baselines of targets other than the run's, read when a record first names one (see :meth:`baselines_of`).
    _other_baselines: dict[str, BaselineFile] = field(default_factory=dict)

    def unsent(self) -> list[Record]:
        """The records not yet handed to the controller, now counted as sent."""
        fresh, self.sent = self.records[self.sent:], len(self.records)
        return fresh

    @classmethod
    def start(cls, settings: Settings) -> PerfRun:
        """Validate the target and read its baselines (raises on unknown target or bad file)."""
        check_target(settings.target, settings.baselines_dir, saving=settings.save)
        return cls(settings, load_baseline_file(settings.baseline_file, settings.target))

    def baselines_of(self, target: str | None) -> BaselineFile:
        """The baselines a record of ``target`` is judged against: the run's own, or that target's file.

        One run may measure machines of several targets (a cluster's arm64 and amd64 nodes with
        ``--perf-k3s-nodes=all``); each record names its target and is judged, and saved, there.
        A target without a file has no baselines (its records' verdicts say so, and a save starts
        the file); a name that cannot be a file name raises :class:`~.targets.UnknownTargetError`.
        """
        if target is None or target == self.settings.target:
            return self.baselines
        if target not in self._other_baselines:
            check_target(target, self.settings.baselines_dir, saving=True, what="record target")  # its name only
            self._other_baselines[target] = load_baseline_file(baseline_path(self.settings.baselines_dir, target),
                                                               target)
        return self._other_baselines[target]

    @property
    def overhead_ns(self) -> float:
        """The harness's cost per sample of a no-op, measured once per process on first use."""
        if self._overhead_ns is None:
            self._overhead_ns = measure_overhead()
        return self._overhead_ns

    @property
    def measured_overhead_ns(self) -> float | None:
        return self._overhead_ns

    def environment(self, runtimes: dict[str, str] | None = None) -> Environment:
        return collect_environment(runtimes, self.xdist_workers)

    def stale_metrics(self) -> list[str]:
        """Baselines of this target that no record produced, though the test that made them ran.

        A baseline names the test that measured it (its ``source``); one whose test was not
        selected this time is left out, and one that names no test (a hand-written claim) is
        stale only when the whole suite was selected.
        """
        produced = {record.metric for record in self.records if record.target == self.settings.target}
        missing = set(self.baselines.entries) - produced - _families(produced)
        if self.selected_tests is None:
            return sorted(missing)
        stale = []
        for metric in missing:
            test = test_of_source(self.baselines.entries[metric].source)
            if (test is None and not self.deselected) or (test is not None and test in self.selected_tests):
                stale.append(metric)
        return sorted(stale)
