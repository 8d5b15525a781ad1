"""The workloads fixture: Wasm and native programs built from source, cached by content hash."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ...options import Option

if TYPE_CHECKING:
    from .workloads import WorkloadBuilder

__all__ = ["OPTIONS", "workloads"]

#: The family's options (none yet: the cache directory comes from the environment, see ``..cache``).
OPTIONS: tuple[Option, ...] = ()


@pytest.fixture(scope="session")
def workloads() -> WorkloadBuilder:
    """Builds workloads from source (WAT, WASI C, native C), cached by content hash."""
    from .workloads import WorkloadBuilder

    return WorkloadBuilder()
