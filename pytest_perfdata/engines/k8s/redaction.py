"""Credentials never leave the family: masked in text, in objects, and in everything the family's logger writes."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["RedactingFilter", "forget_secrets", "log", "one_line", "redact", "redact_text", "remember_secrets"]

_SECRET_KEYS: Final = re.compile(
    r"^(token|id-token|refresh-token|access-token|client-key-data|client-key|password|passwd|secret|client-secret|"
    r"api[-_]?key|authorization|bearertoken)$",
    re.IGNORECASE,
)
_TEXT_RULES: Final = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL), "<redacted private key>"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 <redacted>"),
    (re.compile(r"(?i)([\"']?(?:token|id-token|refresh-token|access-token|client-key-data|client-key|password|passwd|secret|"
                r"client-secret|api[-_]?key|authorization|bearertoken)[\"']?\s*[:=]\s*)([\"']?)(?!<redacted|bearer\s|basic\s)"
                r"[^\s\"',;}]+"),
     r"\1\2<redacted>"),
    (re.compile(r"(?i)\b(token|password)\s+(?!<redacted)[A-Za-z0-9._~+/=-]{16,}"), r"\1 <redacted>"),
    (re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+):[^@/\s]+@"), r"\1:<redacted>@"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "<redacted jwt>"),
    (re.compile(r"\bK10[0-9a-f]{16,}::[\w.-]+:[\w.-]+"), "<redacted k3s token>"),
)


#: Every form of every secret value this process has loaded (:func:`remember_secrets`), longest first.
_KNOWN_SECRETS: list[str] = []
#: Shorter values are not masked by value: "abc" would blank out every word holding it.
_MIN_SECRET: Final = 4


def _forms(secret: str) -> set[str]:
    """The ways a secret shows up in text: as it is, escaped in a repr, base64'd, line by line."""
    forms = {secret, secret.strip(), repr(secret)[1:-1], repr(secret.encode("utf-8", "backslashreplace"))[2:-1]}
    forms |= {line.strip() for line in secret.splitlines()}
    raw = secret.encode("utf-8", "backslashreplace")
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms |= {encoded.decode(), encoded.decode().rstrip("=")}
    return {form for form in forms if len(form) >= _MIN_SECRET}


def remember_secrets(values: Iterable[str]) -> None:
    """Mask these values, in all their forms, in everything redacted from now on in this process.

    Patterns (``Bearer …``) cannot know where an odd token ends (``ODDTOKEN:abc!def``), nor
    spot a token a server or proxy echoes without its header name, nor one that the HTTP
    client quotes with its newline escaped; the value itself can be found in all of these.
    """
    known = set(_KNOWN_SECRETS)
    for value in values:
        if isinstance(value, str) and value:
            known |= _forms(value)
    _KNOWN_SECRETS[:] = sorted(known, key=len, reverse=True)


def forget_secrets() -> None:
    """Drop every remembered secret (for tests)."""
    _KNOWN_SECRETS.clear()


def redact_text(text: str) -> str:
    """``text`` with every remembered secret, bearer and basic credentials, key material,
    passwords (also in URLs), JWTs and K3s join tokens masked."""
    for secret in _KNOWN_SECRETS:
        if secret in text:
            text = text.replace(secret, "<redacted>")
    for pattern, replacement in _TEXT_RULES:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """A copy of ``value`` (text, or dicts and lists of them) with every credential masked.

    Values under credential-like keys (``token``, ``client-key-data``, ``password``, ...) are
    replaced whole; every other string goes through :func:`redact_text`.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: "<redacted>" if isinstance(k, str) and _SECRET_KEYS.match(k) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value


def one_line(text: str, limit: int = 300) -> str:
    """``text`` redacted, on one line, cut to ``limit`` characters: fit for a skip reason or an error."""
    text = " ".join(redact_text(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RedactingFilter(logging.Filter):
    """Masks credentials in every record of the logger it is attached to (the message is rendered first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        return True


#: The family's logger: whatever it is given, it writes no credential.
log: Final = logging.getLogger("pytest_perfdata.k3s")
log.addFilter(RedactingFilter())
