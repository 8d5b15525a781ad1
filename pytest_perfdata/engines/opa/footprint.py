"""Resident memory of a policy engine with a policy loaded, measured in a fresh process.

Measured inside a long-running test process, "memory after loading minus memory before" is
mostly zero: the allocator reuses pages that earlier tests freed, and libraries imported by
earlier tests are already mapped. A fresh Python process that imports nothing but this module
starts from the same state every time, so the growth of its resident set (RSS) from before the
engine is imported to after the policy is loaded and evaluated once is the engine's own
footprint: the pages of its libraries it touched, its heap, the compiled policy.

RSS, not private memory or PSS: the pages of a shared library count as private only while no
other process maps them. With the engine also loaded in the test process, the child's private
growth fell from 20 MiB to 10 MiB, and PSS would halve it; RSS stays the same.

:func:`engine_footprint` runs this module in a fresh interpreter (:mod:`.fresh`).
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

from ...memory import process_memory
from ...record import Engine
from ..fresh import FreshProcessError, answer_fresh, run_fresh

__all__ = ["Footprint", "FootprintError", "engine_footprint"]

#: Engines whose memory lives in the measuring process. The http engine's lives in the server.
IN_PROCESS_ENGINES = ("rego-cpp", "opa-go", "wasm", "opa-py-wasm")


#: The child could not load or evaluate the policy; the message carries its stderr.
FootprintError = FreshProcessError


@final
@dataclass(frozen=True, slots=True)
class Footprint:
    """Resident set of a fresh process before importing the engine and after one evaluation."""

    engine: Engine
    before_bytes: int
    after_bytes: int

    @property
    def engine_bytes(self) -> int:
        return max(self.after_bytes - self.before_bytes, 0)


def engine_footprint(
    engine: str,
    files: tuple[Path, ...],
    entrypoint: str,
    input: Mapping[str, Any],
    *,
    opa_path: str | None = None,
    bundle: Path | None = None,
    timeout_s: float = 120.0,
) -> Footprint:
    """Load ``files`` under ``engine`` in a fresh interpreter and report its resident set."""
    if engine not in IN_PROCESS_ENGINES:
        raise ValueError(f"{engine}: only {', '.join(IN_PROCESS_ENGINES)} run in the measuring process")
    job = {
        "engine": engine,
        "files": [str(f) for f in files],
        "entrypoint": entrypoint,
        "input": input,
        "opa_path": opa_path,
        "bundle": str(bundle) if bundle else None,
    }
    answer = run_fresh(__name__, job, label=f"{engine} footprint", timeout_s=timeout_s)
    return Footprint(Engine(**answer["engine"]), answer["before"], answer["after"])


def _resident_now() -> int:
    gc.collect()
    return process_memory().rss


def _child(job: Mapping[str, Any]) -> dict[str, Any]:
    before = _resident_now()
    from . import Policy, select_engine  # the import is part of the engine's cost

    chosen = select_engine(
        job["engine"], opa_path=job.get("opa_path"), bundle=Path(job["bundle"]) if job.get("bundle") else None
    )
    loaded = chosen.load(Policy("footprint", tuple(Path(f) for f in job["files"]), job["entrypoint"]))
    loaded.evaluate(job["input"])
    after = _resident_now()
    engine = chosen.engine
    return {"before": before, "after": after,
            "engine": {"name": engine.name, "version": engine.version, "mode": engine.mode}}


if __name__ == "__main__":
    answer_fresh(_child)
