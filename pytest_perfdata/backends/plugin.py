"""Backend fixtures and their options: a Wasm runtime, a container runtime, built workloads.

Every fixture hands a test a real engine. When one is missing, the test is skipped with one
line saying how to get it, and nothing is recorded for it: a record always names the engine
that actually ran.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .oci import ContainerRuntime, ContainerUnavailable, select_container_runtime
from .wasm import WasmBackend, WasmUnavailable, select_wasm_backend
from .workloads import WorkloadBuilder

__all__ = ["container_runtime", "wasm_runtime", "wasmedge_runtime", "workloads"]


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


@pytest.fixture(scope="session")
def workloads() -> WorkloadBuilder:
    """Builds workloads from source (WAT, WASI C, native C), cached by content hash."""
    return WorkloadBuilder()
