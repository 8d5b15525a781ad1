# Deny privileged containers.
#
# A privileged container runs with (nearly) all the host's capabilities and device access, so it
# can escape to the node. Init containers run with the same power as app containers, so both are
# checked; a container is privileged only when securityContext.privileged is exactly `true`
# (absent or `false` is admitted).
#
# Messages start with "privileged: " (the rule ID the test oracle maps them to).
package k8s.privileged

import rego.v1

# Every container the pod starts: app containers and init containers. Ephemeral containers are
# not part of a Pod CREATE (they are added later through a subresource), so they are left out.
# An array, not a set: a set of containers would hash and compare whole container objects
# (env lists included), which made rego-cpp 1.5 ten times slower on a pod of forty containers.
containers := array.concat(
	input.request.object.spec.containers,
	object.get(input.request.object.spec, "initContainers", []),
)

deny contains msg if {
	some c in containers
	c.securityContext.privileged == true
	msg := sprintf("privileged: container '%s' runs privileged", [c.name])
}
