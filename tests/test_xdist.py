"""Under pytest-xdist: records cross from workers to the controller, which alone saves and reports.

xdist needs real processes, so these runs use ``runpytest_subprocess``; there are few of them
because each one starts three Python processes.
"""

from __future__ import annotations

import pytest
from builders import TARGET, read_report, records_by_metric, write_baselines

#: Four tests, one metric each; m1 = 6 ms misses its 5 ms baseline when one is given.
FIGURES = """
import pytest

@pytest.mark.parametrize("i", range(4))
def test_figure(perf, i):
    perf.record_value(f"m{i}", 5 + i, unit="ms")
"""

#: Logs every save_records call with the process that made it, to prove only the controller saves.
SAVE_LOGGER = """
import os
import pytest_perfdata.finish as plugin

_save_records = plugin.save_records
LOG = os.path.join(os.path.dirname(__file__), "saves.log")

def logging_save(path, target, records, *args, **kwargs):
    with open(LOG, "a") as log:
        log.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'controller')} {len(records)}\\n")
    return _save_records(path, target, records, *args, **kwargs)

plugin.save_records = logging_save
"""


def test_worker_records_reach_the_controller_and_failures_fail_their_tests(
    pytester: pytest.Pytester,
) -> None:
    write_baselines(pytester, "m1: {max: 5 ms}\nm2: {max: 9 ms}\n")
    pytester.makepyfile(FIGURES)
    result = pytester.runpytest_subprocess("-n", "2", "--perf-report=r.json")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_figure?1?*", "*m1: 6 ms exceeds max 5 ms by +20.0%*"])
    document = read_report(pytester)
    records = records_by_metric(document)
    assert sorted(records) == ["m0", "m1", "m2", "m3"]
    assert {r["test"].split("::")[1] for r in records.values()} == {
        f"test_figure[{i}]" for i in range(4)
    }
    outcomes = {metric: record["verdict"]["outcome"] for metric, record in records.items()}
    assert outcomes == {"m0": "none", "m1": "fail", "m2": "pass", "m3": "none"}
    assert document["summary"] == {"pass": 1, "fail": 1, "inconclusive": 0, "none": 2}
    assert document["run"]["xdist_workers"] == 2
    assert {r["environment"]["xdist_workers"] for r in records.values()} == {2}


def test_run_environment_counts_the_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(FIGURES)
    pytester.runpytest_subprocess("-n", "2", "--perf-report=r.json").assert_outcomes(passed=4)
    assert read_report(pytester)["environment"]["xdist_workers"] == 2


def test_save_under_xdist_writes_once_from_the_controller(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SAVE_LOGGER)
    pytester.makepyfile(FIGURES)
    result = pytester.runpytest_subprocess("-n", "2", "--perf-save")
    result.assert_outcomes(passed=4)
    path = pytester.path / "baselines" / f"{TARGET}.yaml"
    result.stdout.fnmatch_lines([f"saved 0 updated and 4 new baseline(s) to {path}"])
    assert (pytester.path / "saves.log").read_text().splitlines() == ["controller 4"]
    text = path.read_text(encoding="utf-8")
    for i in range(4):
        assert f"\nm{i}:\n  statistic: p50\n  regression: 10%\n  value: {5 + i} ms\n" in text


#: Three tests on one worker (-n 1): the middle one kills its worker after the first has passed.
CRASHING = """
import os

def test_a_first(perf):
    perf.record_value("before.crash", 1.0, unit="ms")

def test_b_crash(perf):
    perf.record_value("lost.with.its.test", 2.0, unit="ms")
    os._exit(1)

def test_c_after(perf):
    perf.record_value("after.crash", 3.0, unit="ms")
"""


def test_a_crashed_worker_keeps_the_records_of_the_tests_it_finished(pytester: pytest.Pytester) -> None:
    """Records travel with each test's report, not at the worker's end, which a crash never reaches."""
    pytester.makepyfile(CRASHING)
    result = pytester.runpytest_subprocess("-n", "1", "-p", "no:randomly", "--perf-report=r.json")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*crashed*"])
    assert sorted(records_by_metric(read_report(pytester))) == ["after.crash", "before.crash"]
