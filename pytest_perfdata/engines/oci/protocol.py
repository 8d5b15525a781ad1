"""What every OCI runtime here promises: its protocol, its errors and the values it works on.

Kept apart from the package's ``__init__`` so that the plugin's start-up, which imports the
fixtures' module and so the package, does not build these classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, final

if TYPE_CHECKING:
    from typing import Self

    from ...provenance import Engine
    from ..process import CompletedRun

__all__ = ["Bundle", "ContainerError", "ContainerRuntime", "ContainerUnavailable", "RunningContainer"]


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
