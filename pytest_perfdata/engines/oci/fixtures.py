"""The container runtime fixture: a real OCI runtime (runc, else crun), cleaned up after the session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ...options import Option

if TYPE_CHECKING:
    from . import ContainerRuntime

__all__ = ["OPTIONS", "container_runtime"]

#: The family's options (none yet: ``auto`` picks runc, else crun); the core plugin adds every table.
OPTIONS: tuple[Option, ...] = ()


@pytest.fixture(scope="session")
def container_runtime() -> Iterator[ContainerRuntime]:
    """A real OCI runtime (runc, else crun) that has just run a container here; cleaned up after."""
    from . import ContainerUnavailable, select_container_runtime

    try:
        runtime = select_container_runtime()
    except ContainerUnavailable as reason:
        pytest.skip(str(reason))
    try:
        yield runtime
    finally:
        runtime.cleanup_all()
