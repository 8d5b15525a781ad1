"""OPA Wasm bundles: built by ``opa build -t wasm``, cached by what they depend on, read back."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Final

from .._text import first_line
from ..cache import default_cache_dir
from ..process import RunTimeout, run_bounded
from .cli import opa_version
from .errors import PolicyError
from .opa_errors import opa_text_error
from .policy import Policy

__all__ = ["build_wasm_bundle", "read_wasm_bundle", "wasm_bundle_path", "wasm_cache_key"]

_BUILD_TIMEOUT_S: Final = 300.0


def wasm_cache_key(version: str, policy: Policy) -> str:
    """What a cached Wasm bundle depends on: the OPA version, entrypoint, file names and contents.

    File names count because the bundle (and every error) carries them; order does not change
    what OPA compiles, so the files are hashed sorted by name.
    """
    digest = hashlib.sha256()
    digest.update(f"opa-wasm\0{version}\0{policy.entrypoint}\0".encode())
    for name, text in sorted(policy.sources()):
        digest.update(f"{name}\0{len(text.encode())}\0".encode())
        digest.update(text.encode())
    return digest.hexdigest()


def wasm_bundle_path(opa: Path, policy: Policy, cache_dir: Path | None = None) -> Path:
    """Where :func:`build_wasm_bundle` keeps the bundle of ``policy`` built by ``opa``."""
    key = wasm_cache_key(opa_version(opa), policy)
    root = (cache_dir if cache_dir is not None else default_cache_dir()) / "opa-wasm"
    return root / key[:32] / "bundle.tar.gz"


def build_wasm_bundle(opa: Path, policy: Policy, cache_dir: Path | None = None) -> Path:
    """``opa build -t wasm -e <entrypoint> -o bundle.tar.gz files…``, cached by :func:`wasm_cache_key`.

    The bundle is built in a private temporary directory and renamed into the cache, so a
    concurrent or interrupted build never leaves half a bundle where the next run looks.
    """
    target = wasm_bundle_path(opa, policy, cache_dir)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as scratch:
        out = Path(scratch) / "bundle.tar.gz"
        argv = [
            str(opa), "build", "-t", "wasm", "-e", policy.entrypoint, "-o", str(out),
            *(str(path) for path in policy.files),
        ]  # fmt: skip
        try:
            done = run_bounded(argv, timeout_s=_BUILD_TIMEOUT_S)
        except RunTimeout as exc:
            raise PolicyError(f"{policy.name}: opa build did not finish: {exc}") from None
        if done.exit_code != 0 or not out.is_file():
            text = (done.stderr or done.stdout).decode(errors="replace")
            raise opa_text_error(
                text, f"{policy.name}: opa build failed: {first_line(text) or done.exit_code}"
            )
        os.replace(out, target)
    return target


def read_wasm_bundle(bundle: Path) -> tuple[bytes, Any, list[str]]:
    """``policy.wasm``, ``data.json`` (``{}`` when absent) and the .rego texts of a bundle."""
    wasm: bytes | None = None
    data: Any = {}
    rego: list[str] = []
    try:
        with tarfile.open(bundle, "r:gz") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                name = member.name.lstrip("./")
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if name == "policy.wasm" or name.endswith("/policy.wasm"):
                    wasm = handle.read()
                elif name == "data.json":
                    data = json.loads(handle.read() or b"{}")
                elif name.endswith(".rego"):
                    rego.append(handle.read().decode("utf-8", errors="replace"))
    except (OSError, tarfile.TarError, json.JSONDecodeError) as exc:
        raise PolicyError(f"{bundle}: not a readable OPA bundle: {exc}") from None
    if wasm is None:
        raise PolicyError(f"{bundle}: no policy.wasm in the bundle (built without -t wasm?)")
    return wasm, data, rego
