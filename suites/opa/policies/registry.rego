# Allow images only from trusted registries.
#
# Every image (app and init containers) must start with one of the allowlisted prefixes below.
# Each prefix ends with "/" so that look-alike hosts are denied: "registry.k8s.io.evil.com/x"
# does not start with "registry.k8s.io/", nor "ghcr.io/acme-evil/x" with "ghcr.io/acme/".
# Short names ("nginx:1.25") are denied too: the registry they resolve to depends on each node's
# container runtime configuration, so the image has to be fully qualified. The comparison is a
# plain, case-sensitive prefix match.
#
# Messages start with "registry: ".
package k8s.registry

import rego.v1

allowed_registries := [
	"registry.k8s.io/",
	"ghcr.io/acme/",
	"docker.io/library/",
]

# An array, not a set: a set of containers would hash and compare whole container objects
# (env lists included), which made rego-cpp 1.5 ten times slower on a pod of forty containers.
containers := array.concat(
	input.request.object.spec.containers,
	object.get(input.request.object.spec, "initContainers", []),
)

deny contains msg if {
	some c in containers
	not strings.any_prefix_match(c.image, allowed_registries)
	msg := sprintf("registry: container '%s' uses image '%s' from a registry not on the allowlist", [c.name, c.image])
}
