"""The ledger in words: terminal lines, the claims sections of a report, the data-collection report.

Everything here renders the ledger *document* (:func:`~.document.ledger_document`), the same
data a run file keeps under ``claims``, so a saved run renders again exactly as it was judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .model import ClaimStatus

__all__ = ["LANGUAGES", "claims_sections", "ledger_lines", "ledger_markdown"]

#: The team's words for each status, and for an impossible case.
_STATUS_WORDS: Final = {
    "en": {"verified": "verified", "pending": "pending", "expired": "expired", "refuted": "refuted",
           "inconsistent": "inconsistent", "and": ", "},
    "zh": {"verified": "已验证", "pending": "待验证", "expired": "已过期", "refuted": "已证伪",
           "inconsistent": "不一致", "and": "、"},
}

_TEXT: Final = {
    "en": {
        "title": "Data-collection report: performance claims",
        "intro": ("Every figure below was published somewhere; its status is computed from this project's "
                  "measurements as of {today} (evidence older than {age} days has expired), from {runs} stored run(s)."),
        "summary": "Summary", "claims": "Claims", "consistency": "Can these claims all be true at once?",
        "facts": "Platform facts used", "status": "status", "claim": "claim", "evidence": "evidence",
        "source": "source", "collected": "collected", "fact": "fact", "value": "value", "rule": "rule",
        "case": "case", "arithmetic": "arithmetic", "holds": "holds",
        "no_findings": "No consistency rule applies to the claimed cases.",
        "why": "why", "on": "on", "run_intro": "Published claims, judged with this run's records and {runs} earlier run(s) as of {today}.",
        "sources": {"official-docs": "official docs", "benchmark": "benchmark", "community-case": "community case",
                    "talk": "talk", "blog": "blog", "release-notes": "release notes", "issue": "issue"},
    },
    "zh": {
        "title": "数据收集报告：性能声明",
        "intro": ("下列每个数字都出自某处公开资料；其状态依据本项目截至 {today} 的测量结果计算"
                  "（超过 {age} 天的证据视为已过期），共读取 {runs} 次已保存的运行。"),
        "summary": "概览", "claims": "声明", "consistency": "这些声明能否同时成立？",
        "facts": "所用平台事实", "status": "状态", "claim": "声明", "evidence": "证据",
        "source": "来源", "collected": "收集日期", "fact": "事实", "value": "值", "rule": "规则",
        "case": "案例", "arithmetic": "算式", "holds": "成立",
        "no_findings": "没有适用于这些案例的一致性规则。",
        "why": "原因", "on": "于", "run_intro": "已发布的性能声明，依据本次运行及此前 {runs} 次运行的记录，于 {today} 判定。",
        "sources": {"official-docs": "官方文档", "benchmark": "基准测试", "community-case": "社区案例",
                    "talk": "演讲", "blog": "博客", "release-notes": "发布说明", "issue": "议题"},
    },
}

#: Languages the claims' words exist in.
LANGUAGES: Final = tuple(_TEXT)


def _cell(text: object) -> str:
    return " ".join(str(text).replace("|", "\\|").split()) or "—"


def _status(claim: Mapping[str, Any], words: Mapping[str, str]) -> str:
    return words[claim["status"]] + (words["and"] + words["inconsistent"] if claim["inconsistent"] else "")


def ledger_lines(ledger: Mapping[str, Any], limit: int = 40) -> list[str]:
    """The ledger for a terminal: one line per claim, then the impossible cases with their arithmetic."""
    counts, claims = ledger["counts"], ledger["claims"]
    lines = [
        f"claims: {len(claims)} from {ledger['files']} file(s), judged on {ledger['judged']} against "
        f"{ledger['runs']} stored run(s): " + ", ".join(f"{counts[s.value]} {s.value}" for s in ClaimStatus)
        + f"; {sum(not f['holds'] for f in ledger['findings'])} inconsistent rule result(s)",
    ]
    width = max((len(claim["id"]) for claim in claims), default=10)
    for claim in claims[:limit]:
        flag = " [inconsistent]" if claim["inconsistent"] else ""
        lines.append(f"  {claim['status']:9} {claim['id']:{width}}  {claim['claim']}{flag}: {claim['reason']}")
    if len(claims) > limit:
        lines.append(f"  ... {len(claims) - limit} more (perfdata claims lists them all)")
    for finding in ledger["findings"]:
        if not finding["holds"]:
            lines.append(f"inconsistent: case {finding['case']}, rule {finding['rule']} ({finding['says']}): "
                         f"{finding['arithmetic']} [facts: {', '.join(finding['facts']) or 'none'}]")
    lines.extend(f"warning: {warning}" for warning in ledger["warnings"])
    return lines


def _evidence_text(claim: Mapping[str, Any], text: Mapping[str, Any]) -> str:
    if not claim["evidence"]:
        return ""
    newest = claim["evidence"][0]
    return f"{newest['metric']} {text['on']} {newest['collected']} ({newest['environment']}; {newest['run']})"


def _source_text(source: Mapping[str, str], text: Mapping[str, Any]) -> str:
    quote = f" “{source['quote']}”" if source["quote"] else ""
    return f"{text['sources'].get(source['kind'], source['kind'])}: {source['reference']}{quote}"


def claims_sections(ledger: Mapping[str, Any], lang: str = "en", *, in_run_report: bool = False) -> list[str]:
    """The claims table, the consistency table and the facts used, as Markdown sections.

    ``in_run_report``: the sections end a run's report, and say which runs judged the claims.
    """
    words, text = _STATUS_WORDS[lang], _TEXT[lang]
    intro = [text["run_intro"].format(runs=ledger["runs"], today=ledger["judged"]), ""] if in_run_report else []
    out = [f"## {text['claims']}", "", *intro,
           f"| {text['status']} | id | {text['claim']} | {text['why']} | {text['evidence']} | {text['source']} | "
           f"{text['collected']} |", "|---|---|---|---|---|---|---|"]
    for claim in ledger["claims"]:
        said = f"{claim['says']} ({claim['claim']})" if claim["says"] else claim["claim"]
        cells = (_status(claim, words), f"`{claim['id']}`", said, claim["reason"], _evidence_text(claim, text),
                 _source_text(claim["source"], text), claim["collected"])
        out.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    out += ["", f"## {text['consistency']}", ""]
    if ledger["findings"]:
        out += [f"| {text['case']} | {text['rule']} | {text['holds']} | {text['arithmetic']} |", "|---|---|---|---|"]
        for finding in ledger["findings"]:
            holds = "✓" if finding["holds"] else f"✗ {words['inconsistent']}"
            out.append(f"| {_cell(finding['case'])} | {_cell(finding['rule'] + ': ' + finding['says'])} | {holds} | "
                       f"{_cell(finding['arithmetic'])} |")
    else:
        out.append(text["no_findings"])
    if ledger["facts"]:
        out += ["", f"## {text['facts']}", "", f"| {text['fact']} | {text['value']} | {text['source']} |",
                "|---|---|---|"]
        out += [f"| `{fact['id']}` | {_cell(fact['value'])} | {_cell(_source_text(fact['source'], text))} |"
                for fact in ledger["facts"]]
    return out


def ledger_markdown(ledger: Mapping[str, Any], lang: str = "en") -> str:
    """The team's data-collection report: what was collected from where, and what holds."""
    words, text = _STATUS_WORDS[lang], _TEXT[lang]
    counts = ledger["counts"]
    out = [f"# {text['title']}", "",
           text["intro"].format(today=ledger["judged"], age=ledger["max_age_days"], runs=ledger["runs"]), "",
           f"## {text['summary']}", "", f"| {text['status']} | # |", "|---|---|"]
    out += [f"| {words[key]} | {counts[key]} |" for key in (*(s.value for s in ClaimStatus), "inconsistent")]
    out += ["", *claims_sections(ledger, lang)]
    return "\n".join(out) + "\n"
