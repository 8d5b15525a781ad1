"""Shared test builders: records from synthetic figures, baseline files for pytester runs."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import hypothesis  # noqa: F401  (see below)
import pytest

from pytest_perfdata.environment import machine_target
from pytest_perfdata.record import (
    DataSource,
    Environment,
    Record,
    SourceKind,
    Verdict,
    VerificationStatus,
)
from pytest_perfdata.stats import Interval, summarize

#: The target plugin tests judge against: this machine's own, so no "other machine" warnings.
TARGET = machine_target()

ENVIRONMENT = Environment(
    architecture="x86_64",
    cpu_model="Example CPU 9000",
    cores=8,
    memory_bytes=16 * 1024**3,
    os="Linux 12",
    kernel="Linux 6.1.0",
    python="3.11.9",
)


def make_record(
    metric: str = "wasm.cold_start",
    value: float = 5.0,
    *,
    unit: str = "ms",
    rel: float = 0.01,
    interval: Interval | None = None,
    samples: list[float] | None = None,
    statistic: str = "p50",
    better: str = "lower",
    reference_us: float | None = None,
    collected: str = "2026-01-02",
    test: str = "tests/test_wasm.py::test_cold_start",
    source: DataSource | None = None,
    verdict: Verdict | None = None,
) -> Record:
    """A record of ``value`` with a ``±rel`` interval (or the given one), like the fixture's."""
    if interval is None:
        interval = Interval(value * (1 - rel), value * (1 + rel), 0.99)
    return Record(
        metric=metric,
        test=test,
        target="x86_64",
        unit=unit,
        statistic=statistic,
        better=better,
        value=value,
        interval=interval,
        summary=summarize(samples or [value] * 5),
        source=source or DataSource(SourceKind.BENCHMARK, f"pytest-perfdata, {test}"),
        environment=ENVIRONMENT,
        status=VerificationStatus.PENDING,
        collected=collected,
        reference_us=reference_us,
        verdict=verdict,
    )


# -- pytester helpers ----------------------------------------------------------------------
# Hypothesis is imported above on purpose: its pytest plugin imports it in every run's terminal
# summary, and pytester forgets modules first imported during an in-process run, so without
# this each ``runpytest`` would re-import (and assert-rewrite) Hypothesis, ~1 s per run.


def write_baselines(pytester: pytest.Pytester, text: str, target: str = TARGET) -> Path:
    """Write ``baselines/<target>.yaml`` in the pytester directory (the default baselines dir)."""
    path = pytester.path / "baselines" / f"{target}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_report(pytester: pytest.Pytester, name: str = "r.json") -> dict[str, Any]:
    """The run document a ``--perf-report=<name>`` run wrote."""
    document: dict[str, Any] = json.loads((pytester.path / name).read_text(encoding="utf-8"))
    return document


def records_by_metric(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {record["metric"]: record for record in document["records"]}


def recorded_calls(script: Path) -> list[list[str]]:
    """The argument lists a stand-in CLI logged, one per run, to ``calls.log`` beside it."""
    log = script.parent / "calls.log"
    return [shlex.split(line) for line in log.read_text().splitlines() if line.strip()]
