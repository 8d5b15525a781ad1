"""Watching pods while they are created: every event with its arrival time, for ClusterLoader2's view."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from . import K3sApiError
from .api import response_json
from .metrics.readiness import is_ready, is_stuck
from .metrics.startup import WatchEvent
from .retry import RetryPolicy, call_with_retry, describe_error, is_retryable

__all__ = ["watch_while_creating"]


def _resource_version(core: Any, namespace: str, selector: str, policy: RetryPolicy) -> str:
    """Where a watch starts: the resourceVersion of a fresh listing."""
    listing = response_json(call_with_retry(core.list_namespaced_pod, namespace, what="list pods", policy=policy,
                                            label_selector=selector, _preload_content=False))
    return str(listing["metadata"].get("resourceVersion", ""))


def _reopen_wait(error: BaseException, attempt: int, policy: RetryPolicy) -> int:
    """Wait before reopening a broken watch, or raise when the error is final or retries are spent."""
    if not is_retryable(error):
        raise K3sApiError(f"watch pods: {describe_error(error)}") from error
    attempt += 1
    if attempt >= policy.attempts:
        raise K3sApiError(f"watch pods: gave up after {attempt} attempts: {describe_error(error)}") from error
    time.sleep(policy.delay(attempt, random.random()))
    return attempt


def watch_while_creating(
    core: Any,
    namespace: str,
    selector: str,
    count: int,
    create: Callable[[], dict[str, float]],
    *,
    timeout_s: float,
    policy: RetryPolicy,
) -> tuple[list[WatchEvent], dict[str, float]]:
    """Run ``create`` (which makes ``count`` pods and says when each was sent) while watching ``selector``.

    Returns every event with its arrival time, and the send times. Creating happens in a second
    thread, which waits until the watch's response has started: events of pods created before
    that would arrive late (replayed from the resourceVersion) and inflate the ClusterLoader2
    view. The watch ends when every pod is Ready or stuck, at ``timeout_s``, or when creating
    fails (it then raises that error); a broken stream is resumed from the last resourceVersion
    within the retry bounds.
    """
    from kubernetes import watch
    from kubernetes.client.exceptions import ApiException

    class RawWatch(watch.Watch):
        """Hands out the API server's JSON as sent: no model classes between the wire and the figures."""

        def get_return_type(self, func: Any) -> None:
            return None

    resource_version = _resource_version(core, namespace, selector, policy)
    sent: dict[str, float] = {}
    failure: list[BaseException] = []
    opened = threading.Event()
    current: list[Any] = []

    def open_watch(*args: Any, **kwargs: Any) -> Any:
        response = core.list_namespaced_pod(*args, **kwargs)  # returns once the headers are in
        opened.set()
        return response

    def run_create() -> None:
        opened.wait(policy.request_timeout_s)
        try:
            sent.update(create())
        except BaseException as error:  # noqa: BLE001 - re-raised by the watching thread
            failure.append(error)
            if current:
                current[-1].stop()  # unblocks the stream at once

    creator = threading.Thread(target=run_create, name="k3s-create-pods", daemon=True)
    events: list[WatchEvent] = []
    latest: dict[str, Mapping[str, Any]] = {}
    deadline = time.monotonic() + timeout_s
    attempt = 0
    creator.start()
    try:
        while time.monotonic() < deadline and not failure:
            remaining = max(1.0, deadline - time.monotonic())
            watcher = RawWatch()  # type: ignore[no-untyped-call]
            current.append(watcher)
            try:
                stream = watcher.stream(  # type: ignore[no-untyped-call]
                    open_watch, namespace, label_selector=selector, resource_version=resource_version or None,
                    timeout_seconds=int(remaining) + 1, allow_watch_bookmarks=True,
                    _request_timeout=(policy.request_timeout_s, remaining + 5.0))
                for raw in stream:
                    received = time.time()
                    attempt = 0
                    obj = raw.get("raw_object") or {}
                    resource_version = str((obj.get("metadata") or {}).get("resourceVersion", resource_version))
                    if raw.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                        events.append(WatchEvent(str(raw["type"]), obj, received))
                        latest[str(obj["metadata"]["name"])] = obj
                    settled = len(latest) >= count and all(is_ready(p) or is_stuck(p) for p in latest.values())
                    if settled or time.monotonic() >= deadline or failure:
                        watcher.stop()  # type: ignore[no-untyped-call]
                        return events, sent
            except ApiException as error:
                if error.status == 410:  # resourceVersion too old: start again from a fresh list
                    resource_version = _resource_version(core, namespace, selector, policy)
                    continue
                attempt = _reopen_wait(error, attempt, policy)
            except Exception as error:  # noqa: BLE001 - _reopen_wait re-raises what is not transient
                if failure:
                    break
                attempt = _reopen_wait(error, attempt, policy)
        return events, sent
    finally:
        opened.set()
        creator.join(timeout=policy.deadline_s)
        if failure:
            raise failure[0]
