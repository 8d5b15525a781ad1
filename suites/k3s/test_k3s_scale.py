"""Cluster scale, the team's "supported node count": the control plane's memory, CPU and API latency as nodes join.

K3s's server sizing guide (docs.k3s.io/installation/requirements, "Server Sizing Guide") gives a
server of 2 CPUs and 4 GB for 0-350 agents, advises joining agents in batches of 50 or fewer,
and reminds that more than 255 nodes need a wider ``--cluster-cidr``. This ramp adds simulated
nodes in batches of 50 to each step of ``STEPS`` and, at each step, reads the server's resident
memory, its CPU use over a fixed window and the latency of API calls, beside that guide; the
claim ``k3s.sizing.server-350-agents`` quotes it.

A KWOK node costs the server less than a kubelet: KWOK keeps one watch for all its nodes and
renews a lease and a status per node, where each kubelet also watches its own pods, secrets and
config maps. So the figures are a lower bound of a real cluster's, and the records say so.
Local cluster only: on a user's cluster, the server's processes are not on this machine.
"""

from __future__ import annotations

import statistics
import time

import pytest

from pytest_perfdata.engines.k8s.local import scale_nodes
from pytest_perfdata.engines.k8s.metrics import quantiles

#: Measured once: a second attempt would start among the first attempt's nodes.
pytestmark = pytest.mark.perf(confirm=0)

MIB = 1024 * 1024
STEPS = (10, 100, 350)  # nodes in the cluster, the local cluster's own nodes included
BATCH = 50  # K3s's advice for joining agents
CPU_WINDOW_S = 10.0  # the server's CPU use is averaged over this much wall time at each step
CALLS = 60  # mutating calls (create, then delete, a config map) timed at each step
LISTS = 20  # LIST nodes calls timed at each step: their answer grows with the cluster

LOWER_BOUND = ("simulated nodes (KWOK): one watch for all of them and a lease and status per node, where a "
               "kubelet also watches its pods, secrets and config maps, so a real cluster costs the server more")


def _timed(call, into: list[float]):  # type: ignore[no-untyped-def]
    """``call()``'s answer; its time in ms appended to ``into``."""
    started = time.perf_counter()
    answer = call()
    into.append((time.perf_counter() - started) * 1000)
    return answer


def test_cluster_scale(perf, k3s_cluster, local_cluster) -> None:  # type: ignore[no-untyped-def]
    """At 10, 100 and 350 nodes: server memory, server CPU, mutating-call and LIST-nodes latency;
    then the memory each 100 nodes add (the least-squares slope over the steps)."""
    core, namespace = k3s_cluster.core, k3s_cluster.namespace
    node = k3s_cluster.nodes[0]
    engine, notes = k3s_cluster.engine(node), (*k3s_cluster.notes(node), LOWER_BOUND)
    perf.runtime(k3s_cluster.facts.distribution, k3s_cluster.facts.server_version)
    own = len(local_cluster.nodes)
    added: list[str] = []
    memory_mib: dict[int, float] = {}
    try:
        for step in STEPS:
            while own + len(added) < step:
                batch = scale_nodes(len(added), min(BATCH, step - own - len(added)))
                local_cluster.add_nodes(batch)  # returns once KWOK has made each Ready
                added += [n.name for n in batch]
            cpu_before, window_start = local_cluster.plane.server_cpu_seconds(), time.monotonic()
            time.sleep(CPU_WINDOW_S)  # the figure is CPU time per wall second: the window's length is not asserted on
            cores = (local_cluster.plane.server_cpu_seconds() - cpu_before) / (time.monotonic() - window_start)
            server_bytes, sizes = local_cluster.plane.server_bytes()
            assert local_cluster.plane.died() is None, local_cluster.plane.died()
            memory_mib[step] = server_bytes / MIB

            mutating: list[float] = []
            for index in range(CALLS // 2):
                name = f"scale-{step}-{index}"
                body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}
                _timed(lambda: k3s_cluster.read(f"create config map {name}", core.create_namespaced_config_map,
                                                namespace, body), mutating)
                _timed(lambda: k3s_cluster.read(f"delete config map {name}", core.delete_namespaced_config_map,
                                                name, namespace), mutating)
            listing: list[float] = []
            for _ in range(LISTS):
                nodes = _timed(lambda: k3s_cluster.read("list nodes", core.list_node), listing)
            nodes_now = len(nodes["items"])
            assert nodes_now == step, f"{nodes_now} nodes in the cluster, expected {step}"

            here = (f"{step} nodes ({step - own} added in batches of {BATCH})", *notes)
            prefix = f"k3s.scale.nodes_{step}"
            perf.record_value(k3s_cluster.cluster_metric(f"{prefix}.server_memory"), memory_mib[step], unit="MiB",
                              engine=engine, notes=(sizes, "K3s's sizing guide: 2 CPUs, 4 GB for 0-350 agents", *here))
            perf.record_value(k3s_cluster.cluster_metric(f"{prefix}.server_cpu"), cores, unit="cores",
                              engine=engine, notes=(f"control-plane CPU time over {CPU_WINDOW_S:g} s of wall time, "
                                                    "idle but for the nodes' heartbeats", *here))
            q = quantiles(mutating)
            perf.record_samples(k3s_cluster.cluster_metric(f"{prefix}.mutating_call_latency"), mutating, unit="ms",
                                statistic="p50", engine=engine,
                                notes=(f"{CALLS // 2} POST and {CALLS // 2} DELETE of a config map, one after another: "
                                       f"P50 {q.p50:.1f} ms, P99 {q.p99:.1f} ms", *here))
            perf.record_samples(k3s_cluster.cluster_metric(f"{prefix}.list_nodes_latency"), listing, unit="ms",
                                statistic="p50", engine=engine,
                                notes=(f"{LISTS} LIST nodes calls, whole answers of {step} nodes", *here))
    finally:
        local_cluster.remove_nodes(added)

    fit = statistics.linear_regression(list(memory_mib), list(memory_mib.values()))
    perf.record_value(k3s_cluster.cluster_metric("k3s.scale.server_memory_per_100_nodes"), fit.slope * 100,
                      unit="MiB", engine=engine,
                      notes=("least-squares slope of server memory over the steps: "
                             + ", ".join(f"{n} nodes {m:.1f} MiB" for n, m in memory_mib.items()), *notes))
