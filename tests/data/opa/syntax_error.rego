package perf.broken

import rego.v1

allow if {
	input.user.role ==
}
