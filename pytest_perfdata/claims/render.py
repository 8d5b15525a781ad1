"""The ledger in words: terminal lines and the data-collection report (Markdown, en or zh)."""

from __future__ import annotations

from typing import Final

from .ledger import LedgerReport
from .model import ClaimState, ClaimStatus, Finding

__all__ = ["STATUS_WORDS", "ledger_lines", "ledger_markdown"]

#: The team's words for each status, and for an impossible case.
STATUS_WORDS: Final = {
    "en": {ClaimStatus.VERIFIED: "verified", ClaimStatus.PENDING: "pending", ClaimStatus.EXPIRED: "expired",
           ClaimStatus.REFUTED: "refuted", "inconsistent": "inconsistent"},
    "zh": {ClaimStatus.VERIFIED: "已验证", ClaimStatus.PENDING: "待验证", ClaimStatus.EXPIRED: "已过期",
           ClaimStatus.REFUTED: "已证伪", "inconsistent": "不一致"},
}

_TEXT: Final = {
    "en": {
        "title": "Data-collection report: performance claims",
        "intro": ("Every figure below was published somewhere; its status is computed from this project's "
                  "measurements as of {today} (evidence older than {age} days has expired), from {runs} stored run(s)."),
        "summary": "Summary", "claims": "Claims", "consistency": "Can these claims all be true at once?",
        "facts": "Platform facts used", "status": "status", "claim": "claim", "evidence": "evidence",
        "source": "source", "collected": "collected", "fact": "fact", "value": "value", "rule": "rule",
        "case": "case", "arithmetic": "arithmetic", "none": "none", "holds": "holds",
        "no_findings": "No consistency rule applies to the claimed cases.",
        "why": "why",
    },
    "zh": {
        "title": "数据收集报告：性能声明",
        "intro": ("下列每个数字都出自某处公开资料；其状态依据本项目截至 {today} 的测量结果计算"
                  "（超过 {age} 天的证据视为已过期），共读取 {runs} 次已保存的运行。"),
        "summary": "概览", "claims": "声明", "consistency": "这些声明能否同时成立？",
        "facts": "所用平台事实", "status": "状态", "claim": "声明", "evidence": "证据",
        "source": "来源", "collected": "收集日期", "fact": "事实", "value": "值", "rule": "规则",
        "case": "案例", "arithmetic": "算式", "none": "无", "holds": "成立",
        "no_findings": "没有适用于这些案例的一致性规则。",
        "why": "原因",
    },
}


def _evidence(state: ClaimState) -> str:
    if not state.evidence:
        return ""
    newest = state.evidence[0]
    return f"{newest.metric} on {newest.collected} ({newest.environment}; {newest.run})"


def ledger_lines(report: LedgerReport, limit: int = 40) -> list[str]:
    """The ledger for a terminal: one line per claim, then the impossible cases with their arithmetic."""
    counts = report.counts
    bad = report.inconsistent_claims()
    lines = [
        f"claims: {len(report.states)} from {len(report.ledger.files)} file(s), judged on {report.today} against "
        f"{report.runs} stored run(s): " + ", ".join(f"{counts[s]} {s.value}" for s in ClaimStatus)
        + f"; {len(report.inconsistent)} inconsistent rule result(s)",
    ]
    width = max((len(state.claim.id) for state in report.states), default=10)
    for state in report.states[:limit]:
        flag = " [inconsistent]" if state.claim.id in bad else ""
        lines.append(f"  {state.status.value:9} {state.claim.id:{width}}  {state.claim.comparison.value} "
                     f"{state.claim.figure}{flag}: {state.reason}")
    if len(report.states) > limit:
        lines.append(f"  ... {len(report.states) - limit} more (perfdata claims lists them all)")
    for finding in report.inconsistent:
        lines.append(f"inconsistent: case {finding.case}, rule {finding.rule.id} ({finding.rule.says}): "
                     f"{finding.arithmetic} [facts: {', '.join(finding.facts) or 'none'}]")
    lines.extend(f"warning: {warning}" for warning in report.warnings)
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def ledger_markdown(report: LedgerReport, lang: str = "en") -> str:
    """The team's data-collection report: what was collected from where, and what holds."""
    words, text = STATUS_WORDS[lang], _TEXT[lang]
    bad = report.inconsistent_claims()
    counts = report.counts
    out = [f"# {text['title']}", "",
           text["intro"].format(today=report.today, age=report.max_age_days, runs=report.runs), "",
           f"## {text['summary']}", "", f"| {text['status']} | # |", "|---|---|"]
    out += [f"| {words[status]} | {counts[status]} |" for status in ClaimStatus]
    out += [f"| {words['inconsistent']} | {len(bad)} |", ""]
    out += [f"## {text['claims']}", "",
            f"| {text['status']} | id | {text['claim']} | {text['why']} | {text['evidence']} | {text['source']} | "
            f"{text['collected']} |", "|---|---|---|---|---|---|---|"]
    for state in report.states:
        claim = state.claim
        status = words[state.status] + (f", {words['inconsistent']}" if claim.id in bad else "")
        said = f"{claim.says} ({claim.comparison.value} {claim.figure})" if claim.says else f"{claim.comparison.value} {claim.figure}"
        quote = f" “{claim.source.quote}”" if claim.source.quote else ""
        out.append(f"| {status} | `{claim.id}` | {_cell(said)} | {_cell(state.reason)} | {_cell(_evidence(state))} | "
                   f"{claim.source.kind}: {_cell(claim.source.reference)}{_cell(quote)} | {claim.collected} |")
    out += ["", f"## {text['consistency']}", ""]
    if report.findings:
        out += [f"| {text['case']} | {text['rule']} | {text['holds']} | {text['arithmetic']} |", "|---|---|---|---|"]
        out += [_finding_row(finding, words) for finding in report.findings]
    else:
        out.append(text["no_findings"])
    used = sorted({fact for finding in report.findings for fact in finding.facts})
    if used:
        out += ["", f"## {text['facts']}", "", f"| {text['fact']} | {text['value']} | {text['source']} |", "|---|---|---|"]
        for fact_id in used:
            fact = report.ledger.facts[fact_id]
            out.append(f"| `{fact.id}` | {_cell(str(fact))} | {fact.source.kind}: {_cell(fact.source.reference)} |")
    return "\n".join(out) + "\n"


def _finding_row(finding: Finding, words: dict[object, str]) -> str:
    holds = "✓" if finding.holds else f"✗ {words['inconsistent']}"
    return f"| {finding.case} | {finding.rule.id}: {_cell(finding.rule.says)} | {holds} | {_cell(finding.arithmetic)} |"
