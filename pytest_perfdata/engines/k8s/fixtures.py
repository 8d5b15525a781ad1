"""The K3s cluster fixture and its options: a reachable cluster and a namespace of this run."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ...option_types import positive_int, positive_time
from ...options import Option
from . import (
    CLUSTER_CHOICES,
    DEFAULT_CLUSTER,
    DEFAULT_DENSITY_TARGET,
    DEFAULT_LOCAL_NODES,
    DEFAULT_IMAGE,
    DEFAULT_MEMORY_PODS,
    DEFAULT_NODES,
    DEFAULT_PODS,
    DEFAULT_RUNTIME_CLASSES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_WASM_IMAGE,
    K3S_KUBECONFIG,
)

if TYPE_CHECKING:
    from .cluster import K3sCluster
    from .local import LocalCluster
    from .settings import K3sSettings

__all__ = ["OPTIONS", "k3s_cluster"]

OPTIONS: tuple[Option, ...] = (
    Option("perf_k3s_cluster", metavar="|".join(CLUSTER_CHOICES), default=DEFAULT_CLUSTER, choices=CLUSTER_CHOICES,
           help="cluster for k3s_cluster: kubeconfig (a kubeconfig's), local (start a control plane with simulated "
                "nodes; python3 tools/setup.py suites builds it), auto (the kubeconfig's if one is found, else local)"),
    Option("perf_k3s_local_nodes", metavar="N", type=positive_int, default=str(DEFAULT_LOCAL_NODES),
           help="simulated nodes of the local cluster, half arm64, half amd64"),
    Option("perf_kubeconfig", metavar="PATH",
           help=f"kubeconfig of the cluster for k3s_cluster (default: KUBECONFIG, ~/.kube/config, {K3S_KUBECONFIG}, "
                f"the first that exists)"),
    Option("perf_k3s_context", metavar="NAME", help="kubeconfig context to use (default: its current-context)"),
    Option("perf_k3s_keep", action="store_true",
           help="keep the run's namespace and pods after the run, for inspection"),
    Option("perf_k3s_image", metavar="IMAGE", default=DEFAULT_IMAGE, help="image of the measured Linux pods"),
    Option("perf_k3s_wasm_image", metavar="IMAGE", default=DEFAULT_WASM_IMAGE,
           help="image of pods of Wasm RuntimeClasses"),
    Option("perf_k3s_nodes", metavar="auto|all|NAME,...", default=DEFAULT_NODES,
           help="nodes for per-node measurements: auto (one, of the target's architecture if any), all, or names"),
    Option("perf_k3s_runtime_classes", metavar="NAME,...", default=",".join(DEFAULT_RUNTIME_CLASSES),
           help="runtimes to measure; runc means the default runtime when no RuntimeClass has that name"),
    Option("perf_k3s_pods", metavar="N", type=positive_int, default=str(DEFAULT_PODS),
           help="pods per node and runtime in the start-up latency test"),
    Option("perf_k3s_density_target", metavar="N", type=positive_int, default=str(DEFAULT_DENSITY_TARGET),
           help="stop the density ramp at this many pods, if nothing stops it first"),
    Option("perf_k3s_memory_pods", metavar="N", type=positive_int, default=str(DEFAULT_MEMORY_PODS),
           help="pods whose memory is measured per node and runtime"),
    Option("perf_k3s_timeout", metavar="TIME", type=positive_time, default=f"{DEFAULT_TIMEOUT_S:g}s",
           help="longest wait for a set of pods to become Ready"),
)



@pytest.fixture(scope="session")
def k3s_cluster(request: pytest.FixtureRequest) -> Iterator[K3sCluster]:
    """A reachable cluster, its facts, and a namespace of this run, deleted afterwards; else a skip with why.

    The cluster is the kubeconfig's, or the local one (a control plane started for the session
    with simulated nodes, stopped at its end, after a failure and on Ctrl-C), see
    ``--perf-k3s-cluster``.
    """

    from ...state import run_for
    from . import K3sUnavailable
    from .cluster import open_cluster
    from .settings import K3sSettings

    run = run_for(request.config)  # the namespace is named after the run; nodes follow its target
    settings = K3sSettings.from_options(request.config.getoption)
    local = None
    try:
        why = _local_reason(settings)
        if why is not None:
            local = _start_local(settings, request.config.rootpath, why)
            settings = dataclasses.replace(settings, kubeconfig=str(local.kubeconfig), context=None)
        cluster = open_cluster(settings, run.run_id, run.settings.target, worker=os.environ.get("PYTEST_XDIST_WORKER"))
        cluster.local = local
    except BaseException as error:
        if local is not None:
            local.stop()
        if isinstance(error, K3sUnavailable):
            pytest.skip(str(error))
        raise
    try:
        yield cluster
    finally:
        try:
            cluster.close()
        finally:
            if local is not None:
                local.stop()


def _local_reason(settings: K3sSettings) -> str | None:
    """Why the local cluster is used: ``local`` asked, or ``auto`` and no kubeconfig anywhere (the
    search's one line); None to use the kubeconfig. A named kubeconfig that is missing stays an error."""
    if settings.cluster != "auto":
        return "--perf-k3s-cluster=local" if settings.cluster == "local" else None
    from . import K3sUnavailable
    from .api import find_kubeconfig

    try:
        find_kubeconfig(settings.kubeconfig, os.environ, Path.home())
    except K3sUnavailable as missing:
        return str(missing) if settings.kubeconfig is None else None
    return None


def _start_local(settings: K3sSettings, rootpath: Path, why: str) -> LocalCluster:
    """The local cluster, started; :class:`K3sUnavailable` saying how to get it when it cannot be."""
    from . import K3sUnavailable
    from .local import LocalCluster, LocalClusterError, default_nodes, find_binaries

    binaries = find_binaries(rootpath)
    if isinstance(binaries, str):
        raise K3sUnavailable(f"{why}; {binaries}")
    try:
        return LocalCluster.start(binaries, default_nodes(settings.local_nodes))
    except LocalClusterError as error:
        raise K3sUnavailable(str(error)) from None
