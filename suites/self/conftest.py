"""Shared pieces of the plugin's self-measurement: a generated project of N measured tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_perfdata.record import Record

GENERATED_TESTS = '''
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_metric(perf, i):
    perf.record_value(f"gen.m{{i}}", i + 1.0, unit="ms")
'''


def write_project(root: Path, n_tests: int, n_baselines: int) -> Path:
    """A project with ``n_tests`` measured tests and a baseline file of ``n_baselines`` entries."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\nperf_target = x86_64\nperf_records_dir =\n")
    (root / "test_generated.py").write_text(GENERATED_TESTS.format(n=n_tests))
    baselines = root / "baselines"
    baselines.mkdir(exist_ok=True)
    lines = ["# generated: the plugin's self-measurement\n"]
    for i in range(n_baselines):
        lines.append(
            f"gen.m{i}:\n  statistic: p50\n  max: {2 * (i + 1)} ms\n  regression: 10%\n"
            f"  value: {i + 1} ms\n  collected: 2026-11-21\n  status: verified\n"
        )
    (baselines / "x86_64.yaml").write_text("".join(lines))
    return root


@pytest.fixture
def project_writer():
    """:func:`write_project`, for the suite's tests (conftest modules are not importable)."""
    return write_project


@pytest.fixture
def generated_records(pytester: pytest.Pytester) -> dict[int, list[Record]]:
    """Records of real inner runs of 1, 100 and 1,000 measured tests, by size."""
    records: dict[int, list[Record]] = {}
    for n in (1, 100, 1000):
        root = write_project(pytester.path / f"p{n}", n, n)
        result = pytester.runpytest_inprocess(str(root), "-q", "-p", "no:cacheprovider", f"--rootdir={root}",
                                              f"-c={root / 'pytest.ini'}", f"--perf-report={root / 'run.json'}")
        assert result.ret == 0, result.stdout.str()[-2000:]
        document = json.loads((root / "run.json").read_text())
        records[n] = [Record.from_dict(data) for data in document["records"]]
        assert len(records[n]) == n
    return records
