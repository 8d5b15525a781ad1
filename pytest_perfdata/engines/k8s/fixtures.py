"""The K3s cluster fixture and its options: a reachable cluster and a namespace of this run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ...option_types import positive_int, positive_time
from ...options import Option
from . import (
    DEFAULT_DENSITY_TARGET,
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

__all__ = ["OPTIONS", "k3s_cluster"]

OPTIONS: tuple[Option, ...] = (
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
    """A reachable cluster, its facts, and a namespace of this run, deleted afterwards; else a skip with why."""
    import os

    from ...state import run_for
    from . import K3sUnavailable
    from .cluster import open_cluster
    from .settings import K3sSettings

    run = run_for(request.config)  # the namespace is named after the run; nodes follow its target
    try:
        cluster = open_cluster(K3sSettings.from_options(request.config.getoption), run.run_id, run.settings.target,
                               worker=os.environ.get("PYTEST_XDIST_WORKER"))
    except K3sUnavailable as reason:
        pytest.skip(str(reason))
    try:
        yield cluster
    finally:
        cluster.close()
