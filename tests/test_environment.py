"""The machine's fingerprint: parsed from /proc text (recorded samples), and its label."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import ENVIRONMENT

from pytest_perfdata import environment
from pytest_perfdata.environment import machine_label

X86 = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 167
model name\t: Intel(R) Xeon(R) Processor
stepping\t: 1

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Processor
stepping\t: 7
"""

ARM = """processor\t: 0
BogoMIPS\t: 108.00
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd0c
CPU revision\t: 1
"""


@pytest.mark.parametrize(
    ("cpuinfo", "signature"),
    [(X86, "GenuineIntel 6/167/1"), (ARM, "0x41/0xd0c/r0x0p1"), ("", "")],
    ids=["x86-first-cpu-only", "arm", "unreadable"],
)
def test_cpu_signature(monkeypatch: pytest.MonkeyPatch, cpuinfo: str, signature: str) -> None:
    monkeypatch.setattr(environment, "_read", lambda path: cpuinfo if path == "/proc/cpuinfo" else "")
    assert environment._cpu_signature() == signature


def test_label_tells_cpu_generations_apart_when_model_names_do_not() -> None:
    """Two virtual CPUs both called "Intel(R) Xeon(R) Processor" are different machines."""
    older = replace(ENVIRONMENT, cpu_signature="GenuineIntel 6/85/7")
    newer = replace(ENVIRONMENT, cpu_signature="GenuineIntel 6/167/1")
    assert machine_label(older) != machine_label(newer)
    assert "[GenuineIntel 6/167/1]" in machine_label(newer)


def test_label_ignores_what_does_not_move_timings() -> None:
    """Memory size and the Python patch level differ between otherwise identical runners."""
    base = replace(ENVIRONMENT, python="3.11.7")
    other = replace(ENVIRONMENT, python="3.11.9", memory_bytes=ENVIRONMENT.memory_bytes + 2**20, runtimes={"x": "1"})
    assert machine_label(base) == machine_label(other)
    assert machine_label(base) != machine_label(replace(base, kernel="Linux 6.18.0"))
    assert machine_label(base) != machine_label(replace(base, cores=4))
