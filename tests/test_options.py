"""The options table: one entry gives the command line, the ini key, the default and the help."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata import _defaults
from pytest_perfdata.settings import CORE_OPTIONS, RegressionScope, Settings


def test_every_default_is_shown_in_help_from_the_table(pytester: pytest.Pytester) -> None:
    """Each default is written once, in its table entry; the flag and the ini key both show it."""
    text = " ".join(pytester.runpytest("--help").stdout.str().split())
    for default in ("0.99", "10%", "365", "1s"):
        assert text.count(f"(default: {default})") == 2, default


def test_settings_defaults_are_the_option_defaults() -> None:
    """A Settings built without options agrees with what the options table would give."""
    settings = Settings(target="t", baselines_dir=pytest.importorskip("pathlib").Path("b"))
    by_dest = {option.dest: option for option in CORE_OPTIONS}
    assert by_dest["perf_confidence"].type(by_dest["perf_confidence"].default) == settings.confidence
    assert by_dest["perf_regression"].type(by_dest["perf_regression"].default) == settings.default_regression
    assert by_dest["perf_budget"].type(by_dest["perf_budget"].default) == settings.budget_s == _defaults.BUDGET_S
    assert int(by_dest["perf_max_age"].default) == settings.max_age_days
    assert int(by_dest["perf_confirm"].default) == settings.confirm
    assert by_dest["perf_regression_scope"].default == settings.regression_scope.value


def test_every_option_has_the_common_prefix_and_an_ini_key_only_with_a_value() -> None:
    for option in CORE_OPTIONS:
        assert option.flag.startswith("--perf-")
        assert not (option.ini and option.action), option.dest


def test_settings_accept_the_vocabulary_as_text() -> None:
    from pathlib import Path

    assert Settings("t", Path("b"), regression_scope="target").regression_scope is RegressionScope.TARGET
    with pytest.raises(ValueError):
        Settings("t", Path("b"), regression_scope="planet")


def test_a_bad_ini_value_names_the_key(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nperf_budget = soon\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option perf_budget = 'soon': expected a time such as '2s'*"])


_NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.text(alphabet="0123456789.e+-_ ", max_size=8),
)


@given(number=_NUMBER_TEXT, suffix=st.sampled_from(["", "s", " s", "ms", "%", " %", "min"]))
def test_the_plain_number_shortcut_agrees_with_the_unit_parser(number: str, suffix: str) -> None:
    """``10s`` and ``10%`` are read without the unit parser at start-up; the answer must be the same."""
    from pytest_perfdata import option_types, units

    text = number + suffix

    def by_units(unit: str) -> object:
        try:
            quantity = units.parse_quantity(text, unit)
            if unit == "%":
                ok = quantity.unit.symbol == "%" and quantity.value > 0
                return quantity.value / 100 if ok else "refused"
            seconds = quantity.to(units.parse_unit("s"))
        except units.UnitError:
            return "refused"
        return seconds if seconds > 0 else "refused"

    def by_option(convert: Callable[[str], float]) -> object:
        try:
            return convert(text)
        except argparse.ArgumentTypeError:
            return "refused"

    assert by_option(option_types.positive_time) == pytest.approx(by_units("s"))
    assert by_option(option_types.percentage) == pytest.approx(by_units("%"))


def test_a_run_with_no_measuring_test_imports_only_the_light_modules(pytester: pytest.Pytester) -> None:
    """What every pytest run pays for: no unit parser, marker checks, engine protocols or measuring core."""
    pytester.makepyfile("def test_trivial():\n    pass\n")
    pytester.makeconftest(
        "import sys\n"
        "def pytest_sessionfinish(session):\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith('pytest_perfdata'))\n"
        "    session.config._perfdata_loaded = loaded\n"
        "def pytest_terminal_summary(terminalreporter, config):\n"
        "    terminalreporter.write_line('LOADED ' + ' '.join(config._perfdata_loaded))\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    loaded = next(line for line in result.outlines if line.startswith("LOADED ")).split()[1:]
    heavy = [m for m in loaded if m.rsplit(".", 1)[-1] in
             ("units", "marker", "protocol", "engine_set", "perf", "session", "baseline", "stats", "verdict")]
    assert heavy == [], heavy


@pytest.mark.parametrize("text, expected", [("10%", 0.1), (" 2.5 % ", 0.025), ("off", None), ("OFF", None)])
def test_one_reader_of_regression_limits(text: str, expected: float | None) -> None:
    from pytest_perfdata.option_types import regression_limit

    assert regression_limit(text) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("text", ["0.1", "10", "-5%", "0%", "ten"])
def test_a_regression_limit_needs_its_unit_and_a_positive_value(text: str) -> None:
    from pytest_perfdata.option_types import regression_limit

    with pytest.raises(argparse.ArgumentTypeError):
        regression_limit(text)


def test_command_line_and_baseline_file_read_regression_alike(pytester: pytest.Pytester) -> None:
    """``off`` works on both sides; a bare number is refused on both, with the same advice."""
    (pytester.path / "baselines").mkdir()
    (pytester.path / "baselines" / f"{_target()}.yaml").write_text("m:\n  regression: 10\n")
    pytester.makepyfile("def test_m(perf):\n    perf.record_value('m', 1, unit='ms')\n")
    from_file = pytester.runpytest()
    from_file.stderr.fnmatch_lines(["*:2: m: regression: write a regression limit with its unit, such as '10%'*"])
    from_flag = pytester.runpytest("--perf-regression=10")
    from_flag.stderr.fnmatch_lines(["*--perf-regression: write a regression limit with its unit, such as '10%'*"])
    (pytester.path / "baselines" / f"{_target()}.yaml").write_text("m:\n  regression: off\n  value: 1 ms\n")
    assert pytester.runpytest("--perf-regression=off").ret == pytest.ExitCode.OK


def _target() -> str:
    from pytest_perfdata.targets import machine_target

    return machine_target()
