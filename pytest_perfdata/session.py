"""Run-wide state: the settings from options and ini, the target's baselines, the records so far.

One :class:`PerfRun` lives in ``config.stash`` of every process (controller and each xdist
worker). Workers collect their own records; the controller merges them in ``pytest_testnodedown``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import final

from .baseline import BaselineFile, baseline_path, known_targets, load_baseline_file
from .environment import collect_environment, machine_target
from .measure import measure_overhead
from .record import Environment, Record
from .verdict import JudgeSettings

__all__ = ["PerfRun", "Settings", "UnknownTargetError"]


class UnknownTargetError(ValueError):
    """A ``--perf-target`` with neither a baseline file nor this machine's architecture."""


@final
@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the options and ini keys decide, resolved once in ``pytest_configure``."""

    target: str
    baselines_dir: Path
    save: bool = False
    disabled: bool = False
    budget_s: float = 1.0
    confidence: float = 0.99
    precision: float = 0.01
    inconclusive_fails: bool = False
    regression_scope: str = "machine"
    confirm: int = 1  # re-measurements a failing test gets before its failure stands
    default_regression: float = 0.10
    max_age_days: int = 365
    reports: tuple[Path, ...] = ()
    report_lang: str = "en"
    records_dir: Path | None = None  # where each run's JSON file goes (None: not written)

    @property
    def baseline_file(self) -> Path:
        return baseline_path(self.baselines_dir, self.target)

    def judge_settings(self) -> JudgeSettings:
        return JudgeSettings(
            default_regression=self.default_regression,
            check_regression=not self.save,
            regression_scope=self.regression_scope,
            max_age_days=self.max_age_days,
        )


def check_target(target: str, baselines_dir: Path) -> None:
    """Refuse a target that has no baseline file, unless it is this machine's own architecture."""
    known = known_targets(baselines_dir)
    if target in known or target == machine_target():
        return
    listed = ", ".join(sorted({*known, machine_target()}))
    raise UnknownTargetError(
        f"unknown --perf-target {target!r}: no {baseline_path(baselines_dir, target)} "
        f"(known targets: {listed})"
    )


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
    _overhead_ns: float | None = None

    @classmethod
    def start(cls, settings: Settings) -> PerfRun:
        """Validate the target and read its baselines (raises on unknown target or bad file)."""
        check_target(settings.target, settings.baselines_dir)
        return cls(settings, load_baseline_file(settings.baseline_file, settings.target))

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
        """Baselines of this target that no record of this run produced."""
        produced = {record.metric for record in self.records}
        return sorted(set(self.baselines.entries) - produced)
