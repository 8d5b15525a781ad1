"""The K3s suite's shared pieces: the runtime under test and pod batches that are removed even on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_perfdata.engines.k8s import K3sCluster, K3sSettings, K3sUnavailable, RuntimeChoice, resolve_runtime
from pytest_perfdata.engines.k8s.local import LocalCluster
from pytest_perfdata.engines.k8s.redaction import log
from pytest_perfdata.engines.k8s.retry import describe_error


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per runtime of ``--perf-k3s-runtime-classes``; absent ones skip, saying which exist."""
    if "runtime_name" in metafunc.fixturenames:
        metafunc.parametrize("runtime_name", K3sSettings.from_options(metafunc.config.getoption).runtime_classes)


#: Files whose figures include the server's resident memory. They run first in this folder: the
#: density ramps before them (3,000 pods) grow the servers' heaps, and resident memory does not shrink.
MEMORY_FIRST = ("test_k3s_scale.py", "test_k3s_server.py")  # the ramp from the fewest objects


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move this folder's memory-reading tests ahead of its other tests, leaving every other place as it is."""
    here = Path(__file__).parent
    places = [index for index, item in enumerate(items) if item.path.parent == here]

    def rank(item: pytest.Item) -> int:
        return MEMORY_FIRST.index(item.path.name) if item.path.name in MEMORY_FIRST else len(MEMORY_FIRST)

    ours = sorted((items[index] for index in places), key=rank)
    for index, item in zip(places, ours):
        items[index] = item


@pytest.fixture
def runtime(k3s_cluster: K3sCluster, runtime_name: str) -> RuntimeChoice:
    try:
        return resolve_runtime(k3s_cluster.facts, runtime_name, k3s_cluster.settings)
    except K3sUnavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture
def local_cluster(k3s_cluster: K3sCluster) -> LocalCluster:
    """The local cluster behind ``k3s_cluster``: only its processes are on this machine, to be read
    (start-up time, memory, CPU) and only it can be given more nodes; elsewhere a skip says so."""
    if k3s_cluster.local is None:
        pytest.skip("the server's processes are on another machine: this is measured on the local cluster "
                    "(--perf-k3s-cluster=local; python3 tools/setup.py suites builds it)")
    return k3s_cluster.local


class Batches:
    """Sets of pods made by one test; whatever the test leaves is deleted at its teardown."""

    def __init__(self, cluster: K3sCluster) -> None:
        self.cluster = cluster
        self.live: list[str] = []

    def new(self, prefix: str) -> tuple[str, str]:
        """A fresh ``(label selector, batch name)``; pod names start with the batch name."""
        selector, batch = self.cluster.new_batch(prefix)
        self.live.append(selector)
        return selector, batch

    def remove(self, selector: str) -> None:
        self.cluster.remove_pods(selector)
        self.live.remove(selector)

    def remove_all(self) -> None:
        for selector in list(self.live):
            try:
                self.remove(selector)
            except Exception as error:  # noqa: BLE001 - the namespace's deletion at session end is the backstop
                log.warning("removing pods %s: %s", selector, describe_error(error))


@pytest.fixture
def batches(k3s_cluster: K3sCluster) -> Iterator[Batches]:
    made = Batches(k3s_cluster)
    try:
        yield made
    finally:
        made.remove_all()
