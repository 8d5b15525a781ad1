"""``--perf-save``: merge a run's records into a baseline file, atomically, keeping what humans wrote.

The file is edited as text, not re-serialised: only the spans of the fields we own (value,
interval, reference, samples, source, status, collected, machine) are replaced, missing ones are
inserted under their entry, and new metrics are appended. Comments, key order, hand-written
limits (max, min, regression) and every entry this run did not measure stay byte for byte. The
result is re-validated before it replaces the old file with ``os.replace``, under a lock, so an
interrupted or concurrent save leaves a complete file behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, final

import yaml

from . import _defaults
from ._atomic import write_text_atomically
from .baseline import (
    CLASS_KEYS,
    BaselineError,
    baselines_from_root,
    compose,
    iter_entries,
    parse_baseline_text,
    yaml_loader,
)
from .environment import comparison_class, machine_class
from .record import CPU_REFERENCE_KIND, Better, Record
from .units import format_quantity
from .verdict import stored_status

_T = TypeVar("_T")

__all__ = ["SaveResult", "save_records", "set_fields"]

_HEADER = (
    "# Baselines of target {target}: one entry per metric.\n"
    "# value, interval, reference, samples, source, status, collected and machine are written by\n"
    "# `pytest --perf-save`; statistic, better, max, min, regression and note are yours to edit.\n"
)


@final
@dataclass(frozen=True, slots=True)
class SaveResult:
    path: Path
    updated: tuple[str, ...]
    added: tuple[str, ...]


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.%/µ -]*[A-Za-z0-9_.%µ]|[A-Za-z0-9_]")
_RESOLVER = yaml.resolver.Resolver()


def _double_quoted(text: str) -> str:
    """A double-quoted scalar with every non-printable character escaped (YAML's \\x, \\u, \\U)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _fast(value: Any) -> str | None:
    """YAML text for a scalar that is the same in block and flow context, else None."""
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value) and "  " not in value
        resolved = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        if plain and resolved == "tag:yaml.org,2002:str":
            return value
        if value.isprintable():  # single quotes hold any printable text, in block or flow context
            return "'" + value.replace("'", "''") + "'"
        return _double_quoted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _render(value: Any) -> str:
    """One-line YAML for a scalar, list or mapping, quoted only where YAML needs it.

    Most of what --perf-save writes is a short string such as ``4.123 ms``: those, and dates
    and whole numbers, skip PyYAML's emitter, which dominates the cost of a large save.
    """
    if isinstance(value, list):
        items = [_fast(item) for item in value]
        if all(item is not None for item in items):
            return "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    elif isinstance(value, dict):
        pairs = [(_fast(k), _fast(v)) for k, v in value.items()]
        if all(k is not None and v is not None for k, v in pairs):
            return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    else:
        fast = _fast(value)
        if fast is not None:
            return fast
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True, sort_keys=False)
    return text.removesuffix("\n...\n").rstrip("\n")


#: The fields --perf-save writes; every other key of an entry belongs to its human editors.
OWNED_KEYS = (
    "value", "interval", "reference", "reference_kind", "samples", "source", "status", "collected", "machine",
)


def owned_fields(record: Record) -> dict[str, Any]:
    """The fields --perf-save writes for ``record``, as plain YAML-ready values."""
    fields: dict[str, Any] = {
        "value": format_quantity(record.value, record.unit, digits=5),
    }
    if record.interval.bounded and record.interval.low != record.interval.high:
        fields["interval"] = [
            format_quantity(record.interval.low, record.unit, digits=5),
            format_quantity(record.interval.high, record.unit, digits=5),
        ]
    if record.reference_us:
        fields["reference"] = format_quantity(record.reference_us, "us", digits=5)
        if record.reference_kind and record.reference_kind != CPU_REFERENCE_KIND:
            fields["reference_kind"] = record.reference_kind
    fields["samples"] = record.summary.n
    fields["source"] = {"kind": record.source.kind.value, "reference": record.source.reference}
    fields["status"] = stored_status(record).value
    fields["collected"] = record.collected
    fields["machine"] = comparison_class(record.environment, record.unit)
    return fields


def _new_entry_fields(record: Record, default_regression: float | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"statistic": record.statistic}
    if record.better == Better.HIGHER:
        fields["better"] = Better.HIGHER.value
    fields["regression"] = "off" if default_regression is None else f"{default_regression * 100:g}%"
    fields.update(owned_fields(record))
    return fields


def _content_end(text: str, node: yaml.Node) -> int:
    """Index just past the node's last character (block collections end at their last child)."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _content_end(text, node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _content_end(text, node.value[-1])
    end = int(node.end_mark.index)
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        # A block scalar's end mark lies past its line break and trailing blank lines, i.e. at
        # the start of the next key's line: back up to its last character.
        while end > int(node.start_mark.index) + 1 and text[end - 1] in " \t\r\n":
            end -= 1
    return end


def _after_line(text: str, index: int) -> int:
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _splice_entry(
    text: str, node: yaml.Node, fields: dict[str, Any], replaces: Collection[str] = OWNED_KEYS
) -> list[tuple[int, int, str]]:
    """Edits (start, end, replacement) that set ``fields`` in one existing entry.

    Keys in ``replaces`` that ``fields`` lacks are removed: when a record no longer has an
    interval or a reference, a stale one must not sit beside the new value and fail the next
    run's regression check.
    """
    assert isinstance(node, yaml.MappingNode)
    stale = [key for key in replaces if key not in fields]
    if node.flow_style or not node.value:
        loader = yaml_loader()("")
        merged = dict(loader.construct_object(node, deep=True) or {})
        for key in stale:
            merged.pop(key, None)
        merged.update(fields)
        return [(int(node.start_mark.index), int(node.end_mark.index), _render(merged))]
    edits: list[tuple[int, int, str]] = []
    present = {str(key.value): (key, value) for key, value in node.value}
    indent = " " * int(node.value[0][0].start_mark.column)
    missing = []
    for key, value in fields.items():
        if key in present:
            old = present[key][1]
            start, end = int(old.start_mark.index), _content_end(text, old)
            # An empty value (``value:``) is marked right after the colon: keep a space.
            edits.append((start, end, ("" if end > start else " ") + _render(value)))
        else:
            missing.append(f"{indent}{key}: {_render(value)}\n")
    for key in stale:
        if key in present:
            key_node, old = present[key]
            line_start = text.rfind("\n", 0, int(key_node.start_mark.index)) + 1
            edits.append((line_start, _after_line(text, _content_end(text, old)), ""))
    if missing:
        at = _after_line(text, _content_end(text, node.value[-1][1]))
        prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
        edits.append((at, at, prefix + "".join(missing)))
    return edits


def _scalar_text(node: yaml.MappingNode, key: str) -> str | None:
    for key_node, value in node.value:
        if key_node.value == key and isinstance(value, yaml.ScalarNode):
            return str(value.value) or None
    return None


def _entry_edits(text: str, node: yaml.Node, record: Record) -> list[tuple[int, int, str]]:
    """Edits that store ``record`` in its existing entry: on top, or as its machine class's item of ``others``.

    The top holds one machine class's value. A record of that class (or of an entry with no
    stored value yet) replaces it; a record of another class replaces or adds that class's line
    in ``others`` and leaves the top's value alone, so each class keeps being judged against
    its own. The entry's status follows the newest record either way.
    """
    fields = owned_fields(record)
    if not isinstance(node, yaml.MappingNode) or node.flow_style or not node.value:
        return _splice_entry(text, node, fields)
    top_machine = _scalar_text(node, "machine")
    top_is_mine = top_machine is None or machine_class(top_machine) == fields["machine"]
    if top_is_mine or _scalar_text(node, "value") is None:
        return _splice_entry(text, node, fields)
    item = {key: fields[key] for key in CLASS_KEYS if key in fields}
    return [*_splice_entry(text, node, {"status": fields["status"]}, replaces=()),
            *_class_item_edits(text, node, item)]


def _class_item_edits(text: str, entry: yaml.MappingNode, item: dict[str, Any]) -> list[tuple[int, int, str]]:
    """Replace the ``others`` line of ``item``'s machine class, or add one (and ``others`` itself)."""
    line = _render(item)
    present = {str(key.value): value for key, value in entry.value}
    others = present.get("others")
    if others is None:
        indent = " " * int(entry.value[0][0].start_mark.column)
        at = _after_line(text, _content_end(text, entry.value[-1][1]))
        prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
        return [(at, at, f"{prefix}{indent}others:\n{indent}  - {line}\n")]
    assert isinstance(others, yaml.SequenceNode)  # the file was validated before this edit
    if others.flow_style or not others.value:
        loader = yaml_loader()("")
        items = [i for i in (loader.construct_object(others, deep=True) or [])
                 if machine_class(str(i.get("machine", ""))) != item["machine"]]
        return [(int(others.start_mark.index), int(others.end_mark.index), _render([*items, item]))]
    for existing in others.value:
        label = _scalar_text(existing, "machine") if isinstance(existing, yaml.MappingNode) else None
        if label is not None and machine_class(label) == item["machine"]:
            return [(int(existing.start_mark.index), _content_end(text, existing), line)]
    last = others.value[-1]
    dash = text.rfind("-", 0, int(last.start_mark.index))
    indent = " " * (dash - text.rfind("\n", 0, dash) - 1)
    at = _after_line(text, _content_end(text, last))
    prefix = "" if text[at - 1] == "\n" else "\n"
    return [(at, at, f"{prefix}{indent}- {line}\n")]


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply non-overlapping edits in one pass, linear in the file whatever the edit count.

    Of two edits at one index the earlier one's text comes first (a filled-in empty last
    value, then the inserted fields).
    """
    pieces: list[str] = []
    position = 0
    for _, (start, end, replacement) in sorted(enumerate(edits), key=lambda e: (e[1][0], e[1][1], e[0])):
        pieces += [text[position:start], replacement]
        position = max(position, end)
    pieces.append(text[position:])
    return "".join(pieces)


def merge_records(
    text: str, path: Path, records: Sequence[Record], default_regression: float | None, *, root: yaml.Node | None = None
) -> tuple[str, list[str], list[str]]:
    """New file text with ``records`` merged in; also the metrics updated and added.

    ``root`` is ``text`` already composed, when the caller has it (composing dominates the cost).
    """
    if root is None and text.strip():
        root = compose(text, path)
    existing = {str(key.value): node for key, node in iter_entries(root, path)} if root is not None else {}
    edits: list[tuple[int, int, str]] = []
    updated: list[str] = []
    added: list[str] = []
    appended: list[str] = []
    for record in records:
        if record.metric in existing:
            edits += _entry_edits(text, existing[record.metric], record)
            updated.append(record.metric)
        else:
            lines = [f"{_render(record.metric)}:\n"]
            lines += [f"  {k}: {_render(v)}\n" for k, v in _new_entry_fields(record, default_regression).items()]
            appended.append("".join(lines))
            added.append(record.metric)
    new_text = _apply(text, edits)
    if appended:
        if not new_text.strip():
            new_text = _HEADER.format(target=path.stem) + new_text.lstrip("\n")
        elif not new_text.endswith("\n"):
            new_text += "\n"
        new_text += "".join(appended)
    return new_text, updated, added


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of baseline files across processes: a lock on their directory.

    The directory, not a lock file beside the YAML: a lock file would show in ``git status`` of
    every user and outlive its YAML, and the YAML itself cannot carry the lock, since each save
    replaces it with a new file (``os.replace``). Saves of two targets in one directory wait for
    each other, which costs nothing worth a file.
    """
    fd = os.open(path.resolve().parent, os.O_RDONLY | os.O_DIRECTORY)  # a link's target is what is replaced
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _rewrite(path: Path, target: str, edit: Callable[[str, yaml.Node | None], tuple[str, _T]]) -> _T:
    """Read, check, edit, re-validate and atomically replace one baseline file, under its lock.

    ``edit`` returns the new text and what it has to tell its caller, which is returned here.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        root = compose(text, path) if text.strip() else None
        baselines_from_root(root, path, target)  # a bad file is reported as such, not edited
        new_text, told = edit(text, root)
        try:
            parse_baseline_text(new_text, path, target)
        except BaselineError as error:  # never write what we could not read back
            raise BaselineError(
                path, error.line, f"refusing to save, the merged file would be invalid: {error.detail}", error.entry
            ) from None
        write_text_atomically(path, new_text)
    return told


def save_records(path: Path, target: str, records: Sequence[Record], default_regression: float | None = _defaults.REGRESSION) -> SaveResult:
    """Merge ``records`` into ``path`` atomically; raises :class:`BaselineError` on a bad file."""

    def edit(text: str, root: yaml.Node | None) -> tuple[str, tuple[list[str], list[str]]]:
        new_text, updated, added = merge_records(text, path, records, default_regression, root=root)
        return new_text, (updated, added)

    updated, added = _rewrite(path, target, edit)
    return SaveResult(path, tuple(updated), tuple(added))


def set_fields(path: Path, target: str, fields: dict[str, dict[str, Any]]) -> list[str]:
    """Set fields (e.g. ``regression``) of existing entries, keeping everything else as it is.

    For tools that write what is otherwise hand-edited, such as calibrated regression limits.
    Returns the metrics that were not in the file (and so were left alone).
    """

    def edit(text: str, root: yaml.Node | None) -> tuple[str, list[str]]:
        entries = {str(key.value): node for key, node in iter_entries(root, path)} if root is not None else {}
        splices = [splice for metric, node in entries.items() if metric in fields
                   for splice in _splice_entry(text, node, fields[metric], replaces=())]
        return _apply(text, splices), sorted(set(fields) - set(entries))

    return _rewrite(path, target, edit)
