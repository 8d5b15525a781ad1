"""The OPA engines against the real opa CLI (built by ``python3 tools/setup.py tests``).

What the stand-in CLIs of ``test_opa_backends.py`` cannot show: OPA's own error reports, a
server that really dies, a port that is really taken, and both Wasm hosts on a module OPA built.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import textwrap
from pathlib import Path

import pytest

from pytest_perfdata.engines.opa import Policy, PolicyError, PolicyEvalError
from pytest_perfdata.engines.tools import SETUP_HINT, project_tool

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "opa"


@pytest.fixture(scope="module")
def opa() -> Path:
    found = project_tool(ROOT, "opa") or (Path(p) if (p := shutil.which("opa")) else None)
    if found is None:
        pytest.skip(f"no opa CLI: {SETUP_HINT}")
    return found


def _policy(tmp_path: Path, text: str, entrypoint: str = "t/allow", name: str = "p.rego") -> Policy:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return Policy("t", (path,), entrypoint)


REGISTRY = """
    package t

    allow if strings.any_prefix_match(input.image, ["registry.example.com/", "ghcr.io/edge/"])
    deny contains msg if {
        not strings.any_prefix_match(input.image, ["registry.example.com/"])
        msg := sprintf("image %s is not allowed", [input.image])
    }
    """


def test_the_built_opa_evaluates_wasm_itself(opa: Path) -> None:
    from pytest_perfdata.engines.opa.cli import opa_has_wasm_runtime, opa_version

    assert opa_version(opa).startswith("1.")
    assert opa_has_wasm_runtime(opa)


def test_a_policy_opa_build_rejects_fails_with_opa_s_file_and_line(opa: Path, tmp_path: Path) -> None:
    from pytest_perfdata.engines.opa.opa_wasm import OpaWasmEngine

    policy = _policy(tmp_path, "package t\n\nallow if {\n    input.x ==\n}\n", name="broken.rego")
    with pytest.raises(PolicyError) as error:
        OpaWasmEngine(opa, cache_dir=tmp_path / "cache").load(policy)
    assert f"{policy.files[0]}:" in str(error.value) or "broken.rego:" in str(error.value)


@pytest.mark.parametrize("image", ["registry.example.com/app:1", "ghcr.io/edge/x", "docker.io/library/nginx"])
def test_both_wasm_hosts_and_the_server_decide_as_opa_eval(opa: Path, tmp_path: Path, image: str) -> None:
    """Our runner, opa-py-wasm and OPA's server on one module: the same answers as ``opa eval``."""
    from pytest_perfdata.engines.opa.opa_http import OpaHttpEngine
    from pytest_perfdata.engines.opa.opa_py_wasm import OpaPyWasmEngine
    from pytest_perfdata.engines.opa.opa_wasm import OpaWasmEngine
    from pytest_perfdata.engines.process import run_bounded

    pytest.importorskip("opapywasm", reason="pip install opa-py-wasm (tools/setup.py tests installs it)")
    answers = {}
    for entrypoint in ("t/allow", "t/deny"):
        policy = _policy(tmp_path, REGISTRY, entrypoint)
        (tmp_path / "input.json").write_text(json.dumps({"image": image}))
        done = run_bounded([str(opa), "eval", "-f", "json", "-d", str(policy.files[0]),
                            "-i", str(tmp_path / "input.json"), policy.query], timeout_s=60)
        result = json.loads(done.stdout).get("result")  # absent when the query is undefined
        expected = result[0]["expressions"][0]["value"] if result else "undefined"
        for engine in (OpaWasmEngine(opa, cache_dir=tmp_path), OpaPyWasmEngine(opa, cache_dir=tmp_path),
                       OpaHttpEngine(opa)):
            with engine.load(policy) as loaded:
                try:
                    got = loaded.evaluate({"image": image})
                except Exception as exc:  # noqa: BLE001 - undefined is an answer too
                    got = "undefined" if type(exc).__name__ == "PolicyUndefined" else exc
                answers[(entrypoint, engine.engine.slug)] = got
            assert got == expected, (entrypoint, engine.engine, got, expected)
    assert len(answers) == 6


def test_the_peer_borrows_only_the_builtins_it_lacks(opa: Path, tmp_path: Path) -> None:
    pytest.importorskip("opapywasm", reason="pip install opa-py-wasm (tools/setup.py tests installs it)")
    from pytest_perfdata.engines.opa.opa_py_wasm import OpaPyWasmEngine

    with OpaPyWasmEngine(opa, cache_dir=tmp_path).load(_policy(tmp_path, REGISTRY, "t/deny")) as loaded:
        assert loaded.builtins_from_plugin == ("strings.any_prefix_match",)  # its own sprintf is used
        assert loaded.engine.slug == "opa-py-wasm"


def test_a_server_that_dies_fails_the_decision_with_its_last_words(opa: Path, tmp_path: Path) -> None:
    from pytest_perfdata.engines.opa.opa_http import OpaHttpEngine

    loaded = OpaHttpEngine(opa).load(_policy(tmp_path, "package t\n\nallow := true\n"))
    try:
        assert loaded.evaluate({}) is True
        server = loaded._server
        assert server is not None
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        with pytest.raises(PolicyEvalError, match=r"OPA server pid \d+ killed by signal 9; its last words"):
            loaded.evaluate({})
    finally:
        loaded.close()
    assert server.process.poll() is not None and not server.log.exists()


def test_a_port_taken_before_opa_binds_it_is_not_an_error(
    opa: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_perfdata.engines.opa import server as server_module
    from pytest_perfdata.engines.opa.opa_http import OpaHttpEngine

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])
        real_free_port = server_module._free_port
        monkeypatch.setattr(server_module, "_free_port", lambda: next(ports, None) or real_free_port())
        with OpaHttpEngine(opa).load(_policy(tmp_path, "package t\n\nallow := true\n")) as loaded:
            assert loaded.evaluate({}) is True
            assert loaded._port != taken.getsockname()[1]


def test_a_dead_server_fails_only_its_test_and_leaves_no_process(pytester: pytest.Pytester, opa: Path) -> None:
    """The rest of the run goes on; at the end no ``opa run`` of this run is left."""
    (pytester.path / "p.rego").write_text("package t\n\nallow := true\n")
    pytester.makepyfile(
        """
        import os, signal
        from pathlib import Path
        from pytest_perfdata.engines.opa import Policy

        POLICY = Policy("t", (Path("p.rego").resolve(),), "t/allow")

        def test_server_dies(policy_engines):
            loaded = policy_engines.load(policy_engines.engines["http"], POLICY)
            os.killpg(loaded._server.process.pid, signal.SIGKILL)
            loaded._server.process.wait(timeout=10)
            Path("pid").write_text(str(loaded._server.process.pid))
            loaded.evaluate({})

        def test_the_next_one_runs(policy_engines):
            loaded = policy_engines.load(policy_engines.engines["http"], POLICY)
            Path("pid2").write_text(str(loaded._server.process.pid))
            assert loaded.evaluate({}) is True
        """
    )
    result = pytester.runpytest_subprocess(f"--perf-opa={opa}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*killed by signal 9; its last words*"])
    for name in ("pid", "pid2"):
        pid = int((pytester.path / name).read_text())
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
