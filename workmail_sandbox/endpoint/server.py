"""The local endpoint: the running sandbox over the real AWS wire protocols, on loopback.

Every request is read as the operation it calls and its parameters (moto's
router and request parsers, from botocore's service models), made as the same
boto3 call in this process, and the answer written back in the service's wire
format (moto's response serializers). So the endpoint answers exactly what the
in-process sandbox answers, from the same models and with the same hooks: moto
for Lambda, IAM, S3, CloudFormation, CloudWatch Logs, STS and the rest, the
kit's emulators for ``workmail``, ``workmailmessageflow`` and ``serverlessrepo``,
the kit's CloudFormation fill-ins, stand-ins, and ``NotImplemented`` for an
operation nothing emulates. One implementation, two transports.

Paths under ``/workmail-sandbox-api/`` are the sandbox's own controls
(:mod:`workmail_sandbox.endpoint.control`).

The endpoint has no authentication: anything that can reach the port can use
the sandbox. It binds to 127.0.0.1 and refuses any other address unless told
``allow_remote=True``.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from .. import _moto
from ..errors import SandboxError
from ..invocation import CURRENT_INVOCATION, acting_for
from ..network import is_loopback
from .services import identify

__all__ = ["CONTROL_PREFIX", "DEFAULT_PORT", "EndpointApp", "EndpointServer", "WireError", "check_host"]

#: Where the sandbox's own controls live on the endpoint.
CONTROL_PREFIX = "/workmail-sandbox-api/"
#: The endpoint's port unless told otherwise.
DEFAULT_PORT = 5055
#: Request bodies larger than this are refused (S3's single PUT maximum is 5 GB; the sandbox keeps
#: objects in memory, so it takes less).
MAX_BODY_BYTES = 256 * 1024 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
ControlHandler = Callable[[str, str, dict[str, list[str]], bytes], tuple[int, Any]]


class WireError(Exception):
    """A ``ClientError`` as moto's serializers write an error: ``code``, ``message``, the members."""

    def __init__(self, error: ClientError) -> None:
        details = error.response.get("Error", {})
        self.code = str(details.get("Code") or "ServiceException")
        self.message = str(details.get("Message") or error)
        super().__init__(self.message)
        self.status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400)
        for key, value in error.response.items():
            if key not in ("Error", "ResponseMetadata") and isinstance(key, str) and key.isidentifier():
                setattr(self, key, value)


def check_host(host: str, *, allow_remote: bool) -> None:
    """Refuse to serve on a non-loopback address unless ``allow_remote`` (then warn: no authentication)."""
    if host and is_loopback(host):  # "" would listen on every address
        return
    if not allow_remote:
        raise SandboxError(
            f"The sandbox will not listen on {host or 'every address'}: it has no authentication, so only this "
            "machine may reach it.",
            fix="serve on 127.0.0.1 (the default); pass allow_remote=True (--allow-remote) only on a network you trust",
        )
    warnings.warn(
        f"The sandbox listens on {host}: anyone who can reach that address can use it (no authentication).",
        UserWarning,
        stacklevel=3,
    )


def _aws_chunked(body: bytes) -> bytes:
    """The payload of an ``aws-chunked`` body (SigV4 streaming: ``size[;ext]\\r\\ndata\\r\\n ... 0\\r\\n``)."""
    out = io.BytesIO()
    position = 0
    while True:
        end = body.find(b"\r\n", position)
        if end < 0:
            break
        size = int(body[position:end].split(b";", 1)[0] or b"0", 16)
        if size == 0:
            break
        start = end + 2
        out.write(body[start : start + size])
        position = start + size + 2
    return out.getvalue()


def _read_streams(value: Any) -> Any:
    """A response with its streaming bodies read (the serializer writes bytes)."""
    if isinstance(value, StreamingBody):
        return value.read()
    if isinstance(value, dict):
        return {key: _read_streams(item) for key, item in value.items()}
    return value


class EndpointApp:
    """The WSGI application: the sandbox's services and controls on one URL."""

    def __init__(self, sandbox: Any, control: ControlHandler | None = None) -> None:
        self.sandbox = sandbox
        self.control = control
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        #: Refuse requests whose Host is not a loopback name (DNS rebinding); EndpointServer sets it.
        self.loopback_only = True

    def client(self, service: str, region: str) -> Any:
        """The in-process client that makes a request's call (one per service and Region)."""
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self.sandbox.session().client(service, region_name=region)
            return self._clients[key]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            status, headers, body = self.handle(environ)
        except Exception as error:  # a kit bug: an answer, not a dropped connection
            logging.getLogger(__name__).exception("the endpoint failed on %s", environ.get("PATH_INFO"))
            status, headers = 500, {"Content-Type": "application/json"}
            body = json.dumps({"__type": "InternalFailure", "message": f"{type(error).__name__}: {error}"}).encode()
        if status in (204, 304) or environ.get("REQUEST_METHOD") == "HEAD":
            body = b""  # these answers carry no body (HTTP); a HEAD answer keeps GET's Content-Length
        reason = _REASONS.get(status, "Status")
        headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        if status in (204, 304):
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        elif not any(key.lower() == "content-length" for key in headers) or environ.get("REQUEST_METHOD") != "HEAD":
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
            headers["Content-Length"] = str(len(body))  # a HEAD answer keeps the length of what GET would send
        start_response(f"{status} {reason}", list(headers.items()))
        return [body]

    def handle(self, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """``(status, headers, body)`` for one request."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            return _plain_error(413, "RequestEntityTooLarge", f"The request body is over {MAX_BODY_BYTES:,} bytes.")
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        refusal = self._refusal(headers)
        if refusal is not None:
            return _plain_error(403, "AccessDeniedException", refusal)
        path = str(environ.get("PATH_INFO") or "/")
        if path.startswith(CONTROL_PREFIX) and self.control is not None:
            query = _query(str(environ.get("QUERY_STRING") or ""))
            status, answer = self.control(str(environ.get("REQUEST_METHOD", "GET")), path[len(CONTROL_PREFIX) :],
                                          query, body)  # fmt: skip
            data = answer if isinstance(answer, bytes) else json.dumps(answer, default=str).encode()
            kind = "application/octet-stream" if isinstance(answer, bytes) else "application/json"
            return status, {"Content-Type": kind}, data
        if "aws-chunked" in headers.get("content-encoding", "") or headers.get("x-amz-content-sha256", "").startswith(
            "STREAMING-"
        ):
            body = _aws_chunked(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_CONTENT_ENCODING", None)
        environ["wsgi.input"] = io.BytesIO(body)
        # The path as sent (an encoded slash in an ARN or an S3 key stays encoded); waitress names it REQUEST_URI.
        environ.setdefault("RAW_URI", environ.get("REQUEST_URI") or "")
        request = identify(headers, self.sandbox.region)
        if request is None:
            return _plain_error(
                400, "MissingAuthenticationToken", "The request is not signed (SigV4) and names no target."
            )
        for service in request.candidates:
            environ["wsgi.input"] = io.BytesIO(body)
            parsed = _moto.parse_wire_request(service, environ)
            if parsed is not None:
                # A function in a worker process calls as its invocation (its execution role applies).
                token = CURRENT_INVOCATION.set(acting_for(request.access_key))
                try:
                    return self._call(service, request.region, *parsed)
                finally:
                    CURRENT_INVOCATION.reset(token)
        return _plain_error(
            404, "UnknownOperationException", f"No {'/'.join(request.candidates)} operation matches this request."
        )

    def _refusal(self, headers: dict[str, str]) -> str | None:
        """Why a request is refused before anything runs: a web page's, or one for a non-loopback host name."""
        if "origin" in headers:
            # SDKs and the AWS CLI send no Origin; a web page in the user's browser does. The sandbox has no
            # authentication, so a page must not be able to drive it.
            return "The sandbox's endpoint refuses requests from web pages (an Origin header was sent)."
        if self.loopback_only:
            host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
            if host and not (is_loopback(host) or host == "localhost" or host.endswith(".localhost")):
                # A name that resolves to 127.0.0.1 but is not a loopback name: DNS rebinding.
                return f"The sandbox's endpoint answers loopback host names only, not {host!r}."
        return None

    def _call(
        self, service: str, region: str, operation: str, params: dict[str, Any], protocol: str
    ) -> tuple[int, dict[str, str], bytes]:
        client = self.client(service, region)
        status_override = None
        try:
            result: Any = _read_streams(client._make_api_call(operation, params))
        except ClientError as error:
            result = WireError(error)
            status_override = result.status
        status, headers, data = _moto.serialize_wire_response(service, operation, protocol, result)
        if status_override is not None:
            status = status_override
        request_id = (result.get("ResponseMetadata") or {}).get("RequestId") if isinstance(result, dict) else None
        if request_id:
            headers["x-amzn-RequestId"] = str(request_id)
        return status, headers, data


def _query(text: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(text, keep_blank_values=True)


def _plain_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, {"Content-Type": "application/x-amz-json-1.1", "X-Amzn-Errortype": code}, body


_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
            301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed", 413: "Payload Too Large",
            416: "Range Not Satisfiable", 429: "Too Many Requests", 500: "Internal Server Error",
            501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable"}  # fmt: skip


class EndpointServer:
    """The endpoint's HTTP server (waitress: HTTP/1.1 keep-alive, a pool of threads), in a thread of its own."""

    def __init__(self, app: EndpointApp, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 allow_remote: bool = False, threads: int = 4) -> None:  # fmt: skip
        check_host(host, allow_remote=allow_remote)
        from waitress.server import TcpWSGIServer, create_server

        try:
            self._server = create_server(
                app, host=host, port=port, threads=threads, ident="workmail-sandbox",
                max_request_body_size=MAX_BODY_BYTES, clear_untrusted_proxy_headers=True,
            )  # fmt: skip
        except OSError as error:
            raise SandboxError(
                f"Cannot listen on {host}:{port}: {error.strerror or error}.",
                fix="choose another port (--port N, or port=0 for any free one)",
            ) from None
        self.host = host
        if not isinstance(self._server, TcpWSGIServer):  # pragma: no cover - one TCP address gives one TCP server
            raise SandboxError(f"Cannot listen on {host}:{port}: not one TCP address.", fix="give one host")
        self.port = int(self._server.getsockname()[1])
        self._thread = threading.Thread(target=self._run, name="workmail-sandbox-endpoint", daemon=True)

    def _run(self) -> None:
        try:
            self._server.run()
        except OSError:  # closed by stop()
            pass

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EndpointServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection and the listening socket in the server's own thread, then end the workers."""
        from waitress import wasyncore

        server = self._server
        # The worker threads first (they signal the loop when they finish a request), then every socket,
        # closed in the loop's own thread: closing them from here while the loop polls them fails (EBADF).
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        if self._thread.is_alive():
            trigger: Any = getattr(server, "trigger")  # noqa: B009 - typed loosely by types-waitress
            channels: Any = getattr(server, "_map")  # noqa: B009 - waitress's own socket map
            trigger.pull_trigger(lambda: wasyncore.close_all(channels))
            self._thread.join(5)
        else:
            server.close()
