"""Memory readings: /proc parsing for this process, and peak RSS of a command from a tiny launcher."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_perfdata.memory import MemoryUnavailable, process_memory

ALLOCATES = r"""
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    size_t bytes = (size_t)atol(argv[1]) << 20;
    char *block = malloc(bytes);
    memset(block, 1, bytes);   /* touch every page: resident, not just reserved */
    return block[bytes - 1] == 1 ? 0 : 1;
}
"""


def test_process_memory_of_this_process() -> None:
    memory = process_memory()
    assert memory.rss > 0 and 0 < memory.pss <= memory.rss and memory.private <= memory.rss


def test_process_memory_of_a_missing_process_says_so() -> None:
    with pytest.raises(MemoryUnavailable, match="cannot read /proc/999999999/smaps_rollup"):
        process_memory(999_999_999)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found: apt-get install gcc libc6-dev")
def test_peak_rss_sees_the_command_not_python(tmp_path: Path) -> None:
    """A 40 MiB allocation reads as ≥ 40 MiB; a 1 MiB one reads far below Python's own size."""
    from pytest_perfdata.engines.build.native import build_native
    from pytest_perfdata.engines.build.peak_rss import PeakRss

    source = tmp_path / "allocates.c"
    source.write_text(ALLOCATES)
    program = build_native(source, tmp_path)
    peak = PeakRss(tmp_path)
    assert peak.measure([str(program.path), "40"]) >= 40 << 20
    assert peak.measure([str(program.path), "1"]) < min(process_memory().rss, 16 << 20)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found: apt-get install gcc libc6-dev")
def test_peak_rss_reports_a_failing_command(tmp_path: Path) -> None:
    from pytest_perfdata.engines.build.peak_rss import PeakRss

    with pytest.raises(RuntimeError, match="exited 1"):
        PeakRss(tmp_path).measure(["false"])
