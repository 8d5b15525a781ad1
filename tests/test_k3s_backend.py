"""The K3s backend without a cluster: retries, redaction, clean-up order, kubeconfig search, skip reasons."""

# API calls are replaced by fakes that record what they were asked, and sleeping by a function
# that only remembers how long it was asked to sleep: nothing here waits or needs a network,
# except connection attempts to 127.0.0.1:1, which are refused at once.

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, SSLError

from pytest_perfdata.engines.k8s import DEFAULT_IMAGE, DEFAULT_WASM_IMAGE, K3sApiError, K3sUnavailable
from pytest_perfdata.engines.k8s.api import Connection, KubeconfigSource, connect, find_kubeconfig
from pytest_perfdata.engines.k8s.cluster import K3sCluster
from pytest_perfdata.engines.k8s.metrics import cluster_facts
from pytest_perfdata.engines.k8s.namespaces import (
    delete_run_namespace,
    namespace_manifest,
    run_namespace_name,
    sweep_stale_namespaces,
)
from pytest_perfdata.engines.k8s.redaction import redact, redact_text
from pytest_perfdata.engines.k8s.retry import RetryPolicy, call_with_retry, describe_error, is_retryable
from pytest_perfdata.engines.k8s.settings import K3sSettings
from pytest_perfdata.engines.k8s.teardown import Teardown
from pytest_perfdata.engines.k8s.workload import pod_manifest, resolve_runtime

DATA = Path(__file__).parent / "data" / "k8s"
TOKEN = "sekrit-token-0123456789abcdef"
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: dead
  cluster: {{server: "{server}", insecure-skip-tls-verify: true}}
users:
- name: admin
  user: {{token: "{token}"}}
contexts:
- name: default
  context: {{cluster: dead, user: admin}}
current-context: default
"""


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class Sleeps(list[float]):
    """An injected sleep: remembers each wait and moves a fake clock on by it."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def failing(*errors: BaseException, result: object = "ok") -> Callable[..., object]:
    """A callable that raises ``errors`` in turn, then returns ``result``; it records its calls."""
    queue = list(errors)
    calls: list[dict[str, Any]] = []

    def fn(*args: Any, **kwargs: Any) -> object:
        calls.append(kwargs)
        if queue:
            raise queue.pop(0)
        return result

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def refused() -> MaxRetryError:
    return MaxRetryError(None, "/api/v1/pods", NewConnectionError(None, "Failed to establish a new connection: "  # type: ignore[arg-type]
                                                                   "[Errno 111] Connection refused"))


# -- retries ----------------------------------------------------------------------------------


def test_429_is_retried_with_growing_waits_and_every_call_has_a_timeout() -> None:
    sleeps = Sleeps()
    fn = failing(ApiException(status=429, reason="Too Many Requests"), ApiException(status=429))
    policy = RetryPolicy(base_s=0.5, cap_s=8.0, request_timeout_s=12.0)
    assert call_with_retry(fn, what="list pods", policy=policy, sleep=sleeps, clock=sleeps.clock, jitter=lambda: 0.0) == "ok"
    assert len(fn.calls) == 3  # type: ignore[attr-defined]
    assert all(call["_request_timeout"] == 12.0 for call in fn.calls)  # type: ignore[attr-defined]
    assert sleeps == [0.25, 0.5]  # half of 0.5 s, then half of 1 s: jitter 0 takes the lower half


@pytest.mark.parametrize("error", [
    ApiException(status=500), ApiException(status=502), ApiException(status=503), ApiException(status=504),
    ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")),
    ConnectionResetError(104, "Connection reset by peer"),
    refused(),
], ids=["500", "502", "503", "504", "protocol-reset", "reset", "refused"])
def test_transient_failures_are_retried(error: BaseException) -> None:
    sleeps = Sleeps()
    fn = failing(error)
    assert call_with_retry(fn, what="x", sleep=sleeps, clock=sleeps.clock) == "ok"
    assert is_retryable(error) and len(sleeps) == 1


@pytest.mark.parametrize("error", [ApiException(status=404), ApiException(status=409), ApiException(status=403),
                                   SSLError("certificate verify failed"), ValueError("bug")])
def test_other_failures_are_raised_unchanged_at_once(error: BaseException) -> None:
    sleeps = Sleeps()
    with pytest.raises(type(error)) as raised:
        call_with_retry(failing(error), what="x", sleep=sleeps, clock=sleeps.clock)
    assert raised.value is error and sleeps == []


def test_retries_are_bounded_by_attempts_and_then_fail_with_the_cause() -> None:
    sleeps = Sleeps()
    fn = failing(*[ApiException(status=503, reason="Service Unavailable")] * 50)
    with pytest.raises(K3sApiError) as raised:
        call_with_retry(fn, what="create pod start-1-0", policy=RetryPolicy(attempts=4), sleep=sleeps, clock=sleeps.clock)
    assert len(fn.calls) == 4 and len(sleeps) == 3  # type: ignore[attr-defined]
    message = str(raised.value)
    assert message.startswith("create pod start-1-0: gave up after 4 attempt(s)")
    assert message.endswith("HTTP 503 Service Unavailable")
    assert isinstance(raised.value.__cause__, ApiException)


def test_retries_are_bounded_by_total_time() -> None:
    sleeps = Sleeps()
    fn = failing(*[refused()] * 50)
    policy = RetryPolicy(attempts=100, base_s=1.0, cap_s=4.0, deadline_s=10.0)
    with pytest.raises(K3sApiError, match="cannot connect: .*Connection refused"):
        call_with_retry(fn, what="x", policy=policy, sleep=sleeps, clock=sleeps.clock, jitter=lambda: 1.0)
    assert sleeps == [1.0, 2.0, 4.0]  # a fourth wait of 4 s would end past the 10 s deadline
    assert sum(sleeps) <= policy.deadline_s


def test_retry_after_is_honoured_within_the_cap() -> None:
    sleeps = Sleeps()
    error = ApiException(status=429)
    error.headers = {"Retry-After": "3"}
    call_with_retry(failing(error), what="x", policy=RetryPolicy(base_s=0.1, cap_s=8.0), sleep=sleeps, clock=sleeps.clock)
    assert sleeps == [3.0]


@given(st.integers(min_value=1, max_value=40), st.floats(min_value=0.0, max_value=1.0))
def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half(attempt: int, jitter: float) -> None:
    policy = RetryPolicy(base_s=0.25, cap_s=8.0)
    ceiling = min(8.0, 0.25 * 2 ** (attempt - 1))
    assert ceiling / 2 <= policy.delay(attempt, jitter) <= ceiling


# -- redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "secret"), [
    ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl", "eyJhbGciOiJSUzI1NiJ9"),
    ("headers {'authorization': 'Bearer abc.def-123'}", "abc.def-123"),
    ("    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t", "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t"),
    (f"user: {{token: {TOKEN}}}", TOKEN),
    ('{"password": "hunter2", "username": "admin"}', "hunter2"),
    ("proxy https://admin:hunter2@10.0.0.1:6443/api failed", "hunter2"),
    ("join with K10a1b2c3d4e5f60718293a4b5c6d7e8f90::server:0123456789abcdef", "0123456789abcdef"),
    ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBtH\n-----END EC PRIVATE KEY-----", "MHcCAQEEIBtH"),
])
def test_credentials_are_masked_in_text(text: str, secret: str) -> None:
    masked = redact_text(text)
    assert secret not in masked and "<redacted" in masked


def test_text_without_credentials_is_left_alone() -> None:
    text = "cluster v1.30.4+k3s1 at https://192.168.56.10:6443, node k3s-server (amd64), 110 pods"
    assert redact_text(text) == text


def test_credentials_are_masked_in_nested_objects() -> None:
    kubeconfig = {"users": [{"name": "admin", "user": {"token": TOKEN, "client-key-data": "LS0t", "username": "me"}}],
                  "clusters": [{"cluster": {"server": "https://me:pw@k3s:6443"}}]}
    masked = redact(kubeconfig)
    text = json.dumps(masked)
    assert TOKEN not in text and "LS0t" not in text and ":pw@" not in text
    assert masked["users"][0]["user"]["username"] == "me"
    assert kubeconfig["users"][0]["user"]["token"] == TOKEN  # a copy: the original is untouched


def test_the_backend_logger_masks_what_it_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pytest_perfdata.k3s"):
        logging.getLogger("pytest_perfdata.k3s").info("request headers %s", {"Authorization": f"Bearer {TOKEN}"})
    assert TOKEN not in caplog.text and "Bearer <redacted>" in caplog.text


def test_errors_are_described_on_one_redacted_line() -> None:
    error = ApiException(status=401, reason="Unauthorized")
    error.body = json.dumps({"kind": "Status", "message": f"token {TOKEN} is invalid\nsee logs"})
    line = describe_error(error)
    assert line.startswith("HTTP 401 Unauthorized: token") and "\n" not in line and TOKEN not in line
    assert describe_error(refused()) == "cannot connect: [Errno 111] Connection refused"


@pytest.mark.parametrize(("body", "described"), [
    ("Too many requests, please try again later.\n", "HTTP 429 Too Many Requests: Too many requests, please try again later."),
    (b"Too many requests\r\nsecond line", "HTTP 429 Too Many Requests: Too many requests"),
    ("", "HTTP 429 Too Many Requests"),
    ('{"kind": "Status"}', "HTTP 429 Too Many Requests"),
    ("[1, 2]", "HTTP 429 Too Many Requests"),
    ("[" * 100_000, "HTTP 429 Too Many Requests: " + "[" * 200),
])  # fmt: skip
def test_a_plain_text_error_body_is_the_cause_too(body: object, described: str) -> None:
    """API priority and fairness rejects with text, not a Status object: that text is the cause."""
    error = ApiException(status=429, reason="Too Many Requests")
    error.body = body
    assert describe_error(error) == described


# -- namespace lifecycle ----------------------------------------------------------------------


class FakeCore:
    """Stands in for ``CoreV1Api``: records the calls in order; ``fail`` maps a method to errors to raise."""

    def __init__(self, fail: dict[str, list[BaseException]] | None = None, namespaces: Any = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.fail = fail or {}
        self.namespaces = namespaces

    def _record(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.calls.append((method, args, kwargs))
        if self.fail.get(method):
            raise self.fail[method].pop(0)
        return SimpleNamespace(data=json.dumps(self.namespaces or {}).encode())

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *args, **kwargs: self._record(method, args, kwargs)

    @property
    def order(self) -> list[str]:
        return [call[0] for call in self.calls]


def test_cleanup_deletes_pods_then_the_namespace() -> None:
    core = FakeCore()
    assert delete_run_namespace(core, "perfdata-abc", sleep=Sleeps()) == []
    assert core.order == ["delete_collection_namespaced_pod", "delete_namespace"]
    (_, pod_args, pod_kwargs), (_, ns_args, _) = core.calls
    assert pod_args == ns_args == ("perfdata-abc",)
    assert pod_kwargs["grace_period_seconds"] == 0 and "_request_timeout" in pod_kwargs


def test_cleanup_deletes_the_namespace_even_when_deleting_pods_fails() -> None:
    core = FakeCore(fail={"delete_collection_namespaced_pod": [ApiException(status=403, reason="Forbidden")]})
    problems = delete_run_namespace(core, "perfdata-abc", sleep=Sleeps())
    assert core.order == ["delete_collection_namespaced_pod", "delete_namespace"]
    assert problems == ["delete pods of perfdata-abc: HTTP 403 Forbidden"]


def test_cleanup_retries_a_flaky_server_within_bounds_then_goes_on() -> None:
    sleeps = Sleeps()
    core = FakeCore(fail={"delete_collection_namespaced_pod": [ApiException(status=503)] * 3,
                          "delete_namespace": [ConnectionResetError(104, "reset"), ApiException(status=404)]})
    problems = delete_run_namespace(core, "perfdata-abc", policy=RetryPolicy(attempts=3), sleep=sleeps)
    assert core.order == ["delete_collection_namespaced_pod"] * 3 + ["delete_namespace"] * 2
    assert len(problems) == 1 and "gave up after 3 attempt(s)" in problems[0]  # the 404: already gone, fine


def test_stale_namespaces_of_crashed_runs_are_swept() -> None:
    core = FakeCore(namespaces=load("namespaces.json"))
    now = dt.datetime(2024, 9, 12, 8, 30, tzinfo=dt.timezone.utc)
    assert sweep_stale_namespaces(core, now, sleep=Sleeps()) == ["perfdata-0a1b2c3d4e5f", "perfdata-77ee66dd55cc"]
    assert core.calls[0][2]["label_selector"] == "app.kubernetes.io/managed-by=pytest-perfdata"
    assert core.order[1:] == ["delete_collection_namespaced_pod", "delete_namespace"] * 2
    assert [args for method, args, _ in core.calls if method == "delete_namespace"] == [
        ("perfdata-0a1b2c3d4e5f",), ("perfdata-77ee66dd55cc",)]


def test_the_run_namespace_is_labelled_and_stamped() -> None:
    manifest = namespace_manifest("perfdata-abc", "abc", dt.datetime(2024, 9, 12, 8, 30, tzinfo=dt.timezone.utc))
    assert manifest["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "pytest-perfdata", "perfdata/run": "abc"}
    assert manifest["metadata"]["annotations"] == {"perfdata/created-at": "2024-09-12T08:30:00Z"}
    assert run_namespace_name("3F9C2A71B0DE", "gw1") == "perfdata-3f9c2a71b0de-gw1"
    assert len(run_namespace_name("x" * 80)) <= 63


def fake_cluster(core: FakeCore, settings: K3sSettings | None = None, nodes: str = "all") -> K3sCluster:
    facts = cluster_facts(load("version.json"), load("nodes.json"), load("runtimeclasses.json"))
    api_client = SimpleNamespace(closed=False)
    api_client.close = lambda: setattr(api_client, "closed", True)
    source = KubeconfigSource("KUBECONFIG", "/tmp/kubeconfig")
    connection = Connection(api_client, source, "default", "https://192.168.56.10:6443", load("version.json"))
    chosen = facts.nodes if nodes == "all" else (facts.node(nodes),)
    cluster = K3sCluster(connection, facts, settings or K3sSettings(), "perfdata-abc", chosen, "x86_64")
    cluster.core = core
    return cluster


def test_closing_the_fixture_cleans_up_once_and_closes_the_client() -> None:
    core = FakeCore()
    cluster = fake_cluster(core)
    cluster.close()
    cluster.close()
    assert core.order == ["delete_collection_namespaced_pod", "delete_namespace"]
    assert cluster.connection.api_client.closed


def test_keep_leaves_the_namespace(caplog: pytest.LogCaptureFixture) -> None:
    core = FakeCore()
    with caplog.at_level(logging.WARNING, logger="pytest_perfdata.k3s"):
        fake_cluster(core, K3sSettings(keep=True)).close()
    assert core.order == [] and "keeping namespace perfdata-abc" in caplog.text


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_sigterm_unwinds_like_ctrl_c_and_exit_cleans_up_once() -> None:
    ran: list[str] = []
    teardown = Teardown(lambda: ran.append("cleanup"))
    before = signal.getsignal(signal.SIGTERM)
    teardown.install()
    try:
        handler = signal.getsignal(signal.SIGTERM)
        if before is signal.SIG_DFL:
            assert callable(handler)
            with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
                handler(signal.SIGTERM, None)  # type: ignore[operator]
    finally:
        teardown()
    teardown()
    assert ran == ["cleanup"]
    assert signal.getsignal(signal.SIGTERM) == before


def test_records_name_the_node_and_say_when_its_architecture_is_not_the_target() -> None:
    cluster = fake_cluster(FakeCore())
    server, agent = cluster.nodes
    assert str(cluster.engine(agent)) == "k3s v1.30.4+k3s1 (rpi5-agent/arm64)"
    assert cluster.metric("k3s.density.pods.runc", agent) == "k3s.density.pods.runc.rpi5-agent"
    assert fake_cluster(FakeCore(), nodes="k3s-server").metric("k3s.density.pods.runc", server) == "k3s.density.pods.runc"
    assert cluster.runtimes(server) == {"k3s": "v1.30.4+k3s1", "containerd": "1.7.20-k3s1"}
    assert not any("judged against" in note for note in cluster.notes(server))
    assert any("judged against target arm64's baselines, not the run's target x86_64" in note for note in cluster.notes(agent))
    assert cluster.per_node("k3s.density.pods.runc", agent) == {
        "metric": "k3s.density.pods.runc.rpi5-agent", "target": "arm64", "family": "k3s.density.pods.runc"}
    alone = fake_cluster(FakeCore(), nodes="k3s-server")
    assert alone.per_node("k3s.density.pods.runc", server) == {
        "metric": "k3s.density.pods.runc", "target": "x86_64", "family": None}


# -- runtimes and pods ------------------------------------------------------------------------


def test_runtime_choice_and_the_pods_it_makes() -> None:
    facts = cluster_facts(load("version.json"), load("nodes.json"), load("runtimeclasses.json"))
    runc = resolve_runtime(facts, "runc", K3sSettings())
    assert (runc.runtime_class, runc.handler, runc.image) == (None, "runc", DEFAULT_IMAGE)
    wasm = resolve_runtime(facts, "wasmedge", K3sSettings())
    assert (wasm.runtime_class, wasm.image) == ("wasmedge", DEFAULT_WASM_IMAGE)
    assert resolve_runtime(facts, "crun", K3sSettings(image="busybox:1.36")).image == "busybox:1.36"
    with pytest.raises(K3sUnavailable, match=r"RuntimeClass kata is not in this cluster \(present: crun, spin, wasmedge, wasmtime\)"):
        resolve_runtime(facts, "kata", K3sSettings())
    pod = pod_manifest("start-1-0", wasm, facts.nodes[1], {"perfdata/batch": "start-1"})
    assert pod["spec"]["runtimeClassName"] == "wasmedge"
    assert pod["spec"]["nodeSelector"] == {"kubernetes.io/hostname": "rpi5-agent"}
    assert pod["spec"]["automountServiceAccountToken"] is False and pod["spec"]["terminationGracePeriodSeconds"] == 0
    assert "runtimeClassName" not in pod_manifest("p", runc, facts.nodes[0], {})["spec"]


# -- kubeconfig search and skip reasons -------------------------------------------------------


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    return {"home": home, "k3s": tmp_path / "k3s.yaml", "env": tmp_path / "env-config", "option": tmp_path / "opt"}


def write(path: Path, server: str = "https://127.0.0.1:1") -> Path:
    path.write_text(KUBECONFIG.format(server=server, token=TOKEN), encoding="utf-8")
    return path


def test_kubeconfig_search_order(places: dict[str, Path]) -> None:
    home, k3s = places["home"], places["k3s"]

    def found(option: str | None = None, env: dict[str, str] | None = None) -> tuple[str, str]:
        source = find_kubeconfig(option, env or {}, home, k3s)
        return source.origin, source.path

    write(k3s)
    assert found() == ("K3s default", str(k3s))
    write(home / ".kube" / "config")
    assert found() == ("~/.kube/config", str(home / ".kube" / "config"))
    write(places["env"])
    assert found(env={"KUBECONFIG": f"{places['env']}"}) == ("KUBECONFIG", str(places["env"]))
    assert found(env={"KUBECONFIG": f"/nowhere:{places['env']}"}) == ("KUBECONFIG", str(places["env"]))
    assert found(env={"KUBECONFIG": "/nowhere"}) == ("~/.kube/config", str(home / ".kube" / "config"))
    write(places["option"])
    assert found(str(places["option"]), {"KUBECONFIG": str(places["env"])}) == ("--perf-kubeconfig", str(places["option"]))


def test_a_named_kubeconfig_must_exist(places: dict[str, Path]) -> None:
    write(places["k3s"])
    with pytest.raises(K3sUnavailable, match=r"^--perf-kubeconfig /nope/config: no such file$"):
        find_kubeconfig("/nope/config", {}, places["home"], places["k3s"])


def test_no_kubeconfig_anywhere_is_one_line_naming_every_place(places: dict[str, Path]) -> None:
    with pytest.raises(K3sUnavailable) as raised:
        find_kubeconfig(None, {"KUBECONFIG": "/nowhere/a"}, places["home"], places["k3s"])
    reason = str(raised.value)
    assert "\n" not in reason
    assert reason == (f"no kubeconfig found (tried --perf-kubeconfig: not given; KUBECONFIG=/nowhere/a: no such file; "
                      f"{places['home']}/.kube/config: no such file; {places['k3s']}: no such file); see docs/k3s.md")


def test_an_unreachable_cluster_is_a_clean_one_line_reason(places: dict[str, Path]) -> None:
    config = write(places["env"])
    with pytest.raises(K3sUnavailable) as raised:
        connect(K3sSettings(), environ={"KUBECONFIG": str(config)}, home=places["home"], k3s_path=places["k3s"],
                sleep=Sleeps())
    reason = str(raised.value)
    assert reason.startswith(f"no reachable cluster at https://127.0.0.1:1 (context default, kubeconfig {config} "
                             f"(from KUBECONFIG)): cannot connect: [Errno 111] Connection refused")
    assert "tried first: --perf-kubeconfig: not given" in reason
    assert "\n" not in reason and TOKEN not in reason and "Traceback" not in reason
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(("text", "context", "expected"), [
    (None, "nope", "invalid kubeconfig: Invalid kube-config file. Expected object with name nope"),
    ("clusters: [oops", None, "cannot use kubeconfig"),
    ("apiVersion: v1\nkind: Config\n", None, "invalid kubeconfig"),
])
def test_a_broken_kubeconfig_is_a_clean_reason(places: dict[str, Path], text: str | None, context: str | None,
                                               expected: str) -> None:
    config = write(places["option"])
    if text is not None:
        config.write_text(text, encoding="utf-8")
    with pytest.raises(K3sUnavailable, match=expected) as raised:
        connect(K3sSettings(kubeconfig=str(config), context=context), environ={}, home=places["home"],
                k3s_path=places["k3s"], sleep=Sleeps())
    assert "\n" not in str(raised.value) and TOKEN not in str(raised.value)


# -- the fixture and its options, as a user meets them ----------------------------------------

USES_CLUSTER = """
def test_cluster(k3s_cluster):
    raise AssertionError("there is no cluster here")
"""


def test_fixture_skips_with_one_line_naming_the_kubeconfig(pytester: pytest.Pytester, places: dict[str, Path]) -> None:
    config = write(places["option"])
    pytester.makepyfile(USES_CLUSTER)
    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider", f"--perf-kubeconfig={config}")
    result.assert_outcomes(skipped=1)
    skipped = [line for line in result.stdout.lines if line.startswith("SKIPPED")]
    assert len(skipped) == 1
    assert f"kubeconfig {config} (from --perf-kubeconfig)): cannot connect: [Errno 111] Connection refused" in skipped[0]
    assert TOKEN not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(("option", "message"), [
    ("--perf-k3s-pods=0", "expected a number above zero"),
    ("--perf-k3s-timeout=5 parsec", "unknown unit"),
])
def test_bad_options_fail_at_the_command_line(pytester: pytest.Pytester, option: str, message: str) -> None:
    pytester.makepyfile(USES_CLUSTER)
    result = pytester.runpytest_subprocess(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


# -- the watch, fed a recorded stream ---------------------------------------------------------


class Body(io.BytesIO):
    """A response body that closes at its end, as a server's socket does (urllib3 reads until closed)."""

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if not data:
            self.close()
        return data


class StreamingCore(FakeCore):
    """A ``CoreV1Api`` whose watch replays ``tests/data/k8s/watch-startup.json`` as the server sends it."""

    def __init__(self, lines: bytes, fail_create: BaseException | None = None) -> None:
        super().__init__()
        self.lines = lines
        self.fail_create = fail_create

    def list_namespaced_pod(self, namespace: str, **kwargs: Any) -> Any:
        from urllib3 import HTTPResponse

        self.calls.append(("list_namespaced_pod", (namespace,), kwargs))
        if kwargs.get("watch"):
            body = self.lines if self.fail_create is None else b""
            return HTTPResponse(body=Body(body), status=200, preload_content=False)
        return SimpleNamespace(data=json.dumps({"metadata": {"resourceVersion": "48210"}, "items": []}).encode())

    def create_namespaced_pod(self, namespace: str, body: Any, **kwargs: Any) -> Any:
        self.calls.append(("create_namespaced_pod", (namespace, body["metadata"]["name"]), kwargs))
        if self.fail_create is not None:
            raise self.fail_create
        return None


def recorded_stream() -> bytes:
    events = load("watch-startup.json")["events"]
    return b"".join(json.dumps({"type": e["type"], "object": e["object"]}).encode() + b"\n" for e in events)


NAMES = [f"start-1-{i}" for i in range(5)]


def test_the_watch_collects_raw_events_until_every_pod_is_ready_or_stuck() -> None:
    core = StreamingCore(recorded_stream())
    cluster = fake_cluster(core, nodes="k3s-server")
    runtime = resolve_runtime(cluster.facts, "runc", cluster.settings)
    events, sent = cluster.watch_startup(NAMES, runtime, cluster.nodes[0], "perfdata/batch=start-1", "start-1")
    recorded = load("watch-startup.json")["events"]
    assert [(e.type, e.object) for e in events] == [(e["type"], e["object"]) for e in recorded]  # plain JSON, untouched
    assert sorted(sent) == NAMES
    watch_call = next(kwargs for method, _, kwargs in core.calls if method == "list_namespaced_pod" and kwargs.get("watch"))
    assert watch_call["resource_version"] == "48210" and watch_call["label_selector"] == "perfdata/batch=start-1"
    assert isinstance(watch_call["_request_timeout"], tuple)
    assert [args[1] for method, args, _ in core.calls if method == "create_namespaced_pod"] == NAMES


def test_a_failed_create_ends_the_watch_with_its_cause() -> None:
    core = StreamingCore(recorded_stream(), fail_create=ApiException(status=403, reason="Forbidden"))
    cluster = fake_cluster(core, K3sSettings(timeout_s=2.0), nodes="k3s-server")
    runtime = resolve_runtime(cluster.facts, "runc", cluster.settings)
    with pytest.raises(K3sApiError, match=r"create pod start-1-0: HTTP 403 Forbidden"):
        cluster.watch_startup(NAMES, runtime, cluster.nodes[0], "perfdata/batch=start-1", "start-1")


@pytest.mark.parametrize("parallel", [1, 4])
def test_pods_created_in_parallel_are_each_created_once_and_a_failure_names_its_pod(parallel: int) -> None:
    core = StreamingCore(recorded_stream())
    cluster = fake_cluster(core, nodes="k3s-server")
    runtime = resolve_runtime(cluster.facts, "runc", cluster.settings)
    names = [f"density-1-{i}" for i in range(40)]
    sent = cluster.create_pods(names, runtime, cluster.nodes[0], "density-1", parallel=parallel)
    assert list(sent) == names and all(isinstance(t, float) for t in sent.values())
    assert sorted(args[1] for method, args, _ in core.calls if method == "create_namespaced_pod") == sorted(names)
    failing = fake_cluster(StreamingCore(b"", fail_create=ApiException(status=403, reason="Forbidden")), nodes="k3s-server")
    with pytest.raises(K3sApiError, match=r"create pod density-2-\d+: HTTP 403 Forbidden"):
        failing.create_pods([f"density-2-{i}" for i in range(8)], runtime, failing.nodes[0], "density-2",
                            parallel=parallel)
