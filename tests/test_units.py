"""Units: what people write in baselines ("6 ms", "32 MiB") parses, converts and prints back."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata.units import (
    Quantity,
    Unit,
    UnitError,
    format_quantity,
    known_units,
    parse_quantity,
    parse_unit,
)

#: Every spelling that parses, plus the empty unit of plain counts.
ALL_UNITS = [*known_units(), ""]

#: A quantity must stay finite in every unit of its dimension (1e308 h is infinite in ns), so
#: the round trips cover values up to what the widest ratio of scales (TiB / B, h / ns) allows.
finite = st.floats(-1e290, 1e290)
units = st.sampled_from(ALL_UNITS)


def _dimensions() -> dict[str, list[str]]:
    by_dimension: dict[str, list[str]] = {}
    for name in ALL_UNITS:
        by_dimension.setdefault(parse_unit(name).dimension, []).append(name)
    return by_dimension


@st.composite
def same_dimension_pair(draw: st.DrawFn) -> tuple[Unit, Unit]:
    names = draw(st.sampled_from(sorted(_dimensions().values())))
    return parse_unit(draw(st.sampled_from(names))), parse_unit(draw(st.sampled_from(names)))


@st.composite
def cross_dimension_pair(draw: st.DrawFn) -> tuple[Unit, Unit]:
    dims = _dimensions()
    pair = st.lists(st.sampled_from(sorted(dims)), min_size=2, max_size=2, unique=True)
    first, second = draw(pair)
    return (
        parse_unit(draw(st.sampled_from(dims[first]))),
        parse_unit(draw(st.sampled_from(dims[second]))),
    )


# --- formatting round trip -------------------------------------------------------------------


@given(finite, units)
def test_format_parse_round_trip(value: float, unit: str) -> None:
    """What --perf-save writes must read back as the same text, or baseline diffs churn forever."""
    text = format_quantity(value, unit)
    assert format_quantity(parse_quantity(text).value, unit) == text


@given(finite, units)
def test_parsed_unit_is_the_formatted_unit(value: float, unit: str) -> None:
    """A value printed in a unit parses back in that unit (aliases to their canonical unit)."""
    assert parse_quantity(format_quantity(value, unit)).unit == parse_unit(unit)


@given(st.floats(-1e290, 1e290, allow_subnormal=False), units)
def test_formatted_value_keeps_four_significant_digits(value: float, unit: str) -> None:
    """Four significant digits: a stored value is off by at most 0.05 %, far below any limit."""
    assert math.isclose(parse_quantity(format_quantity(value, unit)).value, value, rel_tol=5.1e-4)


def test_format_examples() -> None:
    assert format_quantity(6, "ms") == "6 ms"
    assert format_quantity(4.12345, "ms") == "4.123 ms"
    assert format_quantity(10, "%") == "10%"
    assert format_quantity(3, "") == "3"
    assert format_quantity(32, parse_unit("MiB")) == "32 MiB"
    assert str(parse_quantity("250 us")) == "250 us"


def test_format_near_the_float_maximum_still_parses() -> None:
    """Rounding to 4 digits must not overflow to a text that parses as infinity."""
    text = format_quantity(1.7976931348623157e308, "ns")
    assert parse_quantity(text).value == 1.7976931348623157e308


def test_a_quantity_infinite_in_a_smaller_unit_is_refused() -> None:
    """A limit of 1e306 s is infinite in ns: a check against it could never fail."""
    assert parse_quantity("1e290 s").to(parse_unit("ns")) == 1e299
    with pytest.raises(UnitError, match="not a finite number"):
        parse_quantity("1e306 s")


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "symbol"),
    [
        ("6 ms", 6.0, "ms"),
        ("32MiB", 32.0, "MiB"),
        ("1.2k qps", 1200.0, "qps"),
        ("10%", 10.0, "%"),
        ("250 us", 250.0, "us"),
        ("250 µs", 250.0, "us"),  # micro sign
        ("250 μs", 250.0, "us"),  # Greek mu
        ("  1.5e3 ms ", 1500.0, "ms"),
        ("-2 s", -2.0, "s"),
        (".5 GiB", 0.5, "GiB"),
        ("3 M", 3e6, ""),
        ("2 MB", 2.0, "MB"),  # "M" followed by a letter is part of the unit, not a multiplier
        ("5 kB", 5.0, "kB"),
        ("7 min", 7.0, "min"),
        ("12 pods", 12.0, "pods"),
        ("1.5x", 1.5, "x"),
        ("40", 40.0, ""),
    ],
)
def test_parse_examples(text: str, value: float, symbol: str) -> None:
    quantity = parse_quantity(text)
    assert quantity.value == pytest.approx(value)
    assert quantity.unit.symbol == symbol


def test_micro_spellings_are_one_unit() -> None:
    assert parse_unit("µs") == parse_unit("μs") == parse_unit("us")


def test_bare_number_takes_the_default_unit() -> None:
    assert parse_quantity("6", default_unit="ms") == Quantity(6.0, parse_unit("ms"))
    assert parse_quantity(6, default_unit=parse_unit("MiB")) == Quantity(6.0, parse_unit("MiB"))
    assert parse_quantity(2.5).unit.dimension == "count"


def test_unknown_unit_lists_the_known_ones() -> None:
    with pytest.raises(UnitError) as info:
        parse_quantity("6 parsec")
    message = str(info.value)
    assert "'parsec'" in message
    assert "known:" in message
    for symbol in ("ms", "MiB", "qps", "%"):
        assert symbol in message


@pytest.mark.parametrize(
    "text", ["nan ms", "inf ms", "1e999 ms", float("nan"), float("inf"), -float("inf")]
)
def test_non_finite_quantities_are_refused(text: str | float) -> None:
    """A limit of nan could never fail, so it must never get into a baseline."""
    with pytest.raises(UnitError):
        parse_quantity(text)


@pytest.mark.parametrize("flag", [True, False])
def test_bools_are_refused(flag: bool) -> None:
    """YAML turns ``max: yes`` into True; that is a typo, not the number 1."""
    with pytest.raises(UnitError):
        parse_quantity(flag)


@pytest.mark.parametrize("text", ["", "ms", "six ms", "6 ms 7", "--6 ms"])
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(UnitError):
        parse_quantity(text)


def test_unit_error_is_a_value_error() -> None:
    """argparse ``type=`` functions report ValueError as a clean usage error."""
    assert issubclass(UnitError, ValueError)


# --- conversion ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "to", "expected"),
    [
        ("6 ms", "s", 0.006),
        ("6 ms", "us", 6000.0),
        ("1 h", "min", 60.0),
        ("1 min", "s", 60.0),
        ("250 us", "ns", 250_000.0),
        ("32 MiB", "B", 32 * 1024**2),
        ("1 GiB", "MiB", 1024.0),
        ("1 GB", "MB", 1000.0),
        ("2048 KiB", "MiB", 2.0),
        ("10%", "x", 0.1),
        ("1.2k qps", "/s", 1200.0),
        ("3 pod", "pods", 3.0),
    ],
)
def test_conversion_examples(text: str, to: str, expected: float) -> None:
    assert parse_quantity(text).to(parse_unit(to)) == pytest.approx(expected, rel=1e-12)


@given(st.floats(min_value=-1e200, max_value=1e200, allow_nan=False), same_dimension_pair())
def test_conversion_round_trip_within_a_dimension(value: float, pair: tuple[Unit, Unit]) -> None:
    """Converting there and back is the identity (up to rounding)."""
    first, second = pair
    back = second.convert(first.convert(value, second), first)
    assert math.isclose(back, value, rel_tol=1e-12, abs_tol=1e-300)


@given(st.floats(min_value=0, max_value=1e100), same_dimension_pair())
def test_conversion_preserves_order(value: float, pair: tuple[Unit, Unit]) -> None:
    """A larger quantity stays larger in any unit: limits keep their meaning after conversion."""
    first, second = pair
    assert first.convert(value, second) <= first.convert(value * 2 + 1, second)


@given(finite, cross_dimension_pair())
def test_cross_dimension_conversion_raises(value: float, pair: tuple[Unit, Unit]) -> None:
    """A baseline in MiB must never be compared with a metric in ms."""
    first, second = pair
    with pytest.raises(UnitError, match="cannot convert"):
        first.convert(value, second)


def test_quantity_to_across_dimensions_names_both_units() -> None:
    with pytest.raises(UnitError) as info:
        parse_quantity("32 MiB").to(parse_unit("ms"))
    assert "MiB" in str(info.value) and "ms" in str(info.value)
