"""A real Kubernetes control plane on loopback, started for a session and always stopped.

Five children of this process, each in its own process group and labelled as ours
(:mod:`..leftovers`): kine on SQLite (K3s's datastore), kube-apiserver, kube-controller-manager
and kube-scheduler (one binary, ``kube-control-plane``), and KWOK, which plays the kubelets of
the simulated nodes. All state is in one private temporary directory named after this process;
a run killed with SIGKILL leaves it and its children, and the next start removes both.

Nothing listens beyond loopback: kine on a Unix socket in that directory, the API server on
127.0.0.1 at a free port, the other components with their serving ports off (``--secure-port=0``)
where they allow it and on 127.0.0.1 where they do not.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, final

from ...._shown import bounded
from ...leftovers import owned_env, owned_prefix, sweep_orphans, sweep_paths
from ...loopback import free_loopback_port
from ...process import kill_group
from .binaries import LocalBinaries
from .pki import Pki, make_pki

__all__ = ["LocalClusterError", "LocalControlPlane", "ControlPlaneOptions"]

#: The label of our children and of the state directory (engines/leftovers.py).
KIND: Final = "k8s-local"
#: K3s's defaults, so that the objects look as they would on K3s.
SERVICE_CIDR: Final = "10.43.0.0/16"
_READY_TIMEOUT_S: Final = 120.0
_STOP_GRACE_S: Final = 10.0
_LAST_WORDS: Final = 8
#: Components that are not part of what K3s runs as its server: KWOK stands for the nodes' kubelets.
_NOT_SERVER: Final = frozenset({"kwok"})


class LocalClusterError(Exception):
    """The local control plane could not start; the message names the component and its last words."""


@final
@dataclass(frozen=True, slots=True)
class ControlPlaneOptions:
    """What a measurement may change about the control plane it starts.

    ``max_requests_inflight`` / ``max_mutating_requests_inflight``: the API server's limits
    (its defaults are 400 and 200); a deliberately low limit makes API priority and fairness
    throttle, which is how the retry path is proven against a real server.
    """

    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200


@final
class _Child:
    """One component: its process, its log file, and how to tell what became of it."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.name = name
        self.process = process
        self.log = log

    def last_words(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return bounded(" | ".join(lines[-_LAST_WORDS:]) or "nothing in its log", 2000)

    def died(self) -> str | None:
        status = self.process.poll()
        if status is None:
            return None
        how = f"killed by signal {-status}" if status < 0 else f"exited with {status}"
        return f"{self.name} {how}; its last words: {self.last_words()}"


def _stop_children(children: list[_Child], folder: Path) -> None:
    """Stop each component, the last started first, each gone before the next is asked; remove the state.

    One at a time, because a component outlives what it depends on badly: an API server whose
    datastore went first keeps retrying it until it is killed, where it stops in about a second
    while kine still answers. SIGTERM, then SIGKILL for the process group of whatever has not
    left by its share of ``_STOP_GRACE_S``.
    """
    deadline = time.monotonic() + _STOP_GRACE_S
    for child in reversed(children):
        if child.process.poll() is None:
            try:
                os.killpg(child.process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        kill_group(child.process.pid)  # the group: anything a component started goes too
        try:
            child.process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait on the child
            pass
    shutil.rmtree(folder, ignore_errors=True)


@final
class LocalControlPlane:
    """The running control plane: its kubeconfig, API address, version and the components' pids.

    :meth:`stop` (also run when the object is collected, and idempotent) stops every component
    and removes the state directory; the fixture calls it at session end, after a failure and
    on Ctrl-C or SIGTERM.
    """

    def __init__(self, folder: Path, pki: Pki, port: int) -> None:
        self.folder = folder
        self.pki = pki
        self.port = port
        self.server = f"https://127.0.0.1:{port}"
        self.kubeconfig = folder / "kubeconfig"
        #: An ordinary user's (:data:`.pki.TENANT_USER`): no rights until granted, throttled by API priority and fairness.
        self.tenant_kubeconfig = folder / "tenant.kubeconfig"
        self.children: list[_Child] = []
        self.version: dict[str, Any] = {}
        self.apiserver_ready_s = float("nan")
        self._finalizer = weakref.finalize(self, _stop_children, self.children, folder)

    # -- starting

    @classmethod
    def start(cls, binaries: LocalBinaries, options: ControlPlaneOptions | None = None) -> LocalControlPlane:
        """Start every component and wait until the API server is ready; on any failure stop them all."""
        options = options or ControlPlaneOptions()
        sweep_orphans(KIND)
        sweep_paths(KIND)
        folder = Path(tempfile.mkdtemp(prefix=owned_prefix(KIND)))
        folder.chmod(0o700)
        plane = cls(folder, make_pki(folder / "pki"), free_loopback_port())
        try:
            plane._start_kine(binaries.kine)
            plane._start_apiserver(binaries.control_plane, options)
            plane._write_kubeconfigs()
            plane._start_controller_manager(binaries.control_plane)
            plane._start_scheduler(binaries.control_plane)
            plane._start_kwok(binaries.kwok)
        except BaseException:
            plane.stop()
            raise
        return plane

    def _spawn(self, name: str, argv: list[str]) -> _Child:
        log = self.folder / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                       start_new_session=True, env=owned_env(KIND), cwd=self.folder)
        child = _Child(name, process, log)
        self.children.append(child)
        return child

    def _start_kine(self, kine: Path) -> None:
        socket_path = self.folder / "kine.sock"
        database = self.folder / "db" / "state.db"
        database.parent.mkdir(mode=0o700)
        # The DSN K3s gives kine for its embedded SQLite.
        dsn = f"sqlite://{database}?_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate"
        child = self._spawn("kine", [str(kine), "--endpoint", dsn, "--listen-address", f"unix://{socket_path}",
                                     "--metrics-bind-address", f"127.0.0.1:{free_loopback_port()}"])
        self._wait(child, "its socket", lambda: _unix_socket_accepts(socket_path), 30.0)

    def _start_apiserver(self, binary: Path, options: ControlPlaneOptions) -> None:
        pki = self.pki
        started = time.monotonic()
        child = self._spawn("kube-apiserver", [
            str(binary), "apiserver",
            f"--etcd-servers=unix://{self.folder / 'kine.sock'}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={self.port}",
            f"--cert-dir={self.folder / 'apiserver-certs'}",
            f"--tls-cert-file={pki.serving_cert}", f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--service-account-key-file={pki.service_account_pub}",
            f"--service-account-signing-key-file={pki.service_account_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC", "--anonymous-auth=false", "--profiling=false",
            "--enable-priority-and-fairness=true",
            f"--max-requests-inflight={options.max_requests_inflight}",
            f"--max-mutating-requests-inflight={options.max_mutating_requests_inflight}",
        ])  # fmt: skip
        self._wait(child, "/readyz", lambda: self.get("/readyz")[0] == 200, _READY_TIMEOUT_S)
        self.apiserver_ready_s = time.monotonic() - started
        status, body = self.get("/version")
        self.version = json.loads(body) if status == 200 else {}

    def _write_kubeconfigs(self) -> None:
        """The admin's and the tenant's kubeconfigs (see :mod:`.pki`)."""
        _write_kubeconfig(self.kubeconfig, self.server, self.pki.ca_cert, "perfdata-admin", self.pki.admin_cert,
                          self.pki.admin_key)
        _write_kubeconfig(self.tenant_kubeconfig, self.server, self.pki.ca_cert, "perfdata-tenant",
                          self.pki.tenant_cert, self.pki.tenant_key)

    def _start_controller_manager(self, binary: Path) -> None:
        child = self._spawn("kube-controller-manager", [
            str(binary), "controller-manager",
            f"--kubeconfig={self.kubeconfig}", "--leader-elect=false", "--secure-port=0",
            f"--service-account-private-key-file={self.pki.service_account_key}",
            f"--root-ca-file={self.pki.ca_cert}", "--use-service-account-credentials=false",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
        ])  # fmt: skip
        self._settle(child)

    def _start_scheduler(self, binary: Path) -> None:
        child = self._spawn("kube-scheduler", [
            str(binary), "scheduler",
            f"--kubeconfig={self.kubeconfig}", f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}", "--leader-elect=false",
            "--bind-address=127.0.0.1", f"--secure-port={free_loopback_port()}",
        ])  # fmt: skip
        self._settle(child)

    def _start_kwok(self, kwok: Path) -> None:
        child = self._spawn("kwok", [
            str(kwok), f"--kubeconfig={self.kubeconfig}", f"--config={Path(__file__).with_name('kwok_stages.yaml')}",
            "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--server-address=127.0.0.1:{free_loopback_port()}", "--node-lease-duration-seconds=40",
        ])  # fmt: skip
        self._settle(child)

    def _settle(self, child: _Child, seconds: float = 1.0) -> None:
        """A component that has no readiness of its own to poll: it must still run a moment later."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if (death := child.died()) is not None:
                raise LocalClusterError(f"local control plane: {death}")
            time.sleep(0.05)

    def _wait(self, child: _Child, what: str, ready: Any, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if (death := child.died()) is not None:
                raise LocalClusterError(f"local control plane: {death}")
            try:
                if ready():
                    return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise LocalClusterError(f"local control plane: {child.name} did not answer {what} within "
                                        f"{timeout_s:g} s; its last words: {child.last_words()}")
            time.sleep(0.05)

    # -- while it runs

    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        """The admin's TLS context, made once: readiness is polled every 50 ms."""
        return _client_context(self.pki.ca_cert, self.pki.admin_cert, self.pki.admin_key)

    @functools.cached_property
    def tenant_tls(self) -> ssl.SSLContext:
        """The tenant's TLS context, for raw requests as an ordinary user (see :mod:`.pki`)."""
        return _client_context(self.pki.ca_cert, self.pki.tenant_cert, self.pki.tenant_key)

    def get(self, path: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
        """One GET to the API server as the admin: ``(status, body)``; connection errors propagate."""
        return self.request("GET", path, timeout_s=timeout_s)

    def request(self, method: str, path: str, body: Any = None, timeout_s: float = 5.0) -> tuple[int, bytes]:
        """One request as the admin, ``body`` sent as JSON: ``(status, body)``; connection errors propagate."""
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout_s, context=self._tls)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def pid(self, name: str) -> int:
        """The pid of a component (``kube-apiserver``, ``kine``, ...)."""
        return next(child.process.pid for child in self.children if child.name == name)

    def resident_bytes(self) -> dict[str, int]:
        """Each running component's resident memory (``VmRSS`` of ``/proc/<pid>/status``), in bytes."""
        sizes = {}
        for child in self.children:
            try:
                status = Path(f"/proc/{child.process.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    sizes[child.name] = int(line.split()[1]) * 1024
        return sizes

    def server_bytes(self) -> tuple[int, str]:
        """The server's resident memory as K3s would count its one process (kine, API server,
        controller manager, scheduler; not KWOK, which stands for the nodes), and a note with
        each component's size."""
        sizes = self.resident_bytes()
        note = "resident memory (VmRSS): " + ", ".join(f"{name} {size / 2**20:.1f} MiB"
                                                       for name, size in sorted(sizes.items()))
        return sum(size for name, size in sizes.items() if name not in _NOT_SERVER), note

    def server_cpu_seconds(self) -> float:
        """The server's CPU time so far, the same components as :meth:`server_bytes` (KWOK left out)."""
        return sum(seconds for name, seconds in self.cpu_seconds().items() if name not in _NOT_SERVER)

    def cpu_seconds(self) -> dict[str, float]:
        """Each running component's CPU time so far (user + system, ``/proc/<pid>/stat``), in seconds."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for child in self.children:
            try:
                fields = Path(f"/proc/{child.process.pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            used[child.name] = (int(fields[11]) + int(fields[12])) / ticks
        return used

    def pids(self) -> list[int]:
        return [child.process.pid for child in self.children]

    def died(self) -> str | None:
        """None while every component runs; else what became of the first that did not."""
        return next((death for child in self.children if (death := child.died()) is not None), None)

    def stop(self) -> None:
        """Stop every component, last started first, and remove the state directory; idempotent."""
        self._finalizer()


def _client_context(ca: Path, cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    return context


def _write_kubeconfig(path: Path, server: str, ca: Path, user: str, cert: Path, key: Path) -> None:
    """A kubeconfig with the CA, client certificate and key inline, as K3s writes its own; mode 0600."""
    import base64

    def inline(file: Path) -> str:
        return base64.b64encode(file.read_bytes()).decode()

    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "perfdata-local",
        "clusters": [{"name": "perfdata-local", "cluster": {"server": server, "certificate-authority-data": inline(ca)}}],
        "users": [{"name": user, "user": {"client-certificate-data": inline(cert), "client-key-data": inline(key)}}],
        "contexts": [{"name": "perfdata-local", "context": {"cluster": "perfdata-local", "user": user}}],
    }  # fmt: skip
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(config, out, indent=2)  # JSON is YAML: every kubeconfig reader takes it


def _unix_socket_accepts(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        sock.connect(str(path))
    return True
