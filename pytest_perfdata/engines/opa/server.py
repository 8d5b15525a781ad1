"""An ``opa run --server`` child on a loopback port, started until healthy and always stopped."""

from __future__ import annotations

import http.client
import os
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import Final, final

from .._text import first_line
from ..leftovers import owned_env, owned_prefix, sweep_orphans, sweep_paths
from ..loopback import free_loopback_port as _free_port  # a module name the tests replace
from ..process import kill_group
from .errors import PolicyError
from .opa_errors import opa_text_error
from .policy import Policy

__all__ = ["HTTP_TIMEOUT_S", "OpaServer", "request"]

_SERVER_START_S: Final = 30.0
_LAST_WORDS: Final = 5  # lines of the server's log in the message of a decision it died during
_LAST_WORDS_CHARS: Final = 2000
HTTP_TIMEOUT_S: Final = 30.0
#: The label of our servers' processes and logs (engines/leftovers.py).
_KIND: Final = "opa"


@final
class OpaServer:
    """An ``opa run --server`` child on a loopback port; stopped by ``stop()`` or when collected."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self._finalizer = weakref.finalize(self, _stop_server, process, log)

    @classmethod
    def start(cls, opa: Path, policy: Policy) -> OpaServer:
        """Start a server, after stopping those a killed run left (labelled, their owner gone)."""
        sweep_orphans(_KIND)
        sweep_paths(_KIND)  # their logs
        for attempt in (1, 2, 3):  # the free port we picked may be taken before opa binds it
            port = _free_port()
            fd, log_name = tempfile.mkstemp(prefix=owned_prefix(_KIND), suffix=".log")
            log = Path(log_name)
            argv = [
                str(opa), "run", "--server", "--addr", f"127.0.0.1:{port}",
                "--log-level", "error", "--disable-telemetry",
                *(str(path) for path in policy.files),
            ]  # fmt: skip
            with os.fdopen(fd, "wb") as log_file:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=log_file,
                    start_new_session=True,
                    env=owned_env(_KIND),
                )
            server = cls(process, port, log)
            deadline = time.monotonic() + _SERVER_START_S
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                try:
                    status, _ = request("127.0.0.1", port, "GET", "/health", timeout_s=1.0)
                except OSError:
                    status = 0
                if status == 200:
                    return server
                time.sleep(0.02)
            text = log.read_text(errors="replace") if log.exists() else ""
            exited = process.poll()
            server.stop()
            if exited is None:
                raise PolicyError(
                    f"{policy.name}: opa run did not become healthy within {_SERVER_START_S:g} s"
                )
            if "address already in use" in text and attempt < 3:
                continue
            raise opa_text_error(
                text, f"{policy.name}: opa run exited with {exited}: {first_line(text)}"
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        self._finalizer()

    def died(self) -> str | None:
        """None while the server runs; once it has exited, its exit status and last words.

        Read before :meth:`stop`, which deletes the log: a decision that fails because the server
        died says why it died, not only that the connection was refused.
        """
        status = self.process.poll()
        if status is None:
            return None
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        words = " | ".join(lines[-_LAST_WORDS:]) or "nothing in its log"
        how = f"killed by signal {-status}" if status < 0 else f"exited with {status}"
        return f"OPA server pid {self.process.pid} {how}; its last words: {words[:_LAST_WORDS_CHARS]}"


def _stop_server(process: subprocess.Popen[bytes], log: Path) -> None:
    if process.poll() is None:
        kill_group(process.pid)
    try:
        process.wait(timeout=10.0)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait on the child
        pass
    log.unlink(missing_ok=True)


def request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    content_type: str = "application/json",
    timeout_s: float = HTTP_TIMEOUT_S,
) -> tuple[int, bytes]:
    """One request on a fresh connection: ``(status, body)``; connection errors propagate."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        headers = {"Content-Type": content_type} if body is not None else {}
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
