"""Measure each metric's run-to-run noise, to choose regression limits that do not cry wolf.

Runs the given pytest arguments ``--runs`` times, each a fresh process (between-process
variation is the noise a nightly run sees: memory layout, core placement, neighbours), reads
every run's JSON report and prints, per metric, the spread of the drift-corrected values and
a suggested ``regression:`` limit: 1.5 x the observed max/min spread, at least 10 %.

    python tools/calibrate.py --runs 5 -- suites/self
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
    for metric, runs in sorted(corrected_values(reports).items()):
        spread, limit = suggestion(runs)
        print(f"{metric}: spread {spread:.1%} over {len(runs)} runs -> regression: {limit}%")
    return 0 if reports else 1


if __name__ == "__main__":
    raise SystemExit(main())
