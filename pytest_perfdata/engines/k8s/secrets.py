"""The secret values a kubeconfig holds, and where the client may write its decoded key.

Redaction by pattern cannot know where an odd token ends; redaction by value can. So the
values themselves are read from the kubeconfig files and from the client's configuration
after loading (what it will actually send), and handed to :func:`~.redaction.remember_secrets`.

The Kubernetes client writes ``client-key-data`` decoded to a file, deleted at exit; a
SIGKILL skips that, and the key stays in ``/tmp``. Its files go to a directory of ours
instead, one per process (mode 700), and the directories of processes that are gone are
removed when the next connection is made.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import yaml

from ..._pids import alive
from ..cache import default_cache_dir

__all__ = ["client_key_directory", "configuration_secrets", "kubeconfig_secrets"]

#: The kubeconfig keys whose values are credentials (in ``users[].user``, auth-provider configs, exec env).
_SECRET_KEYS: Final = frozenset({
    "token", "id-token", "refresh-token", "access-token", "client-key-data", "password", "client-secret",
    "secret", "apikey", "api-key", "api_key",
})
_KEYS_DIR_NAME: Final = "k8s-client-keys"
_PROCESS_DIR: Final = re.compile(r"^(\d+)$")


def _decoded(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _walk(node: Any) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Every (key, value, mapping) below ``node``, each mapping and list once.

    Once: YAML aliases make a loaded document share its parts, and walking a shared part at
    every place it appears is exponential in the nesting (nine-fold aliases six deep).
    """
    stack, seen = [node], set()
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            if id(item) in seen:
                continue
            seen.add(id(item))
        if isinstance(item, dict):
            for key, value in item.items():
                yield str(key), value, item
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def _url_secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [value for value in (parts.password, unquote(parts.password or "")) if value]
    if parts.username and parts.password:
        found.append(f"{parts.username}:{parts.password}")
    return found


def _file_text(path: str) -> list[str]:
    try:
        return [Path(path).expanduser().read_text(encoding="utf-8", errors="replace").strip()]
    except OSError:
        return []


def kubeconfig_secrets(paths: Iterable[str]) -> list[str]:
    """Every credential in these kubeconfig files, with the forms the client derives from them.

    Values under credential keys (decoded too, for ``*-data``), ``username:password`` (what
    basic auth sends, base64'd by :func:`~.redaction.remember_secrets`), a server URL's
    password and the contents of a ``tokenFile``. An unreadable file gives nothing: the loader
    reports it.
    """
    found: list[str] = []
    for path in paths:
        try:
            document = yaml.safe_load(Path(path).expanduser().read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for key, value, owner in _walk(document):
            if not isinstance(value, str) or not value:
                continue
            lowered = key.lower()
            if lowered in _SECRET_KEYS:
                found.append(value)
                if lowered.endswith("-data") and (decoded := _decoded(value)):
                    found.append(decoded)
            elif lowered == "server":
                found += _url_secrets(value)
            elif lowered in ("tokenfile", "token-file"):
                found += _file_text(value)
            elif lowered == "username" and isinstance(owner.get("password"), str):
                found.append(f"{value}:{owner['password']}")
    return found


def configuration_secrets(configuration: Any) -> list[str]:
    """What the loaded client will send: its API keys (without ``Bearer``), password, key file, URL."""
    found: list[str] = []
    for value in (getattr(configuration, "api_key", None) or {}).values():
        if isinstance(value, str):
            found += [value, value.split(" ", 1)[1] if " " in value else value]
    username, password = getattr(configuration, "username", None), getattr(configuration, "password", None)
    if password:
        found.append(str(password))
        if username:
            found.append(f"{username}:{password}")
    key_file = getattr(configuration, "key_file", None)
    if key_file:
        found += _file_text(str(key_file))
    found += _url_secrets(str(getattr(configuration, "host", "") or ""))
    return found


def client_key_directory(root: Path | None = None) -> Path:
    """This process's directory for the client's decoded keys, after removing dead processes' ones."""
    base = (root or default_cache_dir()) / _KEYS_DIR_NAME
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    for entry in base.iterdir():
        match = _PROCESS_DIR.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
    mine = base / str(os.getpid())
    mine.mkdir(exist_ok=True, mode=0o700)
    return mine
