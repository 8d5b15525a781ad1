"""``perfdata``: the plugin's console script, for what needs no test run.

    perfdata claims                  # the claims ledger from the stored runs
    perfdata claims --check          # exit 1 if a claim is refuted or a case cannot hold, for CI
    perfdata claims --report collection.md --lang zh   # the data-collection report

Paths default to the current directory's ``claims/``, ``.perfdata/runs/`` and ``baselines/``,
the plugin's own defaults.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from . import _defaults

__all__ = ["main"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date such as 2026-12-01, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perfdata", description="pytest-perfdata without a test run")
    commands = parser.add_subparsers(dest="command", required=True)
    claims = commands.add_parser("claims", help="the claims ledger: each claim's status from the stored runs")
    claims.add_argument("--claims", type=Path, default=Path(_defaults.CLAIMS_DIR), help="folder of claims/*.yaml")
    claims.add_argument("--runs", type=Path, default=Path(_defaults.RECORDS_DIR), help="folder of run files")
    claims.add_argument("--baselines", type=Path, default=Path(_defaults.BASELINES_DIR),
                        help="folder of baseline files (the metrics and targets a claim may name)")
    claims.add_argument("--check", action="store_true", help="exit 1 if a claim is refuted or inconsistent")
    claims.add_argument("--today", type=_date, default=None, help="judge as of this day (default: today)")
    claims.add_argument("--max-age", type=int, default=_defaults.CLAIM_MAX_AGE_DAYS, metavar="DAYS",
                        help="evidence older than this has expired")
    claims.add_argument("--report", type=Path, help="write the data-collection report (Markdown) here")
    claims.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the report")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .claims.files import ClaimsError
    from .claims.model import ClaimStatus
    from .claims.document import ledger_document
    from .claims.ledger import build_report
    from .claims.render import ledger_lines, ledger_markdown
    from .baseline import BaselineError

    if not args.claims.is_dir():
        print(f"perfdata claims: no claims folder {args.claims} (give one with --claims)", file=sys.stderr)
        return 2
    try:
        report = build_report(args.claims, args.runs, args.baselines, args.today, args.max_age)
    except (ClaimsError, BaselineError) as error:
        print(f"perfdata claims: {error}", file=sys.stderr)
        return 2
    ledger = ledger_document(report)
    print("\n".join(ledger_lines(ledger, limit=10_000)))
    if args.report is not None:
        from ._atomic import write_text_atomically

        write_text_atomically(args.report, ledger_markdown(ledger, args.lang))
        print(f"written: {args.report}")
    if args.check and report.failing:
        print(f"perfdata claims --check: {report.counts[ClaimStatus.REFUTED]} refuted, "
              f"{len(report.inconsistent)} inconsistent", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
