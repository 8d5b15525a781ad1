"""The http engine: decisions from an OPA server over loopback HTTP, one we start or a running one."""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...record import Engine
from .cli import find_opa, opa_version
from .closing import Loaded
from .errors import PolicyEvalError, PolicyUnavailable, PolicyUndefined
from .opa_errors import opa_json_error
from .policy import Policy
from .server import HTTP_TIMEOUT_S, OpaServer, request

__all__ = ["OpaHttpEngine", "OpaHttpPolicy"]

class OpaHttpEngine:
    """``opa run --server`` on 127.0.0.1 per loaded policy, or one existing server (``opa_url``).

    With the CLI the policy files are given on the command line and ``compile_seconds`` is the
    time until ``/health`` answers (server start included). With ``opa_url`` the modules are
    uploaded with ``PUT /v1/policies`` (the compile time) and deleted again on close.
    """

    def __init__(
        self, opa_path: str | os.PathLike[str] | None = None, *, opa_url: str | None = None
    ) -> None:
        self.opa_url = opa_url
        if opa_url is not None:
            parts = urlsplit(opa_url)
            if parts.scheme != "http" or not parts.hostname:
                raise PolicyUnavailable(f"OPA URL {opa_url!r} must look like http://HOST:PORT")
            self._host, self._port = parts.hostname, parts.port or 80
            try:
                status, _ = request(self._host, self._port, "GET", "/health", timeout_s=5.0)
            except OSError as exc:
                raise PolicyUnavailable(f"OPA server {opa_url} does not answer: {exc}") from None
            if status != 200:
                raise PolicyUnavailable(f"OPA server {opa_url} is not healthy (HTTP {status})")
            self.opa: Path | None = None
            self.engine = Engine("opa", _server_version(self._host, self._port), "http")
        else:
            self.opa = find_opa(opa_path)
            self.engine = Engine("opa", opa_version(self.opa), "http")

    def load(self, policy: Policy) -> OpaHttpPolicy:
        sources = policy.checked_sources()
        if self.opa_url is not None:
            return self._upload(policy, sources)
        assert self.opa is not None
        started = time.perf_counter()
        server = OpaServer.start(self.opa, policy)
        elapsed = time.perf_counter() - started
        return OpaHttpPolicy(self.engine, policy, "127.0.0.1", server.port, elapsed, server=server)

    def _upload(self, policy: Policy, sources: Sequence[tuple[str, str]]) -> OpaHttpPolicy:
        token = os.urandom(6).hex()
        ids: list[str] = []
        started = time.perf_counter()
        try:
            for index, (name, text) in enumerate(sources):
                ident = f"perfdata-{token}-{index}"
                status, body = request(
                    self._host, self._port, "PUT", f"/v1/policies/{ident}", text.encode(),
                    content_type="text/plain",
                )  # fmt: skip
                if status != 200:  # OPA names the module by its id: put the file back
                    raise opa_json_error(
                        body, f"{name}: OPA server refused it (HTTP {status})", files={ident: name}
                    )
                ids.append(ident)
        except BaseException:
            _delete_policies(self._host, self._port, ids)
            raise
        elapsed = time.perf_counter() - started
        return OpaHttpPolicy(
            self.engine, policy, self._host, self._port, elapsed, uploaded=tuple(ids)
        )


class OpaHttpPolicy(Loaded):
    """Decisions by ``POST /v1/data/<entrypoint>`` on one kept-alive connection."""

    def __init__(
        self,
        engine: Engine,
        policy: Policy,
        host: str,
        port: int,
        compile_seconds: float,
        *,
        server: OpaServer | None = None,
        uploaded: tuple[str, ...] = (),
    ) -> None:
        super().__init__(engine, policy, compile_seconds)
        self._host, self._port = host, port
        self._path = f"/v1/data/{policy.entrypoint}"
        self._server = server
        self._uploaded = uploaded
        self._connection: http.client.HTTPConnection | None = None
        self._closed = False

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._closed:
            raise self._after_close()
        body = json.dumps({"input": input}, separators=(",", ":")).encode()
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            connection = self._connection
            if connection is None:
                connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=HTTP_TIMEOUT_S
                )
                self._connection = connection
            try:
                connection.request("POST", self._path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                status, payload = response.status, response.read()
                break
            except (http.client.HTTPException, ConnectionError) as exc:
                connection.close()
                self._connection = None
                died = self._server.died() if self._server is not None else None
                if died is not None:
                    raise PolicyEvalError(f"{self.policy.query}: {died}") from None
                if attempt == 2:
                    raise PolicyEvalError(f"{self.policy.query}: OPA server: {exc}") from None
        if status != 200:
            raise opa_json_error(
                payload, f"{self.policy.query}: OPA server answered HTTP {status}",
                cls=PolicyEvalError,
            )  # fmt: skip
        document = json.loads(payload)
        if "result" not in document:
            raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
        return document["result"]

    @property
    def server_pid(self) -> int | None:
        """The pid of the ``opa run --server`` this policy started; None on an existing server."""
        return self._server.process.pid if self._server is not None else None

    def close(self) -> None:
        """Drop the connection, delete uploaded modules, stop the server (always, even on errors)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            if self._uploaded:
                _delete_policies(self._host, self._port, self._uploaded)
        finally:
            if self._server is not None:
                self._server.stop()


def _server_version(host: str, port: int) -> str:
    """The version a running OPA reports in a decision's provenance (``?provenance``)."""
    try:
        status, body = request(host, port, "POST", "/v1/data?provenance=true", b"{}")
        version = json.loads(body).get("provenance", {}).get("version") if status == 200 else None
    except (OSError, ValueError):
        version = None
    return str(version) if version else "unknown"


def _delete_policies(host: str, port: int, ids: Sequence[str]) -> None:
    for ident in ids:
        try:
            request(host, port, "DELETE", f"/v1/policies/{ident}", timeout_s=5.0)
        except OSError:
            pass
