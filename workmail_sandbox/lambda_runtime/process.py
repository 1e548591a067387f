"""Functions in worker processes of their own, as Lambda runs them (``isolation="process"``).

Each warm execution environment is one worker process started from the
function's deployed code and layers, with its own environment only (Lambda's
reserved variables, the function's variables, the sandbox's endpoint and fake
credentials; nothing else of the parent's), its own ``/tmp`` (``TMPDIR``), a
memory limit from ``MemorySize`` and a timeout that really ends it. The worker
talks to the sandbox through the Lambda Runtime API (:mod:`._runtime_api`): Python
functions run under AWS's runtime interface client (``awslambdaric``) when it is
installed, else under the kit's small bootstrap (:mod:`._bootstrap`); Node.js
functions under :mod:`the kit's Node.js bootstrap <._bootstrap_node>`. Their SDK
clients reach the sandbox through ``AWS_ENDPOINT_URL`` (the local endpoint), and
the kit's network guard in the worker refuses anything but loopback.

What Lambda reports, the parent reports, and it survives every case: a crash
(``os._exit``, a signal, closed output) is ``Runtime.ExitError`` with the exit
status, memory over ``MemorySize`` is ``Runtime.OutOfMemory``, a timeout is
``Task timed out after N.NN seconds``; after any of these the next invocation
starts cold, in a new process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SandboxError
from ._runtime_api import Pending, RuntimeApiServer

__all__ = ["ISOLATIONS", "ProcessWorker", "WorkerAnswer", "checked_isolation", "worker_command"]

#: The ways the sandbox can run a function.
ISOLATIONS = ("in-process", "process")
_SITE = str(Path(__file__).resolve().parent / "worker_site")
#: Head-room over MemorySize for the interpreter's address space (RLIMIT_AS counts mappings, not use);
#: the resident size is what is held to MemorySize.
_ADDRESS_SPACE_MARGIN_MB = 1024
_MEMORY_POLL_SECONDS = 0.01


def checked_isolation(isolation: str) -> str:
    """``isolation`` if the runtime knows it, else a one-line :class:`SandboxError`."""
    if isolation not in ISOLATIONS:
        raise SandboxError(
            f"isolation {isolation!r} is not one the runtime knows; it takes {' or '.join(ISOLATIONS)}.",
            fix="pass isolation='in-process' (fast, cells' handlers) or 'process' (a worker process per function)",
        )
    return isolation


def worker_command(run_time: str, handler: str) -> list[str]:
    """The command that starts a runtime for ``run_time`` (python3.x, nodejs*)."""
    if run_time.startswith("python"):
        if importlib.util.find_spec("awslambdaric") is not None:
            return [sys.executable, "-m", "awslambdaric", handler]
        return [sys.executable, "-m", "workmail_sandbox.lambda_runtime._bootstrap"]
    if run_time.startswith("nodejs"):
        node = shutil.which("node") or shutil.which("nodejs")
        if node is None:
            raise SandboxError(
                f"The function's runtime is {run_time}, and Node.js is not installed on this machine.",
                fix="install Node.js (Debian: apt-get install nodejs; or https://nodejs.org), then invoke again",
            )
        return [node, str(Path(__file__).resolve().parent / "bootstrap_node.mjs")]
    raise SandboxError(
        f"The sandbox runs Python and Node.js functions; this one's runtime is {run_time or 'none'}.",
        fix="deploy it with a python3.x or nodejs runtime, or run it in aws mode",
    )


@dataclass
class WorkerAnswer:
    """What one invocation in a worker gave back."""

    response: bytes | None = None
    error: dict[str, Any] | None = None
    error_type: str | None = None
    init_error: bool = False
    exit_status: int | None = None  # the worker ended during the invocation (negative: a signal)
    out_of_memory: bool = False
    timed_out: bool = False
    lines: list[tuple[int, str]] = field(default_factory=list)
    init_ms: float | None = None
    duration_ms: float = 0.0
    max_memory_mb: int = 0


class ProcessWorker:
    """One warm execution environment: a worker process and its Runtime API server."""

    def __init__(self, command: list[str], *, environment: dict[str, str], cwd: str, memory_mb: int,
                 python_path: list[str], cap_address_space: bool = True) -> None:  # fmt: skip
        self.command = command
        #: RLIMIT_AS as a backstop (Python); Node.js reserves address space for WebAssembly and workers, so
        #: its workers are held to MemorySize by the resident-size poll alone.
        self.cap_address_space = cap_address_space
        self.memory_mb = int(memory_mb)
        self.cwd = cwd
        self.tmp = tempfile.mkdtemp(prefix="workmail-sandbox-worker-tmp-")
        self.api = RuntimeApiServer()
        env = dict(environment)
        env.update(
            {
                "AWS_LAMBDA_RUNTIME_API": self.api.address,
                "TMPDIR": self.tmp,
                "HOME": self.tmp,
                "PYTHONPATH": os.pathsep.join([*python_path, _SITE]),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "NODE_PATH": os.pathsep.join(
                    [os.path.join(p, "node_modules") for p in python_path] + [os.path.join(cwd, "node_modules")]
                ),
            }
        )
        self.environment = env
        self.process: subprocess.Popen[bytes] | None = None
        self._lines: list[tuple[int, str]] = []
        self._lines_lock = threading.Lock()
        self._reading = False
        self.started_at = 0.0
        self.initialised = False

    # Life cycle -------------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        limit = (self.memory_mb + _ADDRESS_SPACE_MARGIN_MB) * 1024 * 1024
        cap = self.cap_address_space

        def limits() -> None:  # in the child, before exec
            os.setsid()  # its own process group: stop() ends whatever it started too
            if cap:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - the kit's own command line, no shell
            self.command, cwd=self.cwd, env=self.environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, preexec_fn=limits, close_fds=True,
        )  # fmt: skip
        threading.Thread(target=self._read_output, name="lambda-worker-output", daemon=True).start()

    def _read_output(self) -> None:
        """The worker's output, line by line, stamped as it arrives (one reader thread per worker)."""
        stream = self.process.stdout if self.process is not None else None
        if stream is None:  # pragma: no cover
            return
        fd, partial = stream.fileno(), b""
        while True:
            try:
                select.select([fd], [], [])  # until there is output (or the end): the data stays in the pipe
            except (OSError, ValueError):
                break
            with self._lines_lock:
                self._reading = True  # from here until the lines are in, _drain sees the reader busy
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self._lines_lock:
                    self._reading = False
                break
            *complete, partial = (partial + chunk).split(b"\n")
            stamp = int(time.time() * 1000)
            with self._lines_lock:
                self._lines.extend((stamp, raw.decode("utf-8", "replace") + "\n") for raw in complete)
                self._reading = False
        if partial:
            with self._lines_lock:
                self._lines.append((int(time.time() * 1000), partial.decode("utf-8", "replace")))

    def stop(self) -> None:
        """End the worker (and anything it started) and free its Runtime API and /tmp."""
        process = self.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        self.api.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # One invocation -----------------------------------------------------------------------------

    def invoke(self, pending: Pending, *, timeout: float, init_timeout: float) -> WorkerAnswer:
        """Hand ``pending`` to the worker and wait for its answer, its end, or the deadline."""
        answer = WorkerAnswer()
        cold = self.process is None
        if cold:
            self.start()
        with self._lines_lock:
            mark = len(self._lines)
        begin = time.perf_counter()
        if not self.initialised:
            if not self._wait_for_init(init_timeout, answer):
                answer.lines = self._take(mark)
                return answer
            answer.init_ms = (time.perf_counter() - self.started_at) * 1000
            self.initialised = True
            begin = time.perf_counter()
        self.api.submit(pending)
        deadline = begin + timeout
        peak = 0
        assert self.process is not None
        while True:
            if pending.answered.wait(_MEMORY_POLL_SECONDS):
                break
            status = self.process.poll()
            if status is not None:
                answer.exit_status = status
                break
            rss = _resident_mb(self.process.pid)
            peak = max(peak, rss)
            if rss > self.memory_mb:
                answer.out_of_memory = True
                self.stop()
                answer.exit_status = -signal.SIGKILL
                break
            if time.perf_counter() >= deadline:
                answer.timed_out = True
                self.stop()
                break
        answer.duration_ms = (time.perf_counter() - begin) * 1000
        answer.max_memory_mb = max(peak, _resident_mb(self.process.pid) if self.alive else peak)
        if pending.answered.is_set():
            answer.response, answer.error, answer.error_type = pending.response, pending.error, pending.error_type
        self._drain()
        answer.lines = self._take(mark)
        return answer

    def _wait_for_init(self, init_timeout: float, answer: WorkerAnswer) -> bool:
        """Until the runtime asks for work (True), fails its init, ends, or takes too long (False)."""
        deadline = time.perf_counter() + init_timeout
        assert self.process is not None
        while not self.api.waiting.wait(_MEMORY_POLL_SECONDS):
            if self.api.init_failed.is_set():
                answer.init_error = True
                answer.error, answer.error_type = self.api.init_error, self.api.init_error_type
                self.stop()
                return False
            status = self.process.poll()
            if status is not None:
                if self.api.init_failed.is_set():
                    continue
                answer.exit_status = status
                answer.init_error = True
                return False
            if time.perf_counter() >= deadline:
                answer.timed_out = True
                answer.init_error = True
                self.stop()
                return False
        return True

    def _drain(self) -> None:
        """Wait until the reader has taken in what the worker wrote before it answered (at most 0.2 s).

        The worker writes its output before it posts its answer, so the output is in the pipe by then;
        done when the pipe is empty and the reader is not in the middle of a chunk, twice in a row.
        """
        stream = self.process.stdout if self.process is not None else None
        if stream is None:  # pragma: no cover
            return
        end, quiet = time.perf_counter() + 0.2, 0
        while quiet < 2 and time.perf_counter() < end:
            try:
                pending = bool(select.select([stream.fileno()], [], [], 0)[0])
            except (OSError, ValueError):
                return
            with self._lines_lock:
                busy = self._reading
            quiet = 0 if pending or busy else quiet + 1
            if quiet < 2:
                time.sleep(0.0001 if quiet else 0.0005)  # a quick second look; longer while output flows

    def _take(self, mark: int) -> list[tuple[int, str]]:
        with self._lines_lock:
            lines = self._lines[mark:]
            del self._lines[:]
        return lines


def _resident_mb(pid: int) -> int:
    """The resident memory of ``pid`` and its children's process group leader, in MB (0 when gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


def answer_payload(answer: WorkerAnswer) -> Any:
    """The decoded response body (JSON), as the runtime posted it."""
    if answer.response is None:
        return None
    try:
        return json.loads(answer.response)
    except ValueError:
        return answer.response.decode("utf-8", "replace")
