"""A free TCP port on 127.0.0.1, for the servers engines start (OPA, the local control plane)."""

from __future__ import annotations

import socket

__all__ = ["free_loopback_port"]


def free_loopback_port() -> int:
    """A port the kernel just handed out; another process may take it before ours binds, so callers retry."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
