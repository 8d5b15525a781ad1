"""Credentials against a server that echoes them: masked by value wherever the plugin writes text.

The loopback server answers every request with 503 (so the client retries and the plugin logs
each attempt) and a body that repeats the request line and every header it received, as a
misconfigured proxy or a debugging server would.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pytest_perfdata.engines.k8s import K3sUnavailable
from pytest_perfdata.engines.k8s.api import connect
from pytest_perfdata.engines.k8s.redaction import forget_secrets, redact_text
from pytest_perfdata.engines.k8s.retry import RetryPolicy
from pytest_perfdata.engines.k8s.secrets import client_key_directory
from pytest_perfdata.engines.k8s.settings import K3sSettings

ODD_TOKEN = "ODDTOKEN:abc!def$ghi%jkl(mno)pqr"
PASSWORD = "pa:ss w0rd!"
KEY_PEM = ("-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+LQmlQ\n"
           "-----END PRIVATE KEY-----\n")


class Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
        echoed = f"{self.requestline}\n{self.headers}"
        body = json.dumps({"kind": "Status", "message": f"you sent: {echoed}"}).encode()
        self.send_response(503, "echo " + " ".join(self.headers.values()))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PYTEST_PERFDATA_CACHE", str(tmp_path / "cache"))
    forget_secrets()
    yield
    forget_secrets()


def kubeconfig(path: Path, server: str, user: str) -> Path:
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: '{server}'}}}}]
users: [{{name: u, user: {user}}}]
contexts: [{{name: default, context: {{cluster: c, user: u}}}}]
current-context: default
""", encoding="utf-8")
    return path


def attempt(config: Path, caplog: pytest.LogCaptureFixture) -> str:
    """Everything the plugin wrote about a failed connection: the skip reason and its log lines."""
    with caplog.at_level(logging.DEBUG, logger="pytest_perfdata.k3s"), pytest.raises(K3sUnavailable) as raised:
        connect(K3sSettings(kubeconfig=str(config)), environ={}, home=config.parent,
                policy=RetryPolicy(attempts=3, base_s=0.0, deadline_s=5.0, request_timeout_s=5.0), sleep=lambda s: None)
    return str(raised.value) + "\n" + caplog.text


def forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), *[part for part in secret.replace("!", " ").split() if len(part) > 3]]


def test_an_odd_token_echoed_by_the_server_never_shows(tmp_path: Path, echo_server: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    written = attempt(kubeconfig(tmp_path / "config", echo_server, f"{{token: '{ODD_TOKEN}'}}"), caplog)
    assert "HTTP 503" in written and "you sent: GET /version" in written  # the echo did reach the text
    for leaked in (*forms(ODD_TOKEN), "def$ghi%jkl(mno)pqr", "abc!def"):
        assert leaked not in written, leaked
    assert "retry" in caplog.text.lower() or caplog.records  # the retry lines were written, and masked


def test_basic_auth_echoed_in_its_header_never_shows(tmp_path: Path, echo_server: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    written = attempt(kubeconfig(tmp_path / "config", echo_server, f"{{username: admin, password: '{PASSWORD}'}}"), caplog)
    assert "you sent: GET /version" in written
    for leaked in (PASSWORD, base64.b64encode(f"admin:{PASSWORD}".encode()).decode()):
        assert leaked not in written, leaked


def test_a_token_with_a_newline_does_not_leak_through_the_client_s_own_error(
        tmp_path: Path, echo_server: str, caplog: pytest.LogCaptureFixture) -> None:
    written = attempt(kubeconfig(tmp_path / "config", echo_server, '{token: "first-half\\nSECOND-HALF-9f8e"}'), caplog)
    assert "first-half" not in written and "SECOND-HALF-9f8e" not in written, written


def test_a_password_in_the_server_url_never_shows(tmp_path: Path, echo_server: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    server = echo_server.replace("http://", "http://admin:Url%21Secret@")
    written = attempt(kubeconfig(tmp_path / "config", server, "{token: plain-token-1234}"), caplog)
    assert "Url%21Secret" not in written and "Url!Secret" not in written and "plain-token-1234" not in written


def test_the_decoded_client_key_lives_in_a_directory_of_ours_swept_after_a_kill(
        tmp_path: Path, echo_server: str, caplog: pytest.LogCaptureFixture) -> None:
    killed = tmp_path / "cache" / "k8s-client-keys" / "999999999"  # no such pid: its process is gone
    killed.mkdir(parents=True)
    (killed / "tmpkey").write_text(KEY_PEM)
    data = base64.b64encode(KEY_PEM.encode()).decode()
    written = attempt(kubeconfig(tmp_path / "config", echo_server, f"{{token: tok-5678, client-key-data: {data}}}"),
                      caplog)
    assert not killed.exists()
    mine = client_key_directory()
    assert mine == tmp_path / "cache" / "k8s-client-keys" / str(os.getpid())
    assert oct(mine.stat().st_mode & 0o777) == "0o700"
    assert data not in written and "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+LQmlQ" not in redact_text(KEY_PEM)
