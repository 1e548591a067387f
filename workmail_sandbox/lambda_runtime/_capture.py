"""Output capture: what a function prints or logs, per invocation, from any thread.

``sys.stdout``/``sys.stderr`` are replaced by proxies and the root logger gets a
handler; both send what runs inside an invocation (the :data:`CAPTURE` context
variable is set) to that invocation's :class:`Capture`, and everything else to
where it would have gone.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import threading
import time
from typing import Any

from .. import _moto
from ._loader import FunctionFinder

__all__ = ["CAPTURE", "OUTPUT", "Capture", "LambdaLogHandler", "LogWriter", "OutputCapture", "StreamProxy"]

CAPTURE: contextvars.ContextVar[Capture | None] = contextvars.ContextVar("workmail_sandbox_capture", default=None)


class LogWriter:
    """Where a runtime puts each invocation's log lines (START, the function's own, END, REPORT).

    ``enabled`` (the default): into CloudWatch Logs, the function's group and
    stream, as Lambda does. Off for a replay whose sandbox nobody reads
    afterwards (a ``--jobs``/Dask worker, a replay that started its own
    sandbox): moto keeps every line written, so a long replay would grow with
    them. The invocation's result still carries its lines (``log_text``);
    :attr:`unwritten` counts the lines left out.
    """

    __slots__ = ("enabled", "unwritten")

    def __init__(self) -> None:
        self.enabled = True
        self.unwritten = 0

    def write(self, account: str, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
        if self.enabled:
            _moto.write_log_events(account, region, group, stream, lines)
        else:
            self.unwritten += len(lines)


class Capture:
    """The log events one invocation produced (print lines and logging records)."""

    __slots__ = ("request_id", "events", "_partial", "_last")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.events: list[tuple[int, str]] = []
        self._partial = ""
        self._last = 0

    def _stamp(self) -> int:
        now = int(time.time() * 1000)
        if now < self._last:
            now = self._last
        self._last = now
        return now

    def add(self, message: str) -> None:
        self.events.append((self._stamp(), message))

    def write(self, text: str) -> None:
        if not text:
            return
        text = self._partial + text
        if "\n" not in text:
            self._partial = text
            return
        *lines, self._partial = text.split("\n")
        stamp = self._stamp()
        self.events.extend((stamp, line + "\n") for line in lines)

    def flush_partial(self) -> None:
        if self._partial:
            self.add(self._partial)
            self._partial = ""


class StreamProxy(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr``: writes from a running invocation
    go to its capture, everything else to the original stream."""

    def __init__(self, original: Any) -> None:
        self._original = original

    def write(self, text: str) -> int:
        capture = CAPTURE.get()
        if capture is None:
            return self._original.write(text)
        capture.write(text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if CAPTURE.get() is None:
            self._original.flush()

    def isatty(self) -> bool:
        return False if CAPTURE.get() is not None else bool(getattr(self._original, "isatty", lambda: False)())

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # a property where TextIOBase has an attribute
        return getattr(self._original, "encoding", "utf-8") or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]  # as encoding: a property over an attribute
        return getattr(self._original, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class LambdaLogHandler(logging.Handler):
    """A root-logger handler that records only what runs inside an invocation,
    in the Lambda Python runtime's text format."""

    def __init__(self) -> None:
        super().__init__()
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"
        )
        formatter.converter = time.gmtime
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        capture = CAPTURE.get()
        if capture is None:
            # Outside an invocation, behave as if we were not there: when no other
            # handler takes the record, Python would use its last-resort handler.
            last_resort = logging.lastResort
            if last_resort is not None and record.levelno >= last_resort.level and not self._others_handle(record):
                last_resort.handle(record)
            return
        try:
            record.aws_request_id = capture.request_id
            capture.add(self.format(record))
        except Exception:  # pragma: no cover - logging must never break the handler
            self.handleError(record)

    def _others_handle(self, record: logging.LogRecord) -> bool:
        """Would another handler get ``record`` (Python's ``Logger.callHandlers`` walk)?"""
        logger: Any = logging.getLogger(record.name) if record.name != "root" else logging.getLogger()
        while logger is not None:
            if any(h is not self and record.levelno >= h.level for h in logger.handlers):
                return True
            if not logger.propagate:
                return False
            logger = logger.parent
        return False


class OutputCapture:
    """Installs the stream proxies, the log handler and the import finder (reference-counted, process-wide).

    Test runners and notebooks replace ``sys.stdout`` themselves (pytest between
    set-up and call, ``redirect_stdout``, ``%%capture``), so :meth:`ensure` runs
    before every invocation and wraps whatever stream is current.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._handler: LambdaLogHandler | None = None

    def acquire(self) -> None:
        with self._lock:
            self._count += 1
            if self._count == 1:
                self._handler = LambdaLogHandler()
                if FunctionFinder not in sys.meta_path:
                    sys.meta_path.insert(0, FunctionFinder)
        self.ensure()

    def ensure(self) -> None:
        if type(sys.stdout) is not StreamProxy:
            sys.stdout = StreamProxy(sys.stdout)
        if type(sys.stderr) is not StreamProxy:
            sys.stderr = StreamProxy(sys.stderr)
        handler = self._handler
        if handler is not None:
            root = logging.getLogger()
            if handler not in root.handlers:
                root.addHandler(handler)

    def release(self) -> None:
        with self._lock:
            if self._count == 0:
                return
            self._count -= 1
            if self._count:
                return
            while type(sys.stdout) is StreamProxy:
                sys.stdout = sys.stdout._original
            while type(sys.stderr) is StreamProxy:
                sys.stderr = sys.stderr._original
            if self._handler is not None:
                logging.getLogger().removeHandler(self._handler)
            self._handler = None
            while FunctionFinder in sys.meta_path:
                sys.meta_path.remove(FunctionFinder)

    @property
    def installed(self) -> bool:
        return self._count > 0


OUTPUT = OutputCapture()
