"""The OPA/Rego policy engines: decisions, errors, selection, and the opa CLI's command lines.

rego-cpp (regopy) must work everywhere; OPA's Go engine (opa-golib-python-bindings) is tested
where it is installed. The opa CLI is never needed: a fake ``opa`` script stands in for it where
only the command line and the cache are checked, and a hand-written module speaking OPA's Wasm
ABI (``data/opa/abi_echo.wat``) checks the Wasm host side. Nothing here measures anything.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import tarfile
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_perfdata.engines import opa
from pytest_perfdata.engines.opa import wasm_builtins
from pytest_perfdata.engines.opa import (
    OpaHttpEngine,
    OpaWasmEngine,
    Policy,
    PolicyError,
    PolicyEvalError,
    PolicyUnavailable,
    PolicyUndefined,
    RegoCppEngine,
    available_engines,
    build_wasm_bundle,
    opa_bench,
    opa_order_key,
    parse_bench_json,
    select_engine,
    wasm_cache_key,
)
from pytest_perfdata.engines.process import run_bounded
from pytest_perfdata.record import Engine

pytest.importorskip("regopy", reason="rego-cpp's Python binding: pip install regopy")

DATA = Path(__file__).parent / "data" / "opa"
TINY = DATA / "tiny.rego"

ADMIN = {"user": {"name": "ada", "role": "admin"}, "action": "delete"}
DEV_READ = {"user": {"name": "dev1", "role": "dev"}, "action": "read"}
DEV_WRITE = {"user": {"name": "dev1", "role": "dev"}, "action": "write"}
ANONYMOUS = {"user": {"role": "guest"}, "action": "read"}

# `opa bench --format json` prints Go's testing.BenchmarkResult (cmd/bench.go renders it with
# presentation.JSON): totals N, T (ns), Bytes, MemAllocs, MemBytes, and OPA's metric histograms
# in Extra. A recorded-shape sample, not a measurement of this machine.
BENCH_SAMPLE = """{
  "N": 52981,
  "T": 1106046722,
  "Bytes": 0,
  "MemAllocs": 10755143,
  "MemBytes": 591963216,
  "Extra": {
    "timer_rego_query_eval_ns/op": 19872,
    "timer_rego_query_eval_ns_75%": 21043,
    "timer_rego_query_eval_ns_90%": 23811.5,
    "timer_rego_query_eval_ns_99%": 41920.38,
    "timer_rego_query_eval_ns_max": 512034,
    "timer_rego_query_eval_ns_mean": 20348.71,
    "timer_rego_query_eval_ns_median": 19688,
    "timer_rego_query_eval_ns_min": 17190,
    "timer_rego_query_eval_ns_stddev": 6522.9
  }
}
"""


def tiny(entrypoint: str) -> Policy:
    return Policy("tiny", (TINY,), entrypoint)


@pytest.fixture(scope="module")
def rego_cpp() -> RegoCppEngine:
    return RegoCppEngine()


@pytest.fixture
def no_opa_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH without any ``opa``, so the tests do not depend on what this machine has."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# -- rego-cpp -----------------------------------------------------------------------------------


def test_rego_cpp_decides_allow_and_deny(rego_cpp: RegoCppEngine) -> None:
    with (
        rego_cpp.load(tiny("perf/tiny/allow")) as allow,
        rego_cpp.load(tiny("perf/tiny/deny")) as deny,
    ):
        assert allow.engine == Engine("rego-cpp", allow.engine.version, "regopy")
        assert allow.engine.version[0].isdigit()
        assert allow.compile_seconds > 0
        assert allow.artefact_bytes is None
        assert [allow.evaluate(i) for i in (ADMIN, DEV_READ, DEV_WRITE, ANONYMOUS)] == [
            True,
            True,
            False,
            False,
        ]
        assert deny.evaluate(ADMIN) == []
        assert deny.evaluate(DEV_WRITE) == ["dev1 may not write"]
        assert deny.evaluate(ANONYMOUS) == ["anonymous request"]  # sprintf of undefined: no msg


def test_rego_cpp_whole_package_document(rego_cpp: RegoCppEngine) -> None:
    with rego_cpp.load(tiny("perf/tiny")) as package:
        assert package.evaluate({**DEV_WRITE, "tags": ["b", "a"]}) == {
            "allow": False,
            "deny": ["dev1 may not write"],
            "tags": ["a", "b"],
        }


def test_sets_come_back_as_lists_in_opa_order(rego_cpp: RegoCppEngine, tmp_path: Path) -> None:
    """rego-cpp prints a set of objects in text order ({"k":10} first); OPA sorts by value."""
    source = tmp_path / "sets.rego"
    source.write_text(
        "package sets\n\nimport rego.v1\n\n"
        'objs contains {"k": n} if some n in input.nums\n\n'
        'mixed := {[2], [10], "s", null, false, 3, {"a": {2, 1}}}\n\n'
        'nested := {"inner": {n | some n in input.nums}}\n'
    )
    nums = {"nums": [10, 2, 1, 2.5, -3]}
    with rego_cpp.load(Policy("sets", (source,), "sets")) as sets:
        value = sets.evaluate(nums)
    assert value["objs"] == [{"k": -3}, {"k": 1}, {"k": 2}, {"k": 2.5}, {"k": 10}]
    assert value["mixed"] == [None, False, 3, "s", [2], [10], {"a": [1, 2]}]
    assert value["nested"] == {"inner": [-3, 1, 2, 2.5, 10]}


@pytest.fixture(scope="module")
def set_policy(tmp_path_factory: pytest.TempPathFactory, rego_cpp: RegoCppEngine) -> Iterator[Any]:
    source = tmp_path_factory.mktemp("sets") / "set.rego"
    source.write_text("package s\n\nimport rego.v1\n\nitems contains x if some x in input.xs\n")
    with rego_cpp.load(Policy("set", (source,), "s/items")) as loaded:
        yield loaded


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.integers(-1000, 1000),
            st.text(alphabet="abcxyzé_", max_size=4),
            st.dictionaries(st.sampled_from("kv"), st.integers(-20, 20), max_size=2),
        ),
        max_size=12,
    )
)
def test_a_set_is_its_distinct_members_sorted(set_policy: Any, xs: list[Any]) -> None:
    distinct: list[Any] = []
    for x in xs:
        if x not in distinct:
            distinct.append(x)
    assert set_policy.evaluate({"xs": xs}) == sorted(distinct, key=opa_order_key)


def test_syntax_error_names_file_and_line(rego_cpp: RegoCppEngine) -> None:
    with pytest.raises(PolicyError) as raised:
        rego_cpp.load(Policy("broken", (DATA / "syntax_error.rego",), "perf/broken/allow"))
    error = raised.value
    assert error.file == str(DATA / "syntax_error.rego")
    assert error.line in (6, 7)  # rego-cpp points at the operator, OPA at the closing brace
    assert str(error).startswith(f"{DATA / 'syntax_error.rego'}:{error.line}: ")


def test_undefined_entrypoint_is_a_clear_error(rego_cpp: RegoCppEngine) -> None:
    with pytest.raises(PolicyError, match=r"undefined entrypoint 'perf/tiny/nope'") as raised:
        rego_cpp.load(tiny("perf/tiny/nope"))
    assert "perf.tiny" in str(raised.value) and str(TINY) in str(raised.value)
    with pytest.raises(PolicyError, match="undefined entrypoint"):
        rego_cpp.load(tiny("perf/other/allow"))


def test_undefined_value_and_eval_errors_are_exceptions(
    rego_cpp: RegoCppEngine, tmp_path: Path
) -> None:
    source = tmp_path / "odd.rego"
    source.write_text(
        "package odd\n\nimport rego.v1\n\nmaybe if input.x == 1\n\n"
        "clash := 1 if input.x\n\nclash := 2 if input.x\n\nghost if nope(1)\n"
    )
    with rego_cpp.load(Policy("odd", (source,), "odd/maybe")) as maybe:
        assert maybe.evaluate({"x": 1}) is True
        with pytest.raises(PolicyUndefined, match=r"data\.odd\.maybe is undefined"):
            maybe.evaluate({"x": 2})
    with rego_cpp.load(Policy("odd", (source,), "odd/clash")) as clash:
        pytest.raises(PolicyEvalError, clash.evaluate, {"x": True}).match("conflict")
    with rego_cpp.load(Policy("odd", (source,), "odd/ghost")) as ghost:  # rego-cpp finds it late
        pytest.raises(PolicyEvalError, ghost.evaluate, {}).match("nope")


def test_policy_validates_its_entrypoint() -> None:
    with pytest.raises(ValueError, match="data path"):
        Policy("x", (TINY,), "data.perf.tiny.allow")
    with pytest.raises(ValueError, match="no .rego files"):
        Policy("x", (), "perf/tiny/allow")
    assert tiny("perf/tiny/allow").query == "data.perf.tiny.allow"


# -- OPA's Go engine, where the bindings are installed ------------------------------------------
#
# In a child process: the Go runtime that the bindings load installs its own signal handlers,
# and with faulthandler swapped in and out by in-process pytester runs, a later wasmtime trap in
# this process died with SIGILL (pyproject turns faulthandler off; the child keeps Go out too).

GO_CHILD = """
import json, sys
from pathlib import Path
from pytest_perfdata.engines.opa import OpaGoEngine, Policy, PolicyError, PolicyUnavailable, RegoCppEngine
job = json.loads(sys.argv[1])
try:
    go = OpaGoEngine()
except PolicyUnavailable as exc:
    print(json.dumps({"skip": str(exc)}))
    sys.exit(0)
policy = Policy("p", tuple(Path(f) for f in job["files"]), job["entrypoint"])
out = {"engine": [go.engine.name, go.engine.version, go.engine.mode]}
try:
    with go.load(policy) as loaded:
        out["go"] = [loaded.evaluate(i) for i in job["inputs"]]
    with RegoCppEngine().load(policy) as loaded:
        out["cpp"] = [loaded.evaluate(i) for i in job["inputs"]]
except PolicyError as exc:
    out["error"] = [str(exc), exc.file, exc.line, exc.code]
print(json.dumps(out))
"""


def in_go_child(files: list[Path], entrypoint: str, inputs: Sequence[Any] = ()) -> dict[str, Any]:
    """Load ``files`` with OPA's Go engine (and rego-cpp) in a fresh Python; their answers."""
    job = json.dumps(
        {"files": [str(f) for f in files], "entrypoint": entrypoint, "inputs": list(inputs)}
    )
    done = run_bounded(
        [sys.executable, "-c", GO_CHILD, job],
        timeout_s=120.0,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.exit_code == 0, done.stderr.decode(errors="replace")
    answer: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    if "skip" in answer:
        pytest.skip(answer["skip"])
    return answer


@pytest.mark.parametrize("entrypoint", ["perf/tiny/allow", "perf/tiny/deny", "perf/tiny"])
def test_rego_cpp_and_opa_go_agree(entrypoint: str) -> None:
    inputs = [ADMIN, DEV_READ, DEV_WRITE, ANONYMOUS, {**DEV_WRITE, "tags": ["z", "a", "m"]}]
    answer = in_go_child([TINY], entrypoint, inputs)
    name, version, mode = answer["engine"]
    assert (name, mode) == ("opa", "go-inprocess") and version[0].isdigit()
    assert answer["go"] == answer["cpp"]
    assert len(answer["go"]) == len(inputs)


def test_opa_go_reports_compile_errors_with_position(tmp_path: Path) -> None:
    broken = DATA / "syntax_error.rego"
    message, file, line, code = in_go_child([broken], "perf/broken/allow")["error"]
    assert message.startswith(f"{broken}:7: rego_parse_error: ")
    assert (file, line, code) == (str(broken), 7, "rego_parse_error")
    unsafe = tmp_path / "unsafe.rego"
    unsafe.write_text("package u\n\nimport rego.v1\n\nallow if {\n\tinput.x == z\n}\n")
    message, file, line, code = in_go_child([unsafe], "u/allow")["error"]
    assert message == f"{unsafe}:6: rego_unsafe_var_error: var z is unsafe"
    assert (line, code) == (6, "rego_unsafe_var_error")


# -- availability and selection -----------------------------------------------------------------


def test_available_engines_without_opa(no_opa_on_path: None) -> None:
    found, missing = available_engines()
    assert "rego-cpp" in found
    assert set(found) | set(missing) == set(opa.ENGINE_NAMES)
    assert {"wasm", "http"} <= set(missing)
    for name in ("wasm", "http"):
        assert "opa CLI" in missing[name] and "tools/setup.py" in missing[name]
        assert "\n" not in missing[name]
    assert "--perf-opa-bundle" in missing["wasm"]
    assert "running OPA server" in missing["http"]


def test_select_engine_without_opa(no_opa_on_path: None) -> None:
    with pytest.raises(PolicyUnavailable, match="opa CLI is not on PATH.*tools/setup.py"):
        select_engine("wasm")
    with pytest.raises(PolicyUnavailable, match="opa CLI"):
        select_engine("http")
    with pytest.raises(PolicyUnavailable, match="not an executable"):
        select_engine("wasm", opa_path="/nonexistent/opa")
    assert isinstance(select_engine("auto"), RegoCppEngine)
    assert isinstance(select_engine("rego-cpp"), RegoCppEngine)
    with pytest.raises(ValueError, match="unknown policy engine"):
        select_engine("cedar")


# -- the opa CLI, faked: command lines and the cache only ---------------------------------------

FAKE_OPA = """#!{python}
import json, os, sys, tarfile
args = sys.argv[1:]
with open(os.environ["FAKE_OPA_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:1] == ["version"]:
    print("Version: 1.99.0\\nBuild Commit: fake\\nWebAssembly: unavailable")
elif args[:1] == ["build"]:
    out = args[args.index("-o") + 1]
    with tarfile.open(out, "w:gz") as bundle:
        bundle.add(os.environ["FAKE_OPA_WASM"], arcname="/policy.wasm")
elif args[:1] == ["bench"]:
    sys.stdout.write(os.environ["FAKE_OPA_BENCH"])
elif args[:1] == ["run"] and os.environ.get("FAKE_OPA_RUN") == "serve":
    from http.server import BaseHTTPRequestHandler, HTTPServer
    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def reply(self, body):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def do_GET(self): self.reply(b"{}")
        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.reply(json.dumps({"result": request["input"]}).encode())
    host, port = args[args.index("--addr") + 1].rsplit(":", 1)
    HTTPServer((host, int(port)), Echo).serve_forever()
elif args[:1] == ["run"]:
    sys.stderr.write("error: 1 error occurred: policies/x.rego:3: rego_parse_error: unexpected eof token\\n")
    sys.exit(1)
"""


@pytest.fixture
def echo_wasm(tmp_path: Path) -> Path:
    wasmtime = pytest.importorskip("wasmtime")
    path = tmp_path / "policy.wasm"
    path.write_bytes(bytes(wasmtime.wat2wasm((DATA / "abi_echo.wat").read_text())))
    return path


@pytest.fixture
def fake_opa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, echo_wasm: Path) -> Path:
    script = tmp_path / "bin" / "opa"
    script.parent.mkdir()
    script.write_text(FAKE_OPA.replace("{python}", sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("FAKE_OPA_LOG", str(tmp_path / "opa-calls.jsonl"))
    monkeypatch.setenv("FAKE_OPA_WASM", str(echo_wasm))
    monkeypatch.setenv("FAKE_OPA_BENCH", BENCH_SAMPLE)
    return script


def calls(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "opa-calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_wasm_build_command_line_and_cache(fake_opa: Path, tmp_path: Path) -> None:
    policy = tiny("perf/tiny/allow")
    cache = tmp_path / "cache"
    bundle = build_wasm_bundle(fake_opa, policy, cache)
    key = wasm_cache_key("1.99.0", policy)
    assert bundle == cache / "opa-wasm" / key[:32] / "bundle.tar.gz"
    builds = [argv for argv in calls(tmp_path) if argv[0] == "build"]
    assert len(builds) == 1
    argv = builds[0]
    out = argv[argv.index("-o") + 1]
    assert argv == ["build", "-t", "wasm", "-e", "perf/tiny/allow", "-o", out, str(TINY)]
    assert Path(out).parent.parent == bundle.parent  # built aside, then renamed into place
    assert not Path(out).exists()

    assert build_wasm_bundle(fake_opa, policy, cache) == bundle  # a hit: opa build not run again
    assert len([argv for argv in calls(tmp_path) if argv[0] == "build"]) == 1


def test_wasm_cache_key_follows_sources_entrypoint_and_version(tmp_path: Path) -> None:
    source = tmp_path / "p.rego"
    source.write_text(TINY.read_text())
    policy = Policy("p", (source,), "perf/tiny/allow")
    key = wasm_cache_key("1.4.2", policy)
    assert len(key) == 64 and key == wasm_cache_key("1.4.2", policy)
    assert wasm_cache_key("1.4.3", policy) != key
    assert wasm_cache_key("1.4.2", Policy("p", (source,), "perf/tiny/deny")) != key
    other = tmp_path / "q.rego"
    other.write_text("package q\n")
    assert wasm_cache_key("1.4.2", Policy("p", (source, other), "perf/tiny/allow")) == (
        wasm_cache_key("1.4.2", Policy("p", (other, source), "perf/tiny/allow"))
    )
    source.write_text(TINY.read_text() + "\n# changed\n")
    assert wasm_cache_key("1.4.2", policy) != key


def test_wasm_build_failure_is_a_policy_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "opa"
    script.write_text(
        f"#!{sys.executable}\nimport sys\n"
        "if sys.argv[1] == 'version': print('Version: 1.99.0')\n"
        "else:\n"
        "    sys.stderr.write('error: 1 error occurred: tests/x.rego:12: rego_parse_error: unexpected } token\\n')\n"
        "    sys.exit(1)\n"
    )
    script.chmod(0o755)
    with pytest.raises(PolicyError) as raised:
        build_wasm_bundle(script, tiny("perf/tiny/allow"), tmp_path / "cache")
    assert str(raised.value) == "tests/x.rego:12: rego_parse_error: unexpected } token"
    assert (raised.value.file, raised.value.line) == ("tests/x.rego", 12)
    assert not any((tmp_path / "cache" / "opa-wasm").rglob("*.tar.gz"))


def test_opa_run_failure_is_a_policy_error_and_leaves_no_server(
    fake_opa: Path, tmp_path: Path
) -> None:
    engine = OpaHttpEngine(fake_opa)
    assert engine.engine == Engine("opa", "1.99.0", "http")
    with pytest.raises(PolicyError, match=r"^policies/x\.rego:3: rego_parse_error: unexpected eof"):
        engine.load(tiny("perf/tiny/allow"))
    run = next(argv for argv in calls(tmp_path) if argv[0] == "run")
    addr = run[run.index("--addr") + 1]
    assert addr.startswith("127.0.0.1:") and int(addr.rsplit(":", 1)[1]) > 0
    assert run[:2] == ["run", "--server"] and run[-1] == str(TINY)


def test_opa_run_server_is_stopped_on_close(
    fake_opa: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_OPA_RUN", "serve")
    with OpaHttpEngine(fake_opa).load(Policy("echo", (DATA / "echo.rego",), "test/echo")) as echo:
        server = echo._server
        assert server is not None and server.process.poll() is None
        assert echo.evaluate({"k": [1]}) == {"k": [1]}
        assert echo.evaluate({"k": [2]}) == {"k": [2]}  # the same kept-alive connection
    assert server.process.poll() is not None  # killed and reaped
    assert not server.log.exists()


def test_opa_bench_command_line_and_parse(fake_opa: Path, tmp_path: Path) -> None:
    figures = opa_bench(fake_opa, tiny("perf/tiny/allow"), ADMIN, target="wasm", e2e=True)
    argv = next(argv for argv in calls(tmp_path) if argv[0] == "bench")
    input_file = argv[argv.index("-i") + 1]
    assert argv == [
        "bench", "--format", "json", "--count", "1", "-t", "wasm", "--e2e",
        "-d", str(TINY), "-i", input_file, "data.perf.tiny.allow",
    ]  # fmt: skip
    assert not Path(input_file).exists()  # its temporary directory is gone
    assert figures == parse_bench_json(BENCH_SAMPLE)


def test_parse_bench_json_sample() -> None:
    figures = parse_bench_json(BENCH_SAMPLE)
    assert figures["N"] == 52981
    assert figures["ns_per_op"] == pytest.approx(1106046722 / 52981)
    assert figures["allocs_per_op"] == pytest.approx(10755143 / 52981)
    assert figures["bytes_per_op"] == pytest.approx(591963216 / 52981)
    assert figures["timer_rego_query_eval_ns/op"] == 19872
    assert figures["timer_rego_query_eval_ns_99%"] == pytest.approx(41920.38)
    # two results (--count 2): the last one; a result already per operation is kept as given
    two = BENCH_SAMPLE + '{"N": 10, "ns_per_op": 123.5, "Extra": {}}\n'
    assert parse_bench_json(two)["ns_per_op"] == 123.5
    with pytest.raises(ValueError, match="not JSON"):
        parse_bench_json("samples  52981\n")
    with pytest.raises(ValueError, match="errors"):
        parse_bench_json('{"errors": [{"message": "undefined result"}]}')


def test_opa_bench_without_cli(no_opa_on_path: None) -> None:
    with pytest.raises(PolicyUnavailable, match="opa CLI"):
        opa_bench(None, tiny("perf/tiny/allow"), ADMIN)


# -- the Wasm host side, on a stand-in module (never an OPA engine) -----------------------------


def make_bundle(tmp_path: Path, wasm: Path, rego: Path | None = None) -> Path:
    bundle = tmp_path / "bundle.tar.gz"
    with tarfile.open(bundle, "w:gz") as archive:
        archive.add(wasm, arcname="/policy.wasm")
        data = json.dumps({}).encode()
        info = tarfile.TarInfo("/data.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        if rego is not None:
            archive.add(rego, arcname=f"/{rego.name}")
    return bundle


def test_wasm_abi_host_round_trip(echo_wasm: Path, tmp_path: Path) -> None:
    engine = OpaWasmEngine(bundle=make_bundle(tmp_path, echo_wasm))
    assert engine.engine.name == "opa" and engine.engine.version.startswith("unknown + wasmtime ")
    assert engine.engine.slug == "opa-wasm-prebuilt"  # no version in a metric's name
    with engine.load(Policy("echo", (DATA / "echo.rego",), "test/echo")) as echo:
        assert echo.artefact_bytes == echo_wasm.stat().st_size
        document = {"a": [1, 2.5, None, True], "é": {"nested": "ü"}}
        assert echo.evaluate(document) == document
        big = {"x": "y" * 90_000}  # past the initial memory: the host grows it
        assert echo.evaluate(big) == big
        with pytest.raises(PolicyUndefined):
            echo.evaluate({})
        with pytest.raises(PolicyEvalError, match="opa_abort: input too large"):
            echo.evaluate({"x": "y" * 200_000})
        assert echo.evaluate({"after": "abort"}) == {"after": "abort"}


def test_wasm_bundle_must_match_the_policy(echo_wasm: Path, tmp_path: Path) -> None:
    engine = OpaWasmEngine(bundle=make_bundle(tmp_path, echo_wasm, rego=TINY))
    with pytest.raises(PolicyError, match="built from other sources"):
        engine.load(Policy("echo", (DATA / "echo.rego",), "test/echo"))
    source = tmp_path / "more.rego"
    source.write_text("package test\n\necho := input\n\nunbuilt := 1\n")
    engine = OpaWasmEngine(bundle=make_bundle(tmp_path, echo_wasm))
    with pytest.raises(PolicyError, match="no entrypoint 'test/unbuilt'"):
        engine.load(Policy("echo", (source,), "test/unbuilt"))


def test_wasm_engine_builds_with_the_cli(
    fake_opa: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PERFDATA_CACHE", str(tmp_path / "cache"))
    engine = OpaWasmEngine(fake_opa)
    assert engine.engine.version.startswith("1.99.0 + wasmtime ") and engine.engine.slug == "opa-wasm"
    policy = Policy("echo", (DATA / "echo.rego",), "test/echo")
    with engine.load(policy) as first, engine.load(policy) as second:
        assert first.evaluate({"k": 1}) == second.evaluate({"k": 1}) == {"k": 1}
        assert (first.built, second.built) == (True, False)  # the second one came from the cache
    assert any((tmp_path / "cache" / "opa-wasm").rglob("bundle.tar.gz"))


def test_host_sprintf() -> None:
    assert wasm_builtins.go_sprintf("%s may not %s", ["ada", "write"]) == "ada may not write"
    assert wasm_builtins.go_sprintf("%d%% of %v", [50, [1, "a"]]) == '50% of [1,"a"]'
    assert wasm_builtins.go_sprintf("%q", ["x"]) == '"x"'
    with pytest.raises(ValueError, match="not supported"):
        wasm_builtins.go_sprintf("%x", [255])


# -- an OPA server over HTTP, faked: the client side only ---------------------------------------


class FakeOpaServer(BaseHTTPRequestHandler):
    """Just enough of OPA's REST API: health, policies, data (echo), provenance."""

    policies: ClassVar[dict[str, str]] = {}
    deleted: ClassVar[list[str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_GET(self) -> None:
        self.reply(200 if self.path == "/health" else 404, {})

    def do_PUT(self) -> None:
        ident, text = self.path.rsplit("/", 1)[1], self.body().decode()
        if "==\n}" in text:
            location = {"file": ident, "row": 7, "col": 1}
            error = {
                "code": "rego_parse_error",
                "message": "unexpected } token",
                "location": location,
            }
            self.reply(400, {"code": "invalid_parameter", "message": "error(s)", "errors": [error]})
            return
        self.policies[ident] = text
        self.reply(200, {})

    def do_DELETE(self) -> None:
        self.deleted.append(self.path.rsplit("/", 1)[1])
        self.reply(200, {})

    def do_POST(self) -> None:
        request = json.loads(self.body() or b"{}")
        if self.path.startswith("/v1/data?provenance"):
            self.reply(200, {"result": {}, "provenance": {"version": "1.99.0-fake"}})
        elif self.path == "/v1/data/test/echo" and request.get("input"):
            self.reply(200, {"result": request["input"]})
        else:
            self.reply(200, {})


@pytest.fixture
def fake_server() -> Iterator[str]:
    FakeOpaServer.policies, FakeOpaServer.deleted = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpaServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_engine_against_a_server(fake_server: str) -> None:
    engine = OpaHttpEngine(opa_url=fake_server)
    assert engine.engine == Engine("opa", "1.99.0-fake", "http")
    with engine.load(Policy("echo", (DATA / "echo.rego",), "test/echo")) as echo:
        (uploaded,) = FakeOpaServer.policies
        assert FakeOpaServer.policies[uploaded] == (DATA / "echo.rego").read_text()
        assert echo.evaluate({"a": [1, 2]}) == {"a": [1, 2]}
        assert echo.evaluate({"b": True}) == {"b": True}
        with pytest.raises(PolicyUndefined):
            echo.evaluate({})
    assert FakeOpaServer.deleted == [uploaded]  # closing removes what it uploaded
    broken = DATA / "syntax_error.rego"
    with pytest.raises(PolicyError) as raised:
        engine.load(Policy("broken", (broken,), "perf/broken/allow"))
    assert str(raised.value) == f"{broken}:7: rego_parse_error: unexpected }} token"
    assert FakeOpaServer.deleted == [uploaded]  # nothing was left to delete


def test_http_engine_unreachable_url() -> None:
    with pytest.raises(PolicyUnavailable, match="does not answer"):
        OpaHttpEngine(opa_url="http://127.0.0.1:9")
    with pytest.raises(PolicyUnavailable, match="http://HOST:PORT"):
        OpaHttpEngine(opa_url="https://example.invalid")


def test_engines_satisfy_the_protocols(rego_cpp: RegoCppEngine) -> None:
    assert isinstance(rego_cpp, opa.PolicyEngine)
    with rego_cpp.load(tiny("perf/tiny/allow")) as loaded:
        assert isinstance(loaded, opa.LoadedPolicy)
    assert os.fspath(TINY).endswith("tiny.rego")


# --- the engine's footprint, from fresh processes ----------------------------------------------


def test_footprint_of_rego_cpp_comes_from_a_child_that_ran_it() -> None:
    """Memory figures only: the child really loaded and evaluated, and names its engine."""
    from pytest_perfdata.engines.opa.footprint import engine_footprint

    footprint = engine_footprint("rego-cpp", (TINY,), "perf/tiny/allow", ADMIN)
    assert footprint.engine == RegoCppEngine().engine
    assert footprint.after_bytes > footprint.before_bytes > 0  # importing an engine costs something
    assert footprint.engine_bytes == footprint.after_bytes - footprint.before_bytes


def test_footprint_of_a_broken_policy_is_an_error_with_the_child_s_reason() -> None:
    from pytest_perfdata.engines.opa.footprint import FootprintError, engine_footprint

    with pytest.raises(FootprintError, match=r"rego-cpp footprint child exited 1: .*syntax_error\.rego"):
        engine_footprint("rego-cpp", (DATA / "syntax_error.rego",), "perf/broken/allow", {})


def test_footprint_refuses_the_http_engine() -> None:
    """The http engine's memory is the server's; measuring the client would name the wrong thing."""
    from pytest_perfdata.engines.opa.footprint import engine_footprint

    with pytest.raises(ValueError, match="only rego-cpp, opa-go, wasm"):
        engine_footprint("http", (TINY,), "perf/tiny/allow", ADMIN)
