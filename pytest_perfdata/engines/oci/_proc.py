"""The container's processes as the host sees them, read from ``/proc``: are they alive, who are they."""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["descendants", "wait_dead"]


def wait_dead(pid: int, *, timeout_s: float) -> None:
    """Poll until ``pid`` is gone or a zombie; its parent (not us) reaps it."""
    deadline = time.monotonic() + timeout_s
    stat = Path("/proc") / str(pid) / "stat"
    while time.monotonic() < deadline:
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.002)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from ``/proc/<pid>/task/*/children``."""
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        task_dir = Path("/proc") / str(current) / "task"
        try:
            tasks = list(task_dir.iterdir())
        except OSError:
            continue
        found.append(current)
        for task in tasks:
            try:
                pending.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue
    return found
