"""Policy-engine fixtures and their options: compiled OPA/Rego policies under every engine here.

``opa_policy`` is the engine chosen with ``--perf-opa-engine`` (auto: OPA compiled to Wasm when
the ``opa`` CLI is there, else rego-cpp); ``policy_engines`` is every engine that really works,
for agreement and side-by-side figures. Missing engines skip with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ...options import Option
from . import ENGINE_NAMES, available_engines, select_engine

if TYPE_CHECKING:
    from . import LoadedPolicy, Policy, PolicyEngine

__all__ = ["OPTIONS", "EngineSet", "PolicyCompiler", "opa_policy", "policy_engines"]

#: The family's options (the plugin adds them; each default is stated here once).
OPTIONS: tuple[Option, ...] = (
    Option("perf_opa_engine",
           "policy engine behind opa_policy; auto is wasm when the opa CLI is found, else rego-cpp", "auto",
           choices=("auto", *ENGINE_NAMES)),
    Option("perf_opa", "the opa CLI (default: found on PATH)", metavar="PATH"),
    Option("perf_opa_bundle", "a prebuilt `opa build -t wasm` bundle for the wasm engine", metavar="PATH"),
    Option("perf_opa_url", "an existing OPA server for the http engine (default: start one with the CLI)",
           metavar="URL"),
)


def _engine_options(config: pytest.Config) -> dict[str, Any]:
    bundle = config.getoption("perf_opa_bundle")
    return {
        "opa_path": config.getoption("perf_opa"),
        "opa_url": config.getoption("perf_opa_url"),
        "bundle": Path(bundle) if bundle else None,
    }


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


@pytest.fixture(scope="session")
def policy_engines(request: pytest.FixtureRequest) -> Iterator[EngineSet]:
    """Every policy engine that really works here (name -> engine), cleaned up at the end."""
    engines, missing = available_engines(**_engine_options(request.config))
    engine_set = EngineSet(engines, missing)
    try:
        yield engine_set
    finally:
        engine_set.close()


@dataclass(frozen=True, slots=True)
class PolicyCompiler:
    """The chosen engine: ``opa_policy.load(policy)`` gives a compiled policy with ``evaluate``."""

    engine: PolicyEngine
    engines: EngineSet

    def load(self, policy: Policy) -> LoadedPolicy:
        return self.engines.load(self.engine, policy)


@pytest.fixture(scope="session")
def opa_policy(request: pytest.FixtureRequest, policy_engines: EngineSet) -> PolicyCompiler:
    """The engine chosen with ``--perf-opa-engine``, as a compiler of policies."""
    from .errors import PolicyUnavailable

    try:
        engine = select_engine(request.config.getoption("perf_opa_engine"), **_engine_options(request.config))
    except PolicyUnavailable as reason:
        pytest.skip(str(reason))
    return PolicyCompiler(engine, policy_engines)
