"""Consistency rules' expressions: arithmetic on quantities with units, and nothing else.

A rule is data (``pods_per_node * memory_per_pod + k3s_server_memory <= hardware.memory``),
so it is parsed with :mod:`ast` and evaluated by walking the tree: numbers, dotted names,
``+ - * /``, one comparison (``<= < >= >``, or ``in`` for "each of these is listed in that"),
``and``. Anything else (calls, attributes of values, subscripts) is refused when the rule is
read, not when it runs. Units follow the operations: a count of pods times a size is a size,
a size over a size is a plain number, and adding a size to a time is an error naming both.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, final

from ..units import Quantity, format_quantity

__all__ = ["Amount", "ExpressionError", "Outcome", "Items", "evaluate", "names_in", "parse"]

#: Dimensions that multiply like plain numbers: "3000 pods × 32 MiB" is a size.
_PLAIN: Final = frozenset({"count", "ratio"})


class ExpressionError(ValueError):
    """A rule that cannot be read or evaluated, with the reason."""


@final
@dataclass(frozen=True, slots=True)
class Amount:
    """A number in its dimension's base unit (bytes, seconds, cores), and how to show it."""

    magnitude: float
    dimension: str  # "count" for plain numbers and counts
    text: str  # the value with its unit, as written or as computed
    expression: str = ""  # how it was computed, every name's value filled in ("" for a given value)

    @property
    def shown(self) -> str:
        """The working and the result: ``3000 pods × 32 MiB + 1588 MiB = 95.3 GiB``."""
        return f"{self.expression} = {self.text}" if self.expression else self.text

    @classmethod
    def of(cls, quantity: Quantity) -> Amount:
        return cls(quantity.value * quantity.unit.scale, quantity.unit.dimension, str(quantity))

    @property
    def plain(self) -> bool:
        return self.dimension in _PLAIN


@final
@dataclass(frozen=True, slots=True)
class Items:
    """A list value, such as the flags a K3s version accepts."""

    values: tuple[str, ...]
    text: str


Value = Amount | Items
Resolver = Callable[[str], Value]


@final
@dataclass(frozen=True, slots=True)
class Outcome:
    """A rule's result: whether it holds, and the arithmetic with every name's value filled in."""

    holds: bool
    arithmetic: str


_ALLOWED: Final = (
    ast.Expression, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Compare, ast.LtE, ast.Lt, ast.GtE,
    ast.Gt, ast.In, ast.BoolOp, ast.And, ast.Name, ast.Attribute, ast.Load, ast.Constant,
)
_SYMBOLS: Final = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "/", ast.LtE: "≤", ast.Lt: "<",
                   ast.GtE: "≥", ast.Gt: ">", ast.In: "⊆"}
_NEGATED: Final = {ast.LtE: ">", ast.Lt: "≥", ast.GtE: "<", ast.Gt: "≤", ast.In: "⊄"}


def parse(text: str) -> ast.Expression:
    """The rule's tree; refuses anything but the arithmetic above, naming what it found."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not an expression: {error.msg} in {text!r}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"{type(node).__name__} is not allowed in a rule ({text!r}); "
                                  "use names, numbers, + - * /, <= < >= >, in, and")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float))):
            raise ExpressionError(f"only numbers may be written in a rule, not {node.value!r} ({text!r})")
        if isinstance(node, ast.Compare) and len(node.ops) != 1:
            raise ExpressionError(f"one comparison per condition, joined with 'and' ({text!r})")
    if not _is_condition(tree.body):
        raise ExpressionError(f"a rule must compare (<=, <, >=, >, in), got {text!r}")
    return tree


def _is_condition(node: ast.expr) -> bool:
    if isinstance(node, ast.BoolOp):
        return all(_is_condition(value) for value in node.values)
    return isinstance(node, ast.Compare)


def names_in(tree: ast.Expression) -> tuple[str, ...]:
    """Every dotted name the rule uses, once each, in the order written."""
    found: list[str] = []

    class Names(ast.NodeVisitor):
        def visit_Attribute(self, node: ast.Attribute) -> None:
            name = _dotted(node)
            if name is not None and name not in found:
                found.append(name)

        def visit_Name(self, node: ast.Name) -> None:
            if node.id not in found:
                found.append(node.id)

    Names().visit(tree)
    return tuple(found)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def evaluate(tree: ast.Expression, resolve: Resolver) -> Outcome:
    """Evaluate a parsed rule; ``resolve`` gives each name's value (KeyError: unknown name)."""
    return _condition(tree.body, resolve)


def _condition(node: ast.expr, resolve: Resolver) -> Outcome:
    if isinstance(node, ast.BoolOp):
        parts = [_condition(value, resolve) for value in node.values]
        return Outcome(all(p.holds for p in parts), "; ".join(p.arithmetic for p in parts))
    assert isinstance(node, ast.Compare)
    op = type(node.ops[0])
    left, right = _value(node.left, resolve), _value(node.comparators[0], resolve)
    if op is ast.In:
        holds, shown = _contained(left, right)
    else:
        if not isinstance(left, Amount) or not isinstance(right, Amount):
            raise ExpressionError("only quantities compare with <= < >= >")
        _same_dimension(left, right, "compare")
        holds = {ast.LtE: left.magnitude <= right.magnitude, ast.Lt: left.magnitude < right.magnitude,
                 ast.GtE: left.magnitude >= right.magnitude, ast.Gt: left.magnitude > right.magnitude}[op]
        shown = f"{left.shown} {_SYMBOLS[op] if holds else _NEGATED[op]} {right.shown}"
    return Outcome(holds, shown)


def _contained(left: Value, right: Value) -> tuple[bool, str]:
    if not isinstance(right, Items):
        raise ExpressionError("'in' needs a list on its right")
    wanted = left.values if isinstance(left, Items) else (left.text,)
    missing = [item for item in wanted if item not in right.values]
    if missing:
        return False, f"{', '.join(missing)} not in {right.text}"
    return True, f"{', '.join(wanted)} in {right.text}"


def _value(node: ast.expr, resolve: Resolver) -> Value:
    if isinstance(node, ast.Constant):
        number = float(node.value)
        return Amount(number, "count", f"{number:g}")
    name = _dotted(node)
    if name is not None:
        return resolve(name)
    assert isinstance(node, ast.BinOp)
    left, right = _value(node.left, resolve), _value(node.right, resolve)
    if not isinstance(left, Amount) or not isinstance(right, Amount):
        raise ExpressionError("lists do not take part in arithmetic")
    op = type(node.op)
    if op in (ast.Add, ast.Sub):
        _same_dimension(left, right, "add")
        magnitude = left.magnitude + right.magnitude if op is ast.Add else left.magnitude - right.magnitude
        dimension = left.dimension if not left.plain else right.dimension
    elif op is ast.Mult:
        if not left.plain and not right.plain:
            raise ExpressionError(f"cannot multiply {left.text} by {right.text}: one side must be a count")
        magnitude, dimension = left.magnitude * right.magnitude, right.dimension if left.plain else left.dimension
    else:
        if right.magnitude == 0:
            raise ExpressionError(f"division by zero ({right.text})")
        if right.plain:
            magnitude, dimension = left.magnitude / right.magnitude, left.dimension
        else:
            _same_dimension(left, right, "divide")
            magnitude, dimension = left.magnitude / right.magnitude, "count"
    return Amount(magnitude, dimension, display(magnitude, dimension),
                  f"{_operand(left, node.left)} {_SYMBOLS[op]} {_operand(right, node.right)}")


def _operand(amount: Amount, node: ast.expr) -> str:
    """An operand's working, bracketed where it is a sum inside a product."""
    working = amount.expression or amount.text
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return f"({working})"
    return working


def _same_dimension(left: Amount, right: Amount, verb: str) -> None:
    if left.dimension != right.dimension and not (left.plain and right.plain):
        raise ExpressionError(f"cannot {verb} {left.text} ({left.dimension}) and {right.text} ({right.dimension})")


#: How a computed amount is shown: the largest unit of its dimension that keeps it at least 1.
_DISPLAY: Final = {
    "size": (("TiB", 1024.0**4), ("GiB", 1024.0**3), ("MiB", 1024.0**2), ("KiB", 1024.0), ("B", 1.0)),
    "time": (("h", 3600.0), ("min", 60.0), ("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)),
}


def display(magnitude: float, dimension: str) -> str:
    """``magnitude`` (in the dimension's base unit) in a unit a reader takes in at a glance."""
    for symbol, scale in _DISPLAY.get(dimension, ()):
        if abs(magnitude) >= scale or scale == _DISPLAY[dimension][-1][1]:
            return format_quantity(magnitude / scale, symbol, digits=3)
    unit = {"cpu": "cores"}.get(dimension, "")
    return format_quantity(magnitude, unit, digits=4) if math.isfinite(magnitude) else str(magnitude)
