"""The run as Markdown: a table of records and each figure's source annotation (English, Chinese).

It renders the run *document* (the dict of :func:`~.json_report.build_run_document`), not
records, so that a saved JSON run file can be rendered again later with the same code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from .._atomic import write_bytes_atomically
from ..claims.render import claims_sections
from ..environment import Environment
from ..record import CheckKind, Outcome, Record
from ..units import format_quantity

__all__ = ["LANGUAGES", "render_markdown", "write_markdown"]

#: The words of each language. The zh annotation block follows the performance-data team's
#: format exactly (full-width punctuation included), so reports can be pasted into their pages.
_TEXT: Final[dict[str, dict[str, Any]]] = {
    "en": {
        "title": "Performance report: {target}",
        "run_line": "Target **{target}**, date {date}, machine {machine}.",
        "counts": "Verdicts: {counts}.",
        "stale": "Stale baselines (in the baseline file, measured by no test of this run):",
        "side_by_side": "Side by side",
        "side_by_side_intro": "Each figure measured under more than one engine, one row per engine.",
        "side_header": ("Engine", "p50", "p90", "p99", "Samples"),
        "ratios": "Ratios",
        "ratios_intro": "How many times one figure is another (`a_vs_b`: a over b).",
        "ratio_header": ("Ratio", "Value (CI)", "Limits", "Verdict"),
        "header": ("Metric", "Value (CI)", "Baseline / limits", "Verdict", "Status", "Engine"),
        "ci": "{value} ({confidence} CI {low} .. {high})",
        "max": "≤ {limit}",
        "min": "≥ {limit}",
        "regression": "≤ {limit} vs baseline",
        "not_compared": "baseline stored on another machine: not compared",
        "annotation": (
            "**⚠️ Source annotation**: every figure in this section states its test environment "
            "and verification status."
        ),
        "source": "Data source",
        "environment": "Test environment",
        "status": "Verification status",
        "collected": "Collection date",
        "verdict_line": "Verdict",
        "notes": "Notes",
        "colon": ": ",
        "comma": ", ",
        "semicolon": "; ",
        "parens": ("(", ")"),
        "cores": lambda n: f"{n} core" if n == 1 else f"{n} cores",
        "built": lambda name, facts: f"{name} built with {facts}",
        "kinds": {
            "measured": "Measured",
            "official-docs": "Official documentation",
            "benchmark": "Benchmark",
            "community-case": "Community case",
        },
        "statuses": {s: s for s in ("verified", "pending", "expired", "refuted")},
        "outcomes": {
            "pass": "pass",
            "fail": "fail",
            "inconclusive": "inconclusive",
            "none": "no baseline",
            "not_compared": "not compared",
        },
    },
    "zh": {
        "title": "性能报告：{target}",
        "run_line": "目标：**{target}**；日期：{date}；机器：{machine}。",
        "counts": "判定结果：{counts}。",
        "stale": "过期基线（基线文件中有、本次运行无测试测量）：",
        "side_by_side": "引擎对比",
        "side_by_side_intro": "在多个引擎下测量的同一指标，每个引擎一行。",
        "side_header": ("引擎", "p50", "p90", "p99", "样本数"),
        "ratios": "比值",
        "ratios_intro": "一个数值是另一个的多少倍（`a_vs_b`：a 除以 b）。",
        "ratio_header": ("比值", "数值（置信区间）", "限值", "判定"),
        "header": ("指标", "数值（置信区间）", "基线 / 限值", "判定", "验证状态", "引擎"),
        "ci": "{value}（{confidence} 置信区间 {low} .. {high}）",
        "max": "≤ {limit}",
        "min": "≥ {limit}",
        "regression": "相对基线 ≤ {limit}",
        "not_compared": "基线来自其他机器：未比较",
        "annotation": "**⚠️ 来源标注说明**：本节性能数据均已标注测试环境和验证状态。",
        "source": "数据来源",
        "environment": "测试环境",
        "status": "验证状态",
        "collected": "收集日期",
        "verdict_line": "判定",
        "notes": "备注",
        "colon": "：",
        "comma": "，",
        "semicolon": "；",
        "parens": ("（", "）"),
        "cores": lambda n: f"{n} 核",
        "built": lambda name, facts: f"{name} 构建：{facts}",
        "kinds": {
            "measured": "实测",
            "official-docs": "官方文档",
            "benchmark": "基准测试",
            "community-case": "社区案例",
        },
        "statuses": {"verified": "已验证", "pending": "待验证", "expired": "已过期", "refuted": "已证伪"},
        "outcomes": {"pass": "通过", "fail": "未通过", "inconclusive": "无法判定", "none": "无基线", "not_compared": "未比较"},
    },
}

#: Languages :func:`render_markdown` knows, for error messages and ``--perf-report`` help.
LANGUAGES: Final = tuple(_TEXT)

_GIB: Final = 1024**3


def _words(lang: str) -> dict[str, Any]:
    try:
        return _TEXT[lang]
    except KeyError:
        known = ", ".join(LANGUAGES)
        raise ValueError(f"unknown report language {lang!r} (known: {known})") from None


def _cell(text: str) -> str:
    """A table cell: a ``|`` or a line break in a metric name would otherwise split the row."""
    return " ".join(str(text).replace("\\", "\\\\").replace("|", "\\|").split()) or "—"


def _inline(text: object) -> str:
    """One line of text: a line break in a name or a note would end the blockquote or heading."""
    return " ".join(str(text).splitlines())


def _code(text: str) -> str:
    """An inline code span that survives backticks (pytest ids may hold any character)."""
    fence = "`"
    while fence in text:
        fence += "`"
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _value_text(record: Record, words: Mapping[str, Any]) -> str:
    interval = record.interval
    if interval.low == interval.high == record.value:
        return format_quantity(record.value, record.unit)  # an exact figure (a size, a count): no statistic
    value = f"{record.statistic} = {format_quantity(record.value, record.unit)}"
    if interval.low == interval.high:
        return value  # all samples equal: no interval to show
    low, high = (format_quantity(x, record.unit) if math.isfinite(x) else side
                 for x, side in ((interval.low, "-∞"), (interval.high, "+∞")))
    text: str = words["ci"].format(
        value=value, confidence=f"{interval.confidence:.0%}", low=low, high=high,
    )
    return text


def _limits_text(record: Record, words: Mapping[str, Any]) -> str:
    """The limits the verdict compared against, in the record's unit (regression: a ratio)."""
    parts = []
    for check in record.verdict.checks if record.verdict else ():
        if check.kind in (CheckKind.MAX, CheckKind.MIN):
            parts.append(words[check.kind.value].format(limit=format_quantity(check.limit, record.unit)))
        elif check.not_compared:
            parts.append(words["not_compared"])
        else:
            parts.append(words["regression"].format(limit=f"{(check.limit - 1) * 100:+.4g}%"))
    return str(words["semicolon"].join(parts))


def _memory_text(memory_bytes: int) -> str:
    gib = round(memory_bytes / _GIB)
    if gib == 0:  # a small VM or container: GiB would round to nothing
        return f"{round(memory_bytes / 1024**2)} MiB"
    return f"{gib} GiB"


def _machine_parts(env: Environment, words: Mapping[str, Any], *, cpu: bool) -> list[str]:
    parts = [env.architecture, env.cpu_model if cpu else ""]
    if env.cores:
        parts.append(words["cores"](env.cores))
    if env.memory_bytes:
        parts.append(_memory_text(env.memory_bytes))
    return [*parts, env.os, env.kernel]


def _environment_text(record: Record, words: Mapping[str, Any]) -> str:
    runtimes = dict(record.environment.runtimes)
    engine = record.engine
    if engine and engine.name and engine.name not in runtimes:
        runtimes[engine.name] = engine.version
    parts = _machine_parts(record.environment, words, cpu=False)
    parts += [f"{name} {version}".strip() for name, version in runtimes.items()]
    if engine and engine.build:
        parts.append(words["built"](engine.name, "; ".join(f"{key} {value}" for key, value in engine.build)))
    return str(words["comma"].join(part for part in parts if part))


def _source_text(record: Record, words: Mapping[str, Any], lang: str) -> str:
    kind = str(words["kinds"].get(record.source.kind.value, record.source.kind.value))
    reference = record.source.reference
    if not reference:
        return kind
    if lang == "zh":
        # "pytest-perfdata, suites/x.py::test_y": only the separator changes, the node id stays.
        reference = reference.replace(", ", words["comma"])
    opening, closing = words["parens"]
    space = "" if lang == "zh" else " "  # full-width parentheses carry their own spacing
    return f"{kind}{space}{opening}{reference}{closing}"


def _annotation(record: Record, words: Mapping[str, Any], lang: str) -> list[str]:
    colon = words["colon"]
    status = record.status.value
    return [
        f"> {words['annotation']}",
        f"> - **{words['source']}**{colon}{_inline(_source_text(record, words, lang))}",
        f"> - **{words['environment']}**{colon}{_inline(_environment_text(record, words))}",
        f"> - **{words['status']}**{colon}{_inline(words['statuses'].get(status, status))}",
        f"> - **{words['collected']}**{colon}{_inline(record.collected.isoformat())}",
    ]


def _outcome_key(record: Record) -> str:
    if record.verdict is None:
        return Outcome.NONE.value
    if record.verdict.outcome == Outcome.NONE and any(c.not_compared for c in record.verdict.checks):
        return "not_compared"
    return record.verdict.outcome.value


def _side_by_side(records: list[Record]) -> dict[str, list[Record]]:
    """Records of one figure under several engines: the metric without its engine's slug, and them.

    A metric named ``<figure>.<engine slug>`` (as every engine-parametrised suite names them)
    joins the others of the same figure; a figure measured under one engine only is left out.
    """
    groups: dict[str, list[Record]] = {}
    for record in records:
        slug = record.engine.slug if record.engine else ""
        if slug and record.metric.endswith("." + slug):
            groups.setdefault(record.metric[: -len(slug) - 1], []).append(record)
    return {figure: group for figure, group in groups.items()
            if len({r.engine.slug for r in group if r.engine}) > 1}


def _comparison_lines(records: list[Record], words: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    groups = _side_by_side(records)
    if groups:
        lines += ["", f"## {words['side_by_side']}", "", words["side_by_side_intro"]]
        header = words["side_header"]
        for figure, group in groups.items():
            lines += ["", f"### {_inline(figure)}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            for record in sorted(group, key=lambda r: r.summary.p50):
                quantiles = (format_quantity(record.summary.get(q), record.unit) for q in ("p50", "p90", "p99"))
                lines.append("| " + " | ".join(_cell(c) for c in (str(record.engine), *quantiles, str(record.summary.n))) + " |")
    ratios = [r for r in records if r.unit == "x"]
    if ratios:
        header = words["ratio_header"]
        lines += ["", f"## {words['ratios']}", "", words["ratios_intro"], "",
                  "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for record in ratios:
            outcome = _outcome_key(record)
            cells = (record.metric, _value_text(record, words), _limits_text(record, words),
                     words["outcomes"].get(outcome, outcome))
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def render_markdown(document: Mapping[str, Any], lang: str = "en") -> str:
    """A run document (as written to JSON) as Markdown in ``lang`` (``en`` or ``zh``); ValueError otherwise.

    The document's records are read back into :class:`Record` objects first, so the report
    says "not compared" or names an engine exactly as the records themselves do.
    """
    words = _words(lang)
    run = document.get("run") or {}
    records = [Record.from_dict(data) for data in document.get("records") or []]
    target = run.get("target", "")
    machine = document.get("environment")
    machine_text = str(words["comma"].join(
        p for p in _machine_parts(Environment.from_dict(machine), words, cpu=True) if p
    )) if machine else ""
    lines = [
        f"# {words['title'].format(target=target)}",
        "",
        words["run_line"].format(
            target=target,
            date=_inline(str(run.get("started", ""))[:10]),
            machine=_inline(machine_text),
        ),
    ]
    counts = document.get("summary") or {}
    if counts:
        text = words["comma"].join(f"{words['outcomes'].get(k, k)} {n}" for k, n in counts.items())
        lines += ["", words["counts"].format(counts=text)]
    if records:
        header = words["header"]
        lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for record in records:
            outcome = _outcome_key(record)
            status = record.status.value
            cells = (
                record.metric,
                _value_text(record, words),
                _limits_text(record, words),
                words["outcomes"].get(outcome, outcome),
                words["statuses"].get(status, status),
                str(record.engine) if record.engine else "",
            )
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += _comparison_lines(records, words)
    for record in records:
        lines += ["", f"## {_inline(record.metric)}", "", _code(_inline(record.test)), ""]
        lines += _annotation(record, words, lang)
        if record.verdict and record.verdict.reason:
            lines += ["", f"{words['verdict_line']}{words['colon']}{_inline(record.verdict.reason)}"]
        if record.notes:
            notes = words["semicolon"].join(record.notes)
            lines += ["", f"{words['notes']}{words['colon']}{_inline(notes)}"]
    stale = document.get("stale_baselines") or []
    if stale:
        lines += ["", words["stale"], ""] + [f"- {_inline(entry)}" for entry in stale]
    ledger = document.get("claims")
    if ledger:
        lines += ["", *claims_sections(ledger, lang, in_run_report=True)]
    return "\n".join(lines) + "\n"


def write_markdown(path: Path | str, document: Mapping[str, Any], lang: str = "en") -> None:
    """Render and write atomically, so an interrupted run never leaves half a report."""
    # backslashreplace: a lone surrogate in some tool's output is shown, not a lost report
    write_bytes_atomically(Path(path), render_markdown(document, lang).encode("utf-8", "backslashreplace"))
