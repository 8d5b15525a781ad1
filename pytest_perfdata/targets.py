"""Targets: this machine's default target, which targets have baseline files, and where a target's file is.

Light on purpose (no YAML, no records): the plugin checks ``--perf-target`` at start-up in every run.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path

__all__ = ["UnknownTargetError", "baseline_path", "check_target", "known_targets", "machine_target"]

_ARCH_ALIASES = {"aarch64": "arm64", "amd64": "x86_64", "x64": "x86_64", "armv8": "arm64"}


class UnknownTargetError(ValueError):
    """A ``--perf-target`` with neither a baseline file nor this machine's architecture."""


def machine_target() -> str:
    """This machine's default target name: its architecture, spelled as users write it."""
    machine = platform.machine().lower()
    return _ARCH_ALIASES.get(machine, machine)


def baseline_path(directory: Path, target: str) -> Path:
    """The baseline file of ``target``: ``<directory>/<target>.yaml``."""
    return directory / f"{target}.yaml"


def known_targets(directory: Path) -> list[str]:
    """Targets that have a baseline file in ``directory``."""
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.yaml") if not p.name.startswith("."))


#: What a target may be called: it becomes a file name in the baselines directory.
_TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_target(target: str, baselines_dir: Path, *, saving: bool = False, what: str = "--perf-target") -> None:
    """Refuse a target that has no baseline file, unless it is this machine's own or one being saved.

    ``--perf-save`` with a new name starts that target (the README recommends one per class of
    machine); judging against a target that does not exist is an error listing the known ones.
    ``what`` says where the name came from (the option, or a record's ``target=``).
    """
    if not _TARGET_NAME.fullmatch(target):
        raise UnknownTargetError(
            f"{what} {target!r} is not a usable name: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, at most 100 characters (it names the baseline file)"
        )
    known = known_targets(baselines_dir)
    if target in known or target == machine_target() or saving:
        return
    listed = ", ".join(sorted({*known, machine_target()}))
    raise UnknownTargetError(
        f"unknown --perf-target {target!r}: no {baseline_path(baselines_dir, target)} "
        f"(known targets: {listed}; --perf-save with a new name starts one)"
    )
