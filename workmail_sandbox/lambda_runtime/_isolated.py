"""The runtime's side of process isolation: warm workers per function, the endpoint they call, the report.

:class:`IsolatedRunner` keeps one :class:`~.process.ProcessWorker` per warm execution
environment (a function version with unchanged code and configuration), starts the
sandbox's local endpoint for their SDK calls (once, on loopback), gives each worker
access keys of its own (the endpoint makes calls signed with them as the running
invocation, so the execution role applies), and turns a worker's answer into the
:class:`~.results.InvocationResult` and CloudWatch Logs lines Lambda would write.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import secrets
import threading
import time
import uuid
from typing import Any

from .. import _moto
from ..invocation import CURRENT_INVOCATION, Invocation, register_worker_key
from ._capture import LogWriter
from ._environment import Environment
from ._errors import error_log_line, error_payload, iso_ms, tail
from ._loader import INIT_TIMEOUT_SECONDS
from ._runtime_api import Pending
from .process import ProcessWorker, WorkerAnswer, answer_payload, worker_command
from .results import InvocationResult

__all__ = ["IsolatedRunner"]


class _SandboxView:
    """What the endpoint needs of the sandbox: boto3 sessions and the Region."""

    def __init__(self, region: str) -> None:
        self.region = region

    def session(self) -> Any:
        import boto3.session

        return _moto.share_model_loader(boto3.session.Session(region_name=self.region))


class IsolatedRunner:
    """Worker processes for the functions a runtime runs with ``isolation="process"``."""

    def __init__(self, logs: LogWriter | None = None) -> None:
        self.logs = logs or LogWriter()
        self._workers: dict[tuple[str, str, str, str], tuple[tuple[Any, ...], ProcessWorker, str]] = {}
        self._lock = threading.Lock()
        self._endpoint: Any = None

    def endpoint_url(self, region: str) -> str:
        """The local endpoint the workers' SDKs call (started on first use)."""
        with self._lock:
            if self._endpoint is None:
                from ..endpoint.server import EndpointApp, EndpointServer

                self._endpoint = EndpointServer(EndpointApp(_SandboxView(region)), port=0).start()
            return str(self._endpoint.url)

    def close(self) -> None:
        """Stop every worker and the endpoint."""
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
            endpoint, self._endpoint = self._endpoint, None
        for _, worker, key in workers:
            register_worker_key(key, None)
            worker.stop()
        if endpoint is not None:
            endpoint.stop()

    def _worker(self, fn: Any, env: Environment, region: str) -> tuple[ProcessWorker, str, bool]:
        """The warm worker of ``env`` (same code and configuration), or a new one; ``(worker, key, cold)``."""
        with self._lock:
            found = self._workers.get(env.key)
            if found is not None and found[0] == env.signature and found[1].alive:
                return found[1], found[2], False
        if found is not None:
            self._forget(env.key)
        access_key = "ASIAWORKER" + secrets.token_hex(5).upper()
        environment = dict(env.env_vars)
        environment.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url(region),
                "AWS_ACCESS_KEY_ID": access_key,
                "AWS_SECRET_ACCESS_KEY": secrets.token_hex(20),
                "AWS_SESSION_TOKEN": secrets.token_hex(32),
                "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true",
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "en_US.UTF-8",
            }
        )
        worker = ProcessWorker(
            worker_command(env.run_time, env.handler_spec), environment=environment, cwd=env.code_dir,
            memory_mb=int(fn.memory_size or 128), python_path=list(env.search_path),
            cap_address_space=env.run_time.startswith("python"),
        )  # fmt: skip
        with self._lock:
            self._workers[env.key] = (env.signature, worker, access_key)
        return worker, access_key, True

    def _forget(self, key: tuple[str, str, str, str]) -> None:
        with self._lock:
            found = self._workers.pop(key, None)
        if found is not None:
            register_worker_key(found[2], None)
            found[1].stop()

    def run(self, fn: Any, env: Environment, *, account: str, region: str, event_json: str, invoked_arn: str,
            limit_seconds: float | None, workmail_mode: str | None, message_id: str | None,
            client_context: Any) -> InvocationResult:  # fmt: skip
        """One invocation in the function's worker, reported as Lambda reports it."""
        timeout = float(fn.timeout or 3)
        wait = min(timeout, limit_seconds) if limit_seconds is not None else timeout
        invocation = new_invocation(fn, request_id=str(uuid.uuid4()), invoked_arn=invoked_arn, region=region,
                                    account=account, wait=wait, workmail_mode=workmail_mode,
                                    message_id=message_id)  # fmt: skip
        # The worker's threads are the sandbox's, not function code's, even when a function (calling through
        # the endpoint) invoked this one: start them outside any invocation.
        token = CURRENT_INVOCATION.set(None)
        try:
            return self._run(fn, env, account=account, region=region, event_json=event_json,
                             invoked_arn=invoked_arn, limit_seconds=limit_seconds, invocation=invocation,
                             client_context=client_context)  # fmt: skip
        finally:
            CURRENT_INVOCATION.reset(token)

    def _run(self, fn: Any, env: Environment, *, account: str, region: str, event_json: str, invoked_arn: str,
             limit_seconds: float | None, invocation: Invocation, client_context: Any) -> InvocationResult:  # fmt: skip
        worker, access_key, cold = self._worker(fn, env, region)
        request_id = invocation.request_id
        timeout = float(fn.timeout or 3)
        wait = min(timeout, limit_seconds) if limit_seconds is not None else timeout
        deadline_ms = int((time.time() + wait) * 1000)
        pending = Pending(
            request_id=request_id, event=event_json.encode("utf-8"), deadline_ms=deadline_ms,
            function_arn=invoked_arn, trace_id=f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            client_context=json.dumps(client_context) if client_context else None,
        )  # fmt: skip
        register_worker_key(access_key, invocation)
        started_wall = time.time()
        try:
            answer = worker.invoke(pending, timeout=wait, init_timeout=min(INIT_TIMEOUT_SECONDS, wait))
        finally:
            invocation.ended = True
        if answer.timed_out or answer.exit_status is not None or answer.init_error:
            self._forget(env.key)  # the next invocation starts cold, in a new process
            invocation.abandoned = answer.timed_out
        return self._report(fn, env, account, region, request_id, answer, wait, cold, started_wall, invocation)

    def _report(self, fn: Any, env: Environment, account: str, region: str, request_id: str, answer: WorkerAnswer,
                wait: float, cold: bool, started_wall: float, invocation: Invocation) -> InvocationResult:  # fmt: skip
        function_error: str | None = "Unhandled"
        if answer.timed_out:
            message = f"{iso_ms(time.time())} {request_id} Task timed out after {wait:.2f} seconds"
            payload: Any = {"errorMessage": message}
        elif answer.out_of_memory:
            payload = error_payload(f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
                                    "Runtime.OutOfMemory", request_id, [])  # fmt: skip
        elif answer.error is not None:
            payload = dict(answer.error)
            if env.run_time.startswith("python"):  # Lambda's Python runtime names the request; Node.js's does not
                payload.setdefault("requestId", request_id)
        elif answer.response is not None:
            payload, function_error = answer_payload(answer), None
        else:
            status = answer.exit_status
            how = f"signal: {_signal_name(-status)}" if status is not None and status < 0 else f"exit status {status}"
            payload = error_payload(f"RequestId: {request_id} Error: Runtime exited with error: {how}",
                                    "Runtime.ExitError", request_id, [])  # fmt: skip
        payload_bytes = answer.response if function_error is None and answer.response is not None else (
            json.dumps(payload).encode("utf-8")
        )
        duration_ms = answer.duration_ms
        end_stamp = max([int(time.time() * 1000)] + [stamp for stamp, _ in answer.lines])
        lines = [(int(started_wall * 1000), f"START RequestId: {request_id} Version: {env.version}\n")]
        lines += [(stamp, text if text.endswith("\n") else text + "\n") for stamp, text in answer.lines]
        if answer.timed_out:
            lines.append((end_stamp, payload["errorMessage"] + "\n"))
        elif function_error is not None and not answer.lines:
            lines.append((end_stamp, error_log_line(payload)))
        lines.append((end_stamp, f"END RequestId: {request_id}\n"))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\tMemory Size: {fn.memory_size} MB\t"
            f"Max Memory Used: {max(answer.max_memory_mb, 1)} MB"
        )
        if answer.init_ms is not None:
            report += f"\tInit Duration: {answer.init_ms:.2f} ms"
        if answer.timed_out:
            report += "\tStatus: timeout"
        elif answer.out_of_memory:
            report += "\tStatus: error\tError Type: Runtime.OutOfMemory"
        lines.append((end_stamp, report + "\n"))
        self.logs.write(account, region, env.log_group, env.log_stream, lines)
        log_text = "".join(text for _, text in lines)
        return InvocationResult(
            payload=payload, function_error=function_error, log_text=log_text, log_tail_base64=tail(log_text),
            request_id=request_id, duration_ms=duration_ms, cold_start=cold, timed_out=answer.timed_out,
            payload_bytes=payload_bytes, init_duration_ms=answer.init_ms, executed_version=env.version,
            invocation=invocation,
        )  # fmt: skip


#: How Lambda names the signals that end a runtime ("Runtime exited with error: signal: killed").
_SIGNALS = {
    9: "killed", 11: "segmentation fault", 6: "aborted", 15: "terminated", 7: "bus error", 4: "illegal instruction",
}


def _signal_name(number: int) -> str:
    return _SIGNALS.get(number, f"signal {number}")


def new_invocation(fn: Any, *, request_id: str, invoked_arn: str, region: str, account: str, wait: float,
                   workmail_mode: str | None, message_id: str | None) -> Invocation:  # fmt: skip
    """The :class:`Invocation` record of a worker invocation (``extra["worker"]``: its code is not in this process)."""
    return Invocation(
        function_name=fn.function_name, function_arn=invoked_arn, role_arn=fn.role, request_id=request_id,
        region=region, account=account, deadline=_dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=wait),
        workmail_mode=workmail_mode, message_id=message_id, extra={"worker": True},
    )  # fmt: skip
