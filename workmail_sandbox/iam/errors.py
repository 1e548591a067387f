"""The error the evaluator raises for a policy document it cannot judge."""

from __future__ import annotations

from ..errors import ConfigurationError

__all__ = ["PolicyError"]


class PolicyError(ConfigurationError):
    """A policy document the evaluator cannot judge: invalid, or using a feature it does not model."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message[:1].upper() + message[1:], fix=fix)
