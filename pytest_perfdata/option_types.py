"""argparse types of the ``--perf-*`` options: bad input fails at the command line with the reason."""

from __future__ import annotations

import argparse
import math
from typing import Final

from ._shown import shown

__all__ = [
    "confidence", "drift_sensitivity", "non_negative_int", "percentage", "positive_int", "positive_time",
    "regression_limit",
]


def _plain_number(text: str, suffix: str, *, required: bool) -> float | None:
    """``text`` as a finite number followed by ``suffix`` (``10%``, ``10s``), else None.

    With ``required=False`` the bare number is accepted too (a bare time is seconds).
    The defaults are written this way, so that a pytest start-up resolves them without importing
    the unit parser; anything else goes through :mod:`.units`, which gives the reasons.
    """
    stripped = text.strip()
    if suffix and stripped.endswith(suffix):
        stripped = stripped[: -len(suffix)].rstrip()
    elif required:
        return None
    if "_" in stripped:  # float() takes "1_0"; the unit parser does not, and the two must agree
        return None
    try:
        value = float(stripped)
    except ValueError:
        return None
    # Huge values go to the unit parser, which refuses those that no unit of the dimension can
    # hold (1e299 s is infinite in ns); the shortcut keeps to figures nobody would question.
    return value if math.isfinite(value) and abs(value) < _PLAIN_LIMIT else None


_PLAIN_LIMIT: Final = 1e15


def positive_time(text: str) -> float:
    """A positive time in seconds: ``2s``, ``500ms``, ``3 min``; a bare number is seconds."""
    plain = _plain_number(text, "s", required=False)
    if plain is not None and plain > 0:
        return plain
    from .units import UnitError, parse_quantity, parse_unit

    try:
        seconds = parse_quantity(text, "s").to(parse_unit("s"))
    except UnitError as error:
        raise argparse.ArgumentTypeError(f"expected a time such as '2s' or '500ms': {error}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive time, got {shown(text)}")
    return seconds


def percentage(text: str) -> float:
    """A positive percentage, as a fraction: ``10%`` gives 0.1."""
    plain = _plain_number(text, "%", required=True)
    if plain is not None and plain > 0:
        return plain / 100
    from .units import UnitError, parse_quantity

    try:
        quantity = parse_quantity(text, "%")
    except UnitError as error:
        raise argparse.ArgumentTypeError(f"expected a percentage such as '10%': {error}") from None
    if quantity.unit.symbol != "%" or quantity.value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive percentage such as '10%', got {shown(text)}")
    return quantity.value / 100


def regression_limit(text: str) -> float | None:
    """An allowed regression: a positive percentage (``10%`` gives 0.1), or ``off`` (None).

    The one reader of regression limits, for ``--perf-regression``, its ini key and the
    ``regression:`` of a baseline entry alike. A bare number is refused in all three: ``0.1``
    and ``10`` would each be read as someone's mistake (0.1 % or 1000 %?).
    """
    stripped = text.strip()
    if stripped.lower() == "off":
        return None
    plain = _plain_number(stripped, "%", required=False)
    if plain is not None and not stripped.endswith("%"):
        raise argparse.ArgumentTypeError(
            f"write a regression limit with its unit, such as '10%' (or off), not the bare number {shown(text)}")
    try:
        return percentage(stripped)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive percentage such as '10%', or off; got {shown(text)}") from None


def confidence(text: str) -> float:
    """A confidence level in [0.5, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a confidence such as 0.99, got {shown(text)}") from None
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"confidence must be in [0.5, 1), got {shown(text)}")
    return value


def _whole_number(text: str, minimum: int, words: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {shown(text)}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {words}, got {shown(text)}")
    return value


def positive_int(text: str) -> int:
    """A whole number above zero (pods, days)."""
    return _whole_number(text, 1, "a number above zero")


def non_negative_int(text: str) -> int:
    """A whole number, zero allowed (attempts, where 0 turns the feature off)."""
    return _whole_number(text, 0, "zero or more")


#: The largest sensitivity accepted: a workload three times as steep as the reference is already
#: a different kind of work, and wants a reference of its own kind.
MAX_SENSITIVITY = 3.0


def drift_sensitivity(text: str) -> tuple[float, float]:
    """How strongly a metric follows its drift reference, as a range: ``0.8..1.2``, or one number.

    0 is not at all (the raw figures), 1 exactly as much as the reference. The verdict declares
    a regression only if it shows at every sensitivity in the range.
    """
    low_text, dots, high_text = text.strip().partition("..")
    low = _plain_number(low_text, "", required=False)
    high = _plain_number(high_text, "", required=False) if dots else low
    if low is None or high is None or not 0 <= low <= high <= MAX_SENSITIVITY:
        raise argparse.ArgumentTypeError(
            f"expected a range such as '0.8..1.2' (or one number), between 0 and {MAX_SENSITIVITY:g}, "
            f"low before high; got {shown(text)}")
    return low, high
