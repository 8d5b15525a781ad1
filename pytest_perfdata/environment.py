"""Fingerprint of the machine a measurement ran on, and the target names derived from it."""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from .targets import machine_target

__all__ = ["Environment", "collect_environment", "machine_label", "machine_target"]


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
    """Who measured: the facts that decide whether two timings can be compared at all.

    Stored with every saved baseline. Regression limits compare a run only with values stored
    under the same label: CPU generation, core count, kernel and Python version each move
    timings by more than any regression limit we would set. (Memory size is left out: it
    differs by a few MiB between otherwise identical machines and rarely moves a timing.)
    """
    cpu = f"{env.cpu_model} [{env.cpu_signature}]" if env.cpu_signature else env.cpu_model
    python = ".".join(env.python.split(".")[:2])
    return f"{env.architecture}, {cpu}, {env.cores} cores, {env.kernel}, Python {python}"
