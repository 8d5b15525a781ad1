"""Values and messages of bounded size, for errors about input nobody has checked yet.

An error message quotes what it refuses. Quoting a hostile file in full can make a message of
megabytes (a long line, a structure of shared references), so every quoted value goes through
:func:`shown`. A message as a whole is capped by :func:`bounded` wherever it is raised.
"""

from __future__ import annotations

import reprlib
from typing import Any, Final

__all__ = ["MESSAGE_LIMIT", "bounded", "shown"]

#: The most characters an error message may have, quoted values included.
MESSAGE_LIMIT: Final = 2000

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
_REPR.maxlevel = 2
_REPR.maxlong = 40


def shown(value: Any) -> str:
    """``repr(value)`` cut short: a few items, a few levels, 80 characters of a string.

    ``reprlib`` stops at its limits before it builds the whole text, so a structure that
    shares its parts (nine items of nine items of ...) costs its limits, not its expansion.
    """
    return _REPR.repr(value)


def bounded(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """``message`` as it is when short; else its head and tail and how much was left out."""
    if len(message) <= limit:
        return message
    keep = limit // 2 - 40
    return f"{message[:keep]} …[{len(message) - 2 * keep} characters left out]… {message[-keep:]}"
