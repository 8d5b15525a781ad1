"""The policy engines (rego-cpp, OPA Go in process, OPA Wasm through our ABI runner, OPA over HTTP),
`opa bench`, selection and error parsing: one module today, to be cut into one module per engine.

Policy engines for OPA/Rego behind one small protocol (rego-cpp, OPA's Go engine, OPA Wasm, an OPA server) and their selection.

Four engines implement :class:`PolicyEngine`:

* :class:`RegoCppEngine` — rego-cpp through ``regopy`` in this process
  (``Engine("rego-cpp", <version>, "regopy")``). The embedded default; it is more lenient than
  OPA (an unsafe variable or a type error gives *undefined*, an unknown function is reported
  only when evaluation reaches it), so a policy library should also be checked by an OPA engine.
* :class:`OpaGoEngine` — OPA's own Go engine in this process, through the c-shared library of
  ``opa-golib-python-bindings`` (``Engine("opa", <OPA version>, "go-inprocess")``).
* :class:`OpaWasmEngine` — ``opa build -t wasm`` (cached by content hash) or a prebuilt bundle,
  run in wasmtime-py through OPA's Wasm ABI by :class:`_OpaWasmModule`
  (``Engine("opa", "<version> + wasmtime <version>", "wasm")``; ``wasm-prebuilt`` for a given
  bundle). The mode is a metric's suffix, so versions stay out of it: an upgrade must not
  rename every baseline.
* :class:`OpaHttpEngine` — ``opa run --server`` on a loopback port (or an existing server), one
  ``POST /v1/data/<entrypoint>`` per evaluation (``Engine("opa", <version>, "http")``).

Every engine returns the value at the entrypoint as plain JSON-compatible Python, with sets as
lists in OPA's order, so decisions of different engines can be compared with ``==``.
:func:`select_engine` is the one place that decides which engine a test gets.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Protocol, final, runtime_checkable
from urllib.parse import urlsplit

from ...record import Engine
from .._text import first_line, package_version
from ..process import RunTimeout, kill_group, run_bounded
from ..cache import default_cache_dir

__all__ = [
    "ENGINE_NAMES",
    "LoadedPolicy",
    "OpaGoEngine",
    "OpaGoPolicy",
    "OpaHttpEngine",
    "OpaHttpPolicy",
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

ENGINE_NAMES: Final = ("rego-cpp", "opa-go", "wasm", "http")
REGOPY_HINT: Final = "pip install regopy"
OPA_GOLIB_HINT: Final = (
    "pip install --ignore-requires-python opa-golib-python-bindings"
    " (its wheels declare Python >= 3.14 but load on 3.11)"
)
OPA_CLI_HINT: Final = (
    "install the opa CLI (https://www.openpolicyagent.org/docs/#running-opa,"
    " a single static binary) and put it on PATH or pass --perf-opa PATH"
)

_VERSION_TIMEOUT_S: Final = 30.0
_BUILD_TIMEOUT_S: Final = 300.0
_BENCH_TIMEOUT_S: Final = 600.0
_SERVER_START_S: Final = 30.0
_HTTP_TIMEOUT_S: Final = 30.0
_WASM_MAX_PAGES: Final = 4096  # 256 MiB of linear memory per loaded policy
_WASM_PAGE: Final = 65536
_IDENT: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# 'x.rego:12: rego_parse_error: unexpected } token', as OPA prints errors in text form
_OPA_TEXT_ERROR: Final = re.compile(
    r"(?P<file>[^\s:][^:\n]*?):(?P<line>\d+): (?P<code>rego_\w+|eval_\w+): (?P<message>[^\n]*)"
)


# -- errors and value types ---------------------------------------------------------------------


class PolicyUnavailable(Exception):
    """The requested engine is not installed here; the message is one line saying how to get it."""


class PolicyError(Exception):
    """A policy that does not parse or compile, or names an entrypoint it does not define.

    The message starts with ``file:line:`` when the engine told where (the suite turns this
    into a failing test whose text points at the line to fix); ``file``, ``line`` and ``code``
    keep the parts for callers that want them.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        code: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.code = code
        super().__init__(message)


class PolicyEvalError(PolicyError):
    """Evaluation failed: a conflict between rules, or an error that the engine found only then.

    A subclass of :class:`PolicyError` because for the suite it is the same thing, a policy
    that cannot give a decision; rego-cpp, for one, reports an unknown function only here.
    """


class PolicyUndefined(LookupError):
    """The entrypoint has no value for this input (a rule without a default whose body failed).

    Not an error of the policy, and not ``None`` either (that would be a JSON ``null``); OPA's
    HTTP API answers ``{}`` for it. Policies under test should give their decisions defaults.
    """


@final
@dataclass(frozen=True, slots=True)
class Policy:
    """Rego sources and the document to decide with, e.g. ``entrypoint="k8s/privileged/deny"``.

    The entrypoint is a data path in OPA's ``opa build -e`` form (slashes, no ``data.``), the
    one spelling that every engine accepts after a mechanical translation.
    """

    name: str
    files: tuple[Path, ...]
    entrypoint: str

    def __post_init__(self) -> None:
        if not self.files:
            raise ValueError(f"policy {self.name!r} has no .rego files")
        segments = self.entrypoint.split("/")
        if not all(_IDENT.match(segment) for segment in segments):
            raise ValueError(
                f"policy {self.name!r}: entrypoint {self.entrypoint!r} must be a data path of"
                " identifiers separated by '/', e.g. 'k8s/privileged/deny'"
            )

    @property
    def query(self) -> str:
        """The entrypoint as a Rego reference: ``data.k8s.privileged.deny``."""
        return "data." + self.entrypoint.replace("/", ".")

    def sources(self) -> tuple[tuple[str, str], ...]:
        """``(name, text)`` of every file, the name as the engines will print it in errors."""
        out = []
        for path in self.files:
            try:
                out.append((str(path), Path(path).read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                raise PolicyError(f"{path}: cannot read policy source: {exc}", file=str(path))
        return tuple(out)

    def checked_sources(self) -> tuple[tuple[str, str], ...]:
        """:meth:`sources`, once :func:`check_entrypoint` found the entrypoint defined in them."""
        sources = self.sources()
        check_entrypoint(self, sources)
        return sources


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


class _Closing:
    """``with engine.load(policy) as loaded:`` closes the policy, whatever happens in the block."""

    __slots__ = ()

    def close(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- rego-cpp (regopy) --------------------------------------------------------------------------


class RegoCppEngine:
    """rego-cpp in this process: modules parsed by ``add_module``, a bundle built for the entrypoint.

    Uses ``regopy.rego_shared`` (the thin C-API layer under regopy's classes) for queries,
    because ``regopy.Output`` parses its text eagerly and raises ``JSONDecodeError`` on the
    error outputs that rego-cpp reports as "ok" (an unknown function, for one).
    """

    def __init__(self) -> None:
        try:
            import regopy  # type: ignore[import-untyped]
            from regopy import rego_shared
        except ImportError as exc:
            raise PolicyUnavailable(f"regopy not importable ({exc}): {REGOPY_HINT}") from None
        self._regopy = regopy
        self._rs = rego_shared
        self.engine = Engine("rego-cpp", str(regopy.__version__), "regopy")

    def load(self, policy: Policy) -> RegoCppPolicy:
        sources = policy.checked_sources()
        regopy = self._regopy
        started = time.perf_counter()
        interpreter = regopy.Interpreter()
        interpreter.log_level = regopy.LogLevel.NONE  # errors come back as exceptions, not prints
        for name, text in sources:
            try:
                interpreter.add_module(name, text)
            except regopy.RegoError as exc:
                raise _rego_cpp_error(str(exc), dict(sources), default_file=name) from None
        try:
            bundle = interpreter.build(None, [policy.entrypoint])
        except regopy.RegoError as exc:
            raise _rego_cpp_error(str(exc), dict(sources)) from None
        if not bundle.ok():
            raise PolicyError(
                f"{policy.name}: rego-cpp could not build a bundle for {policy.query}"
            )
        elapsed = time.perf_counter() - started
        return RegoCppPolicy(self, interpreter, bundle, policy, dict(sources), elapsed)


class RegoCppPolicy(_Closing):
    """A rego-cpp interpreter with its bundle; ``evaluate`` sets the input and runs the plan."""

    def __init__(
        self,
        owner: RegoCppEngine,
        interpreter: Any,
        bundle: Any,
        policy: Policy,
        sources: dict[str, str],
        compile_seconds: float,
    ) -> None:
        self.engine = owner.engine
        self.compile_seconds = compile_seconds
        self.artefact_bytes: int | None = None
        self.policy = policy
        self._rs = owner._rs
        self._input_type = owner._regopy.Input
        self._interpreter: Any = interpreter
        self._bundle: Any = bundle
        self._sources = sources

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._interpreter is None:
            raise RuntimeError(f"{self.policy.name}: evaluate() after close()")
        rs = self._rs
        self._interpreter.set_input(
            self._input_type(input if isinstance(input, dict) else dict(input))
        )
        output = rs.rego_bundle_query_entrypoint(
            self._interpreter._impl, self._bundle._impl, self.policy.entrypoint
        )
        try:
            root = rs.rego_output_node(output)
            kind = rs.rego_node_type(root)
            if not rs.rego_output_ok(output) or kind in (
                rs.NodeKind.Error,
                rs.NodeKind.ErrorSeq,
            ):
                raise _rego_cpp_eval_error(rs, root, self.policy, self._sources)
            if kind == rs.NodeKind.Undefined:
                raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
            text = rs.rego_output_string(output)
            if text == "undefined":
                raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
            value = json.loads(text)["expressions"][0]
            terms = _rego_cpp_first_terms(rs, root)
            return value if terms is None else _with_sorted_sets(rs, terms, value)
        finally:
            rs.rego_free_output(output)

    def close(self) -> None:
        self._bundle = None
        self._interpreter = None


def _rego_cpp_first_terms(rs: Any, root: Any) -> Any:
    """The node of the first expression's value: Results → Result → Terms → value."""
    node = root
    for expected in (rs.NodeKind.Results, rs.NodeKind.Result, rs.NodeKind.Terms):
        if rs.rego_node_type(node) != expected or rs.rego_node_size(node) == 0:
            return None
        node = rs.rego_node_get(node, 0)
    return node


def _with_sorted_sets(rs: Any, node: Any, value: Any) -> Any:
    """``value`` (decoded from rego-cpp's JSON) with every Rego set sorted in OPA's order.

    rego-cpp prints a set of objects in the order of their text (``{"k":10}`` before
    ``{"k":2}``), OPA in value order; only the node tree says which JSON arrays were sets, so
    it is walked alongside the decoded value (scalars need no call into the library).
    """
    if not isinstance(value, (list, dict)):
        return value
    kind = rs.rego_node_type(node)
    while kind in (rs.NodeKind.Term, rs.NodeKind.Scalar):
        node = rs.rego_node_get(node, 0)
        kind = rs.rego_node_type(node)
    size = rs.rego_node_size(node)
    if isinstance(value, list) and kind in (rs.NodeKind.Array, rs.NodeKind.Set):
        if size != len(value):
            return value
        items = [_with_sorted_sets(rs, rs.rego_node_get(node, i), v) for i, v in enumerate(value)]
        return sorted(items, key=opa_order_key) if kind == rs.NodeKind.Set else items
    if isinstance(value, dict) and kind == rs.NodeKind.Object:
        if size != len(value):  # keys that JSON merged ({1: …, "1": …}): leave as printed
            return value
        if not any(isinstance(item, (list, dict)) for item in value.values()):
            return value
        children = {}  # the tree keeps its own key order, not the printed one: match by key
        for i in range(size):
            pair = rs.rego_node_get(node, i)
            key_node = rs.rego_node_get(pair, 0)
            while rs.rego_node_type(key_node) in (rs.NodeKind.Term, rs.NodeKind.Scalar):
                key_node = rs.rego_node_get(key_node, 0)
            raw = rs.rego_node_value(key_node)
            if rs.rego_node_type(key_node) == rs.NodeKind.String:
                raw = json.loads(f'"{raw}"')  # the node holds the escaped text
            children[raw] = rs.rego_node_get(pair, 1)
        out = {}
        for key, item in value.items():
            if isinstance(item, (list, dict)) and key in children:
                item = _with_sorted_sets(rs, children[key], item)
            out[key] = item
        return out
    return value


def _rego_cpp_error(
    text: str, sources: Mapping[str, str], default_file: str | None = None
) -> PolicyError:
    """A :class:`PolicyError` from the error tree regopy puts in ``RegoError``'s message.

    rego-cpp writes errors as ``(error 8:bad.rego|34|2 (errormsg 24:Invalid …) … (rego-errorcode
    …))``: length-prefixed strings and a byte offset into the named source, turned here into
    ``bad.rego:4: …``.
    """
    errors = _parse_rego_cpp_errors(text)
    if not errors:
        where = f"{default_file}: " if default_file else ""
        return PolicyError(f"{where}rego-cpp: {first_line(text) or 'error'}", file=default_file)
    file, offset, message, code = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    code = code or ("rego_parse_error" if default_file else "rego_compile_error")
    if file is not None and file in sources and offset is not None:
        line = sources[file].encode("utf-8")[:offset].count(b"\n") + 1
        return PolicyError(
            f"{file}:{line}: {code}: {message}{more}", file=file, line=line, code=code
        )
    file = file or default_file
    where = f"{file}: " if file else ""
    return PolicyError(f"{where}{code}: {message}{more}", file=file, code=code)


def _parse_rego_cpp_errors(text: str) -> list[tuple[str | None, int | None, str, str]]:
    """``(file, byte offset, message, code)`` of each ``(error …)`` in rego-cpp's error text."""
    out: list[tuple[str | None, int | None, str, str]] = []
    for match in re.finditer(r"\(error\b", text):
        pos = match.end()
        file: str | None = None
        offset: int | None = None
        head = re.match(r"\s+(\d+):", text[pos:])
        if head is not None:
            start = pos + head.end()
            name = text[start : start + int(head.group(1))]
            rest = re.match(r"\|(\d+)\|(\d+)", text[start + len(name) :])
            if rest is not None:
                file, offset = name, int(rest.group(1))
        message = _length_prefixed(text, pos, "errormsg") or "error"
        code = _length_prefixed(text, pos, "rego-errorcode") or ""
        out.append((file, offset, message, code))
    return out


def _length_prefixed(text: str, start: int, tag: str) -> str | None:
    found = re.compile(r"\(" + re.escape(tag) + r"\s+(\d+):").search(text, start)
    if found is None:
        return None
    begin = found.end()
    return text[begin : begin + int(found.group(1))]


def _rego_cpp_eval_error(
    rs: Any, root: Any, policy: Policy, sources: Mapping[str, str]
) -> PolicyEvalError:
    """The first message and code of an error output (an ``Error`` or ``ErrorSeq`` node)."""
    node = root
    if rs.rego_node_type(node) == rs.NodeKind.ErrorSeq and rs.rego_node_size(node) > 0:
        node = rs.rego_node_get(node, 0)
    message, code = "error", ""
    for i in range(rs.rego_node_size(node)):
        child = rs.rego_node_get(node, i)
        kind = rs.rego_node_type(child)
        if kind == rs.NodeKind.ErrorMessage:
            message = rs.rego_node_value(child)
        elif kind == rs.NodeKind.ErrorCode:
            code = rs.rego_node_value(child)
    files = ", ".join(sources)
    return PolicyEvalError(
        f"{policy.query}: rego-cpp: {code + ': ' if code else ''}{message} (in {files})", code=code
    )


# -- OPA's Go engine in process (opa-golib-python-bindings) -------------------------------------


class OpaGoEngine:
    """OPA's Go ``rego`` package in this process, through ``opa_bindings.OpaEngine`` (ctypes).

    The bindings compile modules when the first query is prepared ("bundle activation"), so
    :meth:`load` prepares a trivial query to turn compile errors into :class:`PolicyError` at
    load time; evaluations then reuse the prepared query of the entrypoint.

    The first :meth:`load` starts the Go runtime in this process, with its own signal
    handlers. Next to it, the handlers that pytest's faulthandler swaps in and out (in every
    in-process pytester run) left wasmtime's trap handling broken: a later trap died with
    SIGILL. The project runs with ``-p no:faulthandler``; tests keep Go in a child process.
    Constructing the engine only imports the bindings; it does not start Go.
    """

    def __init__(self) -> None:
        try:
            import opa_bindings  # type: ignore[import-untyped]
        except ImportError as exc:
            raise PolicyUnavailable(
                f"opa-golib-python-bindings not importable ({exc}): {OPA_GOLIB_HINT}"
            ) from None
        except OSError as exc:  # the c-shared library would not load (glibc too old, say)
            raise PolicyUnavailable(f"opa-golib-python-bindings cannot load: {exc}") from None
        self._bindings = opa_bindings
        self.engine = Engine("opa", _golib_opa_version(), "go-inprocess")

    def load(self, policy: Policy) -> OpaGoPolicy:
        sources = policy.checked_sources()
        bindings = self._bindings
        started = time.perf_counter()
        engine = bindings.OpaEngine()
        try:
            engine.print_handler = lambda message, location: None
            for name, text in sources:
                engine.add_policy(name, text)
            engine.eval_query("true")  # compiles every module now, not in the first evaluate
        except bindings.OpaError as exc:
            engine.close()
            raise _opa_text_error(exc.message, f"{policy.name}: {exc}") from None
        elapsed = time.perf_counter() - started
        return OpaGoPolicy(self, engine, policy, elapsed)


class OpaGoPolicy(_Closing):
    """One ``OpaEngine`` holding the policy's modules; closing it frees the Go side."""

    def __init__(
        self, owner: OpaGoEngine, engine: Any, policy: Policy, compile_seconds: float
    ) -> None:
        self.engine = owner.engine
        self.compile_seconds = compile_seconds
        self.artefact_bytes: int | None = None
        self.policy = policy
        self._bindings = owner._bindings
        self._opa: Any = engine
        self._path = policy.entrypoint.replace("/", ".")

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._opa is None:
            raise RuntimeError(f"{self.policy.name}: evaluate() after close()")
        try:
            return self._opa.eval_document(self._path, dict(input))
        except self._bindings.OpaUndefinedError:
            raise PolicyUndefined(f"{self.policy.query} is undefined for this input") from None
        except self._bindings.OpaError as exc:
            raise _opa_text_error(
                exc.message, f"{self.policy.query}: {exc}", cls=PolicyEvalError
            ) from None

    def close(self) -> None:
        opa, self._opa = self._opa, None
        if opa is not None:
            opa.close()


@functools.cache
def _golib_opa_version() -> str:
    """The OPA module version linked into the bindings' library, read from its Go build info."""
    try:
        from opa_bindings import _native

        data = Path(_native._LIB_PATH).read_bytes()
    except (ImportError, AttributeError, OSError):
        return "unknown"
    match = re.search(rb"\tgithub\.com/open-policy-agent/opa\tv([0-9][\w.+-]*)\t", data)
    return match.group(1).decode() if match else "unknown"


# -- the opa CLI --------------------------------------------------------------------------------


def find_opa(opa_path: str | os.PathLike[str] | None = None) -> Path:
    """The opa CLI: ``opa_path`` when given (it must exist), else ``opa`` on PATH."""
    if opa_path is not None:
        path = Path(opa_path)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise PolicyUnavailable(f"opa CLI {path} is not an executable file: {OPA_CLI_HINT}")
        return path
    found = shutil.which("opa")
    if found is None:
        raise PolicyUnavailable(f"the opa CLI is not on PATH: {OPA_CLI_HINT}")
    return Path(found)


def opa_version(opa: Path) -> str:
    """``opa version``'s ``Version:`` line (``"1.4.2"``); the CLI must answer within 30 s."""
    stat = opa.stat()
    return _opa_version_cached(str(opa.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _opa_version_cached(opa: str, mtime_ns: int, size: int) -> str:
    try:
        done = run_bounded([opa, "version"], timeout_s=_VERSION_TIMEOUT_S)
    except (OSError, RunTimeout) as exc:
        raise PolicyUnavailable(f"{opa} version failed: {exc}") from None
    text = done.stdout.decode(errors="replace")
    match = re.search(r"^Version:\s*v?(\S+)", text, re.MULTILINE)
    if done.exit_code != 0 or match is None:
        detail = first_line(done.stderr.decode(errors="replace")) or first_line(text)
        raise PolicyUnavailable(f"{opa} version did not give a version: {detail or 'no output'}")
    return match.group(1)


# -- OPA Wasm -----------------------------------------------------------------------------------


def wasm_cache_key(version: str, policy: Policy) -> str:
    """What a cached Wasm bundle depends on: the OPA version, entrypoint, file names and contents.

    File names count because the bundle (and every error) carries them; order does not change
    what OPA compiles, so the files are hashed sorted by name.
    """
    digest = hashlib.sha256()
    digest.update(f"opa-wasm\0{version}\0{policy.entrypoint}\0".encode())
    for name, text in sorted(policy.sources()):
        digest.update(f"{name}\0{len(text.encode())}\0".encode())
        digest.update(text.encode())
    return digest.hexdigest()


def wasm_bundle_path(opa: Path, policy: Policy, cache_dir: Path | None = None) -> Path:
    """Where :func:`build_wasm_bundle` keeps the bundle of ``policy`` built by ``opa``."""
    key = wasm_cache_key(opa_version(opa), policy)
    root = (cache_dir if cache_dir is not None else default_cache_dir()) / "opa-wasm"
    return root / key[:32] / "bundle.tar.gz"


def build_wasm_bundle(opa: Path, policy: Policy, cache_dir: Path | None = None) -> Path:
    """``opa build -t wasm -e <entrypoint> -o bundle.tar.gz files…``, cached by :func:`wasm_cache_key`.

    The bundle is built in a private temporary directory and renamed into the cache, so a
    concurrent or interrupted build never leaves half a bundle where the next run looks.
    """
    target = wasm_bundle_path(opa, policy, cache_dir)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as scratch:
        out = Path(scratch) / "bundle.tar.gz"
        argv = [
            str(opa), "build", "-t", "wasm", "-e", policy.entrypoint, "-o", str(out),
            *(str(path) for path in policy.files),
        ]  # fmt: skip
        try:
            done = run_bounded(argv, timeout_s=_BUILD_TIMEOUT_S)
        except RunTimeout as exc:
            raise PolicyError(f"{policy.name}: opa build did not finish: {exc}") from None
        if done.exit_code != 0 or not out.is_file():
            text = (done.stderr or done.stdout).decode(errors="replace")
            raise _opa_text_error(
                text, f"{policy.name}: opa build failed: {first_line(text) or done.exit_code}"
            )
        os.replace(out, target)
    return target


class OpaWasmEngine:
    """OPA's Wasm target: policies built by the opa CLI (or one prebuilt bundle), run in wasmtime.

    The runner is :class:`_OpaWasmModule`, a small host for OPA's Wasm ABI on wasmtime-py.
    The maintained SDK ``opa-py-wasm`` pins ``wasmtime<47``, which would downgrade the wasmtime
    the rest of the plugin measures; ``opa-wasmtime`` has no limits and prints timings.
    """

    def __init__(
        self,
        opa_path: str | os.PathLike[str] | None = None,
        *,
        bundle: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        try:
            import wasmtime
        except ImportError as exc:  # pragma: no cover - wasmtime is a dependency
            raise PolicyUnavailable(f"wasmtime-py not importable ({exc}): pip install wasmtime")
        self._wasmtime = wasmtime
        self._cache_dir = cache_dir
        self.bundle = Path(bundle) if bundle is not None else None
        runtime = f"+ wasmtime {package_version('wasmtime')}"
        if self.bundle is not None:
            if not self.bundle.is_file():
                raise PolicyUnavailable(f"Wasm bundle {self.bundle} does not exist")
            self.opa: Path | None = None
            self.engine = Engine("opa", f"unknown {runtime}", "wasm-prebuilt")
        else:
            self.opa = find_opa(opa_path)
            self.engine = Engine("opa", f"{opa_version(self.opa)} {runtime}", "wasm")

    def load(self, policy: Policy) -> OpaWasmPolicy:
        sources = policy.checked_sources()
        started = time.perf_counter()
        built = False
        if self.bundle is not None:
            bundle = self.bundle
        else:
            assert self.opa is not None
            cached = wasm_bundle_path(self.opa, policy, self._cache_dir)
            built = not cached.is_file()
            bundle = build_wasm_bundle(self.opa, policy, self._cache_dir) if built else cached
        wasm, data, rego = _read_wasm_bundle(bundle)
        if self.bundle is not None and rego and sorted(rego) != sorted(text for _, text in sources):
            raise PolicyError(
                f"{policy.name}: bundle {bundle} was built from other sources than"
                f" {', '.join(name for name, _ in sources)}"
            )
        module = _OpaWasmModule(self._wasmtime, wasm, data)
        if policy.entrypoint not in module.entrypoints:
            raise PolicyError(
                f"{policy.name}: bundle {bundle} has no entrypoint {policy.entrypoint!r}"
                f" (it has: {', '.join(sorted(module.entrypoints)) or 'none'})"
            )
        elapsed = time.perf_counter() - started
        return OpaWasmPolicy(self.engine, module, policy, elapsed, len(wasm), built=built)


class OpaWasmPolicy(_Closing):
    """A Wasm policy instance; ``compile_seconds`` includes ``opa build`` only when ``built``.

    A bundle found in the cache is only read and compiled by wasmtime, so ``built`` says which
    of the two a ``compile_seconds`` figure is.
    """

    def __init__(
        self,
        engine: Engine,
        module: _OpaWasmModule,
        policy: Policy,
        compile_seconds: float,
        artefact_bytes: int,
        *,
        built: bool = False,
    ) -> None:
        self.engine = engine
        self.built = built
        self.compile_seconds = compile_seconds
        self.artefact_bytes: int | None = artefact_bytes
        self.policy = policy
        self._module: _OpaWasmModule | None = module
        self._entrypoint_id = module.entrypoints[policy.entrypoint]

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._module is None:
            raise RuntimeError(f"{self.policy.name}: evaluate() after close()")
        results = self._module.evaluate(self._entrypoint_id, input)
        if not results:
            raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
        return results[0]["result"]

    def close(self) -> None:
        self._module = None


def _read_wasm_bundle(bundle: Path) -> tuple[bytes, Any, list[str]]:
    """``policy.wasm``, ``data.json`` (``{}`` when absent) and the .rego texts of a bundle."""
    wasm: bytes | None = None
    data: Any = {}
    rego: list[str] = []
    try:
        with tarfile.open(bundle, "r:gz") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                name = member.name.lstrip("./")
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if name == "policy.wasm" or name.endswith("/policy.wasm"):
                    wasm = handle.read()
                elif name == "data.json":
                    data = json.loads(handle.read() or b"{}")
                elif name.endswith(".rego"):
                    rego.append(handle.read().decode("utf-8", errors="replace"))
    except (OSError, tarfile.TarError, json.JSONDecodeError) as exc:
        raise PolicyError(f"{bundle}: not a readable OPA bundle: {exc}") from None
    if wasm is None:
        raise PolicyError(f"{bundle}: no policy.wasm in the bundle (built without -t wasm?)")
    return wasm, data, rego


class _OpaWasmModule:
    """One instance of an OPA-compiled Wasm module, driven through OPA's Wasm ABI (1.2+).

    The host imports ``env.memory``, ``opa_abort``, ``opa_println`` and ``opa_builtin0..4``;
    evaluation uses the one-call fast path ``opa_eval`` (ABI 1.2): the input JSON is written
    at the heap pointer, the result set comes back as a NUL-terminated JSON string. Builtins
    that OPA leaves to the host are provided for the ones in :data:`_HOST_BUILTINS`; a module
    needing another is refused at load time, never half-evaluated.
    """

    def __init__(self, wasmtime: Any, wasm: bytes, data: Any) -> None:
        wt = self._wt = wasmtime
        store = self.store = wt.Store(wt.Engine())
        try:
            module = wt.Module(store.engine, wasm)
        except wt.WasmtimeError as exc:
            raise PolicyError(
                f"policy.wasm is not a valid module: {first_line(str(exc))}"
            ) from None
        pages = 2
        for imported in module.imports:
            if imported.module == "env" and imported.name == "memory":
                pages = max(pages, imported.type.limits.min)
        self.memory = wt.Memory(store, wt.MemoryType(wt.Limits(pages, _WASM_MAX_PAGES)))
        i32 = wt.ValType.i32()
        linker = wt.Linker(store.engine)
        linker.define(store, "env", "memory", self.memory)
        linker.define_func("env", "opa_abort", wt.FuncType([i32], []), self._abort)
        linker.define_func("env", "opa_println", wt.FuncType([i32], []), lambda addr: None)
        for arity in range(5):
            linker.define_func(
                "env",
                f"opa_builtin{arity}",
                wt.FuncType([i32] * (arity + 2), [i32]),
                self._builtin,
            )
        try:
            instance = linker.instantiate(store, module)
        except (wt.Trap, wt.WasmtimeError) as exc:
            raise PolicyError(
                f"policy.wasm cannot be instantiated: {first_line(str(exc))}"
            ) from None
        exports = instance.exports(store)
        self._exports = exports
        major = self._global("opa_wasm_abi_version")
        minor = self._global("opa_wasm_abi_minor_version")
        if major != 1 or minor < 2:
            raise PolicyError(
                f"policy.wasm speaks OPA Wasm ABI {major}.{minor}; this runner needs 1.2 or later"
            )
        self.abi = (major, minor)
        self._eval = exports["opa_eval"]
        self._malloc = exports["opa_malloc"]
        self._json_parse = exports["opa_json_parse"]
        self._json_dump = exports["opa_json_dump"]
        self._heap_get = exports["opa_heap_ptr_get"]
        self.entrypoints: dict[str, int] = self._dump(exports["entrypoints"](store))
        needed: dict[str, int] = self._dump(exports["builtins"](store))
        missing = sorted(name for name in needed if name not in _HOST_BUILTINS)
        if missing:
            raise PolicyError(
                f"policy.wasm needs host builtins that this runner does not provide:"
                f" {', '.join(missing)}"
            )
        self._builtins: dict[int, Callable[..., Any]] = {
            ident: _HOST_BUILTINS[name] for name, ident in needed.items()
        }
        self._data = self._load_json(data)
        self._heap = self._heap_get(store)  # inputs go here; each opa_eval frees what it used

    def evaluate(self, entrypoint: int, input: Mapping[str, Any]) -> list[dict[str, Any]]:
        raw = json.dumps(input, separators=(",", ":")).encode()
        self._reserve(self._heap + len(raw) + _WASM_PAGE)
        self.memory.write(self.store, raw, self._heap)
        try:
            result = self._eval(
                self.store, 0, entrypoint, self._data, self._heap, len(raw),
                self._heap + len(raw), 0,
            )  # fmt: skip
        except _WasmAbort as exc:
            raise PolicyEvalError(f"opa_eval failed: {exc}") from None
        except (self._wt.Trap, self._wt.WasmtimeError) as exc:
            raise PolicyEvalError(f"opa_eval failed: {first_line(str(exc))}") from None
        results: list[dict[str, Any]] = json.loads(self._string(result))
        return results

    def _global(self, name: str) -> int:
        item = self._exports[name]
        return int(item.value(self.store)) if isinstance(item, self._wt.Global) else 0

    def _reserve(self, end: int) -> None:
        size = self.memory.data_len(self.store)
        if end > size:
            pages = (end - size + _WASM_PAGE - 1) // _WASM_PAGE
            try:
                self.memory.grow(self.store, pages)
            except self._wt.WasmtimeError as exc:
                raise PolicyEvalError(f"input does not fit in Wasm memory: {exc}") from None

    def _string(self, addr: int) -> bytes:
        base = ctypes.addressof(self.memory.data_ptr(self.store).contents)
        return ctypes.string_at(base + addr)

    def _dump(self, value_addr: int) -> Any:
        return json.loads(self._string(self._json_dump(self.store, value_addr)))

    def _load_json(self, value: Any) -> int:
        raw = json.dumps(value, separators=(",", ":")).encode()
        addr = self._malloc(self.store, len(raw))
        self.memory.write(self.store, raw, addr)
        parsed = self._json_parse(self.store, addr, len(raw))
        if parsed == 0:
            raise PolicyEvalError("opa_json_parse refused a value")
        return int(parsed)

    def _abort(self, addr: int) -> None:
        raise _WasmAbort(f"opa_abort: {self._string(addr).decode(errors='replace')}")

    def _builtin(self, ident: int, _context: int, *args: int) -> int:
        function = self._builtins[ident]
        try:
            result = function(*(self._dump(arg) for arg in args))
        except Exception as exc:  # noqa: BLE001 - any host failure stops the module as a trap
            raise _WasmAbort(f"host builtin {function.__name__}: {exc}") from None
        return self._load_json(result)


class _WasmAbort(Exception):
    """Raised by a host function to stop the module; wasmtime-py re-raises it from the call."""


def _go_sprintf(template: str, args: Sequence[Any]) -> str:
    """Rego's ``sprintf`` for the verbs policies use (``%s %v %d %q %f %%``), Go-style.

    OPA's Wasm target leaves ``sprintf`` to the host. Other verbs raise, so a decision never
    silently differs from OPA's.
    """
    values = list(args)

    def verb(match: re.Match[str]) -> str:
        spec, kind = match.group(1), match.group(2)
        if kind == "%":
            return "%"
        if not values:
            return f"%!{kind}(MISSING)"
        value = values.pop(0)
        if kind in "sv":
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            return f"{text:{spec.replace('-', '<') if spec else ''}}" if spec else text
        if kind == "d" and isinstance(value, (int, float)) and float(value).is_integer():
            return f"{int(value):{spec}}" if spec else str(int(value))
        if kind == "q" and isinstance(value, str):
            return json.dumps(value)
        if kind == "f" and isinstance(value, (int, float)):
            return f"{value:{spec or '.6'}f}"
        raise ValueError(f"sprintf verb %{spec}{kind} with {value!r} is not supported here")

    return re.sub(r"%([-+ #0-9.]*)([a-zA-Z%])", verb, template)


_HOST_BUILTINS: Final[dict[str, Callable[..., Any]]] = {"sprintf": _go_sprintf}


# -- an OPA server over loopback HTTP -----------------------------------------------------------


class OpaHttpEngine:
    """``opa run --server`` on 127.0.0.1 per loaded policy, or one existing server (``opa_url``).

    With the CLI the policy files are given on the command line and ``compile_seconds`` is the
    time until ``/health`` answers (server start included). With ``opa_url`` the modules are
    uploaded with ``PUT /v1/policies`` (the compile time) and deleted again on close.
    """

    def __init__(
        self, opa_path: str | os.PathLike[str] | None = None, *, opa_url: str | None = None
    ) -> None:
        self.opa_url = opa_url
        if opa_url is not None:
            parts = urlsplit(opa_url)
            if parts.scheme != "http" or not parts.hostname:
                raise PolicyUnavailable(f"OPA URL {opa_url!r} must look like http://HOST:PORT")
            self._host, self._port = parts.hostname, parts.port or 80
            try:
                status, _ = _http(self._host, self._port, "GET", "/health", timeout_s=5.0)
            except OSError as exc:
                raise PolicyUnavailable(f"OPA server {opa_url} does not answer: {exc}") from None
            if status != 200:
                raise PolicyUnavailable(f"OPA server {opa_url} is not healthy (HTTP {status})")
            self.opa: Path | None = None
            self.engine = Engine("opa", _server_version(self._host, self._port), "http")
        else:
            self.opa = find_opa(opa_path)
            self.engine = Engine("opa", opa_version(self.opa), "http")

    def load(self, policy: Policy) -> OpaHttpPolicy:
        sources = policy.checked_sources()
        if self.opa_url is not None:
            return self._upload(policy, sources)
        assert self.opa is not None
        started = time.perf_counter()
        server = _OpaServer.start(self.opa, policy)
        elapsed = time.perf_counter() - started
        return OpaHttpPolicy(self.engine, policy, "127.0.0.1", server.port, elapsed, server=server)

    def _upload(self, policy: Policy, sources: Sequence[tuple[str, str]]) -> OpaHttpPolicy:
        token = os.urandom(6).hex()
        ids: list[str] = []
        started = time.perf_counter()
        try:
            for index, (name, text) in enumerate(sources):
                ident = f"perfdata-{token}-{index}"
                status, body = _http(
                    self._host, self._port, "PUT", f"/v1/policies/{ident}", text.encode(),
                    content_type="text/plain",
                )  # fmt: skip
                if status != 200:  # OPA names the module by its id: put the file back
                    raise _opa_json_error(
                        body, f"{name}: OPA server refused it (HTTP {status})", files={ident: name}
                    )
                ids.append(ident)
        except BaseException:
            _delete_policies(self._host, self._port, ids)
            raise
        elapsed = time.perf_counter() - started
        return OpaHttpPolicy(
            self.engine, policy, self._host, self._port, elapsed, uploaded=tuple(ids)
        )


class OpaHttpPolicy(_Closing):
    """Decisions by ``POST /v1/data/<entrypoint>`` on one kept-alive connection."""

    def __init__(
        self,
        engine: Engine,
        policy: Policy,
        host: str,
        port: int,
        compile_seconds: float,
        *,
        server: _OpaServer | None = None,
        uploaded: tuple[str, ...] = (),
    ) -> None:
        self.engine = engine
        self.compile_seconds = compile_seconds
        self.artefact_bytes: int | None = None
        self.policy = policy
        self._host, self._port = host, port
        self._path = f"/v1/data/{policy.entrypoint}"
        self._server = server
        self._uploaded = uploaded
        self._connection: http.client.HTTPConnection | None = None
        self._closed = False

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._closed:
            raise RuntimeError(f"{self.policy.name}: evaluate() after close()")
        body = json.dumps({"input": input}, separators=(",", ":")).encode()
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            connection = self._connection
            if connection is None:
                connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=_HTTP_TIMEOUT_S
                )
                self._connection = connection
            try:
                connection.request("POST", self._path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                status, payload = response.status, response.read()
                break
            except (http.client.HTTPException, ConnectionError) as exc:
                connection.close()
                self._connection = None
                if attempt == 2:
                    raise PolicyEvalError(f"{self.policy.query}: OPA server: {exc}") from None
        if status != 200:
            raise _opa_json_error(
                payload, f"{self.policy.query}: OPA server answered HTTP {status}",
                cls=PolicyEvalError,
            )  # fmt: skip
        document = json.loads(payload)
        if "result" not in document:
            raise PolicyUndefined(f"{self.policy.query} is undefined for this input")
        return document["result"]

    def close(self) -> None:
        """Drop the connection, delete uploaded modules, stop the server (always, even on errors)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            if self._uploaded:
                _delete_policies(self._host, self._port, self._uploaded)
        finally:
            if self._server is not None:
                self._server.stop()


@final
class _OpaServer:
    """An ``opa run --server`` child on a loopback port; stopped by ``stop()`` or when collected."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self._finalizer = weakref.finalize(self, _stop_server, process, log)

    @classmethod
    def start(cls, opa: Path, policy: Policy) -> _OpaServer:
        for attempt in (1, 2, 3):  # the free port we picked may be taken before opa binds it
            port = _free_port()
            fd, log_name = tempfile.mkstemp(prefix="perfdata-opa-", suffix=".log")
            log = Path(log_name)
            argv = [
                str(opa), "run", "--server", "--addr", f"127.0.0.1:{port}",
                "--log-level", "error", "--disable-telemetry",
                *(str(path) for path in policy.files),
            ]  # fmt: skip
            with os.fdopen(fd, "wb") as log_file:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=log_file,
                    start_new_session=True,
                )
            server = cls(process, port, log)
            deadline = time.monotonic() + _SERVER_START_S
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                try:
                    status, _ = _http("127.0.0.1", port, "GET", "/health", timeout_s=1.0)
                except OSError:
                    status = 0
                if status == 200:
                    return server
                time.sleep(0.02)
            text = log.read_text(errors="replace") if log.exists() else ""
            exited = process.poll()
            server.stop()
            if exited is None:
                raise PolicyError(
                    f"{policy.name}: opa run did not become healthy within {_SERVER_START_S:g} s"
                )
            if "address already in use" in text and attempt < 3:
                continue
            raise _opa_text_error(
                text, f"{policy.name}: opa run exited with {exited}: {first_line(text)}"
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        self._finalizer()


def _stop_server(process: subprocess.Popen[bytes], log: Path) -> None:
    if process.poll() is None:
        kill_group(process.pid)
    try:
        process.wait(timeout=10.0)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait on the child
        pass
    log.unlink(missing_ok=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    content_type: str = "application/json",
    timeout_s: float = _HTTP_TIMEOUT_S,
) -> tuple[int, bytes]:
    """One request on a fresh connection: ``(status, body)``; connection errors propagate."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        headers = {"Content-Type": content_type} if body is not None else {}
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _server_version(host: str, port: int) -> str:
    """The version a running OPA reports in a decision's provenance (``?provenance``)."""
    try:
        status, body = _http(host, port, "POST", "/v1/data?provenance=true", b"{}")
        version = json.loads(body).get("provenance", {}).get("version") if status == 200 else None
    except (OSError, ValueError):
        version = None
    return str(version) if version else "unknown"


def _delete_policies(host: str, port: int, ids: Sequence[str]) -> None:
    for ident in ids:
        try:
            _http(host, port, "DELETE", f"/v1/policies/{ident}", timeout_s=5.0)
        except OSError:
            pass


# -- opa bench ----------------------------------------------------------------------------------


def opa_bench(
    opa: Path | str | None,
    policy: Policy,
    input: Mapping[str, Any],
    target: Literal["rego", "wasm"] = "rego",
    e2e: bool = False,
    *,
    timeout_s: float = _BENCH_TIMEOUT_S,
) -> dict[str, float]:
    """OPA's own benchmark of ``policy`` on ``input``: ``opa bench --format json …``, parsed.

    These are OPA's figures (Go's ``testing.Benchmark`` inside the CLI), not ours: the record
    that carries them should say so. Raises :class:`PolicyUnavailable` without the CLI and
    :class:`PolicyError` when OPA rejects the policy.
    """
    if target not in ("rego", "wasm"):
        raise ValueError(f"opa bench target must be 'rego' or 'wasm', not {target!r}")
    cli = find_opa(opa)
    policy.checked_sources()  # a typo in the entrypoint fails here, not inside opa bench
    with tempfile.TemporaryDirectory(prefix="perfdata-opa-bench-") as scratch:
        input_file = Path(scratch) / "input.json"
        input_file.write_text(json.dumps(input), encoding="utf-8")
        argv = [str(cli), *bench_arguments(policy, input_file, target, e2e)]
        try:
            done = run_bounded(argv, timeout_s=timeout_s)
        except RunTimeout as exc:
            raise PolicyError(f"{policy.name}: opa bench did not finish: {exc}") from None
    stdout = done.stdout.decode(errors="replace")
    if done.exit_code != 0:
        stderr = done.stderr.decode(errors="replace")
        raise _opa_json_error(
            done.stdout,
            f"{policy.name}: opa bench failed: {first_line(stderr) or first_line(stdout)}",
            text=stdout + "\n" + stderr,
        )
    return parse_bench_json(stdout)


def bench_arguments(policy: Policy, input_file: Path, target: str, e2e: bool) -> list[str]:
    """The ``opa bench`` arguments (after the executable) for one policy and input file."""
    argv = ["bench", "--format", "json", "--count", "1", "-t", target]
    if e2e:
        argv.append("--e2e")
    for path in policy.files:
        argv += ["-d", str(path)]
    return [*argv, "-i", str(input_file), policy.query]


def parse_bench_json(text: str) -> dict[str, float]:
    """Figures from ``opa bench --format json``: Go's ``testing.BenchmarkResult`` as JSON.

    That object has ``N`` (iterations), ``T`` (total nanoseconds), ``MemAllocs``/``MemBytes``
    (totals) and ``Extra`` (OPA's metric histograms, e.g. ``timer_rego_query_eval_ns_p99``).
    Per-operation figures are derived (``ns_per_op = T / N``, as OPA's pretty output does);
    keys already given per operation (``ns_per_op``, ``…_ns/op``) are kept as they are. With
    several results (``--count``), the last one is returned.
    """
    decoder = json.JSONDecoder()
    results: list[Mapping[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"opa bench output is not JSON: {exc}") from None
        if isinstance(value, Mapping):
            results.append(value)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not results:
        raise ValueError("opa bench printed no result")
    result = results[-1]
    if "errors" in result and "N" not in result:
        raise ValueError(f"opa bench reported errors: {result['errors']}")
    figures: dict[str, float] = {}
    for key, value in result.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            figures[key] = float(value)
    for key, value in (result.get("Extra") or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            figures[key] = float(value)
    n = figures.get("N", 0.0)
    if n <= 0:
        raise ValueError("opa bench result has no iterations (N)")
    if "T" in figures:
        figures.setdefault("ns_per_op", figures["T"] / n)
    if "MemAllocs" in figures:
        figures.setdefault("allocs_per_op", figures["MemAllocs"] / n)
    if "MemBytes" in figures:
        figures.setdefault("bytes_per_op", figures["MemBytes"] / n)
    if "ns_per_op" not in figures:
        raise ValueError("opa bench result has neither T nor ns_per_op")
    return figures


# -- selection ----------------------------------------------------------------------------------


def _makers(
    opa_path: str | None, opa_url: str | None, bundle: Path | None
) -> dict[str, Callable[[], PolicyEngine]]:
    """How to start each engine of :data:`ENGINE_NAMES`; starting one checks that it works."""
    return {
        "rego-cpp": RegoCppEngine,
        "opa-go": OpaGoEngine,
        "wasm": lambda: OpaWasmEngine(opa_path, bundle=bundle),
        "http": lambda: OpaHttpEngine(opa_path, opa_url=opa_url),
    }


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
    if name == "wasm" and "opa CLI" in reason:
        return f"{reason}; or give a prebuilt Wasm bundle (--perf-opa-bundle)"
    if name == "http" and "opa CLI" in reason:
        return f"{reason}; or pass --perf-opa-url URL of a running OPA server"
    return reason


# -- shared helpers -----------------------------------------------------------------------------


def check_entrypoint(policy: Policy, sources: Sequence[tuple[str, str]]) -> None:
    """Refuse an entrypoint that no file can define, before any engine compiles anything.

    Engines disagree on a missing rule (rego-cpp and OPA's server answer *undefined* at every
    evaluation, ``opa build`` refuses it), so the check is made once, here, on the text: the
    package path must lead to the entrypoint, and the rule name right after it must occur in
    one of that package's files. Deliberately lenient: it can only miss a typo, never refuse
    a policy that an engine would accept.
    """
    segments = policy.entrypoint.split("/")
    packages: list[str] = []
    for name, text in sources:
        match = re.search(r"^\s*package\s+([A-Za-z_][\w.]*)", text, re.MULTILINE)
        if match is None:
            continue
        package = match.group(1).split(".")
        packages.append(".".join(package))
        if segments[: len(package)] == package:
            rest = segments[len(package) :]
            if not rest or re.search(rf"(?<![\w.]){re.escape(rest[0])}\b", text):
                return
        elif package[: len(segments)] == segments:
            return  # the entrypoint is a parent of this package
    files = ", ".join(name for name, _ in sources)
    raise PolicyError(
        f"{policy.name}: undefined entrypoint {policy.entrypoint!r} ({policy.query}):"
        f" not defined by package(s) {', '.join(sorted(set(packages))) or '(none)'} in {files}",
        code="undefined_entrypoint",
    )


def opa_order_key(value: Any) -> tuple[Any, ...]:
    """Sort key that orders JSON values as OPA orders Rego values (``ast.Compare``).

    null < booleans < numbers < strings < arrays < objects; arrays element by element,
    objects by their sorted keys, then values.
    """
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, list):
        return (4, tuple(opa_order_key(item) for item in value))
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: opa_order_key(item[0]))
        return (5, tuple((opa_order_key(k), opa_order_key(v)) for k, v in items))
    return (6, repr(value))


def _opa_text_error(
    text: str, fallback: str, *, cls: type[PolicyError] = PolicyError
) -> PolicyError:
    """A :class:`PolicyError` from OPA's text form (``x.rego:12: rego_parse_error: …``)."""
    matches = list(_OPA_TEXT_ERROR.finditer(text))
    if not matches:
        return cls(fallback)
    first = matches[0]
    more = f" (and {len(matches) - 1} more)" if len(matches) > 1 else ""
    file, line, code = first.group("file").strip(), int(first.group("line")), first.group("code")
    return cls(
        f"{file}:{line}: {code}: {first.group('message').strip()}{more}",
        file=file,
        line=line,
        code=code,
    )


def _opa_json_error(
    body: bytes,
    fallback: str,
    *,
    cls: type[PolicyError] = PolicyError,
    text: str = "",
    files: Mapping[str, str] | None = None,
) -> PolicyError:
    """A :class:`PolicyError` from OPA's JSON errors (HTTP API, ``--format json``).

    ``files`` maps the names OPA knows modules by (policy ids) back to their files.
    """
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    errors = document.get("errors") if isinstance(document, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        location = first.get("location") or {}
        file, line = location.get("file"), location.get("row")
        if isinstance(file, str) and files:
            file = files.get(file, file)
        code = first.get("code") or "error"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        where = f"{file}:{line}: " if file and line else ""
        return cls(
            f"{where}{code}: {first.get('message', '')}{more}",
            file=file or None,
            line=int(line) if line else None,
            code=code,
        )
    if isinstance(document, dict) and document.get("message"):
        return _opa_text_error(
            str(document["message"]), f"{fallback}: {document['message']}", cls=cls
        )
    return _opa_text_error(text or body.decode(errors="replace"), fallback, cls=cls)

