"""A policy under test: its Rego files and entrypoint, checked before any engine compiles them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, final

from .errors import PolicyError

__all__ = ["Policy", "check_entrypoint"]

_IDENT: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@final
@dataclass(frozen=True, slots=True)
class Policy:
    """Rego sources and the document to decide with, e.g. ``entrypoint="k8s/privileged/deny"``.

    The entrypoint is a data path in OPA's ``opa build -e`` form (slashes, no ``data.``), the
    one spelling that every engine accepts after a mechanical translation.
    """

    name: str
    files: tuple[Path, ...]
    entrypoint: str

    def __post_init__(self) -> None:
        if not self.files:
            raise ValueError(f"policy {self.name!r} has no .rego files")
        segments = self.entrypoint.split("/")
        if not all(_IDENT.match(segment) for segment in segments):
            raise ValueError(
                f"policy {self.name!r}: entrypoint {self.entrypoint!r} must be a data path of"
                " identifiers separated by '/', e.g. 'k8s/privileged/deny'"
            )

    @property
    def query(self) -> str:
        """The entrypoint as a Rego reference: ``data.k8s.privileged.deny``."""
        return "data." + self.entrypoint.replace("/", ".")

    def sources(self) -> tuple[tuple[str, str], ...]:
        """``(name, text)`` of every file, the name as the engines will print it in errors."""
        out = []
        for path in self.files:
            try:
                out.append((str(path), Path(path).read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                raise PolicyError(f"{path}: cannot read policy source: {exc}", file=str(path))
        return tuple(out)

    def checked_sources(self) -> tuple[tuple[str, str], ...]:
        """:meth:`sources`, once :func:`check_entrypoint` found the entrypoint defined in them."""
        sources = self.sources()
        check_entrypoint(self, sources)
        return sources


def check_entrypoint(policy: Policy, sources: Sequence[tuple[str, str]]) -> None:
    """Refuse an entrypoint that no file can define, before any engine compiles anything.

    Engines disagree on a missing rule (rego-cpp and OPA's server answer *undefined* at every
    evaluation, ``opa build`` refuses it), so the check is made once, here, on the text: the
    package path must lead to the entrypoint, and the rule name right after it must occur in
    one of that package's files. Deliberately lenient: it can only miss a typo, never refuse
    a policy that an engine would accept.
    """
    segments = policy.entrypoint.split("/")
    packages: list[str] = []
    for name, text in sources:
        match = re.search(r"^\s*package\s+([A-Za-z_][\w.]*)", text, re.MULTILINE)
        if match is None:
            continue
        package = match.group(1).split(".")
        packages.append(".".join(package))
        if segments[: len(package)] == package:
            rest = segments[len(package) :]
            if not rest or re.search(rf"(?<![\w.]){re.escape(rest[0])}\b", text):
                return
        elif package[: len(segments)] == segments:
            return  # the entrypoint is a parent of this package
    files = ", ".join(name for name, _ in sources)
    raise PolicyError(
        f"{policy.name}: undefined entrypoint {policy.entrypoint!r} ({policy.query}):"
        f" not defined by package(s) {', '.join(sorted(set(packages))) or '(none)'} in {files}",
        code="undefined_entrypoint",
    )
