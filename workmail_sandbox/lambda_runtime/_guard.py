"""What function code may not change in the process, and the threads it starts.

:class:`Hooks` records the sandbox's hooks before an invocation and, after it,
puts back any the function replaced and names them: the network guard (the
socket functions it patches), boto3's and botocore's client factories and
``BaseClient._make_api_call``, botocore's built-in handler list (the kit's
entries in it), moto's patched ``lambda.invoke``, the emulators' "started" flag,
and the runtime's own wrapper on ``threading.Thread.start``.

:data:`THREADS` wraps ``threading.Thread.start`` while a runtime is installed, so
that a thread started by function code (directly, by a ``ThreadPoolExecutor``
or a ``Timer``; not by ``_thread.start_new_thread``) is recorded with the
invocation that started it (:func:`workmail_sandbox.invocation.track_thread`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .. import _moto
from ..emulators._core import STATE
from ..invocation import CURRENT_INVOCATION, Invocation, function_threads, thread_invocation, track_thread
from ..network import NetworkGuard
from ._workers import Worker

__all__ = ["THREADS", "Hooks", "ThreadTracker", "network_guard", "tamper_warning", "wait_for_function_threads"]

_ABSENT = object()


def network_guard() -> NetworkGuard | None:
    """The installed :class:`NetworkGuard`, if any."""
    return NetworkGuard.current()


def _socket_state(guard: NetworkGuard | None) -> dict[tuple[Any, str], Any]:
    """What each attribute the guard patched holds now (identity is what counts)."""
    if guard is None:
        return {}
    return {(owner, name): vars(owner).get(name, _ABSENT) for owner, name in guard.patched_attributes()}


class Hooks:
    """The sandbox's hooks as they were before an invocation; :meth:`restore` puts them back."""

    __slots__ = ("socket_state", "guard", "guard_state", "client", "invoke_methods", "active", "thread_start")

    def __init__(self) -> None:
        guard = network_guard()
        self.guard = guard
        self.socket_state = _socket_state(guard)
        self.guard_state = guard.state() if guard is not None else None
        self.client = _moto.client_hooks()
        self.invoke_methods = _moto.lambda_invoke_methods()
        self.active = STATE.active
        self.thread_start = vars(threading.Thread)["start"]

    def restore(self) -> list[str]:
        """Put back every hook the invocation changed; returns what was changed, in words."""
        changed: list[str] = []
        now = {(owner, name): vars(owner).get(name, _ABSENT) for owner, name in self.socket_state}
        if now != self.socket_state or (self.guard is not None and not self.guard.installed):
            changed.append("network guard")
            for (owner, name), value in self.socket_state.items():
                if now[(owner, name)] is not value:
                    if value is _ABSENT:
                        delattr(owner, name)
                    else:
                        setattr(owner, name, value)
            if self.guard is not None and not self.guard.installed and self.guard_state:
                self.guard.reinstate(self.guard_state)  # so that uninstall() at stop() undoes it again
        client = _moto.restore_client_hooks(self.client)
        handler_lists = [label for label in client if label.endswith("HANDLERS") or label == "kit handlers"]
        factories = [label for label in client if "." in label and label not in handler_lists]
        changed.extend(f"{label} (monkeypatched)" for label in factories)
        if handler_lists:
            changed.append("botocore handlers (the kit's built-in handlers)")
        if "lambda.invoke handler" in client or _moto.restore_lambda_invoke_methods(self.invoke_methods):
            changed.append("lambda.invoke patch")
        if self.active and not STATE.active:
            STATE.active = True
            changed.append("sandbox started (emulators switched off)")
        if vars(threading.Thread)["start"] is not self.thread_start:
            threading.Thread.start = self.thread_start  # type: ignore[method-assign]  # the patch: replacing a method is the point
            changed.append("threading.Thread.start")
        return changed


class ThreadTracker:
    """Wraps ``threading.Thread.start`` (reference-counted) to record threads function code starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._original: Any = None
        self._wrapper: Any = None

    def acquire(self) -> None:
        with self._lock:
            self._count += 1
            if self._count > 1:
                return
            original = vars(threading.Thread)["start"]

            def start(thread: threading.Thread) -> None:
                owner: Invocation | None = CURRENT_INVOCATION.get() or thread_invocation()
                # A worker process's invocation calls through the endpoint: threads started for those calls
                # (a Step Functions execution, ...) are the sandbox's, not code of the function's in this process.
                if owner is not None and not isinstance(thread, Worker) and not owner.extra.get("worker"):
                    track_thread(thread, owner)
                original(thread)

            start.__doc__ = original.__doc__
            start.__wrapped__ = original  # type: ignore[attr-defined]  # functools-style marker
            self._original, self._wrapper = original, start
            threading.Thread.start = start  # type: ignore[method-assign, assignment]  # the tracking wrapper replaces the method

    def release(self) -> None:
        with self._lock:
            if self._count == 0:
                return
            self._count -= 1
            if self._count:
                return
            if vars(threading.Thread)["start"] is self._wrapper:
                threading.Thread.start = self._original  # type: ignore[method-assign]  # the patch: replacing a method is the point
            self._original = self._wrapper = None


THREADS = ThreadTracker()


def wait_for_function_threads(seconds: float = 1.0) -> list[tuple[threading.Thread, Invocation]]:
    """Wait up to ``seconds`` in all for threads function code started; returns those still running."""
    deadline = time.monotonic() + seconds
    me = threading.current_thread()
    for thread, _ in function_threads():
        if thread is not me:
            thread.join(max(deadline - time.monotonic(), 0.0))
    return [(thread, invocation) for thread, invocation in function_threads() if thread is not me]


def tamper_warning(function_name: str, tampered: list[str]) -> str:
    return (
        f"Function {function_name} changed the sandbox's {', '.join(tampered)}; the sandbox put them back. "
        "Function code must not change the sandbox it runs in."
    )
