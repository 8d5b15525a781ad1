"""Suite-wide settings, shared by `pytest suites/` and `pytest tests/` (one rootdir, one baselines/).

Measuring tests share one process, so the order matters: suites that load a foreign runtime
into the process (OPA's Go engine starts its own threads and signal handlers, and keeps them)
run last, where they cannot slow down or disturb the figures of the others.
"""

from __future__ import annotations

import pytest

_LAST = ("suites/opa/",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: any(item.nodeid.startswith(prefix) for prefix in _LAST))
