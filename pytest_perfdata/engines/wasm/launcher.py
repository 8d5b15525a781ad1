"""Run a WASI module in a fresh process with wasmtime-py: the stand-in when no wasmtime CLI exists.

Started once per timed sample, so it imports only what it runs: the Wasm package's limits and
errors and wasmtime-py (no records, no statistics, no subprocess machinery).

``python -m pytest_perfdata.engines.wasm.launcher FILE [--fuel N|none] [--memory BYTES] [--tables ELEMENTS]
[--timeout S] [--precompiled] [--invoke NAME] [ARGS...]``

The module's stdout and stderr are this process's; the exit code is the module's
(``proc_exit``), 0 when ``_start`` returns. A hit limit prints one line
``wasm_launcher: <fuel|timeout|memory> limit: …`` to stderr and exits 124, which
:class:`~pytest_perfdata.engines.wasm.launcher_cli.PythonLauncherCli` turns back into WasmLimitExceeded.
Another trap exits 134, as the wasmtime CLI does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from .protocol import Limits, WasmError, WasmLimitExceeded
from .wasmtime_embedded import WasmtimeEmbedded

__all__ = ["LIMIT_EXIT", "TRAP_EXIT", "main"]

LIMIT_EXIT: Final = 124
TRAP_EXIT: Final = 134


def _fuel(text: str) -> int | None:
    if text.lower() in ("none", "off", "0"):
        return None
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("fuel must be a positive integer or 'none'")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_perfdata.engines.wasm.launcher")
    parser.add_argument(
        "file", type=Path, help="a .wasm module, or with --precompiled a serialized one"
    )
    parser.add_argument("args", nargs="*", help="arguments of the invoked export (integers)")
    parser.add_argument("--fuel", type=_fuel, default=Limits().fuel, help="fuel budget, or 'none'")
    parser.add_argument(
        "--memory", type=int, default=Limits().memory_bytes, help="memory cap in bytes"
    )
    parser.add_argument(
        "--timeout", type=float, default=Limits().timeout_s, help="time limit in seconds"
    )
    parser.add_argument(
        "--tables", type=int, default=Limits().table_elements, help="table cap in elements"
    )
    parser.add_argument(
        "--precompiled", action="store_true", help="FILE was made by Module.serialize"
    )
    parser.add_argument(
        "--invoke", metavar="NAME", help="call this export instead of _start, print its result"
    )
    options = parser.parse_args(argv)
    try:
        limits = Limits(fuel=options.fuel, memory_bytes=options.memory, timeout_s=options.timeout,
                        table_elements=options.tables)
    except ValueError as exc:
        parser.error(str(exc))
    engine = WasmtimeEmbedded()
    data = options.file.read_bytes()
    try:
        module = engine.deserialize(data) if options.precompiled else engine.compile(data)
        instance = engine.instantiate(module, limits, stdout="inherit")
        if options.invoke is None:
            engine.call(instance, "_start")
        else:
            result = engine.call(instance, options.invoke, *(int(arg) for arg in options.args))
            if result is not None:
                print(result, flush=True)
    except WasmLimitExceeded as exc:
        print(f"wasm_launcher: {exc.limit} limit: {exc}", file=sys.stderr, flush=True)
        return LIMIT_EXIT
    except WasmError as exc:
        if exc.exit_code is not None:
            return exc.exit_code
        print(f"wasm_launcher: error: {exc}", file=sys.stderr, flush=True)
        return TRAP_EXIT
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
