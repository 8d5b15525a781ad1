# Forbid hostPath volumes.
#
# A hostPath volume mounts a directory of the node into the pod: it can read other pods' data,
# the container runtime's socket or the kubelet's credentials. Any volume with a hostPath source
# is denied, whatever its path; other volume types (emptyDir, configMap, secret, ...) are admitted.
#
# Messages start with "hostpath: ".
package k8s.hostpath

import rego.v1

deny contains msg if {
	some volume in object.get(input.request.object.spec, "volumes", [])
	volume.hostPath
	msg := sprintf("hostpath: volume '%s' mounts host path '%s'", [volume.name, volume.hostPath.path])
}
