"""HTTP stand-ins: fixed or computed answers for third-party HTTP(S) endpoints, whichever client asks.

The public side is :meth:`workmail_sandbox.sandbox.Sandbox.stand_in_http` (see
:mod:`workmail_sandbox.stand_ins` and docs/stand-ins.md). This module holds the
registry of URL prefixes and the three interceptions that route a request for a
stand-in's host to it, installed while at least one HTTP stand-in exists:

* ``requests``: a ``responses.RequestsMock`` of the kit's own, started on top of
  whatever patches ``requests.adapters.HTTPAdapter.send`` at that moment (moto's own
  ``responses`` mock while the sandbox runs) and handing every request it does not
  answer to it: moto still answers requests to AWS URLs, and the network guard still
  refuses the rest;
* ``urllib3`` used directly (``PoolManager``, connection pools):
  ``HTTPConnectionPool.urlopen`` answers for the stand-ins' hosts and calls urllib3's
  own method for every other host;
* ``http.client`` (and ``urllib.request``, which uses it): ``HTTPConnection.connect``
  and ``HTTPSConnection.connect`` give a connection to a stand-in's host an in-memory
  socket. http.client writes the request into it and reads its response from the
  bytes the stand-in answers, so the caller gets a real ``http.client.HTTPResponse``.

A request for a stand-in's host that matches none of its prefixes is refused with
:class:`~workmail_sandbox.network.NetworkBlockedError` (recorded in the guard's
``attempts``), as the guard would refuse it. Everything else never reaches this
module's answers: it goes on to the network guard, which refuses it.

One concept: routing a request for a stand-in's host to its answer, once per client
library (they share the registry, the request record and the answer format).
"""

from __future__ import annotations

import http
import http.client
import io
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import SandboxError
from .network import BlockedAttempt, NetworkBlockedError, NetworkGuard

__all__ = ["HTTP_ANSWER_KEYS", "HttpRegistry", "HttpRequest", "HttpStandIn", "check_http_answer", "normalise_prefix"]

#: The keys an HTTP stand-in's answer may have.
HTTP_ANSWER_KEYS = ("status", "json", "body", "headers")
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: The methods requests may send that the kit's responses mock answers (others reach urllib3's pool, also patched).
_REQUESTS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass
class HttpRequest:
    """A request an HTTP stand-in answered (or was asked to): what the client sent."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of header ``name`` (any case), or ``default``."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), default)

    @property
    def text(self) -> str:
        """The body as text (UTF-8; undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON (``ValueError`` when it is not JSON)."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def reason(self) -> str:
        try:
            return http.HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"


def _origin(scheme: str, host: str, port: int | None) -> tuple[str, str, int]:
    scheme = scheme.lower()
    return scheme, host.lower().strip("[]"), int(port or _DEFAULT_PORTS.get(scheme, 80))


def _split_url(url: str) -> tuple[tuple[str, str, int], str]:
    """``((scheme, host, port), path and query)`` of an absolute http(s) URL."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _origin(parts.scheme, parts.hostname or "", parts.port), path


def _display(origin: tuple[str, str, int], path: str) -> str:
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    netloc = host if _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return f"{scheme}://{netloc}{path}"


def normalise_prefix(url_prefix: Any) -> tuple[tuple[str, str, int], str]:
    """``((scheme, host, port), path prefix)`` of a stand-in's URL prefix, or :class:`SandboxError`."""
    if not isinstance(url_prefix, str) or not url_prefix.strip():
        raise SandboxError(
            f"An HTTP stand-in needs a URL prefix as text, got {url_prefix!r}.",
            fix="pass the start of the URLs to answer, e.g. 'https://hooks.slack.example/services/'",
        )
    try:
        parts = urlsplit(url_prefix.strip())
        port = parts.port
    except ValueError as error:
        raise SandboxError(f"{url_prefix!r} is not a URL ({error}).", fix="write it as https://host/path/") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise SandboxError(
            f"{url_prefix!r} is not an http:// or https:// URL with a host.",
            fix="write the prefix as https://host/path/ (the scheme and host are required)",
        )
    if parts.fragment:
        raise SandboxError(
            f"{url_prefix!r} has a fragment (#...), which is never sent to a server.", fix="drop the #... part"
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _origin(parts.scheme, parts.hostname, port), path


def check_http_answer(answer: Any, where: str) -> _Answer:
    """The answer an HTTP stand-in gives, from ``{"status", "json" | "body", "headers"}``; SandboxError if bad."""
    if not isinstance(answer, Mapping):
        raise SandboxError(
            f"{where}: the answer must be a dict like {{'status': 200, 'json': {{...}}}}, got {type(answer).__name__}.",
            fix="return or pass a dict with status and json, or status and body",
        )
    unknown = [key for key in answer if key not in HTTP_ANSWER_KEYS]
    if unknown:
        import difflib

        close = difflib.get_close_matches(str(unknown[0]), HTTP_ANSWER_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SandboxError(
            f"{where}: unknown key {unknown[0]!r} in the answer{hint}.", fix=f"use only {', '.join(HTTP_ANSWER_KEYS)}"
        )
    status = answer.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise SandboxError(f"{where}: status must be an HTTP status code, got {status!r}.", fix="use 100 to 599")
    if "json" in answer and "body" in answer:
        raise SandboxError(f"{where}: the answer has both json and body.", fix="give one of them")
    headers: list[tuple[str, str]] = []
    raw_headers = answer.get("headers") or {}
    if not isinstance(raw_headers, Mapping):
        raise SandboxError(f"{where}: headers must be a dict of names and values.", fix="write {'Name': 'value'}")
    for name, value in raw_headers.items():
        if not isinstance(name, str) or not isinstance(value, (str, int)) or isinstance(value, bool):
            raise SandboxError(
                f"{where}: header {name!r} must have a text value, got {value!r}.", fix="write headers as text"
            )
        if "\n" in f"{name}{value}" or "\r" in f"{name}{value}":
            raise SandboxError(f"{where}: header {name!r} holds a line break.", fix="remove the line break")
        headers.append((name, str(value)))
    content_type = None
    if "json" in answer:
        try:
            body = json.dumps(answer["json"]).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise SandboxError(f"{where}: json cannot be written as JSON ({error}).", fix="use JSON values") from None
        content_type = "application/json"
    else:
        raw = answer.get("body", b"")
        if isinstance(raw, str):
            body, content_type = raw.encode("utf-8"), "text/plain; charset=utf-8"
        elif isinstance(raw, (bytes, bytearray)):
            body, content_type = bytes(raw), "application/octet-stream"
        elif raw is None:
            body = b""
        else:
            raise SandboxError(
                f"{where}: body must be text or bytes, got {type(raw).__name__}.", fix="use json= for data"
            )
    names = {name.lower() for name, _ in headers}
    if content_type and body and "content-type" not in names:
        headers.append(("Content-Type", content_type))
    headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    return _Answer(status, headers, body)


@dataclass(eq=False)
class HttpStandIn:
    """An answer for every request whose URL starts with :attr:`url_prefix` (see ``Sandbox.stand_in_http``)."""

    url_prefix: str
    answer: Any = field(repr=False)
    #: Every request it answered, in order.
    calls: list[HttpRequest] = field(default_factory=list, repr=False)
    active: bool = True
    _origin: tuple[str, str, int] = field(default=("", "", 0), repr=False)
    _path: str = field(default="/", repr=False)
    _registry: HttpRegistry | None = field(default=None, repr=False)
    _sequence: int = field(default=0, repr=False)

    @property
    def target(self) -> str:
        """What it answers, as the sandbox's call list names it."""
        return self.url_prefix

    def remove(self) -> None:
        """Stop answering (requests for its host then need another stand-in, or are refused)."""
        if self._registry is not None:
            self._registry.remove(self)

    def _answer_for(self, request: HttpRequest) -> _Answer:
        if not callable(self.answer):
            return check_http_answer(self.answer, f"HTTP stand-in {self.url_prefix}")
        where = f"HTTP stand-in {self.url_prefix}"
        try:
            result = self.answer(request)
            return check_http_answer(result, where)
        except SandboxError as error:
            problem = str(error)
        except Exception as error:  # noqa: BLE001 - any bug in the team's answer becomes a 500 naming it
            problem = f"{where}: its answer function raised {type(error).__name__}: {error}"
        body = problem.encode("utf-8")
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Workmail-Sandbox-Stand-In-Error", "true"),
        ]
        return _Answer(500, headers, body)


class HttpRegistry:
    """The HTTP stand-ins of the running sandbox, and the interceptions that reach them."""

    def __init__(self, on_call: Callable[[HttpStandIn, HttpRequest], None] | None = None) -> None:
        self._lock = threading.RLock()
        self._stand_ins: list[HttpStandIn] = []
        self._interceptors: list[Any] = []
        self.on_call = on_call

    def stand_ins(self) -> list[HttpStandIn]:
        with self._lock:
            return list(self._stand_ins)

    def add(self, url_prefix: str, answer: Any, sequence: int = 0) -> HttpStandIn:
        """A new stand-in (a later one for the same prefix replaces the earlier one)."""
        origin, path = normalise_prefix(url_prefix)
        if not callable(answer):
            check_http_answer(answer, f"HTTP stand-in {url_prefix}")
        stand_in = HttpStandIn(
            url_prefix.strip(), answer, _origin=origin, _path=path, _registry=self, _sequence=sequence
        )
        with self._lock:
            replaced = [s for s in self._stand_ins if (s._origin, s._path) == (origin, path)]
            self._stand_ins.append(stand_in)
            for old in replaced:
                self._remove_locked(old)
            if not self._interceptors:
                try:
                    self._install()
                except BaseException:
                    self._remove_locked(stand_in)
                    raise
        return stand_in

    def remove(self, stand_in: HttpStandIn) -> None:
        with self._lock:
            self._remove_locked(stand_in)

    def _remove_locked(self, stand_in: HttpStandIn) -> None:
        stand_in.active = False
        if stand_in in self._stand_ins:
            self._stand_ins.remove(stand_in)
        if not self._stand_ins:  # the last one: every client library is left as it was
            for interceptor in reversed(self._interceptors):
                interceptor.uninstall()
            self._interceptors = []

    def clear(self) -> None:
        """Remove every stand-in (the interceptions go with the last one)."""
        with self._lock:
            for stand_in in list(self._stand_ins):
                self._remove_locked(stand_in)

    # matching ------------------------------------------------------------------------------

    def handles(self, origin: tuple[str, str, int]) -> bool:
        """Does a stand-in answer for this (scheme, host, port)?"""
        origin = _origin(*origin)
        with self._lock:
            return any(s._origin == origin for s in self._stand_ins)

    def handles_url(self, url: str) -> bool:
        try:
            return self.handles(_split_url(url)[0])
        except ValueError:
            return False

    def _match(self, url: str) -> tuple[HttpStandIn, str]:
        """The stand-in with the longest prefix of ``url`` and the URL as recorded, or NetworkBlockedError."""
        origin, path = _split_url(url)
        with self._lock:
            same_host = [s for s in self._stand_ins if s._origin == origin]
        matching = [s for s in same_host if path.startswith(s._path)]
        if not matching:
            raise self.refusal(url, [s.url_prefix for s in same_host])
        return max(matching, key=lambda s: len(s._path)), _display(origin, path)

    def check(self, url: str) -> None:
        """NetworkBlockedError when ``url``'s host has stand-ins but none of them answers it."""
        self._match(url)

    def respond(self, method: str, url: str, headers: Mapping[str, Any], body: bytes) -> _Answer:
        """Record the request and give the answer of the stand-in for ``url`` (or NetworkBlockedError)."""
        stand_in, full_url = self._match(url)
        request = HttpRequest(method.upper(), full_url, {str(k): str(v) for k, v in headers.items()}, bytes(body))
        stand_in.calls.append(request)
        if self.on_call is not None:
            self.on_call(stand_in, request)
        return stand_in._answer_for(request)

    @staticmethod
    def refusal(url: str, prefixes: list[str]) -> NetworkBlockedError:
        guard = NetworkGuard.current()
        if guard is not None:
            guard.attempts.append(BlockedAttempt("request", url))
        return NetworkBlockedError(
            f"The sandbox refused a request to {url}: its host has HTTP stand-ins, but none for this URL "
            f"(stand-ins: {', '.join(prefixes) or 'none'}).",
            fix="add a stand-in for it with sb.stand_in_http(url_prefix, answer), or correct the URL",
        )

    # interceptions ---------------------------------------------------------------------------

    def _install(self) -> None:
        installed: list[Any] = []
        try:
            for interceptor in (_HttpClientInterception(self), _Urllib3Interception(self), _RequestsInterception(self)):
                interceptor.install()
                installed.append(interceptor)
        except BaseException:
            for interceptor in reversed(installed):
                interceptor.uninstall()
            raise
        self._interceptors = installed


def _body_bytes(body: Any) -> bytes:
    """What a client library was given as a request body, as bytes."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)


# requests, through responses -----------------------------------------------------------------


class _RequestsInterception:
    """A ``responses`` mock of the kit's own, on top of whatever answers requests now (moto's mock)."""

    def __init__(self, registry: HttpRegistry) -> None:
        self.registry = registry
        self.mock: Any = None

    def install(self) -> None:
        try:
            import requests.adapters
            import responses
        except ImportError:  # pragma: no cover - requests comes with moto
            return
        import re

        # Whatever answers requests now (moto's own responses mock while the sandbox runs) gets
        # every request the stand-ins do not answer: AWS URLs still reach moto, the rest the guard.
        previous: Any = requests.adapters.HTTPAdapter.send
        mock = responses.RequestsMock(assert_all_requests_are_fired=False, real_adapter_send=previous)
        for method in _REQUESTS_METHODS:
            mock.add_callback(method, re.compile(".*"), self._answer, content_type=None, match=[self._for_stand_ins])
        mock.add_passthru(re.compile(".*"))
        mock.start()
        self.mock = mock

    def uninstall(self) -> None:
        if self.mock is not None:
            self.mock.stop(allow_assert=False)
            self.mock = None

    def _for_stand_ins(self, request: Any) -> tuple[bool, str]:
        handled = self.registry.handles_url(str(request.url))
        return handled, "" if handled else "no HTTP stand-in for this host"

    def _answer(self, request: Any) -> tuple[int, Any, bytes]:  # responses takes a list of header pairs
        import requests

        try:
            answer = self.registry.respond(request.method, str(request.url), request.headers, _body_bytes(request.body))
        except NetworkBlockedError as refused:
            raise requests.exceptions.ConnectionError(refused, request=request) from None
        return answer.status, answer.headers, answer.body


# urllib3 used directly -------------------------------------------------------------------------


class _Urllib3Interception:
    """``HTTPConnectionPool.urlopen`` answers for the stand-ins' hosts (PoolManager, urllib3.request)."""

    def __init__(self, registry: HttpRegistry) -> None:
        self.registry = registry
        self.original: Any = None

    def install(self) -> None:
        try:
            from urllib3.connectionpool import HTTPConnectionPool
        except ImportError:  # pragma: no cover - urllib3 comes with botocore
            return
        import inspect

        original = vars(HTTPConnectionPool)["urlopen"]
        signature = inspect.signature(original)
        registry = self.registry

        def urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            origin = (str(pool.scheme), str(pool.host), pool.port)
            if not registry.handles(origin):
                return original(pool, method, url, *args, **kwargs)
            from urllib3.exceptions import MaxRetryError
            from urllib3.response import HTTPResponse

            call = signature.bind(pool, method, url, *args, **kwargs)
            call.apply_defaults()
            given = call.arguments
            full = url if url.startswith(("http://", "https://")) else _display(_origin(*origin), url or "/")
            headers = given["headers"] if given["headers"] is not None else pool.headers
            try:
                answer = registry.respond(method, full, dict(headers or {}), _body_bytes(given["body"]))
            except NetworkBlockedError as refused:
                raise MaxRetryError(pool, url, refused) from None
            headers_out: Any = answer.headers  # urllib3 takes header pairs, repeated names included
            return HTTPResponse(
                body=io.BytesIO(b"" if method.upper() == "HEAD" else answer.body),
                headers=headers_out,
                status=answer.status,
                reason=answer.reason,
                preload_content=given["preload_content"],
                decode_content=given["decode_content"],
                request_method=method,
                request_url=full,
            )

        urlopen.__doc__ = original.__doc__
        urlopen.__wrapped__ = original  # type: ignore[attr-defined]  # functools-style marker
        self.original = original
        HTTPConnectionPool.urlopen = urlopen  # type: ignore[method-assign, assignment]  # the interception is the point

    def uninstall(self) -> None:
        if self.original is not None:
            from urllib3.connectionpool import HTTPConnectionPool

            HTTPConnectionPool.urlopen = self.original  # type: ignore[method-assign]  # putting urllib3's own back
            self.original = None


# http.client and urllib.request ----------------------------------------------------------------


class _StandInSocket:
    """What an http.client connection to a stand-in's host writes to and reads from, in memory."""

    def __init__(self, registry: HttpRegistry, origin: tuple[str, str, int]) -> None:
        self.registry = registry
        self.origin = origin
        self.sent = bytearray()
        self.checked = False
        self.timeout: float | None = None

    def _head(self) -> tuple[str, str, dict[str, str], bytes] | None:
        end = self.sent.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = bytes(self.sent[:end]).decode("latin-1").split("\r\n")
        method, target = (lines[0].split(" ") + ["", ""])[:2]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        url = target if target.startswith(("http://", "https://")) else _display(self.origin, target or "/")
        return method, url, headers, bytes(self.sent[end + 4 :])

    def sendall(self, data: Any, flags: int = 0) -> None:
        self.sent += bytes(data)
        if not self.checked:
            head = self._head()
            if head is not None:
                self.checked = True
                self.registry.check(head[1])  # refused here, inside request(), as the guard refuses a connect

    def send(self, data: Any, flags: int = 0) -> int:
        self.sendall(data)
        return len(data)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BytesIO:
        head = self._head()
        if head is None:
            raise http.client.BadStatusLine("the request was not complete when its response was read")
        method, url, headers, rest = head
        length = next((v for k, v in headers.items() if k.lower() == "content-length"), None)
        chunked = any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers.items())
        body = _dechunk(rest) if chunked else rest[: int(length)] if length and length.isdigit() else rest
        self.sent = bytearray()
        self.checked = False
        answer = self.registry.respond(method, url, headers, body)
        lines = [f"HTTP/1.1 {answer.status} {answer.reason}"] + [f"{k}: {v}" for k, v in answer.headers]
        if not any(k.lower() == "connection" for k, _ in answer.headers):
            lines.append("Connection: close")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return io.BytesIO(raw + (b"" if method.upper() == "HEAD" else answer.body))

    def settimeout(self, timeout: float | None) -> None:
        self.timeout = timeout

    def gettimeout(self) -> float | None:
        return self.timeout

    def setsockopt(self, *args: Any) -> None:
        return None

    def shutdown(self, how: int) -> None:
        return None

    def close(self) -> None:
        return None


def _dechunk(data: bytes) -> bytes:
    """The body of a chunked transfer encoding."""
    out = bytearray()
    stream = io.BytesIO(data)
    while True:
        size_line = stream.readline()
        if not size_line:
            break
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        out += stream.read(size)
        stream.readline()
    return bytes(out)


class _HttpClientInterception:
    """``HTTPConnection.connect`` / ``HTTPSConnection.connect``: an in-memory socket for a stand-in's host."""

    def __init__(self, registry: HttpRegistry) -> None:
        self.registry = registry
        self.originals: dict[Any, Any] = {}

    def install(self) -> None:
        registry = self.registry

        def patched(original: Any, scheme: str) -> Any:
            def connect(conn: Any) -> None:
                tunnelled = getattr(conn, "_tunnel_host", None)  # through a proxy: not a stand-in's connection
                origin = (scheme, str(conn.host), conn.port)
                tls_below = scheme == "http" and isinstance(conn, http.client.HTTPSConnection)  # its super().connect()
                if tunnelled or tls_below or not registry.handles(origin):
                    return original(conn)
                conn.sock = _StandInSocket(registry, _origin(*origin))
                return None

            connect.__doc__ = original.__doc__
            connect.__wrapped__ = original  # type: ignore[attr-defined]  # functools-style marker
            return connect

        for cls, scheme in ((http.client.HTTPConnection, "http"), (http.client.HTTPSConnection, "https")):
            original = vars(cls)["connect"]
            self.originals[cls] = original
            cls.connect = patched(original, scheme)  # type: ignore[method-assign]  # the interception is the point

    def uninstall(self) -> None:
        for cls, original in self.originals.items():
            cls.connect = original
        self.originals = {}
