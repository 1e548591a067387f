"""The sandbox's network guard: only loopback connections while it is active.

moto answers AWS calls inside the process, but a learner's code, a function's
code or a library could still open a socket to the internet (or to real AWS with
fake keys). While the guard is on, Python's socket layer refuses every
connection, datagram and name lookup that is not for this machine, with an error
that says why. ZeroMQ (Jupyter's kernel channels) does not go through Python
sockets and only uses loopback anyway.
"""

from __future__ import annotations

import _socket
import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import SandboxError

__all__ = ["NetworkBlockedError", "NetworkGuard", "can_isolate_network", "is_loopback", "without_network"]


class NetworkBlockedError(SandboxError, ConnectionRefusedError):
    """A connection the sandbox refused because it would leave this machine.

    It is also a ``ConnectionRefusedError``, so libraries that handle network
    failures (requests, urllib3, botocore) report it as one.
    """


_ABSENT = object()  # an attribute the guard added rather than replaced
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

    #: The guard installed in this process (one at a time: the socket layer is global).
    _current: NetworkGuard | None = None

    def __init__(self) -> None:
        self.attempts: list[BlockedAttempt] = []
        self._lock = threading.Lock()
        self._originals: dict[str, Any] = {}

    @property
    def installed(self) -> bool:
        return bool(self._originals)

    @classmethod
    def current(cls) -> NetworkGuard | None:
        """The guard installed in this process, or None."""
        return cls._current

    def patched_attributes(self) -> list[tuple[Any, str]]:
        """``(module or class, attribute)`` for everything the installed guard replaced."""
        return list(self._originals.get("_all", {}))

    def state(self) -> dict[str, Any]:
        """What :meth:`uninstall` needs to put the socket layer back (opaque; see :meth:`reinstate`)."""
        return self._originals

    def reinstate(self, state: dict[str, Any]) -> None:
        """Count as installed again with ``state`` from :meth:`state`, after code called :meth:`uninstall`.

        The caller has put the guard's socket functions back; this only restores the
        bookkeeping, so that the sandbox's own ``uninstall()`` at stop undoes them.
        """
        self._originals = state
        NetworkGuard._current = self

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
        originals: dict[tuple[Any, str], Any] = {}

        def _check_address(sock: Any, address: Any, kind: str) -> None:
            inet = getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6)
            if inet and isinstance(address, tuple) and address and not is_loopback(address[0]):
                port = address[1] if len(address) > 1 else "?"
                guard._refuse(kind, f"{address[0]}:{port}")

        def _guard_method(cls: Any, name: str, kind: str, address_of: Callable[[tuple[Any, ...]], Any]) -> Any:
            original = getattr(cls, name)

            def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
                _check_address(self, address_of(args), kind)
                return original(self, *args, **kwargs)

            guarded.__name__ = name
            guarded.__qualname__ = f"{getattr(cls, '__name__', 'socket')}.{name}"
            guarded.__doc__ = getattr(original, "__doc__", None)
            return original, guarded

        def _sendmsg_address(args: tuple[Any, ...]) -> Any:
            return args[3] if len(args) > 3 else None  # sendmsg(buffers, ancdata, flags, address)

        methods: list[tuple[str, str, Callable[[tuple[Any, ...]], Any]]] = [
            ("connect", "connection", lambda args: args[0] if args else None),
            ("connect_ex", "connection", lambda args: args[0] if args else None),
            ("sendto", "datagram", lambda args: args[-1] if args else None),
        ]
        if hasattr(_socket.socket, "sendmsg"):
            methods.append(("sendmsg", "datagram", _sendmsg_address))

        # 1. socket.socket, the class nearly every library uses.
        patched_methods: dict[str, Any] = {}
        for name, kind, address_of in methods:
            guarded = _guard_method(socket.socket, name, kind, address_of)[1]
            # socket.socket inherits these from the C type: uninstall deletes them again
            originals[(socket.socket, name)] = socket.socket.__dict__.get(name, _ABSENT)
            patched_methods[name] = guarded
        # 2. The C type _socket.socket cannot be patched (it is immutable): code that
        # names it through the _socket module gets a guarded subclass instead.
        c_socket = _socket.socket
        c_patched: dict[str, Any] = {}
        for name, kind, address_of in methods:
            c_patched[name] = _guard_method(c_socket, name, kind, address_of)[1]

        class _GuardedMeta(type):
            def __instancecheck__(cls, obj: Any) -> bool:
                return isinstance(obj, c_socket)

            def __subclasscheck__(cls, sub: Any) -> bool:
                return issubclass(sub, c_socket)

        guarded_c_socket = _GuardedMeta("socket", (c_socket,), {"__module__": "_socket", **c_patched})

        # 3. Name lookups, forward and reverse, in both modules.
        def _lookup(name: str, host_of: Callable[[tuple[Any, ...]], Any], kind: str = "name lookup") -> Any:
            def make(original: Any) -> Any:
                def guarded(*args: Any, **kwargs: Any) -> Any:
                    host = host_of(args) if args else kwargs.get("host")
                    if not is_loopback(host):
                        guard._refuse(kind, str(host))
                    return original(*args, **kwargs)

                guarded.__name__ = name
                guarded.__doc__ = getattr(original, "__doc__", None)
                return guarded

            return make

        def _sockaddr_host(args: tuple[Any, ...]) -> Any:
            sockaddr = args[0]
            return sockaddr[0] if isinstance(sockaddr, tuple) and sockaddr else sockaddr

        lookups = {
            "getaddrinfo": _lookup("getaddrinfo", lambda args: args[0]),
            "gethostbyname": _lookup("gethostbyname", lambda args: args[0]),
            "gethostbyname_ex": _lookup("gethostbyname_ex", lambda args: args[0]),
            "gethostbyaddr": _lookup("gethostbyaddr", lambda args: args[0], "reverse name lookup"),
            "getnameinfo": _lookup("getnameinfo", _sockaddr_host, "reverse name lookup"),
        }
        replacements: list[tuple[Any, str, Any]] = []
        for module in (socket, _socket):
            for name, make in lookups.items():
                original = getattr(module, name)
                originals[(module, name)] = original
                replacements.append((module, name, make(original)))
        for name, guarded in patched_methods.items():
            replacements.append((socket.socket, name, guarded))
        for attribute in ("socket", "SocketType"):
            if getattr(_socket, attribute, None) is c_socket:
                originals[(_socket, attribute)] = c_socket
                replacements.append((_socket, attribute, guarded_c_socket))

        self._originals = {"_all": originals}
        for target, name, value in replacements:
            setattr(target, name, value)
        NetworkGuard._current = self

    def uninstall(self) -> None:
        if not self.installed:
            return
        for (target, name), value in self._originals["_all"].items():
            if value is _ABSENT:
                delattr(target, name)
            else:
                setattr(target, name, value)
        self._originals = {}
        if NetworkGuard._current is self:
            NetworkGuard._current = None


# Whole-process isolation, for what the guard cannot see (docs/safety.md) ---------------------

#: ``unshare`` options: a new user namespace (no privileges needed) and a new, empty network
#: namespace. Its only interface is a loopback that is down: nothing at all can leave, neither
#: from Python nor from a subprocess (curl, another python) nor from C code called with ctypes.
_UNSHARE = ("unshare", "--map-root-user", "--net", "--")


def can_isolate_network() -> bool:
    """True when this machine lets an unprivileged user run a command without a network.

    Linux with unprivileged user namespaces and util-linux's ``unshare``
    (``unshare -rn true`` succeeds). Containers and hardened kernels often refuse it.
    """
    import shutil
    import subprocess

    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run([*_UNSHARE, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def without_network(argv: list[str]) -> list[str]:
    """The command line that runs ``argv`` in a network namespace of its own, with no network.

    For a command line tool's ``--no-network``: ``subprocess.run(without_network(argv))``.
    Check :func:`can_isolate_network` first; this raises :class:`SandboxError` when it is False.
    """
    if not can_isolate_network():
        raise SandboxError(
            "This machine does not let an unprivileged process run without a network (unshare -rn failed).",
            fix="run it in a container or VM without a network, or rely on the in-process guard alone "
            "(docs/safety.md lists what it cannot stop)",
        )
    # The namespace's own loopback comes up (if iproute2 is there), so worker processes can reach the
    # sandbox's endpoint and Runtime API inside it; nothing outside the namespace is reachable.
    return [*_UNSHARE, "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "sh", *argv]
