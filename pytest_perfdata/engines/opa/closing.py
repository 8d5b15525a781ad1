"""The base of every loaded policy, so that a ``with`` block closes it whatever happens."""

from __future__ import annotations

from typing import Any

__all__ = ["Closing"]

class Closing:
    """``with engine.load(policy) as loaded:`` closes the policy, whatever happens in the block."""

    __slots__ = ()

    def close(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
