"""Faults and clean-up proven on a real API server, the local control plane: throttling, sweeps, credentials.

The recorded-object tests (test_k3s_backend.py) prove the logic against fakes; these prove that
a real kube-apiserver behaves as the fakes say. They need the binaries ``python3 tools/setup.py
suites`` builds, and skip saying so without them.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_perfdata.engines.k8s import CREATED_AT_ANNOTATION, MANAGED_BY, RUN_LABEL, K3sApiError, K3sSettings
from pytest_perfdata.engines.k8s.api import connect
from pytest_perfdata.engines.k8s.local import ControlPlaneOptions, LocalCluster, LocalControlPlane, default_nodes, find_binaries
from pytest_perfdata.engines.k8s.local.pki import TENANT_GROUP
from pytest_perfdata.engines.k8s.retry import RetryPolicy, call_with_retry

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "throttled"
FLOWCONTROL = "/apis/flowcontrol.apiserver.k8s.io/v1"
#: The API server's concurrency (the two in-flight limits together), deliberately low: a priority
#: level of one share in 246 (the defaults' 245 and ours) then gets ceil(10 / 246) = 1 seat.
LOW_INFLIGHT = ControlPlaneOptions(max_requests_inflight=5, max_mutating_requests_inflight=5)


def _started(options: ControlPlaneOptions | None) -> Iterator[LocalCluster]:
    found = find_binaries(ROOT)
    if isinstance(found, str):
        pytest.skip(found)
    started = LocalCluster.start(found, default_nodes(2), options)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """The throttling tests' server, deliberately starved of concurrency."""
    yield from _started(LOW_INFLIGHT)


@pytest.fixture(scope="module")
def plain_cluster() -> Iterator[LocalCluster]:
    """A server with the default limits, for a whole run: on the starved one, a service account's
    requests share a level of one or two seats and time out while the server is still busy starting."""
    yield from _started(None)


def _must(answer: tuple[int, bytes], *expected: int) -> Any:
    status, body = answer
    assert status in (expected or (200, 201)), f"HTTP {status}: {body[:500]!r}"
    return json.loads(body)


def _wait(what: str, done: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll a condition the server reaches on its own (a controller's work); fail naming it."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"{what}: not after {timeout_s:g} s"
        time.sleep(0.1)


# -- throttling


def _tenant_get(plane: LocalControlPlane, context: ssl.SSLContext) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPSConnection("127.0.0.1", plane.port, context=context, timeout=5)
    try:
        connection.request("GET", f"/api/v1/namespaces/{NAMESPACE}/configmaps")
        response = connection.getresponse()
        response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


class SeatHolder:
    """A request whose body never arrives: the server has admitted it and waits for the body, so it
    holds one seat of its priority level until :meth:`release` closes the connection."""

    def __init__(self, plane: LocalControlPlane, context: ssl.SSLContext) -> None:
        self.socket = context.wrap_socket(socket.create_connection(("127.0.0.1", plane.port)),
                                          server_hostname="127.0.0.1")
        self.socket.sendall(f"POST /api/v1/namespaces/{NAMESPACE}/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode())

    def release(self) -> None:
        self.socket.close()


@pytest.fixture(scope="module")
def tenant_level(cluster: LocalCluster) -> Iterator[ssl.SSLContext]:
    """The tenant may edit ``throttled``; its requests meet a priority level that rejects beyond its one seat."""
    plane = cluster.plane
    _must(plane.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                        "metadata": {"name": NAMESPACE}}))
    _must(plane.request("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}/rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "tenants-edit"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": TENANT_GROUP}]}))
    level = _must(plane.request("POST", f"{FLOWCONTROL}/prioritylevelconfigurations", {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration",
        "metadata": {"name": "perfdata-tenants"},
        "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 1, "lendablePercent": 0,
                                                "borrowingLimitPercent": 0, "limitResponse": {"type": "Reject"}}}}))
    _must(plane.request("POST", f"{FLOWCONTROL}/flowschemas", {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": {"name": "perfdata-tenants"},
        "spec": {"priorityLevelConfiguration": {"name": "perfdata-tenants"}, "matchingPrecedence": 500,
                 "distinguisherMethod": {"type": "ByUser"},
                 "rules": [{"subjects": [{"kind": "Group", "group": {"name": TENANT_GROUP}}],
                            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
                                               "namespaces": ["*"], "clusterScope": True}],
                            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}}))  # fmt: skip
    context = plane.tenant_tls
    uid = level["metadata"]["uid"]  # the server names the level that served a request in a header
    _wait("the tenant's requests served by its priority level",
          lambda: _tenant_get(plane, context)[1].get("x-kubernetes-pf-prioritylevel-uid") == uid)
    yield context


@pytest.fixture(scope="module")
def tenant_core(cluster: LocalCluster, tenant_level: ssl.SSLContext) -> Any:
    """The tenant's API client, connected (its /version probe made) while no seat is held."""
    from kubernetes import client

    return client.CoreV1Api(connect(K3sSettings(kubeconfig=str(cluster.plane.tenant_kubeconfig))).api_client)


@pytest.fixture
def held_seat(cluster: LocalCluster, tenant_level: ssl.SSLContext, tenant_core: Any) -> Iterator[SeatHolder]:
    # The seat must be free first: a holder sent while the last one's request still holds it is
    # rejected itself, and then holds nothing.
    _wait("the seat free (a tenant GET answered 200)", lambda: _tenant_get(cluster.plane, tenant_level)[0] == 200)
    holder = SeatHolder(cluster.plane, tenant_level)
    try:
        _wait("the seat held (a tenant GET answered 429)", lambda: _tenant_get(cluster.plane, tenant_level)[0] == 429)
        yield holder
    finally:
        holder.release()


def _config_map(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


POLICY = RetryPolicy(attempts=3, base_s=0.05, cap_s=2.0, deadline_s=20.0, request_timeout_s=5.0)


def test_throttling_is_retried_as_the_server_asks_then_fails_naming_the_cause(
    cluster: LocalCluster, tenant_core: Any, held_seat: SeatHolder
) -> None:
    core = tenant_core
    waits: list[float] = []
    with pytest.raises(K3sApiError) as caught:
        call_with_retry(core.create_namespaced_config_map, NAMESPACE, _config_map("refused"),
                        what="create config map refused", policy=POLICY, sleep=lambda s: (waits.append(s), time.sleep(s)))
    assert str(caught.value).startswith("create config map refused: gave up after 3 attempt(s)")
    assert str(caught.value).endswith("HTTP 429 Too Many Requests: Too many requests, please try again later.")
    assert len(waits) == 2 and all(wait >= 1.0 for wait in waits), f"Retry-After: 1 not honoured: {waits}"
    assert _must(cluster.plane.get(f"/api/v1/namespaces/{NAMESPACE}/configmaps/refused"), 404)["code"] == 404


def test_a_throttled_call_succeeds_once_the_seat_is_free(cluster: LocalCluster, tenant_core: Any,
                                                         held_seat: SeatHolder) -> None:
    core = tenant_core
    waits: list[float] = []

    def wait_while_the_seat_frees(seconds: float) -> None:
        waits.append(seconds)
        held_seat.release()
        time.sleep(seconds)

    call_with_retry(core.create_namespaced_config_map, NAMESPACE, _config_map("admitted"),
                    what="create config map admitted", policy=POLICY, sleep=wait_while_the_seat_frees)
    assert len(waits) == 1
    assert _must(cluster.plane.get(f"/api/v1/namespaces/{NAMESPACE}/configmaps/admitted"))["data"] == {"k": "v"}


# -- a whole run against the real server: sweep, clean-up, credentials


def _service_account_token(plane: LocalControlPlane) -> str:
    """A bearer token the server accepts: a service account bound to cluster-admin, its TokenRequest."""
    _must(plane.request("POST", "/api/v1/namespaces/default/serviceaccounts",
                        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "perfdata-ci"}}), 201, 409)
    _must(plane.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "perfdata-ci"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "perfdata-ci", "namespace": "default"}]}), 201, 409)
    answer = _must(plane.request("POST", "/api/v1/namespaces/default/serviceaccounts/perfdata-ci/token", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}))
    return str(answer["status"]["token"])


def _token_kubeconfig(plane: LocalControlPlane, token: str, path: Path) -> tuple[str, ...]:
    """A kubeconfig whose context uses ``token``, beside a user with a client key; returns the secrets."""
    tenant = json.loads(plane.tenant_kubeconfig.read_text())
    cluster = tenant["clusters"][0]
    key_data = tenant["users"][0]["user"]["client-key-data"]
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "ci", "clusters": [cluster],
              "users": [{"name": "ci", "user": {"token": token}}, tenant["users"][0]],
              "contexts": [{"name": "ci", "context": {"cluster": cluster["name"], "user": "ci"}}]}
    path.write_text(json.dumps(config))
    key_pem = base64.b64decode(key_data).decode()
    key_body = "".join(line for line in key_pem.splitlines() if "PRIVATE KEY" not in line)
    return token, token.split(".")[2], key_data, key_body[:40], key_body[-40:]


RUN_AGAINST_THE_SERVER = """
import logging

def test_measured_on_the_real_server(perf, k3s_cluster):
    node = k3s_cluster.nodes[0]
    logging.getLogger("pytest_perfdata.k3s").warning("server %s, notes %s", k3s_cluster.connection.server,
                                                     k3s_cluster.notes(node))
    perf.record_value("k8s.reachable", 1, unit="ms", engine=k3s_cluster.engine(node), notes=k3s_cluster.notes(node))
    missing = k3s_cluster.list_pods("perfdata/batch=none")
    assert missing == []
"""


def test_a_run_sweeps_a_crashed_runs_namespace_removes_its_own_and_never_shows_a_credential(
    plain_cluster: LocalCluster, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    plane = plain_cluster.plane
    crashed = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _must(plane.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "perfdata-crashed", "labels": {MANAGED_BY[0]: MANAGED_BY[1], RUN_LABEL: "crashed"},
        "annotations": {CREATED_AT_ANNOTATION: crashed}}}))
    secrets = _token_kubeconfig(plane, _service_account_token(plane), tmp_path / "kubeconfig")
    pytester.makepyfile(RUN_AGAINST_THE_SERVER)
    result = pytester.runpytest_subprocess(
        "--perf-k3s-cluster=kubeconfig", f"--perf-kubeconfig={tmp_path / 'kubeconfig'}", "--perf-report=r.json",
        "--perf-report=r.md", "--junitxml=j.xml", "--log-file=run.log", "--log-file-level=DEBUG",
        "--log-level=DEBUG", "-rA")
    result.assert_outcomes(passed=1)

    written = [pytester.path / name for name in ("r.json", "r.md", "j.xml", "run.log")]
    written += sorted((pytester.path / ".perfdata").rglob("*.json"))
    texts = {"stdout": result.stdout.str(), "stderr": result.stderr.str(),
             **{str(path.relative_to(pytester.path)): path.read_text(errors="replace") for path in written}}
    assert len(texts) >= 7 and "deleting namespace perfdata-crashed" in texts["run.log"]
    leaked = [(name, secret[:12]) for name, text in texts.items() for secret in secrets if secret in text]
    assert leaked == []
    record = json.loads(texts["r.json"])["records"][0]
    assert record["engine"]["name"] == "kubernetes" and record["engine"]["version"].startswith("v1.")

    run_namespace = f"perfdata-{json.loads(texts['r.json'])['run']['id']}"
    for name in ("perfdata-crashed", run_namespace):
        _wait(f"namespace {name} gone", lambda: plane.get(f"/api/v1/namespaces/{name}")[0] == 404)
