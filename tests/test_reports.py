"""The run file and its Markdown rendering: schema, round trips, the team's annotation format."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest_perfdata.record as record_module
from pytest_perfdata.record import (
    RECORD_SCHEMA,
    Check,
    DataSource,
    Engine,
    Environment,
    Outcome,
    Record,
    SourceKind,
    Verdict,
    VerificationStatus,
)
from pytest_perfdata.report.json_report import (
    RunInfo,
    build_run_document,
    load_run_document,
    write_json,
)
from pytest_perfdata.report.markdown import render_markdown, write_markdown
from pytest_perfdata.stats import STATISTICS, Interval, summarize

COLD_START = "suites/wasmedge/test_cold_start.py"
SCHEMA_PATH = Path(record_module.__file__).parent / "schema" / "run-3.json"
GIB = 1024**3


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def make_environment(**changes: Any) -> Environment:
    env = Environment(
        architecture="x86_64",
        cpu_model="Made-up CPU @ 2.0GHz",
        cores=2,
        memory_bytes=24 * GIB - 123_456,  # MemTotal is never a round number
        os="Debian 12",
        kernel="Linux 6.x",
        python="3.11.9",
        runtimes={"wasmtime": "50.0.1"},
    )
    return replace(env, **changes)


def make_record(**changes: Any) -> Record:
    samples = [4.8, 5.0, 5.1, 5.2, 5.3, 5.3, 5.5, 5.9]
    interval = Interval(4.9, 5.4, 0.99)
    verdict = Verdict(
        Outcome.PASS,
        "wasm.cold_start: p50 = 5.25 ms within max 6 ms",
        (
            Check("max", Outcome.PASS, 6.0, interval, "p50 = 5.25 ms within max 6 ms"),
            Check("regression", Outcome.PASS, 1.1, Interval(0.95, 1.05, 0.99), "+0.1% vs baseline"),
        ),
    )
    record = Record(
        metric="wasm.cold_start.in_process",
        test="suites/wasmedge/test_cold_start.py::test_cold_start",
        target="x86_64",
        unit="ms",
        statistic="p50",
        better="lower",
        value=5.25,
        interval=interval,
        summary=summarize(samples),
        source=DataSource(SourceKind.BENCHMARK, f"pytest-perfdata, {COLD_START}"),
        environment=make_environment(),
        status=VerificationStatus.VERIFIED,
        collected="2026-11-21",
        engine=Engine("wasmtime", "50.0.1", "in-process"),
        loops=1,
        overhead_ns=35.0,
        cpu_time=5.1,
        peak_memory_bytes=48 * 1024**2,
        reference_us=67.5,
        verdict=verdict,
        notes=("time budget spent after 8 samples",),
    )
    return replace(record, **changes)


def make_run(**changes: Any) -> RunInfo:
    run = RunInfo(
        id="run-0001",
        started="2026-11-21T02:00:00Z",
        finished="2026-11-21T02:10:00Z",
        target="x86_64",
        baselines="baselines/x86_64.yaml",
        plugin_version="0.1.0",
        harness_overhead_ns=35.0,
        xdist_workers=0,
        saved=False,
        environment=make_environment(),
    )
    return replace(run, **changes)


def make_document(*records: Record) -> dict[str, Any]:
    stale = ("x86_64: old.metric",)
    return build_run_document(make_run(), records or (make_record(),), stale=stale)


# --- the JSON run file ---------------------------------------------------------------------


def test_document_validates_against_schema(validator: jsonschema.Draft202012Validator) -> None:
    bare = make_record(
        metric="policy.eval",
        engine=None,
        verdict=None,
        cpu_time=None,
        peak_memory_bytes=None,
        reference_us=None,
        interval=Interval(-math.inf, math.inf, 0.99),
        status=VerificationStatus.PENDING,
        notes=(),
    )
    document = make_document(make_record(), bare)
    validator.validate(document)
    assert document["schema"] == RECORD_SCHEMA
    assert document["summary"] == {"pass": 1, "fail": 0, "inconclusive": 0, "none": 1}
    assert document["records"][1]["interval"] == {"low": None, "high": None, "confidence": 0.99}


def test_schema_rejects_unknown_record_fields(validator: jsonschema.Draft202012Validator) -> None:
    document = make_document()
    document["records"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError, match="surprise"):
        validator.validate(document)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("status",), "confirmed"),
        (("source", "kind"), "blog"),
        (("verdict", "outcome"), "maybe"),
        (("verdict", "checks", 0, "kind"), "median"),
    ],
)
def test_schema_enums(
    validator: jsonschema.Draft202012Validator, path: tuple[Any, ...], bad: str
) -> None:
    document = make_document()
    node: Any = document["records"][0]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)


def test_json_round_trip(tmp_path: Path, validator: jsonschema.Draft202012Validator) -> None:
    open_ended = make_record(engine=None, verdict=None, interval=Interval(1.0, math.inf, 0.9))
    records = (make_record(), open_ended)
    document = make_document(*records)
    path = tmp_path / "perf" / "report.json"
    write_json(path, document)
    loaded = load_run_document(path)
    assert loaded == document
    validator.validate(loaded)
    assert tuple(Record.from_dict(r) for r in loaded["records"]) == records
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]  # no temp file left


def test_write_json_replaces_and_keeps_unicode(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old", encoding="utf-8")
    write_json(path, make_document(make_record(metric="冷启动")))
    assert "冷启动" in path.read_text(encoding="utf-8")


def test_write_json_refuses_nan(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    with pytest.raises(ValueError, match="report.json"):
        write_json(path, make_document(make_record(value=math.nan)))
    assert not list(tmp_path.iterdir())


def test_load_refuses_other_schema(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    old = {"schema": "pytest-perfdata/run/0", "records": []}
    path.write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(ValueError, match=r"other\.json.*pytest-perfdata/run/3"):
        load_run_document(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match=r"other\.json"):
        load_run_document(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"other\.json"):
        load_run_document(path)


# --- Markdown ------------------------------------------------------------------------------


ZH_BLOCK = [
    "> **⚠️ 来源标注说明**：本节性能数据均已标注测试环境和验证状态。",
    "> - **数据来源**：基准测试（pytest-perfdata，suites/wasmedge/test_cold_start.py）",
    "> - **测试环境**：x86_64，2 核，24 GiB，Debian 12，Linux 6.x，wasmtime 50.0.1",
    "> - **验证状态**：已验证",
    "> - **收集日期**：2026-11-21",
]

EN_BLOCK = [
    "> **⚠️ Source annotation**: every figure in this section states its test environment and "
    "verification status.",
    "> - **Data source**: Benchmark (pytest-perfdata, suites/wasmedge/test_cold_start.py)",
    "> - **Test environment**: x86_64, 2 cores, 24 GiB, Debian 12, Linux 6.x, wasmtime 50.0.1",
    "> - **Verification status**: verified",
    "> - **Collection date**: 2026-11-21",
]


def block_after(text: str, first: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(first)
    return lines[start : start + 5]


def test_markdown_zh_annotation_block() -> None:
    text = render_markdown(make_document(), lang="zh")
    assert block_after(text, ZH_BLOCK[0]) == ZH_BLOCK
    assert text.startswith("# 性能报告：x86_64\n")
    assert "日期：2026-11-21" in text


def test_markdown_en_annotation_block() -> None:
    text = render_markdown(make_document(), lang="en")
    assert block_after(text, EN_BLOCK[0]) == EN_BLOCK
    assert "Target **x86_64**, date 2026-11-21, machine x86_64, Made-up CPU @ 2.0GHz" in text
    row = next(line for line in text.splitlines() if line.startswith("| wasm.cold_start"))
    assert row == (
        "| wasm.cold_start.in_process | p50 = 5.25 ms (99% CI 4.9 ms .. 5.4 ms) "
        "| ≤ 6 ms; ≤ +10% vs baseline | pass | verified | wasmtime 50.0.1 (in-process) |"
    )


@pytest.mark.parametrize(
    ("kind", "status", "zh_kind", "zh_status"),
    [
        (SourceKind.MEASURED, VerificationStatus.PENDING, "实测", "待验证"),
        (SourceKind.OFFICIAL_DOCS, VerificationStatus.EXPIRED, "官方文档", "已过期"),
        (SourceKind.COMMUNITY_CASE, VerificationStatus.REFUTED, "社区案例", "已证伪"),
    ],
)
def test_markdown_zh_words(
    kind: SourceKind, status: VerificationStatus, zh_kind: str, zh_status: str
) -> None:
    record = make_record(source=DataSource(kind, "https://example.org/a, b"), status=status)
    text = render_markdown(make_document(record), lang="zh")
    assert f"> - **数据来源**：{zh_kind}（https://example.org/a，b）" in text
    assert f"> - **验证状态**：{zh_status}" in text


def test_markdown_zh_keeps_node_id_and_adds_engine() -> None:
    record = make_record(
        source=DataSource(SourceKind.BENCHMARK, "pytest-perfdata, suites/x.py::test_y[a-1]"),
        environment=make_environment(runtimes={}, memory_bytes=2 * GIB),
        engine=Engine("wasmedge", "0.14.1"),
    )
    text = render_markdown(make_document(record), lang="zh")
    assert "> - **数据来源**：基准测试（pytest-perfdata，suites/x.py::test_y[a-1]）" in text
    assert "> - **测试环境**：x86_64，2 核，2 GiB，Debian 12，Linux 6.x，wasmedge 0.14.1" in text


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "wasmedge 0.14.1, wasmedge built with aot-compiler llvm-shared; llvm libLLVM-16.so"),
    ("zh", "wasmedge 0.14.1，wasmedge 构建：aot-compiler llvm-shared; llvm libLLVM-16.so"),
])
def test_the_environment_says_how_the_engine_was_built(lang: str, words: str) -> None:
    engine = Engine("wasmedge", "0.14.1", "cli-aot", (("aot-compiler", "llvm-shared"), ("llvm", "libLLVM-16.so")))
    document = make_document(make_record(environment=make_environment(runtimes={}), engine=engine))
    assert words in render_markdown(document, lang=lang)
    loaded = json.loads(json.dumps(document))
    assert loaded["records"][0]["engine"]["build"] == {"aot-compiler": "llvm-shared", "llvm": "libLLVM-16.so"}
    assert Record.from_dict(loaded["records"][0]).engine == engine


def test_markdown_escapes_pipe_in_table() -> None:
    text = render_markdown(make_document(make_record(metric="a|b")), lang="en")
    rows = [line for line in text.splitlines() if line.startswith("| a")]
    assert rows == [rows[0]] and rows[0].startswith("| a\\|b | ")
    assert rows[0].count(" | ") == 5  # six cells, no extra column from the name


def test_markdown_unbounded_interval_and_no_verdict() -> None:
    record = make_record(verdict=None, engine=None, interval=Interval(4.0, math.inf, 0.99))
    text = render_markdown(make_document(record), lang="en")
    assert "p50 = 5.25 ms (99% CI 4 ms .. +∞) | — | no baseline | verified | — |" in text


@pytest.mark.parametrize(("lang", "words"), [("en", "baseline stored on another machine: not compared | not compared"),
                                              ("zh", "基线来自其他机器：未比较 | 未比较")])
def test_markdown_says_not_compared_rather_than_no_baseline(lang: str, words: str) -> None:
    """A stored value from another machine exists; the report must not claim there is none."""
    check = Check("regression", Outcome.NONE, 1.1, Interval(5.0, 5.5, 0.99), "regression not compared: ...")
    record = make_record(verdict=Verdict(Outcome.NONE, "m: regression not compared: ...", (check,)))
    assert words in render_markdown(make_document(record), lang=lang)


def test_markdown_unknown_language() -> None:
    with pytest.raises(ValueError, match="en, zh"):
        render_markdown(make_document(), lang="fr")


def test_markdown_renders_saved_file(tmp_path: Path) -> None:
    document = make_document()
    write_json(tmp_path / "report.json", document)
    write_markdown(tmp_path / "report.md", load_run_document(tmp_path / "report.json"), "zh")
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == render_markdown(document, "zh")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]


# --- properties ----------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
text = st.text(max_size=20)


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    low = draw(st.one_of(finite, st.just(-math.inf)))
    high = draw(st.one_of(finite, st.just(math.inf)))
    return Interval(low, high, draw(st.floats(0.5, 0.999)))


@st.composite
def records(draw: st.DrawFn) -> Record:
    samples = draw(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=20))
    environment = Environment(
        architecture=draw(text),
        cpu_model=draw(text),
        cores=draw(st.integers(1, 512)),
        memory_bytes=draw(st.integers(0, 2**50)),
        os=draw(text),
        kernel=draw(text),
        python=draw(text),
        xdist_workers=draw(st.integers(0, 64)),
        runtimes=draw(st.dictionaries(text, text, max_size=3)),
    )
    checks = draw(
        st.lists(
            st.builds(
                Check,
                st.sampled_from(["max", "min", "regression"]),
                st.sampled_from(Outcome),
                finite,
                intervals(),
                text,
            ),
            max_size=3,
        )
    )
    verdict = draw(
        st.none() | st.builds(Verdict, st.sampled_from(Outcome), text, st.just(tuple(checks)))
    )
    return Record(
        metric=draw(text),
        test=draw(text),
        target=draw(text),
        unit=draw(text),
        statistic=draw(st.sampled_from(sorted(STATISTICS))),
        better=draw(st.sampled_from(["lower", "higher"])),
        value=draw(finite),
        interval=draw(intervals()),
        summary=summarize(samples),
        source=DataSource(draw(st.sampled_from(SourceKind)), draw(text)),
        environment=environment,
        status=draw(st.sampled_from(VerificationStatus)),
        collected=draw(st.dates()).isoformat(),
        engine=draw(st.none() | st.builds(Engine, text, text, text,
                                          st.dictionaries(text, text, max_size=3).map(lambda d: tuple(d.items())))),
        loops=draw(st.integers(1, 10**9)),
        overhead_ns=draw(finite),
        cpu_time=draw(st.none() | finite),
        peak_memory_bytes=draw(st.none() | st.integers(0, 2**50)),
        reference_us=draw(st.none() | finite),
        verdict=verdict,
        notes=tuple(draw(st.lists(text, max_size=3))),
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=3))
def test_any_record_validates_and_round_trips(records: list[Record]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    document = build_run_document(make_run(), records)
    jsonschema.Draft202012Validator(schema).validate(document)
    loaded = json.loads(json.dumps(document, ensure_ascii=False, allow_nan=False))
    assert loaded == document
    assert [Record.from_dict(r) for r in loaded["records"]] == records
    for lang in ("en", "zh"):
        lines = render_markdown(loaded, lang).splitlines()
        # Whatever the strings hold, each record keeps its four annotation lines and one row;
        # a ratio (unit x) has a row in the ratios table too.
        ratios = sum(record.unit == "x" for record in records)
        assert sum(line.startswith("> - **") for line in lines) == 4 * len(records)
        assert sum(line.startswith("| ") for line in lines) == (
            (len(records) + 1 if records else 0) + (ratios + 1 if ratios else 0))


def test_markdown_puts_one_figure_of_several_engines_side_by_side_and_lists_the_ratios() -> None:
    """Engines of one figure in one table, fastest first, with p50/p90/p99; ratios in their own table."""
    from pytest_perfdata.provenance import Engine

    fast, slow = Engine("opa", "1.22", "wasm"), Engine("rego-cpp", "1.5", "regopy")
    records = [
        replace(make_record(metric="opa.eval.small.rego-cpp-regopy", value=2.0, summary=summarize([1.9, 2.0, 2.1, 2.4])), engine=slow),
        replace(make_record(metric="opa.eval.small.opa-wasm", value=0.3, summary=summarize([0.3, 0.31, 0.32, 0.9])), engine=fast),
        replace(make_record(metric="opa.eval.alone.opa-wasm", value=0.2, summary=summarize([0.2] * 4)), engine=fast),  # one engine only: no table
        make_record(metric="ratio.opa.small.rego-cpp_vs_wasm", value=6.5, unit="x", interval=Interval(6.5, 6.5, 0.99)),
    ]
    text = render_markdown(make_document(*records))
    table = text[text.index("### opa.eval.small"):text.index("## Ratios")]
    assert table.index("opa 1.22 (wasm)") < table.index("rego-cpp 1.5 (regopy)")
    assert "| opa 1.22 (wasm) | 0.315 ms | 0.726 ms | 0.8826 ms | 4 |" in table
    assert "### opa.eval.alone" not in text
    ratios = text[text.index("## Ratios"):]
    assert "| ratio.opa.small.rego-cpp_vs_wasm | 6.5 x |" in ratios
    assert "引擎对比" in render_markdown(make_document(*records), "zh")
