# The admission decision: every policy of the library at once.
#
# `deny` is the union of the five policies' messages and `allowed` is true exactly when none
# fired, which is what a validating webhook answers in AdmissionReview.response.allowed. Each
# policy stays in its own package so that it can also be loaded and measured alone.
#
# What every policy may rely on: `input` is an AdmissionReview whose request.object is a Pod.
# Validating admission runs after the API server's schema validation, so the fields a Pod must
# have (container name and image, volume name, hostPath.path) are present and the messages can
# use them directly. Every message starts with "<rule-id>: ", the rule ID being the last segment
# of its policy's package (privileged, labels, registry, limits, hostpath).
package k8s.admission

import rego.v1

deny contains msg if some msg in data.k8s.privileged.deny

deny contains msg if some msg in data.k8s.labels.deny

deny contains msg if some msg in data.k8s.registry.deny

deny contains msg if some msg in data.k8s.limits.deny

deny contains msg if some msg in data.k8s.hostpath.deny

allowed := count(deny) == 0
