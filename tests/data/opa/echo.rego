# The Rego that abi_echo.wat stands in for: the decision is the input itself.
package test

echo := input
