"""OCI container runtimes (runc, crun) driven through their CLIs: the container baseline."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, final

from ...memory import MemoryUnavailable, process_memory
from ...record import Engine
from ..process import (
    CompletedRun,
    RunTimeout,
    communicate_until_exit,
    kill_group,
    run_bounded,
)

if TYPE_CHECKING:
    from typing import Self

__all__ = [
    "DEFAULT_APPLETS",
    "Bundle",
    "CompletedRun",
    "ContainerError",
    "ContainerRuntime",
    "ContainerUnavailable",
    "Crun",
    "RunTimeout",
    "Runc",
    "RunningContainer",
    "build_bundle",
    "find_busybox",
    "oci_config",
    "select_container_runtime",
    "tree_bytes",
]

#: Applets linked into every rootfs: enough for a shell, output, success/failure and waiting.
DEFAULT_APPLETS: tuple[str, ...] = ("sh", "echo", "true", "false", "sleep", "cat")
#: Bound on each control command (kill, delete, ps, list, version): they never legitimately hang.
CONTROL_TIMEOUT_S = 10.0
_OCI_VERSION = "1.0.2"
_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
_ids = itertools.count(1)


class ContainerUnavailable(Exception):
    """No container can run here; the message is one line saying why and how to get one.

    It is a skip reason, not a crash: a machine without runc, without root, or with a runtime
    that refuses this kernel's cgroup layout simply cannot produce a container baseline.
    """


class ContainerError(RuntimeError):
    """A runtime command failed on a container that should work; carries the runtime's message."""


@final
@dataclass(frozen=True, slots=True)
class Bundle:
    """An OCI bundle on disk: ``path/config.json`` and ``path/rootfs/``.

    ``rootfs_bytes`` is the image size a container start has to work with, kept so a suite can
    record it next to the Wasm module's size.
    """

    path: Path
    rootfs: Path
    rootfs_bytes: int


@final
@dataclass(frozen=True, slots=True)
class RunningContainer:
    """A detached container: its runtime id, its init process as the host sees it, its bundle."""

    id: str
    pid: int
    bundle: Bundle


class ContainerRuntime(Protocol):
    """One OCI runtime on this machine. Every container it makes is deleted by ``cleanup_all``."""

    engine: Engine
    state_root: Path  # the private ``--root``: what ``<runtime> --root <it> list`` shows is ours

    def run(self, bundle: Bundle, *, timeout_s: float = 30.0) -> CompletedRun:
        """Create, start, wait for and delete one container; its stdout and stderr captured."""
        ...

    def start_detached(self, bundle: Bundle) -> RunningContainer:
        """Start a container that keeps running (for density and memory figures)."""
        ...

    def stop(self, container: RunningContainer) -> None:
        """Kill and delete a detached container; stopping one twice is fine."""
        ...

    def memory_bytes(self, container: RunningContainer) -> int:
        """Summed PSS of the container's processes, in bytes."""
        ...

    def cleanup_all(self) -> None:
        """Delete every container this runtime object created, and its private state root."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


# -- bundles ---------------------------------------------------------------------------------


def find_busybox() -> Path:
    """Debian's statically linked busybox: the only binary a minimal rootfs needs.

    A dynamically linked busybox would fail inside the rootfs with a misleading "no such file"
    (its loader is missing there), so it is refused here with the package to install.
    """
    candidates = [shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"]
    seen: list[Path] = []
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and Path(candidate) not in seen:
            seen.append(Path(candidate))
    for path in seen:
        if _is_static_elf(path):
            return path
    if seen:
        raise ContainerUnavailable(
            f"busybox at {seen[0]} is dynamically linked: apt-get install busybox-static"
        )
    raise ContainerUnavailable("busybox not found: apt-get install busybox-static")


def _is_static_elf(path: Path) -> bool:
    """True for a 64-bit little-endian ELF without a PT_INTERP header (no dynamic loader)."""
    with path.open("rb") as file:
        header = file.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False
        (phoff,) = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        file.seek(phoff)
        table = file.read(phentsize * phnum)
    return all(
        struct.unpack_from("<I", table, index * phentsize)[0] != 3  # PT_INTERP
        for index in range(phnum)
    )


def oci_config(
    command: Sequence[str], *, memory_limit_bytes: int | None = None, hostname: str = "perfdata"
) -> dict[str, Any]:
    """The ``config.json`` of a plain container, written out in full rather than by ``runc spec``.

    It matches ``runc spec``'s defaults (namespaces pid, network, ipc, uts, mount; the same
    mounts, masked paths and three capabilities) with no terminal and a read-only rootfs, so the
    baseline is an ordinary container and needs no runtime to be generated. The network
    namespace holds only loopback: no bridge, no veth, nothing to configure or clean up.
    """
    if not command:
        raise ValueError("a container needs a command")
    if memory_limit_bytes is not None and memory_limit_bytes <= 0:
        raise ValueError(f"memory limit must be positive, got {memory_limit_bytes}")
    resources: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}]}
    if memory_limit_bytes is not None:
        resources["memory"] = {"limit": memory_limit_bytes}
    return {
        "ociVersion": _OCI_VERSION,
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(command),
            "env": [_PATH],
            "cwd": "/",
            "capabilities": {
                kind: list(_CAPABILITIES) for kind in ("bounding", "effective", "permitted")
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": hostname,
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "none",
                "source": "/sys",
                "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
            },
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        "linux": {
            "resources": resources,
            "namespaces": [{"type": kind} for kind in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": [
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        },
    }


def build_bundle(
    directory: Path,
    command: Sequence[str],
    *,
    busybox: Path | None = None,
    memory_limit_bytes: int | None = None,
    applets: Sequence[str] = DEFAULT_APPLETS,
) -> Bundle:
    """An OCI bundle at ``directory``: a busybox rootfs with applet symlinks, and ``config.json``.

    The bundle is built in a sibling temp directory and renamed into place, so an interrupted
    build never leaves a half bundle that a later run would take for a whole one; an existing
    bundle at ``directory`` is replaced. Mount points (``/proc``, ``/dev``, ``/sys``) are made
    here, so the runtime never writes into the rootfs and ``rootfs_bytes`` stays true.
    """
    busybox = find_busybox() if busybox is None else busybox
    if not _is_static_elf(busybox):
        raise ContainerUnavailable(
            f"busybox at {busybox} is not a static binary: apt-get install busybox-static"
        )
    config = oci_config(command, memory_limit_bytes=memory_limit_bytes)
    directory = Path(directory).absolute()
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    try:
        staging.chmod(0o755)
        rootfs = staging / "rootfs"
        for sub in ("bin", "dev", "proc", "sys"):
            (rootfs / sub).mkdir(parents=True)
        shutil.copyfile(busybox, rootfs / "bin" / "busybox")
        (rootfs / "bin" / "busybox").chmod(0o755)
        for applet in applets:
            if applet != "busybox":
                (rootfs / "bin" / applet).symlink_to("busybox")
        (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        _move_into_place(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    rootfs = directory / "rootfs"
    return Bundle(path=directory, rootfs=rootfs, rootfs_bytes=tree_bytes(rootfs))


def _move_into_place(staging: Path, directory: Path) -> None:
    """Rename ``staging`` to ``directory``; a non-empty old one is moved aside, then removed."""
    try:
        os.rename(staging, directory)  # also replaces an empty directory
        return
    except OSError:
        if not directory.exists():
            raise
    old = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.old."))
    os.rename(directory, old / "bundle")
    os.rename(staging, directory)
    shutil.rmtree(old, ignore_errors=True)


def tree_bytes(path: Path) -> int:
    """Apparent size of a tree: the bytes of its regular files and symlinks (``lstat().st_size``).

    Directories are left out: their sizes are the file system's bookkeeping (4096 on ext4,
    something else on tmpfs), not content, and would make the figure depend on where the
    bundle was built. Hard links count once per name, as ``du --apparent-size -l`` does.
    """
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            total += os.lstat(os.path.join(root, name)).st_size
    return total


# -- runtimes --------------------------------------------------------------------------------


class _OciCli:
    """A runtime driven through the runc-compatible CLI (runc and crun share it).

    Every container gets a unique id (``perfdata-<pid>-<n>``) and lives under a private
    ``--root`` state directory, so nothing this process does touches ``/run/runc`` and a crash
    leaves only a temp directory behind. ``cleanup_all`` also runs when the object is garbage
    collected or the interpreter exits, as a last resort for a run that never reached teardown.
    """

    name: ClassVar[str]
    install_hint: ClassVar[str]

    def __init__(self, binary: Path | str | None = None) -> None:
        found = shutil.which(str(binary) if binary is not None else self.name)
        if found is None:
            raise ContainerUnavailable(f"{binary or self.name} not found: {self.install_hint}")
        if os.geteuid() != 0:
            raise ContainerUnavailable(f"not root: {self.name} needs root here")
        self.binary = Path(found)
        self.engine = Engine(self.name, self._version(), "oci")
        self._base = Path(tempfile.mkdtemp(prefix=f"perfdata-{self.name}-"))
        self.state_root = self._base / "state"
        self._pid_dir = self._base / "pids"
        self._live: set[str] = set()
        self._finalizer = weakref.finalize(
            self, _cleanup, self.binary, self._base, self.state_root, self._live
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.engine} root={self.state_root}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup_all()

    # -- the Protocol ---------------------------------------------------------------------

    def run(self, bundle: Bundle, *, timeout_s: float = 30.0) -> CompletedRun:
        """``<runtime> run`` in the foreground: create, start, wait, delete (``docker run --rm``).

        The runtime deletes a container that exits by itself; we delete only what it left
        (checked by a stat of its state directory, not by one more process, so a timed run
        is not charged for a ``delete`` that had nothing to do).
        """
        cid = self._new_id()
        argv = self._argv("run", "--bundle", str(bundle.path), cid)
        self._live.add(cid)
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except BaseException:
            self._live.discard(cid)
            raise
        try:
            with process:
                try:
                    stdout, stderr = communicate_until_exit(
                        process,
                        None,
                        timeout_s,
                        on_timeout=lambda: self._end_foreground(cid, process),
                    )
                except RunTimeout:
                    raise
                except BaseException:
                    self._end_foreground(cid, process)
                    raise
        finally:
            self._force_delete(cid)
        return CompletedRun(process.returncode, stdout, stderr)

    def start_detached(
        self, bundle: Bundle, *, timeout_s: float = CONTROL_TIMEOUT_S
    ) -> RunningContainer:
        """``<runtime> run -d``: the runtime exits once the container runs; its pid via a pid file.

        The container inherits the runtime's stdio, so stdout goes to /dev/null and stderr to an
        unlinked temp file: a pipe would stay open as long as the container lives.
        """
        cid = self._new_id()
        self._pid_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self._pid_dir / cid
        argv = self._argv(
            "run", "-d", "--pid-file", str(pid_file), "--bundle", str(bundle.path), cid
        )
        self._live.add(cid)
        try:
            with tempfile.TemporaryFile() as errors:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    start_new_session=True,
                )
                try:
                    code = process.wait(timeout=timeout_s)
                except BaseException:
                    kill_group(process.pid)
                    process.wait()
                    raise
                errors.seek(0)
                message = errors.read()
            if code != 0:
                raise ContainerError(f"{self.name} run -d: {_reason(message) or f'exit {code}'}")
            pid = int(pid_file.read_text().strip())
        except BaseException as failure:
            self._force_delete(cid)
            if isinstance(failure, subprocess.TimeoutExpired):
                raise RunTimeout(argv, timeout_s) from None
            raise
        return RunningContainer(id=cid, pid=pid, bundle=bundle)

    def stop(self, container: RunningContainer) -> None:
        """SIGKILL the container, wait (bounded) until its init is dead, then delete it.

        Waiting first makes the ``delete`` immediate: ``delete --force`` on a running container
        polls in 100 ms steps. A container already gone is not an error.
        """
        self._signal(container.id)
        _wait_dead(container.pid, timeout_s=CONTROL_TIMEOUT_S)
        self._force_delete(container.id)

    def memory_bytes(self, container: RunningContainer) -> int:
        """PSS summed over the container's processes, from ``/proc/<pid>/smaps_rollup``.

        PSS splits each shared page between the processes mapping it: N containers started from
        one bundle share busybox's text, and their PSS adds up to what they occupy together,
        where RSS would count it N times. The cgroup's ``memory.usage_in_bytes`` is not used: it
        charges page cache to whichever cgroup touched a file first and adds kernel memory, right
        for limits but wrong for a per-container figure. Runtime processes are not counted; runc
        and crun do not stay resident after start (no shim).
        """
        total = 0
        found = False
        for pid in self.pids(container):
            try:
                total += process_memory(pid).pss
                found = True
            except MemoryUnavailable:
                continue  # exited between listing and reading
        if not found:
            raise ContainerError(f"{container.id}: no running process to measure")
        return total

    def pids(self, container: RunningContainer) -> list[int]:
        """Host pids of the container's processes (``<runtime> ps --format json``, from its cgroup).

        Falls back to the init process and its descendants, which inside a pid namespace are all
        of the container's processes except ones joined later by ``exec``.
        """
        result = self._control("ps", "--format", "json", container.id)
        if result.exit_code == 0:
            try:
                listed = json.loads(result.stdout or b"[]")
                pids = [
                    int(item["pid"] if isinstance(item, dict) else item) for item in listed or []
                ]
            except (ValueError, TypeError, KeyError):
                pids = []
            if pids:
                return pids
        return _descendants(container.pid)

    def cleanup_all(self) -> None:
        """Kill and delete every container of this object (tracked or listed), remove its state.

        Safe to call more than once and from fixture teardown after failures; the runtime stays
        usable afterwards (the state root is made again on the next run).
        """
        _cleanup(self.binary, self._base, self.state_root, self._live)

    close = cleanup_all

    # -- probing and plumbing --------------------------------------------------------------

    def probe(self, *, timeout_s: float = CONTROL_TIMEOUT_S) -> None:
        """Run ``true`` once in a throwaway bundle; raise ContainerUnavailable with the reason.

        Having the runtime binary proves nothing: crun, for one, refuses a hybrid cgroup layout
        only when it starts a container.
        """
        scratch = Path(tempfile.mkdtemp(prefix=f"perfdata-{self.name}-probe-"))
        try:
            bundle = build_bundle(scratch / "bundle", ["true"])
            try:
                result = self.run(bundle, timeout_s=timeout_s)
            except RunTimeout:
                raise ContainerUnavailable(
                    f"{self.name}: a container running `true` did not exit within {timeout_s:g} s"
                ) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if result.exit_code != 0:
            reason = _reason(result.stderr) or f"exit {result.exit_code} running `true`"
            raise ContainerUnavailable(f"{self.name}: {reason}")

    def _version(self) -> str:
        result = run_bounded([self.binary, "--version"], timeout_s=CONTROL_TIMEOUT_S)
        match = re.search(r"version\s+v?(\d+(?:\.\d+)*)", result.stdout.decode(errors="replace"))
        if result.exit_code != 0 or match is None:
            raise ContainerUnavailable(f"{self.binary} --version failed: {_reason(result.stderr)}")
        return match.group(1)

    def _new_id(self) -> str:
        return f"perfdata-{os.getpid()}-{next(_ids)}"

    def _argv(self, *args: str) -> list[str]:
        return [str(self.binary), "--root", str(self.state_root), *args]

    def _control(self, *args: str) -> CompletedRun:
        return run_bounded(self._argv(*args), timeout_s=CONTROL_TIMEOUT_S)

    def _signal(self, cid: str) -> None:
        try:
            self._control("kill", cid, "KILL")
        except RunTimeout:
            pass

    def _delete(self, cid: str) -> None:
        """``delete --force``; raises ContainerError only if the container is still there after."""
        result = self._control("delete", "--force", cid)
        if result.exit_code != 0 and (self.state_root / cid).exists():
            raise ContainerError(f"{self.name} delete {cid}: {_reason(result.stderr)}")
        self._live.discard(cid)
        (self._pid_dir / cid).unlink(missing_ok=True)

    def _force_delete(self, cid: str) -> None:
        """Delete what the runtime left of ``cid`` (checked by a stat, not one more process) and forget it."""
        if (self.state_root / cid).exists():
            self._delete(cid)
        else:
            self._live.discard(cid)
            (self._pid_dir / cid).unlink(missing_ok=True)

    def _end_foreground(self, cid: str, process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
        """Stop a foreground run that must end now: container first, then the runtime itself."""
        self._signal(cid)
        try:
            return process.communicate(timeout=5.0)
        except subprocess.TimeoutExpired:
            kill_group(process.pid)
            self._signal(cid)
            try:
                return process.communicate(timeout=CONTROL_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                # something in the container still holds our pipes: delete it, then read
                self._force_delete(cid)
                return process.communicate()


@final
class Runc(_OciCli):
    """runc, the reference OCI runtime (Go); Debian package ``runc``."""

    name = "runc"
    install_hint = "apt-get install runc busybox-static"


@final
class Crun(_OciCli):
    """crun, the C OCI runtime; Debian package ``crun``. It refuses hybrid cgroup v1/v2 setups."""

    name = "crun"
    install_hint = "apt-get install crun busybox-static"


_RUNTIMES: dict[str, type[_OciCli]] = {"runc": Runc, "crun": Crun}


def select_container_runtime(choice: str = "auto") -> ContainerRuntime:
    """The runtime to measure: ``runc`` or ``crun`` by name, or ``auto`` (runc, else crun).

    The runtime is probed by running one container, so a test gets a runtime that works here or
    a skip reason, never a crash in its body. The caller owns the result: use it as a context
    manager or call ``cleanup_all()`` in teardown.
    """
    if choice == "auto":
        names = ["runc", "crun"]
    elif choice in _RUNTIMES:
        names = [choice]
    else:
        raise ValueError(
            f"unknown container runtime {choice!r}: choose auto, {', '.join(_RUNTIMES)}"
        )
    reasons: list[str] = []
    for name in names:
        try:
            runtime = _RUNTIMES[name]()
        except ContainerUnavailable as reason:
            reasons.append(str(reason))
            continue
        try:
            runtime.probe()
        except BaseException as reason:
            runtime.cleanup_all()
            if not isinstance(reason, ContainerUnavailable):
                raise
            reasons.append(str(reason))
            continue
        return runtime
    raise ContainerUnavailable("; ".join(reasons))


# -- helpers ---------------------------------------------------------------------------------


def _cleanup(binary: Path, base: Path, state_root: Path, live: set[str]) -> None:
    """Kill and delete every container under ``state_root``, then remove ``base``.

    A module-level function so ``weakref.finalize`` can hold it without keeping the runtime
    object alive. Containers listed by the runtime are included: ids whose ``run`` was cut short
    before we recorded them are still found.
    """
    ids = set(live)
    if state_root.is_dir():
        ids.update(entry.name for entry in state_root.iterdir() if entry.is_dir())
    failures: list[str] = []
    for cid in sorted(ids):
        try:
            run_bounded(
                [binary, "--root", state_root, "kill", cid, "KILL"], timeout_s=CONTROL_TIMEOUT_S
            )
            result = run_bounded(
                [binary, "--root", state_root, "delete", "--force", cid],
                timeout_s=CONTROL_TIMEOUT_S,
            )
        except RunTimeout as timeout:
            failures.append(str(timeout))
            continue
        if result.exit_code != 0 and (state_root / cid).exists():
            failures.append(f"{cid}: {_reason(result.stderr)}")
        else:
            live.discard(cid)
    if failures:
        raise ContainerError(f"{binary.name}: could not delete " + "; ".join(failures))
    shutil.rmtree(base, ignore_errors=True)


def _reason(stderr: bytes) -> str:
    """The runtime's own one-line reason: runc's ``msg="..."`` or the last line printed."""
    text = stderr.decode(errors="replace").strip()
    messages: list[str] = re.findall(r'msg="((?:[^"\\]|\\.)*)"', text)
    if messages:
        return messages[-1].replace('\\"', '"')
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _wait_dead(pid: int, *, timeout_s: float) -> None:
    """Poll until ``pid`` is gone or a zombie; its parent (not us) reaps it."""
    deadline = time.monotonic() + timeout_s
    stat = Path("/proc") / str(pid) / "stat"
    while time.monotonic() < deadline:
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.002)


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from ``/proc/<pid>/task/*/children``."""
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        task_dir = Path("/proc") / str(current) / "task"
        try:
            tasks = list(task_dir.iterdir())
        except OSError:
            continue
        found.append(current)
        for task in tasks:
            try:
                pending.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue
    return found
