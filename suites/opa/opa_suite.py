"""The OPA suite's fixed material: the policies it compiles and the inputs it times.

A module of its own (not the conftest) so that test modules can import it by a name no other
suite uses.
"""

from __future__ import annotations

import copy
from pathlib import Path

from admission import EDGE_CASES, RULE_IDS

from pytest_perfdata.engines.opa import Policy

POLICY_DIR = Path(__file__).parent / "policies"
_ALL_FILES = tuple(sorted(POLICY_DIR.glob("*.rego")))

#: One policy per rule, plus the combined admission decision (which imports all five).
POLICIES: dict[str, Policy] = {
    **{rule: Policy(rule, (POLICY_DIR / f"{rule}.rego",), f"k8s/{rule}/deny") for rule in RULE_IDS},
    "admission": Policy("admission", _ALL_FILES, "k8s/admission"),
}


def large_review(containers: int = 32) -> dict:
    """A fixed large review: the compliant pod with ``containers`` containers, labels and env.

    Built deterministically (not drawn) so that its latency is comparable from run to run.
    """
    review = copy.deepcopy(EDGE_CASES["compliant"])
    pod = review["request"]["object"]
    template = pod["spec"]["containers"][0]
    pod["spec"]["containers"] = []
    for index in range(containers):
        container = copy.deepcopy(template)
        container["name"] = f"c{index}"
        container["env"] = [{"name": f"VAR_{i}", "value": f"value-{index}-{i}"} for i in range(24)]
        pod["spec"]["containers"].append(container)
    pod["metadata"]["labels"].update({f"example.com/label-{i}": f"v{i}" for i in range(40)})
    return review


INPUTS = {"small": EDGE_CASES["compliant"], "large": large_review()}
