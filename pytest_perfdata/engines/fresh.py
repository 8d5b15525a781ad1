"""Measurements that need a fresh interpreter: memory figures a long test process would distort.

Inside the long-lived pytest process, "memory after minus memory before" reads low and varies:
the allocator hands out pages that earlier tests freed, and libraries that earlier tests loaded
are already mapped. A fresh ``python -m <module>`` starts from the same state every time.

The parent calls :func:`run_fresh` with a JSON-able job; the child module ends with
``answer_fresh(work)``, which reads the job from stdin and prints ``work(job)`` as one JSON line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FreshProcessError", "answer_fresh", "run_fresh"]


class FreshProcessError(RuntimeError):
    """The child failed; the message ends with the last lines of its error text (its stderr)."""


def run_fresh(module: str, job: Mapping[str, Any], *, label: str, timeout_s: float = 120.0) -> dict[str, Any]:
    """Run ``python -m module`` with ``job`` on stdin and return the JSON object it printed last.

    Bounded like every child: past ``timeout_s`` its process group is killed (RunTimeout).
    """
    from .process import run_bounded  # the parent's side only: a child answering needs no subprocess

    done = run_bounded([sys.executable, "-m", module], input=json.dumps(job).encode(), timeout_s=timeout_s)
    if done.exit_code != 0:
        tail = done.error_text.strip().splitlines()[-3:]
        raise FreshProcessError(f"{label} child exited {done.exit_code}: {' | '.join(tail)}")
    answer: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return answer


def answer_fresh(work: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """The child's side: read the job from stdin, print the answer as the last line of stdout."""
    print(json.dumps(work(json.load(sys.stdin))))
