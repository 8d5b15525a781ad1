"""The errors of every policy engine: not installed, a policy that does not compile, no decision."""

from __future__ import annotations

__all__ = ["PolicyError", "PolicyEvalError", "PolicyUnavailable", "PolicyUndefined"]

class PolicyUnavailable(Exception):
    """The requested engine is not installed here; the message is one line saying how to get it."""


class PolicyError(Exception):
    """A policy that does not parse or compile, or names an entrypoint it does not define.

    The message starts with ``file:line:`` when the engine told where (the suite turns this
    into a failing test whose text points at the line to fix); ``file``, ``line`` and ``code``
    keep the parts for callers that want them.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        code: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.code = code
        super().__init__(message)


class PolicyEvalError(PolicyError):
    """Evaluation failed: a conflict between rules, or an error that the engine found only then.

    A subclass of :class:`PolicyError` because for the suite it is the same thing, a policy
    that cannot give a decision; rego-cpp, for one, reports an unknown function only here.
    """


class PolicyUndefined(LookupError):
    """The entrypoint has no value for this input (a rule without a default whose body failed).

    Not an error of the policy, and not ``None`` either (that would be a JSON ``null``); OPA's
    HTTP API answers ``{}`` for it. Policies under test should give their decisions defaults.
    """
