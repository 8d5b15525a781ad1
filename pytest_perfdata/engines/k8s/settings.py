"""The ``--perf-kubeconfig`` / ``--perf-k3s-*`` options, resolved into one value the cluster carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, final

from . import (
    DEFAULT_CLUSTER,
    DEFAULT_DENSITY_TARGET,
    DEFAULT_LOCAL_NODES,
    DEFAULT_IMAGE,
    DEFAULT_MEMORY_PODS,
    DEFAULT_NODES,
    DEFAULT_PODS,
    DEFAULT_RUNTIME_CLASSES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_WASM_IMAGE,
)
from .retry import RetryPolicy

__all__ = ["K3sSettings", "runtime_class_names"]


def runtime_class_names(text: str) -> tuple[str, ...]:
    """``runc, wasmedge`` as ``("runc", "wasmedge")``: blanks and empty entries dropped."""
    return tuple(c.strip() for c in text.split(",") if c.strip())


@final
@dataclass(frozen=True, slots=True)
class K3sSettings:
    """The ``--perf-kubeconfig`` / ``--perf-k3s-*`` options, resolved; defaults are the options' own."""

    cluster: str = DEFAULT_CLUSTER  # auto | local | kubeconfig
    local_nodes: int = DEFAULT_LOCAL_NODES
    kubeconfig: str | None = None
    context: str | None = None
    keep: bool = False
    image: str = DEFAULT_IMAGE
    wasm_image: str = DEFAULT_WASM_IMAGE
    nodes: str = DEFAULT_NODES
    runtime_classes: tuple[str, ...] = DEFAULT_RUNTIME_CLASSES
    pods: int = DEFAULT_PODS
    density_target: int = DEFAULT_DENSITY_TARGET
    memory_pods: int = DEFAULT_MEMORY_PODS
    timeout_s: float = DEFAULT_TIMEOUT_S
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_options(cls, getoption: Callable[[str], Any]) -> K3sSettings:
        return cls(
            cluster=getoption("perf_k3s_cluster"),
            local_nodes=getoption("perf_k3s_local_nodes"),
            kubeconfig=getoption("perf_kubeconfig"),
            context=getoption("perf_k3s_context"),
            keep=bool(getoption("perf_k3s_keep")),
            image=getoption("perf_k3s_image"),
            wasm_image=getoption("perf_k3s_wasm_image"),
            nodes=getoption("perf_k3s_nodes"),
            runtime_classes=runtime_class_names(str(getoption("perf_k3s_runtime_classes"))),
            pods=getoption("perf_k3s_pods"),
            density_target=getoption("perf_k3s_density_target"),
            memory_pods=getoption("perf_k3s_memory_pods"),
            timeout_s=getoption("perf_k3s_timeout"),
        )
