"""Parse and format the quantities people write in baselines and claims ("6 ms", "32 MiB", "1.2k qps")."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, final

from ._shown import shown

__all__ = [
    "Quantity",
    "Unit",
    "UnitError",
    "format_quantity",
    "known_units",
    "parse_quantity",
    "parse_unit",
    "register_unit",
]


class UnitError(ValueError):
    """A quantity or unit that cannot be understood; the message says what was expected."""


@final
@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of one dimension, with its factor to that dimension's base unit.

    Base units: seconds for time, bytes for size, events per second for rate, one for counts
    and ratios. Two units convert into each other only within one dimension, so a baseline
    written in "MiB" can never be compared with a metric measured in "ms".
    """

    symbol: str
    dimension: str
    scale: float

    def convert(self, value: float, to: Unit) -> float:
        """Express ``value`` (in this unit) in unit ``to``."""
        if to.dimension != self.dimension:
            raise UnitError(
                f"cannot convert {self.symbol or 'a count'} ({self.dimension}) "
                f"to {to.symbol or 'a count'} ({to.dimension})"
            )
        return value * self.scale / to.scale

    def __str__(self) -> str:
        return self.symbol


_UNITS: dict[str, Unit] = {}
#: Each dimension's smallest unit scale: a quantity must stay finite expressed in it.
_SMALLEST_SCALE: dict[str, float] = {}


def register_unit(symbol: str, dimension: str, scale: float, *aliases: str) -> Unit:
    """Add a unit (for example a suite's ``"pods/GiB"``); aliases parse to the same unit."""
    unit = Unit(symbol, dimension, scale)
    _SMALLEST_SCALE[dimension] = min(scale, _SMALLEST_SCALE.get(dimension, scale))
    for name in (symbol, *aliases):
        _UNITS[name] = unit
    return unit


for _symbol, _scale, _aliases in (
    ("ns", 1e-9, ()),
    ("us", 1e-6, ("µs", "μs")),
    ("ms", 1e-3, ()),
    ("s", 1.0, ("sec",)),
    ("min", 60.0, ()),
    ("h", 3600.0, ()),
):
    register_unit(_symbol, "time", _scale, *_aliases)
for _symbol, _scale, _aliases in (
    ("B", 1.0, ("bytes",)),
    ("kB", 1e3, ("KB",)),
    ("MB", 1e6, ()),
    ("GB", 1e9, ()),
    ("KiB", 1024.0, ()),
    ("MiB", 1024.0**2, ()),
    ("GiB", 1024.0**3, ()),
    ("TiB", 1024.0**4, ()),
):
    register_unit(_symbol, "size", _scale, *_aliases)
register_unit("/s", "rate", 1.0, "ops/s", "Hz")
register_unit("qps", "rate", 1.0)
register_unit("rps", "rate", 1.0, "req/s")
register_unit("pods/s", "rate", 1.0)
register_unit("", "count", 1.0, "count")
register_unit("pods", "count", 1.0, "pod")
register_unit("instances", "count", 1.0, "instance")
register_unit("containers", "count", 1.0, "container")
register_unit("instructions", "count", 1.0, "instruction")
register_unit("cores", "cpu", 1.0, "core")
register_unit("x", "ratio", 1.0, "ratio", "×")
register_unit("%", "ratio", 0.01)
register_unit("instances/GiB", "density", 1.0)
register_unit("pods/GiB", "density", 1.0)
register_unit("containers/GiB", "density", 1.0)


def known_units() -> list[str]:
    """All unit spellings that parse, for error messages and documentation."""
    return sorted(name for name in _UNITS if name)


def parse_unit(text: str) -> Unit:
    """Return the unit written as ``text``; raise :class:`UnitError` listing the known ones."""
    try:
        return _UNITS[text.strip()]
    except KeyError:
        raise UnitError(f"unknown unit {shown(text.strip())} (known: {', '.join(known_units())})") from None


@final
@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit, as written in a baseline (``max: 6 ms``)."""

    value: float
    unit: Unit

    def to(self, unit: Unit) -> float:
        """The value expressed in ``unit``; raises :class:`UnitError` across dimensions."""
        return self.unit.convert(self.value, unit)

    def __str__(self) -> str:
        return format_quantity(self.value, self.unit)


_NUMBER: Final = re.compile(
    r"^\s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<multiplier>[kMG](?![a-zA-Z]))?\s*(?P<unit>.*?)\s*$"
)
_MULTIPLIERS: Final = {"k": 1e3, "M": 1e6, "G": 1e9}


def parse_quantity(text: str | float, default_unit: Unit | str | None = None) -> Quantity:
    """Parse ``"6 ms"``, ``"32MiB"``, ``"1.2k qps"``, ``"10%"``.

    A bare number takes ``default_unit`` (when given); without one it is a plain count.
    Non-finite values are refused: a limit of ``nan`` could never fail.
    """
    if isinstance(text, bool):
        raise UnitError(f"expected a quantity such as '6 ms', got {shown(text)}")
    if isinstance(text, (int, float)):
        try:
            number, unit_text = float(text), None
        except OverflowError:  # an int of hundreds of digits
            raise UnitError(f"quantity {shown(text)} is not a finite number") from None
    else:
        match = _NUMBER.match(str(text))
        if match is None:
            raise UnitError(f"expected a quantity such as '6 ms' or '32 MiB', got {shown(text)}")
        number = float(match["number"]) * _MULTIPLIERS.get(match["multiplier"] or "", 1.0)
        unit_text = match["unit"] or None
    if unit_text is not None:
        unit = parse_unit(unit_text)
    elif isinstance(default_unit, Unit):
        unit = default_unit
    else:
        unit = parse_unit(default_unit or "")
    # Finite in every unit of its dimension too, so that no conversion makes it infinite.
    if not (math.isfinite(number) and math.isfinite(number * unit.scale / _SMALLEST_SCALE[unit.dimension])):
        raise UnitError(f"quantity {shown(text)} is not a finite number")
    return Quantity(number, unit)


def format_quantity(value: float, unit: Unit | str, digits: int = 4) -> str:
    """Format with ``digits`` significant digits, so that parsing the text gives the value back.

    The unit is kept as given: a metric recorded in ms is shown in ms, which keeps a baseline
    file readable and its diffs small.
    """
    symbol = unit.symbol if isinstance(unit, Unit) else unit
    text = f"{value:.{digits}g}"
    if math.isfinite(value) and not math.isfinite(float(text)):
        text = repr(value)  # rounding near the float maximum overflowed: keep every digit
    if symbol in ("%", ""):
        return f"{text}{symbol}"
    return f"{text} {symbol}"
