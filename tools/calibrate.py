"""Measure each metric's run-to-run noise, to choose regression limits that do not cry wolf.

Runs the given pytest arguments ``--runs`` times, each a fresh process (between-process
variation is the noise a nightly run sees: memory layout, core placement, neighbours), reads
every run's JSON report and prints, per metric, the spread of the drift-corrected values and
a suggested ``regression:`` limit: 1.5 x the observed max/min spread, at least 10 %.

    python tools/calibrate.py --runs 5 -- suites/self
    python tools/calibrate.py --runs 6 --apply baselines/x86_64.yaml -- suites/wasmedge

``--apply`` writes the suggested limits into the entries of that baseline file (other fields,
comments and entries stay as they are); metrics without an entry there are listed, not added.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path


def corrected_values(reports: list[dict]) -> dict[str, list[float]]:
    """Per metric, each run's value divided by that run's reference kernel (when timed)."""
    values: dict[str, list[float]] = defaultdict(list)
    for report in reports:
        for record in report["records"]:
            reference = record.get("reference_us")
            values[record["metric"]].append(record["value"] / reference if reference else record["value"])
    return values


def suggestion(runs: list[float]) -> tuple[float, int]:
    """Observed spread (max/min - 1) and the suggested regression limit in whole percent."""
    low, high = min(runs), max(runs)
    spread = high / low - 1 if low > 0 else math.inf
    return spread, max(10, math.ceil(spread * 150 / 5) * 5) if math.isfinite(spread) else 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apply", type=Path, metavar="BASELINE_FILE", help="write the limits into this file")
    parser.add_argument("pytest_args", nargs="+")
    args = parser.parse_args()
    reports = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.runs):
            path = Path(tmp) / f"run{index}.json"
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--perf-report={path}",
                       "--perf-inconclusive=pass", *args.pytest_args]
            subprocess.run(command, capture_output=True, check=False)
            if path.exists():
                reports.append(json.loads(path.read_text()))
            print(f"run {index + 1}/{args.runs}: {'ok' if path.exists() else 'no report'}", file=sys.stderr)
    limits = {}
    for metric, runs in sorted(corrected_values(reports).items()):
        spread, limit = suggestion(runs)
        limits[metric] = {"regression": f"{limit}%"}
        print(f"{metric}: spread {spread:.1%} over {len(runs)} runs -> regression: {limit}%")
    if args.apply is not None and limits:
        from pytest_perfdata.baseline_writer import set_fields

        missing = set_fields(args.apply, args.apply.stem, limits)
        print(f"wrote {len(limits) - len(missing)} limits to {args.apply}"
              + (f"; no entry for: {', '.join(missing)}" if missing else ""))
    return 0 if reports else 1


if __name__ == "__main__":
    raise SystemExit(main())
