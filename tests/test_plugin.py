"""The plugin as users meet it, via pytester: options, verdicts, reports and --perf-save.

Verdicts are driven by synthetic figures (``record_value`` / ``record_samples``), never by how
fast this machine is; the one test that times a call only checks that a record was made.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib.resources import files

import jsonschema
import pytest
from builders import TARGET, read_report, records_by_metric, write_baselines

BUDGET = "--perf-budget=50ms"

#: A test module recording one exact figure; VALUE is filled in per test.
RECORD_VALUE = """
def test_figure(perf):
    perf.record_value("m", {value}, unit="ms")
"""

#: Twenty samples spread 4..8 ms: the p50 interval straddles 6 ms.
STRADDLING = """
def test_spread(perf):
    perf.record_samples("m", [4 + 4 * i / 19 for i in range(20)], unit="ms")
"""


# -- options and ini keys ------------------------------------------------------------------


def test_options_parse_and_convert(pytester: pytest.Pytester) -> None:
    """Each option reaches its ``dest`` already converted (times in s, percentages as ratios)."""
    expected = {
        "--perf-target=t": ("perf_target", "t"),
        "--perf-baselines=b": ("perf_baselines", "b"),
        "--perf-save": ("perf_save", True),
        "--perf-disable": ("perf_disable", True),
        "--perf-report=r.json": ("perf_report", ["r.json"]),
        "--perf-report-lang=zh": ("perf_report_lang", "zh"),
        "--perf-budget=50ms": ("perf_budget", pytest.approx(0.05)),
        "--perf-regression=5%": ("perf_regression", pytest.approx(0.05)),
        "--perf-inconclusive=fail": ("perf_inconclusive", "fail"),
    }
    config = pytester.parseconfig(*expected)
    assert {dest: config.getoption(dest) for dest, _ in expected.values()} == dict(
        expected.values()
    )
    assert config.getini("perf_budget") == "1s"


def test_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "performance figures as tests (pytest-perfdata):",
            "  --perf-target=TARGET*",
            "  --perf-baselines=BASELINES",
            "  --perf-report-lang=REPORT_LANG",
            "  --perf-save *",
            "  --perf-disable *",
            "  --perf-report=PATH *",
        ]
    )
    # The same text is the ini key's help, which pytest does not %-format: no "10%%" there.
    result.stdout.fnmatch_lines(["  perf_regression (string):", "*(default: 10%)"])


def test_ini_keys_are_honoured_and_the_command_line_wins(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nperf_budget = 50ms\nperf_inconclusive = fail\n")
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(STRADDLING)
    pytester.runpytest().assert_outcomes(failed=1)
    pytester.runpytest("--perf-inconclusive=pass").assert_outcomes(passed=1)


def test_ini_budget_bounds_the_samples(pytester: pytest.Pytester) -> None:
    """A call that sleeps 30 ms fits at most twice in a 50 ms budget (about 33 times in 1 s),
    however fast the machine: sleeping is never shorter than asked."""
    pytester.makeini("[pytest]\nperf_budget = 50ms\n")
    pytester.makepyfile(
        """
        import time

        def test_sleepy(perf):
            perf.measure("sleepy", lambda: time.sleep(0.03), reference=False)
        """
    )
    pytester.runpytest("--perf-report=r.json").assert_outcomes(passed=1)
    record = records_by_metric(read_report(pytester))["sleepy"]
    assert 1 <= record["summary"]["n"] <= 2
    assert record["notes"] == [f"time budget spent after {record['summary']['n']} samples"]


def test_bad_budget_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--perf-budget=fast")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*argument --perf-budget: expected a time such as '2s' or '500ms'*"]
    )


def test_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nperf_budget = fast\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option perf_budget = 'fast': expected a time*"])


def test_unknown_target_lists_known_targets(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\n", target="arm-box")
    write_baselines(pytester, "m: {max: 6 ms}\n", target="gpu-box")
    result = pytester.runpytest("--perf-target=riscv-box")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*unknown --perf-target 'riscv-box'*(known targets: arm-box, gpu-box, {TARGET}; *"]
    )


#: One test that measures, so that the run reads the target's baseline file.
MEASURING_TEST = "def test_m(perf):\n    perf.record_value('m', 1, unit='ms')\n"


def test_saving_to_a_new_target_creates_it_and_judging_against_it_then_works(pytester: pytest.Pytester) -> None:
    """``--perf-target=ci-x86_64 --perf-save`` starts the target the README recommends per machine class."""
    write_baselines(pytester, "m: {max: 6 ms}\n", target="arm-box")
    pytester.makepyfile(MEASURING_TEST)
    result = pytester.runpytest("--perf-target=ci-x86_64", "--perf-save")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    saved = pytester.path / "baselines" / "ci-x86_64.yaml"
    assert "m:" in saved.read_text()
    judged = pytester.runpytest("--perf-target=ci-x86_64")
    judged.assert_outcomes(passed=1)


#: A run of one target measuring two machines: its own, and an arm box's (a cluster's node).
TWO_TARGETS = """
def test_nodes(perf):
    perf.record_value("m.local", {local}, unit="ms")
    perf.record_value("m.node", {node}, unit="ms", target="arm-box")
"""


def test_a_record_of_another_target_is_judged_against_that_targets_baselines(pytester: pytest.Pytester) -> None:
    """``--perf-k3s-nodes=all``: an arm64 node's figure meets ``baselines/arm64.yaml``, not the run's file."""
    write_baselines(pytester, "m.local: {max: 6 ms}\nm.node: {max: 100 ms}\n")
    arm = write_baselines(pytester, "m.node: {max: 6 ms}\n", target="arm-box")
    pytester.makepyfile(TWO_TARGETS.format(local=5, node=7))
    result = pytester.runpytest("--perf-report=r.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*m.node: 7 ms exceeds max 6 ms by +16.7% [[]target arm-box, baseline {arm}:1[]]"])
    records = records_by_metric(read_report(pytester))
    assert (records["m.local"]["target"], records["m.node"]["target"]) == (TARGET, "arm-box")
    assert records["m.local"]["verdict"]["outcome"] == "pass"


def test_a_target_without_baselines_is_not_judged_and_is_saved_to_its_own_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TWO_TARGETS.format(local=5, node=7))
    result = pytester.runpytest("--perf-report=r.json")
    result.assert_outcomes(passed=1)
    assert "no baseline for m.node on target arm-box" in read_report(pytester)["records"][1]["verdict"]["reason"]
    saved = pytester.runpytest("--perf-save")
    saved.assert_outcomes(passed=1)
    own = (pytester.path / "baselines" / f"{TARGET}.yaml").read_text()
    arm = (pytester.path / "baselines" / "arm-box.yaml").read_text()
    assert ("m.local:" in own, "m.node:" in own, "m.local:" in arm, "m.node:" in arm) == (True, False, False, True)
    stale = pytester.runpytest()  # each file's metric was produced, so neither is stale
    stale.assert_outcomes(passed=1)
    assert "stale" not in stale.stdout.str()


#: Two nodes' figures of one metric, each named after its node, judged by the metric's baseline.
FAMILY = """
def test_nodes(perf):
    perf.record_value("m.node-a", {a}, unit="ms", family="m")
    perf.record_value("m.node-b", {b}, unit="ms", family="m")
"""


def test_a_member_without_a_baseline_of_its_own_is_judged_by_its_familys(pytester: pytest.Pytester) -> None:
    path = write_baselines(pytester, "m: {max: 6 ms}\nm.node-b: {max: 100 ms}\n")
    pytester.makepyfile(FAMILY.format(a=7, b=7))
    result = pytester.runpytest("--perf-report=r.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*m.node-a: 7 ms exceeds max 6 ms by +16.7% [[]target {TARGET}, baseline {path}:1[]]"])
    records = records_by_metric(read_report(pytester))
    assert records["m.node-b"]["verdict"]["outcome"] == "pass"  # its own baseline comes first
    assert read_report(pytester)["stale_baselines"] == []  # m judged a member: not stale


def test_a_family_must_be_a_prefix_of_the_metric(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_m(perf):\n    perf.record_value('m.a', 1, unit='ms', family='n')\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*family 'n' must be a prefix of its name*"])


def test_a_record_target_that_cannot_be_a_file_name_fails_its_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_m(perf):\n    perf.record_value('m', 1, unit='ms', target='../x')\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*record target '../x' is not a usable name*"])


@pytest.mark.parametrize("name", ["../escape", ".hidden", "a/b", "x" * 101])
def test_a_target_name_that_cannot_be_a_file_name_is_refused(pytester: pytest.Pytester, name: str) -> None:
    result = pytester.runpytest(f"--perf-target={name}", "--perf-save")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*is not a usable name*"])


def test_malformed_baseline_file_is_a_usage_error_with_its_line(pytester: pytest.Pytester) -> None:
    path = write_baselines(pytester, "m:\n  statistic: p50\n  max: 6 parsec\n")
    pytester.makepyfile(MEASURING_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{path}:3: m: max: unknown unit 'parsec'*"])


def test_a_run_that_measures_nothing_does_not_read_the_baselines(pytester: pytest.Pytester) -> None:
    """The plugin loads its core and the target's file only for a test that measures."""
    write_baselines(pytester, "m:\n  statistic: p50\n  max: 6 parsec\n")
    pytester.makepyfile("def test_plain():\n    pass\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_impossible_date_in_baseline_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """A YAML timestamp the loader cannot build (month 13) is a located usage error, not a crash."""
    path = write_baselines(pytester, "m:\n  max: 6 ms\n  collected: 2025-13-45\n")
    pytester.makepyfile(MEASURING_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{path}:3: m: collected:*"])


def test_text_report_extension_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--perf-report=r.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--perf-report r.txt: the extension must be .json or .md*"])


# -- verdicts decide the test's outcome ----------------------------------------------------


def test_value_above_max_fails_with_metric_limit_and_target(pytester: pytest.Pytester) -> None:
    path = write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(RECORD_VALUE.format(value=7))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_value_above_max_fails_with_metric_limit_and_target.py:1: test_figure: "
            "performance verdict failed (in all 2 attempts):",
            f"*m: 7 ms exceeds max 6 ms by +16.7% [[]target {TARGET}, baseline {path}:1[]]",
        ]
    )


def test_a_failed_verdict_shows_its_lines_and_the_users_test_only(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(test_mine=RECORD_VALUE.format(value=7))
    result = pytester.runpytest("-rf")
    text = result.stdout.str()
    failure = text[text.index("= FAILURES ="):text.index("= perfdata =")]
    assert "pytest_perfdata" not in failure and "def pytest_runtest_call" not in failure
    assert failure.splitlines()[2].startswith("test_mine.py:1: test_figure: performance verdict failed")
    result.stdout.fnmatch_lines(["FAILED test_mine.py::test_figure*"])


def test_value_within_max_passes(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(RECORD_VALUE.format(value=5))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*perfdata*", "m *5 ms*6 ms*pass*verified*"])


def test_every_metric_is_recorded_before_the_test_fails(pytester: pytest.Pytester) -> None:
    """Both misses are reported, not only the first: the failure comes after the test body."""
    write_baselines(pytester, "a: {max: 1 ms}\nb: {min: 10 qps}\n")
    pytester.makepyfile(
        """
        def test_two(perf):
            perf.record_value("a", 2, unit="ms")
            perf.record_value("b", 5, unit="qps", better="higher")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*a: 2 ms exceeds max 1 ms*", "*b: 5 qps falls below min 10 qps by 50.0%*"]
    )


def test_straddling_interval_is_inconclusive_and_passes_by_default(
    pytester: pytest.Pytester,
) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(STRADDLING)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["inconclusive: m: p50 = 6 ms (99% CI * .. *) straddles max 6 ms: cannot tell*"]
    )


def test_straddling_interval_fails_when_asked(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(STRADDLING)
    result = pytester.runpytest("--perf-inconclusive=fail")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*m: p50 = 6 ms*straddles max 6 ms*"])


def test_no_baseline_passes_and_is_pending(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(RECORD_VALUE.format(value=7))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"pending: 1 metric(s) have no baseline on {TARGET}; `--perf-save` stores them: m"]
    )


def test_stale_baselines_are_reported(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\nold.metric: {max: 1 ms}\ngone.too: {max: 1 ms}\n")
    pytester.makepyfile(RECORD_VALUE.format(value=5))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"stale: 2 baseline(s) of {TARGET} not measured in this run: gone.too, old.metric"]
    )


# -- measuring -----------------------------------------------------------------------------


def test_measure_produces_a_record(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_noop(perf):
            perf.measure("x", lambda: None, unit="us")
        """
    )
    pytester.runpytest(BUDGET, "--perf-report=r.json").assert_outcomes(passed=1)
    document = read_report(pytester)
    assert len(document["records"]) == 1
    record = document["records"][0]
    assert record["metric"] == "x" and record["unit"] == "us"
    assert record["test"] == "test_measure_produces_a_record.py::test_noop"
    assert record["summary"]["n"] > 0 and record["overhead_ns"] > 0 and record["loops"] >= 1
    assert document["run"]["harness_overhead_ns"] > 0
    schema = files("pytest_perfdata").joinpath("schema/run-3.json").read_text(encoding="utf-8")
    jsonschema.Draft202012Validator(json.loads(schema)).validate(document)


def test_disable_runs_the_function_once_and_records_nothing(pytester: pytest.Pytester) -> None:
    """Under --perf-disable a record carries its one timing (a test's own asserts hold), unbounded, unsaved."""
    write_baselines(pytester, "x: {max: 1 ns}\n")
    pytester.makepyfile(
        """
        import math

        def test_counted(perf):
            calls = []
            record = perf.measure("x", lambda: calls.append(1), unit="us")
            assert calls == [1]
            assert record.value > 0 and math.isfinite(record.value)
            assert record.interval.low == -math.inf and record.interval.high == math.inf
            assert record.verdict is None or record.verdict.outcome.value == "none"
            assert "--perf-disable" in record.notes[-1]
        """
    )
    pytester.runpytest(BUDGET, "--perf-disable", "--perf-report=r.json").assert_outcomes(passed=1)
    assert read_report(pytester)["records"] == []


def test_perf_marker_is_added_to_measuring_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_measuring(perf):
            perf.record_value("m", 1, unit="ms")

        def test_plain():
            pass
        """
    )
    result = pytester.runpytest("-m", "perf", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["*::test_measuring PASSED*"])
    result = pytester.runpytest("-m", "not perf", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["*::test_plain PASSED*"])


# -- --perf-save ---------------------------------------------------------------------------


def test_save_writes_baselines_and_the_next_run_judges_against_them(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(RECORD_VALUE.format(value=5))
    result = pytester.runpytest("--perf-save")
    result.assert_outcomes(passed=1)
    path = pytester.path / "baselines" / f"{TARGET}.yaml"
    result.stdout.fnmatch_lines([f"saved 0 updated and 1 new baseline(s) to {path}"])
    assert "pending: " not in result.stdout.str()  # what was saved is said; nothing is left pending
    assert "\nm:\n  statistic: p50\n  regression: 10%\n  value: 5 ms\n" in path.read_text(
        encoding="utf-8"
    )

    pytester.runpytest("--perf-report=r.json").assert_outcomes(passed=1)
    verdict = records_by_metric(read_report(pytester))["m"]["verdict"]
    assert verdict["outcome"] == "pass" and [c["kind"] for c in verdict["checks"]] == ["regression"]

    pytester.makepyfile(RECORD_VALUE.format(value=7))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*m: 7 ms regressed +40.0% against baseline 5 ms (limit +10%)*"]
    )


def test_save_keeps_hand_written_limit_and_comment(pytester: pytest.Pytester) -> None:
    original = "# reviewed by the perf team\nm:\n  max: 6 ms   # the claim\n"
    path = write_baselines(pytester, original)
    pytester.makepyfile(RECORD_VALUE.format(value=5))
    pytester.runpytest("--perf-save").assert_outcomes(passed=1)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(original + "  value: 5 ms\n")


def test_interrupted_run_saves_nothing(pytester: pytest.Pytester) -> None:
    """A half-finished run must not overwrite reviewed baselines with a partial set."""
    pytester.makepyfile(
        """
        import pytest

        def test_measured(perf):
            perf.record_value("m", 1, unit="ms")

        def test_stops():
            pytest.exit("stop here")
        """
    )
    result = pytester.runpytest("--perf-save")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["not saved: the run was interrupted; the baseline file is unchanged"]
    )
    assert not (pytester.path / "baselines").exists()


def test_save_refuses_a_metric_produced_twice(pytester: pytest.Pytester) -> None:
    """Two tests writing one metric would make the stored value depend on test order."""
    pytester.makepyfile(
        """
        def test_one(perf):
            perf.record_value("m", 1, unit="ms")

        def test_two(perf):
            perf.record_value("m", 2, unit="ms")
        """
    )
    result = pytester.runpytest("--perf-save")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["not saved: metric m was recorded 2 times, by 2 tests (*::test_one, *::test_two); *"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # a save that saved nothing is not a success
    assert not (pytester.path / "baselines" / f"{TARGET}.yaml").exists()


def test_a_metric_recorded_twice_by_one_test_names_that_test_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_one(perf):
            perf.record_value("m", 1, unit="ms")
            perf.record_value("m", 2, unit="ms")

        def test_other(perf):
            perf.record_value("n", 2, unit="ms")
        """
    )
    result = pytester.runpytest("--perf-save")
    result.stdout.fnmatch_lines(["not saved: metric m was recorded 2 times, by test *::test_one; *",
                                 "saved 0 updated and 1 new baseline(s) to *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the rest is saved, and the run still says it was not all


def test_a_save_of_a_run_that_recorded_nothing_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_measures_nothing(perf):
            assert perf is not None
        """
    )
    result = pytester.runpytest("--perf-save")
    result.stdout.fnmatch_lines(["not saved: no test of this run recorded a figure"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# -- reports -------------------------------------------------------------------------------


def test_junit_xml_carries_perf_properties(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(STRADDLING)
    pytester.runpytest("--junitxml=j.xml").assert_outcomes(passed=1)
    root = ET.parse(pytester.path / "j.xml").getroot()
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties["perf.m.p50"] == "6 ms"
    assert properties["perf.m.n"] == "20"
    assert properties["perf.m.verdict"] == "inconclusive"
    assert properties["perf.m.status"] == "pending"
    assert "perf.m.ci" in properties


def test_markdown_report_in_chinese(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(RECORD_VALUE.format(value=5))
    result = pytester.runpytest("--perf-report=r.md", "--perf-report-lang=zh")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["written: r.md"])
    assert "数据来源" in (pytester.path / "r.md").read_text(encoding="utf-8")


def test_json_report_counts_outcomes(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "a: {max: 6 ms}\nb: {max: 6 ms}\n")
    pytester.makepyfile(
        """
        def test_all(perf):
            perf.record_value("a", 5, unit="ms")
            perf.record_value("b", 7, unit="ms")
            perf.record_value("c", 1, unit="ms")
        """
    )
    pytester.runpytest("--perf-report=r.json").assert_outcomes(failed=1)
    document = read_report(pytester)
    assert document["summary"] == {"pass": 1, "fail": 1, "inconclusive": 0, "none": 1}
    assert records_by_metric(document)["b"]["status"] == "refuted"  # failed in both attempts (confirm 1)


def test_one_unconfirmed_failure_leaves_the_figure_pending_not_refuted(pytester: pytest.Pytester) -> None:
    """A failure in a test's only attempt says "look again"; refuted needs it in every one of two or more."""
    write_baselines(pytester, "b: {max: 6 ms}\n")
    pytester.makepyfile(
        """
        def test_b(perf):
            perf.record_value("b", 7, unit="ms")
        """
    )
    pytester.runpytest("--perf-confirm=0", "--perf-report=r.json").assert_outcomes(failed=1)
    record = records_by_metric(read_report(pytester))["b"]
    assert record["status"] == "pending" and "failed in its only attempt" in record["notes"][-1]
    pytester.runpytest("--perf-confirm=0", "--perf-save").assert_outcomes(failed=1)
    assert "status: pending" in (pytester.path / "baselines" / f"{TARGET}.yaml").read_text()


# --- which stored values a regression limit may use ------------------------------------------

OTHER_MACHINE = "x86_64, Other CPU [GenuineIntel 6/85/7], 2 cores, Linux 5.10.0, Python 3.11"
FROM_ELSEWHERE = f"m:\n  value: 1 ms\n  regression: 10%\n  machine: '{OTHER_MACHINE}'\n"


def test_value_stored_on_another_machine_is_not_compared(pytester: pytest.Pytester) -> None:
    """Three times the stored value, but stored elsewhere: reported as not compared, test passes."""
    write_baselines(pytester, FROM_ELSEWHERE)
    pytester.makepyfile("def test_m(perf):\n    perf.record_value('m', 3, unit='ms')\n")
    result = pytester.runpytest("--perf-report=r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "m *3 ms*stored on another machine*not compared*pending*",
        (
            "not compared: 1 metric(s) have stored values from another machine than this one (*), so their "
            "regression limits were not applied (absolute limits were); `--perf-save` stores this machine class's "
            "values beside the others', `--perf-regression-scope=target` compares anyway"
        ),
    ])
    assert "pending: " not in result.stdout.str()
    record = records_by_metric(read_report(pytester))["m"]
    assert record["verdict"]["outcome"] == "none" and record["status"] == "pending"


def _this_machine_class() -> str:
    from pytest_perfdata.environment import collect_environment, machine_label

    return machine_label(collect_environment())


def test_this_machine_class_is_judged_and_saved_in_others(pytester: pytest.Pytester) -> None:
    """The top value is another class's; this machine's sits in ``others``: judged against it, saved into it."""
    path = write_baselines(pytester, FROM_ELSEWHERE + f"  others:\n    - {{machine: '{_this_machine_class()}', value: 1 ms}}\n")
    pytester.makepyfile("def test_m(perf):\n    perf.record_value('m', 3, unit='ms')\n")
    result = pytester.runpytest("--perf-confirm=0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*m: 3 ms regressed +200.0% against baseline 1 ms*"])
    pytester.runpytest("--perf-save").assert_outcomes(passed=1)
    text = path.read_text()
    assert text.startswith(FROM_ELSEWHERE)  # the other class's top value is left alone
    assert f"    - {{machine: '{_this_machine_class()}', value: 3 ms, " in text and text.count("- {machine") == 1
    pytester.runpytest().assert_outcomes(passed=1)


def test_target_scope_compares_values_from_any_machine(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, FROM_ELSEWHERE)
    pytester.makepyfile("def test_m(perf):\n    perf.record_value('m', 3, unit='ms')\n")
    result = pytester.runpytest("--perf-regression-scope=target")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*m: 3 ms regressed +200.0% against baseline 1 ms*baseline machine differs*"])


def test_bad_regression_scope_in_ini_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nperf_regression_scope = planet\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*perf_regression_scope must be one of machine, target, not 'planet'*"])


def test_header_names_target_baselines_and_machine(pytester: pytest.Pytester) -> None:
    """A log read weeks later says what the run was judged against and who measured."""
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile("def test_m():\n    pass\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([
        f"perfdata: target {TARGET}, baselines *{TARGET}.yaml, judging, regression scope machine, confirm 1",
        "perfdata: machine *cores*, Python *",
    ])


# --- confirming a failed verdict by measuring again ----------------------------------------

FLAKY = """
import itertools
from pathlib import Path

attempt = itertools.count(1)

def test_m(perf):
    n = next(attempt)
    values = {values}
    Path("attempts.txt").write_text(str(n))
    perf.record_value("m", values[min(n, len(values)) - 1], unit="ms")
"""


def test_a_failure_that_is_not_confirmed_passes_and_says_so(pytester: pytest.Pytester) -> None:
    """A burst of load in the first attempt only: the second attempt decides, both are reported."""
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(FLAKY.format(values="[9, 5]"))
    result = pytester.runpytest("--perf-report=r.json")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "attempts.txt").read_text() == "2"
    result.stdout.fnmatch_lines(["re-measured: 1 metric(s) failed a first attempt that a later one did not confirm*: m"])
    (record,) = read_report(pytester)["records"]  # the first attempt's record is not kept
    assert record["value"] == 5 and record["verdict"]["outcome"] == "pass"
    baseline = pytester.path / "baselines" / f"{TARGET}.yaml"
    assert record["notes"] == [
        f"measured 2 times; earlier attempts failed: attempt 1: m: 9 ms exceeds max 6 ms by +50.0% [target {TARGET}, baseline {baseline}:1]"
    ]


def test_a_confirmed_failure_fails_with_every_attempt(pytester: pytest.Pytester) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(FLAKY.format(values="[9, 8, 7]"))
    result = pytester.runpytest("--perf-confirm=2", "--perf-report=r.json")
    result.assert_outcomes(failed=1)
    assert (pytester.path / "attempts.txt").read_text() == "3"
    result.stdout.fnmatch_lines([
        "*performance verdict failed (in all 3 attempts):",
        "*attempt 1: m: 9 ms exceeds max 6 ms*",
        "*attempt 2: m: 8 ms exceeds max 6 ms*",
        "*m: 7 ms exceeds max 6 ms*",
    ])
    assert [r["value"] for r in read_report(pytester)["records"]] == [7]


@pytest.mark.parametrize("how", [["--perf-confirm=0"], ["--override-ini=perf_confirm=0"]])
def test_confirm_zero_fails_at_once(pytester: pytest.Pytester, how: list[str]) -> None:
    write_baselines(pytester, "m: {max: 6 ms}\n")
    pytester.makepyfile(FLAKY.format(values="[9, 5]"))
    result = pytester.runpytest(*how)
    result.assert_outcomes(failed=1)
    assert (pytester.path / "attempts.txt").read_text() == "1"
    result.stdout.fnmatch_lines(["*performance verdict failed:", "*m: 9 ms exceeds max 6 ms*"])


def test_marker_sets_attempts_for_one_test(pytester: pytest.Pytester) -> None:
    """A test that must not run twice (it creates named cluster objects) opts out with confirm=0."""
    write_baselines(pytester, "m: {max: 6 ms}\n")
    opted_out = FLAKY.format(values="[9, 5]").replace("def test_m", "import pytest\n\n@pytest.mark.perf(confirm=0)\ndef test_m")
    pytester.makepyfile(opted_out)
    pytester.runpytest().assert_outcomes(failed=1)
    assert (pytester.path / "attempts.txt").read_text() == "1"


def test_a_test_that_fails_its_own_assertion_is_not_run_again(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pathlib import Path

        def test_m(perf):
            runs = Path("runs.txt")
            runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
            perf.record_value("m", 1, unit="ms")
            assert False, "the test's own check"
        """
    )
    pytester.runpytest().assert_outcomes(failed=1)
    assert (pytester.path / "runs.txt").read_text() == "x"


def test_working_files_stay_out_of_git_status(pytester: pytest.Pytester) -> None:
    """A save leaves no lock file beside the YAML; the run files' directory ignores itself."""
    pytester.makepyfile(MEASURING_TEST)
    pytester.runpytest("--perf-save").assert_outcomes(passed=1)
    assert sorted(p.name for p in (pytester.path / "baselines").iterdir()) == [f"{TARGET}.yaml"]
    ignore = pytester.path / ".perfdata" / ".gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"
    assert list((pytester.path / ".perfdata" / "runs").glob("*.json"))


def test_the_summary_under_save_says_saved_and_exact_figures_have_no_statistic(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_size(perf):
            perf.record_value("d.size", 12, unit="KiB")
        """
    )
    result = pytester.runpytest("--perf-save")
    row = next(line for line in result.outlines if line.startswith("d.size"))
    assert row.split()[1:5] == ["12", "KiB", "-", "saved"] and "→ verified" in row and "p50" not in row


def test_baselines_of_tests_that_did_not_run_are_not_stale(pytester: pytest.Pytester) -> None:
    """``-k`` or one file: only baselines whose own test ran and did not produce them are stale."""
    pytester.makepyfile(
        test_a="def test_a(perf):\n    perf.record_value('a', 1, unit='ms')\n",
        test_b="def test_b(perf):\n    perf.record_value('b', 1, unit='ms')\n",
    )
    pytester.runpytest("--perf-save").assert_outcomes(passed=2)
    only_a = pytester.runpytest("test_a.py")
    assert not any(line.startswith("stale:") for line in only_a.outlines)
    by_k = pytester.runpytest("-k", "test_a")
    assert not any(line.startswith("stale:") for line in by_k.outlines)
    (pytester.path / "test_b.py").write_text("def test_b(perf):\n    perf.record_value('b2', 1, unit='ms')\n")
    renamed = pytester.runpytest()
    renamed.stdout.fnmatch_lines(["stale: 1 baseline(s) of * not measured in this run: b"])


def test_the_summary_lists_why_measuring_tests_skipped(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_measures(perf):
            perf.record_value("m", 1, unit="ms")

        @pytest.mark.parametrize("n", [1, 2])
        def test_needs_an_engine(perf, n):
            pytest.skip("no wasmedge: install WasmEdge or pass --perf-wasmedge PATH")

        def test_plain():
            pytest.skip("not a measuring test")
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([
        "skipped: 2 measuring test(s), so their figures are missing; how to get what they need:",
        "  2 × no wasmedge: install WasmEdge or pass --perf-wasmedge PATH",
    ])
    assert "not a measuring test" not in result.stdout.str()


PROGRESS_TEST = """
def test_work(perf):
    perf.measure("work", lambda: sum(range(100)), unit="us", budget="0.2s")
"""


def test_progress_shows_each_metric_when_asked_and_stays_out_of_logs_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PROGRESS_TEST)
    shown = pytester.runpytest("--perf-progress=on")
    shown.stdout.fnmatch_lines(["  work: p50, up to 0.2 s … * us (* samples) *"])
    quiet_default = pytester.runpytest()  # pytester's output is not a terminal: auto stays silent
    assert "up to 0.2 s" not in quiet_default.stdout.str()
    off = pytester.runpytest("--perf-progress=off")
    assert "up to 0.2 s" not in off.stdout.str()
