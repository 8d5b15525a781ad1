"""The Rego builtins that OPA's Wasm target leaves to the host, in Python for the ABI runner."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

__all__ = ["HOST_BUILTINS", "any_prefix_match", "go_sprintf"]

def go_sprintf(template: str, args: Sequence[Any]) -> str:
    """Rego's ``sprintf`` for the verbs policies use (``%s %v %d %q %f %%``), Go-style.

    OPA's Wasm target leaves ``sprintf`` to the host. Other verbs raise, so a decision never
    silently differs from OPA's.
    """
    values = list(args)

    def verb(match: re.Match[str]) -> str:
        spec, kind = match.group(1), match.group(2)
        if kind == "%":
            return "%"
        if not values:
            return f"%!{kind}(MISSING)"
        value = values.pop(0)
        if kind in "sv":
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            return f"{text:{spec.replace('-', '<') if spec else ''}}" if spec else text
        if kind == "d" and isinstance(value, (int, float)) and float(value).is_integer():
            return f"{int(value):{spec}}" if spec else str(int(value))
        if kind == "q" and isinstance(value, str):
            return json.dumps(value)
        if kind == "f" and isinstance(value, (int, float)):
            return f"{value:{spec or '.6'}f}"
        raise ValueError(f"sprintf verb %{spec}{kind} with {value!r} is not supported here")

    return re.sub(r"%([-+ #0-9.]*)([a-zA-Z%])", verb, template)


def _strings(value: Any, argument: str) -> list[str]:
    """A string, or an array or set of strings (a set arrives as a JSON array), as a list."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise TypeError(f"{argument} must be a string or an array or set of strings, got {value!r}")
    return items


def any_prefix_match(search: Any, base: Any) -> bool:
    """Rego's ``strings.any_prefix_match``: does any of ``search`` start with any of ``base``?"""
    prefixes = _strings(base, "base")
    return any(text.startswith(prefix) for text in _strings(search, "search") for prefix in prefixes)


HOST_BUILTINS: Final[dict[str, Callable[..., Any]]] = {
    "sprintf": go_sprintf,
    "strings.any_prefix_match": any_prefix_match,
}
