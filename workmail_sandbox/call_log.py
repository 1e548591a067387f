"""Which AWS calls function code made: service, operation and error code, in order.

``workmail-sandbox invoke`` shows the calls a function made while it ran (the
Message Flow API, S3, a service nothing emulates...). This module records them
with three botocore hooks, registered like the emulators' (through
:func:`workmail_sandbox._moto.register_builtin_handler`, so every new session gets
them, and on boto3's default session when one already exists):

* ``before-parameter-build``: a call starts; the service is noted in the call's
  context, and whether it was made while another call of the same thread was
  being answered (an emulator's own call: not the function's, not recorded);
* ``after-call``: it ended with an answer (moto's, an emulator's, a stand-in's):
  the error code when the HTTP status is an error;
* ``after-call-error``: it ended with an exception (moto's gaps as ``ClientError``
  ``NotImplemented``, a refused connection): the code, or the exception's name.

A call is recorded only while a :class:`CallRecorder` is open **and** function
code is running in the calling thread (:func:`workmail_sandbox.invocation.function_code_running`):
the kit's own calls (deploying, reading logs) are never in the list. A call that
fails before it is sent (botocore's parameter validation) is not recorded.

::

    from workmail_sandbox import call_log

    call_log.install()                 # the sandbox is running, or about to start
    with call_log.CallRecorder() as calls:
        org.receive("data/emails/01-plain-inbound.eml")
    [str(c) for c in calls.calls]      # ['workmailmessageflow.GetRawMessageContent', ...]
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import asdict, dataclass
from typing import Any

from . import _moto
from .invocation import function_code_running

__all__ = ["AwsCall", "CallRecorder", "install"]

#: Where the call's token sits in botocore's request context.
_CONTEXT_KEY = "workmail_sandbox_call_log"
_LOCK = threading.Lock()
_RECORDERS: list[CallRecorder] = []
_LOCAL = threading.local()


@dataclass(frozen=True)
class AwsCall:
    """One AWS call function code made: ``error_code`` is None when it succeeded."""

    service: str
    operation: str
    error_code: str | None
    function_name: str
    request_id: str

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (for JSON)."""
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}" + (f" -> {self.error_code}" if self.error_code else " ok")


class _Token:
    """One call in flight (weakly referenced: a call that died before its end leaves nothing behind)."""

    __slots__ = ("__weakref__", "done", "nested", "service")

    def __init__(self, service: str, nested: bool) -> None:
        self.service = service
        self.nested = nested
        self.done = False


class CallRecorder:
    """Records the AWS calls function code makes while it is open (a context manager).

    ``calls`` lists them in order; ``function_names`` (when given) keeps only the
    calls of those functions.
    """

    def __init__(self, function_names: tuple[str, ...] | list[str] | None = None) -> None:
        self.function_names = tuple(function_names) if function_names else None
        self.calls: list[AwsCall] = []

    def __enter__(self) -> CallRecorder:
        with _LOCK:
            _RECORDERS.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        with _LOCK:
            if self in _RECORDERS:
                _RECORDERS.remove(self)

    def _add(self, call: AwsCall) -> None:
        if self.function_names is None or call.function_name in self.function_names:
            self.calls.append(call)


def _in_flight() -> list[weakref.ref[_Token]]:
    stack: list[weakref.ref[_Token]] | None = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    stack[:] = [ref for ref in stack if (token := ref()) is not None and not token.done]
    return stack


def _started(model: Any = None, context: Any = None, **_: Any) -> None:
    """before-parameter-build: note the call (only while something records)."""
    if not _RECORDERS or not isinstance(context, dict) or _CONTEXT_KEY in context:
        return
    stack = _in_flight()
    service = str(getattr(getattr(model, "service_model", None), "service_name", "") or "")
    token = _Token(service, nested=bool(stack))
    context[_CONTEXT_KEY] = token
    stack.append(weakref.ref(token))


def _finish(event_name: str, context: Any, error_code: str | None) -> None:
    token = context.get(_CONTEXT_KEY) if isinstance(context, dict) else None
    if not isinstance(token, _Token) or token.done:
        return  # not noted at its start, or already recorded (a second copy of this hook)
    token.done = True
    invocation = function_code_running()
    if token.nested or invocation is None:
        return
    parts = event_name.split(".")
    operation = parts[2] if len(parts) > 2 else "?"
    call = AwsCall(
        service=token.service or (parts[1] if len(parts) > 1 else "?"),
        operation=operation,
        error_code=error_code,
        function_name=invocation.function_name,
        request_id=invocation.request_id,
    )
    with _LOCK:
        recorders = list(_RECORDERS)
    for recorder in recorders:
        recorder._add(call)


def _answered(
    event_name: str = "", http_response: Any = None, parsed: Any = None, context: Any = None, **_: Any
) -> None:
    """after-call: the call got an answer; its error code if the status is an error."""
    if not _RECORDERS:
        return
    code = None
    status = getattr(http_response, "status_code", 200)
    if isinstance(status, int) and status >= 300:
        error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
        override = context.get("error_code_override") if isinstance(context, dict) else None
        code = str(override or error.get("Code") or f"HTTP {status}")
    _finish(event_name, context, code)


def _failed(event_name: str = "", exception: BaseException | None = None, context: Any = None, **_: Any) -> None:
    """after-call-error: the call raised; the ClientError's code, else the exception's name."""
    if not _RECORDERS:
        return
    response = getattr(exception, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    _finish(event_name, context, str(code or type(exception).__name__))


_HANDLERS = (("before-parameter-build", _started), ("after-call", _answered), ("after-call-error", _failed))


def install() -> None:
    """Put the hooks in: for sessions made from now on, and boto3's default session if there is one.

    Idempotent; call it before a recorder opens (the sandbox's ``stop()`` takes the
    built-in entries out again, so call it after each start).
    """
    import boto3

    for event, handler in _HANDLERS:
        _moto.register_builtin_handler(event, handler)
    session = boto3.DEFAULT_SESSION
    if session is not None:
        for event, handler in _HANDLERS:
            session.events.register(event, handler, unique_id=f"{_CONTEXT_KEY}.{event}")
