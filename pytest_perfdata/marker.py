"""The ``perf`` marker, validated: a misspelt keyword or a bad value is a usage error, never silence."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, final

import pytest

from .option_types import confidence as _confidence
from .option_types import non_negative_int, positive_time

__all__ = ["MarkerError", "PerfMarker"]

class MarkerError(pytest.UsageError):
    """A ``perf`` marker with an unknown keyword or a value its keyword does not accept."""


def _metric(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise argparse.ArgumentTypeError(f"expected a metric name such as 'wasm.cold_start', got {value!r}")
    return value


def _statistic(value: object) -> str:
    from .stats import STATISTICS

    if value not in STATISTICS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(STATISTICS)}, got {value!r}")
    return str(value)


def _counter(value: object) -> str:
    if value != "instructions":
        raise argparse.ArgumentTypeError(f"the one counter is 'instructions' (valgrind), got {value!r}")
    return "instructions"


def _text_of(convert: Callable[[str], Any]) -> Callable[[object], Any]:
    """Accept numbers as well as text for the option types (``budget=2`` means 2 s)."""

    def converted(value: object) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise argparse.ArgumentTypeError(f"got {value!r}")
        return convert(str(value))

    return converted


#: Each keyword and the function that checks and converts its value.
_KEYWORDS: Final[Mapping[str, Callable[[object], Any]]] = {
    "metric": _metric,
    "budget": _text_of(positive_time),
    "statistic": _statistic,
    "confidence": _text_of(_confidence),
    "confirm": _text_of(non_negative_int),
    "counter": _counter,
}


@final
@dataclass(frozen=True, slots=True)
class PerfMarker:
    """What a test's ``@pytest.mark.perf(...)`` asks for; ``None`` leaves the run's setting."""

    metric: str | None = None
    budget: float | None = None  # seconds
    statistic: str | None = None
    confidence: float | None = None
    confirm: int | None = None
    counter: str | None = None  # "instructions": each metric is also counted (see counting.py)

    @classmethod
    def of(cls, item: pytest.Item) -> PerfMarker:
        """The closest ``perf`` marker of ``item``, checked; a bare or missing marker asks for nothing."""
        mark = item.get_closest_marker("perf")
        return cls.from_kwargs(mark.kwargs if mark else {}, item.nodeid, args=mark.args if mark else ())

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, object], test: str, args: tuple[object, ...] = ()) -> PerfMarker:
        accepted = ", ".join(_KEYWORDS)
        if args:
            raise MarkerError(f"{test}: the perf marker takes keywords only ({accepted}), got {args!r}")
        values: dict[str, Any] = {}
        for keyword, value in kwargs.items():
            convert = _KEYWORDS.get(keyword)
            if convert is None:
                raise MarkerError(f"{test}: perf marker has no keyword {keyword!r} (accepted: {accepted})")
            try:
                values[keyword] = convert(value)
            except argparse.ArgumentTypeError as error:
                raise MarkerError(f"{test}: perf marker {keyword}={value!r}: {error}") from None
        return cls(**values)

    def asks(self) -> dict[str, Any]:
        """The keywords this marker sets, for messages and reports."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
