"""A real K3s (or any Kubernetes) cluster: connection, facts, a run namespace, bounded retries."""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import os
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any, Final, TypeVar, final

from ...record import Engine
from .metrics import (
    ClusterFacts,
    NodeFacts,
    WatchEvent,
    cluster_facts,
    is_ready,
    is_stuck,
    select_nodes,
    stale_namespaces,
)

__all__ = [
    "CREATED_AT_ANNOTATION",
    "DEFAULT_IMAGE",
    "DEFAULT_WASM_IMAGE",
    "K3S_KUBECONFIG",
    "MANAGED_BY",
    "RUN_LABEL",
    "Connection",
    "K3sApiError",
    "K3sCluster",
    "K3sSettings",
    "K3sUnavailable",
    "KubeconfigSource",
    "RedactingFilter",
    "RetryPolicy",
    "RuntimeChoice",
    "call_with_retry",
    "connect",
    "create_run_namespace",
    "delete_run_namespace",
    "describe_error",
    "find_kubeconfig",
    "is_retryable",
    "namespace_manifest",
    "open_cluster",
    "pod_manifest",
    "redact",
    "redact_text",
    "resolve_runtime",
    "run_namespace_name",
    "sweep_stale_namespaces",
]

T = TypeVar("T")

K3S_KUBECONFIG: Final = Path("/etc/rancher/k3s/k3s.yaml")
DEFAULT_IMAGE: Final = "registry.k8s.io/pause:3.9"
#: runwasi's demo module: with no arguments it prints a line a second for ever (a long-running pod).
DEFAULT_WASM_IMAGE: Final = "ghcr.io/containerd/runwasi/wasi-demo-app:latest"
#: RuntimeClass handlers that run Wasm modules rather than Linux images (K3s creates these classes).
WASM_HANDLERS: Final = frozenset({"wasmedge", "wasmtime", "wasmer", "spin", "slight", "wws", "lunatic"})
MANAGED_BY: Final = ("app.kubernetes.io/managed-by", "pytest-perfdata")
RUN_LABEL: Final = "perfdata/run"
BATCH_LABEL: Final = "perfdata/batch"
CREATED_AT_ANNOTATION: Final = "perfdata/created-at"
STALE_AFTER: Final = dt.timedelta(hours=1)
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})

log = logging.getLogger("pytest_perfdata.k3s")


class K3sUnavailable(Exception):
    """No usable cluster (or no RuntimeClass asked for): one line saying what was tried and why."""


class K3sApiError(RuntimeError):
    """An API call failed for good (after bounded retries, or a refusal); the message says which and why."""


# -- redaction --------------------------------------------------------------------------------

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


def redact_text(text: str) -> str:
    """``text`` with bearer tokens, key material, passwords (also in URLs), JWTs and K3s join tokens masked."""
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


class RedactingFilter(logging.Filter):
    """Masks credentials in every record of the logger it is attached to (the message is rendered first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        return True


log.addFilter(RedactingFilter())


# -- errors and retries -----------------------------------------------------------------------


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(redact_text(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_error(error: BaseException) -> str:
    """One redacted line a user can act on, for any error the client raises."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import MaxRetryError, SSLError

    if isinstance(error, MaxRetryError) and error.reason is not None:
        return describe_error(error.reason)
    if isinstance(error, ApiException):
        message = ""
        try:
            message = str(json.loads(error.body or "{}").get("message", ""))
        except (ValueError, AttributeError):
            message = ""
        return _one_line(f"HTTP {error.status} {error.reason or ''}".strip() + (f": {message}" if message else ""))
    if isinstance(error, SSLError):
        return _one_line(f"TLS error: {error}")
    if isinstance(error, ConfigException):
        return _one_line(f"invalid kubeconfig: {error}")
    text = str(error)
    connect = re.search(r"Failed to establish a new connection: (.*)", text)
    if connect:
        return _one_line(f"cannot connect: {connect.group(1)}")
    return _one_line(f"{type(error).__name__}: {text}" if text else type(error).__name__)


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


# -- options ----------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class K3sSettings:
    """The ``--perf-kubeconfig`` / ``--perf-k3s-*`` options, resolved."""

    kubeconfig: str | None = None
    context: str | None = None
    keep: bool = False
    image: str = DEFAULT_IMAGE
    wasm_image: str = DEFAULT_WASM_IMAGE
    nodes: str = "auto"
    runtime_classes: tuple[str, ...] = ("runc", "wasmedge")
    pods: int = 30
    density_target: int = 300
    memory_pods: int = 10
    timeout_s: float = 180.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_options(cls, getoption: Callable[[str], Any]) -> K3sSettings:
        classes = tuple(c.strip() for c in str(getoption("perf_k3s_runtime_classes")).split(",") if c.strip())
        return cls(
            kubeconfig=getoption("perf_kubeconfig"),
            context=getoption("perf_k3s_context"),
            keep=bool(getoption("perf_k3s_keep")),
            image=getoption("perf_k3s_image"),
            wasm_image=getoption("perf_k3s_wasm_image"),
            nodes=getoption("perf_k3s_nodes"),
            runtime_classes=classes,
            pods=getoption("perf_k3s_pods"),
            density_target=getoption("perf_k3s_density_target"),
            memory_pods=getoption("perf_k3s_memory_pods"),
            timeout_s=getoption("perf_k3s_timeout"),
        )


# -- connection -------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class KubeconfigSource:
    """The kubeconfig a run uses, and the places looked at before it (for the skip line)."""

    origin: str
    path: str
    tried: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.path} (from {self.origin})"


def find_kubeconfig(
    option: str | None,
    environ: Mapping[str, str],
    home: Path,
    k3s_path: Path = K3S_KUBECONFIG,
) -> KubeconfigSource:
    """The first kubeconfig that exists: ``--perf-kubeconfig``, ``KUBECONFIG``, ``~/.kube/config``, K3s's own.

    A file named with ``--perf-kubeconfig`` must exist (a typo must not silently measure
    another cluster). ``KUBECONFIG`` may list several files, which the client merges.
    Raises :class:`K3sUnavailable` naming every place tried.
    """
    if option:
        if Path(option).expanduser().is_file():
            return KubeconfigSource("--perf-kubeconfig", str(Path(option).expanduser()))
        raise K3sUnavailable(f"--perf-kubeconfig {option}: no such file")
    tried = ["--perf-kubeconfig: not given"]
    env = environ.get("KUBECONFIG", "")
    if env:
        present = [p for p in env.split(os.pathsep) if p and Path(p).expanduser().is_file()]
        if present:
            return KubeconfigSource("KUBECONFIG", os.pathsep.join(present), tuple(tried))
        tried.append(f"KUBECONFIG={env}: no such file")
    else:
        tried.append("KUBECONFIG: not set")
    for origin, path in (("~/.kube/config", home / ".kube" / "config"), ("K3s default", k3s_path)):
        if path.is_file():
            if os.access(path, os.R_OK):
                return KubeconfigSource(origin, str(path), tuple(tried))
            tried.append(f"{path}: not readable (K3s writes it mode 600: copy it, or start K3s with "
                         f"--write-kubeconfig-mode 644)")
        else:
            tried.append(f"{path}: no such file")
    raise K3sUnavailable(f"no kubeconfig found (tried {'; '.join(tried)}); see docs/k3s.md")


@final
@dataclass(frozen=True, slots=True)
class Connection:
    """An API client for one cluster, with where its configuration came from (no credentials)."""

    api_client: Any
    source: KubeconfigSource
    context: str
    server: str
    version: Mapping[str, Any]


def _json(response: Any) -> Any:
    """The body of a raw (``_preload_content=False``) response as plain JSON."""
    data = response.data if hasattr(response, "data") else response
    return json.loads(data or b"null")


def connect(
    settings: K3sSettings,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    k3s_path: Path = K3S_KUBECONFIG,
    policy: RetryPolicy = RetryPolicy(attempts=2, base_s=0.2, deadline_s=5.0, request_timeout_s=5.0),
    sleep: Callable[[float], None] = time.sleep,
) -> Connection:
    """Load the kubeconfig and ask the server for ``/version``; :class:`K3sUnavailable` if either fails.

    The client's own urllib3 retries are switched off so that :func:`call_with_retry` alone
    decides, with its bounds, and a dead address fails in milliseconds instead of minutes.
    """
    from kubernetes import client, config

    source = find_kubeconfig(settings.kubeconfig, os.environ if environ is None else environ,
                             Path.home() if home is None else home, k3s_path)
    configuration = client.Configuration()
    try:
        config.load_kube_config(config_file=source.path, context=settings.context,  # type: ignore[no-untyped-call]
                                client_configuration=configuration, persist_config=False)
        _, active = config.list_kube_config_contexts(config_file=source.path)  # type: ignore[no-untyped-call]
    except Exception as error:  # noqa: BLE001 - the loader raises ConfigException, OSError, YAML and type errors
        raise K3sUnavailable(f"cannot use kubeconfig {source}: {describe_error(error)}") from None
    context = settings.context or str((active or {}).get("name", "?"))
    configuration.retries = 0
    server = redact_text(str(configuration.host))
    api_client = client.ApiClient(configuration)
    try:
        version = _json(call_with_retry(client.VersionApi(api_client).get_code, what="GET /version", policy=policy,
                                        sleep=sleep, _preload_content=False))
    except Exception as error:  # noqa: BLE001 - any failure of the probe is the skip reason
        api_client.close()  # type: ignore[no-untyped-call]
        cause = error.__cause__ if isinstance(error, K3sApiError) and error.__cause__ else error
        earlier = f"; tried first: {'; '.join(source.tried)}" if source.tried else ""
        raise K3sUnavailable(f"no reachable cluster at {server} (context {context}, kubeconfig {source}): "
                             f"{describe_error(cause)}{earlier}") from None
    return Connection(api_client, source, context, server, version)


# -- namespaces -------------------------------------------------------------------------------


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


def create_run_namespace(core: Any, name: str, run_id: str, now: dt.datetime, *, policy: RetryPolicy = RetryPolicy(),
                         sleep: Callable[[float], None] = time.sleep) -> None:
    call_with_retry(core.create_namespace, namespace_manifest(name, run_id, now), what=f"create namespace {name}",
                    policy=policy, sleep=sleep)


def sweep_stale_namespaces(core: Any, now: dt.datetime, *, max_age: dt.timedelta = STALE_AFTER,
                           policy: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Delete our namespaces older than ``max_age``: the leftovers of runs that were killed."""
    listing = _json(call_with_retry(core.list_namespace, what="list namespaces", policy=policy, sleep=sleep,
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


class _Teardown:
    """Runs the cleanup once, whichever comes first: the fixture's finalizer, exit, or SIGTERM/SIGHUP.

    On SIGTERM or SIGHUP it raises ``KeyboardInterrupt`` in the main thread, so pytest unwinds
    as after Ctrl-C and tears the fixture down; ``atexit`` is the backstop. Only signals whose
    handler is still the default are taken over, and they are handed back afterwards.
    """

    SIGNALS: Final = ("SIGTERM", "SIGHUP")

    def __init__(self, cleanup: Callable[[], None]) -> None:
        self._cleanup = cleanup
        self._lock = threading.Lock()
        self._done = False
        self._previous: dict[int, Any] = {}

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self.uninstall()
        self._cleanup()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}: cleaning up the K3s namespace")

    def install(self) -> None:
        atexit.register(self)
        if threading.current_thread() is not threading.main_thread():
            return
        for name in self.SIGNALS:
            number = getattr(signal, name, None)
            if number is not None and signal.getsignal(number) is signal.SIG_DFL:
                self._previous[number] = signal.signal(number, self._on_signal)

    def uninstall(self) -> None:
        atexit.unregister(self)
        if threading.current_thread() is threading.main_thread():
            for number, previous in self._previous.items():
                if signal.getsignal(number) == self._on_signal:
                    signal.signal(number, previous)
        self._previous.clear()


# -- pods -------------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """How pods of one measured runtime are made: its label in metric names, RuntimeClass and image."""

    label: str
    runtime_class: str | None
    handler: str
    image: str
    note: str


def resolve_runtime(facts: ClusterFacts, name: str, settings: K3sSettings) -> RuntimeChoice:
    """The pods for runtime ``name``; :class:`K3sUnavailable` when the cluster has no such RuntimeClass.

    ``runc`` is the cluster's default runtime when there is no RuntimeClass of that name (K3s
    runs containerd with runc by default and creates classes only for the others). Wasm handlers
    get the Wasm image, everything else the Linux one.
    """
    runtime_class = facts.runtime_class(name)
    if runtime_class is None and name != "runc":
        present = ", ".join(rc.name for rc in facts.runtime_classes) or "none"
        raise K3sUnavailable(f"RuntimeClass {name} is not in this cluster (present: {present}); "
                             f"K3s creates it when it finds containerd-shim-{name}-v1 on the node")
    handler = runtime_class.handler if runtime_class else "runc"
    image = settings.wasm_image if handler in WASM_HANDLERS else settings.image
    if runtime_class is None:
        note = "runtime: the cluster's default (no RuntimeClass; containerd's runc on K3s)"
    else:
        note = f"runtime: RuntimeClass {runtime_class.name} (handler {handler})"
    return RuntimeChoice(name, runtime_class.name if runtime_class else None, handler, image, f"{note}, image {image}")


def pod_manifest(name: str, runtime: RuntimeChoice, node: NodeFacts, labels: Mapping[str, str]) -> dict[str, Any]:
    """A pod that only runs: no requests (so max-pods, not CPU, bounds density), no token, no grace period."""
    spec: dict[str, Any] = {
        "containers": [{"name": "workload", "image": runtime.image, "imagePullPolicy": "IfNotPresent"}],
        "nodeSelector": {"kubernetes.io/hostname": node.hostname},
        "terminationGracePeriodSeconds": 0,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    }
    if runtime.runtime_class:
        spec["runtimeClassName"] = runtime.runtime_class
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": dict(labels)}, "spec": spec}


# -- the fixture's object ---------------------------------------------------------------------


class K3sCluster:
    """The ``k3s_cluster`` fixture: a connected cluster, its facts, and a namespace of this run.

    Every method goes through :func:`call_with_retry` (a timeout on each call; resets, 429 and
    5xx retried with backoff, bounded) and returns plain JSON, the same objects the tests feed
    to :mod:`.k8s_metrics` from ``tests/data/k8s/``: the computations never know which it was.
    The namespace is deleted at teardown, at exit and on SIGTERM/SIGHUP (``_Teardown``);
    leftovers of killed runs are swept when the next run starts. Nothing it logs, raises or
    puts in notes carries a credential (:func:`redact`).
    """

    def __init__(self, connection: Connection, facts: ClusterFacts, settings: K3sSettings, namespace: str,
                 nodes: Sequence[NodeFacts], target: str) -> None:
        from kubernetes import client

        self.connection = connection
        self.facts = facts
        self.settings = settings
        self.namespace = namespace
        self.nodes = tuple(nodes)
        self.target = target
        self.core = client.CoreV1Api(connection.api_client)
        self._teardown = _Teardown(self._cleanup)
        self._batches = 0

    # -- records

    def engine(self, node: NodeFacts) -> Engine:
        """What a record names as its engine: K3s's version, and the node with its architecture."""
        return Engine("k3s", self.facts.server_version, f"{node.name}/{node.architecture}")

    def metric(self, base: str, node: NodeFacts) -> str:
        """``base``, with the node's name appended when several nodes are measured in one run."""
        return f"{base}.{node.name}" if len(self.nodes) > 1 else base

    def notes(self, node: NodeFacts, runtime: RuntimeChoice | None = None) -> tuple[str, ...]:
        notes = [self.facts.describe(), node.describe()]
        if runtime is not None:
            notes.append(runtime.note)
        if node.target != self.target:
            notes.append(f"node architecture {node.architecture} judged against target {self.target}'s baselines "
                         f"(one target per run: use --perf-k3s-nodes={node.name} --perf-target={node.target})")
        return tuple(redact(notes))

    def runtimes(self, node: NodeFacts) -> dict[str, str]:
        """Versions for the records' environment: K3s and the node's container runtime."""
        runtime, _, version = node.container_runtime.partition("://")
        return {"k3s": self.facts.server_version, runtime or "container-runtime": version or node.container_runtime}

    # -- API

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return call_with_retry(fn, *args, what=what, policy=self.settings.policy, **kwargs)

    def read(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A GET whose answer is the raw JSON the API server sent."""
        return _json(self.call(what, fn, *args, _preload_content=False, **kwargs))

    def new_batch(self, prefix: str) -> tuple[str, str]:
        """A label selector and a name prefix for a fresh set of pods."""
        self._batches += 1
        batch = f"{prefix}-{self._batches}"
        return f"{BATCH_LABEL}={batch}", batch

    def create_pods(self, names: Iterable[str], runtime: RuntimeChoice, node: NodeFacts, batch: str) -> dict[str, float]:
        """Create pods; returns when each create request was sent, on the client's wall clock."""
        from kubernetes.client.exceptions import ApiException

        sent = {}
        labels = {MANAGED_BY[0]: MANAGED_BY[1], BATCH_LABEL: batch}
        for name in names:
            sent[name] = time.time()
            try:
                self.call(f"create pod {name}", self.core.create_namespaced_pod, self.namespace,
                          pod_manifest(name, runtime, node, labels))
            except ApiException as error:
                if error.status != 409:  # a retried create that had in fact succeeded
                    raise K3sApiError(f"create pod {name}: {describe_error(error)}") from error
        return sent

    def list_pods(self, selector: str) -> list[dict[str, Any]]:
        return list(self.read("list pods", self.core.list_namespaced_pod, self.namespace,
                              label_selector=selector)["items"])

    def node_pods(self, node: NodeFacts) -> list[dict[str, Any]]:
        """Every pod bound to ``node``, in any namespace (they all count against max-pods)."""
        return list(self.read(f"list pods on {node.name}", self.core.list_pod_for_all_namespaces,
                              field_selector=f"spec.nodeName={node.name}")["items"])

    def events(self) -> list[dict[str, Any]]:
        return list(self.read("list events", self.core.list_namespaced_event, self.namespace)["items"])

    def node_object(self, node: NodeFacts) -> dict[str, Any]:
        return dict(self.read(f"get node {node.name}", self.core.read_node, node.name))

    def stats_summary(self, node: NodeFacts) -> dict[str, Any]:
        """The kubelet's stats summary, through the API server's node proxy."""
        return dict(self.read(f"stats summary of {node.name}", self.core.connect_get_node_proxy_with_path,
                              node.name, "stats/summary"))

    def delete_pods(self, selector: str) -> None:
        self.call("delete pods", self.core.delete_collection_namespaced_pod, self.namespace,
                  label_selector=selector, grace_period_seconds=0)

    def wait_pods(self, selector: str, until: Callable[[list[dict[str, Any]]], bool], timeout_s: float,
                  interval_s: float = 1.0) -> tuple[list[dict[str, Any]], bool]:
        """Poll the pods until ``until(pods)``; returns the last listing and whether it held in time."""
        deadline = time.monotonic() + timeout_s
        while True:
            pods = self.list_pods(selector)
            if until(pods):
                return pods, True
            if time.monotonic() >= deadline:
                return pods, False
            time.sleep(interval_s)

    def settle(self, selector: str, count: int, timeout_s: float) -> tuple[list[dict[str, Any]], bool]:
        """Wait until ``count`` pods exist and each is Ready or stuck (will not become Ready alone)."""
        return self.wait_pods(selector, lambda pods: len(pods) >= count and all(is_ready(p) or is_stuck(p) for p in pods),
                              timeout_s)

    def remove_pods(self, selector: str) -> None:
        """Delete pods and wait (bounded) until they are gone, so the next measurement starts empty."""
        self.delete_pods(selector)
        self.wait_pods(selector, lambda pods: not pods, self.settings.timeout_s)

    def watch_startup(self, names: Sequence[str], runtime: RuntimeChoice, node: NodeFacts, selector: str,
                      batch: str) -> tuple[list[WatchEvent], dict[str, float]]:
        """Create ``names`` while watching them; returns every event with its arrival time, and send times.

        Creating happens in a second thread, which waits until the watch's response has
        started: events of pods created before that would arrive late (replayed from the
        resourceVersion) and inflate the ClusterLoader2 view. The watch ends when every pod is
        Ready or stuck, at ``--perf-k3s-timeout``, or when creating fails (it then raises that
        error); a broken stream is resumed from the last resourceVersion within the retry bounds.
        """
        from kubernetes import watch
        from kubernetes.client.exceptions import ApiException

        class RawWatch(watch.Watch):
            """Hands out the API server's JSON as sent: no model classes between the wire and the figures."""

            def get_return_type(self, func: Any) -> None:
                return None

        listing = self.read("list pods", self.core.list_namespaced_pod, self.namespace, label_selector=selector)
        resource_version = str(listing["metadata"].get("resourceVersion", ""))
        policy = self.settings.policy
        sent: dict[str, float] = {}
        failure: list[BaseException] = []
        opened = threading.Event()
        current: list[Any] = []

        def open_watch(*args: Any, **kwargs: Any) -> Any:
            response = self.core.list_namespaced_pod(*args, **kwargs)  # returns once the headers are in
            opened.set()
            return response

        def create() -> None:
            opened.wait(policy.request_timeout_s)
            try:
                sent.update(self.create_pods(names, runtime, node, batch))
            except BaseException as error:  # noqa: BLE001 - re-raised by the watching thread
                failure.append(error)
                if current:
                    current[-1].stop()  # unblocks the stream at once

        creator = threading.Thread(target=create, name="k3s-create-pods", daemon=True)
        events: list[WatchEvent] = []
        latest: dict[str, Mapping[str, Any]] = {}
        deadline = time.monotonic() + self.settings.timeout_s
        attempt = 0
        creator.start()
        try:
            while time.monotonic() < deadline and not failure:
                remaining = max(1.0, deadline - time.monotonic())
                watcher = RawWatch()  # type: ignore[no-untyped-call]
                current.append(watcher)
                try:
                    stream = watcher.stream(  # type: ignore[no-untyped-call]
                        open_watch, self.namespace, label_selector=selector, resource_version=resource_version or None,
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
                        settled = len(latest) >= len(names) and all(is_ready(p) or is_stuck(p) for p in latest.values())
                        if settled or time.monotonic() >= deadline or failure:
                            watcher.stop()  # type: ignore[no-untyped-call]
                            return events, sent
                except ApiException as error:
                    if error.status == 410:  # resourceVersion too old: start again from a fresh list
                        listing = self.read("list pods", self.core.list_namespaced_pod, self.namespace,
                                            label_selector=selector)
                        resource_version = str(listing["metadata"].get("resourceVersion", ""))
                        continue
                    attempt = self._watch_retry(error, attempt)
                except Exception as error:  # noqa: BLE001 - _watch_retry re-raises what is not transient
                    if failure:
                        break
                    attempt = self._watch_retry(error, attempt)
            return events, sent
        finally:
            opened.set()
            creator.join(timeout=policy.deadline_s)
            if failure:
                raise failure[0]

    def _watch_retry(self, error: BaseException, attempt: int) -> int:
        """Wait before reopening a broken watch, or raise when the error is final or retries are spent."""
        if not is_retryable(error):
            raise K3sApiError(f"watch pods: {describe_error(error)}") from error
        attempt += 1
        if attempt >= self.settings.policy.attempts:
            raise K3sApiError(f"watch pods: gave up after {attempt} attempts: {describe_error(error)}") from error
        time.sleep(self.settings.policy.delay(attempt, random.random()))
        return attempt

    # -- lifecycle

    def _cleanup(self) -> None:
        if self.settings.keep:
            log.warning("keeping namespace %s (--perf-k3s-keep)", self.namespace)
        else:
            delete_run_namespace(self.core, self.namespace, policy=replace(self.settings.policy, deadline_s=20.0))
        self.connection.api_client.close()

    def close(self) -> None:
        """Delete the run's namespace (unless ``--perf-k3s-keep``); safe to call more than once."""
        self._teardown()


def run_namespace_name(run_id: str, worker: str | None = None) -> str:
    """``perfdata-<run id>``, one per xdist worker: a valid DNS label."""
    name = f"perfdata-{run_id}" + (f"-{worker}" if worker else "")
    return re.sub(r"[^a-z0-9-]", "-", name.lower())[:63].rstrip("-")


def open_cluster(settings: K3sSettings, run_id: str, target: str, *, worker: str | None = None) -> K3sCluster:
    """Connect, read the facts, sweep stale namespaces, make this run's namespace; or :class:`K3sUnavailable`."""
    from kubernetes import client

    connection = connect(settings)
    try:
        core = client.CoreV1Api(connection.api_client)
        nodes = _json(call_with_retry(core.list_node, what="list nodes", policy=settings.policy, _preload_content=False))
        runtime_classes = _json(call_with_retry(client.NodeV1Api(connection.api_client).list_runtime_class,
                                                what="list RuntimeClasses", policy=settings.policy,
                                                _preload_content=False))
        facts = cluster_facts(connection.version, nodes, runtime_classes)
        try:
            selected = select_nodes(settings.nodes, facts, target)
        except ValueError as error:
            raise K3sUnavailable(f"cluster {facts.server_version} at {connection.server}: {error}") from None
        now = dt.datetime.now(dt.timezone.utc)
        sweep_stale_namespaces(core, now, policy=settings.policy)
        namespace = run_namespace_name(run_id, worker)
        create_run_namespace(core, namespace, run_id, now, policy=settings.policy)
    except K3sUnavailable:
        connection.api_client.close()
        raise
    except Exception as error:  # noqa: BLE001 - a cluster that cannot be set up is a skip, with why
        connection.api_client.close()
        raise K3sUnavailable(f"cluster at {connection.server} (kubeconfig {connection.source}) is not usable: "
                             f"{describe_error(error)}") from None
    cluster = K3sCluster(connection, facts, settings, namespace, selected, target)
    cluster._teardown.install()
    log.info("measuring in namespace %s of %s; %s", namespace, connection.server, facts.describe())
    return cluster
