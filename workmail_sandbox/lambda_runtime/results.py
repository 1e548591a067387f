"""What one invocation of a function gave back (:class:`InvocationResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..invocation import Invocation

__all__ = ["InvocationResult"]


@dataclass
class InvocationResult:
    """What one invocation gave back, as Lambda reports it.

    ``payload`` is the decoded JSON the function returned, or Lambda's error
    object (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``) when
    ``function_error`` is ``"Unhandled"``; ``payload_bytes`` is the same as the
    JSON text ``lambda.invoke`` returns.

    ``tampered`` names the sandbox hooks the function changed (the network
    guard, boto3's client factories, botocore's handlers, ...); the runtime put
    them back, wrote a warning to the function's log and issued a
    :class:`RuntimeWarning`.
    """

    payload: Any
    function_error: str | None
    log_text: str
    log_tail_base64: str
    request_id: str
    duration_ms: float
    cold_start: bool
    timed_out: bool
    payload_bytes: bytes = b""
    init_duration_ms: float | None = None
    executed_version: str = "$LATEST"
    invocation: Invocation | None = None
    tampered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the function returned normally."""
        return self.function_error is None
