"""The K3s family's shape: light to import, pure computations apart from the client, defaults stated once."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from typing import Any

import pytest

import pytest_perfdata.engines.k8s as family
from pytest_perfdata.engines.k8s.fixtures import OPTIONS
from pytest_perfdata.engines.k8s.metrics import DensityStop, StopReason
from pytest_perfdata.engines.k8s.settings import K3sSettings

MODULES = sorted(m.name for m in pkgutil.walk_packages(family.__path__, family.__name__ + "."))


def imported_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement`` (a subprocess: this one has them all)."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_the_fixtures_module_imports_no_client() -> None:
    loaded = imported_after("import pytest_perfdata.engines.k8s.fixtures")
    heavy = sorted(m for m in loaded if m.split(".")[0] in ("kubernetes", "urllib3", "yaml"))
    assert heavy == []
    family_modules = {m for m in loaded if m.startswith("pytest_perfdata.engines.k8s.")}
    assert family_modules == {"pytest_perfdata.engines.k8s.fixtures"}


def test_the_pure_computations_import_neither_the_client_nor_the_client_side() -> None:
    loaded = imported_after("import pytest_perfdata.engines.k8s.metrics")
    assert not any(m.split(".")[0] in ("kubernetes", "urllib3", "yaml") for m in loaded)
    ours = {m for m in loaded if m.startswith("pytest_perfdata.engines.k8s.")}
    assert all(m.startswith("pytest_perfdata.engines.k8s.metrics") for m in ours), sorted(ours)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_its_one_job_and_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and module.__doc__.strip().splitlines()[0].strip()
    for exported in getattr(module, "__all__", ()):
        assert hasattr(module, exported), f"{name}.__all__ names {exported}, which it lacks"
    assert hasattr(module, "__all__"), name


def test_the_lazy_names_of_the_package_resolve() -> None:
    for name in family.__all__:
        assert getattr(family, name) is not None
    with pytest.raises(AttributeError):
        family.no_such_name  # noqa: B018


def test_option_defaults_and_settings_defaults_are_the_same() -> None:
    """The options' text defaults, converted as a command line would be, give ``K3sSettings()``."""

    def default(dest: str) -> Any:
        option = next(o for o in OPTIONS if o.dest == dest)
        if option.action == "store_true":
            return False
        return None if option.default is None else option.type(option.default)

    assert K3sSettings.from_options(default) == K3sSettings()


def test_density_stop_kinds_are_a_closed_set() -> None:
    assert DensityStop("timeout", "slow").kind is StopReason.TIMEOUT
    assert {r.value for r in StopReason} == {"target", "max-pods", "pod-cidr", "resources", "unschedulable",
                                             "failed", "timeout"}
    with pytest.raises(ValueError):
        DensityStop("time-out", "a misspelt kind fails where it is made")
