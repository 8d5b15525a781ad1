"""Fingerprint of the machine a measurement ran on, and the target names derived from it."""

from __future__ import annotations

import functools
import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from .targets import machine_target

__all__ = [
    "COUNTED_UNITS", "Environment", "collect_environment", "comparison_class", "machine_class", "machine_label",
    "machine_target",
]


@final
@dataclass(frozen=True, slots=True)
class Environment:
    """The test environment of a record: enough to tell whether two figures are comparable."""

    architecture: str
    cpu_model: str
    cores: int
    memory_bytes: int
    os: str
    kernel: str
    python: str
    xdist_workers: int = 0
    cpu_signature: str = ""  # vendor and family/model/stepping: model names of virtual CPUs are vague
    runtimes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Environment:
        return cls(**{**data, "runtimes": dict(data.get("runtimes", {}))})


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
            return value.strip()
    return platform.processor() or "unknown"


def _cpu_signature() -> str:
    """Vendor and family/model/stepping (x86) or implementer/part/revision (Arm) of CPU 0.

    Virtual machines often report a bare "Intel(R) Xeon(R) Processor"; these numbers still
    tell one CPU generation from another, which is what decides whether timings compare.
    """
    fields: dict[str, str] = {}
    for line in _read("/proc/cpuinfo").splitlines():
        if not line.strip():
            if fields:
                break  # the first processor's block is enough
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    if "cpu family" in fields:
        return f"{fields.get('vendor_id', '?')} {fields['cpu family']}/{fields.get('model', '?')}/{fields.get('stepping', '?')}"
    if "CPU implementer" in fields:
        return f"{fields['CPU implementer']}/{fields.get('CPU part', '?')}/r{fields.get('CPU variant', '?')}p{fields.get('CPU revision', '?')}"
    return ""


def _memory_bytes() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _os_name() -> str:
    fields = {}
    for line in _read("/etc/os-release").splitlines():
        key, _, value = line.partition("=")
        fields[key] = value.strip().strip('"')
    if "NAME" in fields and "VERSION_ID" in fields:
        return f"{fields['NAME'].split()[0]} {fields['VERSION_ID']}"
    return fields.get("PRETTY_NAME") or f"{platform.system()} {platform.release()}"


@functools.lru_cache(maxsize=1)
def _static_facts() -> tuple[str, str, str, int, int, str, str, str]:
    return (
        machine_target(),
        _cpu_model(),
        _cpu_signature(),
        os.cpu_count() or 1,
        _memory_bytes(),
        _os_name(),
        f"{platform.system()} {platform.release()}",
        platform.python_version(),
    )


def collect_environment(runtimes: dict[str, str] | None = None, xdist_workers: int = 0) -> Environment:
    """The environment of this process, with the versions of the runtimes a record used."""
    arch, cpu, signature, cores, memory, os_name, kernel, python = _static_facts()
    return Environment(
        architecture=arch,
        cpu_model=cpu,
        cpu_signature=signature,
        cores=cores,
        memory_bytes=memory,
        os=os_name,
        kernel=kernel,
        python=python,
        xdist_workers=xdist_workers,
        runtimes=dict(runtimes or {}),
    )


def machine_label(env: Environment) -> str:
    """Who measured, as a machine class: the facts that decide whether two timings compare at all.

    Stored with every saved baseline. Regression limits compare a run only with values stored
    under the same label: CPU generation (vendor, family and model; Arm implementer and part),
    core count, kernel version (major.minor) and Python version each move timings by more than
    any regression limit we would set. Left out, because they differ between otherwise
    identical runners and rarely move a timing: memory size, the CPU's stepping (revision), the
    kernel's patch level and build string, Python's patch level (see :func:`machine_class`).
    """
    cpu = f"{env.cpu_model} [{env.cpu_signature}]" if env.cpu_signature else env.cpu_model
    return machine_class(f"{env.architecture}, {cpu}, {env.cores} cores, {env.kernel}, Python {env.python}")


#: Units of figures counted in software (valgrind's cachegrind), not timed: the count of a piece of
#: Python code depends on the interpreter and the architecture's instruction set, not on the
#: CPU's model, its speed, the kernel or how busy the machine is.
COUNTED_UNITS = frozenset({"instructions"})


def comparison_class(env: Environment, unit: str) -> str:
    """The class of machines whose stored figures in ``unit`` compare with a figure measured on ``env``.

    Timings compare only within a machine class (:func:`machine_label`). An instruction count
    compares on any machine of the same architecture running the same Python: so a count stored
    on one CI runner still judges the next runner, whatever its CPU. Assumed: valgrind's
    simulated CPU makes the code executed, not the host's model, decide the count (C library
    routines picked by CPU features aside), and the runners share the interpreter's build (a
    build with other compiler options executes other instructions).
    """
    if unit in COUNTED_UNITS:
        return machine_class(f"{env.architecture}, instructions counted by valgrind, Python {env.python}")
    return machine_label(env)


_STEPPING = re.compile(r"\[(\S+ \d+/\d+)/\w+\]")  # x86: [vendor family/model/stepping]
_ARM_REVISION = re.compile(r"\[(0x[0-9a-fA-F]+/0x[0-9a-fA-F]+)/r\w+p\w+\]")  # Arm: [implementer/part/rVpR]
_KERNEL_PATCH = re.compile(r", Linux (\d+\.\d+)[^,]*,")
_PYTHON_PATCH = re.compile(r", Python (\d+\.\d+)\.\S+$")


@functools.lru_cache(maxsize=256)
def machine_class(label: str) -> str:
    """A machine label reduced to its class: also for labels stored before classes were introduced.

    Baseline files hold labels written by earlier versions, with the CPU stepping and the
    kernel's full release string ("Linux 6.18.44-fc-v595"); reduced the same way, they compare
    with this machine's label instead of every kernel build starting a new machine.
    """
    label = _STEPPING.sub(r"[\1]", label)
    label = _ARM_REVISION.sub(r"[\1]", label)
    label = _KERNEL_PATCH.sub(r", Linux \1,", label)
    return _PYTHON_PATCH.sub(r", Python \1", label)
