"""Cold start: in-process, from a precompiled artefact, and as a process beside a container.

"Cold start" here is everything between having the module's bytes and the first call
returning: compile (or deserialize), instantiate, run ``_start``. Process-level cold start is
launch to exit of a hello-world, for the Wasm CLI, a real runc container and a native static
binary, in the same test so their ratios compare like with like. Process-level figures are timed
beside a process-spawn reference (``/bin/true``), not the CPU loop: process creation is what
slows when the machine is loaded.
"""

from __future__ import annotations

import warnings

import pytest


def test_in_process_cold_start(perf, wasm_runtime, embedded, builds) -> None:
    """Compile + instantiate + first call of a WASI hello world, in this process."""
    wasm = builds.wat("hello.wat").read_bytes()

    def cold_start() -> None:
        instance = embedded.instantiate(embedded.compile(wasm))
        embedded.call(instance, "_start")

    record = perf.measure(f"wasm.cold_start.in_process.{embedded.engine.slug}", cold_start, unit="ms", engine=embedded.engine)
    assert record.summary.n >= 8


def test_precompiled_cold_start(perf, embedded, builds) -> None:
    """The same, from a precompiled artefact (wasmtime's Module.serialize, like AOT)."""
    wasm = builds.wat("hello.wat").read_bytes()
    artefact = embedded.serialize(embedded.compile(wasm))

    def cold_start() -> None:
        instance = embedded.instantiate(embedded.deserialize(artefact))
        embedded.call(instance, "_start")

    record = perf.measure(
        f"wasm.cold_start.precompiled.{embedded.engine.slug}", cold_start, unit="ms", engine=embedded.engine
    )
    assert record.summary.n >= 8


def test_process_cold_start_side_by_side(perf, request, wasm_runtime, builds, tmp_path, unmeasured) -> None:
    """Launch → exit of hello world: Wasm CLI, precompiled Wasm, runc container, native binary.

    A runtime that cannot precompile here (a WasmEdge without LLVM) still gets every other
    figure recorded; the test then skips with the runtime's reason for the precompiled one.
    """
    from pytest_perfdata.engines.build.native import run_native
    from pytest_perfdata.engines.oci import build_bundle
    from pytest_perfdata.engines.spawn import SPAWN_REFERENCE as spawn
    from pytest_perfdata.engines.wasm import Limits, WasmAotUnavailable

    unmetered = Limits(fuel=None)  # bounded by the time limit; fuel metering is not start-up cost

    cli = wasm_runtime.cli
    hello = builds.wat("hello.wat")
    run = cli.run(hello.path, unmetered)
    assert run.exit_code == 0 and run.stdout == b"hello\n"
    perf.measure(f"wasm.cold_start.process.{cli.engine.slug}", lambda: cli.run(hello.path, unmetered),
                        unit="ms", engine=cli.engine, budget="3s", reference=spawn)

    try:
        artefact = cli.precompile(hello.path, tmp_path)
    except WasmAotUnavailable as reason:  # e.g. a WasmEdge built without LLVM: interpreter only
        unmeasured.add(f"precompiled cold start not measured: {reason}")
    else:
        assert cli.run_precompiled(artefact, unmetered).stdout == b"hello\n"
        perf.measure(f"wasm.cold_start.process_precompiled.{cli.precompiled_engine.slug}",
                     lambda: cli.run_precompiled(artefact, unmetered), unit="ms", engine=cli.precompiled_engine,
                     budget="3s", reference=spawn)

    native = builds.native_program("hello.c")
    assert run_native(native).stdout.startswith(b"hello")
    perf.measure("native.cold_start.process", lambda: run_native(native), unit="ms",
                         engine=native.engine, budget="3s", reference=spawn)
    perf.compare("ratio.cold_start.wasm_vs_native", lambda: cli.run(hello.path, unmetered), lambda: run_native(native),
                 engines=(cli.engine, native.engine), budget="3s")

    try:
        containers = request.getfixturevalue("container_runtime")
    except pytest.skip.Exception as reason:
        warnings.warn(f"container cold start not measured: {reason}", stacklevel=1)
        unmeasured.skip_if_any()
        return
    bundle = build_bundle(tmp_path / "bundle", ["echo", "hello"])
    assert containers.run(bundle).stdout == b"hello\n"
    perf.measure(f"container.cold_start.process.{containers.engine.slug}",
                             lambda: containers.run(bundle), unit="ms", engine=containers.engine, budget="5s", reference=spawn)
    perf.compare("ratio.cold_start.container_vs_wasm", lambda: containers.run(bundle),
                 lambda: cli.run(hello.path, unmetered), engines=(containers.engine, cli.engine), budget="4s")
    unmeasured.skip_if_any()

