"""The local Lambda runtime: runs a function deployed in moto, from its own code.

moto's Lambda without Docker stores functions but never runs them (docs/moto.md §1).
With ``isolation="process"`` (:mod:`.process`, docs/isolation.md) each function runs in
worker processes of its own that speak the Lambda Runtime API, Python or Node.js; by
default (``"in-process"``) :class:`Runtime` does what the Lambda Python runtime does,
in this process:

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
  (whatever version that is), whatever ``Runtime`` says (python3.12, 3.13, ...).
  A function imports its own code first (with the dependencies ``deploy_project``
  built into it), then its layers' ``python`` folders (as Lambda mounts them
  under ``/opt``, later layers first), then the packages of the sandbox's
  environment. A layer's files are not at ``/opt`` itself. Only Python functions
  run; others raise :class:`SandboxError`.
* **Isolation is by namespace, not by process.** Process-wide state is swapped
  in for the call and restored afterwards: ``os.environ``, ``sys.path``, the
  working directory and the root logger's level (in the calling thread), and the
  ``sys.modules`` entries of the function's own modules (in the handler's
  thread). Changes a handler makes to ``os.environ`` are undone after each call
  (Lambda would keep them in a warm environment). Third-party modules are shared
  with the host. Invocations that nest (a handler invoking another function) are
  isolated from each other.
* **One in-process invocation at a time.** Calls made at the same time from
  several threads are serialized: each caller waits for a process-wide lock
  before it swaps in its function's ``os.environ`` and working directory, so no
  function ever sees another's variables (Lambda runs them in parallel, each in
  its own environment). Nested calls (from a handler, or from a thread it
  started, while it runs) run inside their caller's turn. The wait for the lock
  does not count towards the function's timeout. A handler that waits for an
  invocation made from a thread it did not start waits until its own timeout.
* **Function code cannot switch the sandbox off.** After each invocation the
  runtime checks the sandbox's hooks (the network guard's socket functions,
  ``boto3.client``/``resource``/``Session``, ``Session.client``/``resource``,
  botocore's ``create_client`` and ``BaseClient._make_api_call``, botocore's
  built-in handler list with the kit's entries, moto's patched
  ``lambda.invoke``, the emulators' "started" flag, its own wrapper on
  ``threading.Thread.start``) against what they were before the call, puts back
  whatever the function changed and reports it: a ``[WARNING] workmail-sandbox``
  line in the function's log, :attr:`InvocationResult.tampered` and a
  ``RuntimeWarning``. This includes legitimate instrumentation a function applies
  to boto3 (e.g. X-Ray's ``patch_all``), which on Lambda would stay in the warm
  environment. ``sandbox.stop()``, ``Sandbox.stop()`` and :meth:`Runtime.uninstall`
  called by function code raise :class:`SandboxError` in the function.
* **Errors that are not** ``Exception`` (``KeyboardInterrupt``, ``GeneratorExit``,
  any ``BaseException``) raised by the handler or at module level are reported
  as the function's error, ``errorType`` being the class name, and the next
  call is a cold start (on Lambda the runtime process would exit; ``SystemExit``
  is ``Runtime.ExitError``, as there). A Ctrl-C while the caller waits
  interrupts the caller (handlers run in worker threads, which never receive
  signals); the handler runs on, abandoned, and the next call is a cold start.
  A result that ``json`` cannot serialise, including one nested too deeply
  (``RecursionError``), is ``Runtime.MarshalError`` ``Unable to marshal
  response: ...``.
* **Threads a handler starts** (``threading.Thread``, ``ThreadPoolExecutor``,
  ``Timer``; not ``_thread.start_new_thread``) are recorded with their
  invocation (:func:`workmail_sandbox.invocation.function_threads`). When the
  sandbox stops it waits for them up to one second in all; any still running
  are named in a ``RuntimeWarning`` and the sandbox's fake credentials (all the
  variables it manages) stay in ``os.environ``, so such a thread never sees the
  user's own: the first ``stop()`` after they end restores the environment
  (a new ``start()`` before that keeps the fake ones for good; restart the
  kernel to get yours back).
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
(``_loader``), the hooks checked after each call and the threads functions start
(``_guard``) and Lambda's error payloads and log tails (``_errors``).
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
