"""Kubernetes AdmissionReview inputs for the policy suite, and an oracle of the policies' decisions.

Every policy engine under test (rego-cpp, OPA, ...) evaluates ``policies/*.rego`` on these inputs;
:func:`expected_denials` says, in plain Python and without any Rego, which of the five rules must
fire. An engine (or a policy) whose decision differs from the oracle's is wrong, so the latency
figures of the suite are only ever taken of engines that decide correctly.

The generators build *valid* Pods, as the API server's schema validation leaves them before a
validating webhook sees them: containers have a name and an image, volumes a name, a hostPath a
path. The policies rely on that (see ``policies/admission.rego``), and so does the oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from hypothesis import strategies as st

__all__ = [
    "ALLOWED_REGISTRIES",
    "BAD_IMAGES",
    "EDGE_CASES",
    "EDGE_CASE_DENIALS",
    "REQUIRED_LABELS",
    "REQUIRED_LIMITS",
    "RULE_IDS",
    "SIZES",
    "admission_reviews",
    "expected_denials",
    "fired_rules",
    "pods",
    "review_of",
]

#: The rule IDs, one per policy: the last segment of the policy's package (``k8s.<id>``) and the
#: prefix of each of its messages (``"<id>: ..."``).
RULE_IDS: tuple[str, ...] = ("privileged", "labels", "registry", "limits", "hostpath")

#: The oracle's copy of the policies' parameters. Kept apart from the Rego on purpose: a typo on
#: either side makes the engines and the oracle disagree, which the tests then report.
ALLOWED_REGISTRIES: tuple[str, ...] = ("registry.k8s.io/", "ghcr.io/acme/", "docker.io/library/")
REQUIRED_LABELS: tuple[str, ...] = ("app", "team")
REQUIRED_LIMITS: tuple[str, ...] = ("cpu", "memory")

Size = Literal["small", "large"]
Json = dict[str, Any]


# --------------------------------------------------------------------------------------------
# The oracle


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """App and init containers: every container a Pod CREATE starts."""
    spec = pod.get("spec", {})
    return [*spec.get("containers", []), *spec.get("initContainers", [])]


def expected_denials(review: Mapping[str, Any]) -> set[str]:
    """The IDs of the rules that must deny ``review``; the empty set means it is admitted.

    Written as directly as the rules read in English, so that it can be checked by eye and so
    that it shares no code, and no mistakes, with any engine.
    """
    pod = review["request"]["object"]
    containers = _containers(pod)
    labels = pod.get("metadata", {}).get("labels") or {}
    fired: set[str] = set()

    if any(c.get("securityContext", {}).get("privileged") is True for c in containers):
        fired.add("privileged")
    # Presence of the key is what counts: an empty value is admitted.
    if any(key not in labels for key in REQUIRED_LABELS):
        fired.add("labels")
    if any(not c["image"].startswith(ALLOWED_REGISTRIES) for c in containers):
        fired.add("registry")
    if any(
        resource not in c.get("resources", {}).get("limits", {})
        for c in containers
        for resource in REQUIRED_LIMITS
    ):
        fired.add("limits")
    if any("hostPath" in volume for volume in pod.get("spec", {}).get("volumes", [])):
        fired.add("hostpath")
    return fired


def fired_rules(messages: Iterable[str]) -> set[str]:
    """The rule IDs behind an engine's ``deny`` messages, read from their ``"<id>: "`` prefix.

    A message without a known prefix raises :class:`ValueError`: an engine that invents or
    garbles messages must not pass as one that decided correctly.
    """
    fired: set[str] = set()
    for message in messages:
        rule, sep, _ = message.partition(": ")
        if not sep or rule not in RULE_IDS:
            raise ValueError(f"deny message without a known rule-ID prefix: {message!r}")
        fired.add(rule)
    return fired


# --------------------------------------------------------------------------------------------
# Strategies

#: Images that break the registry rule, most of them nearly allowed: look-alike hosts, an
#: allowed name further down the path, a missing slash, another case, an implicit registry.
BAD_IMAGES: tuple[str, ...] = (
    "registry.k8s.io.evil.com/pause:3.9",
    "ghcr.io/acme-evil/api:1.0",
    "ghcr.io/acmecorp/api:1.0",
    "evil.example/registry.k8s.io/pause:3.9",
    "docker.io/nginx:1.25",
    "docker.io/libraryx/nginx:1.25",
    "Registry.k8s.io/pause:3.9",
    "nginx:1.25",
    "quay.io/acme/api@sha256:" + "0" * 64,
    "registry.k8s.io",
)

# Names and values are picked from short lists rather than from regexes: no rule reads them,
# and a large pod has hundreds of them, which regex strategies would make slow to generate.
_name_stem = st.sampled_from(["web", "api", "sidecar", "log-shipper", "init-db", "x"])
_image_path = st.sampled_from(["pause", "web", "tools/migrate", "a/b/c", "nginx", "x1"])
_tag = st.sampled_from([":latest", ":1.0", ":v2.3.4", "@sha256:" + "ab" * 32, ""])
_label_value = st.sampled_from(["", "web", "shop", "team-a", "v1.2.3", "x_y.z"])


@st.composite
def _good_image(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(ALLOWED_REGISTRIES)) + draw(_image_path) + draw(_tag)


@st.composite
def _security_context(draw: st.DrawFn, privileged: bool) -> Json | None:
    """``privileged: true``, or one of the ways a container is *not* privileged."""
    if privileged:
        return {"privileged": True, **draw(st.sampled_from([{}, {"runAsUser": 0}]))}
    return draw(
        st.sampled_from(
            [
                None,
                {},
                {"privileged": False},
                {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
            ]
        )
    )


@st.composite
def _resources(draw: st.DrawFn, compliant: bool) -> Json | None:
    """Both limits (and maybe requests), or a realistic way of missing one."""
    cpu = draw(st.sampled_from(["100m", "500m", "1", "2"]))
    memory = draw(st.sampled_from(["64Mi", "128Mi", "1Gi"]))
    requests = draw(st.sampled_from([{}, {"cpu": cpu, "memory": memory}]))
    if compliant:
        resources: Json = {"limits": {"cpu": cpu, "memory": memory}}
        return resources | ({"requests": requests} if requests else {})
    return draw(
        st.sampled_from(
            [
                None,
                {},
                {"requests": {"cpu": cpu, "memory": memory}},
                {"limits": {}},
                {"limits": {"cpu": cpu}},
                {"limits": {"memory": memory}, "requests": {"cpu": cpu}},
            ]
        )
    )


def _env(count: int, seed: int) -> list[Json]:
    """``count`` environment entries. Bulk only (no rule reads them), so they are derived from one
    drawn seed instead of drawn one by one: a large review stays cheap for Hypothesis to build."""
    return [{"name": f"VAR_{i}", "value": f"{seed:x}-{i}"} for i in range(count)]


@st.composite
def _container(
    draw: st.DrawFn, name: str, *, privileged: bool, allowed_image: bool, limits: bool, env: int
) -> Json:
    container: Json = {
        "name": name,
        "image": draw(_good_image() if allowed_image else st.sampled_from(BAD_IMAGES)),
    }
    if (context := draw(_security_context(privileged))) is not None:
        container["securityContext"] = context
    if (resources := draw(_resources(limits))) is not None:
        container["resources"] = resources
    if env:
        container["env"] = _env(draw(st.integers(0, env)), draw(st.integers(0, 2**32)))
    return container


def _volume(name: str, kind: str) -> Json:
    sources: dict[str, Json] = {
        "hostPath": {"path": f"/var/lib/{name}", "type": "DirectoryOrCreate"},
        "emptyDir": {},
        "configMap": {"name": f"{name}-config"},
        "secret": {"secretName": f"{name}-secret"},
        "persistentVolumeClaim": {"claimName": f"{name}-claim"},
    }
    return {"name": name, kind: sources[kind]}


@st.composite
def pods(
    draw: st.DrawFn,
    min_containers: int = 1,
    max_containers: int = 4,
    *,
    max_init_containers: int = 2,
    max_labels: int = 4,
    max_env: int = 3,
    max_volumes: int = 3,
) -> Json:
    """Valid Pods that break each rule about a third of the time, independently.

    Which rules a pod breaks is drawn first, then which (one to three) containers break them;
    every other container complies, often narrowly (``privileged: false``, an allowlisted image
    with a digest), and violators break a rule in the ways people do (requests but no limits,
    look-alike registries). Drawing each field independently instead would make a pod of forty
    containers almost never admitted, and a property over large pods would test only denials.
    """
    n_app = draw(st.integers(min_containers, max_containers))
    n_init = draw(st.integers(0, max_init_containers))
    n = n_app + n_init
    names = [f"{draw(_name_stem)}-{i}" for i in range(n)]  # unique, as the API server requires

    def violators(rule_breaks: bool) -> set[int]:
        if not rule_breaks:
            return set()
        return draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=min(n, 3)))

    breaks = {rule: draw(st.integers(0, 2)) == 0 for rule in RULE_IDS}
    privileged, bad_image, no_limits = (
        violators(breaks[rule]) for rule in ("privileged", "registry", "limits")
    )
    containers = [
        draw(
            _container(
                name,
                privileged=i in privileged,
                allowed_image=i not in bad_image,
                limits=i not in no_limits,
                env=max_env,
            )
        )
        for i, name in enumerate(names)
    ]

    labels: Json = {
        f"acme.io/k{i}": f"v{i}" for i in range(draw(st.integers(0, max(max_labels - 2, 0))))
    }
    required = list(REQUIRED_LABELS)
    if breaks["labels"]:
        required = draw(st.lists(st.sampled_from(REQUIRED_LABELS), unique=True, max_size=1))
        # A near miss: the required key in another case.
        if draw(st.booleans()):
            labels["App"] = "web"
    for key in required:
        labels[key] = draw(_label_value)
    metadata: Json = {
        "name": draw(_name_stem),
        "namespace": draw(st.sampled_from(["default", "shop"])),
    }
    keep_empty_labels: bool = draw(st.booleans())  # `labels: {}` and no labels at all both occur
    if labels or keep_empty_labels:
        metadata["labels"] = labels

    n_volumes = draw(st.integers(int(breaks["hostpath"]), max(max_volumes, 1)))
    volume_names = [f"vol-{i}" for i in range(n_volumes)]
    kinds = [
        draw(st.sampled_from(["emptyDir", "configMap", "secret", "persistentVolumeClaim"]))
        for _ in volume_names
    ]
    if breaks["hostpath"]:
        kinds[draw(st.integers(0, n_volumes - 1))] = "hostPath"
    spec: Json = {"containers": containers[:n_app]}
    if n_init or draw(st.booleans()):
        spec["initContainers"] = containers[n_app:]
    if volume_names:
        spec["volumes"] = [_volume(name, kind) for name, kind in zip(volume_names, kinds)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def review_of(pod: Json, uid: str = "00000000-0000-4000-8000-000000000000") -> Json:
    """The AdmissionReview a validating webhook receives when ``pod`` is created."""
    metadata = pod.get("metadata", {})
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": metadata.get("name", ""),
            "namespace": metadata.get("namespace", "default"),
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": []},
            "object": pod,
            "oldObject": None,
            "dryRun": False,
        },
    }


#: The bounds of :func:`pods` for each size. "large" is what makes input size show in latency:
#: dozens of containers, each with dozens of env entries, and many labels and volumes.
SIZES: dict[str, dict[str, int]] = {
    "small": {
        "min_containers": 1,
        "max_containers": 3,
        "max_init_containers": 1,
        "max_labels": 4,
        "max_env": 3,
        "max_volumes": 3,
    },
    "large": {
        "min_containers": 16,
        "max_containers": 40,
        "max_init_containers": 4,
        "max_labels": 64,
        "max_env": 48,
        "max_volumes": 16,
    },
}


def admission_reviews(size: Size = "small") -> st.SearchStrategy[Json]:
    """AdmissionReviews (``admission.k8s.io/v1``, operation CREATE) of a Pod of ``size``."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, not {size!r}")
    return st.builds(review_of, pods(**SIZES[size]), st.uuids().map(str))


# --------------------------------------------------------------------------------------------
# Hand-written edge cases


def _compliant_container(name: str, image: str = "registry.k8s.io/pause:3.9") -> Json:
    return {
        "name": name,
        "image": image,
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
    }


def _compliant_pod() -> Json:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "team": "shop"}},
        "spec": {
            "initContainers": [_compliant_container("migrate", "ghcr.io/acme/migrate:1.4")],
            "containers": [
                _compliant_container("web", "ghcr.io/acme/web:2.0"),
                _compliant_container("proxy", "docker.io/library/nginx:1.25"),
            ],
            "volumes": [{"name": "cache", "emptyDir": {}}],
        },
    }


def _edit(**edits: Any) -> Json:
    """A compliant pod changed by ``edits``: paths with ``__`` between keys and list indexes
    (``spec__containers__1__image``) to new values, ``...`` to delete the key. Each edge case
    then reads as what makes it special."""
    pod = _compliant_pod()
    for path, value in edits.items():
        *parents, last = path.split("__")
        node: Any = pod
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is ...:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return review_of(pod)


def _many_containers(count: int, missing: int) -> list[Json]:
    containers = [_compliant_container(f"worker-{i}") for i in range(count)]
    del containers[missing]["resources"]["limits"]["memory"]
    return containers


#: Hand-written AdmissionReviews for the cases a policy is most likely to get wrong.
EDGE_CASES: dict[str, Json] = {
    "compliant": review_of(_compliant_pod()),
    "privileged-init-container-only": _edit(
        spec__initContainers__0__securityContext={"privileged": True}
    ),
    "privileged-false-explicitly": _edit(
        spec__containers__0__securityContext={"privileged": False, "runAsUser": 0}
    ),
    "registry-prefix-trick": _edit(spec__containers__1__image="registry.k8s.io.evil.com/x"),
    "registry-allowed-name-in-path": _edit(
        spec__containers__0__image="evil.example/registry.k8s.io/pause:3.9"
    ),
    "registry-org-prefix-trick": _edit(spec__initContainers__0__image="ghcr.io/acme-evil/migrate"),
    "registry-short-name": _edit(spec__containers__1__image="nginx:1.25"),
    "limits-missing-on-one-of-many": _edit(spec__containers=_many_containers(24, missing=17)),
    "limits-requests-only": _edit(
        spec__containers__0__resources={"requests": {"cpu": "100m", "memory": "64Mi"}}
    ),
    "limits-missing-on-init-container": _edit(spec__initContainers__0__resources=...),
    "hostpath-among-volumes": _edit(
        spec__volumes=[
            {"name": "cache", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "web-config"}},
            {"name": "docker-sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
            {"name": "tls", "secret": {"secretName": "web-tls"}},
        ]
    ),
    "no-volumes-at-all": _edit(spec__volumes=...),
    "no-labels-at-all": _edit(metadata__labels=...),
    "labels-wrong-case": _edit(metadata__labels={"App": "web", "Team": "shop"}),
    "labels-empty-values": _edit(metadata__labels={"app": "", "team": ""}),
    "everything-wrong": review_of(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "bad"},
            "spec": {
                "containers": [
                    {"name": "bad", "image": "quay.io/x/y", "securityContext": {"privileged": True}}
                ],
                "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
            },
        }
    ),
}

#: What each edge case must give, written by hand rather than computed, so that the oracle is
#: checked too.
EDGE_CASE_DENIALS: dict[str, frozenset[str]] = {
    "compliant": frozenset(),
    "privileged-init-container-only": frozenset({"privileged"}),
    "privileged-false-explicitly": frozenset(),
    "registry-prefix-trick": frozenset({"registry"}),
    "registry-allowed-name-in-path": frozenset({"registry"}),
    "registry-org-prefix-trick": frozenset({"registry"}),
    "registry-short-name": frozenset({"registry"}),
    "limits-missing-on-one-of-many": frozenset({"limits"}),
    "limits-requests-only": frozenset({"limits"}),
    "limits-missing-on-init-container": frozenset({"limits"}),
    "hostpath-among-volumes": frozenset({"hostpath"}),
    "no-volumes-at-all": frozenset(),
    "no-labels-at-all": frozenset({"labels"}),
    "labels-wrong-case": frozenset({"labels"}),
    "labels-empty-values": frozenset(),
    "everything-wrong": frozenset(RULE_IDS),
}
