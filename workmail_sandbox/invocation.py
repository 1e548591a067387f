"""Who is calling an emulated AWS API: a function run by the local runtime, or not.

The runtime sets :data:`CURRENT_INVOCATION` while a handler runs, so an emulator
can apply the function's execution role, and know whether the call comes from a
synchronous Run Lambda invocation (the only place PutRawMessageContent has an
effect) and whether that invocation has already timed out.

It also keeps the threads function code started (the runtime records them), so
that the sandbox can refuse ``stop()`` from function code and wait for, and
report, threads still running when it stops.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CURRENT_INVOCATION",
    "acting_for",
    "register_worker_key",
    "Invocation",
    "current_invocation",
    "function_code_running",
    "function_threads",
    "thread_invocation",
    "track_thread",
]


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
    #: True once the runtime stopped waiting for the handler (it returned, failed or timed out).
    ended: bool = False
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


_THREADS_LOCK = threading.Lock()
#: Threads function code started -> the invocation that started them (weak: ended threads go away).
_FUNCTION_THREADS: weakref.WeakKeyDictionary[threading.Thread, Invocation] = weakref.WeakKeyDictionary()


def track_thread(thread: threading.Thread, invocation: Invocation) -> None:
    """Record that ``invocation``'s code started ``thread`` (the runtime calls this)."""
    with _THREADS_LOCK:
        _FUNCTION_THREADS[thread] = invocation


def thread_invocation(thread: threading.Thread | None = None) -> Invocation | None:
    """The invocation whose code started ``thread`` (default: this thread), if any."""
    thread = thread if thread is not None else threading.current_thread()
    with _THREADS_LOCK:
        return _FUNCTION_THREADS.get(thread)


def function_threads() -> list[tuple[threading.Thread, Invocation]]:
    """Threads function code started that are still running, with the invocation that started each."""
    with _THREADS_LOCK:
        items = list(_FUNCTION_THREADS.items())
    return [(thread, invocation) for thread, invocation in items if thread.is_alive()]


def function_code_running() -> Invocation | None:
    """The invocation whose code is running in this thread: a handler, or a thread a handler started."""
    return CURRENT_INVOCATION.get() or thread_invocation()


#: Access keys given to worker processes -> the invocation running there (the local endpoint makes a
#: worker's calls as that invocation, so the emulators apply its execution role, as in-process).
_WORKER_KEYS: dict[str, Invocation] = {}


def register_worker_key(access_key: str, invocation: Invocation | None) -> None:
    """Make calls signed with ``access_key`` count as ``invocation``'s (None: forget the key)."""
    with _THREADS_LOCK:
        if invocation is None:
            _WORKER_KEYS.pop(access_key, None)
        else:
            _WORKER_KEYS[access_key] = invocation


def acting_for(access_key: str) -> Invocation | None:
    """The invocation a worker's access key stands for, if any."""
    with _THREADS_LOCK:
        return _WORKER_KEYS.get(access_key)
