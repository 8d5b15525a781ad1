"""A line per metric while it is measured, so that a long measurement shows that something moves.

``--perf-progress=auto`` (the default) shows it on a terminal and hides it under ``-q``, in CI
(``CI`` set) and where output is not a terminal; ``on`` and ``off`` decide. The line is terse:
the metric, what it is judged on and its budget when it starts, the figure and the sample count
when it ends. xdist workers have no terminal of their own and show nothing.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol

from .units import format_quantity

if TYPE_CHECKING:
    from .record import Record

__all__ = ["Progress", "progress_for"]


class Progress(Protocol):
    def started(self, metric: str, statistic: str, budget_s: float) -> None: ...

    def finished(self, record: Record) -> None: ...


class _Silent:
    def started(self, metric: str, statistic: str, budget_s: float) -> None:
        pass

    def finished(self, record: Record) -> None:
        pass


class _TerminalProgress:
    def __init__(self, reporter: Any) -> None:
        self._reporter = reporter
        self._open = False

    def started(self, metric: str, statistic: str, budget_s: float) -> None:
        self._reporter.write(f"\n  {metric}: {statistic}, up to {budget_s:g} s … ")
        self._reporter.flush()
        self._open = True

    def finished(self, record: Record) -> None:
        if self._open:
            self._reporter.write(f"{format_quantity(record.value, record.unit)} ({record.summary.n} samples) ")
            self._reporter.flush()
            self._open = False


SILENT: Progress = _Silent()


def progress_for(config: Any, choice: str) -> Progress:
    """The progress display for this process: ``choice`` is ``auto``, ``on`` or ``off``."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if choice == "off" or reporter is None or hasattr(config, "workerinput"):
        return SILENT
    if choice == "auto":
        quiet = config.get_verbosity() < 0
        if quiet or os.environ.get("CI") or not getattr(reporter, "isatty", False):
            return SILENT
    return _TerminalProgress(reporter)
