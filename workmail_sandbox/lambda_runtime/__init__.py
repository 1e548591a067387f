"""The local Lambda runtime: runs a function deployed in moto, in this process, from its own code.

moto's Lambda without Docker stores functions but never runs them (docs/moto.md §1).
:class:`Runtime` does what the Lambda Python runtime does, in-process:

* loads the function's zip (from moto, through :mod:`workmail_sandbox._moto`)
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

Modules: :mod:`.runtime` (:class:`Runtime`), :mod:`.context` (the ``context``
object), :mod:`.results` (:class:`InvocationResult`); private ones hold the
output capture (``_capture``), the worker threads (``_workers``), the process
state an invocation swaps in and out (``_environment``), the code loading
(``_loader``) and Lambda's error payloads and log tails (``_errors``).
WorkMail's permission check is :func:`workmail_sandbox.permissions.workmail_invoke_decision`.
"""

from __future__ import annotations

from .context import Client, ClientContext, CognitoIdentity, LambdaContext
from .results import InvocationResult
from .runtime import INIT_TIMEOUT_SECONDS, Runtime, installed_runtime

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
