"""Bounded API calls: which client failures are transient, how long to wait, and one redacted line per failure."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar, final

from . import K3sApiError
from .redaction import log, one_line

__all__ = ["RETRY_STATUSES", "RetryPolicy", "call_with_retry", "describe_error", "is_retryable"]

T = TypeVar("T")

RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def describe_error(error: BaseException) -> str:
    """One redacted line a user can act on, for any error the client raises."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import MaxRetryError, SSLError

    if isinstance(error, MaxRetryError) and error.reason is not None:
        return describe_error(error.reason)
    if isinstance(error, ApiException):
        return one_line(f"HTTP {error.status} {error.reason or ''}".strip() + _server_message(error.body))
    if isinstance(error, SSLError):
        return one_line(f"TLS error: {error}")
    if isinstance(error, ConfigException):
        return one_line(f"invalid kubeconfig: {error}")
    text = str(error)
    connect = re.search(r"Failed to establish a new connection: (.*)", text)
    if connect:
        return one_line(f"cannot connect: {connect.group(1)}")
    return one_line(f"{type(error).__name__}: {text}" if text else type(error).__name__)


def _server_message(body: object) -> str:
    """``": <message>"`` of an error's body: a Status object's message, or the text a filter sent
    in place of one (API priority and fairness answers 429 in plain text); empty when there is none."""
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    if not isinstance(body, str) or not body.strip():
        return ""
    try:
        status = json.loads(body)
    except (ValueError, RecursionError):
        return f": {body.strip().splitlines()[0][:200]}"
    message = status.get("message", "") if isinstance(status, dict) else ""
    return f": {message}" if message else ""


def is_retryable(error: BaseException) -> bool:
    """A failure worth another try: 429, 5xx, a reset, refused or timed-out connection."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import (
        MaxRetryError,
        NewConnectionError,
        ProtocolError,
        SSLError,
        TimeoutError,
    )

    if isinstance(error, ApiException):
        return error.status in RETRY_STATUSES
    if isinstance(error, MaxRetryError):
        return error.reason is None or is_retryable(error.reason)
    if isinstance(error, SSLError):
        return False
    return isinstance(error, (ProtocolError, NewConnectionError, TimeoutError, ConnectionError))


def _retry_after(error: BaseException) -> float | None:
    headers = getattr(error, "headers", None) or {}
    try:
        value = headers.get("Retry-After")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


@final
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds of one API call: its timeout, and how often and how long it may be retried."""

    attempts: int = 6
    base_s: float = 0.25
    cap_s: float = 8.0
    deadline_s: float = 60.0
    request_timeout_s: float = 30.0

    def delay(self, attempt: int, jitter: float) -> float:
        """Backoff before try ``attempt + 1``: doubling from ``base_s``, capped, the upper half jittered."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * jitter


def call_with_retry(
    fn: Callable[..., T],
    /,
    *args: Any,
    what: str,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    jitter: Callable[[], float] = random.random,
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)`` with a request timeout, retried while the failure is transient.

    Retries stop after ``policy.attempts`` tries or when the next wait would pass
    ``policy.deadline_s``; then :class:`K3sApiError` names the call, the tries and the cause.
    A ``Retry-After`` header (429) is honoured within the same bounds. Other failures (a 404,
    a 409, bad TLS) are raised unchanged at once: the caller knows what they mean.
    """
    kwargs.setdefault("_request_timeout", policy.request_timeout_s)
    start = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            if not is_retryable(error):
                raise
            elapsed = clock() - start
            wait = max(policy.delay(attempt, jitter()), min(_retry_after(error) or 0.0, policy.cap_s))
            if attempt >= policy.attempts or elapsed + wait > policy.deadline_s:
                raise K3sApiError(
                    f"{what}: gave up after {attempt} attempt(s) in {elapsed:.1f} s (limits: {policy.attempts} "
                    f"attempts, {policy.deadline_s:g} s): {describe_error(error)}"
                ) from error
            log.info("%s: %s; retry %d in %.2f s", what, describe_error(error), attempt, wait)
            sleep(wait)
