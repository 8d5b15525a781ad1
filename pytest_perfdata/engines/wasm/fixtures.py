"""Wasm runtime fixtures and their options: ``wasm_runtime`` (WasmEdge when installed, else wasmtime)."""

from __future__ import annotations

import pytest

from . import WasmBackend, WasmUnavailable, select_wasm_backend

__all__ = ["wasm_runtime", "wasmedge_runtime"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perfdata")
    group.addoption(
        "--perf-wasm-runtime", dest="perf_wasm_runtime", choices=("auto", "wasmedge", "wasmtime"), default="auto",
        help="runtime behind the wasm_runtime fixture: auto (WasmEdge when installed, else wasmtime)",
    )
    group.addoption(
        "--perf-wasmedge", dest="perf_wasmedge", metavar="PATH", default=None,
        help="the wasmedge executable (default: found on PATH)",
    )


@pytest.fixture(scope="session")
def wasm_runtime(request: pytest.FixtureRequest) -> WasmBackend:
    """The selected Wasm runtime (``--perf-wasm-runtime``); skips with the reason when missing."""
    try:
        return select_wasm_backend(
            request.config.getoption("perf_wasm_runtime"), request.config.getoption("perf_wasmedge")
        )
    except WasmUnavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="session")
def wasmedge_runtime(wasm_runtime: WasmBackend) -> WasmBackend:
    """Alias of ``wasm_runtime``, for suites written against WasmEdge's name."""
    return wasm_runtime
