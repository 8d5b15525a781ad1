"""JSON values in the order OPA gives Rego values, so sets from every engine compare with ``==``."""

from __future__ import annotations

from typing import Any

__all__ = ["opa_order_key"]

def opa_order_key(value: Any) -> tuple[Any, ...]:
    """Sort key that orders JSON values as OPA orders Rego values (``ast.Compare``).

    null < booleans < numbers < strings < arrays < objects; arrays element by element,
    objects by their sorted keys, then values.
    """
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, list):
        return (4, tuple(opa_order_key(item) for item in value))
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: opa_order_key(item[0]))
        return (5, tuple((opa_order_key(k), opa_order_key(v)) for k, v in items))
    return (6, repr(value))
