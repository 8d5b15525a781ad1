"""Before anything is measured: can a case's claims all be true at once, given the facts?

Each rule (data, in ``claims/*.yaml``) is an expression over names. For one case a bare name
is the figure of the case's claim with that role, ``hardware.X`` is the fact ``X`` of the
hardware the case names, ``case.flags`` the flags it says it ran with, and any other dotted
name a fact, unless the case says it changed that fact (``assumes``: max-pods raised to 3000).
A rule whose names do not all resolve for a case does not apply to it. Evaluating is
:mod:`.expression`'s job; this module only binds names and reports what was used.
"""

from __future__ import annotations

from .expression import Amount, ExpressionError, Items, Value, evaluate, parse
from .files import Case, ClaimsError, Ledger
from .model import Finding, Rule

__all__ = ["check_consistency"]


class _Unbound(LookupError):
    """A name the case has no value for: the rule does not apply."""


def check_consistency(ledger: Ledger) -> list[Finding]:
    """Every rule against every case it applies to, in file order."""
    findings = []
    for case in ledger.cases.values():
        for rule in ledger.rules:
            finding = _apply(rule, case, ledger)
            if finding is not None:
                findings.append(finding)
    return findings


def _apply(rule: Rule, case: Case, ledger: Ledger) -> Finding | None:
    claims_used: list[str] = []
    facts_used: list[str] = []
    roles = {claim.role: claim for claim in ledger.claims if claim.case == case.id and claim.role}

    def resolve(name: str) -> Value:
        if "." not in name:
            claim = roles.get(name)
            if claim is None:
                raise _Unbound(name)
            claims_used.append(claim.id)
            return Amount.of(claim.figure)
        if name == "case.flags":
            if not case.flags:
                raise _Unbound(name)
            return Items(case.flags, f"{', '.join(case.flags)} (the case's flags)")
        if name.startswith("hardware."):
            if case.hardware is None:
                raise _Unbound(name)
            name = f"{case.hardware}.{name.split('.', 1)[1]}"
        if name in case.assumes:
            amount = Amount.of(case.assumes[name])
            return Amount(amount.magnitude, amount.dimension, f"{amount.text} (assumed by {case.id})")
        fact = ledger.facts.get(name)
        if fact is None:
            raise _Unbound(name)
        facts_used.append(fact.id)
        if fact.value is not None:
            return Amount.of(fact.value)
        return Items(fact.items, f"{fact.id} ({len(fact.items)} listed)")

    try:
        outcome = evaluate(parse(rule.check), resolve)
    except _Unbound:
        return None
    except ExpressionError as error:
        raise ClaimsError(rule.location, f"check: {error} (case {case.id})", rule.id) from None
    return Finding(rule, case.id, outcome.holds, outcome.arithmetic, tuple(dict.fromkeys(claims_used)),
                   tuple(dict.fromkeys(facts_used)))
