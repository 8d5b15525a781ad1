"""The pods a run creates: which runtime (RuntimeClass, handler) and image they use, and their manifest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, final

from . import K3sUnavailable
from .metrics.facts import ClusterFacts, NodeFacts

if TYPE_CHECKING:
    from .settings import K3sSettings

__all__ = ["WASM_HANDLERS", "RuntimeChoice", "pod_manifest", "resolve_runtime"]

#: RuntimeClass handlers that run Wasm modules rather than Linux images (K3s creates these classes).
WASM_HANDLERS: Final = frozenset({"wasmedge", "wasmtime", "wasmer", "spin", "slight", "wws", "lunatic"})


@final
@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """How pods of one measured runtime are made: its label in metric names, RuntimeClass and image."""

    label: str
    runtime_class: str | None
    handler: str
    image: str
    note: str


def resolve_runtime(facts: ClusterFacts, name: str, settings: K3sSettings) -> RuntimeChoice:
    """The pods for runtime ``name``; :class:`K3sUnavailable` when the cluster has no such RuntimeClass.

    ``runc`` is the cluster's default runtime when there is no RuntimeClass of that name (K3s
    runs containerd with runc by default and creates classes only for the others). Wasm handlers
    get the Wasm image, everything else the Linux one.
    """
    runtime_class = facts.runtime_class(name)
    if runtime_class is None and name != "runc":
        present = ", ".join(rc.name for rc in facts.runtime_classes) or "none"
        raise K3sUnavailable(f"RuntimeClass {name} is not in this cluster (present: {present}); "
                             f"K3s creates it when it finds containerd-shim-{name}-v1 on the node")
    handler = runtime_class.handler if runtime_class else "runc"
    image = settings.wasm_image if handler in WASM_HANDLERS else settings.image
    if runtime_class is None:
        note = "runtime: the cluster's default (no RuntimeClass; containerd's runc on K3s)"
    else:
        note = f"runtime: RuntimeClass {runtime_class.name} (handler {handler})"
    return RuntimeChoice(name, runtime_class.name if runtime_class else None, handler, image, f"{note}, image {image}")


def pod_manifest(name: str, runtime: RuntimeChoice, node: NodeFacts, labels: Mapping[str, str]) -> dict[str, Any]:
    """A pod that only runs: no requests (so max-pods, not CPU, bounds density), no token, no grace period."""
    spec: dict[str, Any] = {
        "containers": [{"name": "workload", "image": runtime.image, "imagePullPolicy": "IfNotPresent"}],
        "nodeSelector": {"kubernetes.io/hostname": node.hostname},
        "terminationGracePeriodSeconds": 0,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    }
    if runtime.runtime_class:
        spec["runtimeClassName"] = runtime.runtime_class
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": dict(labels)}, "spec": spec}
