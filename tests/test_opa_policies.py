"""The OPA suite's policy library, evaluated by rego-cpp (regopy) against the Python oracle.

The suite measures how fast engines decide; these tests make sure the decisions are right first:
every policy parses, every hand-written edge case and generated AdmissionReview gets the
oracle's verdict, and every deny message carries its rule-ID prefix.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

regopy = pytest.importorskip("regopy", reason="rego-cpp's Python binding: pip install regopy")

OPA_SUITE = Path(__file__).resolve().parents[1] / "suites" / "opa"
POLICIES = OPA_SUITE / "policies"


def _load_admission() -> ModuleType:
    """``suites/opa/admission.py``, imported from its path: ``suites/`` is not a package, and the
    suite's own tests import it as ``admission`` from their directory."""
    spec = importlib.util.spec_from_file_location("opa_admission", OPA_SUITE / "admission.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


admission = _load_admission()


def evaluate(interpreter: Any, review: dict[str, Any], query: str) -> Any:
    """The value of ``query`` for ``review``, or a test failure that shows rego-cpp's error.

    rego-cpp reports some errors (an unknown function, say) as an output that is "ok" but not
    JSON, on which regopy's ``Output`` raises ``JSONDecodeError``; both kinds end up here.
    """
    interpreter.set_input_term(json.dumps(review))
    try:
        output = interpreter.query(query)
    except json.JSONDecodeError as exc:
        pytest.fail(f"rego-cpp returned an error instead of a value for {query}: {exc.doc}")
    if not output.ok():
        pytest.fail(f"rego-cpp could not evaluate {query}: {output}")
    assert len(output) == 1 and output[0].expressions, f"{query} is undefined: {output}"
    return output[0].expressions[0]


def interpreter_with(*rules: str) -> Any:
    """An interpreter with the given policies loaded (and the combined one, if ``"admission"``)."""
    interpreter = regopy.Interpreter()
    for rule in rules:
        path = POLICIES / f"{rule}.rego"
        interpreter.add_module(path.name, path.read_text())
    return interpreter


@pytest.fixture(scope="module")
def combined() -> Any:
    """The whole library in one interpreter, as an admission webhook would load it."""
    return interpreter_with(*admission.RULE_IDS, "admission")


@pytest.mark.parametrize("rule", ["admission", *admission.RULE_IDS])
def test_policy_parses_and_is_rego_v1(rule: str) -> None:
    """Each file compiles on its own (the combined one with the five it reads) and is Rego v1."""
    source = (POLICIES / f"{rule}.rego").read_text()
    assert "import rego.v1" in source
    assert f"package k8s.{rule}\n" in source
    needed = (*admission.RULE_IDS, "admission") if rule == "admission" else (rule,)
    deny = evaluate(
        interpreter_with(*needed), admission.EDGE_CASES["compliant"], f"data.k8s.{rule}.deny"
    )
    assert deny == []


def test_a_syntax_error_is_reported() -> None:
    """So that "it parses" above means something: regopy raises on a broken module."""
    with pytest.raises(regopy.RegoError, match="Invalid assignment"):
        regopy.Interpreter().add_module("broken.rego", "package x\nimport rego.v1\np if { x := }\n")


def test_edge_cases_are_valid_admission_reviews() -> None:
    """Every edge case has an expected decision, and is what a webhook would receive."""
    assert admission.EDGE_CASES.keys() == admission.EDGE_CASE_DENIALS.keys()
    for review in admission.EDGE_CASES.values():
        assert review["apiVersion"] == "admission.k8s.io/v1"
        assert review["kind"] == "AdmissionReview"
        assert review["request"]["operation"] == "CREATE"
        assert review["request"]["object"]["kind"] == "Pod"


@pytest.mark.parametrize("name", sorted(admission.EDGE_CASES))
def test_oracle_on_edge_case(name: str) -> None:
    """The oracle agrees with the hand-written expectation, so it can be trusted on the rest."""
    assert (
        admission.expected_denials(admission.EDGE_CASES[name]) == admission.EDGE_CASE_DENIALS[name]
    )


@pytest.mark.parametrize("name", sorted(admission.EDGE_CASES))
def test_combined_policy_on_edge_case(combined: Any, name: str) -> None:
    review = admission.EDGE_CASES[name]
    expected = admission.EDGE_CASE_DENIALS[name]
    decision = evaluate(combined, review, "data.k8s.admission")
    assert admission.fired_rules(decision["deny"]) == expected
    assert decision["allowed"] is (not expected)


@pytest.mark.parametrize("rule", admission.RULE_IDS)
def test_each_policy_alone_on_edge_cases(rule: str) -> None:
    """Loaded alone, a policy fires exactly on the edge cases that break its rule, and only with
    messages of its own prefix: the per-policy benchmarks then measure the right thing."""
    interpreter = interpreter_with(rule)
    for name, review in admission.EDGE_CASES.items():
        messages = evaluate(interpreter, review, f"data.k8s.{rule}.deny")
        assert all(m.startswith(f"{rule}: ") for m in messages), (name, messages)
        assert bool(messages) is (rule in admission.EDGE_CASE_DENIALS[name]), (name, messages)


def test_messages_name_the_offender(combined: Any) -> None:
    """Messages are for people: they say which container, label or volume is at fault."""
    deny = evaluate(combined, admission.EDGE_CASES["everything-wrong"], "data.k8s.admission.deny")
    assert sorted(deny) == [
        "hostpath: volume 'root' mounts host path '/'",
        "labels: pod is missing required label 'app'",
        "labels: pod is missing required label 'team'",
        "limits: container 'bad' has no cpu limit",
        "limits: container 'bad' has no memory limit",
        "privileged: container 'bad' runs privileged",
        "registry: container 'bad' uses image 'quay.io/x/y' from a registry not on the allowlist",
    ]


def test_fired_rules_rejects_unknown_prefixes() -> None:
    assert admission.fired_rules(["limits: x", "limits: y", "labels: z"]) == {"limits", "labels"}
    for message in ["privileged container 'x'", "hostPath: volume 'v'", "other: x"]:
        with pytest.raises(ValueError, match="rule-ID prefix"):
            admission.fired_rules([message])


@pytest.mark.parametrize("size", ["small", "large"])
def test_combined_policy_agrees_with_oracle(combined: Any, size: str) -> None:
    """On generated reviews, rego-cpp's combined decision is the oracle's, rule by rule."""

    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(review=admission.admission_reviews(size))
    def check(review: dict[str, Any]) -> None:
        decision = evaluate(combined, review, "data.k8s.admission")
        expected = admission.expected_denials(review)
        assert admission.fired_rules(decision["deny"]) == expected
        assert decision["allowed"] is (not expected)

    check()
