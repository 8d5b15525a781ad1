"""OCI container runtimes, the container baseline: their protocol, errors and values, and the choice of one.

The implementations sit one job per module, imported when first used: :mod:`.cli` drives runc
and crun through the CLI they share, :mod:`.bundle` lays out a busybox bundle on disk with the
``config.json`` of :mod:`.config`, and :mod:`._proc` reads the containers' processes from /proc.
:func:`select_container_runtime` is the one place that picks a runtime, probing it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final, Protocol, final

from ..._lazy import lazy_names

if TYPE_CHECKING:
    from typing import Self

    from ...provenance import Engine
    from ..process import CompletedRun, RunTimeout
    from .bundle import DEFAULT_APPLETS, build_bundle, find_busybox, is_static_elf, tree_bytes
    from .cli import Crun, Runc, runtime_reason
    from .config import oci_config

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
    "is_static_elf",
    "oci_config",
    "runtime_reason",
    "select_container_runtime",
    "tree_bytes",
]


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


# -- selection ------------------------------------------------------------------------------


def select_container_runtime(choice: str = "auto") -> ContainerRuntime:
    """The runtime to measure: ``runc`` or ``crun`` by name, or ``auto`` (runc, else crun).

    The runtime is probed by running one container, so a test gets a runtime that works here or
    a skip reason, never a crash in its body. The caller owns the result: use it as a context
    manager or call ``cleanup_all()`` in teardown.
    """
    from .cli import RUNTIMES

    if choice == "auto":
        names = ["runc", "crun"]
    elif choice in RUNTIMES:
        names = [choice]
    else:
        raise ValueError(
            f"unknown container runtime {choice!r}: choose auto, {', '.join(RUNTIMES)}"
        )
    reasons: list[str] = []
    for name in names:
        try:
            runtime = RUNTIMES[name]()
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


# -- the implementations, loaded on first use (PEP 562) ----------------------------------------------

#: Where each implementation's public names live, relative to this package.
_HOMES: Final = {
    "CompletedRun": "..process",
    "RunTimeout": "..process",
    "DEFAULT_APPLETS": ".bundle",
    "build_bundle": ".bundle",
    "find_busybox": ".bundle",
    "is_static_elf": ".bundle",
    "tree_bytes": ".bundle",
    "Crun": ".cli",
    "Runc": ".cli",
    "runtime_reason": ".cli",
    "oci_config": ".config",
}


__getattr__ = lazy_names(__name__, _HOMES)
