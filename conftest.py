"""Suite-wide settings, shared by `pytest suites/` and `pytest tests/` (one rootdir, one baselines/).

Measuring tests share one process, so the order matters: suites that load a foreign runtime
into the process (OPA's Go engine starts its own threads and signal handlers, and keeps them)
run last, where they cannot slow down or disturb the figures of the others.
"""

from __future__ import annotations

import pytest

# pytester's in-process runs (the plugin's tests, suites/self) forget every module first imported
# inside one of them. The plugin imports its YAML loader only once a test measures, and libyaml's C
# extension cannot be imported afresh: a second copy of PyYAML would build nodes its first copy's
# classes do not recognise. Importing the loader here keeps one copy for the whole session.
import pytest_perfdata.baseline  # noqa: F401
import wasmtime  # noqa: F401  (the same for wasmtime's native library)

_LAST = ("suites/opa/",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: any(item.nodeid.startswith(prefix) for prefix in _LAST))
