"""Values for several machine classes in one baseline entry: read, judged per class, saved per class."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from builders import ENVIRONMENT, TARGET, make_record
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_perfdata.baseline import BaselineError, load_baseline_file
from pytest_perfdata.baseline_writer import save_records
from pytest_perfdata.environment import comparison_class, machine_label
from pytest_perfdata.record import Outcome, Record
from pytest_perfdata.stats import Interval
from pytest_perfdata.verdict import JudgeSettings, judge

#: Four runner classes of one target: two CPU generations, two core counts.
CLASSES = tuple(
    replace(ENVIRONMENT, cpu_signature=signature, cores=cores)
    for signature, cores in (("GenuineIntel 6/207/2", 2), ("GenuineIntel 6/143/8", 2),
                             ("AuthenticAMD 25/1/1", 2), ("GenuineIntel 6/207/2", 4))
)

HAND_WRITTEN = "# kept by every save\nm:\n  statistic: p50\n  max: 50 ms  # the claim\n  regression: 10%\n  note: hands off\n"


def _on(environment_index: int, value: float) -> Record:
    return replace(make_record("m", value), environment=CLASSES[environment_index])


def _stored(path: Path, environment_index: int) -> float | None:
    entry = load_baseline_file(path, TARGET).entries["m"]
    mine = entry.for_class(machine_label(CLASSES[environment_index]))
    return None if mine is None or mine.value is None else mine.value.value


def test_a_second_class_is_stored_beside_the_first_and_each_is_replaced_alone(tmp_path: Path) -> None:
    path = tmp_path / f"{TARGET}.yaml"
    path.write_text(HAND_WRITTEN)
    save_records(path, TARGET, [_on(0, 10.0)])
    save_records(path, TARGET, [_on(1, 20.0)])
    save_records(path, TARGET, [_on(1, 21.0)])
    save_records(path, TARGET, [_on(0, 11.0)])
    text = path.read_text()
    assert text.startswith(HAND_WRITTEN.split("  note")[0]) and "note: hands off" in text
    assert text.count("\n  others:\n") == 1 and text.count("\n    - {machine: ") == 1
    assert (_stored(path, 0), _stored(path, 1), _stored(path, 2)) == (11.0, 21.0, None)
    assert load_baseline_file(path, TARGET).entries["m"].machine_classes == (
        machine_label(CLASSES[0]), machine_label(CLASSES[1]))


def test_each_class_is_judged_against_its_own_value(tmp_path: Path) -> None:
    path = tmp_path / f"{TARGET}.yaml"
    path.write_text(HAND_WRITTEN)
    save_records(path, TARGET, [_on(0, 10.0)])
    save_records(path, TARGET, [_on(1, 20.0)])
    entry = load_baseline_file(path, TARGET).entries["m"]
    regression = JudgeSettings()
    # 15 ms is 50 % slower than class 0's value and 25 % faster than class 1's.
    assert judge(_on(0, 15.0), entry, regression).outcome == Outcome.FAIL
    assert judge(_on(1, 15.0), entry, regression).outcome == Outcome.PASS
    elsewhere = judge(_on(2, 15.0), entry, regression)
    assert elsewhere.outcome == Outcome.PASS  # the max: 50 ms claim still judges; the regression is not compared
    assert "values are stored for 2 other machine classes" in elsewhere.reason


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(CLASSES) - 1), st.integers(1, 10_000)), min_size=1, max_size=12))
def test_after_any_saves_each_class_holds_its_last_value_and_nothing_else_is_lost(
    tmp_path_factory: pytest.TempPathFactory, saves: list[tuple[int, int]]
) -> None:
    path = tmp_path_factory.mktemp("classes") / f"{TARGET}.yaml"
    path.write_text(HAND_WRITTEN)
    last: dict[int, float] = {}
    for index, tenths in saves:
        save_records(path, TARGET, [_on(index, tenths / 10)])
        last[index] = tenths / 10
    for index in range(len(CLASSES)):
        assert _stored(path, index) == last.get(index)
    entry = load_baseline_file(path, TARGET).entries["m"]
    assert len(entry.machine_classes) == len(last)
    assert entry.max is not None and entry.note == "hands off" and path.read_text().startswith("# kept by every save\n")


@pytest.mark.parametrize(
    ("others", "says"),
    [
        ("    - {value: 1 ms}", "each item needs its machine and its value"),
        ("    - {machine: 'a', value: 1 ms, max: 2 ms}", "unknown key 'max' (allowed: machine, value"),
        ("    - {machine: 'a', value: 1 MiB}", "does not match the entry's value"),
        ("    - {machine: 'a', value: 1 ms}\n    - {machine: 'a', value: 2 ms}", "machine given twice"),
        ("    - 1 ms", "each item must be a mapping"),
    ],
)
def test_a_bad_others_item_names_file_line_and_metric(tmp_path: Path, others: str, says: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(f"m:\n  value: 3 ms\n  machine: 'b'\n  others:\n{others}\n")
    with pytest.raises(BaselineError, match=f"t.yaml:[56]: m: .*{re.escape(says)}"):
        load_baseline_file(path, "t")


def _count_on(environment_index: int, instructions: float) -> Record:
    exact = Interval(instructions, instructions, 0.99)
    record = make_record("m.instructions", instructions, unit="instructions", interval=exact)
    return replace(record, environment=CLASSES[environment_index])


def test_an_instruction_count_stored_on_one_class_judges_every_class_of_the_architecture(tmp_path: Path) -> None:
    path = tmp_path / f"{TARGET}.yaml"
    path.write_text("m.instructions:\n  regression: 2%\n")
    save_records(path, TARGET, [_count_on(0, 1_000_000)])
    save_records(path, TARGET, [_count_on(2, 1_000_100)])  # another CPU vendor: the same class, replaced
    entry = load_baseline_file(path, TARGET).entries["m.instructions"]
    assert not entry.others and entry.value is not None and entry.value.value == 1_000_100
    assert entry.machine == comparison_class(CLASSES[3], "instructions") != machine_label(CLASSES[3])
    for index in range(len(CLASSES)):
        assert judge(_count_on(index, 1_010_000), entry).outcome == Outcome.PASS
        assert judge(_count_on(index, 1_050_000), entry).outcome == Outcome.FAIL
    other_python = replace(CLASSES[0], python="3.12.1")
    record = replace(_count_on(0, 1_000_000), environment=other_python)
    assert "regression not compared" in judge(record, entry).reason
