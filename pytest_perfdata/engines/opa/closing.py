"""The base of every loaded policy: what each reports of itself, and a ``with`` block that closes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...provenance import Engine
    from .policy import Policy

__all__ = ["Closing", "Loaded"]

class Closing:
    """``with engine.load(policy) as loaded:`` closes the policy, whatever happens in the block."""

    __slots__ = ()

    def close(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Loaded(Closing):
    """A compiled policy's facts, set once here for every engine (see ``LoadedPolicy``)."""

    def __init__(self, engine: Engine, policy: Policy, compile_seconds: float,
                 artefact_bytes: int | None = None) -> None:
        self.engine = engine
        self.policy = policy
        self.compile_seconds = compile_seconds  # how long load() took
        self.artefact_bytes = artefact_bytes  # size of the compiled module, where there is one

    def _after_close(self) -> RuntimeError:
        """The error of an evaluation after :meth:`close`."""
        return RuntimeError(f"{self.policy.name}: evaluate() after close()")
