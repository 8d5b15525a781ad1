"""Memory per instance and density: how many live Wasm instances, or containers, fit in a GiB.

Wasm instances are counted from this process's private memory growth (PSS-style, so shared
code is not charged to every instance) while instances of a WASI hello world are created and
kept alive, each after its ``_start`` has run. Containers are counted from the PSS of their own
processes (``runc ps``), which leaves out what a real node adds per pod (containerd shim,
kubelet bookkeeping, kernel objects): the container figure is a floor.
"""

from __future__ import annotations

import gc

import pytest


GIB = 1024**3
INSTANCE_BATCH = 100
DENSITY_BUDGET = 256 * 1024**2  # ramp until this much memory is held ...
DENSITY_CAP = 4000  # ... or this many instances, whichever comes first
CONTAINERS = 8


def _private_bytes() -> int:
    from pytest_perfdata.memory import process_memory

    gc.collect()
    return process_memory().private


def test_wasm_memory_per_instance(perf, embedded, builds) -> None:
    """Private memory per live instance, over batches of 100 (one sample per batch)."""
    module = embedded.compile(builds.wat("hello.wat").read_bytes())
    alive, per_instance = [], []
    for _ in range(8):
        before = _private_bytes()
        for _ in range(INSTANCE_BATCH):
            instance = embedded.instantiate(module)
            embedded.call(instance, "_start")
            alive.append(instance)
        per_instance.append((_private_bytes() - before) / INSTANCE_BATCH / 1024)
    perf.record_samples(f"wasm.memory.per_instance.{embedded.engine.slug}", per_instance, unit="KiB",
                        engine=embedded.engine, notes=(f"private memory growth per batch of {INSTANCE_BATCH} instances",))
    assert len(alive) == 8 * INSTANCE_BATCH


def test_wasm_density(perf, embedded, builds) -> None:
    """Ramp live instances until a memory budget or a cap; report instances per GiB and why it stopped."""
    from pytest_perfdata.backends.wasm import WasmError, WasmLimitExceeded

    module = embedded.compile(builds.wat("hello.wat").read_bytes())
    alive = []
    before = _private_bytes()
    reason = f"cap of {DENSITY_CAP} instances reached"
    while len(alive) < DENSITY_CAP:
        try:
            for _ in range(INSTANCE_BATCH):
                instance = embedded.instantiate(module)
                embedded.call(instance, "_start")
                alive.append(instance)
        except (WasmError, WasmLimitExceeded, MemoryError) as error:
            reason = f"instantiation failed after {len(alive)} instances: {error}"
            break
        if _private_bytes() - before >= DENSITY_BUDGET:
            reason = f"memory budget of {DENSITY_BUDGET // 1024**2} MiB reached"
            break
    held = max(_private_bytes() - before, 1)
    perf.record_value(f"wasm.density.instances_per_gib.{embedded.engine.slug}", len(alive) * GIB / held,
                      unit="instances/GiB", better="higher", engine=embedded.engine,
                      notes=(f"{len(alive)} live instances held {held / 1024**2:.1f} MiB; stopped: {reason}",))
    assert len(alive) >= INSTANCE_BATCH


def test_container_memory_and_density(perf, container_runtime, tmp_path) -> None:
    """PSS per running busybox container, and the containers per GiB it implies."""
    from pytest_perfdata.backends.oci import build_bundle

    bundle = build_bundle(tmp_path / "bundle", ["sleep", "600"])
    running = [container_runtime.start_detached(bundle) for _ in range(CONTAINERS)]
    try:
        per_container = [container_runtime.memory_bytes(c) / 1024 for c in running]
    finally:
        for container in running:
            container_runtime.stop(container)
    name = container_runtime.engine.slug
    memory = perf.record_samples(f"container.memory.per_container.{name}", per_container, unit="KiB",
                                 engine=container_runtime.engine,
                                 notes=("PSS of the container's own processes; no shim, no kernel objects",))
    perf.record_value(f"container.density.per_gib.{name}", GIB / (memory.value * 1024), unit="containers/GiB",
                      better="higher", engine=container_runtime.engine,
                      notes=(f"from {CONTAINERS} live containers; a floor for real pods",))
    if memory.value <= 0:
        pytest.fail("containers reported no memory")


def test_process_peak_memory(perf, wasm_runtime, builds) -> None:
    """Peak RSS of one hello-world run: Wasm CLI against the native binary (the "few MB" claim)."""
    from pytest_perfdata.backends.native import NativeUnavailable
    from pytest_perfdata.backends.peak_rss import PeakRss
    from pytest_perfdata.record import Engine

    if wasm_runtime.cli is None:
        pytest.skip(wasm_runtime.unavailable.get("cli", "no Wasm CLI"))
    try:
        peak = PeakRss(builds.builder.cache_dir)
    except NativeUnavailable as reason:
        pytest.skip(str(reason))
    cli = wasm_runtime.cli
    argv = [str(a) for a in cli.run_argv(builds.wat("hello.wat").path)]
    native_build = builds.native("hello.c")
    native = [str(native_build.path)]
    wasm = perf.record_samples(f"wasm.memory.process_peak.{cli.engine.slug}",
                               [peak.measure(argv) / 1024**2 for _ in range(10)], unit="MiB", engine=cli.engine)
    floor = perf.record_samples("native.memory.process_peak",
                                [peak.measure(native) / 1024**2 for _ in range(10)], unit="MiB",
                                engine=Engine("native", native_build.toolchain, "static"))
    perf.record_ratio("ratio.memory.process_peak.wasm_vs_native", wasm, floor)
