"""A claim's status, as a pure function of the claim, the evidence and the day.

* **verified**: the newest deciding record of the claim's metric, on a matching target and
  engine, has its whole interval on the claimed side of the figure;
* **refuted**: its whole interval is on the other side (the margin is in the reason);
* **pending**: nothing matching measured it, or every matching interval straddles the figure;
  the reason says which: no suite measures it, measured only on other targets or engines, ...;
* **expired**: the deciding record is older than the allowed age (180 days by default).

"Deciding" is a record whose interval does not straddle the figure; a newer record that
cannot tell does not undo an older one that could, and the reason mentions it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Final

from .._defaults import CLAIM_MAX_AGE_DAYS
from ..units import Quantity, UnitError, parse_unit
from .model import Claim, ClaimState, ClaimStatus, Evidence

__all__ = ["MAX_AGE_DAYS", "claim_state"]

#: Evidence older than this no longer verifies or refutes.
MAX_AGE_DAYS: Final = CLAIM_MAX_AGE_DAYS


def claim_state(claim: Claim, evidence: Iterable[Evidence], today: dt.date,
                max_age_days: int = MAX_AGE_DAYS) -> ClaimState:
    """What the evidence says about ``claim`` on ``today``."""
    if claim.metric is None:
        return ClaimState(claim, ClaimStatus.PENDING,
                          "no suite measures this" + (f": {claim.requires}" if claim.requires else ""))
    of_metric = sorted((e for e in evidence if e.metric == claim.metric), key=_age_order, reverse=True)
    matching = [e for e in of_metric if _mismatch(claim, e) is None]
    if not matching:
        return ClaimState(claim, ClaimStatus.PENDING, _why_nothing_matched(claim, of_metric), tuple(of_metric[:3]))
    for index, record in enumerate(matching):
        side = _side(claim, record)
        if side is None:
            continue
        later = (f"; {index} newer record(s) could not tell (newest {_interval(matching[0], claim)})"
                 if index else "")
        age = (today - record.collected).days
        if age > max_age_days:
            return ClaimState(claim, ClaimStatus.EXPIRED,
                              f"newest deciding evidence is {age} days old (allowed {max_age_days}): "
                              f"{_interval(record, claim)} on {record.collected}{later}", tuple(matching))
        if side:
            return ClaimState(claim, ClaimStatus.VERIFIED,
                              f"{_interval(record, claim)} {claim.comparison.value} {claim.figure}{later}",
                              tuple(matching))
        margin = _in_claim_unit(record.value, record, claim) / claim.figure.value - 1 if claim.figure.value else 0.0
        return ClaimState(claim, ClaimStatus.REFUTED,
                          f"{_interval(record, claim)} contradicts {claim.comparison.value} {claim.figure} "
                          f"(by {margin:+.1%}){later}", tuple(matching))
    return ClaimState(claim, ClaimStatus.PENDING,
                      f"the evidence cannot tell: newest {_interval(matching[0], claim)} straddles {claim.figure}",
                      tuple(matching))


def _age_order(record: Evidence) -> tuple[object, ...]:
    """A total order, newest last: by day, then run file (named by its start time), then the rest.

    Total, so that the status does not depend on the order the run files were read in.
    """
    return record.collected, record.run, record.test, record.value, record.low, record.high


def _mismatch(claim: Claim, record: Evidence) -> str | None:
    """Why ``record`` cannot speak for ``claim`` (None: it can)."""
    if claim.target is not None and record.target != claim.target:
        return f"target {record.target}"
    for key, wanted in claim.engine.items():
        got = record.engine.get(key, "")
        if not (got == wanted or (key == "version" and got.startswith(wanted + "."))):
            return f"{key} {got or 'unknown'}"
    if claim.statistic is not None and record.statistic != claim.statistic:
        return f"statistic {record.statistic}"
    try:
        parse_unit(record.unit).convert(1.0, claim.figure.unit)
    except UnitError:
        return f"unit {record.unit}"
    return None


def _why_nothing_matched(claim: Claim, of_metric: list[Evidence]) -> str:
    if not of_metric:
        return f"no run has measured {claim.metric} yet" + (f"; it needs {claim.requires}" if claim.requires else "")
    reasons = sorted({reason for e in of_metric if (reason := _mismatch(claim, e)) is not None})
    wanted = ", ".join(f"{k} {v}" for k, v in claim.engine.items())
    claimed_for = ", ".join(part for part in (f"target {claim.target}" if claim.target else "", wanted,
                                              f"statistic {claim.statistic}" if claim.statistic else "") if part)
    return f"measured only with {'; '.join(reasons)}, claimed for {claimed_for}"


def _in_claim_unit(value: float, record: Evidence, claim: Claim) -> float:
    return Quantity(value, parse_unit(record.unit)).to(claim.figure.unit)


def _side(claim: Claim, record: Evidence) -> bool | None:
    """True: the whole interval meets the claim; False: the whole interval contradicts it; None: straddles."""
    low, high = (_in_claim_unit(v, record, claim) for v in (record.low, record.high))
    holds = claim.comparison.holds
    if holds(low, claim.figure.value) and holds(high, claim.figure.value):
        return True
    if not holds(low, claim.figure.value) and not holds(high, claim.figure.value):
        return False
    return None


def _interval(record: Evidence, claim: Claim) -> str:
    unit = claim.figure.unit
    value = Quantity(_in_claim_unit(record.value, record, claim), unit)
    if record.low == record.high:
        return f"{record.statistic if record.low != record.value else 'measured'} {value}"
    low, high = (str(Quantity(_in_claim_unit(v, record, claim), unit)) if math.isfinite(v) else "unbounded"
                 for v in (record.low, record.high))
    return f"{record.statistic} {value} (interval {low} .. {high})"
