# Require CPU and memory limits on every container.
#
# A container without limits can take a whole node's CPU or memory and starve its neighbours.
# Every app container and init container must set resources.limits.cpu and
# resources.limits.memory; requests alone are not enough. Only presence is checked, not the value.
#
# Messages start with "limits: ", one per container and missing resource.
package k8s.limits

import rego.v1

required := {"cpu", "memory"}

# An array, not a set: a set of containers would hash and compare whole container objects
# (env lists included), which made rego-cpp 1.5 ten times slower on a pod of forty containers.
containers := array.concat(
	input.request.object.spec.containers,
	object.get(input.request.object.spec, "initContainers", []),
)

deny contains msg if {
	some c in containers
	some resource in required
	not c.resources.limits[resource]
	msg := sprintf("limits: container '%s' has no %s limit", [c.name, resource])
}
