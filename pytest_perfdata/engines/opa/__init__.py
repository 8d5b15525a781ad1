"""Policy engines for OPA/Rego behind one small protocol, and the one place that chooses among them.

Five engines implement :class:`PolicyEngine`, one module each:

* ``rego-cpp`` (:mod:`.rego_cpp`) — rego-cpp through ``regopy`` in this process
  (``Engine("rego-cpp", <version>, "regopy")``), the embedded default.
* ``opa-go`` (:mod:`.opa_go`) — OPA's own Go engine in this process, through the c-shared
  library of ``opa-golib-python-bindings`` (``Engine("opa", <OPA version>, "go-inprocess")``).
* ``wasm`` (:mod:`.opa_wasm`) — ``opa build -t wasm`` (:mod:`.wasm_bundle`, cached by content
  hash) or a prebuilt bundle, run in wasmtime-py through OPA's Wasm ABI (:mod:`.wasm_abi`)
  (``Engine("opa", "<version> + wasmtime <version>", "wasm")``; ``wasm-prebuilt`` for a given
  bundle).
* ``opa-py-wasm`` (:mod:`.opa_py_wasm`) — the same modules run by the maintained SDK opa-py-wasm,
  the peer our runner is checked and timed against
  (``Engine("opa", "<version> + opa-py-wasm <version> + wasmtime <version>", "py-wasm")``).
* ``http`` (:mod:`.opa_http`) — ``opa run --server`` on a loopback port (:mod:`.server`) or an
  existing server, one ``POST /v1/data/<entrypoint>`` per evaluation
  (``Engine("opa", <version>, "http")``).

Beside them: :mod:`.policy` (what is decided), :mod:`.errors`, :mod:`.cli` (the opa CLI),
:mod:`.opa_errors` (OPA's error reports), :mod:`.bench` (``opa bench``), :mod:`.order`.

Every engine returns the value at the entrypoint as plain JSON-compatible Python, with sets as
lists in OPA's order, so decisions of different engines can be compared with ``==``.
:func:`select_engine` and :func:`available_engines` are the one place that decides which engine
a test gets. Importing this package loads no engine: each implementation, and the names it
exports, load on first use (PEP 562), so a pytest run that asks for no policy pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from ..._lazy import lazy_names

if TYPE_CHECKING:
    from ...record import Engine
    from .bench import bench_arguments, opa_bench, parse_bench_json
    from .cli import find_opa, opa_version
    from .errors import PolicyError, PolicyEvalError, PolicyUnavailable, PolicyUndefined
    from .opa_go import OpaGoEngine, OpaGoPolicy
    from .opa_http import OpaHttpEngine, OpaHttpPolicy
    from .opa_py_wasm import OpaPyWasmEngine, OpaPyWasmPolicy
    from .opa_wasm import OpaWasmEngine, OpaWasmPolicy
    from .order import opa_order_key
    from .policy import Policy, check_entrypoint
    from .rego_cpp import RegoCppEngine, RegoCppPolicy
    from .wasm_bundle import build_wasm_bundle, wasm_bundle_path, wasm_cache_key

__all__ = [
    "ENGINE_NAMES",
    "LoadedPolicy",
    "OpaGoEngine",
    "OpaGoPolicy",
    "OpaHttpEngine",
    "OpaHttpPolicy",
    "OpaPyWasmEngine",
    "OpaPyWasmPolicy",
    "OpaWasmEngine",
    "OpaWasmPolicy",
    "Policy",
    "PolicyEngine",
    "PolicyError",
    "PolicyEvalError",
    "PolicyUnavailable",
    "PolicyUndefined",
    "RegoCppEngine",
    "RegoCppPolicy",
    "available_engines",
    "bench_arguments",
    "build_wasm_bundle",
    "check_entrypoint",
    "find_opa",
    "opa_bench",
    "opa_order_key",
    "opa_version",
    "parse_bench_json",
    "select_engine",
    "wasm_bundle_path",
    "wasm_cache_key",
]

#: The engines, by the names ``--perf-opa-engine`` and the records use.
ENGINE_NAMES: Final = ("rego-cpp", "opa-go", "wasm", "opa-py-wasm", "http")

#: Names re-exported from the implementation modules, loaded when first asked for.
_LAZY: Final[Mapping[str, str]] = {
    "PolicyError": "errors",
    "PolicyEvalError": "errors",
    "PolicyUnavailable": "errors",
    "PolicyUndefined": "errors",
    "Policy": "policy",
    "check_entrypoint": "policy",
    "RegoCppEngine": "rego_cpp",
    "RegoCppPolicy": "rego_cpp",
    "OpaGoEngine": "opa_go",
    "OpaGoPolicy": "opa_go",
    "OpaPyWasmEngine": "opa_py_wasm",
    "OpaPyWasmPolicy": "opa_py_wasm",
    "OpaWasmEngine": "opa_wasm",
    "OpaWasmPolicy": "opa_wasm",
    "OpaHttpEngine": "opa_http",
    "OpaHttpPolicy": "opa_http",
    "find_opa": "cli",
    "opa_version": "cli",
    "build_wasm_bundle": "wasm_bundle",
    "wasm_bundle_path": "wasm_bundle",
    "wasm_cache_key": "wasm_bundle",
    "opa_bench": "bench",
    "bench_arguments": "bench",
    "parse_bench_json": "bench",
    "opa_order_key": "order",
}


__getattr__ = lazy_names(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


@runtime_checkable
class LoadedPolicy(Protocol):
    """A compiled policy, ready to decide: what :meth:`PolicyEngine.load` gives back."""

    engine: Engine
    compile_seconds: float  # how long load() took, measured with perf_counter
    artefact_bytes: int | None  # size of the compiled module when there is one (wasm)

    def evaluate(self, input: Mapping[str, Any]) -> Any: ...

    def close(self) -> None: ...


@runtime_checkable
class PolicyEngine(Protocol):
    """One way to evaluate Rego: compile a policy once with :meth:`load`, then evaluate often."""

    engine: Engine

    def load(self, policy: Policy) -> LoadedPolicy: ...


def _makers(
    opa_path: str | None, opa_url: str | None, bundle: Path | None
) -> dict[str, Callable[[], PolicyEngine]]:
    """How to start each engine of :data:`ENGINE_NAMES`; starting one checks that it works.

    Each maker imports its own module, so starting one engine loads no other engine's library.
    """

    def rego_cpp() -> PolicyEngine:
        from .rego_cpp import RegoCppEngine

        return RegoCppEngine()

    def opa_go() -> PolicyEngine:
        from .opa_go import OpaGoEngine

        return OpaGoEngine()

    def wasm() -> PolicyEngine:
        from .opa_wasm import OpaWasmEngine

        return OpaWasmEngine(opa_path, bundle=bundle)

    def opa_py_wasm() -> PolicyEngine:
        from .opa_py_wasm import OpaPyWasmEngine

        return OpaPyWasmEngine(opa_path, bundle=bundle)

    def http() -> PolicyEngine:
        from .opa_http import OpaHttpEngine

        return OpaHttpEngine(opa_path, opa_url=opa_url)

    return {"rego-cpp": rego_cpp, "opa-go": opa_go, "wasm": wasm, "opa-py-wasm": opa_py_wasm, "http": http}


def available_engines(
    *,
    opa_path: str | None = None,
    opa_url: str | None = None,
    bundle: Path | None = None,
) -> tuple[dict[str, PolicyEngine], dict[str, str]]:
    """Every engine that really works here (name → engine) and a one-line reason for the others.

    Names are :data:`ENGINE_NAMES`. An engine is listed only after it answered (the CLI gave
    its version, the server its health), so a record never names one that could not run.
    """
    from .errors import PolicyUnavailable

    found: dict[str, PolicyEngine] = {}
    missing: dict[str, str] = {}
    for name, make in _makers(opa_path, opa_url, bundle).items():
        try:
            found[name] = make()
        except PolicyUnavailable as exc:
            missing[name] = _with_alternatives(name, str(exc))
    return found, missing


def select_engine(
    choice: str = "auto",
    *,
    opa_path: str | None = None,
    opa_url: str | None = None,
    bundle: Path | None = None,
) -> PolicyEngine:
    """The engine a test gets: ``auto`` is ``wasm`` when the opa CLI is there, else ``rego-cpp``.

    An explicit choice that is missing raises :class:`PolicyUnavailable` with its reason.
    """
    from .cli import find_opa
    from .errors import PolicyUnavailable

    if choice not in ("auto", *ENGINE_NAMES):
        raise ValueError(
            f"unknown policy engine {choice!r}: expected auto, {', '.join(ENGINE_NAMES)}"
        )
    name = choice
    if choice == "auto":
        try:
            find_opa(opa_path)
            name = "wasm"
        except PolicyUnavailable:
            name = "rego-cpp"
    try:
        return _makers(opa_path, opa_url, bundle)[name]()
    except PolicyUnavailable as exc:
        raise PolicyUnavailable(_with_alternatives(choice, str(exc))) from None


def _with_alternatives(name: str, reason: str) -> str:
    """``reason`` with the other way to get the engine, when the missing piece is the opa CLI."""
    if name in ("wasm", "opa-py-wasm") and "opa CLI" in reason:
        return f"{reason}; or give a prebuilt Wasm bundle (--perf-opa-bundle)"
    if name == "http" and "opa CLI" in reason:
        return f"{reason}; or pass --perf-opa-url URL of a running OPA server"
    return reason
