"""Read ``claims/*.yaml``: claims, cases, facts and rules, every error naming file, line and id.

One file may hold any of four sections::

    case:                     # the claims of this file were made together (optional)
      id: edge-box
      says: ARM64 edge box, 3,000 Wasm pods on one K3s node
      target: arm64           # inherited by the file's claims unless they say otherwise
      hardware: raspberry_pi_4b
      flags: [--wasm]         # flags the case says it ran with (checked against facts)
      source: {kind: community-case, reference: "...", quote: "..."}
      collected: 2026-11-20
    claims:
      edge-box.pods-per-node:
        says: 3,000 Wasm pods on one node
        claim: ">= 3000 pods"
        role: pods_per_node   # its name in the rules
        metric: k3s.density.pods.wasmedge
    facts:
      raspberry_pi_4b.memory: {value: 8 GiB, source: {kind: official-docs, reference: "..."}}
    rules:
      memory-fits: {says: "...", check: "pods_per_node * memory_per_pod <= hardware.memory"}

Ids are unique across all files. The files are parsed with the safe YAML loader at node level.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, final

import yaml

from .._shown import bounded, shown
from ..baseline import BaselineError, compose, yaml_loader
from ..stats import STATISTICS
from ..units import Quantity, UnitError, parse_quantity
from .expression import ExpressionError, names_in, parse
from .model import CLAIM_SOURCE_KINDS, Claim, ClaimSource, Comparison, Fact, Location, Rule, engine_terms

__all__ = ["Case", "ClaimsError", "Ledger", "load_ledger"]

CLAIM_KEYS: Final = ("says", "claim", "metric", "statistic", "role", "target", "hardware", "engine", "requires",
                     "source", "collected", "note")
CASE_KEYS: Final = ("id", "says", "target", "hardware", "engine", "flags", "assumes", "source", "collected", "note")
FACT_KEYS: Final = ("value", "items", "source", "note")
RULE_KEYS: Final = ("says", "check")
SECTIONS: Final = ("case", "claims", "facts", "rules")
ENGINE_KEYS: Final = ("name", "version", "mode", "build")

_FACT_ID: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_ROLE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CLAIM: Final = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*(.+)$")
_SPELLINGS: Final = {"≤": "<=", "≥": ">="}


class ClaimsError(ValueError):
    """A problem in a claims file, located as ``file:line: id: what is wrong``."""

    def __init__(self, location: Location, message: str, entry: str | None = None):
        self.location, self.detail, self.entry = location, message, entry
        super().__init__(bounded(f"{location}: {bounded(entry, 200) + ': ' if entry else ''}{message}"))


@final
@dataclass(frozen=True, slots=True)
class Case:
    """Claims made together (one document, one deployment): they must all hold at once."""

    id: str
    location: Location
    says: str = ""
    target: str | None = None
    hardware: str | None = None
    flags: tuple[str, ...] = ()
    assumes: dict[str, Quantity] = field(default_factory=dict)  # facts the case says it changed
    source: ClaimSource | None = None
    collected: dt.date | None = None


@final
@dataclass(frozen=True, slots=True)
class Ledger:
    """Everything read from the claims folder."""

    claims: tuple[Claim, ...] = ()
    cases: dict[str, Case] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    files: tuple[Path, ...] = ()


class _Node:
    """One mapping node's fields, each construed on demand with its line for errors."""

    def __init__(self, node: yaml.Node, path: Path, entry: str | None, allowed: tuple[str, ...], what: str):
        self.path, self.entry = path, entry
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping ({', '.join(allowed)})")
        self.node = node
        self.fields: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if name not in allowed:
                raise self.error(key, f"unknown key {shown(name)} (allowed: {', '.join(allowed)})")
            if name in self.fields:
                raise self.error(key, f"key {shown(name)} given twice")
            self.fields[name] = value

    def location(self, node: yaml.Node | None = None) -> Location:
        return Location(self.path, int((node or self.node).start_mark.line) + 1)

    def error(self, node: yaml.Node, message: str) -> ClaimsError:
        return ClaimsError(self.location(node), message, self.entry)

    def value(self, key: str) -> Any:
        node = self.fields.get(key)
        if node is None:
            return None
        try:
            return _LOADER.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError) as error:
            raise self.error(node, f"{key}: {getattr(error, 'problem', None) or error}") from None

    def text(self, key: str, required: bool = False) -> str | None:
        raw = self.value(key)
        if raw is None:
            if required:
                raise self.error(self.node, f"{key} is missing")
            return None
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            raise self.error(self.fields[key], f"{key}: expected text, got {shown(raw)}")
        return str(raw)

    def strings(self, key: str) -> tuple[str, ...]:
        raw = self.value(key)
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise self.error(self.fields[key], f"{key}: expected a list of text, got {shown(raw)}")
        return tuple(raw)

    def quantity(self, key: str, raw: Any = None, node: yaml.Node | None = None) -> Quantity:
        raw = self.value(key) if raw is None else raw
        try:
            return parse_quantity(raw)
        except UnitError as error:
            raise self.error(node or self.fields[key], f"{key}: {error}") from None

    def date(self, key: str) -> dt.date | None:
        raw = self.value(key)
        if raw is None:
            return None
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        raise self.error(self.fields[key], f"{key}: expected a date such as 2026-11-20, got {shown(raw)}")

    def source(self) -> ClaimSource | None:
        raw = self.value("source")
        if raw is None:
            return None
        kinds = ", ".join(CLAIM_SOURCE_KINDS)
        if not isinstance(raw, dict) or not set(raw) <= {"kind", "reference", "quote"}:
            raise self.error(self.fields["source"], f"source: expected {{kind: KIND, reference: TEXT, quote: TEXT}}, "
                                                    f"KIND one of {kinds}")
        if raw.get("kind") not in CLAIM_SOURCE_KINDS:
            raise self.error(self.fields["source"], f"source: unknown kind {shown(raw.get('kind'))} (known: {kinds})")
        if not str(raw.get("reference") or "").strip():
            raise self.error(self.fields["source"], "source: a reference a reader can follow (a URL, a repo and path) is missing")
        return ClaimSource(str(raw["kind"]), str(raw["reference"]).strip(), str(raw.get("quote") or "").strip())

    def engine(self) -> dict[str, str]:
        raw = self.value("engine")
        if raw is None:
            return {}
        build = raw.get("build", {}) if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or not set(raw) <= set(ENGINE_KEYS) or not isinstance(build, dict):
            raise self.error(self.fields["engine"], f"engine: expected a mapping of {', '.join(ENGINE_KEYS)} "
                                                    f"(build: a mapping of facts such as aot-compiler), got {shown(raw)}")
        return engine_terms(raw)


_LOADER: Final = yaml_loader()("")


def load_ledger(folder: Path, known_metrics: frozenset[str] | None = None,
                known_targets: tuple[str, ...] | None = None) -> Ledger:
    """Read every ``*.yaml`` in ``folder`` (none: an empty ledger), validating as it goes.

    ``known_metrics`` and ``known_targets``, when given, are what a claim's ``metric`` and
    ``target`` must be one of (the metrics the baselines and past runs know, the baseline files).
    """
    claims: list[Claim] = []
    cases: dict[str, Case] = {}
    facts: dict[str, Fact] = {}
    rules: list[Rule] = []
    seen: dict[str, Location] = {}
    files = tuple(sorted(folder.glob("*.yaml"))) if folder.is_dir() else ()
    for path in files:
        _read_file(path, claims, cases, facts, rules, seen)
    ledger = Ledger(tuple(claims), cases, facts, tuple(rules), files)
    _check_references(ledger, known_metrics, known_targets)
    return ledger


def _read_file(path: Path, claims: list[Claim], cases: dict[str, Case], facts: dict[str, Fact],
               rules: list[Rule], seen: dict[str, Location]) -> None:
    try:
        text = path.read_text(encoding="utf-8")
        root = compose(text, path)
    except BaselineError as error:
        raise ClaimsError(Location(path, error.line or 1), error.detail) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ClaimsError(Location(path, 1), f"cannot be read: {error}") from None
    if root is None:
        return
    top = _Node(root, path, None, SECTIONS, "a claims file")
    case = _case(top, path) if "case" in top.fields else None
    if case is not None:
        _unique(case.id, case.location, seen, "case")
        cases[case.id] = case
    for key, node in _section(top, "claims"):
        claim = _claim(str(key.value), node, path, case)
        _unique(claim.id, claim.location, seen, "claim")
        claims.append(claim)
    for key, node in _section(top, "facts"):
        fact = _fact(str(key.value), node, path)
        _unique(fact.id, fact.location, seen, "fact")
        facts[fact.id] = fact
    for key, node in _section(top, "rules"):
        rule = _rule(str(key.value), node, path)
        _unique(rule.id, rule.location, seen, "rule")
        rules.append(rule)


def _unique(name: str, location: Location, seen: dict[str, Location], what: str) -> None:
    if name in seen:
        raise ClaimsError(location, f"{what} id given twice (first at {seen[name]})", name)
    seen[name] = location


def _section(top: _Node, name: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    node = top.fields.get(name)
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        raise top.error(node, f"{name}: expected a mapping of ids to entries")
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or not str(key.value).strip():
            raise top.error(key, f"{name}: an id must be non-empty text")
    return list(node.value)


def _case(top: _Node, path: Path) -> Case:
    node = _Node(top.fields["case"], path, None, CASE_KEYS, "case")
    case_id = node.text("id", required=True)
    assert case_id is not None
    node.entry = case_id
    assumes: dict[str, Quantity] = {}
    raw = node.value("assumes")
    if raw is not None:
        if not isinstance(raw, dict):
            raise node.error(node.fields["assumes"], "assumes: expected a mapping of fact ids to values")
        for name, value in raw.items():
            if not _FACT_ID.match(str(name)):
                raise node.error(node.fields["assumes"], f"assumes: {shown(name)} is not a fact id such as kubelet.max_pods")
            assumes[str(name)] = node.quantity("assumes", value, node.fields["assumes"])
    return Case(
        id=case_id, location=node.location(), says=node.text("says") or "", target=node.text("target"),
        hardware=node.text("hardware"), flags=node.strings("flags"), assumes=assumes, source=node.source(),
        collected=node.date("collected"),
    )


def _claim(claim_id: str, raw: yaml.Node, path: Path, case: Case | None) -> Claim:
    node = _Node(raw, path, claim_id, CLAIM_KEYS, "a claim")
    text = node.text("claim", required=True)
    assert text is not None
    match = _CLAIM.match(text)
    if match is None:
        raise node.error(node.fields["claim"], f"claim: expected a comparison and a figure such as '<= 6 ms' or "
                                               f"'>= 3000 pods', got {shown(text)} (comparisons: <=, <, >=, >)")
    comparison = Comparison(_SPELLINGS.get(match[1], match[1]))
    figure = node.quantity("claim", match[2])
    source = node.source() or (case.source if case else None)
    if source is None:
        raise node.error(node.node, "source is missing (here or in the file's case): who published this figure?")
    collected = node.date("collected") or (case.collected if case else None)
    if collected is None:
        raise node.error(node.node, "collected is missing (here or in the file's case): when was it collected?")
    statistic = node.text("statistic")
    if statistic is not None and statistic not in STATISTICS:
        raise node.error(node.fields["statistic"], f"statistic: unknown {shown(statistic)} (known: {', '.join(STATISTICS)})")
    role = node.text("role")
    if role is not None and not _ROLE.match(role):
        raise node.error(node.fields["role"], f"role: {shown(role)} is not a name a rule can use (letters, digits, _)")
    return Claim(
        id=claim_id, location=node.location(), comparison=comparison, figure=figure, source=source,
        collected=collected, says=node.text("says") or "", metric=node.text("metric"), statistic=statistic,
        case=case.id if case else None, role=role,
        target=node.text("target") or (case.target if case else None),
        hardware=node.text("hardware") or (case.hardware if case else None),
        engine=node.engine(), requires=node.text("requires") or "", note=node.text("note") or "",
    )


def _fact(fact_id: str, raw: yaml.Node, path: Path) -> Fact:
    node = _Node(raw, path, fact_id, FACT_KEYS, "a fact")
    if not _FACT_ID.match(fact_id):
        raise node.error(node.node, "a fact id is dotted names a rule can use, such as raspberry_pi_4b.memory")
    source = node.source()
    if source is None:
        raise node.error(node.node, "source is missing: a fact without a source cannot be checked")
    has_value, has_items = "value" in node.fields, "items" in node.fields
    if has_value == has_items:
        raise node.error(node.node, "a fact has either a value (8 GiB) or items (a list), not both or neither")
    value = node.quantity("value") if has_value else None
    return Fact(id=fact_id, location=node.location(), source=source, value=value, items=node.strings("items"),
                note=node.text("note") or "")


def _rule(rule_id: str, raw: yaml.Node, path: Path) -> Rule:
    node = _Node(raw, path, rule_id, RULE_KEYS, "a rule")
    check = node.text("check", required=True)
    assert check is not None
    try:
        parse(check)
    except ExpressionError as error:
        raise node.error(node.fields["check"], f"check: {error}") from None
    return Rule(id=rule_id, location=node.location(), says=node.text("says") or "", check=check)


def _check_references(ledger: Ledger, known_metrics: frozenset[str] | None,
                      known_targets: tuple[str, ...] | None) -> None:
    """Names that point nowhere are errors: an unknown metric, target or hardware, a rule's typo."""
    hardware = {fact_id.split(".")[0] for fact_id in ledger.facts}
    for claim in ledger.claims:
        if known_metrics is not None and claim.metric is not None and claim.metric not in known_metrics:
            close = sorted(m for m in known_metrics if m.split(".")[0] == claim.metric.split(".")[0])[:8]
            raise ClaimsError(claim.location, f"metric {claim.metric!r} is measured by no suite and stored in no "
                                              f"baseline (known like it: {', '.join(close) or 'none'})", claim.id)
        if known_targets is not None and claim.target is not None and claim.target not in known_targets:
            raise ClaimsError(claim.location, f"unknown target {claim.target!r} (known: {', '.join(known_targets)})",
                              claim.id)
        if claim.hardware is not None and claim.hardware not in hardware:
            raise ClaimsError(claim.location, f"unknown hardware {claim.hardware!r}: no fact starts with it "
                                              f"(known: {', '.join(sorted(hardware))})", claim.id)
    for rule in ledger.rules:
        for name in names_in(parse(rule.check)):
            root = name.split(".")[0]
            if "." in name and root not in ("hardware", "case") and name not in ledger.facts:
                raise ClaimsError(rule.location, f"check: {shown(name)} is no fact (known: {', '.join(sorted(ledger.facts))})",
                                  rule.id)
