"""Fingerprint of the machine a measurement ran on, and the target names derived from it."""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path

from .record import Environment

__all__ = ["collect_environment", "machine_target"]

_ARCH_ALIASES = {"aarch64": "arm64", "amd64": "x86_64", "x64": "x86_64", "armv8": "arm64"}


def machine_target() -> str:
    """This machine's default target name: its architecture, spelled as users write it."""
    machine = platform.machine().lower()
    return _ARCH_ALIASES.get(machine, machine)


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
def _static_facts() -> tuple[str, str, int, int, str, str, str]:
    return (
        machine_target(),
        _cpu_model(),
        os.cpu_count() or 1,
        _memory_bytes(),
        _os_name(),
        f"{platform.system()} {platform.release()}",
        platform.python_version(),
    )


def collect_environment(runtimes: dict[str, str] | None = None, xdist_workers: int = 0) -> Environment:
    """The environment of this process, with the versions of the runtimes a record used."""
    arch, cpu, cores, memory, os_name, kernel, python = _static_facts()
    return Environment(
        architecture=arch,
        cpu_model=cpu,
        cores=cores,
        memory_bytes=memory,
        os=os_name,
        kernel=kernel,
        python=python,
        xdist_workers=xdist_workers,
        runtimes=dict(runtimes or {}),
    )
