"""What the policy fixtures yield: the engines that work here and the chosen one, as compilers of policies.

Its own module so that the plugin's start-up, which imports the fixtures, does not build these
classes; the fixtures import it when a test asks for an engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from . import LoadedPolicy, Policy, PolicyEngine

__all__ = ["EngineSet", "PolicyCompiler"]


@dataclass
class EngineSet:
    """Engines that work here, the reasons for the others, and every policy loaded so far."""

    engines: dict[str, PolicyEngine]
    missing: dict[str, str]
    loaded: list[LoadedPolicy] = field(default_factory=list)

    def load(self, engine: PolicyEngine, policy: Policy) -> LoadedPolicy:
        """Compile ``policy``; a policy that does not compile fails the asking test, with file:line."""
        from .errors import PolicyError

        try:
            loaded = engine.load(policy)
        except PolicyError as error:
            pytest.fail(f"policy {policy.name} does not compile under {engine.engine}: {error}", pytrace=False)
        self.loaded.append(loaded)
        return loaded

    def close(self) -> None:
        for loaded in self.loaded:
            loaded.close()


@dataclass(frozen=True, slots=True)
class PolicyCompiler:
    """The chosen engine: ``opa_policy.load(policy)`` gives a compiled policy with ``evaluate``."""

    engine: PolicyEngine
    engines: EngineSet

    def load(self, policy: Policy) -> LoadedPolicy:
        return self.engines.load(self.engine, policy)
