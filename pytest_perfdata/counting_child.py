"""In a counting child only: a ``benchmark`` fixture that calls the benchmarked function as often as asked.

Registered over pytest-benchmark's fixture when this process is a counting child (see
:mod:`.counting`). The parent counts the child's instructions, so the function must run exactly
as often as asked, and none of pytest-benchmark's calibration or rounds may run beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .counting import calls_in_this_process
from .interop_benchmark import benchmark_metric

__all__ = ["CountingBenchmark", "benchmark"]


class CountingBenchmark:
    """Stands in for pytest-benchmark's fixture: ``benchmark(fn, ...)`` and ``benchmark.pedantic(...)``."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.extra_info: dict[str, Any] = {}
        self.group: str | None = None

    def __call__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = None
        for _ in range(self.calls):
            result = function(*args, **kwargs)
        return result

    def pedantic(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        setup: Callable[[], Any] | None = None,
        rounds: int = 1,
        warmup_rounds: int = 0,
        iterations: int = 1,
    ) -> Any:
        """One call per count, each after its ``setup``, whose instructions are then part of one call's count."""
        result = None
        for _ in range(self.calls):
            call_args, call_kwargs = args, kwargs or {}
            if setup is not None:
                made = setup()
                if made is not None:
                    call_args, call_kwargs = made
            result = target(*call_args, **call_kwargs)
        return result


@pytest.fixture
def benchmark(request: pytest.FixtureRequest) -> CountingBenchmark:
    """The counting stand-in for pytest-benchmark's ``benchmark`` fixture."""
    return CountingBenchmark(calls_in_this_process(benchmark_metric(request.node)))
