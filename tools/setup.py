#!/usr/bin/env python3
"""Install what the main job or the tests run, skipping what is already there.

    python3 tools/setup.py suites && python3 -m pytest suites/   # the main job
    python3 tools/setup.py tests && python3 -m pytest tests/     # the plugin's own tests

Three steps, each a no-op when nothing changed, so a second run costs a fraction of a second:

1. Python: ``pip install -e '.[EXTRAS]'`` into the interpreter running this script (so the
   ``python3 -m pytest`` that follows is the one it installed into). Skipped when a stamp in the
   tool directory says it was done for this ``pyproject.toml`` and interpreter, the editable
   install still points at this checkout, and every requirement is still installed.
2. Debian packages the suites and tests drive. Installed with ``apt-get`` when running as root
   with ``apt-get`` available and some are missing (``dpkg-query`` decides); otherwise one line
   names the missing ones and the run goes on (the tests that need them skip, saying why).
3. Tools built from Go modules into the git-ignored tool directory (``.tools/bin``), pinned by
   version and build tags, rebuilt only when the stamp beside the binary (package, version, tags,
   Go version) differs; the Go build cache makes a rebuild in a fresh clone cheap. Nothing is
   downloaded but Go modules, through the module proxy.

``--dry-run`` says what each step would do and changes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = ROOT / ".tools"  # git-ignored: Go-built binaries in bin/, stamps beside them

# -- what each target needs: the one place to change ------------------------------------------

# pyproject.toml extras per target. The tests drive the real wasmtime CLI too (``cli``).
EXTRAS: dict[str, tuple[str, ...]] = {
    "suites": ("cli", "peers"),
    "tests": ("cli", "peers", "test"),
}

# Debian packages, by group: (packages, who drives them). Both targets install all of them.
DEBIAN_PACKAGES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("runc", "busybox-static"),
     "OCI container baseline: suites/wasmedge cold start, memory, size; tests/test_oci_backend.py"),
    (("crun",),
     "second OCI runtime (--perf-container-runtime=crun); tests/test_oci_backend.py"),
    (("clang", "lld", "wasi-libc", "libclang-rt-dev-wasm32"),
     "C to wasm32-wasi workloads: suites/wasmedge; tests/test_wasm_backends.py"),
    (("gcc", "libc6-dev"),
     "native static floor: suites/wasmedge; tests/test_native_backend.py, tests/test_memory.py; "
     "cgo for the opa CLI's Wasm runtime"),
    (("valgrind",),
     "instruction counts: suites/self/test_startup.py (the plugin's start-up cost)"),
)


@dataclass(frozen=True, slots=True)
class GoTool:
    """One binary built into ``.tools/bin/NAME``: ``go install MODULE@VERSION``, or our own module.

    A module whose ``go.mod`` has ``replace`` directives (``k8s.io/kubernetes`` does) cannot be
    installed with ``go install MODULE@VERSION``; such a tool is a small wrapper module in this
    repository (``module_dir``, with its ``go.mod`` and ``go.sum`` reviewed in git) built with
    ``go build``, and its stamp carries a digest of that folder instead of a version.
    """

    name: str  # the binary's name, as ``go install`` writes it (the package path's last element)
    package: str  # the package path to install, e.g. "github.com/open-policy-agent/opa"
    version: str  # pinned module version, e.g. "v1.4.2"; never "latest"
    tags: tuple[str, ...] = ()  # build tags, part of the stamp
    why: str = ""  # which suite or test drives it
    cgo: bool = False  # built with CGO_ENABLED=1 (a C toolchain is needed), part of the stamp
    module_dir: str | None = None  # a wrapper module of ours, relative to the repository root
    ldflags: tuple[str, ...] = ()  # -X settings (a version the binary reports), part of the stamp


def kubernetes_version_flags(version: str) -> tuple[str, ...]:
    """What Kubernetes's own build stamps into its binaries, so ``/version`` reports ``version``.

    Without them a binary built with ``go build`` says ``v0.0.0-master+$Format:%H$``, and every
    record would name a version that does not exist.
    """
    major, minor = version.removeprefix("v").split(".")[:2]
    return tuple(f"-X k8s.io/{package}.{name}={value}"
                 for package in ("component-base/version", "client-go/pkg/version")
                 for name, value in (("gitVersion", version), ("gitMajor", major), ("gitMinor", minor),
                                     ("gitTreeState", "clean")))


# Tools built from Go modules, pinned; adding one is one entry. OPA's Wasm runtime (for `opa eval
# --target wasm` and `opa bench --target wasm`) is compiled in only with the opa_wasm tag and cgo,
# which links the wasmtime library that the wasmtime-go module carries; `opa version` then says
# "WebAssembly: available".
#
# The local cluster of suites/k3s: K3s's own module is not served by the module proxy here
# (every version, release or commit, is refused with 403), so the control plane is upstream
# Kubernetes's, in one binary (tools/go/kube-control-plane), on kine with SQLite as K3s runs it
# (kine's SQLite driver is cgo's, as in K3s), with KWOK's simulated nodes.
GO_TOOLS: tuple[GoTool, ...] = (
    GoTool("opa", "github.com/open-policy-agent/opa", "v1.22.3", tags=("opa_wasm",), cgo=True,
           why="suites/opa: the opa CLI (opa build -t wasm, opa run --server, opa bench)"),
    GoTool("kine", "github.com/k3s-io/kine", "v0.17.5", cgo=True,
           why="suites/k3s local cluster: K3s's etcd shim, on SQLite"),
    GoTool("kube-control-plane", "k8s.io/kubernetes", "v1.36.3", module_dir="tools/go/kube-control-plane",
           ldflags=kubernetes_version_flags("v1.36.3"),
           why="suites/k3s local cluster: kube-apiserver, kube-controller-manager, kube-scheduler"),
    GoTool("kwok", "sigs.k8s.io/kwok/cmd/kwok", "v0.8.0",
           why="suites/k3s local cluster: simulated nodes (their kubelets are simulated too)"),
)

GO_FALLBACKS = ("/usr/local/go/bin/go",)  # where a Go toolchain lives when it is not on PATH

# -- output -----------------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"setup: {message}", flush=True)


class SetupError(Exception):
    """A step that had to run failed: the target cannot run as intended."""


def _run(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    """Run a command with its output shown; a nonzero exit is a :class:`SetupError`."""
    done = subprocess.run(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SetupError(f"{' '.join(command)} exited {done.returncode}")


# -- 1. the Python package ----------------------------------------------------------------------


def python_step(target: str, *, dry_run: bool, tools_dir: Path = TOOLS_DIR) -> None:
    extras = EXTRAS[target]
    spec = f".[{','.join(extras)}]"
    stamp = tools_dir / f"python-{target}.stamp"
    expected = _python_stamp(extras)
    reason = _python_outdated(stamp, expected, extras)
    if reason is None:
        say(f"python: pytest-perfdata{spec[1:]} up to date for {sys.executable}")
        return
    command = [sys.executable, "-m", "pip", "install", "-q", "-e", spec]
    if dry_run:
        say(f"python: would run {' '.join(command)} ({reason})")
        return
    say(f"python: pip install -e '{spec}' ({reason})")
    _check_pip()
    env = {**os.environ, "PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SetupError(f"pip install -e '{spec}' exited {done.returncode}")
    _write_atomic(stamp, expected)


def _python_stamp(extras: tuple[str, ...]) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return f"python={sys.executable}\nextras={','.join(extras)}\npyproject={digest}\n"


def _python_outdated(stamp: Path, expected: str, extras: tuple[str, ...]) -> str | None:
    """Why pip must run, or None when the install is known to be current."""
    try:
        if stamp.read_text() != expected:
            return "pyproject.toml, extras or interpreter changed since the last install"
    except OSError:
        return "no install recorded in this checkout"
    from importlib import metadata

    try:
        dist = metadata.distribution("pytest-perfdata")
        origin = json.loads(dist.read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        return "not installed"
    url = urlparse(origin.get("url", ""))
    if not origin.get("dir_info", {}).get("editable") or Path(unquote(url.path)) != ROOT:
        return f"installed, but not editable from {ROOT}"
    missing = _unmet_requirements(extras)
    if missing is None:
        return "cannot check the requirements here"
    if missing:
        return f"missing or outdated: {', '.join(missing)}"
    return None


def _unmet_requirements(extras: tuple[str, ...]) -> list[str] | None:
    """The pyproject requirements (with ``extras``) not satisfied now; None if we cannot tell."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: let pip decide
        return None
    try:
        from packaging.requirements import Requirement
    except ImportError:
        try:
            from pip._vendor.packaging.requirements import Requirement
        except ImportError:
            return None
    from importlib import metadata

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project.get("dependencies", []))
    for extra in extras:
        wanted += project.get("optional-dependencies", {}).get(extra, [])
    unmet = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            unmet.append(requirement.name)
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            unmet.append(f"{requirement.name} {version} (wanted {requirement.specifier})")
    return unmet


def _check_pip() -> None:
    """Fail with the fix when this interpreter has no pip or refuses installs (PEP 668)."""
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode:
        raise SetupError(
            f"{sys.executable} has no pip: make a virtualenv first "
            "(apt-get install python3-venv; python3 -m venv .venv && . .venv/bin/activate)"
        )
    import sysconfig

    managed = Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED"
    if sys.prefix == sys.base_prefix and managed.exists():
        raise SetupError(
            f"{sys.executable} is managed by the system (PEP 668): make a virtualenv first "
            "(python3 -m venv .venv && . .venv/bin/activate), then run this again"
        )


# -- 2. Debian packages -------------------------------------------------------------------------


def debian_packages() -> list[str]:
    return [name for group, _why in DEBIAN_PACKAGES for name in group]


def missing_debian(packages: list[str]) -> list[str] | None:
    """The packages ``dpkg-query`` does not report installed; None when there is no dpkg."""
    dpkg_query = shutil.which("dpkg-query")
    if dpkg_query is None:
        return None
    done = subprocess.run(
        [dpkg_query, "-W", "-f=${Package}\t${db:Status-Abbrev}\n", *packages],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # exit 1 and a stderr line for each unknown package: those are missing
    installed = {
        name for name, _, status in (line.partition("\t") for line in done.stdout.splitlines())
        if status.startswith("ii")
    }
    return [name for name in packages if name not in installed]


def debian_step(*, dry_run: bool, root: bool | None = None) -> None:
    packages = debian_packages()
    missing = missing_debian(packages)
    if missing is None:
        say(f"debian: no dpkg here; the suites drive these Debian packages: {' '.join(packages)}"
            " (install their equivalents, or the tests that need them skip)")
        return
    if not missing:
        say(f"debian: all {len(packages)} packages installed")
        return
    root = os.geteuid() == 0 if root is None else root
    apt_get = shutil.which("apt-get")
    if not root or apt_get is None:
        how = "not root" if not root else "no apt-get"
        say(f"debian: missing {' '.join(missing)} ({how}; get them with: "
            f"sudo apt-get install {' '.join(missing)}); the tests that need them skip")
        return
    if dry_run:
        say(f"debian: would run apt-get update and apt-get install {' '.join(missing)}")
        return
    say(f"debian: apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run([apt_get, "update", "-qq"], env=env)
    _run([apt_get, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


# -- 3. tools built from Go modules -------------------------------------------------------------


def go_stamp(tool: GoTool, go_version: str, root: Path = ROOT) -> str:
    """What a built binary was made from; a different stamp means rebuild."""
    source = f"module={tool.module_dir}:{module_digest(root / tool.module_dir)}\n" if tool.module_dir else ""
    flags = f"ldflags={' '.join(tool.ldflags)}\n" if tool.ldflags else ""
    return (f"package={tool.package}@{tool.version}\n{source}{flags}tags={','.join(tool.tags)}\n"
            f"cgo={int(tool.cgo)}\ngo={go_version}\n")


def module_digest(folder: Path) -> str:
    """SHA-256 over a wrapper module's files (names and contents): any edit means rebuild."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def find_go() -> str | None:
    found = shutil.which("go")
    if found is not None:
        return found
    return next((path for path in GO_FALLBACKS if os.access(path, os.X_OK)), None)


def go_step(*, dry_run: bool, tools: tuple[GoTool, ...] = GO_TOOLS,
            tools_dir: Path = TOOLS_DIR, root: Path = ROOT) -> None:
    if not tools:
        say("go tools: none pinned yet")
        return
    go = find_go()
    if go is None:
        names = " ".join(tool.name for tool in tools)
        say(f"go tools: no Go toolchain (go on PATH or {GO_FALLBACKS[0]}) to build {names}; "
            "the tests that need them skip")
        return
    asked = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    go_version = asked.stdout.strip()
    if asked.returncode != 0 or not go_version:
        raise SetupError(f"{go} env GOVERSION failed: {asked.stderr.strip()}")
    bin_dir = tools_dir / "bin"
    for tool in tools:
        binary, stamp = bin_dir / tool.name, bin_dir / f"{tool.name}.stamp"
        expected = go_stamp(tool, go_version, root)
        try:
            current = binary.is_file() and stamp.read_text() == expected
        except OSError:
            current = False
        if current:
            say(f"go tools: {tool.name} {tool.version} up to date")
            continue
        source = f" (module {tool.module_dir})" if tool.module_dir else ""
        if dry_run:
            say(f"go tools: would build {tool.package}@{tool.version}{source} into {binary}")
            continue
        say(f"go tools: building {tool.package}@{tool.version}{source} with {go_version}")
        started = time.monotonic()
        _go_install(go, tool, binary, root)
        _write_atomic(stamp, expected)
        say(f"go tools: built {tool.name} in {time.monotonic() - started:.0f} s")


def _go_install(go: str, tool: GoTool, binary: Path, root: Path = ROOT) -> None:
    """``go install`` into a fresh directory, then move the binary in: never half a binary."""
    binary.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=binary.parent, prefix=f".{tool.name}-") as scratch:
        built = Path(scratch) / tool.name
        command = [go, "build", "-trimpath", "-o", str(built)] if tool.module_dir else [go, "install", "-trimpath"]
        if tool.tags:
            command.append(f"-tags={','.join(tool.tags)}")
        if tool.ldflags:
            command.append(f"-ldflags={' '.join(tool.ldflags)}")
        command.append("." if tool.module_dir else f"{tool.package}@{tool.version}")
        _run(command, env={**os.environ, "GOBIN": scratch, "CGO_ENABLED": "1" if tool.cgo else "0"},
             cwd=root / tool.module_dir if tool.module_dir else None)
        if not built.is_file():
            raise SetupError(f"go install {tool.package}@{tool.version} wrote no {tool.name}")
        os.replace(built, binary)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(text)
    os.replace(scratch, path)


# -- entry point --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/setup.py", description=__doc__.splitlines()[0],
        epilog="Then: python3 -m pytest suites/ (or tests/).",
    )
    parser.add_argument("target", choices=sorted(EXTRAS), help="what you are about to run")
    parser.add_argument("--dry-run", action="store_true", help="say what would be done; do nothing")
    args = parser.parse_args(argv)
    try:
        python_step(args.target, dry_run=args.dry_run)
        debian_step(dry_run=args.dry_run)
        go_step(dry_run=args.dry_run)
    except SetupError as exc:
        say(f"FAILED: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
