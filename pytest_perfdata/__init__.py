"""pytest-perfdata: performance figures as tests, with annotated records judged against baselines."""

from __future__ import annotations

__version__ = "0.1.0"

from .baseline import Baseline, BaselineError, BaselineFile, load_baseline_file
from .measure import SamplingPolicy, reference_kernel
from .perf import Perf, PerfFailure
from .record import (
    DataSource,
    Engine,
    Environment,
    Outcome,
    Record,
    SourceKind,
    Verdict,
    VerificationStatus,
)
from .stats import Interval, Summary
from .units import Quantity, UnitError, format_quantity, parse_quantity, register_unit
from .verdict import JudgeSettings, judge

__all__ = [
    "Baseline",
    "BaselineError",
    "BaselineFile",
    "DataSource",
    "Engine",
    "Environment",
    "Interval",
    "JudgeSettings",
    "Outcome",
    "Perf",
    "PerfFailure",
    "Quantity",
    "Record",
    "SamplingPolicy",
    "SourceKind",
    "Summary",
    "UnitError",
    "Verdict",
    "VerificationStatus",
    "__version__",
    "format_quantity",
    "judge",
    "load_baseline_file",
    "parse_quantity",
    "reference_kernel",
    "register_unit",
]
