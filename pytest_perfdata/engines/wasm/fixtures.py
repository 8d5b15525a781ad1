"""Wasm runtime fixtures and their options: ``wasm_runtime`` (WasmEdge when installed, else wasmtime)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ...options import Option, option_value
from . import RuntimeChoice  # the package is light: it imports no engine until one is selected

if TYPE_CHECKING:
    from . import WasmBackend

__all__ = ["OPTIONS", "wasm_runtime", "wasmedge_runtime"]

#: The family's options; the core plugin adds every family's table.
OPTIONS: tuple[Option, ...] = (
    Option(
        "perf_wasm_runtime",
        "runtime behind the wasm_runtime fixture: auto (WasmEdge when installed, else wasmtime)",
        default=RuntimeChoice.AUTO.value,
        choices=tuple(choice.value for choice in RuntimeChoice),
    ),
    Option(
        "perf_wasmedge", "the wasmedge executable (default: found on PATH)", metavar="PATH"
    ),
)



@pytest.fixture(scope="session")
def wasm_runtime(request: pytest.FixtureRequest) -> WasmBackend:
    """The selected Wasm runtime (``--perf-wasm-runtime``); skips with the reason when missing."""
    from . import WasmUnavailable, select_wasm_backend

    config = request.config
    try:
        return select_wasm_backend(
            option_value(config, OPTIONS, "perf_wasm_runtime"),
            option_value(config, OPTIONS, "perf_wasmedge"),
        )
    except WasmUnavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="session")
def wasmedge_runtime(wasm_runtime: WasmBackend) -> WasmBackend:
    """Alias of ``wasm_runtime``, for suites written against WasmEdge's name."""
    return wasm_runtime
