"""Names a package re-exports but loads on first use (PEP 562), so importing the package stays cheap."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name in ``homes`` comes from its module.

    ``homes`` maps a name to the module that defines it, relative to ``package`` (``.wasmedge``,
    ``..process``; a bare name means ``.name``). The value is kept on the package after the first
    lookup, so later lookups are ordinary attribute reads.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        relative = home if home.startswith(".") else f".{home}"
        value = getattr(importlib.import_module(relative, package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
