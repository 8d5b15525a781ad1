"""CPU cost of one invocation of a CPU-bound kernel: Wasm against native, from one C source.

In-process, the Wasm kernel is called through wasmtime without fuel metering (metering is a
limit, not part of the figure) and the native one through ctypes from a shared library built
from the same file; both calls cost microseconds next to milliseconds of work. As processes,
the same kernel runs as a WASI command and as a static native binary.
"""

from __future__ import annotations

import ctypes

import pytest


N = 300_000  # primes below N: a few milliseconds of work


def test_kernel_in_process_wasm_vs_native(perf, wasm_runtime, builds) -> None:
    from pytest_perfdata.engines.wasm import Limits, WasmtimeEmbedded

    if wasm_runtime.name != "wasmtime":
        pytest.skip(f"in-process kernel needs wasmtime-py; {wasm_runtime.name} runs only as a CLI here")
    module = builds.wasi("kernel.c")
    engine = WasmtimeEmbedded(consume_fuel=False)
    instance = engine.instantiate(engine.compile(module.read_bytes()), Limits(fuel=None, timeout_s=30))
    library_build = builds.shared_library("kernel.c")
    library = ctypes.CDLL(str(library_build.path))
    library.kernel.argtypes, library.kernel.restype = [ctypes.c_int], ctypes.c_int
    assert engine.call(instance, "kernel", N) == library.kernel(N) == 25997

    perf.measure(f"wasm.cpu.kernel.{engine.engine.slug}", lambda: engine.call(instance, "kernel", N),
                        unit="ms", engine=engine.engine)
    perf.measure("native.cpu.kernel", lambda: library.kernel(N), unit="ms",
                          engine=library_build.engine)
    perf.compare("ratio.cpu.kernel.wasm_vs_native", lambda: engine.call(instance, "kernel", N),
                 lambda: library.kernel(N), engines=(engine.engine, library_build.engine),
                 notes=("the Wasm slowdown factor for the same C kernel",))


def test_kernel_process_wasm_vs_native(perf, wasm_runtime, builds) -> None:
    from pytest_perfdata.engines.build.native import run_native
    from pytest_perfdata.engines.wasm import Limits

    cli = wasm_runtime.cli
    module = builds.wasi("kernel.c")
    native = builds.native_program("kernel.c")
    limits = Limits(fuel=None, timeout_s=60)
    assert cli.run(module.path, limits).stdout == run_native(native).stdout == b"148933\n"
    perf.measure(f"wasm.cpu.kernel_process.{cli.engine.slug}", lambda: cli.run(module.path, limits),
                        unit="ms", engine=cli.engine, budget="4s")
    perf.measure("native.cpu.kernel_process", lambda: run_native(native), unit="ms",
                         engine=native.engine, budget="3s")
    perf.compare("ratio.cpu.kernel_process.wasm_vs_native", lambda: cli.run(module.path, limits),
                 lambda: run_native(native), engines=(cli.engine, native.engine), budget="3s")
