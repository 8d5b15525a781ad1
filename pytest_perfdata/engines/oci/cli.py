"""runc and crun, driven through the runc-compatible CLI they share, each container in a private root."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Final, final

from ...memory import MemoryUnavailable, process_memory
from ...provenance import Engine
from ..leftovers import owned_prefix, sweep_paths
from ..process import CompletedRun, RunTimeout, communicate_until_exit, kill_group, run_bounded
from .protocol import Bundle, ContainerError, ContainerUnavailable, RunningContainer
from ._proc import descendants, wait_dead
from .bundle import build_bundle

if TYPE_CHECKING:
    from typing import Self

__all__ = ["CONTROL_TIMEOUT_S", "RUNTIMES", "Crun", "OciCli", "Runc", "runtime_reason"]

#: Bound on each control command (kill, delete, ps, list, version): they never legitimately hang.
CONTROL_TIMEOUT_S: Final = 10.0
_ids = itertools.count(1)


class OciCli:
    """A runtime driven through the runc-compatible CLI (runc and crun share it).

    Every container gets a unique id (``perfdata-<pid>-<n>``) and lives under a private
    ``--root`` state directory, so nothing this process does touches ``/run/runc`` and a crash
    leaves only a temp directory behind. ``cleanup_all`` also runs when the object is garbage
    collected or the interpreter exits, as a last resort for a run that never reached teardown.
    A SIGKILL skips even that: the directory's name carries this process's pid, and the next
    runtime made on this machine deletes the containers of roots whose process is gone.
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
        sweep_paths(self.name, remove=self._remove_leftover)
        self._base = Path(tempfile.mkdtemp(prefix=owned_prefix(self.name)))
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
                raise ContainerError(f"{self.name} run -d: {runtime_reason(message) or f'exit {code}'}")
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
        wait_dead(container.pid, timeout_s=CONTROL_TIMEOUT_S)
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
        return descendants(container.pid)

    def cleanup_all(self) -> None:
        """Kill and delete every container of this object (tracked or listed), remove its state.

        Safe to call more than once and from fixture teardown after failures; the runtime stays
        usable afterwards (the state root is made again on the next run).
        """
        _cleanup(self.binary, self._base, self.state_root, self._live)

    close = cleanup_all

    # -- probing and plumbing --------------------------------------------------------------

    def _remove_leftover(self, base: Path) -> None:
        """A killed run's root: its containers killed and deleted by the runtime, then the directory.

        A container whose delete fails keeps its directory, for the next run to try again.
        """
        try:
            _cleanup(self.binary, base, base / "state", set())
        except ContainerError as error:
            raise OSError(str(error)) from None

    def probe(self, *, timeout_s: float = CONTROL_TIMEOUT_S) -> None:
        """Run ``true`` once in a throwaway bundle; raise ContainerUnavailable with the reason.

        Having the runtime binary proves nothing: crun, for one, refuses a hybrid cgroup layout
        only when it starts a container.
        """
        scratch = Path(tempfile.mkdtemp(prefix=owned_prefix(self.name) + "probe-"))
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
            why = runtime_reason(result.error_output) or f"exit {result.exit_code} running `true`"
            raise ContainerUnavailable(f"{self.name}: {why}")

    def _version(self) -> str:
        result = run_bounded([self.binary, "--version"], timeout_s=CONTROL_TIMEOUT_S)
        match = re.search(r"version\s+v?(\d+(?:\.\d+)*)", result.stdout.decode(errors="replace"))
        if result.exit_code != 0 or match is None:
            raise ContainerUnavailable(f"{self.binary} --version failed: {runtime_reason(result.error_output)}")
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
            raise ContainerError(f"{self.name} delete {cid}: {runtime_reason(result.error_output)}")
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
class Runc(OciCli):
    """runc, the reference OCI runtime (Go); Debian package ``runc``."""

    name = "runc"
    install_hint = "apt-get install runc busybox-static"


@final
class Crun(OciCli):
    """crun, the C OCI runtime; Debian package ``crun``. It refuses hybrid cgroup v1/v2 setups."""

    name = "crun"
    install_hint = "apt-get install crun busybox-static"


#: The runtimes by the name a user selects them with, in the order ``auto`` tries them.
RUNTIMES: Final[dict[str, type[OciCli]]] = {"runc": Runc, "crun": Crun}


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
            failures.append(f"{cid}: {runtime_reason(result.error_output)}")
        else:
            live.discard(cid)
    if failures:
        raise ContainerError(f"{binary.name}: could not delete " + "; ".join(failures))
    shutil.rmtree(base, ignore_errors=True)


def runtime_reason(output: bytes) -> str:
    """The runtime's own one-line reason: runc's ``msg="..."`` or the last line printed.

    Pass a run's :attr:`~pytest_perfdata.engines.process.CompletedRun.error_output`, so the reason
    is found on whichever stream the runtime wrote it.
    """
    text = output.decode(errors="replace").strip()
    messages: list[str] = re.findall(r'msg="((?:[^"\\]|\\.)*)"', text)
    if messages:
        return messages[-1].replace('\\"', '"')
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
