"""The Lambda Runtime API, served on loopback to one worker process (docs/aws-behaviour.md §6).

A runtime (AWS's ``awslambdaric``, the Node.js runtime interface client, or the
kit's bootstrap) asks ``GET /2018-06-01/runtime/invocation/next`` for work and
gets the event with the documented headers (``Lambda-Runtime-Aws-Request-Id``,
``-Deadline-Ms``, ``-Invoked-Function-Arn``, ``-Trace-Id``, ``-Client-Context``),
then posts ``/invocation/<id>/response`` or ``/invocation/<id>/error``; a runtime
that cannot start posts ``/init/error``. Each worker process has a server of its
own, so the request it waits for is always its function's.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["PREFIX", "Pending", "RuntimeApiServer"]

PREFIX = "/2018-06-01/runtime"
#: A response or error body Lambda accepts from a runtime (6 MB for a synchronous response).
MAX_BODY = 6 * 1024 * 1024 + 1024


@dataclass
class Pending:
    """One invocation handed to the worker, and what it answered."""

    request_id: str
    event: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None
    answered: threading.Event = field(default_factory=threading.Event)
    response: bytes | None = None
    error: dict[str, Any] | None = None
    error_type: str | None = None
    taken: bool = False


class RuntimeApiServer:
    """``AWS_LAMBDA_RUNTIME_API`` for one worker: the next invocation, its answer, an init error."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._pending: Pending | None = None
        self.init_error: dict[str, Any] | None = None
        self.init_error_type: str | None = None
        self.init_failed = threading.Event()
        self.waiting = threading.Event()  # set while the runtime waits for work (its init is done)
        self.closed = False
        handler = _handler_class(self)
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="lambda-runtime-api",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``: the value of ``AWS_LAMBDA_RUNTIME_API``."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def submit(self, pending: Pending) -> None:
        with self._lock:
            self._pending = pending
            self._lock.notify_all()

    def next(self, stop: threading.Event | None = None) -> Pending | None:
        """The invocation to hand out (blocks until there is one, or the server closes)."""
        with self._lock:
            self.waiting.set()
            while (self._pending is None or self._pending.taken) and not self.closed:
                self._lock.wait(0.5)
            if self.closed or self._pending is None:
                return None
            self._pending.taken = True
            self.waiting.clear()
            return self._pending

    def answer(self, request_id: str, *, response: bytes | None = None, error: dict[str, Any] | None = None,
               error_type: str | None = None) -> bool:  # fmt: skip
        with self._lock:
            pending = self._pending
            if pending is None or pending.request_id != request_id or pending.answered.is_set():
                return False
            pending.response, pending.error, pending.error_type = response, error, error_type
            pending.answered.set()
            return True

    def fail_init(self, error: dict[str, Any], error_type: str | None) -> None:
        self.init_error, self.init_error_type = error, error_type
        self.init_failed.set()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    """A worker that ends mid-request (a crash, a kill) is the invocation's outcome, not a server error to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


def _handler_class(api: RuntimeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the runtime clients keep the connection open
        # Headers and body go out in two writes: with Nagle's algorithm on, the second waits for the
        # client's delayed ACK (40 ms a call).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
            return None

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.rfile.read(length)
                return b""
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path != f"{PREFIX}/invocation/next":
                self._send(404, b'{"errorMessage": "not a Runtime API path"}')
                return
            pending = api.next()
            if pending is None:
                self._send(500, b'{"errorMessage": "the sandbox is stopping this worker"}')
                return
            headers = {
                "Lambda-Runtime-Aws-Request-Id": pending.request_id,
                "Lambda-Runtime-Deadline-Ms": str(pending.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": pending.function_arn,
                "Lambda-Runtime-Trace-Id": pending.trace_id,
            }
            if pending.client_context:
                headers["Lambda-Runtime-Client-Context"] = pending.client_context
            self._send(200, pending.event, headers)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self._body()
            parts = self.path[len(PREFIX) :].strip("/").split("/")
            error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
            if parts == ["init", "error"]:
                api.fail_init(_json(body), error_type)
                self._send(202, b'{"status": "OK"}')
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                if parts[2] == "response":
                    known = api.answer(parts[1], response=body)
                else:
                    known = api.answer(parts[1], error=_json(body), error_type=error_type)
                if known:
                    self._send(202, b'{"status": "OK"}')
                else:
                    self._send(400, b'{"errorMessage": "unknown or already answered request id"}')
            else:
                self._send(404, b'{"errorMessage": "not a Runtime API path"}')

    return Handler


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {"errorMessage": body.decode("utf-8", "replace"), "errorType": "Runtime.InvalidErrorBody"}
    return value if isinstance(value, dict) else {"errorMessage": str(value)}
