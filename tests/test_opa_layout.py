"""The OPA family's shape: light to import, one engine's library per engine, no import cycles."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_perfdata.engines.opa as family
from pytest_perfdata.engines.opa.fixtures import OPTIONS

MODULES = sorted(m.name for m in pkgutil.walk_packages(family.__path__, family.__name__ + "."))
HEAVY = ("regopy", "wasmtime", "opa_bindings", "http.client", "tarfile")


def imported_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement`` (a subprocess: this one has them all)."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def heavy_in(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m in HEAVY or m.split(".")[0] in HEAVY)


def test_the_fixtures_module_imports_no_engine() -> None:
    loaded = imported_after("import pytest_perfdata.engines.opa.fixtures")
    assert heavy_in(loaded) == []
    family_modules = {m for m in loaded if m.startswith("pytest_perfdata.engines.opa.")}
    assert family_modules == {"pytest_perfdata.engines.opa.fixtures"}


def test_choosing_rego_cpp_loads_no_other_engine() -> None:
    pytest.importorskip("regopy", reason="rego-cpp's Python binding: pip install regopy")
    loaded = imported_after(
        "from pytest_perfdata.engines.opa import select_engine\nselect_engine('rego-cpp')"
    )
    assert {m.split(".")[0] for m in heavy_in(loaded)} == {"regopy"}


def _family_imports(path: Path, name: str) -> set[str]:
    """The family's modules that ``name`` imports anywhere in its text, functions included."""
    package = family.__name__
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
            target = f"{base}.{node.module}" if node.module else base
            if not target.startswith(package):
                continue
            found.add(target)
            for alias in node.names:  # `from . import policy` names a module
                if f"{target}.{alias.name}" in MODULES:
                    found.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith(package)}
    found.discard(name)
    return found


def test_no_import_cycles_in_the_family() -> None:
    """Not even through imports inside functions: the package imports its modules, never the reverse."""
    graph: dict[str, set[str]] = {}
    for name in [family.__name__, *MODULES]:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        graph[name] = _family_imports(Path(spec.origin), name)

    def cycle_from(start: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(graph.get(start, ())):
            if nxt in path:
                return (*path[path.index(nxt) :], nxt)
            found = cycle_from(nxt, (*path, nxt))
            if found:
                return found
        return None

    for name in graph:
        assert cycle_from(name, (name,)) is None, " -> ".join(cycle_from(name, (name,)) or ())


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_its_one_job_and_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and module.__doc__.strip().splitlines()[0].strip()
    assert hasattr(module, "__all__"), name
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.__all__ names {exported}, which it lacks"


def test_the_lazy_names_of_the_package_resolve() -> None:
    for name in family.__all__:
        assert getattr(family, name) is not None
    assert set(family.__all__) <= set(dir(family))
    with pytest.raises(AttributeError):
        family.no_such_name  # noqa: B018


def test_the_engine_option_offers_every_engine() -> None:
    option = next(o for o in OPTIONS if o.dest == "perf_opa_engine")
    assert option.choices == ("auto", *family.ENGINE_NAMES)
    assert option.default == "auto"
