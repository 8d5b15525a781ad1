"""The host builtins our OPA Wasm runner provides behave as OPA documents them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata.engines.opa.wasm_builtins import HOST_BUILTINS, any_prefix_match

_TEXT = st.text(alphabet="ab/.:", max_size=6)


@given(search=st.one_of(_TEXT, st.lists(_TEXT, max_size=4)), base=st.one_of(_TEXT, st.lists(_TEXT, max_size=4)))
def test_any_prefix_match_is_true_when_some_string_starts_with_some_prefix(search, base) -> None:
    texts = [search] if isinstance(search, str) else search
    prefixes = [base] if isinstance(base, str) else base
    assert any_prefix_match(search, base) is any(t.startswith(p) for t in texts for p in prefixes)


def test_any_prefix_match_examples_from_opa_s_reference() -> None:
    assert any_prefix_match("registry.example.com/app:1", ["registry.example.com/", "ghcr.io/"])
    assert not any_prefix_match("docker.io/app", ["registry.example.com/"])
    assert any_prefix_match(["a/b", "c/d"], "c/")
    assert not any_prefix_match([], ["a"])


@pytest.mark.parametrize("search, base", [(1, "a"), (["a", 2], "a"), ("a", {"x": 1})])
def test_any_prefix_match_refuses_what_is_not_strings(search, base) -> None:
    with pytest.raises(TypeError, match="must be a string or an array or set of strings"):
        any_prefix_match(search, base)


def test_the_runner_knows_both_builtins_by_opa_s_names() -> None:
    assert {"sprintf", "strings.any_prefix_match"} <= set(HOST_BUILTINS)
