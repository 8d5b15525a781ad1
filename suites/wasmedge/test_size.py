"""Artefact size: the Wasm module and its precompiled form against a container's root filesystem.

The container is the smallest honest one: Debian's static busybox and nothing else. Real
application images are larger, so the ratio here is a floor for the "image size" claim.
"""

from __future__ import annotations

import pytest


def test_module_and_rootfs_size(perf, wasm_runtime, builds, tmp_path, unmeasured) -> None:
    from pytest_perfdata.engines.oci import ContainerUnavailable, build_bundle
    from pytest_perfdata.engines.wasm import WasmAotUnavailable

    hello = builds.wasi("hello.c")
    wasm = perf.record_value("wasm.size.hello_c", hello.path.stat().st_size / 1024, unit="KiB",
                             notes=(f"built with {hello.toolchain}",))
    perf.record_value("wasm.size.hello_wat", builds.wat("hello.wat").path.stat().st_size, unit="B")
    perf.record_value("wasm.size.kernel_c", builds.wasi("kernel.c").path.stat().st_size / 1024, unit="KiB")
    try:
        artefact = wasm_runtime.cli.precompile(hello.path, tmp_path)
    except WasmAotUnavailable as reason:  # e.g. a WasmEdge built without LLVM: interpreter only
        unmeasured.add(f"precompiled module size not measured: {reason}")
    else:
        perf.record_value(f"wasm.size.hello_c_precompiled.{wasm_runtime.cli.precompiled_engine.slug}",
                          artefact.stat().st_size / 1024, unit="KiB", engine=wasm_runtime.cli.precompiled_engine)
    try:
        bundle = build_bundle(tmp_path / "bundle", ["echo", "hello"])
    except ContainerUnavailable as reason:
        unmeasured.add(f"container rootfs not built: {reason}")
        pytest.skip("; ".join(unmeasured.reasons))
    rootfs = perf.record_value("container.size.rootfs_busybox", bundle.rootfs_bytes / 1024, unit="KiB",
                               notes=("Debian busybox-static with applet links: the smallest real image",))
    ratio = perf.record_ratio("ratio.size.rootfs_vs_wasm", rootfs, wasm)
    assert ratio.value > 1
    unmeasured.skip_if_any()
