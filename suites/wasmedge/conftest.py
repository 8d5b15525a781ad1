"""The WasmEdge suite's shared pieces: workload sources and builds that skip with a reason."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from pytest_perfdata.engines.wasm import WasmBackend
from pytest_perfdata.engines.build.workloads import Workload, WorkloadBuilder, WorkloadUnavailable

SOURCES = Path(__file__).parent / "workloads"


class Builds:
    """Workloads of this suite, built on first use; a missing toolchain skips the asking test."""

    def __init__(self, builder: WorkloadBuilder) -> None:
        self.builder = builder

    def _get(self, make, name: str) -> Workload:  # type: ignore[no-untyped-def]
        try:
            return make(SOURCES / name)
        except WorkloadUnavailable as reason:
            pytest.skip(str(reason))

    def wat(self, name: str) -> Workload:
        return self._get(self.builder.wat, name)

    def wasi(self, name: str) -> Workload:
        return self._get(self.builder.wasi, name)

    def native(self, name: str) -> Workload:
        return self._get(self.builder.native, name)

    def native_program(self, name: str):  # type: ignore[no-untyped-def]
        """The static native build as a runnable program whose engine names its toolchain."""
        from pytest_perfdata.engines.build.native import NativeProgram
        from pytest_perfdata.record import Engine

        build = self.native(name)
        return NativeProgram(build.path, Engine("native", build.toolchain, "static"))

    def shared_library(self, name: str):  # type: ignore[no-untyped-def]
        """The C source as a shared library, to call its functions natively through ctypes."""
        from pytest_perfdata.engines.build.native import NativeUnavailable, build_native

        try:
            return build_native(SOURCES / name, self.builder.cache_dir, static=False, extra_flags=("-shared", "-fPIC"))
        except NativeUnavailable as reason:
            pytest.skip(str(reason))


@pytest.fixture(scope="session")
def builds(workloads: WorkloadBuilder) -> Builds:
    return Builds(workloads)


class Unmeasured:
    """The figures a test could not make, with why: it skips with them once the rest is recorded.

    A figure that failed its verdict outranks the skip: the test then ends normally, so the
    plugin confirms and reports that failure, and the reasons become warnings instead.
    """

    def __init__(self, perf) -> None:  # type: ignore[no-untyped-def]
        self.perf = perf
        self.reasons: list[str] = []

    def add(self, reason: str) -> None:
        self.reasons.append(reason)

    def skip_if_any(self) -> None:
        if not self.reasons:
            return
        if not self.perf.failures:
            pytest.skip("; ".join(self.reasons))
        for reason in self.reasons:
            warnings.warn(reason, stacklevel=2)


@pytest.fixture
def unmeasured(perf) -> Unmeasured:  # type: ignore[no-untyped-def]
    return Unmeasured(perf)


def embedded_or_skip(runtime: WasmBackend):  # type: ignore[no-untyped-def]
    """The runtime's in-process engine, or a skip saying why there is none."""
    if runtime.embedded is None:
        pytest.skip(runtime.unavailable.get("embedded", f"{runtime.name} has no in-process engine here"))
    return runtime.embedded


@pytest.fixture
def embedded(wasm_runtime: WasmBackend):  # type: ignore[no-untyped-def]
    return embedded_or_skip(wasm_runtime)
