"""Peak resident memory of one run of a command, measured from a tiny native launcher."""

from __future__ import annotations

from pathlib import Path

from .native import NativeProgram, build_native, run_native

__all__ = ["PeakRss"]


_SOURCE = Path(__file__).with_name("peak_rss.c")


class PeakRss:
    """Runs commands under ``peak_rss.c`` (built once, static) and returns their peak RSS in bytes.

    Measuring from Python would charge every child with Python's own memory image (a child's
    ``ru_maxrss`` counts the image it was forked from, up to its exec).
    """

    def __init__(self, cache_dir: Path) -> None:
        self.program: NativeProgram = build_native(_SOURCE, cache_dir, static=True)

    def measure(self, argv: list[str], timeout_s: float = 30.0) -> int:
        done = run_native(self.program, *argv, timeout_s=timeout_s)
        if done.exit_code != 0:
            raise RuntimeError(f"{argv[0]} exited {done.exit_code}: {done.error_text[-200:]}")
        return int(done.stdout.decode().strip().splitlines()[-1]) * 1024
