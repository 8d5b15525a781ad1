"""A/A and A/B experiment: does the verdict stay quiet on re-runs and catch a real slowdown?

Builds a throw-away project with one compute-bound workload (fixed work: sum of squares of a
fixed range), saves it as baseline once, then re-runs it unchanged (A/A) and with the work made
``--slowdown`` times larger (A/B), each run a fresh pytest process. Prints how many runs of each
kind failed, passed or were inconclusive, and exits non-zero if A/A ever failed or A/B was
caught in fewer than 95 % of runs.

    python tools/aa_ab.py --runs 20 --slowdown 1.3
    python tools/aa_ab.py --fixture benchmark --runs 15     # a pytest-benchmark test instead
    python tools/aa_ab.py --limit 5% --slowdown 1.1          # a tighter regression limit
    python tools/aa_ab.py --counter --limit 2% --slowdown 1.05   # judged on instruction counts (valgrind)
    python tools/aa_ab.py --hogs 2 --runs 8                  # beside two busy-looping processes
    python tools/aa_ab.py --xdist 2 --runs 4                 # each run under pytest-xdist, -n 2
    python tools/aa_ab.py --sensitivity 0.8..1.2             # the loop declared to follow the drift reference

With ``--details`` it also prints how strongly the loop followed the drift reference across the
A/A runs (the sensitivity: log of the figure's ratio over log of the reference's), the figure a
baseline's ``drift_sensitivity`` declares.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

#: The fixed work, as the test module's top.
KERNEL = '''
N = {n}

def kernel():
    total = 0
    for i in range(N):
        total += i * i
    return total
'''

WORKLOAD = KERNEL + '''
def test_kernel(perf):
    perf.measure("aa.kernel", kernel, unit="ms")
'''

#: The same work as a pytest-benchmark test: its record is ``benchmark.test_kernel``.
BENCHMARK_TEST = KERNEL + '''
def test_kernel(benchmark):
    benchmark(kernel)
'''




def counted(template: str) -> str:
    """The same test opted in to instruction counts (``--counter``): its count is then the judged record."""
    marked = template.replace("\ndef test_kernel", '\n@pytest.mark.perf(counter="instructions")\ndef test_kernel')
    return "import pytest\n" + marked


def run_once(project: Path, n: int, *extra: str, template: str = WORKLOAD,
             metric_suffix: str = "") -> tuple[str, float, float]:
    """One fresh pytest process: the verdict's outcome, the figure and the drift reference's median (us).

    ``metric_suffix`` picks the record judged (``.instructions``: the count beside the timing).
    """
    (project / "test_workload.py").write_text(template.format(n=n))
    report = project / "report.json"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
           f"--perf-report={report}", *extra, str(project / "test_workload.py")]
    report.unlink(missing_ok=True)
    done = subprocess.run(cmd, cwd=project, capture_output=True, text=True, check=False)
    if not report.exists():  # pytest did not get as far as the report: say why instead of a traceback
        raise SystemExit(f"aa_ab: {' '.join(cmd)} exited {done.returncode} without a report:\n"
                         f"{(done.stdout + done.stderr)[-3000:]}")
    document = json.loads(report.read_text())
    (record,) = [r for r in document["records"] if r["metric"].endswith(metric_suffix or "kernel")]
    outcome = record["verdict"]["outcome"] if record["verdict"] else "none"
    return outcome, record["value"], record["reference_us"]


def declare_sensitivity(project: Path, sensitivity: str) -> None:
    """Write ``drift_sensitivity`` into the saved entries (the judged metric, and its count if any)."""
    from pytest_perfdata.baseline import load_baseline_file
    from pytest_perfdata.baseline_writer import set_fields

    (baseline,) = (project / "baselines").glob("*.yaml")
    entries = load_baseline_file(baseline, baseline.stem).entries
    if not entries:
        raise SystemExit(f"aa_ab: no entry in {baseline} to declare a sensitivity for")
    set_fields(baseline, baseline.stem, {metric: {"drift_sensitivity": sensitivity} for metric in entries})


def followed(pairs: list[tuple[float, float]]) -> str:
    """How the figure followed the reference over A/A runs: (figure ratio, reference ratio) pairs.

    The sensitivity is :func:`calibrate.sensitivity`'s estimate, the range a baseline's
    ``drift_sensitivity`` would declare.
    """
    from calibrate import sensitivity  # tools/calibrate.py, beside this script

    corrected = sorted(f / r for f, r in pairs)
    line = (f"A/A figure ÷ reference, against the save run's: {corrected[0]:.3f}..{corrected[-1]:.3f} "
            f"(median {corrected[len(corrected) // 2]:.3f})")
    fitted = sensitivity(pairs)
    return line + (f"; sensitivity {fitted[0]:g}..{fitted[1]:g}" if fitted else
                   "; the reference moved too little to tell a sensitivity")


@contextlib.contextmanager
def cpu_hogs(count: int) -> Iterator[None]:
    """``count`` processes busy-looping on the CPU for as long as the block runs: a loaded machine."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--slowdown", type=float, default=1.3)
    parser.add_argument("--work", type=int, default=20_000, help="loop length of the A workload")
    parser.add_argument("--fixture", choices=("perf", "benchmark"), default="perf",
                        help="measure with perf.measure or with pytest-benchmark's fixture")
    parser.add_argument("--limit", default="10%", help="the regression limit stored with the baseline")
    parser.add_argument("--counter", action="store_true",
                        help="opt the test in to instruction counts (valgrind) and judge the count, not the timing")
    parser.add_argument("--hogs", type=int, default=0, help="busy-looping processes beside the judged runs")
    parser.add_argument("--xdist", type=int, default=0, help="run the judged runs under pytest-xdist with -n N")
    parser.add_argument("--sensitivity", metavar="LOW..HIGH",
                        help="declare in the saved baseline how the loop follows the drift reference")
    parser.add_argument("--details", action="store_true",
                        help="one line per run: the figure and the reference, each against the save run's")
    args = parser.parse_args()
    template = WORKLOAD if args.fixture == "perf" else BENCHMARK_TEST
    suffix = ""
    if args.counter:
        template, suffix = counted(template), ".instructions"
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pytest.ini").write_text("[pytest]\n")
        _, saved_value, saved_reference = run_once(project, args.work, "--perf-save", f"--perf-regression={args.limit}",
                                      template=template, metric_suffix=suffix)
        if args.sensitivity:
            declare_sensitivity(project, args.sensitivity)
        outcomes = {"A/A": Counter(), "A/B": Counter()}
        drift = []
        aa_pairs: list[tuple[float, float]] = []
        judged = ("-n", str(args.xdist)) if args.xdist else ()
        with cpu_hogs(args.hogs):
            for _ in range(args.runs):
                for kind, work in (("A/A", args.work), ("A/B", round(args.work * args.slowdown))):
                    outcome, value, reference = run_once(project, work, *judged, template=template,
                                                         metric_suffix=suffix)
                    outcomes[kind][outcome] += 1
                    if args.details:
                        drifted = (f", reference ×{reference / saved_reference:.3f}"
                                   if reference and saved_reference else "")
                        print(f"{kind} {outcome:12} figure ×{value / saved_value:.4f}{drifted}", flush=True)
                    if reference and saved_reference:  # records without a drift reference have none
                        drift.append(reference / saved_reference)
                        if kind == "A/A":
                            aa_pairs.append((value / saved_value, reference / saved_reference))
    drift.sort()
    if drift:
        print(f"drift reference, this run / save run: median {drift[len(drift) // 2]:.2f}, "
              f"range {drift[0]:.2f}..{drift[-1]:.2f}")
    if args.details and aa_pairs:
        print(followed(aa_pairs))
    for kind, counts in outcomes.items():
        print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" (of {args.runs})")
    false_alarms = outcomes["A/A"]["fail"]
    caught = outcomes["A/B"]["fail"]
    ok = false_alarms == 0 and caught >= 0.95 * args.runs
    print("OK" if ok else "NOT OK", f"false alarms {false_alarms}, regressions caught {caught}/{args.runs}",
          f"({args.fixture}{', instructions' if args.counter else ''}, limit {args.limit}, slowdown {args.slowdown}"
          f"{f', {args.hogs} CPU hogs' if args.hogs else ''}{f', -n {args.xdist}' if args.xdist else ''}"
          f"{f', sensitivity {args.sensitivity}' if args.sensitivity else ''})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
