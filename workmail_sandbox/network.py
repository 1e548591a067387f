"""The sandbox's network guard: only loopback connections while it is active.

moto answers AWS calls inside the process, but a learner's code, a function's
code or a library could still open a socket to the internet (or to real AWS with
fake keys). While the guard is on, Python's socket layer refuses every
connection, datagram and name lookup that is not for this machine, with an error
that says why. ZeroMQ (Jupyter's kernel channels) does not go through Python
sockets and only uses loopback anyway.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from typing import Any

from .errors import SandboxError

__all__ = ["NetworkBlockedError", "NetworkGuard", "is_loopback"]


class NetworkBlockedError(SandboxError, ConnectionRefusedError):
    """A connection the sandbox refused because it would leave this machine.

    It is also a ``ConnectionRefusedError``, so libraries that handle network
    failures (requests, urllib3, botocore) report it as one.
    """


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_loopback(host: Any) -> bool:
    """True for 127.0.0.0/8, ::1, ``localhost`` and the empty host."""
    if host is None or host == "" or host == b"":
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").split("%", 1)[0]
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class BlockedAttempt:
    """A refused attempt, kept so tests can prove nothing left the machine."""

    kind: str
    target: str


class NetworkGuard:
    """Patches Python's socket layer; ``install``/``uninstall`` are idempotent."""

    def __init__(self) -> None:
        self.attempts: list[BlockedAttempt] = []
        self._lock = threading.Lock()
        self._originals: dict[str, Any] = {}

    @property
    def installed(self) -> bool:
        return bool(self._originals)

    def _refuse(self, kind: str, target: Any) -> None:
        text = target if isinstance(target, str) else repr(target)
        with self._lock:
            self.attempts.append(BlockedAttempt(kind, text))
        raise NetworkBlockedError(
            f"The sandbox refused a network {kind} to {text}: in sandbox mode nothing may leave this machine.",
            fix="use the emulated AWS services through boto3, or switch to aws mode (WORKMAIL_SANDBOX_MODE=aws) "
            "in a fresh kernel",
        )

    def install(self) -> None:
        if self.installed:
            return
        guard = self
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex
        original_sendto = socket.socket.sendto
        original_getaddrinfo = socket.getaddrinfo
        original_gethostbyname = socket.gethostbyname
        original_gethostbyname_ex = socket.gethostbyname_ex

        def _check_address(sock: socket.socket, address: Any, kind: str) -> None:
            inet = sock.family in (socket.AF_INET, socket.AF_INET6)
            if inet and isinstance(address, tuple) and not is_loopback(address[0]):
                guard._refuse(kind, f"{address[0]}:{address[1]}")

        def connect(self: socket.socket, address: Any) -> Any:
            _check_address(self, address, "connection")
            return original_connect(self, address)

        def connect_ex(self: socket.socket, address: Any) -> Any:
            _check_address(self, address, "connection")
            return original_connect_ex(self, address)

        def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
            _check_address(self, args[-1], "datagram")
            return original_sendto(self, data, *args)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_loopback(host):
                guard._refuse("name lookup", str(host))
            return original_getaddrinfo(host, *args, **kwargs)

        def gethostbyname(host: str) -> str:
            if not is_loopback(host):
                guard._refuse("name lookup", host)
            return original_gethostbyname(host)

        def gethostbyname_ex(host: str) -> Any:
            if not is_loopback(host):
                guard._refuse("name lookup", host)
            return original_gethostbyname_ex(host)

        self._originals = {
            "connect": original_connect,
            "connect_ex": original_connect_ex,
            "sendto": original_sendto,
            "getaddrinfo": original_getaddrinfo,
            "gethostbyname": original_gethostbyname,
            "gethostbyname_ex": original_gethostbyname_ex,
        }
        socket.socket.connect = connect  # type: ignore[method-assign, assignment]  # deliberate monkeypatch
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign, assignment]  # deliberate monkeypatch
        socket.socket.sendto = sendto  # type: ignore[method-assign, assignment]  # deliberate monkeypatch
        socket.getaddrinfo = getaddrinfo
        socket.gethostbyname = gethostbyname
        socket.gethostbyname_ex = gethostbyname_ex

    def uninstall(self) -> None:
        if not self.installed:
            return
        socket.socket.connect = self._originals["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self._originals["connect_ex"]  # type: ignore[method-assign]
        socket.socket.sendto = self._originals["sendto"]  # type: ignore[method-assign]
        socket.getaddrinfo = self._originals["getaddrinfo"]
        socket.gethostbyname = self._originals["gethostbyname"]
        socket.gethostbyname_ex = self._originals["gethostbyname_ex"]
        self._originals = {}
