"""The local Lambda runtime: runs a function deployed in moto, in this process, from its own code.

moto's Lambda without Docker stores functions but never runs them (moto-notes
section 1). :class:`Runtime` does what the Lambda Python runtime does, in-process:

* loads the function's zip (``moto.awslambda.utils.get_backend(...).get_function``)
  into a folder of its own, once per code hash, and imports the handler module
  **in its own namespace**: the function's modules (``app``, ``utils``, vendored
  packages) sit in ``sys.modules`` only while that function imports or runs, so
  two functions that both ship ``app.py`` and ``utils.py`` never see each other's;
* keeps the imported module between calls (a *warm start*: module-level state
  persists, as in Lambda) and imports afresh (a *cold start*) after
  ``update_function_code``, a configuration change, a timeout or an init error;
* sets the function's environment variables and Lambda's reserved ones
  (``AWS_REGION``, ``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``, ``_HANDLER``,
  ``TZ=:UTC``, ...) during import and call, with the code folder first on
  ``sys.path`` and as the working directory, and restores everything afterwards;
* passes a context object like Lambda's and sets
  :data:`workmail_sandbox.invocation.CURRENT_INVOCATION`, so the emulators apply the
  function's execution role;
* runs the handler in a worker thread and stops waiting at the function's
  ``Timeout`` (or the caller's shorter limit, e.g. WorkMail's 15 s), reporting
  ``Task timed out after 3.00 seconds`` as Lambda does and marking the
  invocation abandoned;
* writes what the handler prints or logs, between ``START``/``END``/``REPORT``
  lines, to CloudWatch Logs in moto (group ``/aws/lambda/<name>``);
* reports errors as Lambda does (``errorMessage``, ``errorType``, ``requestId``,
  ``stackTrace``; ``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``,
  ``Runtime.MarshalError``, ...).

:meth:`Runtime.install` also makes ``boto3.client("lambda").invoke(...)`` run the
code (RequestResponse, Event, DryRun, ``LogType="Tail"``).

Deviations and assumptions
--------------------------

* **One process, one interpreter.** The function runs on the sandbox's Python
  (whatever version that is), whatever ``Runtime`` says (python3.12, 3.13, ...),
  with the packages installed in the sandbox's environment; Lambda layers are not
  loaded. Only Python functions run; others raise :class:`SandboxError`.
* **Isolation is by namespace, not by process.** Process-wide state is swapped
  in for the call and restored afterwards: ``os.environ``, ``sys.path``, the
  working directory and the root logger's level (in the calling thread), and the
  ``sys.modules`` entries of the function's own modules (in the handler's
  thread). Changes a handler makes to ``os.environ`` are undone after each call
  (Lambda would keep them in a warm environment). Third-party modules are shared
  with the host. Invocations that nest (a handler invoking another function) are
  isolated from each other. Invocations running *at the same time* in several
  threads share ``os.environ`` and the working directory, and an ``import``
  statement executed inside a handler (not at module level) may then find the
  other function's module of the same name.
* **Output** of threads the handler starts itself is not captured (it goes to
  the notebook), because those threads do not inherit the invocation's context.
* **Credentials** are the sandbox's fake ones, not the execution role's;
  emulators read the role from :data:`~workmail_sandbox.invocation.CURRENT_INVOCATION`.
  ``LAMBDA_TASK_ROOT`` is the temporary folder holding the code, not ``/var/task``.
* **Timeouts** cannot kill a Python thread: the handler's thread runs on after
  the runtime stops waiting, its invocation is marked ``abandoned`` (the
  messageflow emulator then ignores its writes) and its output is dropped. The
  execution environment is reset, so the next call is a cold start, as in Lambda.
  When the caller's ``limit_seconds`` (WorkMail's 15 s) is shorter than the
  function's ``Timeout``, the runtime reports the limit in the same words; on AWS
  the function would run on while WorkMail counts the call as failed. The
  function's timeout clock starts after init; init has its own 10 s limit.
* **Init errors** (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``,
  ``Runtime.UserCodeSyntaxError``, an exception at module level) come back with
  ``"requestId": ""`` (and, for the ``Runtime.*`` ones, an empty
  ``stackTrace``), as the Python runtime client reports them; the next call
  tries the import again. The ``INIT_REPORT`` lines Lambda writes for them are
  not written.
* **Logs**: timestamps are wall-clock time (not the sandbox's simulated clock,
  which CloudWatch Logs in moto would reject once moved forward). The log stream
  (``2026/11/25/[$LATEST]<32 hex>``) lasts as long as the warm environment.
  ``Max Memory Used`` is not measured: the REPORT line shows the memory size.
  Python's ``logging`` lines use Lambda's text format (``[INFO]\\t<time>\\t<request
  id>\\t<message>``); the JSON log format is not modelled.
* **Event invocations** run at once, in-process, before ``invoke`` returns; an
  error is logged and not retried (Lambda retries twice, later).
  ``InvokeAsync`` and ``InvokeWithResponseStream`` are not emulated.
* ``context.memory_limit_in_mb`` is a string (``"128"``), as the Lambda Python
  runtime client sets it.
"""

from __future__ import annotations

import base64
import contextvars
import datetime as _dt
import importlib
import importlib.machinery
import io
import json
import logging
import math
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
import weakref
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

from .invocation import CURRENT_INVOCATION, Invocation
from ._moto import write_log_events
from .errors import SandboxError

__all__ = [
    "Client",
    "ClientContext",
    "CognitoIdentity",
    "INIT_TIMEOUT_SECONDS",
    "InvocationResult",
    "LambdaContext",
    "Runtime",
    "installed_runtime",
]

#: Lambda gives a function's init phase (module-level code) 10 seconds.
INIT_TIMEOUT_SECONDS = 10.0
#: ``LogType="Tail"`` returns the last 4 KB of the invocation's log.
TAIL_BYTES = 4096

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"function:(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>[a-zA-Z0-9$_-]+))?$"
)
_MISSING: Any = object()
_RUNTIME_FILE = os.path.normcase(os.path.abspath(__file__))


# --------------------------------------------------------------------------------------
# The context object
# --------------------------------------------------------------------------------------


class CognitoIdentity:
    """``context.identity``: always present, both fields ``None`` unless a Cognito caller."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id: str | None = None, pool_id: str | None = None) -> None:
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """``context.client_context.client``: the mobile app that called (fields may be ``None``)."""

    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, data: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, data.get(name))


class ClientContext:
    """``context.client_context``: what a mobile caller sent (``custom``, ``env``, ``client``)."""

    __slots__ = ("custom", "env", "client")

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom = data.get("custom")
        self.env = data.get("env")
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else client


class LambdaContext:
    """The ``context`` argument, with the attributes and method of Lambda's Python context."""

    def __init__(
        self,
        *,
        aws_request_id: str,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: str,
        log_group_name: str,
        log_stream_name: str,
        deadline_monotonic: float,
        client_context: Any = None,
        identity: CognitoIdentity | None = None,
    ) -> None:
        #: The request id of this invocation (a new uuid every call).
        self.aws_request_id = aws_request_id
        #: The function's name.
        self.function_name = function_name
        #: The version that runs: ``$LATEST`` or a published version number.
        self.function_version = function_version
        #: The ARN the caller used (with the alias or version if it named one).
        self.invoked_function_arn = invoked_function_arn
        #: The memory size, as a string as the Python runtime client sets it.
        self.memory_limit_in_mb = memory_limit_in_mb
        #: ``/aws/lambda/<function name>``.
        self.log_group_name = log_group_name
        #: The log stream of this execution environment.
        self.log_stream_name = log_stream_name
        #: The mobile client context, ``None`` unless the caller sent one.
        self.client_context = ClientContext(client_context) if isinstance(client_context, dict) else client_context
        #: The Cognito identity (fields ``None`` for WorkMail and boto3 callers).
        self.identity = identity if identity is not None else CognitoIdentity()
        #: Set only for multi-tenant functions; always ``None`` here.
        self.tenant_id = None
        self._deadline = deadline_monotonic

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out (0 once it has)."""
        left = int((self._deadline - time.monotonic()) * 1000)
        return left if left > 0 else 0

    def log(self, msg: Any) -> None:
        """Write to the function's log, as ``context.log`` does in Lambda."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},client_context={self.client_context},"
            f"identity={self.identity}])"
        )


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------


@dataclass
class InvocationResult:
    """What one invocation gave back, as Lambda reports it.

    ``payload`` is the decoded JSON the function returned, or Lambda's error
    object (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``) when
    ``function_error`` is ``"Unhandled"``; ``payload_bytes`` is the same as the
    JSON text ``lambda.invoke`` returns.
    """

    payload: Any
    function_error: str | None
    log_text: str
    log_tail_base64: str
    request_id: str
    duration_ms: float
    cold_start: bool
    timed_out: bool
    payload_bytes: bytes = b""
    init_duration_ms: float | None = None
    executed_version: str = "$LATEST"
    invocation: Invocation | None = None

    @property
    def ok(self) -> bool:
        """True when the function returned normally."""
        return self.function_error is None


# --------------------------------------------------------------------------------------
# Output capture: print and logging, per invocation, from any thread
# --------------------------------------------------------------------------------------

_CAPTURE: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar("workmail_sandbox_capture", default=None)


class _Capture:
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


class _StreamProxy(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr``: writes from a running invocation
    go to its capture, everything else to the original stream."""

    def __init__(self, original: Any) -> None:
        self._original = original

    def write(self, text: str) -> int:  # type: ignore[override]
        capture = _CAPTURE.get()
        if capture is None:
            return self._original.write(text)
        capture.write(text)
        return len(text)

    def writelines(self, lines: Any) -> None:  # type: ignore[override]
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if _CAPTURE.get() is None:
            self._original.flush()

    def isatty(self) -> bool:
        return False if _CAPTURE.get() is not None else bool(getattr(self._original, "isatty", lambda: False)())

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._original, "encoding", "utf-8") or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._original, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class _LambdaLogHandler(logging.Handler):
    """A root-logger handler that records only what runs inside an invocation,
    in the Lambda Python runtime's text format."""

    def __init__(self) -> None:
        super().__init__()
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"
        )
        formatter.converter = time.gmtime  # type: ignore[assignment]
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        capture = _CAPTURE.get()
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


class _OutputCapture:
    """Installs the stream proxies, the log handler and the import finder (reference-counted, process-wide).

    Test runners and notebooks replace ``sys.stdout`` themselves (pytest between
    set-up and call, ``redirect_stdout``, ``%%capture``), so :meth:`ensure` runs
    before every invocation and wraps whatever stream is current.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._handler: _LambdaLogHandler | None = None

    def acquire(self) -> None:
        with self._lock:
            self._count += 1
            if self._count == 1:
                self._handler = _LambdaLogHandler()
                if _FunctionFinder not in sys.meta_path:
                    sys.meta_path.insert(0, _FunctionFinder)  # type: ignore[arg-type]
        self.ensure()

    def ensure(self) -> None:
        if type(sys.stdout) is not _StreamProxy:
            sys.stdout = _StreamProxy(sys.stdout)
        if type(sys.stderr) is not _StreamProxy:
            sys.stderr = _StreamProxy(sys.stderr)
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
            while type(sys.stdout) is _StreamProxy:
                sys.stdout = sys.stdout._original  # type: ignore[attr-defined]
            while type(sys.stderr) is _StreamProxy:
                sys.stderr = sys.stderr._original  # type: ignore[attr-defined]
            if self._handler is not None:
                logging.getLogger().removeHandler(self._handler)
            self._handler = None
            while _FunctionFinder in sys.meta_path:
                sys.meta_path.remove(_FunctionFinder)  # type: ignore[arg-type]

    @property
    def installed(self) -> bool:
        return self._count > 0


_OUTPUT = _OutputCapture()


# --------------------------------------------------------------------------------------
# Worker threads (reused; an abandoned one is simply replaced)
# --------------------------------------------------------------------------------------


class _Workers:
    """A few daemon threads that run handlers, so the caller can stop waiting.

    A thread whose handler hangs is never waited for: it is just not idle, and
    the next call gets another thread. Daemon threads never block the
    interpreter's exit.
    """

    def __init__(self, max_idle: int = 4) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._max_idle = max_idle
        self.closed = False

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self)
            worker.start()
        worker.jobs.put(job)

    def _release(self, worker: _Worker) -> bool:
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


class _Worker(threading.Thread):
    def __init__(self, pool: _Workers) -> None:
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


# --------------------------------------------------------------------------------------
# Execution environments
# --------------------------------------------------------------------------------------


class _Fault(Exception):
    """An init failure the Lambda runtime reports with its own error type."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


@dataclass
class _Environment:
    """One warm execution environment: a function version's imported code."""

    key: tuple[str, str, str, str]
    signature: tuple[Any, ...]
    fn_ref: Any
    code_dir: str
    top_names: frozenset[str]
    handler_spec: str
    env_vars: dict[str, str]
    log_group: str
    log_stream: str
    version: str
    run_time: str
    env_bytes: tuple[tuple[bytes, bytes], ...] = ()
    modules: dict[str, ModuleType] = field(default_factory=dict)
    handler: Callable[..., Any] | None = None
    root_level: int = logging.WARNING
    loaded: bool = False
    lock: Any = field(default_factory=threading.Lock)


def _signature(fn: Any) -> tuple[Any, ...]:
    """What makes Lambda start new environments when it changes: code and configuration."""
    env = fn.environment_vars or {}
    return (
        fn.code_sha_256,
        fn.handler,
        fn.run_time,
        fn.memory_size,
        fn.timeout,
        fn.role,
        tuple(sorted(env.items())) if env else (),
    )


def _stream_name(version: str) -> str:
    today = _dt.datetime.now(_dt.timezone.utc)
    return f"{today:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


def _is_own(module: Any, prefix: str) -> bool:
    path = getattr(module, "__file__", None)
    if path:
        return isinstance(path, str) and path.startswith(prefix)
    paths = getattr(module, "__path__", None)
    try:
        return bool(paths) and any(isinstance(p, str) and p.startswith(prefix) for p in paths)
    except Exception:  # pragma: no cover - exotic __path__ objects
        return False


#: ``os.environ``'s underlying bytes mapping on POSIX (None elsewhere: use the public API).
_ENVIRON_DATA: dict[bytes, bytes] | None = getattr(os.environ, "_data", None) if os.name == "posix" else None
if not isinstance(_ENVIRON_DATA, dict):  # pragma: no cover - another Python implementation
    _ENVIRON_DATA = None


def _host_is_utc() -> bool:
    return time.timezone == 0 and time.altzone == 0 and not time.daylight


class _Host:
    """The host's own state, recorded when the first invocation starts and put back
    when the last one ends (invocations may nest, or overlap in several threads)."""

    lock = threading.Lock()
    depth = 0
    environ: Any = None
    cwd: str | None = None
    root_level = logging.NOTSET
    tz_changed = False


class _Scope:
    """The process state an invocation sets and restores, in the calling thread:
    ``os.environ``, ``sys.path``, the working directory and the root logger's level.

    Each scope restores what it found (so a nested invocation gives its caller's
    state back); the last one to end restores the host's state exactly.
    """

    __slots__ = ("env", "before", "expected", "root_level", "cwd")

    def __init__(self, env: _Environment) -> None:
        self.env = env

    def enter(self) -> None:
        env = self.env
        data = _ENVIRON_DATA
        root = logging.getLogger()
        try:
            cwd: str | None = os.getcwd()
        except OSError:  # pragma: no cover - the current folder was deleted
            cwd = None
        with _Host.lock:
            if _Host.depth == 0:
                _Host.environ = data.copy() if data is not None else dict(os.environ)
                _Host.cwd = cwd
                _Host.root_level = root.level
                _Host.tz_changed = False
            _Host.depth += 1
            if data is not None:
                # Fast path (POSIX): os.environ's own bytes mapping plus putenv, no re-encoding.
                self.before = data.copy()
                for key, value in env.env_bytes:
                    data[key] = value
                    os.putenv(key, value)
                self.expected = data.copy()
            else:  # pragma: no cover - Windows
                self.before = dict(os.environ)
                os.environ.update(env.env_vars)
                self.expected = dict(os.environ)
            if not _Host.tz_changed and not _host_is_utc():
                _Host.tz_changed = True
                time.tzset()
            sys.path.insert(0, env.code_dir)
            self.root_level = root.level
            if root.level != env.root_level:
                root.setLevel(env.root_level)
            self.cwd = cwd
            os.chdir(env.code_dir)

    def exit(self) -> None:
        env = self.env
        root = logging.getLogger()
        with _Host.lock:
            _Host.depth -= 1
            last = _Host.depth == 0
            try:
                sys.path.remove(env.code_dir)
            except ValueError:  # pragma: no cover - the handler removed it itself
                pass
            env.root_level = root.level
            level = _Host.root_level if last else self.root_level
            if root.level != level:
                root.setLevel(level)
            cwd = _Host.cwd if last else self.cwd
            if cwd is not None:
                try:
                    os.chdir(cwd)
                except OSError:  # pragma: no cover
                    pass
            self._restore_environ()
            if last:
                if _ENVIRON_DATA is not None and _ENVIRON_DATA != _Host.environ:
                    _set_environ(_Host.environ)  # overlapping invocations: back to the host's exactly
                if _Host.tz_changed:
                    _Host.tz_changed = False
                    time.tzset()
                _Host.environ = None

    def _restore_environ(self) -> None:
        before = self.before
        data = _ENVIRON_DATA
        if data is not None and data == self.expected:
            # The handler left os.environ alone: put back only what we set.
            for key, _ in self.env.env_bytes:
                previous = before.get(key)
                if previous is None:
                    data.pop(key, None)
                    os.unsetenv(key)
                else:
                    data[key] = previous
                    os.putenv(key, previous)
            return
        _set_environ(before)  # the handler changed os.environ itself: undo every difference


def _set_environ(wanted_raw: Any) -> None:
    """Make ``os.environ`` equal to a snapshot (bytes mapping on POSIX, else str)."""
    data = _ENVIRON_DATA
    if data is not None:
        decode = os.fsdecode
        current = {decode(k): decode(v) for k, v in data.items()}
        wanted = {decode(k): decode(v) for k, v in wanted_raw.items()}
    else:  # pragma: no cover - Windows
        current, wanted = dict(os.environ), wanted_raw
    for key in current.keys() - wanted.keys():
        del os.environ[key]
    for key, value in wanted.items():
        if current.get(key) != value:
            os.environ[key] = value


#: The folders the runtimes unpack code into: a module from there belongs to a function.
_CODE_ROOTS: set[str] = set()
#: Held while a function's code is imported, so no other invocation touches its module names then.
_IMPORT_LOCK = threading.RLock()


_CURRENT_ENV: contextvars.ContextVar[_Environment | None] = contextvars.ContextVar(
    "workmail_sandbox_lambda_environment", default=None
)


class _FunctionFinder:
    """First on ``sys.meta_path``: a top-level import made by a function's code finds
    the function's own module (``utils.py`` beside ``app.py``) in its own folder,
    whatever another invocation did to ``sys.path`` meanwhile."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if path is not None:
            return None
        env = _CURRENT_ENV.get()
        if env is None or name not in env.top_names:
            return None
        return importlib.machinery.PathFinder.find_spec(name, [env.code_dir])

    @staticmethod
    def invalidate_caches() -> None:
        return None


def _is_function_module(module: Any) -> bool:
    return any(_is_own(module, root + os.sep) for root in tuple(_CODE_ROOTS))


class _ModuleSwap:
    """The function's own modules in ``sys.modules`` while its code runs (in the worker thread).

    Host modules with the same names step aside and come back afterwards;
    modules the code imports lazily are remembered with the environment.
    """

    __slots__ = ("env", "saved", "count")

    def __init__(self, env: _Environment) -> None:
        self.env = env

    def enter(self) -> None:
        env = self.env
        modules = sys.modules
        saved: dict[str, Any] = {}
        with _IMPORT_LOCK:  # never in the middle of another function's import
            for name, module in env.modules.items():
                saved[name] = modules.get(name, _MISSING)
                modules[name] = module
            for name in env.top_names:
                if name not in env.modules and name in modules:
                    saved[name] = modules.pop(name)
            self.count = len(modules)
        self.saved = saved

    def exit(self) -> None:
        env = self.env
        modules = sys.modules
        with _IMPORT_LOCK:
            if len(modules) != self.count:
                _collect_own(env)
            for name, module in env.modules.items():
                if modules.get(name) is module:
                    del modules[name]
            for name, previous in self.saved.items():
                # Another function's module is never put back: it would outlive its invocation.
                if previous is not _MISSING and name not in modules and not _is_function_module(previous):
                    modules[name] = previous


def _collect_own(env: _Environment) -> None:
    """Adopt the modules imported from the function's folder."""
    prefix = env.code_dir + os.sep
    for name, module in list(sys.modules.items()):
        if name not in env.modules and _is_own(module, prefix):
            env.modules[name] = module


def _top_level_names(code_dir: str) -> frozenset[str]:
    names = set()
    for entry in os.listdir(code_dir):
        path = os.path.join(code_dir, entry)
        if os.path.isdir(path):
            if entry.isidentifier():
                names.add(entry)
        elif entry.endswith((".py", ".pyc", ".so", ".pyd")):
            names.add(entry.split(".", 1)[0])
    return frozenset(names)


def _load_handler(env: _Environment) -> None:
    """Import the handler module and find the handler, as the Lambda Python runtime does."""
    try:
        modname, fname = env.handler_spec.rsplit(".", 1)
    except ValueError as error:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{env.handler_spec}': {error}") from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise _Fault("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {modname} as a handler module")
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as error:
        raise _Fault("Runtime.ImportModuleError", f"Unable to import module '{modname}': {error}") from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise _Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {error}", trace) from None
    try:
        env.handler = getattr(module, fname)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'") from None


# --------------------------------------------------------------------------------------
# Errors and logs as Lambda writes them
# --------------------------------------------------------------------------------------


def _stack_trace(tb: Any) -> list[str]:
    frames = traceback.extract_tb(tb)
    for index, frame in enumerate(frames):
        if os.path.normcase(os.path.abspath(frame.filename)) != _RUNTIME_FILE:
            frames = frames[index:]
            break
    else:
        frames = traceback.StackSummary.from_list([])
    return traceback.format_list(frames)


def _error(message: str, error_type: str, request_id: str, trace: list[str]) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": trace}


def _error_log_line(error: dict[str, Any]) -> str:
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        head += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        lines.extend(element.splitlines() or [""])
    return "\n".join(lines) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):  # the Lambda runtime's marshaller accepts Decimal
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _iso_ms(epoch_seconds: float) -> str:
    moment = _dt.datetime.fromtimestamp(epoch_seconds, _dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _tail(text: str) -> str:
    data = text.encode("utf-8")[-TAIL_BYTES:]
    start = 0
    while start < len(data) and (data[start] & 0xC0) == 0x80:  # do not start inside a UTF-8 character
        start += 1
    return base64.b64encode(data[start:]).decode("ascii")


class _Outcome:
    """What the worker thread hands back to the waiting caller."""

    __slots__ = (
        "init_done", "done", "init_ms", "init_end", "handler_start", "payload_bytes",
        "error", "init_failed", "reset", "split", "handler_start_ms", "ran_init",
    )

    def __init__(self) -> None:
        self.init_done = threading.Event()
        self.done = threading.Event()
        self.init_ms: float | None = None
        self.init_end: float | None = None
        self.handler_start: float | None = None
        self.payload_bytes = b"null"
        self.error: dict[str, Any] | None = None
        self.init_failed = False
        self.reset = False
        self.split = 0
        self.handler_start_ms: int | None = None
        self.ran_init = False


# --------------------------------------------------------------------------------------
# The runtime
# --------------------------------------------------------------------------------------

_INSTALLED: Runtime | None = None
_PATCH_LOCK = threading.Lock()
_ORIGINALS: dict[str, Any] = {}
_REQUEST_QUALIFIER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "workmail_sandbox_lambda_qualifier", default=None
)


def installed_runtime() -> Runtime | None:
    """The runtime that ``lambda.invoke`` currently runs functions with, if any."""
    return _INSTALLED


class Runtime:
    """Runs Python functions deployed in moto, in this process (one per sandbox).

    ``account_id`` and ``region`` default to the sandbox's account and to
    ``$AWS_DEFAULT_REGION`` (``us-east-1`` when unset), read at each call.
    """

    def __init__(self, *, account_id: str | None = None, region: str | None = None) -> None:
        self.account_id = account_id
        self.region = region
        self._environments: dict[tuple[str, str, str, str], _Environment] = {}
        self._code_dirs: dict[str, str] = {}
        self._lock = threading.RLock()
        self._root: str | None = None
        self._workers = _Workers()
        self._output_acquired = False
        self.installed = False

    # ------------------------------------------------------------------ lifecycle

    def install(self) -> Runtime:
        """Capture function output and make ``lambda.invoke`` (moto, no Docker) run the code."""
        global _INSTALLED
        with _PATCH_LOCK:
            if self.installed:
                return self
            self._ensure_output()
            if self._workers.closed:
                self._workers = _Workers()
            from moto.awslambda.responses import LambdaResponse
            from moto.awslambda_simple.models import LambdaSimpleBackend

            if not _ORIGINALS:
                _ORIGINALS["backend_invoke"] = LambdaSimpleBackend.__dict__["invoke"]
                _ORIGINALS["response_invoke"] = LambdaResponse.__dict__["invoke"]
                LambdaSimpleBackend.invoke = _backend_invoke  # type: ignore[method-assign]
                LambdaResponse.invoke = _response_invoke  # type: ignore[method-assign]
            _INSTALLED = self
            self.installed = True
        return self

    def uninstall(self) -> None:
        """Undo :meth:`install`, drop warm environments and delete the unpacked code."""
        global _INSTALLED
        with _PATCH_LOCK:
            if _INSTALLED is self:
                _INSTALLED = None
                if _ORIGINALS:
                    from moto.awslambda.responses import LambdaResponse
                    from moto.awslambda_simple.models import LambdaSimpleBackend

                    LambdaSimpleBackend.invoke = _ORIGINALS.pop("backend_invoke")  # type: ignore[method-assign]
                    LambdaResponse.invoke = _ORIGINALS.pop("response_invoke")  # type: ignore[method-assign]
            self.installed = False
            if self._output_acquired:
                _OUTPUT.release()
                self._output_acquired = False
            self._workers.close()
            self.clear()
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
            self._code_dirs.clear()

    def clear(self) -> None:
        """Forget every warm environment: the next call of each function is a cold start."""
        with self._lock:
            self._environments.clear()

    def __enter__(self) -> Runtime:
        return self.install()

    def __exit__(self, *exc: Any) -> None:
        self.uninstall()

    def _ensure_output(self) -> None:
        if not self._output_acquired:
            _OUTPUT.acquire()
            self._output_acquired = True
        else:
            _OUTPUT.ensure()

    # ------------------------------------------------------------------ invoking

    def invoke(
        self,
        function_name_or_arn: str,
        event: Any = None,
        *,
        qualifier: str | None = None,
        region: str | None = None,
        limit_seconds: float | None = None,
        workmail_mode: str | None = None,
        message_id: str | None = None,
        invocation_type: str = "RequestResponse",
        client_context: dict[str, Any] | None = None,
    ) -> InvocationResult:
        """Run a deployed function with ``event`` and return what Lambda would report.

        ``function_name_or_arn`` is a name, ``name:qualifier`` or an ARN (whose
        region and account win). ``limit_seconds`` is the caller's own limit
        (WorkMail's 15 s); ``workmail_mode`` (``"sync"``/``"async"``) and
        ``message_id`` are passed to the emulators through the invocation.
        A missing function raises botocore's ``ClientError``
        ``ResourceNotFoundException``, as ``lambda.invoke`` does.
        """
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise SandboxError(
                f"invocation_type {invocation_type!r} is not one Lambda knows; "
                "it takes RequestResponse, Event or DryRun.",
                fix="pass invocation_type='RequestResponse' (the default), 'Event' or 'DryRun'",
            )
        try:
            event_json = json.dumps(event)
        except (TypeError, ValueError) as error:
            raise SandboxError(
                f"The event cannot be sent to Lambda, which takes JSON: {error}.",
                fix="pass a dict of JSON types (str, int, float, bool, None, list, dict), e.g. WorkMailEvent.raw",
            ) from None
        account, region, name, qualifier = self._resolve(function_name_or_arn, qualifier, region)
        from moto.awslambda.exceptions import LambdaClientError
        from moto.awslambda.utils import get_backend

        backend = get_backend(account, region)
        try:
            fn = backend.get_function(name, qualifier)
        except LambdaClientError as error:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": error.error_type, "Message": error.message}}, "Invoke") from None
        match = _ARN.match(function_name_or_arn)
        if match:  # the ARN the caller used, as context.invoked_function_arn shows it
            invoked_arn = function_name_or_arn
            if qualifier and not match["qualifier"]:
                invoked_arn += f":{qualifier}"
        else:
            invoked_arn = _unqualified(fn.function_arn) + (f":{qualifier}" if qualifier else "")
        if invocation_type == "DryRun":
            return InvocationResult(None, None, "", "", "", 0.0, False, False, b"", executed_version=str(fn.version))
        return self._run(
            fn,
            account,
            region,
            event_json,
            invoked_arn=invoked_arn,
            limit_seconds=limit_seconds,
            workmail_mode=workmail_mode,
            message_id=message_id,
            client_context=client_context,
        )

    def _resolve(self, ref: str, qualifier: str | None, region: str | None) -> tuple[str, str, str, str | None]:
        match = _ARN.match(ref)
        if match:
            return match["account"], match["region"], match["name"], match["qualifier"] or qualifier
        account = self.account_id or _sandbox_account()
        region = (
            region or self.region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
        )
        name, colon, inline = ref.partition(":")
        return account, region, name, (inline if colon else None) or qualifier

    def _environment(self, fn: Any, account: str, region: str) -> tuple[_Environment, bool]:
        """The warm environment for ``fn``, or a new one (cold start)."""
        version = str(fn.version)
        key = (account, region, fn.function_name, version)
        signature = _signature(fn)
        env = self._environments.get(key)
        if env is not None and env.fn_ref() is fn and env.signature == signature:
            return env, False
        with self._lock:  # one new environment even when two first calls race
            env = self._environments.get(key)
            if env is not None and env.fn_ref() is fn and env.signature == signature:
                return env, False
            return self._new_environment(fn, account, region, key, signature, version), True

    def _new_environment(
        self,
        fn: Any,
        account: str,
        region: str,
        key: tuple[str, str, str, str],
        signature: tuple[Any, ...],
        version: str,
    ) -> _Environment:
        run_time = fn.run_time or ""
        if getattr(fn, "package_type", "Zip") != "Zip" or not run_time.startswith("python"):
            package = getattr(fn, "package_type", "Zip")
            kind = f"a container image ({package})" if package != "Zip" else run_time or "no runtime"
            raise SandboxError(
                f"Function {fn.function_name} uses {kind}; only Python functions run in the sandbox "
                "(Runtime python3.x, PackageType Zip).",
                fix="deploy a Python version of the function (e.g. Runtime='python3.12'), or run it in aws mode",
            )
        code_dir = self._code_dir(fn)
        group = getattr(fn, "logs_group_name", None) or f"/aws/lambda/{fn.function_name}"
        stream = _stream_name(version)
        env_vars = {str(k): str(v) for k, v in (fn.environment_vars or {}).items()}
        env_vars.update(
            {
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": group,
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{run_time}",
                "LAMBDA_TASK_ROOT": code_dir,
                "_HANDLER": fn.handler or "",
                "TZ": ":UTC",
            }
        )
        env = _Environment(
            key=key,
            signature=signature,
            fn_ref=weakref.ref(fn),
            code_dir=code_dir,
            top_names=_top_level_names(code_dir),
            handler_spec=fn.handler or "",
            env_vars=env_vars,
            log_group=group,
            log_stream=stream,
            version=version,
            run_time=run_time,
            env_bytes=tuple((os.fsencode(k), os.fsencode(v)) for k, v in env_vars.items()),
        )
        self._environments[key] = env
        return env

    def _code_dir(self, fn: Any) -> str:
        """The function's code, unpacked once per code hash."""
        digest = base64.b64decode(fn.code_sha_256).hex() if fn.code_sha_256 else uuid.uuid4().hex
        with self._lock:
            path = self._code_dirs.get(digest)
            if path is not None and os.path.isdir(path):
                return path
            if self._root is None or not os.path.isdir(self._root):
                self._root = tempfile.mkdtemp(prefix="workmail-sandbox-lambda-")
                _CODE_ROOTS.add(self._root)
            path = os.path.join(self._root, digest[:32])
            staging = tempfile.mkdtemp(dir=self._root)
            try:
                with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
                    archive.extractall(staging)
            except zipfile.BadZipFile:
                shutil.rmtree(staging, ignore_errors=True)
                raise SandboxError(
                    f"The code of function {fn.function_name} is not a zip file.",
                    fix="deploy the function with Code={'ZipFile': <bytes of a .zip>}",
                ) from None
            if os.path.isdir(path):
                shutil.rmtree(staging, ignore_errors=True)
            else:
                os.replace(staging, path)
            self._code_dirs[digest] = path
            return path

    def _run(
        self,
        fn: Any,
        account: str,
        region: str,
        event_json: str,
        *,
        invoked_arn: str,
        limit_seconds: float | None = None,
        workmail_mode: str | None = None,
        message_id: str | None = None,
        client_context: Any = None,
    ) -> InvocationResult:
        self._ensure_output()
        env, _ = self._environment(fn, account, region)
        cold = not env.loaded  # this call may have to run the init phase
        request_id = str(uuid.uuid4())
        timeout = float(fn.timeout or 3)
        limit = float(limit_seconds) if limit_seconds is not None else None
        wait = min(timeout, limit) if limit is not None else timeout
        invocation = Invocation(
            function_name=fn.function_name,
            function_arn=invoked_arn,
            role_arn=fn.role,
            request_id=request_id,
            region=region,
            account=account,
            deadline=_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=wait),
            workmail_mode=workmail_mode,
            message_id=message_id,
        )
        capture = _Capture(request_id)
        outcome = _Outcome()
        context = LambdaContext(
            aws_request_id=request_id,
            function_name=fn.function_name,
            function_version=env.version,
            invoked_function_arn=invoked_arn,
            memory_limit_in_mb=str(fn.memory_size),
            log_group_name=env.log_group,
            log_stream_name=env.log_stream,
            deadline_monotonic=time.monotonic() + timeout,
            client_context=client_context,
        )

        def job() -> None:
            _CAPTURE.set(capture)
            CURRENT_INVOCATION.set(invocation)
            _CURRENT_ENV.set(env)
            try:
                if not env.loaded:
                    with env.lock:  # two first calls at once import the code once
                        if not env.loaded:
                            _init(env, outcome, request_id)
                            if outcome.init_failed:
                                return
                            env.loaded = True
                    outcome.init_done.set()
                capture.flush_partial()
                outcome.split = len(capture.events)
                outcome.handler_start_ms = int(time.time() * 1000)
                outcome.handler_start = time.perf_counter()
                context._deadline = time.monotonic() + timeout
                swap = _ModuleSwap(env)
                swap.enter()
                try:
                    result = env.handler(json.loads(event_json), context)  # type: ignore[misc]
                except Exception as error:
                    trace = _stack_trace(error.__traceback__)
                    outcome.error = _error(str(error), type(error).__name__, request_id, trace)
                    return
                except SystemExit as error:
                    outcome.error = _exit_error(request_id, error)
                    outcome.reset = True
                    return
                finally:
                    swap.exit()
                if isinstance(result, bytes):  # the Python runtime sends bytes as they are
                    outcome.payload_bytes = result
                    return
                try:
                    outcome.payload_bytes = json.dumps(
                        result, default=_json_default, ensure_ascii=not env.run_time.startswith("python3.12")
                    ).encode("utf-8")
                except (TypeError, ValueError, OverflowError) as error:
                    message = f"Unable to marshal response: {error}"
                    outcome.error = _error(message, "Runtime.MarshalError", request_id, [])
            finally:
                outcome.init_done.set()
                outcome.done.set()

        started = time.perf_counter()
        started_wall = time.time()
        caller_deadline = started + limit if limit is not None else math.inf
        timed_out_after: float | None = None
        scope = _Scope(env)
        scope.enter()
        try:
            self._workers.submit(_bind(job))
            if cold:
                init_wait = min(INIT_TIMEOUT_SECONDS, caller_deadline - time.perf_counter())
                if not outcome.init_done.wait(max(init_wait, 0.0)):
                    timed_out_after = min(limit, INIT_TIMEOUT_SECONDS) if limit is not None else INIT_TIMEOUT_SECONDS
            if timed_out_after is None and not outcome.done.is_set():
                begin = outcome.init_end if (cold and outcome.init_end is not None) else started
                function_deadline = begin + timeout
                until = min(function_deadline, caller_deadline)
                if not outcome.done.wait(max(until - time.perf_counter(), 0.0)):
                    timed_out_after = timeout if function_deadline <= caller_deadline else limit
        finally:
            if timed_out_after is not None:
                invocation.abandoned = True
            scope.exit()
        ended = time.perf_counter()

        handler_start = outcome.handler_start or outcome.init_end or started
        if timed_out_after is not None:
            duration_ms = timed_out_after * 1000.0 if outcome.handler_start else (ended - handler_start) * 1000
            message = f"{_iso_ms(time.time())} {request_id} Task timed out after {timed_out_after:.2f} seconds"
            payload: Any = {"errorMessage": message}
            payload_bytes = json.dumps(payload).encode("utf-8")
            function_error: str | None = "Unhandled"
            self._forget(env)
        else:
            duration_ms = (ended - handler_start) * 1000
            if outcome.error is not None:
                payload = outcome.error
                payload_bytes = json.dumps(payload).encode("utf-8")
                function_error = "Unhandled"
                if outcome.init_failed or outcome.reset:
                    self._forget(env)
            else:
                payload_bytes = outcome.payload_bytes
                try:
                    payload = json.loads(payload_bytes)
                except ValueError:  # a handler that returned bytes that are not JSON
                    payload = payload_bytes
                function_error = None
        init_ms = outcome.init_ms  # set only by the call that ran the init phase
        cold_start = outcome.ran_init or (cold and not outcome.init_done.is_set())

        # The log, as Lambda writes it to CloudWatch Logs.
        capture.flush_partial()
        events = capture.events
        split = min(outcome.split, len(events))
        start_stamp = outcome.handler_start_ms or int(started_wall * 1000)
        if split:
            start_stamp = max(start_stamp, events[split - 1][0])
        lines: list[tuple[int, str]] = list(events[:split])
        lines.append((start_stamp, f"START RequestId: {request_id} Version: {env.version}\n"))
        lines.extend(events[split:])
        end_stamp = max(int(time.time() * 1000), lines[-1][0])
        if timed_out_after is not None:
            lines.append((end_stamp, message + "\n"))
        elif function_error is not None:
            lines.append((end_stamp, _error_log_line(payload)))
        lines.append((end_stamp, f"END RequestId: {request_id}\n"))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\tMemory Size: {fn.memory_size} MB\t"
            f"Max Memory Used: {fn.memory_size} MB"
        )
        if init_ms is not None:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        if timed_out_after is not None:
            report += "\tStatus: timeout"
        lines.append((end_stamp, report + "\n"))
        write_log_events(account, region, env.log_group, env.log_stream, lines)
        log_text = "".join(text for _, text in lines)
        return InvocationResult(
            payload=payload,
            function_error=function_error,
            log_text=log_text,
            log_tail_base64=_tail(log_text),
            request_id=request_id,
            duration_ms=duration_ms,
            cold_start=cold_start,
            timed_out=timed_out_after is not None,
            payload_bytes=payload_bytes,
            init_duration_ms=init_ms,
            executed_version=env.version,
            invocation=invocation,
        )

    def _forget(self, env: _Environment) -> None:
        with self._lock:
            if self._environments.get(env.key) is env:
                del self._environments[env.key]

    # ------------------------------------------------------------------ WorkMail's checks

    def check_workmail_permission(
        self, function_arn: str, *, organization_arn: str, region: str, account: str
    ) -> tuple[bool, str]:
        """May WorkMail (organization ``organization_arn``) invoke ``function_arn``?

        Checks what WorkMail checks: the function is in the organization's Region
        and account, and its resource policy lets ``workmail.<region>.amazonaws.com``
        call ``lambda:InvokeFunction`` with ``aws:SourceArn`` = the organization ARN
        and ``aws:SourceAccount`` = the account. Returns ``(allowed, reason)``.
        """
        from .workmail_service import service_principal

        principal = service_principal(region)
        match = _ARN.match(function_arn)
        if match:
            fn_region, fn_account = match["region"], match["account"]
            name, qualifier = match["name"], match["qualifier"]
        else:
            fn_region, fn_account = region, account
            name, _, qualifier = function_arn.partition(":")
            qualifier = qualifier or None
        same_place = (
            "Lambda email flow rules reference only functions in the same Region and account as the organization"
        )
        if fn_region != region:
            return False, f"the function is in {fn_region} but the organization is in {region}: {same_place}"
        if fn_account != account:
            return False, (
                f"the function is in account {fn_account} but the organization is in account {account}: {same_place}"
            )
        from moto.awslambda.exceptions import LambdaClientError
        from moto.awslambda.utils import get_backend

        backend = get_backend(account, region)
        try:
            fn = backend.get_function(name, qualifier)
        except LambdaClientError:
            return False, (
                f"there is no function {name!r} in {region} (account {account}): deploy it first, "
                "or fix the function ARN in the rule"
            )
        add_permission = (
            f"run add-permission as in lesson 02 (Principal='{principal}', Action='lambda:InvokeFunction', "
            f"SourceArn='{organization_arn}')"
        )
        try:
            document = json.loads(json.loads(backend.get_policy(name, qualifier))["Policy"])
        except LambdaClientError:
            return False, (
                f"the function {name} has no resource-based policy, so WorkMail may not invoke it: {add_permission}"
            )
        from .policy import Principal, PolicyError, Request, evaluate

        resource = function_arn if match else fn.function_arn
        request = Request(
            "lambda:InvokeFunction",
            resource,
            principal=Principal("Service", principal),
            context={"aws:SourceArn": organization_arn, "aws:SourceAccount": account},
        )
        try:
            decision = evaluate([document], request, kind="resource")
        except PolicyError as error:
            return False, f"the function's policy cannot be evaluated: {error}"
        if decision.allowed:
            return True, f"WorkMail ({principal}) may invoke {name}: {decision.reason}"
        if decision.checks and all(check.failed == "principal" for check in decision.checks if check.effect == "Allow"):
            return False, f"the function's policy has no statement for {principal}: {add_permission}"
        return False, f"the function's policy does not let {principal} invoke it: {decision.reason}"


def _init(env: _Environment, outcome: _Outcome, request_id: str) -> None:
    """The init phase: import the handler module (in the worker thread)."""
    outcome.ran_init = True
    started = time.perf_counter()
    locked = _IMPORT_LOCK.acquire(timeout=INIT_TIMEOUT_SECONDS)
    modules = sys.modules
    # No host module (and no half-imported module of another function) may shadow the code's own names.
    saved = {name: modules.pop(name) for name in list(modules) if name.partition(".")[0] in env.top_names}
    sys.path.insert(0, env.code_dir)  # first, even if another invocation's folder went in after ours
    try:
        _load_handler(env)
    except _Fault as fault:
        outcome.error = _error(fault.message, fault.error_type, "", fault.trace)
        outcome.init_failed = True
    except Exception as error:
        outcome.error = _error(str(error), type(error).__name__, "", _stack_trace(error.__traceback__))
        outcome.init_failed = True
    except SystemExit as error:
        outcome.error = _exit_error(request_id, error)
        outcome.init_failed = True
    finally:
        try:
            sys.path.remove(env.code_dir)
        except ValueError:  # pragma: no cover - the code removed it itself
            pass
        _collect_own(env)
        for name, module in env.modules.items():
            if modules.get(name) is module:
                del modules[name]
        for name, previous in saved.items():
            if name not in modules and not _is_function_module(previous):
                modules[name] = previous
        if locked:
            _IMPORT_LOCK.release()
    end = time.perf_counter()
    outcome.init_ms = (end - started) * 1000
    outcome.init_end = end


def _bind(job: Callable[[], None]) -> Callable[[], None]:
    """``job`` run in a copy of the caller's context (so contextvars reach the worker)."""
    context = contextvars.copy_context()
    return lambda: context.run(job)


def _exit_error(request_id: str, error: SystemExit) -> dict[str, Any]:
    code = error.code if isinstance(error.code, int) else (0 if error.code is None else 1)
    message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
    return _error(message, "Runtime.ExitError", request_id, [])


def _unqualified(arn: str) -> str:
    match = _ARN.match(arn)
    if match and match["qualifier"]:
        return arn[: -(len(match["qualifier"]) + 1)]
    return arn


def _sandbox_account() -> str:
    from .emulators._core import STATE

    return STATE.account_id


# --------------------------------------------------------------------------------------
# moto: lambda.invoke runs the code
# --------------------------------------------------------------------------------------


def _response_invoke(self: Any) -> Any:
    """moto's ``LambdaResponse.invoke`` drops ``?Qualifier=``; keep it for the backend."""
    token = _REQUEST_QUALIFIER.set(self.querystring.get("Qualifier", [None])[0])
    try:
        return _ORIGINALS["response_invoke"](self)
    finally:
        _REQUEST_QUALIFIER.reset(token)


def _backend_invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    """``LambdaSimpleBackend.invoke``, replaced: run the function as Lambda would."""
    runtime = _INSTALLED
    original = _ORIGINALS.get("backend_invoke")
    if runtime is None and original is not None:  # pragma: no cover - uninstalled mid-request
        return original(self, function_name, qualifier, body, headers, response_headers)
    qualifier = qualifier or _REQUEST_QUALIFIER.get()
    fn = self.get_function(function_name, qualifier)  # ResourceNotFoundException as Lambda
    invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    response_headers["x-amz-executed-version"] = str(fn.version)
    if invocation_type == "DryRun":
        return b""
    text = body.decode("utf-8") if isinstance(body, bytes) else (body or "")
    if not text.strip():
        text = "{}"
    try:
        json.loads(text)
    except ValueError as error:
        from moto.core.exceptions import JsonRESTError

        message = f"Could not parse request body into json: Could not parse payload into json: {error}"
        raise JsonRESTError("InvalidRequestContentException", message) from None
    match = _ARN.match(function_name)
    invoked_arn = function_name if match else _unqualified(fn.function_arn) + (f":{qualifier}" if qualifier else "")
    assert runtime is not None
    client_context = None
    if headers.get("X-Amz-Client-Context"):
        try:
            client_context = json.loads(base64.b64decode(headers["X-Amz-Client-Context"]))
        except ValueError:
            client_context = None
    result = runtime._run(
        fn, self.account_id, self.region_name, text, invoked_arn=invoked_arn, client_context=client_context
    )
    if invocation_type == "Event":
        return b""
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    if (headers.get("X-Amz-Log-Type") or "").lower() == "tail":
        response_headers["x-amz-log-result"] = result.log_tail_base64
    response_headers["Content-Length"] = str(len(result.payload_bytes))
    return result.payload_bytes
