"""Calls into a module's i32-only functions, prepared once: the hot path of our OPA ABI runner.

wasmtime-py's ``Func.__call__`` asks the runtime for the function's type, builds Python type
objects for every parameter and checks each value, on every call: 23 µs for a call without
parameters and 46 µs with one, on the machine where this was measured, against a few µs of
work. A decision makes a dozen such calls (``opa_eval``, and ``opa_json_dump``, ``opa_malloc``,
``opa_json_parse`` around every host builtin), so that overhead was most of its time.

:func:`i32_function` makes the same C call that ``Func.__call__`` makes (``wasmtime_func_call``),
with the argument and result arrays built once, and raises what ``Func.__call__`` raises (a
trap, a :class:`wasmtime.WasmtimeError`, or the exception a host function raised). It uses
wasmtime-py's private ``_ffi`` and ``_func`` modules; where a wasmtime-py lacks them it falls
back to ``Func.__call__``, and :attr:`I32Function.direct` says which path a runner took.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

__all__ = ["I32Function", "i32_function"]


class I32Function:
    """One exported function taking and returning only i32 values, bound to its store."""

    __slots__ = ("_call", "direct", "name")

    def __init__(self, name: str, call: Callable[..., int | None], *, direct: bool) -> None:
        self.name = name
        self.direct = direct  # True: the prepared C call; False: wasmtime-py's Func.__call__
        self._call = call

    def __call__(self, *args: int) -> int | None:
        return self._call(*args)


def i32_function(wasmtime: Any, store: Any, func: Any, name: str) -> I32Function:
    """``func`` (an export of an instance in ``store``) as a prepared call; see the module's docstring."""
    kind = func.type(store)
    params, results = len(kind.params), len(kind.results)
    i32 = wasmtime.ValType.i32()
    if any(t != i32 for t in (*kind.params, *kind.results)) or results > 1:
        raise TypeError(f"{name} is not an i32-only function with at most one result")
    direct = _direct_call(store, func, params, results)
    if direct is not None:
        return I32Function(name, direct, direct=True)
    return I32Function(name, lambda *args: func(store, *args), direct=False)


def _direct_call(store: Any, func: Any, params: int, results: int) -> Callable[..., int | None] | None:
    try:
        from wasmtime import WasmtimeError
        from wasmtime import _ffi as ffi
        from wasmtime._func import enter_wasm

        context = store._context()
        func_ref = ctypes.byref(func._func)
        arguments = (ffi.wasmtime_val_t * max(params, 1))()
        returned = (ffi.wasmtime_val_t * max(results, 1))()
        call_c = ffi.wasmtime_func_call
        for slot in arguments:
            slot.kind = ffi.WASMTIME_I32.value
    except (ImportError, AttributeError, TypeError):  # another wasmtime-py's internals
        return None

    def call(*args: int) -> int | None:
        if len(args) != params:
            raise TypeError(f"expected {params} arguments, got {len(args)}")
        for index, value in enumerate(args):
            arguments[index].of.i32 = value
        with enter_wasm(store) as trap:
            error = call_c(context, func_ref, arguments, params, returned, results, trap)
            if error:
                raise WasmtimeError._from_ptr(error)
        return int(returned[0].of.i32) if results else None

    return call
