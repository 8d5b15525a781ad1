"""OPA's error reports (its text form and its JSON form) as :class:`PolicyError` with ``file:line``.

Every OPA engine (the Go bindings, ``opa build``, ``opa run``, the HTTP API, ``opa bench``)
reports in one of these two forms; reading them in one place keeps the messages alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

from .errors import PolicyError

__all__ = ["opa_json_error", "opa_text_error"]

# 'x.rego:12: rego_parse_error: unexpected } token', as OPA prints errors in text form
_OPA_TEXT_ERROR: Final = re.compile(
    r"(?P<file>[^\s:][^:\n]*?):(?P<line>\d+): (?P<code>rego_\w+|eval_\w+): (?P<message>[^\n]*)"
)


def opa_text_error(
    text: str, fallback: str, *, cls: type[PolicyError] = PolicyError
) -> PolicyError:
    """A :class:`PolicyError` from OPA's text form (``x.rego:12: rego_parse_error: …``)."""
    matches = list(_OPA_TEXT_ERROR.finditer(text))
    if not matches:
        return cls(fallback)
    first = matches[0]
    more = f" (and {len(matches) - 1} more)" if len(matches) > 1 else ""
    file, line, code = first.group("file").strip(), int(first.group("line")), first.group("code")
    return cls(
        f"{file}:{line}: {code}: {first.group('message').strip()}{more}",
        file=file,
        line=line,
        code=code,
    )


def opa_json_error(
    body: bytes,
    fallback: str,
    *,
    cls: type[PolicyError] = PolicyError,
    text: str = "",
    files: Mapping[str, str] | None = None,
) -> PolicyError:
    """A :class:`PolicyError` from OPA's JSON errors (HTTP API, ``--format json``).

    ``files`` maps the names OPA knows modules by (policy ids) back to their files.
    """
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    errors = document.get("errors") if isinstance(document, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        location = first.get("location") or {}
        file, line = location.get("file"), location.get("row")
        if isinstance(file, str) and files:
            file = files.get(file, file)
        code = first.get("code") or "error"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        where = f"{file}:{line}: " if file and line else ""
        return cls(
            f"{where}{code}: {first.get('message', '')}{more}",
            file=file or None,
            line=int(line) if line else None,
            code=code,
        )
    if isinstance(document, dict) and document.get("message"):
        return opa_text_error(
            str(document["message"]), f"{fallback}: {document['message']}", cls=cls
        )
    return opa_text_error(text or body.decode(errors="replace"), fallback, cls=cls)
