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
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

import yaml

from .baseline import BaselineError, compose, iter_entries, parse_baseline_text, yaml_loader
from .record import Outcome, Record, VerificationStatus
from .units import format_quantity
from .verdict import machine_label

__all__ = ["SaveResult", "save_records"]

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


def _render(value: Any) -> str:
    """One-line YAML for a scalar, list or mapping, quoted only where YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True, sort_keys=False)
    return text.removesuffix("\n...\n").rstrip("\n")


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
    fields["samples"] = record.summary.n
    fields["source"] = {"kind": record.source.kind.value, "reference": record.source.reference}
    refuted = record.verdict is not None and record.verdict.outcome == Outcome.FAIL
    fields["status"] = (VerificationStatus.REFUTED if refuted else VerificationStatus.VERIFIED).value
    fields["collected"] = dt.date.fromisoformat(record.collected)
    fields["machine"] = machine_label(record)
    return fields


def _new_entry_fields(record: Record, default_regression: float) -> dict[str, Any]:
    fields: dict[str, Any] = {"statistic": record.statistic}
    if record.better == "higher":
        fields["better"] = "higher"
    fields["regression"] = f"{default_regression * 100:g}%"
    fields.update(owned_fields(record))
    return fields


def _content_end(node: yaml.Node) -> int:
    """Index just past the node's last character (block collections end at their last child)."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1])
    return int(node.end_mark.index)


def _after_line(text: str, index: int) -> int:
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _splice_entry(text: str, node: yaml.Node, fields: dict[str, Any]) -> list[tuple[int, int, str]]:
    """Edits (start, end, replacement) that set ``fields`` in one existing entry."""
    assert isinstance(node, yaml.MappingNode)
    if node.flow_style or not node.value:
        loader = yaml_loader()("")
        merged = dict(loader.construct_object(node, deep=True) or {})  # type: ignore[no-untyped-call]
        merged.update(fields)
        return [(int(node.start_mark.index), int(node.end_mark.index), _render(merged))]
    edits: list[tuple[int, int, str]] = []
    present = {str(key.value): value for key, value in node.value}
    indent = " " * int(node.value[0][0].start_mark.column)
    missing = []
    for key, value in fields.items():
        if key in present:
            old = present[key]
            edits.append((int(old.start_mark.index), _content_end(old), _render(value)))
        else:
            missing.append(f"{indent}{key}: {_render(value)}\n")
    if missing:
        at = _after_line(text, _content_end(node.value[-1][1]))
        prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
        edits.append((at, at, prefix + "".join(missing)))
    return edits


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def merge_records(text: str, path: Path, records: Sequence[Record], default_regression: float) -> tuple[str, list[str], list[str]]:
    """New file text with ``records`` merged in; also the metrics updated and added."""
    root = compose(text, path) if text.strip() else None
    existing = {str(key.value): node for key, node in iter_entries(root, path)} if root is not None else {}
    edits: list[tuple[int, int, str]] = []
    updated: list[str] = []
    added: list[str] = []
    appended: list[str] = []
    for record in records:
        if record.metric in existing:
            edits += _splice_entry(text, existing[record.metric], owned_fields(record))
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
    """Serialise read-modify-write of one baseline file across processes."""
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def save_records(path: Path, target: str, records: Sequence[Record], default_regression: float = 0.1) -> SaveResult:
    """Merge ``records`` into ``path`` atomically; raises :class:`BaselineError` on a bad file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        new_text, updated, added = merge_records(text, path, records, default_regression)
        try:
            parse_baseline_text(new_text, path, target)
        except BaselineError as error:  # never write what we could not read back
            raise BaselineError(path, error.line, f"refusing to save, the merged file would be invalid: {error.detail}", error.entry) from None
        write_atomically(path, new_text)
    return SaveResult(path, tuple(updated), tuple(added))
