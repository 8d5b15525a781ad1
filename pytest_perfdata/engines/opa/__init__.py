"""Policy engines for Rego: OPA (Wasm, Go, HTTP, ``opa bench``) and rego-cpp, chosen in one place.

The names load on first use (PEP 562) from :mod:`.engines`, so importing the family's fixtures
costs a pytest run nothing until a test asks for a policy engine (that module imports HTTP,
tar and ctypes machinery at its top).
"""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    if name not in __all__ and not name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(".engines", __name__), name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value
