"""Resident memory of processes, read from /proc: what a workload really costs in RAM.

PSS (proportional set size) splits shared pages between the processes that map them, so the
PSS of N instances or containers adds up to what they occupy together; RSS would count shared
libraries once per process. Both come from ``/proc/<pid>/smaps_rollup`` (Linux >= 4.14).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import final

__all__ = ["MemoryUnavailable", "ProcessMemory", "process_memory"]


class MemoryUnavailable(Exception):
    """The kernel does not expose smaps_rollup for this process (not Linux, or gone)."""


@final
@dataclass(frozen=True, slots=True)
class ProcessMemory:
    """Resident memory of one process, in bytes."""

    rss: int
    pss: int
    private: int  # private clean + private dirty: what only this process holds


def process_memory(pid: int | str = "self") -> ProcessMemory:
    """RSS, PSS and private memory of ``pid`` (default: this process)."""
    path = Path("/proc") / str(pid) / "smaps_rollup"
    try:
        text = path.read_text()
    except OSError as error:
        raise MemoryUnavailable(f"cannot read {path}: {error.strerror or error}") from None
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = int(parts[0]) * 1024
    return ProcessMemory(
        rss=fields.get("Rss", 0),
        pss=fields.get("Pss", 0),
        private=fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0),
    )

