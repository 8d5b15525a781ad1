"""pytest-perfdata: performance figures as tests, with annotated records judged against baselines.

The names below are loaded on first use (PEP 562): a process that needs one submodule, such as
the Wasm launcher started once per timed sample, must not pay for YAML and the verdict code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names

__version__ = "0.1.0"

if TYPE_CHECKING:
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

#: Where each public name lives, for the lazy loader below.
_HOMES = {
    "Baseline": "baseline", "BaselineError": "baseline", "BaselineFile": "baseline", "load_baseline_file": "baseline",
    "SamplingPolicy": "measure", "reference_kernel": "measure",
    "Perf": "perf", "PerfFailure": "perf",
    "DataSource": "record", "Engine": "record", "Environment": "record", "Outcome": "record", "Record": "record",
    "SourceKind": "record", "Verdict": "record", "VerificationStatus": "record",
    "Interval": "stats", "Summary": "stats",
    "Quantity": "units", "UnitError": "units", "format_quantity": "units", "parse_quantity": "units",
    "register_unit": "units",
    "JudgeSettings": "verdict", "judge": "verdict",
}


__getattr__ = lazy_names(__name__, _HOMES)


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
