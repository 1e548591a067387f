"""Who is calling an emulated AWS API: a function run by the local runtime, or not.

The runtime sets :data:`CURRENT_INVOCATION` while a handler runs, so an emulator
can apply the function's execution role, and know whether the call comes from a
synchronous Run Lambda invocation (the only place PutRawMessageContent has an
effect) and whether that invocation has already timed out.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CURRENT_INVOCATION", "Invocation", "current_invocation"]


@dataclass
class Invocation:
    """One run of a function's handler."""

    function_name: str
    function_arn: str
    role_arn: str | None
    request_id: str
    region: str
    account: str
    deadline: _dt.datetime | None = None
    #: Set by the flow engine for a Run Lambda invocation: "sync" or "async".
    workmail_mode: str | None = None
    #: The message a Run Lambda invocation is about (its messageId).
    message_id: str | None = None
    #: True once the caller stopped waiting (timeout): later calls have no effect.
    abandoned: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return not self.abandoned


CURRENT_INVOCATION: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "workmail_sandbox_invocation", default=None
)


def current_invocation() -> Invocation | None:
    """The invocation whose code is running in this thread, if any."""
    return CURRENT_INVOCATION.get()
