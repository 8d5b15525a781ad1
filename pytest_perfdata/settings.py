"""The core's options table and the run's settings resolved from it: command line, then ini, then defaults."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, final

import pytest

from . import _defaults
from .option_types import confidence, non_negative_int, positive_int, positive_time, regression_limit
from .options import Option, option_value
from .targets import baseline_path, machine_target

if TYPE_CHECKING:
    from .verdict import JudgeSettings

__all__ = ["CORE_OPTIONS", "CounterMode", "RegressionScope", "ReportLanguage", "Settings", "settings_from"]


class RegressionScope(str, enum.Enum):
    """Which stored values a regression limit compares with."""

    MACHINE = "machine"  # only values stored on this kind of machine
    TARGET = "target"  # any value of the target


class CounterMode(str, enum.Enum):
    """Whether the metrics that opt in are also counted in instructions (see :mod:`.counting`)."""

    INSTRUCTIONS = "instructions"  # counted under valgrind, after their timing
    OFF = "off"  # timed only: counting runs the test twice more, some fifty times slower


class ReportLanguage(str, enum.Enum):
    """Languages of the Markdown report."""

    EN = "en"
    ZH = "zh"


def _choices(vocabulary: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(member.value for member in vocabulary)


#: Every core option: the command line, the ini key (where ``ini``), the default and the help, once.
CORE_OPTIONS: tuple[Option, ...] = (
    Option("perf_target", "target whose baselines apply (default: this machine's architecture)", ini=True),
    Option("perf_baselines", "directory of <target>.yaml baseline files", _defaults.BASELINES_DIR, ini=True),
    Option("perf_budget", "time budget for sampling one metric", f"{_defaults.BUDGET_S:g}s", positive_time, ini=True),
    Option("perf_confidence", "confidence level of verdict intervals", f"{_defaults.CONFIDENCE:g}", confidence,
           ini=True),
    Option("perf_regression", "default allowed regression against a stored value (a percentage, or off)",
           f"{_defaults.REGRESSION * 100:g}%", regression_limit, ini=True),
    Option("perf_max_age", "days after which a baseline counts as expired", f"{_defaults.MAX_AGE_DAYS}",
           positive_int, ini=True),
    Option("perf_inconclusive", "what an inconclusive verdict does to its test", "pass", choices=("pass", "fail"),
           ini=True),
    Option("perf_regression_scope",
           "which stored values regression limits compare with: machine (only those stored on this kind of "
           "machine) or target (any of the target's)",
           RegressionScope.MACHINE.value, choices=_choices(RegressionScope), ini=True),
    Option("perf_confirm",
           "times a test whose verdict failed is measured again; it fails only if every attempt fails",
           f"{_defaults.CONFIRM}", non_negative_int, ini=True),
    Option("perf_report_lang", "language of the Markdown report", ReportLanguage.EN.value,
           choices=_choices(ReportLanguage), ini=True),
    Option("perf_records_dir", "where each run's records JSON is written ('' to disable)", _defaults.RECORDS_DIR,
           ini=True),
    Option("perf_progress", "a line per metric while it is measured: auto (on a terminal, not under -q or CI), "
           "on or off", "auto", choices=("auto", "on", "off"), ini=True),
    Option("perf_counter",
           "also count the instructions of metrics whose test opts in (@pytest.mark.perf(counter='instructions')), "
           "with valgrind: instructions or off", CounterMode.INSTRUCTIONS.value, choices=_choices(CounterMode),
           ini=True),
    Option("perf_save", "store this run's measurements as the target's new baselines", action="store_true"),
    Option("perf_disable", "run tests but do not measure: perf.measure calls its function once",
           action="store_true"),
    Option("perf_report", "write a report; the format follows the extension (.json, .md); may be repeated",
           action="append", metavar="PATH"),
)

_REPORT_SUFFIXES = (".json", ".md")


@final
@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the options and ini keys decide, resolved once in ``pytest_configure``."""

    target: str
    baselines_dir: Path
    save: bool = False
    disabled: bool = False
    budget_s: float = _defaults.BUDGET_S
    confidence: float = _defaults.CONFIDENCE
    precision: float = 0.01
    inconclusive_fails: bool = False
    regression_scope: RegressionScope = RegressionScope.MACHINE
    confirm: int = _defaults.CONFIRM  # re-measurements a failing test gets before its failure stands
    default_regression: float | None = _defaults.REGRESSION  # None: regression limits off unless an entry sets one
    max_age_days: int = _defaults.MAX_AGE_DAYS
    reports: tuple[Path, ...] = ()
    report_lang: ReportLanguage = ReportLanguage.EN
    records_dir: Path | None = None  # where each run's JSON file goes (None: not written)
    progress: str = "auto"  # --perf-progress: auto, on or off
    counter: CounterMode = CounterMode.INSTRUCTIONS
    #: The session's rootdir (node ids are relative to it), and the options that run one of its
    #: tests again in a child pytest there (the same ini file, no xdist workers): how
    #: instruction counts re-run a test.
    rootdir: Path = Path(".")
    rerun_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "regression_scope", RegressionScope(self.regression_scope))
        object.__setattr__(self, "report_lang", ReportLanguage(self.report_lang))
        object.__setattr__(self, "counter", CounterMode(self.counter))

    @property
    def baseline_file(self) -> Path:
        return baseline_path(self.baselines_dir, self.target)

    def judge_settings(self) -> JudgeSettings:
        from .verdict import JudgeSettings

        return JudgeSettings(
            default_regression=self.default_regression,
            check_regression=not self.save,
            regression_scope=self.regression_scope,
            max_age_days=self.max_age_days,
        )


def _value(config: pytest.Config, dest: str) -> Any:
    return option_value(config, CORE_OPTIONS, dest)


def settings_from(config: pytest.Config) -> Settings:
    """Resolve the run's settings; bad values are usage errors that name the option."""
    reports = tuple(Path(p) for p in config.getoption("perf_report"))
    for report in reports:
        if report.suffix not in _REPORT_SUFFIXES:
            raise pytest.UsageError(f"--perf-report {report}: the extension must be .json or .md")
    baselines = Path(str(_value(config, "perf_baselines")))
    if config.getoption("perf_baselines") is None and not baselines.is_absolute():
        baselines = config.rootpath / baselines
    records_dir = str(_value(config, "perf_records_dir") or "")
    return Settings(
        target=str(_value(config, "perf_target") or machine_target()),
        baselines_dir=baselines,
        save=bool(config.getoption("perf_save")),
        disabled=bool(config.getoption("perf_disable")),
        budget_s=float(_value(config, "perf_budget")),
        confidence=float(_value(config, "perf_confidence")),
        inconclusive_fails=_value(config, "perf_inconclusive") == "fail",
        regression_scope=RegressionScope(_value(config, "perf_regression_scope")),
        confirm=int(_value(config, "perf_confirm")),
        default_regression=_value(config, "perf_regression"),
        max_age_days=int(_value(config, "perf_max_age")),
        reports=reports,
        report_lang=ReportLanguage(_value(config, "perf_report_lang")),
        records_dir=(config.rootpath / records_dir) if records_dir else None,
        progress=str(_value(config, "perf_progress")),
        counter=CounterMode(_value(config, "perf_counter")),
        rootdir=config.rootpath,
        rerun_args=_rerun_args(config),
    )


def _rerun_args(config: pytest.Config) -> tuple[str, ...]:
    ini = ("-c", str(config.inipath)) if config.inipath else ()
    one_process = ("-n", "0") if config.pluginmanager.hasplugin("xdist") else ()
    return (*ini, *one_process)
