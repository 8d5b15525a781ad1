"""The K3s cluster fixture and its options: a reachable cluster and a namespace of this run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ...option_types import positive_int, positive_time
from .cluster import (
    DEFAULT_IMAGE,
    DEFAULT_WASM_IMAGE,
    K3sCluster,
    K3sSettings,
    K3sUnavailable,
    open_cluster,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perfdata")
    group.addoption("--perf-kubeconfig", dest="perf_kubeconfig", metavar="PATH", default=None,
                    help="kubeconfig of the cluster for k3s_cluster (default: KUBECONFIG, ~/.kube/config, "
                         "/etc/rancher/k3s/k3s.yaml, the first that exists)")
    group.addoption("--perf-k3s-context", dest="perf_k3s_context", metavar="NAME", default=None,
                    help="kubeconfig context to use (default: its current-context)")
    group.addoption("--perf-k3s-keep", dest="perf_k3s_keep", action="store_true",
                    help="keep the run's namespace and pods after the run, for inspection")
    group.addoption("--perf-k3s-image", dest="perf_k3s_image", metavar="IMAGE", default=DEFAULT_IMAGE,
                    help=f"image of the measured Linux pods (default: {DEFAULT_IMAGE})")
    group.addoption("--perf-k3s-wasm-image", dest="perf_k3s_wasm_image", metavar="IMAGE", default=DEFAULT_WASM_IMAGE,
                    help=f"image of pods of Wasm RuntimeClasses (default: {DEFAULT_WASM_IMAGE})")
    group.addoption("--perf-k3s-nodes", dest="perf_k3s_nodes", metavar="auto|all|NAME,...", default="auto",
                    help="nodes for per-node measurements: auto (one, of the target's architecture if any), all, "
                         "or names")
    group.addoption("--perf-k3s-runtime-classes", dest="perf_k3s_runtime_classes", metavar="NAME,...",
                    default="runc,wasmedge",
                    help="runtimes to measure; runc means the default runtime when no RuntimeClass has that name")
    group.addoption("--perf-k3s-pods", dest="perf_k3s_pods", metavar="N", type=positive_int, default=30,
                    help="pods per node and runtime in the start-up latency test (default: 30)")
    group.addoption("--perf-k3s-density-target", dest="perf_k3s_density_target", metavar="N", type=positive_int,
                    default=300, help="stop the density ramp at this many pods, if nothing stops it first (default: 300)")
    group.addoption("--perf-k3s-memory-pods", dest="perf_k3s_memory_pods", metavar="N", type=positive_int,
                    default=10, help="pods whose memory is measured per node and runtime (default: 10)")
    group.addoption("--perf-k3s-timeout", dest="perf_k3s_timeout", metavar="TIME", type=positive_time, default=180.0,
                    help="longest wait for a set of pods to become Ready (default: 180s)")


@pytest.fixture(scope="session")
def k3s_cluster(request: pytest.FixtureRequest) -> Iterator[K3sCluster]:
    """A reachable cluster, its facts, and a namespace of this run, deleted afterwards; else a skip with why."""
    import os

    from ...environment import machine_target
    from ...plugin import RUN_KEY

    run = request.config.stash.get(RUN_KEY, None)
    target = run.settings.target if run is not None else machine_target()
    run_id = run.run_id if run is not None else os.urandom(6).hex()
    try:
        cluster = open_cluster(K3sSettings.from_options(request.config.getoption), run_id, target,
                               worker=os.environ.get("PYTEST_XDIST_WORKER"))
    except K3sUnavailable as reason:
        pytest.skip(str(reason))
    try:
        yield cluster
    finally:
        cluster.close()
