"""The run's namespace: made labelled and stamped, deleted pods first, and the stale ones of killed runs swept."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any, Final

from . import CREATED_AT_ANNOTATION, MANAGED_BY, RUN_LABEL
from .api import response_json
from .metrics.objects import Json, parse_time
from .redaction import log
from .retry import RetryPolicy, call_with_retry, describe_error

__all__ = [
    "STALE_AFTER",
    "create_run_namespace",
    "delete_run_namespace",
    "namespace_manifest",
    "run_namespace_name",
    "stale_namespaces",
    "sweep_stale_namespaces",
]

#: A namespace of ours older than this belongs to a run that was killed (no run lasts that long).
STALE_AFTER: Final = dt.timedelta(hours=1)


def run_namespace_name(run_id: str, worker: str | None = None) -> str:
    """``perfdata-<run id>``, one per xdist worker: a valid DNS label."""
    name = f"perfdata-{run_id}" + (f"-{worker}" if worker else "")
    return re.sub(r"[^a-z0-9-]", "-", name.lower())[:63].rstrip("-")


def namespace_manifest(name: str, run_id: str, now: dt.datetime) -> dict[str, Any]:
    """The run's namespace: labelled as ours (for the sweep) and stamped with when it was made."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {MANAGED_BY[0]: MANAGED_BY[1], RUN_LABEL: run_id},
            "annotations": {CREATED_AT_ANNOTATION: now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
        },
    }


def stale_namespaces(namespaces: Json, now: dt.datetime, max_age: dt.timedelta, annotation: str) -> list[str]:
    """Names of namespaces (of a ``NamespaceList`` already filtered by our label) older than ``max_age``.

    Age comes from our created-at annotation, else the creation timestamp; namespaces already
    being deleted are left alone.
    """
    stale = []
    for item in namespaces.get("items") or ():
        metadata = item.get("metadata") or {}
        if metadata.get("deletionTimestamp") or (item.get("status") or {}).get("phase") == "Terminating":
            continue
        stamp = (metadata.get("annotations") or {}).get(annotation) or metadata.get("creationTimestamp")
        if stamp is None:
            continue
        try:
            created = parse_time(str(stamp))
        except ValueError:
            continue
        if now - created > max_age:
            stale.append(str(metadata.get("name")))
    return sorted(stale)


def create_run_namespace(core: Any, name: str, run_id: str, now: dt.datetime, *, policy: RetryPolicy = RetryPolicy(),
                         sleep: Callable[[float], None] = time.sleep) -> None:
    call_with_retry(core.create_namespace, namespace_manifest(name, run_id, now), what=f"create namespace {name}",
                    policy=policy, sleep=sleep)


def sweep_stale_namespaces(core: Any, now: dt.datetime, *, max_age: dt.timedelta = STALE_AFTER,
                           policy: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Delete our namespaces older than ``max_age``: the leftovers of runs that were killed."""
    listing = response_json(call_with_retry(core.list_namespace, what="list namespaces", policy=policy, sleep=sleep,
                                            label_selector=f"{MANAGED_BY[0]}={MANAGED_BY[1]}", _preload_content=False))
    stale = stale_namespaces(listing, now, max_age, CREATED_AT_ANNOTATION)
    for name in stale:
        log.warning("deleting namespace %s left by an earlier run (older than %s)", name, max_age)
        delete_run_namespace(core, name, policy=policy, sleep=sleep)
    return stale


def delete_run_namespace(core: Any, name: str, *, policy: RetryPolicy = RetryPolicy(),
                         sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Delete the namespace's pods at once (no grace period), then the namespace itself.

    Pods first, so that a namespace stuck in Terminating never holds running pods, and a
    failure to delete the pods never keeps the namespace: each step runs whatever the other did.
    Returns the problems met (already redacted), for the caller to report.
    """
    from kubernetes.client.exceptions import ApiException

    problems = []
    steps: tuple[tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]], ...] = (
        (f"delete pods of {name}", core.delete_collection_namespaced_pod, (name,), {"grace_period_seconds": 0}),
        (f"delete namespace {name}", core.delete_namespace, (name,), {"propagation_policy": "Background"}),
    )
    for what, fn, args, kwargs in steps:
        try:
            call_with_retry(fn, *args, what=what, policy=policy, sleep=sleep, **kwargs)
        except ApiException as error:
            if error.status != 404:
                problems.append(f"{what}: {describe_error(error)}")
        except Exception as error:  # noqa: BLE001 - the next step must run whatever this one did
            problems.append(f"{what}: {describe_error(error)}")
    for problem in problems:
        log.warning("%s", problem)
    return problems
