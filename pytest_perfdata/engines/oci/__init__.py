"""OCI container runtimes, the container baseline: the choice of one, and the names of all their parts.

The implementations sit one job per module, imported when first used: :mod:`.cli` drives runc
and crun through the CLI they share, :mod:`.bundle` lays out a busybox bundle on disk with the
``config.json`` of :mod:`.config`, and :mod:`._proc` reads the containers' processes from /proc.
Their protocol, errors and values are in :mod:`.protocol`. :func:`select_container_runtime` is the
one place that picks a runtime, probing it first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ..._lazy import lazy_names

if TYPE_CHECKING:
    from ..process import CompletedRun, RunTimeout
    from .bundle import DEFAULT_APPLETS, build_bundle, find_busybox, is_static_elf, tree_bytes
    from .cli import Crun, Runc, runtime_reason
    from .config import oci_config
    from .protocol import Bundle, ContainerError, ContainerRuntime, ContainerUnavailable, RunningContainer

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


# -- selection ------------------------------------------------------------------------------


def select_container_runtime(choice: str = "auto") -> ContainerRuntime:
    """The runtime to measure: ``runc`` or ``crun`` by name, or ``auto`` (runc, else crun).

    The runtime is probed by running one container, so a test gets a runtime that works here or
    a skip reason, never a crash in its body. The caller owns the result: use it as a context
    manager or call ``cleanup_all()`` in teardown.
    """
    from .cli import RUNTIMES
    from .protocol import ContainerUnavailable

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
    **{name: ".protocol" for name in (
        "Bundle", "ContainerError", "ContainerRuntime", "ContainerUnavailable", "RunningContainer")},
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
