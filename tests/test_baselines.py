"""Baseline files: load errors located by file and line, and --perf-save's text-preserving merge.

No pytest run here: the loader and the writer are called directly on files in ``tmp_path``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import tempfile
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from builders import ENVIRONMENT, make_record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_perfdata import _atomic
from pytest_perfdata.baseline import (
    ALLOWED_KEYS,
    Baseline,
    BaselineError,
    load_baseline_file,
    parse_baseline_text,
)
from pytest_perfdata.baseline_writer import save_records
from pytest_perfdata.environment import machine_label
from pytest_perfdata.record import Record
from pytest_perfdata.stats import Interval
from pytest_perfdata.units import parse_unit

TARGET = "x86_64"


def load(tmp_path: Path, text: str) -> dict[str, Baseline]:
    path = tmp_path / f"{TARGET}.yaml"
    path.write_text(text, encoding="utf-8")
    return dict(load_baseline_file(path, TARGET).entries)


def load_error(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = tmp_path / f"{TARGET}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BaselineError) as info:
        load_baseline_file(path, TARGET)
    return path, str(info.value)


# -- load errors: every message starts with file:line --------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        pytest.param(
            "ok:\n  max: 1 ms\nbad:\n  max: 6 ms\n note: x\nlast:\n  max: 1 ms\n",
            5,
            ["not valid YAML"],
            id="malformed-yaml",
        ),
        pytest.param(
            "- 6 ms\n- 7 ms\n", 1, ["must be a mapping of metric names"], id="top-level-list"
        ),
        pytest.param(
            "just text\n", 1, ["must be a mapping of metric names"], id="top-level-scalar"
        ),
        pytest.param(
            "a:\n  max: 1 ms\nb:\n  max: 2 ms\na:\n  max: 3 ms\n",
            5,
            ["a: duplicate metric", "first defined on line 1"],
            id="duplicate-metric",
        ),
        pytest.param(
            "m:\n  max: 6 ms\n  maxx: 7 ms\n", 3, ["m: unknown key 'maxx'"], id="unknown-key"
        ),
        pytest.param(
            "m:\n  statistic: p50\n  max: 6 parsec\n",
            3,
            ["m: max: unknown unit 'parsec'", "known:"],
            id="unknown-unit",
        ),
        pytest.param("m:\n  max: -6 ms\n", 2, ["max: must not be negative"], id="negative-limit"),
        pytest.param(
            "m:\n  max: 6 ms\n  min: 7000 us\n",
            3,
            ["min 7000 us is above max 6 ms"],
            id="min-above-max",
        ),
        pytest.param(
            "m:\n  value: 4 ms\n  max: 6 MiB\n",
            3,
            ["max: unit 'MiB' (size) does not match value 4 ms (time)"],
            id="dimension-mismatch",
        ),
        pytest.param(
            "m:\n  regression: 10\n",
            2,
            ["regression: write a regression limit with its unit, such as '10%'"],
            id="regression-no-percent",
        ),
        pytest.param(
            "m:\n  regression: -5%\n", 2, ["regression: expected a positive percentage", "-5%"], id="regression-negative"
        ),
        pytest.param(
            "m:\n  collected: yesterday\n", 2, ["collected: expected a date"], id="date-text"
        ),
        pytest.param(
            "m:\n  collected: 2025-13-45\n",
            2,
            ["collected:", "month must be in 1..12"],
            id="date-impossible",
        ),
        pytest.param(
            "m:\n  status: approved\n",
            2,
            ["status: 'approved' is not one of verified, pending"],
            id="status",
        ),
        pytest.param(
            "m:\n  source: {kind: rumour, reference: x}\n",
            2,
            ["source: expected {kind: KIND", "official-docs"],
            id="source",
        ),
        pytest.param("m: 6 ms\n", 1, ["m: an entry must be a mapping"], id="entry-not-mapping"),
        pytest.param(
            "m:\n  interval: [4 ms]\n",
            2,
            ["interval: expected [low, high]"],
            id="interval-one-bound",
        ),
        pytest.param(
            "m:\n  samples: 0\n",
            2,
            ["samples: expected a positive whole number"],
            id="samples-zero",
        ),
        pytest.param(
            "m:\n  max: 6 ms\n  drift_sensitivity: 1.2..0.8\n",
            3,
            ["drift_sensitivity: expected a range such as '0.8..1.2'", "low before high", "'1.2..0.8'"],
            id="sensitivity-reversed",
        ),
        pytest.param(
            "m:\n  drift_sensitivity: [0.8, 1.2]\n",
            2,
            ["drift_sensitivity: expected a range such as '0.8..1.2'"],
            id="sensitivity-list",
        ),
    ],
)
def test_load_error_names_file_and_line(
    tmp_path: Path, text: str, line: int, fragments: list[str]
) -> None:
    """A reviewer fixing a baseline file needs the exact line, whatever is wrong with it."""
    path, message = load_error(tmp_path, text)
    assert message.startswith(f"{path}:{line}: "), message
    for fragment in fragments:
        assert fragment in message


def test_unknown_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    _, message = load_error(tmp_path, "m:\n  maximum: 6 ms\n")
    assert f"(allowed: {', '.join(ALLOWED_KEYS)})" in message


def test_unknown_unit_lists_known_units(tmp_path: Path) -> None:
    _, message = load_error(tmp_path, "m:\n  max: 6 parsec\n")
    known = message.split("known: ", 1)[1]
    assert {"ms", "us", "s", "MiB", "qps", "%"} <= set(known.rstrip(")").split(", "))


def test_valid_file_in_block_and_flow_style(tmp_path: Path) -> None:
    """Both styles users write parse to the same baseline; median is an alias of p50."""
    entries = load(
        tmp_path,
        "# comment\n"
        "a:\n  statistic: median\n  max: 6 ms\n  regression: 10%\n  collected: 2025-11-07\n"
        "b: {statistic: p50, max: 6 ms, regression: 10%, collected: 2025-11-07}\n",
    )

    def judged_by(entry: Baseline) -> tuple[object, ...]:
        return entry.statistic, entry.max, entry.regression, entry.collected

    assert judged_by(entries["a"]) == judged_by(entries["b"])
    assert entries["a"].statistic == "p50" and (entries["a"].line, entries["b"].line) == (2, 7)


@pytest.mark.parametrize("spelling", ["off", "Off", "OFF", "'off'"])
def test_regression_off(tmp_path: Path, spelling: str) -> None:
    """YAML 1.1 reads a bare ``off`` as false; it is taken as written, in any of its spellings."""
    entry = load(tmp_path, f"m:\n  value: 1 ms\n  max: 6 ms\n  regression: {spelling}\n")["m"]
    assert entry.regression_off and entry.regression is None


@pytest.mark.parametrize(("text", "expected"), [("0.8..1.2", (0.8, 1.2)), ("1", (1.0, 1.0)), ("0 .. 0.5", (0.0, 0.5))])
def test_drift_sensitivity_is_a_range_or_one_number(tmp_path: Path, text: str, expected: tuple[float, float]) -> None:
    assert load(tmp_path, f"m:\n  max: 6 ms\n  drift_sensitivity: {text}\n")["m"].drift_sensitivity == expected
    assert load(tmp_path, "m:\n  max: 6 ms\n")["m"].drift_sensitivity is None


def test_regression_other_words_are_errors(tmp_path: Path) -> None:
    path = tmp_path / f"{TARGET}.yaml"
    path.write_text("m:\n  regression: no\n", encoding="utf-8")
    with pytest.raises(BaselineError, match=r":2: m: regression: expected a positive percentage such as '10%', or off; got 'no'"):
        load_baseline_file(path, TARGET)


def test_empty_or_missing_file_has_no_baselines(tmp_path: Path) -> None:
    assert load(tmp_path, "# nothing yet\n") == {}
    assert load_baseline_file(tmp_path / "absent.yaml", TARGET).entries == {}


def test_parse_baseline_text_names_the_given_path() -> None:
    """Errors name the path given, so a merged text is reported against the real file."""
    with pytest.raises(BaselineError) as info:
        parse_baseline_text("m:\n  max: 6 parsec\n", Path("baselines/arm64.yaml"), "arm64")
    assert str(info.value).startswith(f"{os.path.join('baselines', 'arm64.yaml')}:2: ")


# -- the safe loader: tags are refused, never executed -------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        pytest.param('m: !!python/object/apply:os.system ["{cmd}"]\n', id="entry"),
        pytest.param('m:\n  max: !!python/object/apply:os.system ["{cmd}"]\n', id="field"),
        pytest.param(
            'm:\n  interval: [1 ms, !!python/object/apply:os.system ["{cmd}"]]\n',
            id="interval-bound",
        ),
        pytest.param('!!python/object/apply:os.system ["{cmd}"]\n', id="document"),
        pytest.param('m:\n  note: !!python/name:os.system ""\n', id="python-name"),
    ],
)
def test_python_tags_are_refused_not_executed(tmp_path: Path, template: str) -> None:
    """A baseline file comes from a pull request: loading it must never run code."""
    witness = tmp_path / "executed"
    path, message = load_error(tmp_path, template.format(cmd=f"touch {witness}"))
    assert message.startswith(f"{path}:")
    assert not witness.exists()


# -- save_records: a text merge that keeps what humans wrote -------------------------------

HAND_WRITTEN = """\
# Baselines of x86_64, reviewed by the perf team.

wasm.cold_start:            # the claim "cold start <= 6 ms"
  statistic: p50
  max: 6 ms                 # absolute limit
  min: 0.5 ms
  regression: 15%
  note: "measured with the AOT cache warm"
  value: 4.1 ms             # written by --perf-save
  interval: [4.0 ms, 4.2 ms]
  samples: 40

untouched.metric:
  max: 32 MiB   # nobody measures this today
  value: 20 MiB

flow.metric: {statistic: p50, max: 6 ms}
"""


def save(path: Path, *records: Record) -> str:
    save_records(path, TARGET, list(records))
    return path.read_text(encoding="utf-8")


def test_save_keeps_comments_order_and_hand_written_fields(tmp_path: Path) -> None:
    path = tmp_path / "x86_64.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    text = save(path, make_record("wasm.cold_start", 4.5))
    kept = [
        "# Baselines of x86_64, reviewed by the perf team.\n\n",
        'wasm.cold_start:            # the claim "cold start <= 6 ms"\n',
        "  statistic: p50\n  max: 6 ms                 # absolute limit\n",
        "  min: 0.5 ms\n  regression: 15%\n",
        '  note: "measured with the AOT cache warm"\n',
        "  value: 4.5 ms             # written by --perf-save\n",
        "  interval: [4.455 ms, 4.545 ms]\n  samples: 5\n",
    ]
    for fragment in kept:
        assert fragment in text
    entry = load_baseline_file(path, TARGET).entries["wasm.cold_start"]
    assert str(entry.max) == "6 ms" and str(entry.min) == "0.5 ms"
    assert entry.regression == pytest.approx(0.15)
    assert entry.note == "measured with the AOT cache warm"
    assert entry.status.value == "verified" and str(entry.collected) == "2026-01-02"
    assert entry.machine == machine_label(ENVIRONMENT)


def test_save_leaves_entries_it_did_not_measure_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "x86_64.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    text = save(path, make_record("wasm.cold_start", 4.5))
    untouched = (
        "untouched.metric:\n  max: 32 MiB   # nobody measures this today\n  value: 20 MiB\n\n"
    )
    assert untouched in text
    assert text.endswith("flow.metric: {statistic: p50, max: 6 ms}\n")


def test_save_updates_a_flow_style_entry_in_place(tmp_path: Path) -> None:
    path = tmp_path / "x86_64.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    text = save(path, make_record("flow.metric", 5.0))
    assert text.startswith(HAND_WRITTEN.removesuffix("flow.metric: {statistic: p50, max: 6 ms}\n"))
    last = text.splitlines()[-1]
    assert last.startswith(
        "flow.metric: {statistic: p50, max: 6 ms, value: 5 ms, interval: [4.95 ms, 5.05 ms]"
    )
    entry = load_baseline_file(path, TARGET).entries["flow.metric"]
    assert entry.max is not None and str(entry.max) == "6 ms"
    assert entry.value is not None and entry.value.to(parse_unit("ms")) == 5.0


def test_save_appends_new_metrics_with_editable_defaults(tmp_path: Path) -> None:
    path = tmp_path / "x86_64.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    text = save(path, make_record("new.rate", 1200.0, unit="qps", better="higher"))
    assert text.startswith(HAND_WRITTEN)
    appended = text.removeprefix(HAND_WRITTEN)
    assert appended.startswith(
        "new.rate:\n  statistic: p50\n  better: higher\n  regression: 10%\n  value: 1200 qps\n"
    )
    entry = load_baseline_file(path, TARGET).entries["new.rate"]
    assert entry.better == "higher" and entry.samples == 5


def test_missing_file_is_created_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "baselines" / "x86_64.yaml"
    text = save(path, make_record("a.b", 3.0))
    assert text.startswith("# Baselines of target x86_64: one entry per metric.\n")
    assert "\na.b:\n  statistic: p50\n" in text
    assert list(load_baseline_file(path, TARGET).entries) == ["a.b"]


def test_save_drops_owned_fields_the_new_record_lacks(tmp_path: Path) -> None:
    """An exact figure replacing a sampled one must not keep the old interval: with
    ``value: 7 ms`` beside ``interval: [4.9 ms, 5.1 ms]`` the next run regresses against itself."""
    path = tmp_path / "x86_64.yaml"
    path.write_text(
        "m:\n  max: 9 ms\n  value: 5 ms\n  interval: [4.9 ms, 5.1 ms]\n"
        "  reference: 50 us  # kernel\n"
        "# about n\nn: {value: 1 ms, interval: [0.9 ms, 1.1 ms], max: 2 ms}\n",
        encoding="utf-8",
    )
    text = save(
        path, make_record("m", 7.0, interval=Interval(7.0, 7.0, 1.0)), make_record("n", 1.5, rel=0)
    )
    entries = load_baseline_file(path, TARGET).entries
    assert entries["m"].interval is None and entries["m"].reference_us is None
    assert entries["n"].interval is None and entries["n"].max is not None
    assert "  max: 9 ms\n  value: 7 ms\n  samples: 5\n" in text
    assert "# about n\nn: {value: 1.5 ms, max: 2 ms," in text


def test_save_inserts_after_a_block_scalar_into_its_own_entry(tmp_path: Path) -> None:
    """A ``note: |`` block ends at the next key's line: new fields must stay in their entry."""
    path = tmp_path / "x86_64.yaml"
    path.write_text(
        "m:\n  max: 6 ms\n  note: |\n    two\n    lines\n\nother:\n  max: 1 ms\n", encoding="utf-8"
    )
    text = save(path, make_record("m", 5.0))
    entries = load_baseline_file(path, TARGET).entries
    assert entries["m"].value is not None and entries["other"].value is None
    assert entries["m"].note == "two\nlines\n"
    assert text.endswith("\nother:\n  max: 1 ms\n")


@pytest.mark.parametrize("ending", ["\n", ""], ids=["newline", "no-final-newline"])
def test_save_fills_an_empty_owned_field(tmp_path: Path, ending: str) -> None:
    path = tmp_path / "x86_64.yaml"
    path.write_text(f"m:\n  max: 6 ms\n  machine:{ending}", encoding="utf-8")
    text = save(path, make_record("m", 5.0))
    lines = text.splitlines()
    assert lines[:2] == ["m:", "  max: 6 ms"] and lines[2].startswith("  machine: ")
    assert lines[3] == "  value: 5 ms"
    entry = load_baseline_file(path, TARGET).entries["m"]
    assert entry.machine == machine_label(ENVIRONMENT) and entry.samples == 5


def test_save_refuses_an_invalid_file_and_leaves_it(tmp_path: Path) -> None:
    path = tmp_path / "x86_64.yaml"
    bad = "m: 6 ms\n"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(BaselineError, match=r"x86_64\.yaml:1: m: an entry must be a mapping"):
        save_records(path, TARGET, [make_record("m", 5.0)])
    assert path.read_text(encoding="utf-8") == bad


# -- properties: save is a fixed point and keeps the figures -------------------------------

METRIC_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=24)
UNITS = st.sampled_from(["ms", "us", "s", "MiB", "qps"])
POSITIVE = st.floats(min_value=1e-30, max_value=1e30, allow_nan=False, allow_infinity=False)


@st.composite
def record_sets(draw: st.DrawFn) -> list[Record]:
    """Records of distinct metrics; some with spread, some exact, some with a drift reference."""
    names = draw(st.lists(METRIC_NAMES, min_size=1, max_size=6, unique=True))
    records = []
    for name in names:
        unit = draw(UNITS)
        value = draw(POSITIVE)
        rel = draw(st.sampled_from([0.0, 0.003, 0.05]))
        records.append(
            make_record(
                name,
                value,
                unit=unit,
                rel=rel,
                better="higher" if unit == "qps" else "lower",
                reference_us=draw(st.none() | st.floats(min_value=1.0, max_value=1e4)),
                samples=[value] * draw(st.integers(1, 50)),
            )
        )
    return records


def revalued(records: list[Record], factor: float) -> list[Record]:
    return [
        make_record(
            r.metric,
            r.value * factor,
            unit=r.unit,
            rel=0.0,
            better=r.better,
            samples=[r.value * factor],
        )
        for r in records
    ]


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(records=record_sets())
def test_save_load_save_is_a_fixed_point(records: list[Record]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "x86_64.yaml"
        first = save(path, *records)
        entries = load_baseline_file(path, TARGET).entries
        assert list(entries) == [r.metric for r in records]
        assert save(path, *records) == first


@PROPERTY_SETTINGS
@given(records=record_sets())
def test_saved_values_load_back_within_five_digits(records: list[Record]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "x86_64.yaml"
        save(path, *records)
        entries = load_baseline_file(path, TARGET).entries
    for record in records:
        stored = entries[record.metric].value
        assert stored is not None and stored.unit.symbol == record.unit
        assert math.isclose(stored.value, record.value, rel_tol=5.0001e-5), (stored, record.value)


@PROPERTY_SETTINGS
@given(records=record_sets(), factor=st.floats(min_value=0.5, max_value=2.0))
def test_updating_gives_the_same_file_as_a_fresh_save(records: list[Record], factor: float) -> None:
    """Whatever an entry held before, a save leaves what a first save would (exact figures)."""
    with tempfile.TemporaryDirectory() as directory:
        updated = Path(directory) / "updated" / "x86_64.yaml"
        fresh = Path(directory) / "fresh" / "x86_64.yaml"
        save(updated, *records)
        new = revalued(records, factor)
        assert save(updated, *new) == save(fresh, *new)


# -- atomicity and concurrency -------------------------------------------------------------


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("existing", [True, False], ids=["existing-file", "new-file"])
def test_crash_during_write_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    """Ctrl-C or a CI timeout mid-save must leave the reviewed file whole, and no litter."""
    path = tmp_path / "x86_64.yaml"
    if existing:
        path.write_text(HAND_WRITTEN, encoding="utf-8")

    def crash(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_atomic.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_records(
            path, TARGET, [make_record("wasm.cold_start", 9.0), make_record("new.metric", 1.0)]
        )
    monkeypatch.undo()
    if existing:
        assert path.read_text(encoding="utf-8") == HAND_WRITTEN
    else:
        assert not path.exists()
    assert leftovers(tmp_path) == []


def test_a_symlinked_baseline_file_stays_a_link_and_its_target_is_saved(tmp_path: Path) -> None:
    """A file shared through a link (one baselines/ for several checkouts) must not fork."""
    shared = tmp_path / "shared" / "x86_64.yaml"
    shared.parent.mkdir()
    shared.write_text(HAND_WRITTEN, encoding="utf-8")
    link = tmp_path / "baselines" / "x86_64.yaml"
    link.parent.mkdir()
    link.symlink_to(shared)
    save_records(link, TARGET, [make_record("new.metric", 1.0)])
    assert link.is_symlink() and link.resolve() == shared
    assert "new.metric:" in shared.read_text(encoding="utf-8")
    assert leftovers(shared.parent) == [] and leftovers(link.parent) == []


def dead_pid() -> int:
    child = multiprocessing.get_context("fork").Process(target=int)
    child.start()
    child.join()
    assert child.pid is not None
    return child.pid


def test_a_killed_writer_s_temporary_files_are_swept_by_the_next_write(tmp_path: Path) -> None:
    """SIGKILL between the temporary file and the rename leaves it; the next writer removes it."""
    stale = [tmp_path / f".x86_64.yaml.{dead_pid()}.0123abcd.tmp", tmp_path / f".r-1.json.{dead_pid()}.feedbeef.tmp"]
    live = tmp_path / f".x86_64.yaml.{os.getpid()}.00000000.tmp"  # a writer still at work (another worker)
    mine = tmp_path / "notes.tmp"  # not ours: never touched
    for path in (*stale, live, mine):
        path.write_text("half")
    _atomic.write_text_atomically(tmp_path / "report.md", "whole\n")
    assert leftovers(tmp_path) == sorted([live.name, mine.name])


def test_the_directory_is_synced_after_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[bool] = []
    real_fsync = os.fsync
    monkeypatch.setattr(_atomic.os, "fsync", lambda fd: (synced.append(os.path.isdir(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    _atomic.write_text_atomically(tmp_path / "x.yaml", "a: 1\n")
    assert synced == [False, True]  # the data, then the directory holding the new name


def _save_in_process(path: str, metric: str, start: Barrier) -> None:
    start.wait()
    for round_ in range(3):
        save_records(Path(path), TARGET, [make_record(metric, 1.0 + round_)])


def test_parallel_saves_keep_every_metric(tmp_path: Path) -> None:
    """Four processes saving different metrics at once: the lock serialises read-modify-write."""
    path = tmp_path / "x86_64.yaml"
    context = multiprocessing.get_context("fork")
    metrics = [f"parallel.m{i}" for i in range(4)]
    start = context.Barrier(len(metrics))
    processes = [
        context.Process(target=_save_in_process, args=(str(path), m, start)) for m in metrics
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * len(metrics)
    entries = load_baseline_file(path, TARGET).entries
    assert sorted(entries) == metrics
    assert all(e.value is not None and e.value.value == 3.0 for e in entries.values())
    assert leftovers(tmp_path) == []


def test_set_fields_changes_only_the_named_fields(tmp_path: Path) -> None:
    """Calibrated limits are written without touching values, comments or other entries."""
    from pytest_perfdata.baseline_writer import set_fields

    path = tmp_path / "x86_64.yaml"
    original = (
        "# reviewed\n"
        "a:\n  statistic: p50\n  regression: 10%\n  value: 4 ms  # measured\n  interval: [3.9 ms, 4.1 ms]\n"
        "b: {max: 6 ms, value: 5 ms}\n"
        "c:\n  value: 1 ms\n"
    )
    path.write_text(original)
    missing = set_fields(path, "x86_64", {"a": {"regression": "35%"}, "b": {"regression": "20%"}, "z": {"regression": "5%"}})
    assert missing == ["z"]
    text = path.read_text()
    assert text == original.replace("regression: 10%", "regression: 35%").replace(
        "b: {max: 6 ms, value: 5 ms}", "b: {max: 6 ms, value: 5 ms, regression: 20%}"
    )


def test_save_writes_the_kind_of_a_non_default_drift_reference(tmp_path: Path) -> None:
    from dataclasses import replace

    path = tmp_path / "x86_64.yaml"
    record = replace(make_record("spawned", 2.0, reference_us=900.0), reference_kind="spawn-true")
    save_records(path, "x86_64", [record])
    baseline = load_baseline_file(path, "x86_64").entries["spawned"]
    assert baseline.reference_kind == "spawn-true" and baseline.reference_us == 900.0
    save_records(path, "x86_64", [make_record("spawned", 2.0, reference_us=70.0)])
    assert load_baseline_file(path, "x86_64").entries["spawned"].reference_kind == "cpu-loop"
