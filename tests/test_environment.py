"""The machine's fingerprint: parsed from /proc text (recorded samples), and its label."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import ENVIRONMENT
from hypothesis import given
from hypothesis import strategies as st

from pytest_perfdata import environment
from pytest_perfdata.environment import machine_class, machine_label

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
    assert "[GenuineIntel 6/167]" in machine_label(newer)


def test_label_ignores_what_does_not_move_timings() -> None:
    """Memory size and the Python patch level differ between otherwise identical runners."""
    base = replace(ENVIRONMENT, python="3.11.7")
    other = replace(ENVIRONMENT, python="3.11.9", memory_bytes=ENVIRONMENT.memory_bytes + 2**20, runtimes={"x": "1"})
    assert machine_label(base) == machine_label(other)
    assert machine_label(base) != machine_label(replace(base, kernel="Linux 6.18.0"))
    assert machine_label(base) != machine_label(replace(base, cores=4))


def test_label_ignores_stepping_and_kernel_patch_level() -> None:
    """A kernel build string or a CPU revision should not start a new machine: runners differ in them."""
    base = replace(ENVIRONMENT, cpu_signature="GenuineIntel 6/207/2", kernel="Linux 6.18.44-fc-v595")
    rebuilt = replace(base, cpu_signature="GenuineIntel 6/207/5", kernel="Linux 6.18.51-fc-v1045")
    assert machine_label(base) == machine_label(rebuilt)
    assert ", Linux 6.18, " in machine_label(base) and "[GenuineIntel 6/207]" in machine_label(base)
    assert machine_label(base) != machine_label(replace(base, cpu_signature="GenuineIntel 6/143/8"))
    arm = replace(ENVIRONMENT, cpu_signature="0x41/0xd08/r0p3")
    assert machine_label(arm) == machine_label(replace(arm, cpu_signature="0x41/0xd08/r1p0"))
    assert machine_label(arm) != machine_label(replace(arm, cpu_signature="0x41/0xd0c/r0p3"))


def test_labels_stored_before_machine_classes_compare_with_todays() -> None:
    stored = "x86_64, Intel(R) Xeon(R) Processor [GenuineIntel 6/207/2], 2 cores, Linux 6.18.44-fc-v595, Python 3.11"
    here = replace(ENVIRONMENT, cpu_model="Intel(R) Xeon(R) Processor", cpu_signature="GenuineIntel 6/207/2",
                   cores=2, kernel="Linux 6.18.44-fc-v1045", python="3.11.7", architecture="x86_64")
    assert machine_class(stored) == machine_label(here)


_LABEL_PART = st.text(alphabet=st.characters(blacklist_characters=",[]", blacklist_categories=("Cs",)), max_size=12)


@given(_LABEL_PART, st.integers(0, 255), st.integers(0, 255), st.integers(0, 99), st.integers(0, 99),
       st.integers(0, 999), st.text(alphabet="abcdefv-0123456789", max_size=10))
def test_a_machine_class_is_stable_and_keeps_generation_and_kernel_version(
    model: str, family: int, cpu_model: int, major: int, minor: int, patch: int, build: str
) -> None:
    label = (f"x86_64, {model} [GenuineIntel {family}/{cpu_model}/7], 2 cores, "
             f"Linux {major}.{minor}.{patch}{build}, Python 3.11.4")
    reduced = machine_class(label)
    assert machine_class(reduced) == reduced  # idempotent: a stored class reads as itself
    assert f"[GenuineIntel {family}/{cpu_model}]" in reduced
    assert f", Linux {major}.{minor}, " in reduced and reduced.endswith(", Python 3.11")
