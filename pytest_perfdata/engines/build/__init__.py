"""Workloads built from source: WAT and WASI C to Wasm, C to native programs, cached by content hash.

One module per job: :mod:`.workloads` builds and caches Wasm and native workloads, :mod:`.native`
compiles and runs the native floor, :mod:`.peak_rss` measures a command's peak memory from a
tiny static launcher. Nothing here is imported until a fixture or a suite asks for it.
"""

from __future__ import annotations

__all__: list[str] = []
