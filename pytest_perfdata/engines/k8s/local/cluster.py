"""The local cluster: the control plane of :mod:`.control_plane` with its simulated nodes added and Ready."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final, final

from .binaries import LocalBinaries
from .control_plane import ControlPlaneOptions, LocalClusterError, LocalControlPlane
from .nodes import SimulatedNode, default_nodes, node_manifest

__all__ = ["LocalCluster"]

_NODE_READY_TIMEOUT_S: Final = 60.0


@final
class LocalCluster:
    """A running control plane and its KWOK nodes; :meth:`stop` ends all of it."""

    def __init__(self, plane: LocalControlPlane) -> None:
        self.plane = plane
        self.nodes: list[SimulatedNode] = []
        #: The server's memory (:meth:`LocalControlPlane.server_bytes`) once its first nodes were
        #: Ready, before any test ran: the idle figure, whichever test reads it and when.
        self.started_bytes: tuple[int, str] = (0, "")

    @classmethod
    def start(cls, binaries: LocalBinaries, nodes: Sequence[SimulatedNode] | None = None,
              options: ControlPlaneOptions | None = None) -> LocalCluster:
        plane = LocalControlPlane.start(binaries, options)
        cluster = cls(plane)
        try:
            cluster.add_nodes(default_nodes() if nodes is None else nodes)
            cluster.started_bytes = plane.server_bytes()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    @property
    def kubeconfig(self) -> Path:
        return self.plane.kubeconfig

    def add_nodes(self, nodes: Sequence[SimulatedNode]) -> None:
        """Create the nodes and wait until KWOK has made each Ready."""
        for node in nodes:
            status, body = self.plane.request("POST", "/api/v1/nodes", node_manifest(node))
            if status != 201:
                raise LocalClusterError(f"local cluster: creating node {node.name}: HTTP {status}: "
                                        f"{body[:500].decode(errors='replace')}")
            self.nodes.append(node)
        deadline = time.monotonic() + _NODE_READY_TIMEOUT_S
        waiting = {node.name for node in nodes}
        while waiting:
            if (death := self.plane.died()) is not None:
                raise LocalClusterError(f"local cluster: {death}")
            status, body = self.plane.get("/api/v1/nodes")
            for item in json.loads(body).get("items", []) if status == 200 else ():
                conditions = {c.get("type"): c.get("status") for c in item.get("status", {}).get("conditions") or ()}
                if conditions.get("Ready") == "True":
                    waiting.discard(item["metadata"]["name"])
            if waiting and time.monotonic() >= deadline:
                kwok = next(child for child in self.plane.children if child.name == "kwok")
                raise LocalClusterError(f"local cluster: nodes {', '.join(sorted(waiting))} not Ready after "
                                        f"{_NODE_READY_TIMEOUT_S:g} s; KWOK's last words: {kwok.last_words()}")
            if waiting:
                time.sleep(0.2)

    def remove_node(self, name: str) -> None:
        self.plane.request("DELETE", f"/api/v1/nodes/{name}")
        self.nodes = [node for node in self.nodes if node.name != name]

    def remove_nodes(self, names: Sequence[str]) -> None:
        for name in names:
            self.remove_node(name)

    def stop(self) -> None:
        """Stop every component and remove the state; idempotent."""
        self.plane.stop()
