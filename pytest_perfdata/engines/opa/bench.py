"""``opa bench``: OPA's own benchmark of a policy on an input, run by the CLI and its JSON read."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

from .._text import first_line
from ..process import RunTimeout, run_bounded
from .cli import find_opa
from .errors import PolicyError
from .opa_errors import opa_json_error
from .policy import Policy

__all__ = ["bench_arguments", "opa_bench", "parse_bench_json"]

_BENCH_TIMEOUT_S: Final = 600.0


def opa_bench(
    opa: Path | str | None,
    policy: Policy,
    input: Mapping[str, Any],
    target: Literal["rego", "wasm"] = "rego",
    e2e: bool = False,
    *,
    timeout_s: float = _BENCH_TIMEOUT_S,
) -> dict[str, float]:
    """OPA's own benchmark of ``policy`` on ``input``: ``opa bench --format json …``, parsed.

    These are OPA's figures (Go's ``testing.Benchmark`` inside the CLI), not ours: the record
    that carries them should say so. Raises :class:`PolicyUnavailable` without the CLI and
    :class:`PolicyError` when OPA rejects the policy.
    """
    if target not in ("rego", "wasm"):
        raise ValueError(f"opa bench target must be 'rego' or 'wasm', not {target!r}")
    cli = find_opa(opa)
    policy.checked_sources()  # a typo in the entrypoint fails here, not inside opa bench
    with tempfile.TemporaryDirectory(prefix="perfdata-opa-bench-") as scratch:
        input_file = Path(scratch) / "input.json"
        input_file.write_text(json.dumps(input), encoding="utf-8")
        argv = [str(cli), *bench_arguments(policy, input_file, target, e2e)]
        try:
            done = run_bounded(argv, timeout_s=timeout_s)
        except RunTimeout as exc:
            raise PolicyError(f"{policy.name}: opa bench did not finish: {exc}") from None
    stdout = done.stdout.decode(errors="replace")
    if done.exit_code != 0:
        stderr = done.stderr.decode(errors="replace")
        raise opa_json_error(
            done.stdout,
            f"{policy.name}: opa bench failed: {first_line(stderr) or first_line(stdout)}",
            text=stdout + "\n" + stderr,
        )
    return parse_bench_json(stdout)


def bench_arguments(policy: Policy, input_file: Path, target: str, e2e: bool) -> list[str]:
    """The ``opa bench`` arguments (after the executable) for one policy and input file."""
    argv = ["bench", "--format", "json", "--count", "1", "-t", target]
    if e2e:
        argv.append("--e2e")
    for path in policy.files:
        argv += ["-d", str(path)]
    return [*argv, "-i", str(input_file), policy.query]


def parse_bench_json(text: str) -> dict[str, float]:
    """Figures from ``opa bench --format json``: Go's ``testing.BenchmarkResult`` as JSON.

    That object has ``N`` (iterations), ``T`` (total nanoseconds), ``MemAllocs``/``MemBytes``
    (totals) and ``Extra`` (OPA's metric histograms, e.g. ``timer_rego_query_eval_ns_p99``).
    Per-operation figures are derived (``ns_per_op = T / N``, as OPA's pretty output does);
    keys already given per operation (``ns_per_op``, ``…_ns/op``) are kept as they are. With
    several results (``--count``), the last one is returned.
    """
    decoder = json.JSONDecoder()
    results: list[Mapping[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"opa bench output is not JSON: {exc}") from None
        if isinstance(value, Mapping):
            results.append(value)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not results:
        raise ValueError("opa bench printed no result")
    result = results[-1]
    if "errors" in result and "N" not in result:
        raise ValueError(f"opa bench reported errors: {result['errors']}")
    figures: dict[str, float] = {}
    for key, value in result.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            figures[key] = float(value)
    for key, value in (result.get("Extra") or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            figures[key] = float(value)
    n = figures.get("N", 0.0)
    if n <= 0:
        raise ValueError("opa bench result has no iterations (N)")
    if "T" in figures:
        figures.setdefault("ns_per_op", figures["T"] / n)
    if "MemAllocs" in figures:
        figures.setdefault("allocs_per_op", figures["MemAllocs"] / n)
    if "MemBytes" in figures:
        figures.setdefault("bytes_per_op", figures["MemBytes"] / n)
    if "ns_per_op" not in figures:
        raise ValueError("opa bench result has neither T nor ns_per_op")
    return figures
