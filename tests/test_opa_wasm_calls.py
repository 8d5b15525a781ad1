"""The prepared i32 calls of the OPA ABI runner answer and fail exactly as wasmtime-py's own calls do."""

from __future__ import annotations

import pytest
import wasmtime
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata.engines.opa import wasm_calls
from pytest_perfdata.engines.opa.wasm_calls import i32_function

WAT = """
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "seven") (result i32) (i32.const 7))
  (func (export "nothing") (param i32))
  (func (export "trap") (result i32) unreachable)
  (func (export "via_host") (param i32) (result i32) (call $host (local.get 0)))
  (func (export "wide") (param i64) (result i64) (local.get 0))
)
"""


class HostRefused(Exception):
    pass


@pytest.fixture
def instance() -> tuple[wasmtime.Store, dict]:
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, wasmtime.wat2wasm(WAT))

    def host(value: int) -> int:
        if value < 0:
            raise HostRefused(f"no negative values: {value}")
        return value * 2

    linker = wasmtime.Linker(store.engine)
    i32 = wasmtime.ValType.i32()
    linker.define_func("env", "host", wasmtime.FuncType([i32], [i32]), host)
    exports = linker.instantiate(store, module).exports(store)
    return store, {name: exports[name] for name in ("add", "seven", "nothing", "trap", "via_host", "wide")}


@given(a=st.integers(-(2**31), 2**31 - 1), b=st.integers(-(2**31), 2**31 - 1))
def test_a_prepared_call_returns_what_wasmtime_py_returns(a: int, b: int) -> None:
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, wasmtime.wat2wasm(
        '(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))'))
    add = wasmtime.Instance(store, module, []).exports(store)["add"]
    prepared = i32_function(wasmtime, store, add, "add")
    assert prepared.direct
    assert prepared(a, b) == add(store, a, b)


def test_calls_without_parameters_or_results(instance) -> None:
    store, exports = instance
    assert i32_function(wasmtime, store, exports["seven"], "seven")() == 7
    assert i32_function(wasmtime, store, exports["nothing"], "nothing")(3) is None


def test_a_trap_and_a_host_exception_come_out_as_from_wasmtime_py(instance) -> None:
    store, exports = instance
    with pytest.raises(wasmtime.Trap) as theirs:
        exports["trap"](store)
    with pytest.raises(wasmtime.Trap) as ours:
        i32_function(wasmtime, store, exports["trap"], "trap")()
    assert "unreachable" in str(ours.value) and str(ours.value).splitlines()[0] == str(theirs.value).splitlines()[0]
    via_host = i32_function(wasmtime, store, exports["via_host"], "via_host")
    assert via_host(21) == 42
    with pytest.raises(HostRefused, match="no negative values: -1"):
        via_host(-1)
    assert via_host(5) == 10  # the store is still usable afterwards


def test_a_wrong_number_of_arguments_is_refused(instance) -> None:
    store, exports = instance
    with pytest.raises(TypeError, match="expected 2 arguments, got 1"):
        i32_function(wasmtime, store, exports["add"], "add")(1)


def test_only_i32_functions_are_prepared(instance) -> None:
    store, exports = instance
    with pytest.raises(TypeError, match="wide is not an i32-only function"):
        i32_function(wasmtime, store, exports["wide"], "wide")


def test_without_wasmtime_py_s_internals_it_falls_back_to_its_public_call(
    instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, exports = instance
    monkeypatch.setattr(wasm_calls, "_direct_call", lambda *args: None)
    add = i32_function(wasmtime, store, exports["add"], "add")
    assert not add.direct and add(2, 3) == 5
