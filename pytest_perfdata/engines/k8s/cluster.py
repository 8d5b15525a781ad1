"""The cluster a test gets: ``K3sCluster`` (facts, the run's namespace, bounded API calls) and ``open_cluster``."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from ...provenance import Engine
from . import BATCH_LABEL, MANAGED_BY, K3sApiError, K3sUnavailable
from .api import Connection, connect, response_json
from .metrics.facts import ClusterFacts, NodeFacts, cluster_facts, select_nodes
from .metrics.readiness import is_ready, is_stuck
from .metrics.startup import WatchEvent
from .namespaces import create_run_namespace, delete_run_namespace, run_namespace_name, sweep_stale_namespaces
from .redaction import log, redact
from .retry import call_with_retry, describe_error
from .settings import K3sSettings
from .teardown import Teardown
from .watch import watch_while_creating
from .workload import RuntimeChoice, pod_manifest

if TYPE_CHECKING:
    from .local import LocalCluster

__all__ = ["K3sCluster", "open_cluster"]

T = TypeVar("T")


class PerNode(TypedDict):
    """The keywords of ``perf.record_*`` that make a per-node record (:meth:`K3sCluster.per_node`)."""

    metric: str
    target: str
    family: str | None


class K3sCluster:
    """The ``k3s_cluster`` fixture: a connected cluster, its facts, and a namespace of this run.

    Every method goes through :func:`~.retry.call_with_retry` (a timeout on each call; resets,
    429 and 5xx retried with backoff, bounded) and returns plain JSON, the same objects the tests
    feed to :mod:`.metrics` from ``tests/data/k8s/``: the computations never know which it was.
    The namespace is deleted at teardown, at exit and on SIGTERM/SIGHUP (:class:`~.teardown.Teardown`);
    leftovers of killed runs are swept when the next run starts. Nothing it logs, raises or
    puts in notes carries a credential (:func:`~.redaction.redact`).
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
        self._teardown = Teardown(self._cleanup)
        self._batches = 0
        #: The local cluster this session started (``--perf-k3s-cluster=local``), else None: only
        #: then are the server's processes on this machine, for their start-up time and memory.
        self.local: LocalCluster | None = None

    # -- records

    def engine(self, node: NodeFacts) -> Engine:
        """What a record names as its engine: the distribution and version the API server reports
        (``k3s v1.30.4+k3s1``, ``kubernetes v1.36.3``), and the node with its architecture; a
        simulated node says so in the build facts, where a claim can match it."""
        build = (("kubelet", f"simulated by {node.container_runtime or 'KWOK'}"),) if node.simulated else ()
        return Engine(self.facts.distribution, self.facts.server_version, f"{node.name}/{node.architecture}", build)

    def metric(self, base: str, node: NodeFacts) -> str:
        """The metric for ``base`` (written ``k3s.<what>`` by the suite) on this cluster and node.

        The first word is the distribution that answered: ``k3s.pod_startup...`` on K3s,
        ``kubernetes.pod_startup...`` on upstream Kubernetes, so that a baseline or claim made
        for K3s is never judged by another distribution. On a simulated node the figure is the
        control plane's alone (scheduling, binding, status writes; no container starts), and
        it says so: ``kubernetes.control_plane.pod_startup...``; the real-node metric keeps its
        limits (the SLO's 5 s P99). The node's name is appended when several are measured.
        """
        if node.simulated:
            base = base.replace("k3s.", "k3s.control_plane.", 1) if base.startswith("k3s.") else base
        base = self.cluster_metric(base)
        return f"{base}.{node.name}" if len(self.nodes) > 1 else base

    def per_node(self, base: str, node: NodeFacts) -> PerNode:
        """``metric``, ``target`` and ``family`` of a per-node record of ``base``, for ``perf.record_*``.

        The metric is :meth:`metric`'s. It is judged against the node's target (an arm64 node by
        ``baselines/arm64.yaml``, whatever the run's target) and, when several nodes are measured,
        by the baseline of the metric without the node's name unless that name has its own: one
        limit covers every node of a target.
        """
        metric = self.metric(base, node)
        family = metric.rpartition(".")[0] if len(self.nodes) > 1 else None
        return PerNode(metric=metric, target=node.target, family=family)

    def refresh_node(self, name: str) -> NodeFacts:
        """The facts of a node added after the session started (the local cluster's extra nodes)."""
        from .metrics.facts import node_facts

        return node_facts(self.read(f"get node {name}", self.core.read_node, name))

    def cluster_metric(self, base: str) -> str:
        """A figure of the cluster, not of a node (``k3s.server.ready_time``): the distribution's word only."""
        first, _, rest = base.partition(".")
        return f"{self.facts.distribution}.{rest}" if first == "k3s" and rest else base

    def notes(self, node: NodeFacts, runtime: RuntimeChoice | None = None) -> tuple[str, ...]:
        notes = [self.facts.describe(), node.describe()]
        if node.simulated:
            notes.append("simulated node: KWOK marks pods Running without starting a container, so this figure is "
                         "the control plane's (API server, scheduler, controllers, datastore), not a kubelet's")
        if runtime is not None:
            notes.append(runtime.note)
        if node.target != self.target:
            notes.append(f"node architecture {node.architecture}: its figures are judged against target "
                         f"{node.target}'s baselines, not the run's target {self.target}")
        return tuple(redact(notes))

    def kubelet_nodes(self, why: str) -> tuple[NodeFacts, ...]:
        """The measured nodes with a real kubelet; a skip saying so when every one is simulated.

        A simulated node has no container to start and no memory to use: what its "kubelet"
        would report is made up, so such a figure is never recorded (``why`` says what needs it).
        """
        import pytest

        real = tuple(node for node in self.nodes if not node.simulated)
        if not real:
            names = ", ".join(node.name for node in self.nodes)
            pytest.skip(f"{why}, and {names} {'is' if len(self.nodes) == 1 else 'are'} simulated (KWOK): its figure "
                        f"would be made up; point --perf-kubeconfig at a cluster with real nodes (docs/k3s.md)")
        return real

    def runtimes(self, node: NodeFacts) -> dict[str, str]:
        """Versions for the records' environment: K3s and the node's container runtime."""
        runtime, _, version = node.container_runtime.partition("://")
        if node.simulated:  # KWOK reports itself as the runtime: "kwok-v0.8.0"
            return {self.facts.distribution: self.facts.server_version, "kwok": node.container_runtime.removeprefix("kwok-")}
        return {self.facts.distribution: self.facts.server_version,
                runtime or "container-runtime": version or node.container_runtime}

    # -- API

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return call_with_retry(fn, *args, what=what, policy=self.settings.policy, **kwargs)

    def read(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A GET whose answer is the raw JSON the API server sent."""
        return response_json(self.call(what, fn, *args, _preload_content=False, **kwargs))

    def new_batch(self, prefix: str) -> tuple[str, str]:
        """A label selector and a name prefix for a fresh set of pods."""
        self._batches += 1
        batch = f"{prefix}-{self._batches}"
        return f"{BATCH_LABEL}={batch}", batch

    def create_pods(self, names: Iterable[str], runtime: RuntimeChoice, node: NodeFacts, batch: str, *,
                    parallel: int = 1) -> dict[str, float]:
        """Create pods; returns when each create request was sent, on the client's wall clock.

        ``parallel`` > 1 sends that many creates at once, as load generators do (kube-burner's
        QPS and burst): for a ramp, where what counts is how fast the control plane takes
        them; start-up latency keeps one at a time, so that each pod's clock starts alone.
        """
        from concurrent.futures import ThreadPoolExecutor

        from kubernetes.client.exceptions import ApiException

        labels = {MANAGED_BY[0]: MANAGED_BY[1], BATCH_LABEL: batch}

        def create(name: str) -> float:
            sent = time.time()
            try:
                self.read(f"create pod {name}", self.core.create_namespaced_pod, self.namespace,
                          pod_manifest(name, runtime, node, labels))  # raw JSON: the client's models cost ms a pod
            except ApiException as error:
                if error.status != 409:  # a retried create that had in fact succeeded
                    raise K3sApiError(f"create pod {name}: {describe_error(error)}") from error
            return sent

        names = list(names)
        if parallel <= 1:
            return {name: create(name) for name in names}
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="perfdata-create") as pool:
            return dict(zip(names, pool.map(create, names)))

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

        The watch ends when every pod is Ready or stuck, at ``--perf-k3s-timeout``, or when
        creating fails (it then raises that error); see :func:`~.watch.watch_while_creating`.
        """
        return watch_while_creating(self.core, self.namespace, selector, len(names),
                                    lambda: self.create_pods(names, runtime, node, batch),
                                    timeout_s=self.settings.timeout_s, policy=self.settings.policy)

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


def open_cluster(settings: K3sSettings, run_id: str, target: str, *, worker: str | None = None) -> K3sCluster:
    """Connect, read the facts, sweep stale namespaces, make this run's namespace; or :class:`K3sUnavailable`."""
    from kubernetes import client

    connection = connect(settings)
    try:
        core = client.CoreV1Api(connection.api_client)
        nodes = response_json(call_with_retry(core.list_node, what="list nodes", policy=settings.policy,
                                              _preload_content=False))
        runtime_classes = response_json(call_with_retry(client.NodeV1Api(connection.api_client).list_runtime_class,
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
