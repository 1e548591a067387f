"""The :class:`Runtime`: runs a Python function deployed in moto, in this process, as Lambda runs it.

The package docstring (:mod:`workmail_sandbox.lambda_runtime`) lists what it does
and where it deviates from AWS.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
import threading
import time
import uuid
import warnings
import weakref
from typing import Any

from .. import _moto
from .. import stand_ins as _stand_ins
from ..emulators._core import STATE
from ..errors import SandboxError
from ..invocation import CURRENT_INVOCATION, Invocation, function_code_running
from ..permissions import workmail_invoke_decision
from ..workmail_service import FUNCTION_ARN
from ._capture import CAPTURE, OUTPUT, Capture, LogWriter
from ._code import CodeStore
from ._environment import INVOCATION_LOCK, Environment, Scope, environment_signature, stream_name
from ._errors import error_log_line, exception_error, exit_error, iso_ms, tail
from ._guard import THREADS, Hooks, tamper_warning, wait_for_function_threads
from ._isolated import IsolatedRunner
from ._loader import CURRENT_ENV, INIT_TIMEOUT_SECONDS, ModuleSwap, run_init, top_level_names
from ._workers import Outcome, Workers, bind
from .context import LambdaContext
from .process import checked_isolation
from .results import InvocationResult

__all__ = ["INIT_TIMEOUT_SECONDS", "Runtime", "installed_runtime"]

_INSTALLED: Runtime | None = None
_PATCH_LOCK = threading.Lock()


def installed_runtime() -> Runtime | None:
    """The runtime that ``lambda.invoke`` currently runs functions with, if any."""
    return _INSTALLED


class Runtime:
    """Runs Python functions deployed in moto, in this process (one per sandbox).

    ``account_id`` and ``region`` default to the sandbox's account and to
    ``$AWS_DEFAULT_REGION`` (``us-east-1`` when unset), read at each call.
    """

    def __init__(
        self, *, account_id: str | None = None, region: str | None = None, isolation: str = "in-process"
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.isolation = checked_isolation(isolation)
        self._isolation_of: dict[str, str] = {}
        self.logs = LogWriter()  #: where log lines go (``logs.enabled = False``: none to CloudWatch Logs)
        self._isolated = IsolatedRunner(self.logs)
        self._environments: dict[tuple[str, str, str, str], Environment] = {}
        self._code = CodeStore()
        self._lock = threading.RLock()
        self._workers = Workers()
        self._output_acquired = False
        self._threads_acquired = False
        self.installed = False

    # ------------------------------------------------------------------ lifecycle

    def install(self) -> Runtime:
        """Capture function output and make ``lambda.invoke`` (moto, no Docker) run the code."""
        global _INSTALLED
        with _PATCH_LOCK:
            if self.installed:
                return self
            self._ensure_output()
            if not self._threads_acquired:
                THREADS.acquire()
                self._threads_acquired = True
            if self._workers.closed:
                self._workers = Workers()
            if not _moto.lambda_invoke_patched():
                _moto.patch_lambda_invoke(_invoke_installed)
            _INSTALLED = self
            self.installed = True
        return self

    def uninstall(self) -> None:
        """Undo :meth:`install`, drop warm environments and delete the unpacked code.

        Function code may not call it (:class:`SandboxError`): the runtime it runs in stays.
        """
        global _INSTALLED
        running = function_code_running()
        if running is not None:
            raise SandboxError(
                f"Function {running.function_name} tried to uninstall the Lambda runtime it runs in; "
                "function code may not switch the sandbox off.",
                fix="uninstall the runtime (or stop the sandbox) from your own code, after the invocation returns",
            )
        with _PATCH_LOCK:
            if _INSTALLED is self:
                _INSTALLED = None
                _moto.unpatch_lambda_invoke()
            self.installed = False
            if self._output_acquired:
                OUTPUT.release()
                self._output_acquired = False
            if self._threads_acquired:
                THREADS.release()
                self._threads_acquired = False
            self._workers.close()
            self.clear()
            self._isolated.close()
            self._code.remove()

    @staticmethod
    def wait_for_function_threads(seconds: float = 1.0) -> list[tuple[threading.Thread, Invocation]]:
        """Wait up to ``seconds`` in all for the threads function code started to end;
        returns those still running, each with the invocation that started it."""
        return wait_for_function_threads(seconds)

    def clear(self) -> None:
        """Forget every warm environment (worker processes end): the next call of each function is a cold start."""
        with self._lock:
            self._environments.clear()
        self._isolated.close()

    def set_isolation(self, function_name: str, isolation: str | None) -> None:
        """Run ``function_name`` ``"in-process"`` or in worker ``"process"``-es (None: the runtime's default)."""
        if isolation is None:
            self._isolation_of.pop(function_name, None)
        else:
            self._isolation_of[function_name] = checked_isolation(isolation)

    def isolation_for(self, function_name: str) -> str:
        """How ``function_name`` runs: its own setting, else the runtime's ``isolation``."""
        return self._isolation_of.get(function_name, self.isolation)

    def __enter__(self) -> Runtime:
        return self.install()

    def __exit__(self, *exc: Any) -> None:
        self.uninstall()

    def _ensure_output(self) -> None:
        if not self._output_acquired:
            OUTPUT.acquire()
            self._output_acquired = True
        else:
            OUTPUT.ensure()

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
        fn = _moto.get_lambda_function(account, region, name, qualifier)  # ClientError as lambda.invoke raises
        match = FUNCTION_ARN.match(function_name_or_arn)
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
        match = FUNCTION_ARN.match(ref)
        if match:
            return match["account"], match["region"], match["name"], match["qualifier"] or qualifier
        account = self.account_id or _sandbox_account()
        region = (
            region or self.region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
        )
        name, colon, inline = ref.partition(":")
        return account, region, name, (inline if colon else None) or qualifier

    def _environment(self, fn: Any, account: str, region: str, *, any_runtime: bool = False
                     ) -> tuple[Environment, bool]:  # fmt: skip
        """The warm environment for ``fn``, or a new one (cold start); ``any_runtime``: for a worker process."""
        version = str(fn.version)
        key = (account, region, fn.function_name, version)
        signature = environment_signature(fn)
        env = self._environments.get(key)
        if env is not None and env.fn_ref() is fn and env.signature == signature:
            return env, False
        with self._lock:  # one new environment even when two first calls race
            env = self._environments.get(key)
            if env is not None and env.fn_ref() is fn and env.signature == signature:
                return env, False
            return self._new_environment(fn, account, region, key, signature, version, any_runtime), True

    def _new_environment(
        self,
        fn: Any,
        account: str,
        region: str,
        key: tuple[str, str, str, str],
        signature: tuple[Any, ...],
        version: str,
        any_runtime: bool = False,
    ) -> Environment:
        run_time = fn.run_time or ""
        runs = run_time.startswith("python") or (any_runtime and run_time.startswith("nodejs"))
        if getattr(fn, "package_type", "Zip") != "Zip" or not runs:
            package = getattr(fn, "package_type", "Zip")
            kind = f"a container image ({package})" if package != "Zip" else run_time or "no runtime"
            raise SandboxError(
                f"Function {fn.function_name} uses {kind}; in the sandbox's own process only Python functions run "
                "(Runtime python3.x, PackageType Zip).",
                fix="run it in a worker process (runtime.set_isolation(name, 'process'): Node.js too), deploy a "
                "Python version (Runtime='python3.12'), or run it in aws mode",
            )
        code_dir = self._code.function_code(fn)
        search_path = (code_dir, *self._code.layer_paths(fn, account, region, run_time))
        group = fn.logs_group_name  # moto's /aws/lambda/<name>; in _moto.LAMBDA_FUNCTION_ATTRIBUTES
        stream = stream_name(version)
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
        env = Environment(
            key=key,
            signature=signature,
            fn_ref=weakref.ref(fn),
            code_dir=code_dir,
            top_names=top_level_names(*search_path),
            search_path=search_path,
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
        # HTTP stand-ins answer in this process only: a Python function that may post to one runs here.
        here = (fn.run_time or "").startswith("python") and _stand_ins.http_active()
        if self.isolation_for(fn.function_name) == "process" and not here:
            env, _ = self._environment(fn, account, region, any_runtime=True)
            return self._isolated.run(fn, env, account=account, region=region, event_json=event_json,
                                      invoked_arn=invoked_arn, limit_seconds=limit_seconds, workmail_mode=workmail_mode,
                                      message_id=message_id, client_context=client_context)  # fmt: skip
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
            deadline=_dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=wait),
            workmail_mode=workmail_mode,
            message_id=message_id,
        )
        capture = Capture(request_id)
        outcome = Outcome()
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
            CAPTURE.set(capture)
            CURRENT_INVOCATION.set(invocation)
            CURRENT_ENV.set(env)
            try:
                if not env.loaded:
                    with env.lock:  # two first calls at once import the code once
                        if not env.loaded:
                            run_init(env, outcome, request_id)
                            if outcome.init_failed:
                                return
                            env.loaded = True
                    outcome.init_done.set()
                capture.flush_partial()
                outcome.split = len(capture.events)
                outcome.handler_start_ms = int(time.time() * 1000)
                outcome.handler_start = time.perf_counter()
                context._deadline = time.monotonic() + timeout
                swap = ModuleSwap(env)
                swap.enter()
                try:
                    result = env.handler(json.loads(event_json), context)  # type: ignore[misc]  # the handler is user code, untyped
                except SystemExit as error:
                    outcome.error = exit_error(request_id, error)
                    outcome.reset = True
                    return
                except BaseException as error:  # KeyboardInterrupt, GeneratorExit too: the handler's own error
                    outcome.error = exception_error(error, request_id)
                    outcome.reset = not isinstance(error, Exception)  # the runtime process would not survive it
                    return
                finally:
                    swap.exit()
                outcome.marshal(result, request_id, ensure_ascii=not env.run_time.startswith("python3.12"))
            except BaseException as error:  # pragma: no cover - nothing may leave the job unreported
                if outcome.error is None:
                    outcome.error = exception_error(error, request_id)
            finally:
                outcome.init_done.set()
                outcome.done.set()

        started = time.perf_counter()
        started_wall = time.time()
        caller_deadline = started + limit if limit is not None else math.inf
        timed_out_after: float | None = None
        # One in-process invocation at a time holds the process environment (os.environ, working directory);
        # a nested one (a handler invoking, in its own thread) runs inside its caller's. A thread the code
        # started (a Step Functions execution, ...) waits its turn: its caller may end while it runs.
        owner = CURRENT_INVOCATION.get()
        nested = owner is not None and not owner.ended
        if not nested:
            INVOCATION_LOCK.acquire()
        try:
            hooks = Hooks()
            scope = Scope(env)
            scope.enter()
        except BaseException:
            if not nested:
                INVOCATION_LOCK.release()
            raise
        tampered: list[str] = []
        interrupted = True
        try:
            self._workers.submit(bind(job))
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
            interrupted = False
        finally:
            # interrupted: the caller was (Ctrl-C while waiting): the handler runs on, abandoned.
            if timed_out_after is not None or interrupted:
                invocation.abandoned = True
            invocation.ended = True
            try:
                scope.exit()
                tampered = hooks.restore()
            finally:
                if not nested:
                    INVOCATION_LOCK.release()
                if interrupted:
                    self._forget(env)
        ended = time.perf_counter()

        handler_start = outcome.handler_start or outcome.init_end or started
        if timed_out_after is not None:
            duration_ms = timed_out_after * 1000.0 if outcome.handler_start else (ended - handler_start) * 1000
            message = f"{iso_ms(time.time())} {request_id} Task timed out after {timed_out_after:.2f} seconds"
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
                payload = outcome.payload
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
            lines.append((end_stamp, error_log_line(payload)))
        if tampered:
            warning = tamper_warning(fn.function_name, tampered)
            lines.append((end_stamp, f"[WARNING] workmail-sandbox: {warning}\n"))
            warnings.warn(warning, RuntimeWarning, stacklevel=2)
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
        self.logs.write(account, region, env.log_group, env.log_stream, lines)
        log_text = "".join(text for _, text in lines)
        return InvocationResult(
            payload=payload,
            function_error=function_error,
            log_text=log_text,
            log_tail_base64=tail(log_text),
            request_id=request_id,
            duration_ms=duration_ms,
            cold_start=cold_start,
            timed_out=timed_out_after is not None,
            payload_bytes=payload_bytes,
            init_duration_ms=init_ms,
            executed_version=env.version,
            invocation=invocation,
            tampered=tampered,
        )

    def _forget(self, env: Environment) -> None:
        with self._lock:
            if self._environments.get(env.key) is env:
                del self._environments[env.key]

    # ------------------------------------------------------------------ WorkMail's checks

    def check_workmail_permission(
        self, function_arn: str, *, organization_arn: str, region: str, account: str
    ) -> tuple[bool, str]:
        """May WorkMail (organization ``organization_arn``) invoke ``function_arn``?

        Checks what WorkMail checks (:func:`workmail_sandbox.permissions.workmail_invoke_decision`):
        the function is in the organization's Region and account, and its resource
        policy lets ``workmail.<region>.amazonaws.com`` call ``lambda:InvokeFunction``
        with ``aws:SourceArn`` = the organization ARN and ``aws:SourceAccount`` = the
        account. Returns ``(allowed, reason)``.
        """
        check = workmail_invoke_decision(
            function_arn, organization_arn=organization_arn, region=region, account=account
        )
        return check.allowed, check.reason


def _unqualified(arn: str) -> str:
    match = FUNCTION_ARN.match(arn)
    if match and match["qualifier"]:
        return arn[: -(len(match["qualifier"]) + 1)]
    return arn


def _sandbox_account() -> str:
    return STATE.account_id


# --------------------------------------------------------------------------------------
# moto: lambda.invoke runs the code
# --------------------------------------------------------------------------------------


def _invoke_installed(
    fn: Any,
    *,
    account: str,
    region: str,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    """moto's ``LambdaSimpleBackend.invoke``, replaced (:func:`_moto.patch_lambda_invoke`): run the function."""
    runtime = _INSTALLED
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
        message = f"Could not parse request body into json: Could not parse payload into json: {error}"
        raise _moto.lambda_request_error("InvalidRequestContentException", message) from None
    match = FUNCTION_ARN.match(function_name)
    invoked_arn = function_name if match else _unqualified(fn.function_arn) + (f":{qualifier}" if qualifier else "")
    assert runtime is not None
    client_context = None
    if headers.get("X-Amz-Client-Context"):
        try:
            client_context = json.loads(base64.b64decode(headers["X-Amz-Client-Context"]))
        except ValueError:
            client_context = None
    result = runtime._run(fn, account, region, text, invoked_arn=invoked_arn, client_context=client_context)
    if invocation_type == "Event":
        return b""
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    if (headers.get("X-Amz-Log-Type") or "").lower() == "tail":
        response_headers["x-amz-log-result"] = result.log_tail_base64
    response_headers["Content-Length"] = str(len(result.payload_bytes))
    return result.payload_bytes
