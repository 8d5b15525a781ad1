"""The container runtime fixture: a real OCI runtime (runc, else crun), cleaned up after the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import ContainerRuntime, ContainerUnavailable, select_container_runtime

__all__ = ["container_runtime"]


@pytest.fixture(scope="session")
def container_runtime() -> Iterator[ContainerRuntime]:
    """A real OCI runtime (runc, else crun) that has just run a container here; cleaned up after."""
    try:
        runtime = select_container_runtime()
    except ContainerUnavailable as reason:
        pytest.skip(str(reason))
    try:
        yield runtime
    finally:
        runtime.cleanup_all()
