"""argparse types of the ``--perf-*`` options: bad input fails at the command line with the reason."""

from __future__ import annotations

import argparse

__all__ = ["confidence", "non_negative_int", "percentage", "positive_int", "positive_time"]


def positive_time(text: str) -> float:
    """A positive time in seconds: ``2s``, ``500ms``, ``3 min``; a bare number is seconds."""
    from .units import UnitError, parse_quantity, parse_unit  # only when a time is given

    try:
        seconds = parse_quantity(text, "s").to(parse_unit("s"))
    except UnitError as error:
        raise argparse.ArgumentTypeError(f"expected a time such as '2s' or '500ms': {error}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive time, got {text!r}")
    return seconds


def percentage(text: str) -> float:
    """A positive percentage, as a fraction: ``10%`` gives 0.1."""
    from .units import UnitError, parse_quantity

    try:
        quantity = parse_quantity(text, "%")
    except UnitError as error:
        raise argparse.ArgumentTypeError(f"expected a percentage such as '10%': {error}") from None
    if quantity.unit.symbol != "%" or quantity.value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive percentage such as '10%', got {text!r}")
    return quantity.value / 100


def confidence(text: str) -> float:
    """A confidence level in [0.5, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a confidence such as 0.99, got {text!r}") from None
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"confidence must be in [0.5, 1), got {text!r}")
    return value


def _whole_number(text: str, minimum: int, words: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number above zero (pods, days)."""
    return _whole_number(text, 1, "a number above zero")


def non_negative_int(text: str) -> int:
    """A whole number, zero allowed (attempts, where 0 turns the feature off)."""
    return _whole_number(text, 0, "zero or more")
