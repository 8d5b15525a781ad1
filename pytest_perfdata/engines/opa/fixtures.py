"""Policy-engine fixtures and their options: compiled OPA/Rego policies under every engine here.

``opa_policy`` is the engine chosen with ``--perf-opa-engine`` (auto: OPA compiled to Wasm when
the ``opa`` CLI is there, else rego-cpp); ``policy_engines`` is every engine that really works,
for agreement and side-by-side figures. Missing engines skip with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ...options import Option
from . import ENGINE_NAMES, available_engines, select_engine

if TYPE_CHECKING:
    from .engine_set import EngineSet, PolicyCompiler

__all__ = ["OPTIONS", "engine_options", "opa_cli", "opa_cli_path", "opa_policy", "policy_engines"]

#: The family's options (the plugin adds them; each default is stated here once).
OPTIONS: tuple[Option, ...] = (
    Option("perf_opa_engine",
           "policy engine behind opa_policy; auto is wasm when the opa CLI is found, else rego-cpp", "auto",
           choices=("auto", *ENGINE_NAMES)),
    Option("perf_opa", "the opa CLI (default: .tools/bin/opa as tools/setup.py builds it, else PATH)",
           metavar="PATH"),
    Option("perf_opa_bundle", "a prebuilt `opa build -t wasm` bundle for the wasm engine", metavar="PATH"),
    Option("perf_opa_url", "an existing OPA server for the http engine (default: start one with the CLI)",
           metavar="URL"),
)


def opa_cli_path(config: pytest.Config) -> str | None:
    """The opa CLI to use: ``--perf-opa``, else the project's ``.tools/bin/opa``, else None (PATH)."""
    from ..tools import project_tool

    given = config.getoption("perf_opa")
    if given:
        return str(given)
    built = project_tool(config.rootpath, "opa")
    return str(built) if built is not None else None


def engine_options(config: pytest.Config) -> dict[str, Any]:
    """The keyword arguments every engine maker takes, from the options (one place for all)."""
    bundle = config.getoption("perf_opa_bundle")
    return {
        "opa_path": opa_cli_path(config),
        "opa_url": config.getoption("perf_opa_url"),
        "bundle": Path(bundle) if bundle else None,
    }


@pytest.fixture(scope="session")
def opa_cli(request: pytest.FixtureRequest) -> Path:
    """The opa CLI that the engines use (see :func:`opa_cli_path`); skips with how to get one."""
    from .cli import find_opa
    from .errors import PolicyUnavailable

    try:
        return find_opa(opa_cli_path(request.config))
    except PolicyUnavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="session")
def policy_engines(request: pytest.FixtureRequest) -> Iterator[EngineSet]:
    """Every policy engine that really works here (name -> engine), cleaned up at the end."""
    from .engine_set import EngineSet

    engines, missing = available_engines(**engine_options(request.config))
    engine_set = EngineSet(engines, missing)
    try:
        yield engine_set
    finally:
        engine_set.close()


@pytest.fixture(scope="session")
def opa_policy(request: pytest.FixtureRequest, policy_engines: EngineSet) -> PolicyCompiler:
    """The engine chosen with ``--perf-opa-engine``, as a compiler of policies."""
    from .engine_set import PolicyCompiler
    from .errors import PolicyUnavailable

    try:
        engine = select_engine(request.config.getoption("perf_opa_engine"), **engine_options(request.config))
    except PolicyUnavailable as reason:
        pytest.skip(str(reason))
    return PolicyCompiler(engine, policy_engines)
