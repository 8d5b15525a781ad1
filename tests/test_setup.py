"""tools/setup.py and .ci/run: the README's two commands, what setup installs, and when it skips.

Nothing here installs anything: apt-get, dpkg-query and go are stand-ins on PATH that log their
arguments, and the pip step is only asked what it would do.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI_RUN = ROOT / ".ci" / "run"


def _load_setup() -> ModuleType:
    path = ROOT / "tools" / "setup.py"
    spec = importlib.util.spec_from_file_location("perfdata_tools_setup", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building the class
    spec.loader.exec_module(module)
    return module


setup = _load_setup()


# -- the README and CI agree --------------------------------------------------------------------


def readme_commands() -> list[str]:
    """The commands of the README's first fenced block, without their trailing comments."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"^```sh\n(.*?)^```", text, re.M | re.S)
    assert block, "README.md has no opening ```sh block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def ci_commands() -> list[str]:
    return re.findall(r'^run "(.*)"$', CI_RUN.read_text(), re.M)


def test_ci_runs_exactly_the_readme_commands() -> None:
    assert readme_commands() == ci_commands()
    assert len(ci_commands()) == 2


def test_each_readme_command_sets_up_then_runs_pytest_with_the_same_python() -> None:
    for command, target in zip(readme_commands(), ["suites", "tests"]):
        assert command == f"python3 tools/setup.py {target} && python3 -m pytest {target}/"


def test_ci_run_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(CI_RUN)], check=True)


def _ci_run_function(commands: list[str]) -> subprocess.CompletedProcess[str]:
    """.ci/run's own ``run`` function (not a copy) applied to ``commands``."""
    text = CI_RUN.read_text()
    function = re.search(r"^status=0\n.*?^}\n", text, re.M | re.S)
    assert function, ".ci/run lost its run() function"
    script = function.group(0) + "".join(f"run {c!r}\n" for c in commands) + 'exit "$status"\n'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def test_pytest_exit_5_fails_the_ci_run_with_a_clear_line() -> None:
    done = _ci_run_function(["exit 5", "true"])
    assert done.returncode == 1
    assert "ran no tests (pytest exit 5)" in done.stderr


def test_ci_runs_both_commands_and_exits_with_the_first_failure() -> None:
    done = _ci_run_function(["exit 3", "echo second ran", "exit 4"])
    assert done.returncode == 3
    assert "second ran" in done.stdout
    assert "'exit 3' exited 3" in done.stderr and "'exit 4' exited 4" in done.stderr
    assert _ci_run_function(["true", "true"]).returncode == 0


def test_the_tool_directory_is_git_ignored() -> None:
    assert ".tools/" in (ROOT / ".gitignore").read_text().splitlines()
    assert setup.TOOLS_DIR == ROOT / ".tools"


# -- the lists ----------------------------------------------------------------------------------


def test_every_extra_exists_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for target, wanted in setup.EXTRAS.items():
        assert set(wanted) <= set(extras), target


def test_each_debian_package_is_listed_once_with_who_drives_it() -> None:
    names = setup.debian_packages()
    assert len(names) == len(set(names))
    assert all(why for _group, why in setup.DEBIAN_PACKAGES)
    assert {"runc", "clang", "gcc"} <= set(names)


# -- stand-ins for dpkg-query, apt-get and go ---------------------------------------------------

FAKE_DPKG_QUERY = r"""#!/bin/sh
# dpkg-query -W -f=FORMAT PKG...: "name<TAB>ii " per installed package, exit 1 if any is unknown
shift 2; rc=0
for p in "$@"; do
  if grep -qx "$p" "$FAKE_STATE"; then printf '%s\tii \n' "$p"
  else echo "dpkg-query: no packages found matching $p" >&2; rc=1; fi
done
exit $rc
"""

FAKE_APT_GET = r"""#!/bin/sh
echo "apt-get $*" >> "$FAKE_LOG"
[ -n "${FAKE_APT_FAIL:-}" ] && exit 100
if [ "$1" = install ]; then
  for p in "$@"; do case "$p" in install|-*) ;; *) echo "$p" >> "$FAKE_STATE";; esac; done
fi
exit 0
"""

FAKE_GO = r"""#!/bin/sh
if [ "$1" = env ]; then echo "$FAKE_GO_VERSION"; exit 0; fi
echo "go $*" >> "$FAKE_LOG"
echo "CGO_ENABLED=$CGO_ENABLED" >> "$FAKE_LOG.env"
if [ "$1" = build ]; then
  printf '#!/bin/sh\necho built in %s\n' "${PWD##*/}" > "$4"; chmod +x "$4"; exit 0
fi
for last; do :; done
name=${last%@*}; name=${name##*/}
printf '#!/bin/sh\necho %s\n' "$last" > "$GOBIN/$name"; chmod +x "$GOBIN/$name"
"""


class Fakes:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin, utilities = tmp_path / "bin", tmp_path / "utilities"
        self.bin.mkdir()
        utilities.mkdir()
        for name in ("grep", "chmod"):  # what the stand-ins use; no real apt-get, dpkg or go
            found = shutil.which(name)
            assert found is not None
            (utilities / name).symlink_to(found)
        self.state, self.log = tmp_path / "installed", tmp_path / "log"
        self.state.write_text("")
        self.log.write_text("")
        monkeypatch.setenv("PATH", f"{self.bin}:{utilities}")
        monkeypatch.setenv("FAKE_STATE", str(self.state))
        monkeypatch.setenv("FAKE_LOG", str(self.log))
        monkeypatch.setenv("FAKE_GO_VERSION", "go1.26.8")

    def add(self, name: str, script: str) -> None:
        path = self.bin / name
        path.write_text(script)
        path.chmod(0o755)

    def install(self, *packages: str) -> None:
        self.state.write_text("".join(f"{p}\n" for p in packages))

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def env_lines(self) -> list[str]:
        """What the stand-in ``go`` saw of its environment, a line per call."""
        return Path(f"{self.log}.env").read_text().splitlines()


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    fakes = Fakes(tmp_path, monkeypatch)
    fakes.add("dpkg-query", FAKE_DPKG_QUERY)
    fakes.add("apt-get", FAKE_APT_GET)
    return fakes


# -- Debian packages ----------------------------------------------------------------------------


def test_as_root_only_the_missing_packages_are_installed_then_nothing(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    everything = setup.debian_packages()
    fakes.install(*everything[1:])
    setup.debian_step(dry_run=False, root=True)
    assert fakes.calls() == [
        "apt-get update -qq",
        f"apt-get install -y -qq --no-install-recommends {everything[0]}",
    ]
    setup.debian_step(dry_run=False, root=True)  # warm: dpkg-query alone decides
    assert len(fakes.calls()) == 2
    assert f"all {len(everything)} packages installed" in capsys.readouterr().out


def test_not_root_names_the_missing_packages_in_one_line_and_goes_on(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.debian_step(dry_run=False, root=False)
    assert fakes.calls() == []
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert "not root" in lines[0]
    assert f"apt-get install {' '.join(setup.debian_packages())}" in lines[0]


def test_root_without_apt_get_says_so(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    (fakes.bin / "apt-get").unlink()
    setup.debian_step(dry_run=False, root=True)
    assert "no apt-get" in capsys.readouterr().out


def test_no_dpkg_at_all_lists_what_the_suites_drive(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    (fakes.bin / "dpkg-query").unlink()
    setup.debian_step(dry_run=False, root=True)
    assert fakes.calls() == []
    assert "no dpkg here" in capsys.readouterr().out


def test_dry_run_installs_nothing(fakes: Fakes, capsys: pytest.CaptureFixture[str]) -> None:
    setup.debian_step(dry_run=True, root=True)
    assert fakes.calls() == []
    assert "would run apt-get update and apt-get install" in capsys.readouterr().out


def test_a_failed_apt_get_fails_the_setup(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_APT_FAIL", "1")
    with pytest.raises(setup.SetupError, match="exited 100"):
        setup.debian_step(dry_run=False, root=True)


# -- tools built from Go modules ----------------------------------------------------------------

TOOL = setup.GoTool("demo", "example.com/demo/cmd/demo", "v1.2.3", tags=("a", "b"))


def test_a_go_tool_is_built_once_and_reused_while_its_stamp_holds(
    fakes: Fakes, tmp_path: Path
) -> None:
    fakes.add("go", FAKE_GO)
    tools_dir = tmp_path / "tools"
    setup.go_step(dry_run=False, tools=(TOOL,), tools_dir=tools_dir)
    assert fakes.calls() == ["go install -trimpath -tags=a,b example.com/demo/cmd/demo@v1.2.3"]
    binary = tools_dir / "bin" / "demo"
    assert subprocess.run([binary], capture_output=True, text=True).stdout.strip() == (
        "example.com/demo/cmd/demo@v1.2.3"
    )
    assert (tools_dir / "bin" / "demo.stamp").read_text() == setup.go_stamp(TOOL, "go1.26.8")
    assert sorted(p.name for p in (tools_dir / "bin").iterdir()) == ["demo", "demo.stamp"]

    setup.go_step(dry_run=False, tools=(TOOL,), tools_dir=tools_dir)
    assert len(fakes.calls()) == 1  # reused


def test_a_cgo_tool_is_built_with_cgo_and_the_others_without(fakes: Fakes, tmp_path: Path) -> None:
    """OPA's Wasm runtime links a C library: without CGO_ENABLED=1 `opa version` says unavailable."""
    fakes.add("go", FAKE_GO)
    cgo_tool = setup.GoTool("cdemo", "example.com/cdemo", "v1.0.0", cgo=True)
    setup.go_step(dry_run=False, tools=(TOOL, cgo_tool), tools_dir=tmp_path / "tools")
    assert fakes.env_lines() == ["CGO_ENABLED=0", "CGO_ENABLED=1"]


def test_the_pinned_opa_has_its_wasm_runtime() -> None:
    (opa,) = [tool for tool in setup.GO_TOOLS if tool.name == "opa"]
    assert opa.version.startswith("v1.") and "opa_wasm" in opa.tags and opa.cgo


@pytest.mark.parametrize(
    "change",
    ["version", "tags", "cgo", "go version", "binary removed"],
)
def test_a_go_tool_is_rebuilt_when_anything_in_its_stamp_changes(
    fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    fakes.add("go", FAKE_GO)
    tools_dir = tmp_path / "tools"
    setup.go_step(dry_run=False, tools=(TOOL,), tools_dir=tools_dir)
    tool = TOOL
    if change == "version":
        tool = setup.GoTool(TOOL.name, TOOL.package, "v1.2.4", TOOL.tags)
    elif change == "tags":
        tool = setup.GoTool(TOOL.name, TOOL.package, TOOL.version, ("a",))
    elif change == "cgo":
        tool = setup.GoTool(TOOL.name, TOOL.package, TOOL.version, TOOL.tags, cgo=True)
    elif change == "go version":
        monkeypatch.setenv("FAKE_GO_VERSION", "go1.27.0")
    else:
        (tools_dir / "bin" / "demo").unlink()
    setup.go_step(dry_run=False, tools=(tool,), tools_dir=tools_dir)
    assert len(fakes.calls()) == 2


def test_a_wrapper_module_is_built_in_its_folder_and_rebuilt_when_a_file_of_it_changes(
    fakes: Fakes, tmp_path: Path
) -> None:
    """k8s.io/kubernetes cannot be go-installed (its go.mod replaces its staging modules): our
    wrapper module is built with go build, and its stamp follows the module's files."""
    fakes.add("go", FAKE_GO)
    module = tmp_path / "repo" / "tools" / "go" / "wrapper"
    module.mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/wrapper\n")
    (module / "main.go").write_text("package main\n")
    tool = setup.GoTool("wrapper", "example.com/upstream", "v1.0.0", module_dir="tools/go/wrapper")
    tools_dir = tmp_path / "tools"
    setup.go_step(dry_run=False, tools=(tool,), tools_dir=tools_dir, root=tmp_path / "repo")
    (call,) = fakes.calls()
    assert call.startswith("go build -trimpath -o ") and call.endswith("/wrapper .")
    binary = tools_dir / "bin" / "wrapper"
    assert subprocess.run([binary], capture_output=True, text=True).stdout.strip() == "built in wrapper"
    setup.go_step(dry_run=False, tools=(tool,), tools_dir=tools_dir, root=tmp_path / "repo")
    assert len(fakes.calls()) == 1  # reused
    (module / "main.go").write_text("package main\n\nfunc main() {}\n")
    setup.go_step(dry_run=False, tools=(tool,), tools_dir=tools_dir, root=tmp_path / "repo")
    assert len(fakes.calls()) == 2


def test_the_pinned_control_plane_module_replaces_every_staging_module_by_its_release() -> None:
    """A replace left pointing into ./staging would only build inside Kubernetes's own tree."""
    (tool,) = [tool for tool in setup.GO_TOOLS if tool.name == "kube-control-plane"]
    assert tool.module_dir is not None
    go_mod = (setup.ROOT / tool.module_dir / "go.mod").read_text()
    minor = tool.version.removeprefix("v1.")
    assert re.search(rf"^\s*(require )?k8s.io/kubernetes {re.escape(tool.version)}$", go_mod, re.M)
    assert "./staging" not in go_mod
    replaced = [line.split() for line in go_mod.splitlines() if "=>" in line]
    assert len(replaced) >= 30
    assert all(source == target and version == f"v0.{minor}" for source, _, target, version in replaced)


def test_go_tools_dry_run_and_missing_toolchain(
    fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(setup, "GO_FALLBACKS", ("/nonexistent/go",))
    setup.go_step(dry_run=False, tools=(TOOL,), tools_dir=tmp_path)
    assert "no Go toolchain" in capsys.readouterr().out
    fakes.add("go", FAKE_GO)
    setup.go_step(dry_run=True, tools=(TOOL,), tools_dir=tmp_path)
    assert "would build example.com/demo/cmd/demo@v1.2.3" in capsys.readouterr().out
    assert fakes.calls() == [] and not (tmp_path / "bin" / "demo").exists()
    setup.go_step(dry_run=False, tools=(), tools_dir=tmp_path)
    assert "none pinned yet" in capsys.readouterr().out


# -- the Python package -------------------------------------------------------------------------


def test_pip_runs_without_a_stamp_or_with_a_stale_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.python_step("tests", dry_run=True, tools_dir=tmp_path)
    out = capsys.readouterr().out
    assert f"would run {sys.executable} -m pip install -q -e .[cli,peers,test]" in out
    assert "no install recorded" in out
    (tmp_path / "python-suites.stamp").write_text("python=/elsewhere\n")
    setup.python_step("suites", dry_run=True, tools_dir=tmp_path)
    out = capsys.readouterr().out
    assert "-e .[cli,peers] (pyproject.toml, extras or interpreter changed" in out


def test_the_stamp_names_interpreter_extras_and_pyproject() -> None:
    stamp = setup._python_stamp(("cli", "test"))
    assert f"python={sys.executable}\n" in stamp and "extras=cli,test\n" in stamp
    assert re.search(r"^pyproject=[0-9a-f]{64}$", stamp, re.M)


def test_dry_run_from_the_command_line_changes_nothing(fakes: Fakes) -> None:
    fakes.install(*setup.debian_packages())
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "setup.py"), "tests", "--dry-run"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    steps = [line.split(":")[1].strip() for line in lines]
    assert steps[:2] == ["python", "debian"] and set(steps[2:]) == {"go tools"}
    assert fakes.calls() == []


def test_an_unknown_target_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        setup.main(["suite"])
    assert exit_info.value.code == 2
