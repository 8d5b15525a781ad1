"""The options table: one entry gives the command line, the ini key, the default and the help."""

from __future__ import annotations

import pytest

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
