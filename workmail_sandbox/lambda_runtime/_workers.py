"""Worker threads that run handlers (reused; an abandoned one is simply replaced), and what they hand back."""

from __future__ import annotations

import _thread
import contextvars
import json
import queue
import threading
from collections.abc import Callable
from typing import Any

from ._errors import exception_error, json_default, marshal_error

__all__ = ["Flag", "Outcome", "Worker", "Workers", "bind"]


class Workers:
    """A few daemon threads that run handlers, so the caller can stop waiting.

    A thread whose handler hangs is never waited for: it is just not idle, and
    the next call gets another thread. Daemon threads never block the
    interpreter's exit.
    """

    def __init__(self, max_idle: int = 4) -> None:
        self._idle: list[Worker] = []
        self._lock = threading.Lock()
        self._max_idle = max_idle
        self.closed = False

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = Worker(self)
            worker.start()
        worker.jobs.put(job)

    def _release(self, worker: Worker) -> bool:
        with self._lock:
            if self.closed or len(self._idle) >= self._max_idle:
                return False
            self._idle.append(worker)
            return True

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.jobs.put(None)


class Worker(threading.Thread):
    def __init__(self, pool: Workers) -> None:
        super().__init__(name="workmail-sandbox-lambda", daemon=True)
        self.pool = pool
        self.jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            try:
                job()
            except BaseException:  # pragma: no cover - jobs catch their own errors
                pass
            if not self.pool._release(self):
                return



class Flag:
    """A one-way ``threading.Event`` for one setter thread: ``set``, ``is_set``, ``wait(timeout)``.

    A bare lock, held from the start and released by :meth:`set`, instead of the
    Event's Condition (a lock, a waiter list and a second lock per wait): the runtime
    makes two per invocation and waits on one. Only the worker thread sets it.
    """

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._lock.acquire()
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        """True once set; False when ``timeout`` seconds passed first (None: wait as long as it takes)."""
        if self._set:
            return True
        if self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            self._lock.release()  # so that later waits return at once too
            return True
        return self._set


class Outcome:
    """What the worker thread hands back to the waiting caller."""

    __slots__ = (
        "init_done", "done", "init_ms", "init_end", "handler_start", "payload_bytes",
        "error", "init_failed", "reset", "split", "handler_start_ms", "ran_init", "payload",
    )

    def __init__(self) -> None:
        self.init_done = Flag()
        self.done = Flag()
        self.init_ms: float | None = None
        self.init_end: float | None = None
        self.handler_start: float | None = None
        self.payload_bytes = b"null"
        self.payload: Any = None
        self.error: dict[str, Any] | None = None
        self.init_failed = False
        self.reset = False
        self.split = 0
        self.handler_start_ms: int | None = None
        self.ran_init = False

    def marshal(self, result: Any, request_id: str, *, ensure_ascii: bool) -> None:
        """The handler's result as the response payload, or ``Runtime.MarshalError``."""
        if isinstance(result, bytes):  # the Python runtime sends bytes as they are
            self.payload_bytes = result
            try:
                self.payload = json.loads(result)
            except (ValueError, RecursionError):  # bytes that are not JSON (or nested too deeply to read)
                self.payload = result
            return
        try:
            self.payload_bytes = json.dumps(result, default=json_default, ensure_ascii=ensure_ascii).encode("utf-8")
            self.payload = json.loads(self.payload_bytes)
        except (TypeError, ValueError, OverflowError, RecursionError) as error:
            self.payload_bytes = b"null"
            self.error = marshal_error(error, request_id)
        except BaseException as error:  # e.g. a __str__ or a key's __hash__ that raises
            self.payload_bytes = b"null"
            self.error = exception_error(error, request_id)


def bind(job: Callable[[], None]) -> Callable[[], None]:
    """``job`` run in a copy of the caller's context (so contextvars reach the worker)."""
    context = contextvars.copy_context()
    return lambda: context.run(job)

