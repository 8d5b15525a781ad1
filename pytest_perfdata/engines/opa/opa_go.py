"""The opa-go engine: OPA's own Go engine in this process, through ``opa-golib-python-bindings``."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ...record import Engine
from .closing import Loaded
from .errors import PolicyEvalError, PolicyUnavailable, PolicyUndefined
from .opa_errors import opa_text_error
from .policy import Policy

__all__ = ["OPA_GOLIB_HINT", "OpaGoEngine", "OpaGoPolicy"]

OPA_GOLIB_HINT: Final = (
    "pip install opa-golib-python-bindings (its wheels declare Python >= 3.14, so an ordinary"
    " install needs that Python; OPA's Go engine is measured here through opa bench and the http engine)"
)


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
            raise opa_text_error(exc.message, f"{policy.name}: {exc}") from None
        elapsed = time.perf_counter() - started
        return OpaGoPolicy(self, engine, policy, elapsed)


class OpaGoPolicy(Loaded):
    """One ``OpaEngine`` holding the policy's modules; closing it frees the Go side."""

    def __init__(
        self, owner: OpaGoEngine, engine: Any, policy: Policy, compile_seconds: float
    ) -> None:
        super().__init__(owner.engine, policy, compile_seconds)
        self._bindings = owner._bindings
        self._opa: Any = engine
        self._path = policy.entrypoint.replace("/", ".")

    def evaluate(self, input: Mapping[str, Any]) -> Any:
        if self._opa is None:
            raise self._after_close()
        try:
            return self._opa.eval_document(self._path, dict(input))
        except self._bindings.OpaUndefinedError:
            raise PolicyUndefined(f"{self.policy.query} is undefined for this input") from None
        except self._bindings.OpaError as exc:
            raise opa_text_error(
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
