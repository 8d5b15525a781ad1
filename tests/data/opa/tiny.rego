# A tiny admission-style policy for the backend tests: who may do what, and why not.
package perf.tiny

import rego.v1

default allow := false

allow if {
	input.user.role == "admin"
}

allow if {
	input.user.role == "dev"
	input.action == "read"
}

deny contains msg if {
	not allow
	msg := sprintf("%s may not %s", [input.user.name, input.action])
}

deny contains "anonymous request" if not input.user.name

tags contains tag if some tag in input.tags
