"""The rego-cpp engine: Rego compiled and evaluated in this process by ``regopy``.

The embedded default. It is more lenient than OPA (an unsafe variable or a type error gives
*undefined*, an unknown function is reported only when evaluation reaches it), so a policy
library should also be checked by an OPA engine.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any, Final

from ...record import Engine
from .._text import first_line
from .closing import Loaded
from .errors import PolicyError, PolicyEvalError, PolicyUnavailable, PolicyUndefined
from .order import opa_order_key
from .policy import Policy

__all__ = ["REGOPY_HINT", "RegoCppEngine", "RegoCppPolicy"]

REGOPY_HINT: Final = "pip install regopy"


class RegoCppEngine:
    """rego-cpp in this process: modules parsed by ``add_module``, a bundle built for the entrypoint.

    Uses ``regopy.rego_shared`` (the thin C-API layer under regopy's classes) for queries,
    because ``regopy.Output`` parses its text eagerly and raises ``JSONDecodeError`` on the
    error outputs that rego-cpp reports as "ok" (an unknown function, for one).
    """

    def __init__(self) -> None:
        try:
            import regopy  # type: ignore[import-untyped]
            from regopy import rego_shared
        except ImportError as exc:
            raise PolicyUnavailable(f"regopy not importable ({exc}): {REGOPY_HINT}") from None
        self._regopy = regopy
        self._rs = rego_shared
        self.engine = Engine("rego-cpp", str(regopy.__version__), "regopy")

    def load(self, policy: Policy) -> RegoCppPolicy:
        sources = policy.checked_sources()
        regopy = self._regopy
        started = time.perf_counter()
        interpreter = regopy.Interpreter()
        interpreter.log_level = regopy.LogLevel.NONE  # errors come back as exceptions, not prints
        for name, text in sources:
            try:
                interpreter.add_module(name, text)
            except regopy.RegoError as exc:
                raise _rego_cpp_error(str(exc), dict(sources), default_file=name) from None
        try:
            bundle = interpreter.build(None, [policy.entrypoint])
        except regopy.RegoError as exc:
            raise _rego_cpp_error(str(exc), dict(sources)) from None
        if not bundle.ok():
            raise PolicyError(
                f"{policy.name}: rego-cpp could not build a bundle for {policy.query}"
            )
        elapsed = time.perf_counter() - started
        return RegoCppPolicy(self, interpreter, bundle, policy, dict(sources), elapsed)


class RegoCppPolicy(Loaded):
    """A rego-cpp interpreter with its bundle; ``evaluate`` sets the input and runs the plan."""

    def __init__(
        self,
        owner: RegoCppEngine,
        interpreter: Any,
        bundle: Any,
        policy: Policy,
        sources: dict[str, str],
        compile_seconds: float,
    ) -> None:
        super().__init__(owner.engine, policy, compile_seconds)
        self._rs = owner._rs
        self._input_type = owner._regopy.Input
        self._interpreter: Any = interpreter
        self._bundle: Any = bundle
        self._sources = sources

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._interpreter is None:
            raise self._after_close()
        rs = self._rs
        self._interpreter.set_input(
            self._input_type(input if isinstance(input, dict) else dict(input))
        )
        output = rs.rego_bundle_query_entrypoint(
            self._interpreter._impl, self._bundle._impl, self.policy.entrypoint
        )
        try:
            root = rs.rego_output_node(output)
            kind = rs.rego_node_type(root)
            if not rs.rego_output_ok(output) or kind in (
                rs.NodeKind.Error,
                rs.NodeKind.ErrorSeq,
            ):
                raise _rego_cpp_eval_error(rs, root, self.policy, self._sources)
            if kind == rs.NodeKind.Undefined:
                raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
            text = rs.rego_output_string(output)
            if text == "undefined":
                raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
            value = json.loads(text)["expressions"][0]
            terms = _rego_cpp_first_terms(rs, root)
            return value if terms is None else _with_sorted_sets(rs, terms, value)
        finally:
            rs.rego_free_output(output)

    def close(self) -> None:
        self._bundle = None
        self._interpreter = None


def _rego_cpp_first_terms(rs: Any, root: Any) -> Any:
    """The node of the first expression's value: Results → Result → Terms → value."""
    node = root
    for expected in (rs.NodeKind.Results, rs.NodeKind.Result, rs.NodeKind.Terms):
        if rs.rego_node_type(node) != expected or rs.rego_node_size(node) == 0:
            return None
        node = rs.rego_node_get(node, 0)
    return node


def _with_sorted_sets(rs: Any, node: Any, value: Any) -> Any:
    """``value`` (decoded from rego-cpp's JSON) with every Rego set sorted in OPA's order.

    rego-cpp prints a set of objects in the order of their text (``{"k":10}`` before
    ``{"k":2}``), OPA in value order; only the node tree says which JSON arrays were sets, so
    it is walked alongside the decoded value (scalars need no call into the library).
    """
    if not isinstance(value, (list, dict)):
        return value
    kind = rs.rego_node_type(node)
    while kind in (rs.NodeKind.Term, rs.NodeKind.Scalar):
        node = rs.rego_node_get(node, 0)
        kind = rs.rego_node_type(node)
    size = rs.rego_node_size(node)
    if isinstance(value, list) and kind in (rs.NodeKind.Array, rs.NodeKind.Set):
        if size != len(value):
            return value
        items = [_with_sorted_sets(rs, rs.rego_node_get(node, i), v) for i, v in enumerate(value)]
        return sorted(items, key=opa_order_key) if kind == rs.NodeKind.Set else items
    if isinstance(value, dict) and kind == rs.NodeKind.Object:
        if size != len(value):  # keys that JSON merged ({1: …, "1": …}): leave as printed
            return value
        if not any(isinstance(item, (list, dict)) for item in value.values()):
            return value
        children = {}  # the tree keeps its own key order, not the printed one: match by key
        for i in range(size):
            pair = rs.rego_node_get(node, i)
            key_node = rs.rego_node_get(pair, 0)
            while rs.rego_node_type(key_node) in (rs.NodeKind.Term, rs.NodeKind.Scalar):
                key_node = rs.rego_node_get(key_node, 0)
            raw = rs.rego_node_value(key_node)
            if rs.rego_node_type(key_node) == rs.NodeKind.String:
                raw = json.loads(f'"{raw}"')  # the node holds the escaped text
            children[raw] = rs.rego_node_get(pair, 1)
        out = {}
        for key, item in value.items():
            if isinstance(item, (list, dict)) and key in children:
                item = _with_sorted_sets(rs, children[key], item)
            out[key] = item
        return out
    return value


def _rego_cpp_error(
    text: str, sources: Mapping[str, str], default_file: str | None = None
) -> PolicyError:
    """A :class:`PolicyError` from the error tree regopy puts in ``RegoError``'s message.

    rego-cpp writes errors as ``(error 8:bad.rego|34|2 (errormsg 24:Invalid …) … (rego-errorcode
    …))``: length-prefixed strings and a byte offset into the named source, turned here into
    ``bad.rego:4: …``.
    """
    errors = _parse_rego_cpp_errors(text)
    if not errors:
        where = f"{default_file}: " if default_file else ""
        return PolicyError(f"{where}rego-cpp: {first_line(text) or 'error'}", file=default_file)
    file, offset, message, code = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    code = code or ("rego_parse_error" if default_file else "rego_compile_error")
    if file is not None and file in sources and offset is not None:
        line = sources[file].encode("utf-8")[:offset].count(b"\n") + 1
        return PolicyError(
            f"{file}:{line}: {code}: {message}{more}", file=file, line=line, code=code
        )
    file = file or default_file
    where = f"{file}: " if file else ""
    return PolicyError(f"{where}{code}: {message}{more}", file=file, code=code)


def _parse_rego_cpp_errors(text: str) -> list[tuple[str | None, int | None, str, str]]:
    """``(file, byte offset, message, code)`` of each ``(error …)`` in rego-cpp's error text."""
    out: list[tuple[str | None, int | None, str, str]] = []
    for match in re.finditer(r"\(error\b", text):
        pos = match.end()
        file: str | None = None
        offset: int | None = None
        head = re.match(r"\s+(\d+):", text[pos:])
        if head is not None:
            start = pos + head.end()
            name = text[start : start + int(head.group(1))]
            rest = re.match(r"\|(\d+)\|(\d+)", text[start + len(name) :])
            if rest is not None:
                file, offset = name, int(rest.group(1))
        message = _length_prefixed(text, pos, "errormsg") or "error"
        code = _length_prefixed(text, pos, "rego-errorcode") or ""
        out.append((file, offset, message, code))
    return out


def _length_prefixed(text: str, start: int, tag: str) -> str | None:
    found = re.compile(r"\(" + re.escape(tag) + r"\s+(\d+):").search(text, start)
    if found is None:
        return None
    begin = found.end()
    return text[begin : begin + int(found.group(1))]


def _rego_cpp_eval_error(
    rs: Any, root: Any, policy: Policy, sources: Mapping[str, str]
) -> PolicyEvalError:
    """The first message and code of an error output (an ``Error`` or ``ErrorSeq`` node)."""
    node = root
    if rs.rego_node_type(node) == rs.NodeKind.ErrorSeq and rs.rego_node_size(node) > 0:
        node = rs.rego_node_get(node, 0)
    message, code = "error", ""
    for i in range(rs.rego_node_size(node)):
        child = rs.rego_node_get(node, i)
        kind = rs.rego_node_type(child)
        if kind == rs.NodeKind.ErrorMessage:
            message = rs.rego_node_value(child)
        elif kind == rs.NodeKind.ErrorCode:
            code = rs.rego_node_value(child)
    files = ", ".join(sources)
    return PolicyEvalError(
        f"{policy.query}: rego-cpp: {code + ': ' if code else ''}{message} (in {files})", code=code
    )
