"""Cluster facts, start-up latency (both views), density stop reasons and memory, on recorded objects."""

# The objects in tests/data/k8s/ are shaped like the API server's answers. The pods of the
# start-up run follow one timeline (creation at 08:30:00Z, watch events up to 5.26 s later), so
# every expected figure below can be read off that timeline.

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata.engines.k8s.metrics import (
    MAX_NOT_READY_RATIO,
    WatchEvent,
    cl2_latencies,
    cluster_facts,
    density_stop,
    is_ready,
    is_stuck,
    k8s_quantity,
    kube_burner_latencies,
    memory_report,
    node_facts,
    not_ready_reason,
    parse_time,
    pod_cidr_capacity,
    quantiles,
    select_nodes,
    startup_report,
    target_for_architecture,
)
from pytest_perfdata.engines.k8s.namespaces import stale_namespaces

DATA = Path(__file__).parent / "data" / "k8s"
NAMESPACE = "perfdata-3f9c2a71b0de"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def items(name: str) -> list[dict[str, Any]]:
    return list(load(name)["items"])


@pytest.fixture(scope="module")
def watch() -> tuple[list[WatchEvent], dict[str, float]]:
    recorded = load("watch-startup.json")
    return [WatchEvent.from_dict(e) for e in recorded["events"]], recorded["sentAt"]


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return cluster_facts(load("version.json"), load("nodes.json"), load("runtimeclasses.json"))


def renamed(pod: dict[str, Any], name: str) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    pod["metadata"]["name"] = name
    return pod


# -- facts ------------------------------------------------------------------------------------


def test_cluster_facts_from_version_nodes_and_runtime_classes(facts) -> None:  # type: ignore[no-untyped-def]
    assert facts.server_version == "v1.30.4+k3s1"
    assert [n.name for n in facts.nodes] == ["k3s-server", "rpi5-agent"]
    server, agent = facts.nodes
    assert (server.architecture, agent.architecture) == ("amd64", "arm64")
    assert (server.target, agent.target) == ("x86_64", "arm64")
    assert server.container_runtime == "containerd://1.7.20-k3s1"
    assert server.capacity.pods == server.allocatable.pods == 110
    assert server.allocatable.cpu == 4.0
    assert server.allocatable.memory_bytes == 8023128 * 1024
    assert server.pod_cidr == "10.42.0.0/24"
    assert server.ready and server.schedulable
    assert [rc.name for rc in facts.runtime_classes] == ["crun", "spin", "wasmedge", "wasmtime"]
    assert facts.runtime_class("wasmedge").handler == "wasmedge"
    assert facts.runtime_class("runc") is None
    assert "v1.30.4+k3s1" in facts.describe() and "wasmedge" in facts.describe()
    assert "containerd://1.7.20-k3s1" in server.describe() and "110 pods" in server.describe()


@pytest.mark.parametrize(("text", "value"), [
    ("110", 110), ("4", 4), ("500m", 0.5), ("8023128Ki", 8023128 * 1024), ("4Gi", 4 * 2**30), ("1e3", 1000),
    ("1.5k", 1500), ("59536892317", 59536892317), (3, 3),
])
def test_kubernetes_quantities(text: str, value: float) -> None:
    assert k8s_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["12parsec", "", "Ki"])
def test_bad_quantities_say_what_they_got(text: str) -> None:
    with pytest.raises(ValueError, match="quantity"):
        k8s_quantity(text)


@given(st.integers(min_value=0, max_value=2**40), st.sampled_from(["Ki", "Mi", "Gi"]))
def test_binary_suffixes_scale_by_powers_of_1024(number: int, suffix: str) -> None:
    assert k8s_quantity(f"{number}{suffix}") == number * 1024 ** (["Ki", "Mi", "Gi"].index(suffix) + 1)


def test_architecture_targets() -> None:
    assert [target_for_architecture(a) for a in ("amd64", "arm64", "riscv64")] == ["x86_64", "arm64", "riscv64"]


def test_node_selection_prefers_the_run_target(facts) -> None:  # type: ignore[no-untyped-def]
    assert [n.name for n in select_nodes("auto", facts, "arm64")] == ["rpi5-agent"]
    assert [n.name for n in select_nodes("auto", facts, "x86_64")] == ["k3s-server"]
    assert [n.name for n in select_nodes("auto", facts, "riscv64")] == ["k3s-server"]
    assert [n.name for n in select_nodes("all", facts, "x86_64")] == ["k3s-server", "rpi5-agent"]
    assert [n.name for n in select_nodes("rpi5-agent, k3s-server", facts, "x86_64")] == ["rpi5-agent", "k3s-server"]
    with pytest.raises(ValueError, match=r"nope: no such node \(usable nodes: k3s-server, rpi5-agent\)"):
        select_nodes("nope", facts, "x86_64")


def test_an_unschedulable_node_is_never_selected() -> None:
    nodes = load("nodes.json")
    nodes["items"][1]["spec"]["unschedulable"] = True
    facts = cluster_facts(load("version.json"), nodes, load("runtimeclasses.json"))
    assert [n.name for n in select_nodes("all", facts, "arm64")] == ["k3s-server"]
    with pytest.raises(ValueError, match="rpi5-agent: not Ready and schedulable"):
        select_nodes("rpi5-agent", facts, "arm64")


def test_node_facts_of_a_single_node_object() -> None:
    node = node_facts(load("density/node-max-pods-8.json"))
    assert (node.name, node.hostname, node.allocatable.pods) == ("k3s-server", "k3s-server", 8)


# -- start-up latency -------------------------------------------------------------------------


def test_recorded_pods_are_in_the_states_their_names_say() -> None:
    assert is_ready(load("pod-running-ready.json"))
    pending, backoff = load("pod-pending.json"), load("pod-image-pull-backoff.json")
    assert not is_ready(pending) and not is_stuck(pending)
    assert not is_ready(backoff) and is_stuck(backoff)
    assert parse_time("2024-09-12T08:30:00Z") == dt.datetime(2024, 9, 12, 8, 30, tzinfo=dt.timezone.utc)
    assert parse_time("2024-09-12T08:30:01.089004Z").microsecond == 89004


def test_kube_burner_view_counts_whole_seconds_from_creation() -> None:
    pods = {p["metadata"]["name"]: p for p in items("pods-startup.json")}
    assert kube_burner_latencies(pods["start-1-0"]) == {"PodScheduled": 0, "Initialized": 0, "ContainersReady": 2, "Ready": 2}
    assert kube_burner_latencies(pods["start-1-1"]) == {"PodScheduled": 1, "Initialized": 1, "ContainersReady": 3, "Ready": 3}
    assert kube_burner_latencies(pods["start-1-3"]) == {"PodScheduled": 0, "Initialized": 0}
    assert kube_burner_latencies(pods["start-1-4"]) == {}


def test_cl2_view_times_watch_events_from_the_create_request(watch) -> None:  # type: ignore[no-untyped-def]
    events, sent = watch
    latencies = cl2_latencies(events, sent)
    assert sorted(latencies) == ["start-1-0", "start-1-1", "start-1-2"]  # the others never ran
    expected = {
        "start-1-0": {"create_to_schedule": 47, "schedule_to_run": 2058, "run_to_watch": 0, "create_to_run": 2105},
        "start-1-1": {"create_to_schedule": 1042, "schedule_to_run": 2153, "run_to_watch": 265, "create_to_run": 3195},
        "start-1-2": {"create_to_schedule": 30, "schedule_to_run": 4240, "run_to_watch": 0, "create_to_run": 4270},
    }
    for pod, phases in expected.items():
        assert latencies[pod] == pytest.approx(phases, abs=1e-3)


def test_cl2_view_falls_back_to_the_added_event(watch) -> None:  # type: ignore[no-untyped-def]
    events, _ = watch
    latencies = cl2_latencies(events)
    assert latencies["start-1-0"]["create_to_schedule"] == pytest.approx(35, abs=1e-3)
    assert latencies["start-1-0"]["create_to_run"] == pytest.approx(2093, abs=1e-3)
    assert latencies["start-1-2"]["create_to_run"] == pytest.approx(4256, abs=1e-3)


def test_cl2_view_does_not_depend_on_event_order(watch) -> None:  # type: ignore[no-untyped-def]
    events, sent = watch
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    assert cl2_latencies(shuffled, sent) == cl2_latencies(events, sent)


def test_startup_report_has_both_views_of_the_same_pods(watch) -> None:  # type: ignore[no-untyped-def]
    events, sent = watch
    report = startup_report(items("pods-startup.json"), events, sent, items("events.json"))
    assert report.total == 5
    assert report.kube_burner == {
        "PodScheduled": (0, 1, 0), "Initialized": (0, 1, 0), "ContainersReady": (2, 3, 4), "Ready": (2, 3, 4),
    }
    assert report.cl2["create_to_run"] == pytest.approx((2105, 3195, 4270), abs=1e-3)
    assert report.cl2["run_to_watch"] == pytest.approx((0, 265, 0), abs=1e-3)
    ready = quantiles(report.kube_burner["Ready"])
    assert (ready.p50, ready.p90, ready.p99, ready.max) == pytest.approx((3.0, 3.8, 3.98, 4.0))
    to_run = quantiles(report.cl2["create_to_run"])
    assert (to_run.p50, to_run.p90, to_run.max) == pytest.approx((3195, 4055, 4270), abs=1e-3)


def test_pods_that_never_became_ready_are_counted_with_their_reasons(watch) -> None:  # type: ignore[no-untyped-def]
    events, sent = watch
    report = startup_report(items("pods-startup.json"), events, sent, items("events.json"))
    assert [(p.name, p.reason) for p in report.not_ready] == [
        ("start-1-3", "ImagePullBackOff"), ("start-1-4", "Unschedulable"),
    ]
    assert 'Back-off pulling image "registry.example.invalid/none:1"' in report.not_ready[0].message
    assert "1 Too many pods" in report.not_ready[1].message


def test_more_than_ten_percent_not_ready_invalidates_the_run(watch) -> None:  # type: ignore[no-untyped-def]
    events, sent = watch
    report = startup_report(items("pods-startup.json"), events, sent, items("events.json"))
    assert report.error_ratio == pytest.approx(0.4)
    assert not report.valid
    reason = report.invalid_reason
    assert reason is not None
    assert "2 of 5 pods (40%) never became Ready" in reason and "10%" in reason
    assert "start-1-3: ImagePullBackOff" in reason and "Too many pods" in reason


@pytest.mark.parametrize(("ready", "not_ready", "valid"), [(9, 1, True), (9, 2, False), (10, 0, True), (0, 1, False)])
def test_the_ten_percent_line(ready: int, not_ready: int, valid: bool) -> None:
    good, bad = load("pod-running-ready.json"), load("pod-image-pull-backoff.json")
    pods = [renamed(good, f"ok-{i}") for i in range(ready)] + [renamed(bad, f"bad-{i}") for i in range(not_ready)]
    report = startup_report(pods)
    assert report.valid is valid
    assert (report.invalid_reason is None) is valid
    assert MAX_NOT_READY_RATIO == 0.10


def test_no_pods_is_not_a_valid_run() -> None:
    report = startup_report([])
    assert not report.valid and report.invalid_reason == "no pods were created"


def test_a_pod_without_a_waiting_reason_takes_its_latest_warning_event() -> None:
    pod = load("pod-pending.json")
    events = [dict(e, involvedObject=dict(e["involvedObject"], name="start-1-9")) for e in items("events.json")
              if e["metadata"]["name"].startswith("start-1-3.")]
    why = not_ready_reason(pod, events)
    assert (why.reason, why.message) == ("Failed", "Error: ImagePullBackOff")
    assert not_ready_reason(pod).reason == "phase Pending"


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50))
def test_quantiles_are_ordered(samples: list[float]) -> None:
    q = quantiles(samples)
    assert min(samples) <= q.p50 <= q.p90 <= q.p99 <= q.max == max(samples)


# -- density ----------------------------------------------------------------------------------


def test_density_stops_at_max_pods_when_the_scheduler_says_too_many_pods() -> None:
    stop = density_stop(load("density/node-max-pods-8.json"), items("density/pods-on-node.json"),
                        items("density/ours.json"), items("density/events-max-pods.json"), target=300)
    assert stop is not None and stop.kind == "max-pods"
    assert stop.message.startswith("kubelet max-pods=8 reached on node k3s-server (8 pods on the node, 3 of them not")
    assert "--kubelet-arg=max-pods=N" in stop.message


def test_density_stops_at_max_pods_by_count_before_any_pod_is_refused() -> None:
    ours = items("density/ours.json")[:5]  # the refused pod not yet created; a Succeeded pod does not count
    stop = density_stop(load("density/node-max-pods-8.json"), items("density/pods-on-node.json"), ours, [], target=300)
    assert stop is not None and stop.kind == "max-pods" and "max-pods=8" in stop.message


def test_density_stops_at_the_target() -> None:
    ours = items("density/ours.json")[:5]
    stop = density_stop(load("density/node-max-pods-8.json"), items("density/pods-on-node.json"), ours, [], target=5)
    assert stop is not None and (stop.kind, stop.message) == ("target", "target of 5 pods reached on node k3s-server")


def test_density_goes_on_while_nothing_stops_it() -> None:
    ours = items("density/ours.json")[:5]
    assert density_stop(load("nodes.json")["items"][0], ours, ours, [], target=300) is None


def test_density_stops_when_the_pod_cidr_runs_out_of_addresses() -> None:
    node, on_node, ours = (load("density/node-pod-cidr-29.json"), items("density/pods-on-node-cidr.json"),
                           items("density/ours-cidr.json"))
    stop = density_stop(node, on_node, ours, items("density/events-pod-cidr.json"), target=300)
    assert stop is not None and stop.kind == "pod-cidr"
    assert "pod CIDR 10.42.0.0/29 of node k3s-server is exhausted (pod density-2-4 got no IP address" in stop.message
    by_count = density_stop(node, on_node, ours, [], target=300)  # hostNetwork pods need no pod IP
    assert by_count is not None and by_count.kind == "pod-cidr" and "5 of 5 pod IPs in use" in by_count.message


@pytest.mark.parametrize(("cidr", "pods"), [("10.42.0.0/24", 253), ("10.42.0.0/29", 5), ("10.42.0.0/30", 1),
                                            ("fd00:42::/64", None), ("", None)])
def test_pod_cidr_capacity(cidr: str, pods: int | None) -> None:
    assert pod_cidr_capacity(cidr) == pods


def test_density_stops_when_resources_run_out() -> None:
    stop = density_stop(load("density/node-max-pods-8.json"), [], [load("density/pod-insufficient-memory.json")], [], 300)
    assert stop is not None and stop.kind == "resources"
    assert stop.message.startswith("node k3s-server has no allocatable memory left for pod density-3-0")


def test_density_stops_at_any_other_unschedulable_pod_with_the_scheduler_message() -> None:
    stop = density_stop(load("density/node-max-pods-8.json"), [], [load("density/pod-selector-mismatch.json")], [], 300)
    assert stop is not None and stop.kind == "unschedulable"
    assert "pod density-4-0 cannot be scheduled on node k3s-server: 0/2 nodes are available: 2 node(s) didn't match" \
        in stop.message


def test_density_stops_at_the_first_failed_pod() -> None:
    pods = items("pods-startup.json")[:4]  # three Ready pods and one in ImagePullBackOff
    stop = density_stop(load("nodes.json")["items"][0], pods, pods, items("events.json"), target=300)
    assert stop is not None and stop.kind == "failed"
    assert stop.message == ('pod start-1-3 failed on node k3s-server after 3 ready pods: ImagePullBackOff: '
                            'Back-off pulling image "registry.example.invalid/none:1"')


def test_a_refused_pod_found_only_in_the_events_still_stops_the_ramp() -> None:
    ours = items("density/ours.json")
    ours[-1]["status"]["conditions"][0].pop("message")
    stop = density_stop(load("density/node-max-pods-8.json"), items("density/pods-on-node.json"), ours,
                        items("density/events-max-pods.json"), target=300)
    assert stop is not None and stop.kind == "max-pods"


# -- memory -----------------------------------------------------------------------------------


def test_memory_per_pod_and_container_from_the_stats_summary() -> None:
    report = memory_report(load("stats-summary.json"), NAMESPACE)
    assert report.node == "k3s-server"
    assert report.pods == (("memory-1-0", 409600), ("memory-1-1", 512000), ("memory-1-2", 921600))
    assert report.missing == ("memory-1-3",)  # not measured yet: listed, never counted as zero
    assert [(c.pod, c.container, c.working_set_bytes) for c in report.containers] == [
        ("memory-1-0", "workload", 307200), ("memory-1-1", "workload", 358400), ("memory-1-2", "workload", 389120),
    ]
    assert report.average_bytes == 614400
    q = report.pod_quantiles()
    assert (q.p90, q.max) == (839680, 921600)


def test_k3s_footprint_counts_the_shared_cgroup_once() -> None:
    report = memory_report(load("stats-summary.json"), NAMESPACE)
    assert report.footprint_bytes == 188743680
    assert "counted once" in report.footprint_note
    assert dict(report.system) == {"kubelet": 188743680, "runtime": 188743680, "pods": 412352512}
    assert report.node_working_set_bytes == 1342177280


def test_footprint_adds_kubelet_and_runtime_when_they_are_separate() -> None:
    summary = load("stats-summary.json")
    runtime = next(c for c in summary["node"]["systemContainers"] if c["name"] == "runtime")
    runtime["memory"]["workingSetBytes"] = 52428800
    report = memory_report(summary, NAMESPACE)
    assert report.footprint_bytes == 188743680 + 52428800
    assert report.footprint_note == "kubelet + runtime system containers"


def test_pod_memory_falls_back_to_its_containers() -> None:
    summary = load("stats-summary.json")
    del summary["pods"][1]["memory"]
    assert dict(memory_report(summary, NAMESPACE).pods)["memory-1-0"] == 307200


# -- namespaces -------------------------------------------------------------------------------


def test_stale_namespaces_by_age_skipping_those_already_terminating() -> None:
    now = dt.datetime(2024, 9, 12, 8, 30, tzinfo=dt.timezone.utc)
    stale = stale_namespaces(load("namespaces.json"), now, dt.timedelta(hours=1), "perfdata/created-at")
    assert stale == ["perfdata-0a1b2c3d4e5f", "perfdata-77ee66dd55cc"]
    assert stale_namespaces(load("namespaces.json"), now, dt.timedelta(hours=3), "perfdata/created-at") == []
