"""Errors and logs as Lambda writes them: error payloads, stack traces, log tails."""

from __future__ import annotations

import base64
import datetime as _dt
import os
import traceback
from decimal import Decimal
from typing import Any

__all__ = [
    "TAIL_BYTES",
    "error_log_line",
    "error_payload",
    "exception_error",
    "exit_error",
    "marshal_error",
    "iso_ms",
    "json_default",
    "stack_trace",
    "tail",
]

#: ``LogType="Tail"`` returns the last 4 KB of the invocation's log.
TAIL_BYTES = 4096
#: The runtime's own modules: their frames head every traceback and are left out of ``stackTrace``.
_RUNTIME_DIR = os.path.normcase(os.path.dirname(os.path.abspath(__file__))) + os.sep


def stack_trace(tb: Any) -> list[str]:
    frames: Any = traceback.extract_tb(tb)
    for index, frame in enumerate(frames):
        if not os.path.normcase(os.path.abspath(frame.filename)).startswith(_RUNTIME_DIR):
            frames = frames[index:]
            break
    else:
        frames = traceback.StackSummary.from_list([])
    return traceback.format_list(frames)


def error_payload(message: str, error_type: str, request_id: str, trace: list[str]) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": trace}


def error_log_line(error: dict[str, Any]) -> str:
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        head += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        lines.extend(element.splitlines() or [""])
    return "\n".join(lines) + "\n"


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):  # the Lambda runtime's marshaller accepts Decimal
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def iso_ms(epoch_seconds: float) -> str:
    moment = _dt.datetime.fromtimestamp(epoch_seconds, _dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tail(text: str) -> str:
    data = text.encode("utf-8")[-TAIL_BYTES:]
    start = 0
    while start < len(data) and (data[start] & 0xC0) == 0x80:  # do not start inside a UTF-8 character
        start += 1
    return base64.b64encode(data[start:]).decode("ascii")



def exit_error(request_id: str, error: SystemExit) -> dict[str, Any]:
    code = error.code if isinstance(error.code, int) else (0 if error.code is None else 1)
    message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
    return error_payload(message, "Runtime.ExitError", request_id, [])


def _describe(error: BaseException) -> str:
    try:
        return str(error)
    except BaseException:  # an exception whose __str__ fails still gets reported
        return f"<unprintable {type(error).__name__} object>"


def exception_error(error: BaseException, request_id: str) -> dict[str, Any]:
    """Lambda's payload for an exception the handler raised: any class, ``KeyboardInterrupt`` too."""
    try:
        trace = stack_trace(error.__traceback__)
    except Exception:  # pragma: no cover - a traceback that cannot be formatted
        trace = []
    return error_payload(_describe(error), type(error).__name__, request_id, trace)


def marshal_error(error: BaseException, request_id: str) -> dict[str, Any]:
    """``Runtime.MarshalError``: the handler's result cannot be turned into JSON."""
    message = f"Unable to marshal response: {_describe(error)}"
    return error_payload(message, "Runtime.MarshalError", request_id, [])
