"""Records that cannot be saved or reported as they are: a clear error in their test, nothing lost."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from builders import ENVIRONMENT, make_record
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_perfdata.baseline import parse_baseline_text
from pytest_perfdata.baseline_writer import merge_records
from pytest_perfdata.record import MAX_METRIC_NAME, metric_name_problem
from pytest_perfdata.report.json_report import RunInfo, build_run_document, load_run_document, write_json
from pytest_perfdata.report.markdown import write_markdown

TESTS = """
import pytest

def test_good(perf):
    perf.record_value("good.metric", 5.0, unit="ms")

@pytest.mark.parametrize("name", ["bad\\ud800name", "x" * 1025, "tab\\tname", " padded"], ids=["surrogate", "long", "tab", "padded"])
def test_bad(perf, name):
    perf.record_value(name, 5.0, unit="ms")
"""


def test_a_bad_metric_name_fails_its_test_and_the_others_are_saved_and_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_names=TESTS)
    result = pytester.runpytest("--perf-save", "--perf-target=t", "--perf-report=r.json", "--perf-report=r.md",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=4)
    output = result.stdout.str()
    assert "INTERNALERROR" not in output
    for fragment in ("a metric name is printable text (no control character or lone surrogate)",
                     f"a metric name has at most {MAX_METRIC_NAME} characters, this one 1025",
                     "a metric name has no spaces at its ends"):
        assert fragment in output
    assert "xxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxx" in output and "x" * 200 not in output  # quoted, short
    saved = parse_baseline_text((pytester.path / "baselines" / "t.yaml").read_text(), Path("t.yaml"), "t")
    assert list(saved.entries) == ["good.metric"]
    assert [r["metric"] for r in json.loads((pytester.path / "r.json").read_text())["records"]] == ["good.metric"]
    assert "good.metric" in (pytester.path / "r.md").read_text(encoding="utf-8")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=MAX_METRIC_NAME + 20))
def test_every_accepted_name_is_saved_and_read_back_as_itself(name: str) -> None:
    """What ``metric_name_problem`` accepts, the baseline file can hold: the rule is not too loose."""
    if metric_name_problem(name) is not None:
        return
    text, _, added = merge_records("", Path("t.yaml"), [make_record(name, 5.0)], 0.1)
    assert added == [name]
    assert list(parse_baseline_text(text, Path("t.yaml"), "t").entries) == [name]


def test_a_lone_surrogate_in_a_note_still_gives_both_reports(tmp_path: Path) -> None:
    """Tool output decoded with surrogateescape can reach a note; the reports must not be lost to it."""
    run = RunInfo(id="r", started="2026-12-02T00:00:00Z", finished="2026-12-02T00:01:00Z", target="x86_64",
                  baselines="baselines/x86_64.yaml", plugin_version="0", harness_overhead_ns=None, xdist_workers=0,
                  saved=False, environment=ENVIRONMENT)
    document = build_run_document(run, [replace(make_record("m", 5.0), notes=("tool said \udcff",))])
    write_json(tmp_path / "r.json", document)
    assert load_run_document(tmp_path / "r.json")["records"][0]["notes"] == ["tool said \udcff"]
    write_markdown(tmp_path / "r.md", document, "en")
    assert "tool said \\udcff" in (tmp_path / "r.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("data", [
    b"[" * 100_000 + b"]" * 100_000,  # Python's JSON parser recurses
    b"\xff\xfe not utf-8",
    b'{"schema": "pytest-perfdata/run/3", "records": [1, 2]}',  # records that are not objects
    b'{"schema": "pytest-perfdata/run/3", "records": [{"interval": null}]}',
    b'{"schema": "' + b"x" * 100_000 + b'"}',
])
def test_a_hostile_run_file_is_a_warning_and_the_others_still_count(tmp_path: Path, data: bytes) -> None:
    from pytest_perfdata.claims.evidence import load_evidence

    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "0-bad.json").write_bytes(data)
    run = RunInfo(id="r", started="2026-12-02T00:00:00Z", finished="2026-12-02T00:01:00Z", target="x86_64",
                  baselines="b", plugin_version="0", harness_overhead_ns=None, xdist_workers=0, saved=False,
                  environment=ENVIRONMENT)
    write_json(runs / "1-good.json", build_run_document(run, [make_record("m", 5.0)]))
    evidence, warnings = load_evidence(runs)
    assert [e.metric for e in evidence] == ["m"]
    (warning,) = warnings
    assert warning.startswith(f"{runs / '0-bad.json'}: skipped") and len(warning) <= 500


def test_a_kubeconfig_of_nested_aliases_is_read_once_per_node(tmp_path: Path) -> None:
    """Nine-fold aliases eight deep are 43 million paths; each shared node is walked once."""
    from pytest_perfdata.engines.k8s.secrets import kubeconfig_secrets

    lines = ["a0: &a0 {token: alias-token-0001}"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    (tmp_path / "config").write_text("\n".join(lines) + "\n")
    assert kubeconfig_secrets([str(tmp_path / "config")]) == ["alias-token-0001"]


def test_a_report_that_cannot_be_written_is_named_and_the_others_are_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_a(perf):\n    perf.record_value('m', 1.0, unit='ms')\n")
    (pytester.path / "taken.json").mkdir()  # the report's path is a directory
    result = pytester.runpytest("--perf-report=taken.json", "--perf-report=r.md", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*not written: taken.json: *Is a directory*", "*written: r.md*"])
    assert "INTERNALERROR" not in result.stdout.str() and (pytester.path / "r.md").is_file()
    assert not [p for p in pytester.path.iterdir() if p.name.endswith(".tmp")]
