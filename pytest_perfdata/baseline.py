"""Baseline files (``baselines/<target>.yaml``): load and validate, with file and line in every error.

A file maps metric names to entries::

    wasm.cold_start:            # the claim "cold start <= 6 ms"
      statistic: p50
      max: 6 ms                 # absolute limit (hand-written, kept by --perf-save)
      regression: 10%           # relative limit against ``value`` ("off": absolute limits only)
      value: 4.123 ms           # written by --perf-save
      interval: [4.101 ms, 4.150 ms]
      reference: 67.5 us        # drift-reference kernel at save time
      drift_sensitivity: 0.8..1.2  # how this workload follows the reference (default 0..1: unknown)
      source: {kind: official-docs, reference: "https://..."}
      status: pending
      collected: 2025-11-07
      machine: 'x86_64, ... [GenuineIntel 6/207], 2 cores, Linux 6.18, Python 3.11'
      others:                   # values of other machine classes, one line each (--perf-save)
        - {machine: 'x86_64, ... [AuthenticAMD 25/1], ...', value: 3.9 ms, interval: [...], collected: ...}

The value, interval, reference, samples, collected and machine at the top belong to one
machine class; ``others`` holds the same fields for each further class that saved this metric,
so that one target's file can serve several classes of runner, each judged against its own.

Files are parsed with PyYAML's safe loader only (the C one when available), at node level so
that each problem can name its line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, final

import yaml

from .environment import machine_class
from .record import CPU_REFERENCE_KIND, Better, DataSource, SourceKind, VerificationStatus
from .stats import STATISTICS
from .targets import baseline_path, known_targets
from .option_types import drift_sensitivity, regression_limit
from ._shown import bounded, shown
from .units import Quantity, UnitError, parse_quantity

__all__ = [
    "ALLOWED_KEYS",
    "CLASS_KEYS",
    "Baseline",
    "BaselineError",
    "ClassValue",
    "BaselineFile",
    "baseline_path",
    "baselines_from_root",
    "known_targets",
    "load_baseline_file",
    "parse_baseline_text",
    "yaml_loader",
]

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ALLOWED_KEYS: Final = (
    "statistic",
    "better",
    "value",
    "interval",
    "max",
    "min",
    "regression",
    "reference",
    "reference_kind",
    "drift_sensitivity",
    "samples",
    "source",
    "status",
    "collected",
    "machine",
    "others",
    "note",
)

#: The fields of one machine class's stored value, at the top of an entry or in ``others``.
CLASS_KEYS: Final = ("machine", "value", "interval", "reference", "reference_kind", "samples", "collected")


_STATUSES: Final = tuple(status.value for status in VerificationStatus)
_STATISTIC_NAMES: Final = tuple(STATISTICS)


def yaml_loader() -> type[yaml.SafeLoader]:
    """The safe loader in use (C-accelerated when PyYAML was built with libyaml)."""
    return _SafeLoader


class BaselineError(ValueError):
    """A problem in a baseline file, located as ``file:line: metric.key: what is wrong``."""

    def __init__(self, path: Path | str, line: int | None, message: str, entry: str | None = None):
        self.path = Path(path)
        self.line = line
        self.entry = entry
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        entry_text = bounded(entry, 200) + ": " if entry else ""
        super().__init__(bounded(f"{where}: {entry_text}{message}"))


@final
@dataclass(frozen=True, slots=True)
class ClassValue:
    """One machine class's stored value of a metric (an item of ``others``)."""

    machine: str
    value: Quantity
    interval: tuple[Quantity, Quantity] | None = None
    reference_us: float | None = None
    reference_kind: str = CPU_REFERENCE_KIND
    samples: int | None = None
    collected: dt.date | None = None
    line: int = 0


@final
@dataclass(frozen=True, slots=True)
class Baseline:
    """The stored expectation for one metric on one target."""

    metric: str
    path: Path
    line: int
    statistic: str | None = None
    better: Better | None = None
    value: Quantity | None = None
    interval: tuple[Quantity, Quantity] | None = None
    max: Quantity | None = None
    min: Quantity | None = None
    regression: float | None = None  # allowed relative worsening, 0.1 for "10%"
    regression_off: bool = False  # "regression: off": a figure too unsteady to compare, judged by max/min only
    reference_us: float | None = None
    reference_kind: str = CPU_REFERENCE_KIND  # which drift reference ``reference_us`` timed
    #: How strongly the metric follows the drift reference, a range of sensitivities (0: not at
    #: all, 1: as much as the reference); None: unknown, the verdict assumes anything from 0 to 1.
    drift_sensitivity: tuple[float, float] | None = None
    samples: int | None = None
    source: DataSource | None = None
    status: VerificationStatus = VerificationStatus.PENDING
    collected: dt.date | None = None
    machine: str | None = None
    note: str | None = None
    others: tuple[ClassValue, ...] = ()

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def machine_classes(self) -> tuple[str, ...]:
        """Every machine class this entry holds a stored value for, the top one first."""
        top = (self.machine,) if self.machine and self.value is not None else ()
        return top + tuple(other.machine for other in self.others)

    def for_class(self, label: str) -> Baseline | None:
        """This entry with the stored value of ``label``'s machine class on top; None if it has none.

        Stored labels are reduced to their class first (those written before classes existed
        carry more detail); the top value is returned as it is when it matches.
        """
        wanted = machine_class(label)
        if self.machine and machine_class(self.machine) == wanted:
            return self
        for other in self.others:
            if machine_class(other.machine) == wanted:
                return replace(
                    self, machine=other.machine, value=other.value, interval=other.interval,
                    reference_us=other.reference_us, reference_kind=other.reference_kind,
                    samples=other.samples, collected=other.collected, line=other.line or self.line,
                )
        return None

    def age_days(self, today: dt.date) -> int | None:
        return (today - self.collected).days if self.collected else None


@final
@dataclass(frozen=True, slots=True)
class BaselineFile:
    """All baselines of one target, as read from its file (empty when the file does not exist)."""

    target: str
    path: Path
    entries: dict[str, Baseline]

    def get(self, metric: str) -> Baseline | None:
        return self.entries.get(metric)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


_STR_TAG: Final = "tag:yaml.org,2002:str"


def _scalar(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
        return node.value  # the common case, without the constructor's bookkeeping
    return loader.construct_object(node, deep=True)


def iter_entries(root: yaml.Node, path: Path) -> Iterator[tuple[yaml.ScalarNode, yaml.Node]]:
    """Top-level (metric key node, entry node) pairs; refuses non-mappings and duplicate metrics."""
    if not isinstance(root, yaml.MappingNode):
        raise BaselineError(path, _line(root), "the file must be a mapping of metric names to entries")
    seen: dict[str, int] = {}
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode) or not str(key.value).strip():
            raise BaselineError(path, _line(key), "a metric name must be a non-empty string")
        name = str(key.value)
        if name in seen:
            raise BaselineError(path, _line(key), f"duplicate metric (first defined on line {seen[name]})", name)
        seen[name] = _line(key)
        yield key, value


#: How deep a file's mappings and lists may nest. Ours need three; Python's own recursion
#: (constructing, comparing, quoting a value) would break somewhere past a few hundred.
MAX_DEPTH: Final = 32


def _refuse_aliases_and_depth(text: str, path: Path) -> None:
    """Walk the parser's events (flat, no recursion) before anything is composed.

    An alias makes one node appear in many places: harmless to the composer, which shares
    it, but every later step that walks the value (constructing, comparing, quoting it in an
    error) expands it, and nine-fold aliases six deep are half a million items from a few
    hundred bytes. Nothing in a baseline or claims file needs one, so it is refused where it
    is used; an anchor alone changes nothing and is allowed.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise BaselineError(path, event.start_mark.line + 1,
                                f"YAML alias *{bounded(event.anchor, 60)} is not allowed here: write the value out")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise BaselineError(path, event.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def compose(text: str, path: Path) -> yaml.Node | None:
    """Parse ``text`` to a node tree with the safe loader; syntax errors become BaselineErrors.

    Aliases and nesting deeper than :data:`MAX_DEPTH` are refused first, with their line.
    """
    # The node tree holds no reference cycles; pausing the cyclic collector keeps a large
    # file's parse linear instead of paying ever longer collections as the tree grows.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _refuse_aliases_and_depth(text, path)
        return yaml.compose(text, Loader=_SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise BaselineError(path, line, f"not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise BaselineError(path, None, f"not valid YAML: {error}") from None
    finally:
        if collecting:
            gc.enable()


def load_baseline_file(path: Path, target: str) -> BaselineFile:
    """Read and validate one target's file; a missing file is an empty set of baselines."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return BaselineFile(target, path, {})
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(path, None, f"cannot be read: {error}") from None
    return parse_baseline_text(text, path, target)


def parse_baseline_text(text: str, path: Path, target: str) -> BaselineFile:
    """Validate a baseline file's text; ``path`` only names it in errors."""
    return baselines_from_root(compose(text, path), path, target)


def baselines_from_root(root: yaml.Node | None, path: Path, target: str) -> BaselineFile:
    """Validate an already composed baseline file."""
    if root is None:
        return BaselineFile(target, path, {})
    loader = _SafeLoader("")
    entries: dict[str, Baseline] = {}
    for key, node in iter_entries(root, path):
        entries[str(key.value)] = _parse_entry(loader, str(key.value), node, path, _line(key))
    return BaselineFile(target, path, entries)


class _EntryReader:
    """Turns one entry's node into a :class:`Baseline`, naming the line of each bad field."""

    def __init__(self, loader: yaml.SafeLoader, metric: str, node: yaml.MappingNode, path: Path,
                 allowed: tuple[str, ...] = ALLOWED_KEYS):
        self.loader, self.metric, self.path = loader, metric, path
        self.nodes: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if name not in allowed:
                raise self.error(key, f"unknown key {shown(name)} (allowed: {', '.join(allowed)})")
            if name in self.nodes:
                raise self.error(key, f"key {shown(name)} given twice")
            self.nodes[name] = value

    def error(self, node: yaml.Node, message: str) -> BaselineError:
        return BaselineError(self.path, _line(node), message, self.metric)

    def construct(self, key: str, node: yaml.Node) -> Any:
        """The node's Python value; a tag the safe loader refuses or a bad date is a located error."""
        try:
            return _scalar(self.loader, node)
        except yaml.YAMLError as error:
            raise self.error(node, f"{key}: {getattr(error, 'problem', None) or error}") from None
        except (ValueError, TypeError) as error:  # e.g. the timestamp 2025-13-45: "month must be in 1..12"
            raise self.error(node, f"{key}: {error}") from None

    def raw(self, key: str) -> Any:
        node = self.nodes.get(key)
        return None if node is None else self.construct(key, node)

    def quantity(self, key: str, value: Any = None, node: yaml.Node | None = None) -> Quantity | None:
        node = node or self.nodes.get(key)
        if node is None:
            return None
        raw = self.construct(key, node) if value is None else value
        try:
            quantity = parse_quantity(raw)
        except UnitError as error:
            raise self.error(node, f"{key}: {error}") from None
        if quantity.value < 0:
            raise self.error(node, f"{key}: must not be negative, got {shown(raw)}")
        return quantity

    def choice(self, key: str, allowed: tuple[str, ...]) -> str | None:
        raw = self.raw(key)
        if raw is None:
            return None
        if raw not in allowed:
            raise self.error(self.nodes[key], f"{key}: {shown(raw)} is not one of {', '.join(allowed)}")
        return str(raw)


def _parse_entry(loader: yaml.SafeLoader, metric: str, node: yaml.Node, path: Path, line: int) -> Baseline:
    if not isinstance(node, yaml.MappingNode):
        raise BaselineError(path, _line(node), "an entry must be a mapping (statistic, max, regression, ...)", metric)
    reader = _EntryReader(loader, metric, node, path)
    nodes = reader.nodes

    interval = _interval(reader)
    value, maximum, minimum = reader.quantity("value"), reader.quantity("max"), reader.quantity("min")
    present = [(k, q) for k, q in (("value", value), ("max", maximum), ("min", minimum)) if q is not None]
    present += [("interval", q) for q in interval or ()]
    for key, quantity in present[1:]:
        if quantity.unit.dimension != present[0][1].unit.dimension:
            raise reader.error(
                nodes[key],
                f"{key}: unit {quantity.unit.symbol!r} ({quantity.unit.dimension}) does not match "
                f"{present[0][0]} {present[0][1]} ({present[0][1].unit.dimension})",
            )
    if maximum is not None and minimum is not None and minimum.to(maximum.unit) > maximum.value:
        raise reader.error(nodes["min"], f"min {minimum} is above max {maximum}")

    regression = None
    regression_node = nodes.get("regression")
    regression_off = False
    if regression_node is not None:
        text = regression_node.value if isinstance(regression_node, yaml.ScalarNode) else None
        try:
            if not isinstance(text, str):
                raise argparse.ArgumentTypeError(f"expected a positive percentage such as '10%', or off; got {shown(text)}")
            regression = regression_limit(text)
        except argparse.ArgumentTypeError as error:
            raise reader.error(regression_node, f"regression: {error}") from None
        regression_off = regression is None

    reference_us, samples, collected = _reference_us(reader), _samples(reader), _collected(reader)
    status = reader.choice("status", _STATUSES)
    statistic = reader.choice("statistic", _STATISTIC_NAMES)
    better_text = reader.choice("better", tuple(member.value for member in Better))
    better = Better(better_text) if better_text else None
    return Baseline(
        metric=metric,
        path=path,
        line=line,
        statistic="p50" if statistic == "median" else statistic,
        better=better,
        value=value,
        interval=interval,
        max=maximum,
        min=minimum,
        regression=regression,
        regression_off=regression_off,
        reference_us=reference_us,
        reference_kind=_optional_text(reader, "reference_kind") or CPU_REFERENCE_KIND,
        drift_sensitivity=_drift_sensitivity(reader),
        samples=samples,
        source=_parse_source(reader),
        status=VerificationStatus(status) if status else VerificationStatus.PENDING,
        collected=collected,
        machine=_optional_text(reader, "machine"),
        note=_optional_text(reader, "note"),
        others=_others(reader, value or maximum or minimum),
    )


def _interval(reader: _EntryReader) -> tuple[Quantity, Quantity] | None:
    node = reader.nodes.get("interval")
    if node is None:
        return None
    if not isinstance(node, yaml.SequenceNode) or len(node.value) != 2:
        raise reader.error(node, "interval: expected [low, high], e.g. [4.1 ms, 4.2 ms]")
    low = reader.quantity("interval", node=node.value[0])
    high = reader.quantity("interval", node=node.value[1])
    assert low is not None and high is not None
    return low, high


def _reference_us(reader: _EntryReader) -> float | None:
    if "reference" not in reader.nodes:
        return None
    reference = reader.quantity("reference")
    assert reference is not None
    if reference.unit.dimension != "time" or reference.value <= 0:
        raise reader.error(reader.nodes["reference"], "reference: expected a positive time such as '67.5 us'")
    return reference.value * reference.unit.scale * 1e6


def _drift_sensitivity(reader: _EntryReader) -> tuple[float, float] | None:
    node = reader.nodes.get("drift_sensitivity")
    if node is None:
        return None
    raw = reader.construct("drift_sensitivity", node)
    try:
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise argparse.ArgumentTypeError(f"expected a range such as '0.8..1.2' (or one number), got {shown(raw)}")
        return drift_sensitivity(str(raw))
    except argparse.ArgumentTypeError as error:
        raise reader.error(node, f"drift_sensitivity: {error}") from None


def _samples(reader: _EntryReader) -> int | None:
    samples = reader.raw("samples")
    if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
        raise reader.error(reader.nodes["samples"], f"samples: expected a positive whole number, got {shown(samples)}")
    return samples


def _collected(reader: _EntryReader) -> dt.date | None:
    collected = reader.raw("collected")
    if collected is None:
        return None
    if isinstance(collected, dt.datetime):
        collected = collected.date()
    elif isinstance(collected, str):
        try:
            collected = dt.date.fromisoformat(collected)
        except ValueError:
            collected = None
    if not isinstance(collected, dt.date):
        raise reader.error(reader.nodes["collected"], "collected: expected a date such as 2025-11-07")
    return collected


def _others(reader: _EntryReader, top_value: Quantity | None) -> tuple[ClassValue, ...]:
    """The ``others`` list: each item one machine class's value, in the top value's dimension."""
    node = reader.nodes.get("others")
    if node is None:
        return ()
    if not isinstance(node, yaml.SequenceNode):
        raise reader.error(node, "others: expected a list of {machine: ..., value: ..., ...}, one per machine class")
    items: list[ClassValue] = []
    seen: dict[str, int] = {}
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            raise reader.error(item, "others: each item must be a mapping such as {machine: ..., value: 4.1 ms}")
        sub = _EntryReader(reader.loader, reader.metric, item, reader.path, allowed=CLASS_KEYS)
        machine, value = _optional_text(sub, "machine"), sub.quantity("value")
        if machine is None or value is None:
            raise reader.error(item, "others: each item needs its machine and its value")
        if top_value is not None and value.unit.dimension != top_value.unit.dimension:
            raise sub.error(sub.nodes["value"], f"others: value {value} does not match the entry's value {top_value}")
        if machine in seen:
            raise sub.error(sub.nodes["machine"], f"others: machine given twice (first on line {seen[machine]})")
        seen[machine] = _line(item)
        items.append(ClassValue(
            machine=machine, value=value, interval=_interval(sub), reference_us=_reference_us(sub),
            reference_kind=_optional_text(sub, "reference_kind") or CPU_REFERENCE_KIND,
            samples=_samples(sub), collected=_collected(sub), line=_line(item),
        ))
    return tuple(items)


def _optional_text(reader: _EntryReader, key: str) -> str | None:
    raw = reader.raw(key)
    if raw is not None and not isinstance(raw, str):
        raise reader.error(reader.nodes[key], f"{key}: expected text, got {shown(raw)}")
    return raw


def _parse_source(reader: _EntryReader) -> DataSource | None:
    raw = reader.raw("source")
    if raw is None:
        return None
    kinds = tuple(kind.value for kind in SourceKind)
    if isinstance(raw, dict) and set(raw) <= {"kind", "reference"} and raw.get("kind") in kinds:
        return DataSource(SourceKind(raw["kind"]), str(raw.get("reference", "")))
    if isinstance(raw, str):
        kind, _, reference = raw.partition(" ")
        if kind.rstrip(":,") in kinds:
            return DataSource(SourceKind(kind.rstrip(":,")), reference.strip())
    raise reader.error(
        reader.nodes["source"],
        f"source: expected {{kind: KIND, reference: TEXT}} or 'KIND TEXT', KIND one of {', '.join(kinds)}",
    )
