"""Connecting to a cluster: the kubeconfig search, the API client, and the ``/version`` probe that proves it answers."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, final

from . import K3S_KUBECONFIG, K3sApiError, K3sUnavailable
from .redaction import redact_text, remember_secrets
from .retry import RetryPolicy, call_with_retry, describe_error
from .secrets import client_key_directory, configuration_secrets, kubeconfig_secrets

if TYPE_CHECKING:
    from .settings import K3sSettings

__all__ = ["Connection", "KubeconfigSource", "connect", "find_kubeconfig", "response_json"]


@final
@dataclass(frozen=True, slots=True)
class KubeconfigSource:
    """The kubeconfig a run uses, and the places looked at before it (for the skip line)."""

    origin: str
    path: str
    tried: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.path} (from {self.origin})"


def find_kubeconfig(
    option: str | None,
    environ: Mapping[str, str],
    home: Path,
    k3s_path: Path = K3S_KUBECONFIG,
) -> KubeconfigSource:
    """The first kubeconfig that exists: ``--perf-kubeconfig``, ``KUBECONFIG``, ``~/.kube/config``, K3s's own.

    A file named with ``--perf-kubeconfig`` must exist (a typo must not silently measure
    another cluster). ``KUBECONFIG`` may list several files, which the client merges.
    Raises :class:`K3sUnavailable` naming every place tried.
    """
    if option:
        if Path(option).expanduser().is_file():
            return KubeconfigSource("--perf-kubeconfig", str(Path(option).expanduser()))
        raise K3sUnavailable(f"--perf-kubeconfig {option}: no such file")
    tried = ["--perf-kubeconfig: not given"]
    env = environ.get("KUBECONFIG", "")
    if env:
        present = [p for p in env.split(os.pathsep) if p and Path(p).expanduser().is_file()]
        if present:
            return KubeconfigSource("KUBECONFIG", os.pathsep.join(present), tuple(tried))
        tried.append(f"KUBECONFIG={env}: no such file")
    else:
        tried.append("KUBECONFIG: not set")
    for origin, path in (("~/.kube/config", home / ".kube" / "config"), ("K3s default", k3s_path)):
        if path.is_file():
            if os.access(path, os.R_OK):
                return KubeconfigSource(origin, str(path), tuple(tried))
            tried.append(f"{path}: not readable (K3s writes it mode 600: copy it, or start K3s with "
                         f"--write-kubeconfig-mode 644)")
        else:
            tried.append(f"{path}: no such file")
    raise K3sUnavailable(f"no kubeconfig found (tried {'; '.join(tried)}); see docs/k3s.md")


@final
@dataclass(frozen=True, slots=True)
class Connection:
    """An API client for one cluster, with where its configuration came from (no credentials)."""

    api_client: Any
    source: KubeconfigSource
    context: str
    server: str
    version: Mapping[str, Any]


def response_json(response: Any) -> Any:
    """The body of a raw (``_preload_content=False``) response as plain JSON: no model classes in between."""
    data = response.data if hasattr(response, "data") else response
    try:
        return json.loads(data or b"null")
    except RecursionError:  # Python's parser recurses: no API object nests thousands deep
        raise ValueError("the API server's answer is nested too deeply to be an API object") from None


def connect(
    settings: K3sSettings,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    k3s_path: Path = K3S_KUBECONFIG,
    policy: RetryPolicy = RetryPolicy(attempts=2, base_s=0.2, deadline_s=5.0, request_timeout_s=5.0),
    sleep: Callable[[float], None] = time.sleep,
) -> Connection:
    """Load the kubeconfig and ask the server for ``/version``; :class:`K3sUnavailable` if either fails.

    The client's own urllib3 retries are switched off so that :func:`call_with_retry` alone
    decides, with its bounds, and a dead address fails in milliseconds instead of minutes.
    """
    from kubernetes import client, config

    source = find_kubeconfig(settings.kubeconfig, os.environ if environ is None else environ,
                             Path.home() if home is None else home, k3s_path)
    configuration = client.Configuration()
    # Before anything can fail and be described: the values themselves are masked from now on.
    remember_secrets(kubeconfig_secrets(source.path.split(os.pathsep)))
    try:
        config.load_kube_config(config_file=source.path, context=settings.context,  # type: ignore[no-untyped-call]
                                client_configuration=configuration, persist_config=False,
                                temp_file_path=str(client_key_directory()))
        _, active = config.list_kube_config_contexts(config_file=source.path)  # type: ignore[no-untyped-call]
    except Exception as error:  # noqa: BLE001 - the loader raises ConfigException, OSError, YAML and type errors
        raise K3sUnavailable(f"cannot use kubeconfig {source}: {describe_error(error)}") from None
    remember_secrets(configuration_secrets(configuration))
    context = settings.context or str((active or {}).get("name", "?"))
    configuration.retries = 0
    server = redact_text(str(configuration.host))
    api_client = client.ApiClient(configuration)
    try:
        version = response_json(call_with_retry(client.VersionApi(api_client).get_code, what="GET /version",
                                                policy=policy, sleep=sleep, _preload_content=False))
    except Exception as error:  # noqa: BLE001 - any failure of the probe is the skip reason
        api_client.close()  # type: ignore[no-untyped-call]
        cause = error.__cause__ if isinstance(error, K3sApiError) and error.__cause__ else error
        earlier = f"; tried first: {'; '.join(source.tried)}" if source.tried else ""
        raise K3sUnavailable(f"no reachable cluster at {server} (context {context}, kubeconfig {source}): "
                             f"{describe_error(cause)}{earlier}") from None
    return Connection(api_client, source, context, server, version)
