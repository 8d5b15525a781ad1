"""Kubernetes (K3s): the family's vocabulary (defaults, labels, errors), and lazily the cluster a test gets.

A test asks for ``k3s_cluster`` (:mod:`.fixtures`) and gets a :class:`~.cluster.K3sCluster`.
The modules, one job each:

- :mod:`.metrics`: pure computations on API objects (no client, no cluster)
- :mod:`.redaction`: credentials masked in text, objects and the family's log
- :mod:`.retry`: bounded API calls: what is transient, how long to wait, one line per failure
- :mod:`.api`: connecting: the kubeconfig search, the client, the ``/version`` probe
- :mod:`.settings`: the ``--perf-k3s-*`` options, resolved
- :mod:`.namespaces`: the run's namespace, its deletion, and the sweep of stale ones
- :mod:`.workload`: the pods a run creates: runtime, image, manifest
- :mod:`.watch`: watching pods while they are created, for ClusterLoader2's view
- :mod:`.teardown`: clean-up that runs once, at the finalizer, exit or SIGTERM/SIGHUP
- :mod:`.cluster`: the ``K3sCluster`` a test gets, and ``open_cluster``

This module imports nothing heavy: the kubernetes client loads inside the functions that call
it, and the names below from other modules load on first use (PEP 562).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from ..._lazy import lazy_names

__all__ = [
    "BATCH_LABEL",
    "CLUSTER_CHOICES",
    "CREATED_AT_ANNOTATION",
    "DEFAULT_CLUSTER",
    "DEFAULT_DENSITY_TARGET",
    "DEFAULT_IMAGE",
    "DEFAULT_LOCAL_NODES",
    "DEFAULT_MEMORY_PODS",
    "DEFAULT_NODES",
    "DEFAULT_PODS",
    "DEFAULT_RUNTIME_CLASSES",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_WASM_IMAGE",
    "K3S_KUBECONFIG",
    "MANAGED_BY",
    "RUN_LABEL",
    "K3sApiError",
    "K3sCluster",
    "K3sSettings",
    "K3sUnavailable",
    "RuntimeChoice",
    "open_cluster",
    "resolve_runtime",
]

# -- defaults (each stated once; the options table and K3sSettings read them) ------------------

#: The file K3s writes on its server: the last place the kubeconfig search looks.
K3S_KUBECONFIG: Final = Path("/etc/rancher/k3s/k3s.yaml")
DEFAULT_IMAGE: Final = "registry.k8s.io/pause:3.9"
#: runwasi's demo module: with no arguments it prints a line a second for ever (a long-running pod).
DEFAULT_WASM_IMAGE: Final = "ghcr.io/containerd/runwasi/wasi-demo-app:latest"
DEFAULT_NODES: Final = "auto"
#: Which cluster: ``auto`` = the kubeconfig's when one is found, else the local one when built.
CLUSTER_CHOICES: Final = ("auto", "local", "kubeconfig")
DEFAULT_CLUSTER: Final = "auto"
#: Simulated nodes of the local cluster, half arm64 and half amd64.
DEFAULT_LOCAL_NODES: Final = 4
DEFAULT_RUNTIME_CLASSES: Final = ("runc", "wasmedge")
DEFAULT_PODS: Final = 30
DEFAULT_DENSITY_TARGET: Final = 300
DEFAULT_MEMORY_PODS: Final = 10
DEFAULT_TIMEOUT_S: Final = 180.0

# -- how we mark what is ours ------------------------------------------------------------------

MANAGED_BY: Final = ("app.kubernetes.io/managed-by", "pytest-perfdata")
RUN_LABEL: Final = "perfdata/run"
BATCH_LABEL: Final = "perfdata/batch"
CREATED_AT_ANNOTATION: Final = "perfdata/created-at"


# -- errors ------------------------------------------------------------------------------------


class K3sUnavailable(Exception):
    """No usable cluster (or no RuntimeClass asked for): one line saying what was tried and why."""


class K3sApiError(RuntimeError):
    """An API call failed for good (after bounded retries, or a refusal); the message says which and why."""


# -- what a test gets, loaded on first use -----------------------------------------------------

_LAZY: Final = {
    "K3sCluster": "cluster",
    "open_cluster": "cluster",
    "K3sSettings": "settings",
    "RuntimeChoice": "workload",
    "resolve_runtime": "workload",
}

if TYPE_CHECKING:
    from .cluster import K3sCluster, open_cluster
    from .settings import K3sSettings
    from .workload import RuntimeChoice, resolve_runtime


__getattr__ = lazy_names(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
