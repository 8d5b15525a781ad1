"""Memory per instance and density: how many live Wasm instances, or containers, fit in a GiB.

Wasm instances are counted in a fresh Python process (``backends/wasm_footprint.py``): its
private memory growth (so shared code is not charged to every instance) while instances of a
WASI hello world are created and kept alive, each after its ``_start`` has run. In this
long-lived test process the same ramp would be measured against pages earlier tests freed.
Containers are counted from the PSS of their own processes (``runc ps``), which leaves out what
a real node adds per pod (containerd shim, kubelet bookkeeping, kernel objects): the container
figure is a floor.
"""

from __future__ import annotations

import pytest

GIB = 1024**3
INSTANCE_BATCH = 100
DENSITY_BUDGET = 256 * 1024**2  # ramp until this much memory is held ...
DENSITY_CAP = 4000  # ... or this many instances, whichever comes first
CONTAINERS = 8


def test_wasm_memory_per_instance_and_density(perf, embedded, builds) -> None:
    """Private memory per live instance (one sample per batch of 100), and instances per GiB."""
    from pytest_perfdata.engines.wasm.footprint import instance_ramp

    ramp = instance_ramp(builds.wat("hello.wat").path, consume_fuel=embedded.consume_fuel, batch=INSTANCE_BATCH,
                         cap=DENSITY_CAP, budget_bytes=DENSITY_BUDGET)
    assert ramp.engine == embedded.engine  # the child ran the engine the records name
    assert ramp.instances >= INSTANCE_BATCH, ramp.stopped
    where = f"fresh process, {ramp.instances} live instances held {ramp.held_bytes / 1024**2:.1f} MiB"
    perf.record_samples(f"wasm.memory.per_instance.{ramp.engine.slug}", [b / 1024 for b in ramp.per_instance_bytes],
                        unit="KiB", engine=ramp.engine,
                        notes=(f"private memory growth per instance, one sample per batch of {INSTANCE_BATCH}; {where}",))
    perf.record_value(f"wasm.density.instances_per_gib.{ramp.engine.slug}", ramp.instances * GIB / ramp.held_bytes,
                      unit="instances/GiB", better="higher", engine=ramp.engine,
                      notes=(f"{where}; stopped: {ramp.stopped}",))


def test_container_memory_and_density(perf, container_runtime, tmp_path) -> None:
    """PSS per running busybox container, and the containers per GiB it implies."""
    from pytest_perfdata.engines.oci import build_bundle

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
    from pytest_perfdata.engines.build.native import NativeUnavailable
    from pytest_perfdata.engines.build.peak_rss import PeakRss

    try:
        peak = PeakRss(builds.builder.cache_dir)
    except NativeUnavailable as reason:
        pytest.skip(str(reason))
    cli = wasm_runtime.cli
    argv = [str(a) for a in cli.run_argv(builds.wat("hello.wat").path)]
    native_program = builds.native_program("hello.c")
    native = [str(native_program.path)]
    wasm = perf.record_samples(f"wasm.memory.process_peak.{cli.engine.slug}",
                               [peak.measure(argv) / 1024**2 for _ in range(10)], unit="MiB", engine=cli.engine)
    floor = perf.record_samples("native.memory.process_peak",
                                [peak.measure(native) / 1024**2 for _ in range(10)], unit="MiB",
                                engine=native_program.engine)
    perf.record_ratio("ratio.memory.process_peak.wasm_vs_native", wasm, floor)
