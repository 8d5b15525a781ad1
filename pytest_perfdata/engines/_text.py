"""Small helpers the engines share to describe tools and their errors in one line."""

from __future__ import annotations

__all__ = ["first_line", "package_version"]


def first_line(text: str) -> str:
    """The first non-blank line: what a skip reason or an error message can carry."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def package_version(name: str) -> str:
    """An installed distribution's version, or ``unknown`` (records must still say something)."""
    from importlib import metadata  # 10 ms to import: only where a version is asked for

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
