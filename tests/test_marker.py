"""The ``perf`` marker: every keyword checked at collection, a typo is a usage error naming the test."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata.marker import MarkerError, PerfMarker

ACCEPTED = "metric, budget, statistic, confidence, confirm, counter"


def test_a_misspelt_keyword_is_a_usage_error_naming_test_keyword_and_accepted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.perf(budjet="2s")
        def test_typo(perf):
            perf.record_value("m", 1, unit="ms")
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*test_a_misspelt_keyword*.py::test_typo: perf marker has no keyword 'budjet' (accepted: {ACCEPTED})*"]
    )


@pytest.mark.parametrize(
    ("keyword", "value", "says"),
    [
        ("budget", '"fast"', "expected a time such as '2s'"),
        ("budget", '"-1s"', "expected a positive time"),
        ("statistic", '"p95"', "expected one of p50"),
        ("confidence", "1.5", "confidence must be in [0.5, 1)"),
        ("confirm", "-1", "expected zero or more"),
        ("metric", '""', "expected a metric name"),
        ("counter", '"cycles"', "the one counter is 'instructions'"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_keyword_and_value(
    pytester: pytest.Pytester, keyword: str, value: str, says: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.perf({keyword}={value})
        def test_bad():
            pass
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*::test_bad: perf marker {keyword}=*: *{says}*"])


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(MarkerError, match=f"keywords only \\({ACCEPTED}\\)"):
        PerfMarker.from_kwargs({}, "t.py::t", args=("2s",))


def test_a_good_marker_sets_what_it_asks_for_and_leaves_the_rest() -> None:
    marker = PerfMarker.from_kwargs({"budget": "500ms", "statistic": "p99", "confirm": 0}, "t.py::t")
    assert marker == PerfMarker(budget=0.5, statistic="p99", confirm=0)
    assert marker.asks() == {"budget": 0.5, "statistic": "p99", "confirm": 0}


@given(st.text(min_size=1).filter(lambda k: k not in ACCEPTED.split(", ")))
def test_every_unknown_keyword_is_refused(keyword: str) -> None:
    with pytest.raises(MarkerError, match="has no keyword"):
        PerfMarker.from_kwargs({keyword: 1}, "t.py::t")


@given(st.floats(min_value=0.5, max_value=0.999), st.integers(min_value=0, max_value=10))
def test_numbers_are_accepted_where_text_is(confidence: float, confirm: int) -> None:
    marker = PerfMarker.from_kwargs({"confidence": confidence, "confirm": confirm, "budget": 2}, "t.py::t")
    assert (marker.confidence, marker.confirm, marker.budget) == (pytest.approx(confidence), confirm, 2.0)


def test_the_marker_help_names_every_keyword() -> None:
    """``pytest --markers`` shows the keywords; the help lives in the plugin, the checks here."""
    from dataclasses import fields

    from pytest_perfdata.plugin import MARKER_HELP

    for keyword in fields(PerfMarker):
        assert f"{keyword.name}=" in MARKER_HELP, keyword.name
