# Require the labels that ownership and routing depend on.
#
# Every pod must carry an `app` and a `team` label in metadata.labels, so that alerts, cost reports
# and on-call routing can find who owns it. Only the key is required: an empty value is admitted,
# as in Gatekeeper's k8srequiredlabels without a value pattern. Keys are case-sensitive.
#
# Messages start with "labels: ".
package k8s.labels

import rego.v1

required := {"app", "team"}

# A pod without a labels map at all is missing every required label.
provided := object.keys(object.get(input.request.object, ["metadata", "labels"], {}))

deny contains msg if {
	some key in required - provided
	msg := sprintf("labels: pod is missing required label '%s'", [key])
}
