"""Measure each metric's run-to-run noise, to choose regression limits that do not cry wolf.

Runs the given pytest arguments ``--runs`` times, each a fresh process (between-process
variation is the noise a nightly run sees: memory layout, core placement, neighbours), reads
every run's JSON report and prints, per metric, the spread of the drift-corrected values and
a suggested ``regression:`` limit: 1.5 x the observed max/min spread, at least 10 %.

When the drift reference itself moved between the runs by 20 % or more (on a machine that jumps
between speed modes it does), it also prints how strongly each metric followed it: the slope of
log(value) over log(reference) across the runs, as a ``drift_sensitivity:`` range (the slope
± three standard errors, at least ± 0.1). A verdict then needs a regression to show only across
that range instead of across everything from the raw figures to the fully corrected ones.

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


def reference_pairs(reports: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """Per metric, each run's (value, reference) where the run timed a reference beside it."""
    pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for report in reports:
        for record in report["records"]:
            if record.get("reference_us") and record["value"] > 0:
                pairs[record["metric"]].append((record["value"], record["reference_us"]))
    return pairs


#: The reference must have moved at least this much across the runs to tell a sensitivity.
MIN_REFERENCE_SPREAD = 1.2


def sensitivity(pairs: list[tuple[float, float]]) -> tuple[float, float] | None:
    """How strongly the value followed the reference across runs, as a (low, high) range, or None.

    None when there are fewer than four runs or the reference moved too little to tell.
    """
    if len(pairs) < 4:
        return None
    xs = [math.log(reference) for _, reference in pairs]
    ys = [math.log(value) for value, _ in pairs]
    if math.exp(max(xs) - min(xs)) < MIN_REFERENCE_SPREAD:
        return None
    n, mean_x, mean_y = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sxx
    residual = sum((y - mean_y - slope * (x - mean_x)) ** 2 for x, y in zip(xs, ys)) / (n - 2)
    half = max(0.1, 3 * math.sqrt(residual / sxx))
    low, high = max(0.0, slope - half), min(3.0, slope + half)
    return math.floor(low * 20) / 20, math.ceil(high * 20) / 20


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
    pairs = reference_pairs(reports)
    for metric, runs in sorted(corrected_values(reports).items()):
        spread, limit = suggestion(runs)
        limits[metric] = {"regression": f"{limit}%"}
        line = f"{metric}: spread {spread:.1%} over {len(runs)} runs -> regression: {limit}%"
        followed = sensitivity(pairs.get(metric, []))
        if followed is not None:
            limits[metric]["drift_sensitivity"] = f"{followed[0]:g}..{followed[1]:g}"
            line += f", drift_sensitivity: {followed[0]:g}..{followed[1]:g}"
        print(line)
    if args.apply is not None and limits:
        from pytest_perfdata.baseline_writer import set_fields

        missing = set_fields(args.apply, args.apply.stem, limits)
        print(f"wrote {len(limits) - len(missing)} limits to {args.apply}"
              + (f"; no entry for: {', '.join(missing)}" if missing else ""))
    return 0 if reports else 1


if __name__ == "__main__":
    raise SystemExit(main())
