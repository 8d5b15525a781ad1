"""One table format for every ``--perf-*`` option: command line, ini key, default and help from one entry."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import pytest

__all__ = ["GROUP_DESCRIPTION", "Option", "add_options", "option_value"]

#: The title of the plugin's one option group in ``pytest --help``.
GROUP_DESCRIPTION = "performance figures as tests (pytest-perfdata)"


class Option(NamedTuple):
    """One option. ``default`` is text, as a user would type it, converted by ``type`` like any input.

    An option with ``ini=True`` is also an ini key of the same name; the command line wins over
    the ini file, and both are converted and checked by ``type`` (bad input names the option).

    A named tuple rather than a frozen dataclass: every pytest start-up builds this class, and a
    named tuple is made without generating and compiling methods (about 1 ms less, measured with
    the start-up metric of ``suites/self``).
    """

    dest: str
    help: str
    default: str | None = None
    type: Callable[[str], Any] = str
    choices: tuple[str, ...] = ()
    ini: bool = False
    metavar: str | None = None
    action: str | None = None  # "store_true" or "append": flags without a value, or repeated ones

    @property
    def flag(self) -> str:
        return "--" + self.dest.replace("_", "-")

    @property
    def help_text(self) -> str:
        """The help line with its default, written once here rather than in every help string."""
        shown = f" (default: {self.default})" if self.default not in (None, "") else ""
        return self.help + shown

    def add_to(self, parser: pytest.Parser, group: pytest.OptionGroup) -> None:
        escaped = self.help_text.replace("%", "%%")  # argparse formats help with %
        if self.action == "store_true":
            group.addoption(self.flag, dest=self.dest, action="store_true", help=escaped)
            return
        if self.action == "append":
            group.addoption(self.flag, dest=self.dest, action="append", default=[],
                            metavar=self.metavar or "VALUE", help=escaped)
            return
        extra: dict[str, Any] = {"choices": self.choices} if self.choices else {}
        group.addoption(
            self.flag, dest=self.dest, type=self.type, metavar=self.metavar or self.dest.split("_", 1)[1].upper(),
            # An ini option's command-line default is None, so that an ini value can show through.
            default=None if self.ini else self.default, help=escaped, **extra,
        )
        if self.ini:
            parser.addini(self.dest, help=self.help_text, default=self.default)

    def value(self, config: pytest.Config) -> Any:
        """The command line first, then the ini key, then the default; converted and checked.

        A command-line option's default is converted by argparse; an ini option's default is
        converted here, like a value from the ini file.
        """
        given = config.getoption(self.dest)
        if given is not None or not self.ini:
            return given
        raw = config.getini(self.dest)
        if raw in (None, ""):
            raw = self.default
        if raw in (None, ""):
            return None
        try:
            converted = self.type(raw) if self.type is not str else raw
        except argparse.ArgumentTypeError as error:
            raise pytest.UsageError(f"ini option {self.dest} = {raw!r}: {error}") from None
        if self.choices and converted not in self.choices:
            raise pytest.UsageError(f"{self.dest} must be one of {', '.join(self.choices)}, not {raw!r}")
        return converted


def add_options(parser: pytest.Parser, options: Sequence[Option]) -> None:
    """Add a table of options to the plugin's one option group."""
    group = parser.getgroup("perfdata", GROUP_DESCRIPTION)
    for option in options:
        option.add_to(parser, group)


def option_value(config: pytest.Config, options: Sequence[Option], dest: str) -> Any:
    """The value of the option ``dest`` in ``options`` (see :meth:`Option.value`)."""
    for option in options:
        if option.dest == dest:
            return option.value(config)
    raise KeyError(dest)
