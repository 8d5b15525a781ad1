"""The claims ledger: files, rules, lifecycle and the console script, on synthetic data."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_perfdata.claims.consistency import check_consistency
from pytest_perfdata.claims.files import ClaimsError, load_ledger
from pytest_perfdata.claims.lifecycle import claim_state
from pytest_perfdata.claims.model import Claim, ClaimSource, ClaimStatus, Comparison, Evidence, Location, engine_terms
from pytest_perfdata.cli import main
from pytest_perfdata.units import parse_quantity

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 12, 2)
SOURCE = ClaimSource("official-docs", "https://example.org/docs", "quoted")


def claim(comparison: str = "<=", figure: str = "6 ms", **fields: object) -> Claim:
    base = Claim(id="c", location=Location(Path("claims/x.yaml"), 3), comparison=Comparison(comparison),
                 figure=parse_quantity(figure), source=SOURCE, collected=TODAY, metric="m")
    return replace(base, **fields)  # type: ignore[arg-type]


def evidence(value: float, low: float, high: float, day: dt.date = TODAY, run: str = "r1.json",
             target: str = "x86_64", unit: str = "ms", **engine: str) -> Evidence:
    return Evidence(metric="m", value=value, low=low, high=high, unit=unit, statistic="p50", target=target,
                    collected=day, test="t.py::t", engine=dict(engine), environment="x86_64, test", run=run)


# -- lifecycle ------------------------------------------------------------------------------------


def test_an_interval_below_the_figure_verifies_above_refutes_across_cannot_tell() -> None:
    assert claim_state(claim(), [evidence(5.0, 4.9, 5.1)], TODAY).status is ClaimStatus.VERIFIED
    refuted = claim_state(claim(), [evidence(7.5, 7.4, 7.6)], TODAY)
    assert refuted.status is ClaimStatus.REFUTED and "by +25.0%" in refuted.reason
    straddles = claim_state(claim(), [evidence(6.0, 5.8, 6.2)], TODAY)
    assert straddles.status is ClaimStatus.PENDING and "cannot tell" in straddles.reason


def test_evidence_in_another_unit_is_converted() -> None:
    assert claim_state(claim(), [evidence(5000.0, 4900.0, 5100.0, unit="us")], TODAY).status is ClaimStatus.VERIFIED


def test_pending_says_why() -> None:
    assert "no suite measures this: a real node" in claim_state(
        claim(metric=None, requires="a real node"), [], TODAY).reason
    assert "no run has measured m yet" in claim_state(claim(), [], TODAY).reason
    other = claim_state(claim(target="arm64"), [evidence(5.0, 4.9, 5.1)], TODAY)
    assert other.status is ClaimStatus.PENDING and "target x86_64" in other.reason and "claimed for target arm64" in other.reason
    engine = claim_state(claim(engine={"name": "wasmedge"}), [evidence(5.0, 4.9, 5.1, name="wasmtime")], TODAY)
    assert "name wasmtime" in engine.reason and "claimed for name wasmedge" in engine.reason


def test_a_version_prefix_matches_its_patch_releases() -> None:
    record = evidence(5.0, 4.9, 5.1, name="wasmedge", version="0.14.1")
    assert claim_state(claim(engine={"version": "0.14"}), [record], TODAY).status is ClaimStatus.VERIFIED
    assert claim_state(claim(engine={"version": "0.14.0"}), [record], TODAY).status is ClaimStatus.PENDING


def test_a_claim_made_for_one_build_is_not_decided_by_another(tmp_path: Path) -> None:
    """What moves the figure (how WasmEdge's LLVM is linked) is matched like the version."""
    folder = write(tmp_path, "c.yaml", "claims:\n  c:\n    claim: '<= 6 ms'\n    metric: m\n"
                   "    engine: {name: wasmedge, build: {aot-compiler: llvm-static}}\n"
                   "    source: {kind: blog, reference: x}\n    collected: 2026-01-01\n")
    (made_for,) = load_ledger(folder).claims
    assert made_for.engine == {"name": "wasmedge", "build.aot-compiler": "llvm-static"}
    shared = {"name": "wasmedge", "build": {"aot-compiler": "llvm-shared", "llvm": "libLLVM-16.so"}}
    other = evidence(40.0, 39.0, 41.0, **engine_terms(shared))
    state = claim_state(made_for, [other], TODAY)
    assert state.status is ClaimStatus.PENDING
    assert "build.aot-compiler llvm-shared" in state.reason and "claimed for name wasmedge, build.aot-compiler llvm-static" in state.reason
    same = evidence(5.0, 4.9, 5.1, **engine_terms({**shared, "build": {"aot-compiler": "llvm-static"}}))
    assert claim_state(made_for, [other, same], TODAY).status is ClaimStatus.VERIFIED


def test_old_deciding_evidence_expires() -> None:
    old = evidence(5.0, 4.9, 5.1, day=TODAY - dt.timedelta(days=200))
    state = claim_state(claim(), [old], TODAY, max_age_days=180)
    assert state.status is ClaimStatus.EXPIRED and "200 days old" in state.reason


def test_the_newest_deciding_record_decides_and_a_newer_undecided_one_is_mentioned() -> None:
    older = evidence(7.5, 7.4, 7.6, day=TODAY - dt.timedelta(days=2), run="a.json")
    newer = evidence(5.0, 4.9, 5.1, day=TODAY - dt.timedelta(days=1), run="b.json")
    newest = evidence(6.0, 5.5, 6.5, day=TODAY, run="c.json")
    state = claim_state(claim(), [older, newest, newer], TODAY)
    assert state.status is ClaimStatus.VERIFIED and "1 newer record(s) could not tell" in state.reason


records = st.builds(
    lambda value, spread, age, run: evidence(value, value * (1 - spread), value * (1 + spread),
                                            TODAY - dt.timedelta(days=age), f"run{run}.json"),
    st.floats(0.1, 20.0), st.floats(0.0, 0.3), st.integers(0, 400), st.integers(0, 50))
claims = st.builds(lambda op, figure: claim(op, f"{figure} ms"), st.sampled_from(["<=", "<", ">=", ">"]),
                   st.floats(0.5, 15.0))


@settings(max_examples=80, deadline=None)
@given(claims, st.lists(records, max_size=8), st.randoms())
def test_status_is_a_pure_function_of_claim_evidence_and_day(c: Claim, found: list[Evidence], rng) -> None:
    """Same inputs, same answer, whatever order the run files were read in."""
    shuffled = list(found)
    rng.shuffle(shuffled)
    first, second = claim_state(c, found, TODAY), claim_state(c, shuffled, TODAY)
    assert (first.status, first.reason) == (second.status, second.reason)


@settings(max_examples=80, deadline=None)
@given(claims, st.lists(records, max_size=6), st.lists(records, max_size=6))
def test_adding_evidence_never_loses_older_evidence(c: Claim, before: list[Evidence], added: list[Evidence]) -> None:
    def ids(records: tuple[Evidence, ...]) -> list[tuple[object, ...]]:
        return [(e.run, e.collected, e.value, e.low, e.high) for e in records]

    kept = ids(claim_state(c, before, TODAY).evidence)
    after = ids(claim_state(c, before + added, TODAY).evidence)
    assert all(kept.count(item) <= after.count(item) for item in kept)


@settings(max_examples=80, deadline=None)
@given(claims, st.lists(records, min_size=1, max_size=6), st.integers(0, 400), st.integers(0, 400))
def test_expiry_is_monotone_in_time(c: Claim, found: list[Evidence], day: int, later: int) -> None:
    """Once expired, a claim stays expired as days pass with no new evidence."""
    earlier, afterwards = TODAY + dt.timedelta(days=day), TODAY + dt.timedelta(days=day + later)
    if claim_state(c, found, earlier).status is ClaimStatus.EXPIRED:
        assert claim_state(c, found, afterwards).status is ClaimStatus.EXPIRED


# -- files and rules ---------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "claims"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


FACTS = """facts:
  board.memory: {value: 8 GiB, source: {kind: official-docs, reference: "https://example.org/board"}}
  k3s.server_memory: {value: 1588 MiB, source: {kind: official-docs, reference: "https://docs.k3s.io"}}
rules:
  memory-fits: {says: pods fit, check: "pods_per_node * memory_per_pod + k3s.server_memory <= hardware.memory"}
"""


def case(pods: int, per_pod: str, assumes: str = "") -> str:
    return f"""case:
  id: box
  hardware: board
  source: {{kind: community-case, reference: "the users' document"}}
  collected: 2026-11-20
  {assumes}
claims:
  box.pods: {{claim: ">= {pods} pods", role: pods_per_node}}
  box.memory: {{claim: "<= {per_pod}", role: memory_per_pod}}
"""


def test_the_edge_box_arithmetic_names_the_facts(tmp_path: Path) -> None:
    write(tmp_path, "facts.yaml", FACTS)
    folder = write(tmp_path, "box.yaml", case(3000, "32 MiB"))
    (finding,) = check_consistency(load_ledger(folder))
    assert not finding.holds and finding.arithmetic == "3000 pods × 32 MiB + 1588 MiB = 95.3 GiB > 8 GiB"
    assert finding.facts == ("k3s.server_memory", "board.memory") and finding.claims == ("box.pods", "box.memory")


def test_a_fact_the_case_says_it_changed_is_used_instead(tmp_path: Path) -> None:
    write(tmp_path, "facts.yaml", FACTS)
    folder = write(tmp_path, "box.yaml", case(10, "32 MiB", assumes="assumes: {board.memory: 64 GiB}"))
    (finding,) = check_consistency(load_ledger(folder))
    assert finding.holds and "(assumed by box)" in finding.arithmetic


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 4096), st.integers(1, 4096))
def test_more_memory_per_pod_never_makes_an_impossible_case_possible(pods: int, small: int, extra: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), "facts.yaml", FACTS)
        folder = write(Path(tmp), "box.yaml", case(pods, f"{small} MiB"))
        before = check_consistency(load_ledger(folder))[0].holds
        write(Path(tmp), "box.yaml", case(pods, f"{small + extra} MiB"))
        after = check_consistency(load_ledger(folder))[0].holds
    assert before or not after


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        ("claims:\n  a: {claim: '<= 6 ms'}\n", 2, ["a: source is missing"]),
        ("claims:\n  a:\n    claim: '~ 6 ms'\n    source: {kind: blog, reference: x}\n    collected: 2026-01-01\n", 3,
         ["a: claim: expected a comparison and a figure", "'~ 6 ms'"]),
        ("claims:\n  a:\n    claim: '<= 6 parsec'\n    source: {kind: blog, reference: x}\n    collected: 2026-01-01\n", 3,
         ["unknown unit 'parsec'", "known: "]),
        ("claims:\n  a:\n    claim: '<= 6 ms'\n    source: {kind: rumour, reference: x}\n    collected: 2026-01-01\n", 4,
         ["unknown kind 'rumour'", "official-docs"]),
        ("claims:\n  a:\n    claim: '<= 6 ms'\n    source: {kind: blog, reference: x}\n", 3, ["a: collected is missing"]),
        ("facts:\n  board.memory: {value: 8 GiB}\n", 2, ["board.memory: source is missing"]),
        ("rules:\n  r: {check: '__import__(1) <= 2'}\n", 2, ["r: check: Call is not allowed"]),
        ("claims:\n  a:\n    claim: '<= 6 ms'\n    colour: red\n", 4, ["unknown key 'colour'"]),
        ("claims:\n  a:\n    claim: '<= 6 ms'\n    engine: {name: x, build: llvm}\n"
         "    source: {kind: blog, reference: x}\n    collected: 2026-01-01\n", 4,
         ["a: engine: expected a mapping of name, version, mode, build", "build: a mapping"]),
    ],
)
def test_bad_input_names_file_line_and_id(tmp_path: Path, text: str, line: int, fragments: list[str]) -> None:
    folder = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ClaimsError) as info:
        load_ledger(folder)
    assert str(info.value).startswith(f"{folder / 'bad.yaml'}:{line}: "), str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_an_unknown_metric_is_an_error_listing_similar_ones(tmp_path: Path) -> None:
    folder = write(tmp_path, "a.yaml", "claims:\n  a:\n    claim: '<= 6 ms'\n    metric: wasm.cold_strat\n"
                                       "    source: {kind: blog, reference: x}\n    collected: 2026-01-01\n")
    with pytest.raises(ClaimsError, match=r"a.yaml:3: a: metric 'wasm.cold_strat' is measured by no suite.*wasm.cold_start"):
        load_ledger(folder, known_metrics=frozenset({"wasm.cold_start", "opa.eval"}))


# -- the project's own claims and the console script -----------------------------------------------


def test_the_seeded_claims_load_and_the_edge_box_cannot_hold(tmp_path: Path) -> None:
    ledger = load_ledger(ROOT / "claims")
    assert len(ledger.claims) >= 15 and all(c.source.reference for c in ledger.claims)
    failed = {f.rule.id for f in check_consistency(ledger) if not f.holds}
    assert {"memory-fits", "cpu-fits", "max-pods", "pod-addresses", "flags-exist"} <= failed


def test_perfdata_claims_check_fails_on_an_impossible_case_and_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims_dir = tmp_path / "claims"
    shutil.copytree(ROOT / "claims", claims_dir)
    args = ["claims", "--claims", str(claims_dir), "--runs", str(tmp_path / "runs"), "--baselines", str(ROOT / "baselines")]
    assert main(args) == 0
    assert main([*args, "--check", "--report", str(tmp_path / "zh.md"), "--lang", "zh"]) == 1
    out = capsys.readouterr().out
    assert "inconsistent: case edge-box, rule memory-fits" in out and "95.3 GiB > 8 GiB" in out
    zh = (tmp_path / "zh.md").read_text(encoding="utf-8")
    assert "# 数据收集报告" in zh and "待验证" in zh and "不一致" in zh
    assert main([*args, "--report", str(tmp_path / "en.md")]) == 0
    assert "Can these claims all be true at once?" in (tmp_path / "en.md").read_text(encoding="utf-8")


def test_a_project_with_claims_sees_the_ledger_after_its_run(pytester: pytest.Pytester) -> None:
    """The run's own records are evidence: one claim verified, one refuted, in the terminal summary."""
    pytester.makepyfile(test_fig="def test_fig(perf):\n    perf.record_value('m', 5.0, unit='ms')\n"
                                 "    perf.record_value('n', 9.0, unit='ms')\n")
    claims = pytester.path / "claims"
    claims.mkdir()
    source = "source: {kind: official-docs, reference: 'https://example.org'}\n    collected: 2026-01-01\n"
    (claims / "c.yaml").write_text(
        f"claims:\n  fast:\n    claim: '<= 6 ms'\n    metric: m\n    {source}"
        f"  faster:\n    claim: '<= 6 ms'\n    metric: n\n    {source}", encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "claims: 2 from 1 file(s), *1 verified, 1 refuted*",
        "*verified  fast *<= 6 ms: measured 5 ms <= 6 ms",
        "*refuted   faster*contradicts <= 6 ms (by +50.0%)",
    ])
    broken = claims / "c.yaml"
    broken.write_text("claims:\n  x: {claim: '<= 6 ms'}\n", encoding="utf-8")
    rerun = pytester.runpytest("-p", "no:cacheprovider")
    rerun.assert_outcomes(passed=1)
    rerun.stdout.fnmatch_lines(["claims: not judged: *c.yaml:2: x: source is missing*"])


def test_the_run_reports_carry_the_ledger_in_both_languages(pytester: pytest.Pytester) -> None:
    """JSON keeps the ledger as judged at the run's end; Markdown renders it, in English or Chinese."""
    pytester.makepyfile(test_fig="def test_fig(perf):\n    perf.record_value('m', 5.0, unit='ms')\n")
    claims = pytester.path / "claims"
    claims.mkdir()
    (claims / "c.yaml").write_text(
        "claims:\n  fast:\n    says: it starts fast\n    claim: '<= 6 ms'\n    metric: m\n"
        "    source: {kind: benchmark, reference: 'https://example.org/bench', quote: 'under 6 ms'}\n"
        "    collected: 2026-01-01\n", encoding="utf-8")
    for lang, words in (("en", ["## Claims", "| verified | `fast` | it starts fast (<= 6 ms) | measured 5 ms <= 6 ms |",
                                "benchmark: https://example.org/bench “under 6 ms”"]),
                        ("zh", ["## 声明", "| 已验证 | `fast` |", "基准测试: https://example.org/bench"])):
        result = pytester.runpytest("-p", "no:cacheprovider", "--perf-report", f"r-{lang}.md",
                                    "--perf-report", f"r-{lang}.json", f"--perf-report-lang={lang}")
        result.assert_outcomes(passed=1)
        markdown = (pytester.path / f"r-{lang}.md").read_text(encoding="utf-8")
        for expected in words:
            assert expected in markdown, (expected, markdown)
    document = json.loads((pytester.path / "r-zh.json").read_text(encoding="utf-8"))
    (fast,) = document["claims"]["claims"]
    assert fast["status"] == "verified" and fast["evidence"][0]["metric"] == "m"
    assert document["claims"]["runs"] == 1  # the English run's file, read as earlier evidence
    schema = files("pytest_perfdata").joinpath("schema/run-3.json").read_text(encoding="utf-8")
    jsonschema.Draft202012Validator(json.loads(schema)).validate(document)


def test_a_record_with_an_unbounded_interval_decides_nothing_and_does_not_stop_the_ledger(
    pytester: pytest.Pytester,
) -> None:
    """Three samples cannot bound a P99 (its high side is null in the run file): the claim stays pending, and says why.

    The ledger once read that null as a number and ended the run with an INTERNALERROR.
    """
    pytester.makepyfile(test_fig="def test_fig(perf):\n"
                                 "    perf.record_samples('m', [1.0, 2.0, 3.0], unit='ms', statistic='p99')\n")
    claims = pytester.path / "claims"
    claims.mkdir()
    (claims / "c.yaml").write_text(
        "claims:\n  fast:\n    claim: '<= 6 ms'\n    metric: m\n"
        "    source: {kind: official-docs, reference: 'https://example.org'}\n    collected: 2026-01-01\n",
        encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["claims: 1 from 1 file(s), *1 pending*",
                                 "*pending   fast*cannot tell: newest p99 2.98 ms (interval * .. unbounded) straddles 6 ms"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_fault_in_the_ledger_fails_the_run_but_its_records_and_reports_are_written(
    pytester: pytest.Pytester,
) -> None:
    """A bug in judging claims is named, with its place, and the night's figures are not lost."""
    pytester.makeconftest(
        "import pytest_perfdata.claims.ledger as ledger\n"
        "def broken(*args, **kwargs):\n    raise TypeError('a bug')\n"
        "ledger.build_report = broken\n")
    pytester.makepyfile(test_fig="def test_fig(perf):\n    perf.record_value('m', 5.0, unit='ms')\n")
    (pytester.path / "claims").mkdir()
    result = pytester.runpytest("-p", "no:cacheprovider", "--perf-report", "r.md")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["claims: not judged: the ledger failed (TypeError: a bug, *); this is a bug in *"])
    assert "INTERNALERROR" not in result.stdout.str()
    assert (pytester.path / "r.md").is_file()
    assert list((pytester.path / ".perfdata" / "runs").glob("*.json"))
