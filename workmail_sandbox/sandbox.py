"""Start and stop the offline sandbox, or connect to a real AWS account.

Sandbox mode (the default) runs moto (Lambda without Docker), the kit's
emulators for ``workmail``, ``workmailmessageflow`` and ``serverlessrepo``, and
the local Lambda runtime, all in this Python process, with fake credentials and
a network guard that refuses any connection that would leave the machine.

It is safe to run the start cell of a notebook twice: :func:`start` returns the
running sandbox instead of nesting moto's mock (nesting leaks fake credentials
and can silently switch mocking off, see docs/moto.md §7), and
:func:`stop` twice is harmless.

AWS mode (``WORKMAIL_SANDBOX_MODE=aws`` or ``mode="aws"``) uses your own boto3
session. A process that has run the sandbox refuses aws mode: restart the kernel
first, so that no client made inside the sandbox can be mistaken for a real one.

Sandbox-only controls (AWS has no API for these; they are never fake AWS
operations) live on :class:`Sandbox`: ``reset``, ``snapshot``/``restore``,
``clock``/``advance_clock``, ``put_message_in_transit``, ``mark_redirected``,
``message_content``, ``message_history`` and the stand-ins (``stand_in``,
``stand_in_http``).

One concept: the sandbox's life cycle and the controls a user has over it. Each
control is a short method delegating to the module that does the work (the
emulators, :mod:`.stand_ins`, :mod:`._moto`), so they stay in one place a user
can read.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _moto, emulators
from . import stand_ins as _stand_ins
from ._gc_pause import with_paused_gc
from .clock import SimulatedClock
from .emulators import _core
from .errors import ConfigurationError, SandboxError
from .network import NetworkGuard
from .workmail_service import WORKMAIL_REGIONS, check_region

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from .lambda_runtime import Runtime

__all__ = [
    "AWS",
    "MODE_ENV",
    "SANDBOX",
    "Sandbox",
    "Snapshot",
    "current",
    "get_mode",
    "sandbox",
    "start",
    "stop",
]

MODE_ENV = "WORKMAIL_SANDBOX_MODE"
SANDBOX = "sandbox"
AWS = "aws"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"

#: Credentials that exist only in the sandbox; aws mode refuses them.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAWORKMAILSANDBOX0",
    "AWS_SECRET_ACCESS_KEY": "workmail-sandbox-fake-secret-key",
    "AWS_SESSION_TOKEN": "workmail-sandbox-fake-session-token",
    "AWS_SECURITY_TOKEN": "workmail-sandbox-fake-session-token",
}
# Every variable the sandbox sets or removes; all are restored on stop().
_MANAGED_ENV = (
    *FAKE_CREDENTIALS,
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_CA_BUNDLE",
    "MOTO_ACCOUNT_ID",
    # Where botocore would send a call, or get credentials, other than moto (docs/safety.md).
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SDK_UA_APP_ID",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    # Proxies: a loopback proxy would carry function code's requests to the internet.
    *(
        name
        for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY")
        for name in (proxy, proxy.lower())
    ),
)
#: Every variable starting with one of these is also removed while the sandbox runs
#: (``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL_LAMBDA``, ...) and restored on stop().
_MANAGED_ENV_PREFIXES = ("AWS_ENDPOINT_URL",)
#: Set while the sandbox runs, on top of the fake credentials.
_SANDBOX_ENV = {
    # botocore ignores any endpoint URL from the environment or a config file
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
    # and never asks the instance metadata service for credentials
    "AWS_EC2_METADATA_DISABLED": "true",
}
# moto services the kit uses; snapshot/restore copies their state.
# (secretsmanager and apigateway: what deploy_project's fill-ins create; see snapshot() for state machines)
_MOTO_SERVICES = ("lambda", "lambda_simple", "iam", "s3", "logs", "cloudformation", "sts", "events", "cloudwatch",
                  "secretsmanager", "apigateway")

_lock = threading.RLock()
_current: Sandbox | None = None
#: The one Sandbox running in this process, however it was started (start() or Sandbox(...).start()).
_running: Sandbox | None = None


def _managed_env_keys() -> list[str]:
    """``_MANAGED_ENV`` plus every variable of the environment with a managed prefix."""
    prefixed = sorted(key for key in os.environ if key.startswith(_MANAGED_ENV_PREFIXES))
    return list(dict.fromkeys([*_MANAGED_ENV, *prefixed]))


def get_mode(mode: str | None = None) -> str:
    """``mode`` if given, else ``$WORKMAIL_SANDBOX_MODE``, else ``"sandbox"``."""
    value = (mode if mode is not None else os.environ.get(MODE_ENV, SANDBOX)).strip().lower()
    if value not in (SANDBOX, AWS):
        raise ConfigurationError(
            f"Unknown mode {value!r}: the kit runs in 'sandbox' (offline, the default) or 'aws' (your account).",
            fix=f"set {MODE_ENV}=sandbox or {MODE_ENV}=aws, or pass mode='sandbox' / mode='aws'",
        )
    return value


def _block_slow_optional_imports() -> None:
    """Keep jsonschema from building rfc3987-syntax's grammar (2-7 s, docs/performance.md §4).

    moto's CloudFormation imports openapi-spec-validator, hence jsonschema, whose
    optional "iri" format check imports rfc3987_syntax when it is installed (the
    Jupyter stack installs it). Nothing in the kit or moto uses that check.
    Set WORKMAIL_SANDBOX_KEEP_RFC3987=1 to keep it.
    """
    if os.environ.get("WORKMAIL_SANDBOX_KEEP_RFC3987"):
        return
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import now raises ImportError


@dataclass
class Snapshot:
    """The whole sandbox state at one moment (see :meth:`Sandbox.snapshot`).

    Its S3 objects may sit in temporary files. They are closed (and the files
    removed) by :meth:`release` (or at the end of ``with snapshot:``) and when the
    snapshot is garbage collected; a released snapshot cannot be restored. A
    snapshot survives ``reset()`` and ``stop()``: a workshop restores the state a
    lesson started from in a sandbox started again.
    """

    moto: dict[str, Any]
    emulators: dict[str, Any]
    clock: Any
    account_id: str
    region: str
    _release: Any = field(default=None, repr=False, compare=False)

    @property
    def released(self) -> bool:
        return self._release is not None and not self._release.alive

    def release(self) -> None:
        """Close the temporary files this snapshot holds; it cannot be restored afterwards."""
        if self._release is not None:
            self._release()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class Sandbox:
    """The running offline sandbox. Get it with :func:`start`; there is one per process."""

    mode = SANDBOX

    def __init__(self, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self.region = check_region(region)
        if not (isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()):
            raise ConfigurationError(
                f"{account_id!r} is not an AWS account id.", fix="use 12 digits, e.g. '123456789012'"
            )
        self.account_id = account_id
        self.network = NetworkGuard()
        self.runtime: Any = None
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._started = False

    @property
    def started(self) -> bool:
        """True while this sandbox runs; at most one Sandbox per process is started."""
        return self._started

    @started.setter
    def started(self, value: bool) -> None:
        # stop() sets this to False once its teardown is done.
        global _running
        with _lock:
            if value:
                _running = self
            elif self._started and _running is self:
                _running = None
            self._started = bool(value)

    # -------------------------------------------------------------- lifecycle

    @with_paused_gc  # moto's imports and backends: long-lived objects, collection would only walk them
    def start(self) -> Sandbox:
        """Start moto, the emulators, the runtime and the network guard (idempotent)."""
        if self.started:
            return self
        with _lock:
            other = _running
            if other is not None and other is not self and other.started:
                raise SandboxError(
                    f"Another sandbox is already running in this process ({other.region}, account "
                    f"{other.account_id}); there is one sandbox per process, since moto's state is global.",
                    fix="use workmail_sandbox.sandbox.start() to get the running one, or stop it first",
                )
        _block_slow_optional_imports()  # must run before moto imports jsonschema
        from moto import mock_aws  # imported here, after the line above, and only when a sandbox starts

        managed = _managed_env_keys()
        self._saved_env = {key: os.environ.get(key) for key in managed}
        for key in managed:
            os.environ.pop(key, None)
        os.environ.update(FAKE_CREDENTIALS)
        os.environ.update(_SANDBOX_ENV)
        os.environ["AWS_DEFAULT_REGION"] = self.region
        os.environ["AWS_REGION"] = self.region
        # Never read the user's ~/.aws files: a profile with SSO or a credential
        # process must not be consulted, let alone used.
        os.environ["AWS_CONFIG_FILE"] = os.devnull
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        os.environ["MOTO_ACCOUNT_ID"] = self.account_id
        try:
            _moto.share_loader_with_new_sessions()  # moto's own Session() calls parse no endpoint data again
            _moto.lazy_router_builders()  # moto's routers compile URL builders (never used) on first use
            self._mock = mock_aws(
                config={
                    "lambda": {"use_docker": False},
                    # AWS managed policies are loaded on first use, see emulators.iam_managed_policies
                    "iam": {"load_aws_managed_policies": False},
                    "core": {"reset_boto3_session": True},
                    # Step Functions runs executions with moto's interpreter, as AWS runs them
                    "stepfunctions": {"execute_state_machine": True},
                }
            )
            self._mock.start()
            emulators.install()
            _stand_ins.install()  # before any session is made: every client asks the stand-ins
            _core.STATE.active = True
            _core.STATE.ever_started = True
            _core.STATE.account_id = self.account_id
            _core.STATE.clock = _fresh_clock()
            self.runtime = _make_runtime()
            if self.runtime is not None:
                self.runtime.install()
            self.network.install()
            _moto.fresh_default_session(self.region)  # after install(): sessions copy botocore's handler list
        except BaseException:
            self._teardown()
            raise
        self.started = True
        return self

    def stop(self) -> None:
        """Stop everything and restore the environment as it was (idempotent).

        Function code cannot stop the sandbox it runs in (:class:`SandboxError`). Threads
        function code started get one second to end; any still running are reported (a
        ``RuntimeWarning``) and the variables the sandbox manages (its fake credentials)
        stay in ``os.environ`` so those threads never see yours: the first ``stop()`` after
        they end restores them.
        """
        from .invocation import function_code_running, function_threads

        running = function_code_running()
        if running is not None:
            raise SandboxError(
                f"Function {running.function_name} called stop(): function code cannot stop the sandbox it runs in.",
                fix="stop the sandbox from your own code, after the invocation has returned",
            )
        if not self.started:
            if self._saved_env and not function_threads():  # kept for threads function code left running
                self._restore_environment()
            return
        self._teardown()
        self.started = False

    def _teardown(self) -> None:
        # Threads function code started get a moment to end while everything still runs.
        leftover = self.runtime.wait_for_function_threads(1.0) if self.runtime is not None else []
        _core.STATE.active = False
        _stand_ins.clear()  # before moto's mock stops: the HTTP stand-ins' requests mock is on top of it
        _moto.unregister_builtin_handlers()  # sessions made from now on are plain botocore ones
        _moto.share_loader_with_new_sessions(False)  # with a loader of their own, too
        _moto.lazy_router_builders(False)
        self.network.uninstall()
        if self.runtime is not None:
            self.runtime.uninstall()
            self.runtime = None
        if self._mock is not None:
            try:
                self._mock.stop()
            except RuntimeError:  # pragma: no cover - someone stopped moto behind our back
                pass
            self._mock = None
        for service in _core.registered_services().values():
            service.reset()
        if leftover:
            import warnings

            names = ", ".join(f"{thread.name} (started by {inv.function_name})" for thread, inv in leftover)
            warnings.warn(
                f"Threads started by function code are still running after stop(): {names}. The sandbox's fake "
                "credentials stay in os.environ so that they cannot use yours; call stop() again once they have "
                "ended to get your environment back (or restart the kernel).",
                RuntimeWarning,
                stacklevel=3,
            )
        else:
            self._restore_environment()
        import boto3

        boto3.DEFAULT_SESSION = None

    def _restore_environment(self) -> None:
        # a managed-prefix variable set while the sandbox ran (by function code, say) did not exist before
        for key in _managed_env_keys():
            self._saved_env.setdefault(key, None)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        stop() if self is _current else self.stop()

    # ---------------------------------------------------------------- boto3

    def saved_environment(self) -> dict[str, str | None]:
        """The variables the sandbox replaced, as they were before :meth:`start` (``None``: was unset).

        For programs the kit runs on the user's behalf outside the sandbox, such as
        pip building a project's dependencies with the user's proxy settings.
        """
        return dict(self._saved_env)

    def session(self):
        """A boto3 session in the sandbox's region (fake credentials)."""
        import boto3

        self._require_started()
        return _moto.share_model_loader(boto3.session.Session(region_name=self.region))

    def client(self, service_name: str, **kwargs: Any):
        """``boto3.client(service_name)`` in the sandbox's region."""
        import boto3

        self._require_started()
        kwargs.setdefault("region_name", self.region)
        return boto3.client(service_name, **kwargs)

    # ------------------------------------------------------ sandbox controls

    @property
    def clock(self):
        """The simulated clock (24-hour content window, rule timeouts, retries)."""
        return _core.STATE.clock

    def advance_clock(self, **kwargs: float):
        """Move the simulated clock forward, e.g. ``advance_clock(hours=25)``."""
        return self.clock.advance(**kwargs)

    def reset(self) -> None:
        """Back to an empty sandbox: no functions, buckets, organizations, messages or stand-ins."""
        self._require_started()
        _stand_ins.clear()
        _moto.reset_backends()  # every moto service, all accounts
        for service in _core.registered_services().values():
            service.reset()
        _core.STATE.clock = _fresh_clock()
        if self.runtime is not None:
            self.runtime.clear()

    @with_paused_gc  # deep copies of every service's state
    def snapshot(self) -> Snapshot:
        """Copy the whole state (moto services, emulators, clock) to restore later.

        A workshop can snapshot after a lesson's set-up and let a learner who
        fell behind catch up with :meth:`restore` in one call. Step Functions state
        machines (which run in moto's executing backend) are not part of a snapshot.
        """
        self._require_started()
        moto_state = {}
        for name in _MOTO_SERVICES:
            backends = _moto.backends(name, only_loaded=True)
            if backends is not None and self.account_id in backends:
                moto_state[name] = _moto.copy_account_backend(name, backends[self.account_id], keep_for_later=True)
        kept = _moto.snapshot_s3_models(moto_state["s3"]) if "s3" in moto_state else []
        snapshot = Snapshot(
            moto=moto_state,
            emulators={sid: s.snapshot() for sid, s in _core.registered_services().items()},
            clock=self.clock.now(),
            account_id=self.account_id,
            region=self.region,
        )
        # the finaliser holds the objects, not the snapshot: dropping the snapshot closes them
        snapshot._release = weakref.finalize(snapshot, _moto.release_kept_s3_models, kept)
        return snapshot

    @with_paused_gc
    def restore(self, snapshot: Snapshot) -> None:
        """Return to a :meth:`snapshot` (taken in this sandbox's account)."""
        self._require_started()
        if snapshot.account_id != self.account_id:
            raise SandboxError(
                f"That snapshot was taken in account {snapshot.account_id}, this sandbox is {self.account_id}.",
                fix="restore it in a sandbox started with the same account_id",
            )
        if snapshot.released:
            raise SandboxError(
                "That snapshot was released (by release(), or at the end of a with block): "
                "its S3 objects are gone.",
                fix="take a new snapshot in this sandbox",
            )
        _moto.reset_backends()
        for name in _MOTO_SERVICES:
            if name in snapshot.moto:
                backends = _moto.backends(name)
                backends[self.account_id] = _moto.copy_account_backend(name, snapshot.moto[name])
                _moto.register_backends(backends)  # unregistered, the next reset() would skip it
                if name == "s3":
                    _moto.register_buckets(self.account_id, backends[self.account_id])
        for sid, service in _core.registered_services().items():
            if sid in snapshot.emulators:
                service.restore(snapshot.emulators[sid])
            else:
                service.reset()
        self.clock.set(snapshot.clock)
        if self.runtime is not None:
            self.runtime.clear()

    # Mail in transit (the Message Flow API's side of a message) ------------------

    def _messageflow(self) -> Any:
        return _core.registered_services()["workmailmessageflow"].backend(self.account_id, self.region)

    def put_message_in_transit(
        self, message: bytes | str | os.PathLike, *, organization_id: str, direction: str = "INBOUND",
        redirected: bool | None = None,
    ) -> str:
        """Make a message reachable through GetRawMessageContent; returns its messageId.

        ``message`` is raw bytes or the path of an ``.eml`` file. Redirected mail
        (``Resent-*`` headers, or ``redirected=True``) cannot be updated.
        """
        self._require_started()
        if isinstance(message, bytes):
            raw = message
        else:
            with open(message, "rb") as fh:
                raw = fh.read()
        return self._messageflow().add_message(
            raw, organization_id=organization_id, direction=direction.upper(), redirected=redirected
        )

    def mark_redirected(self, message_id: str) -> None:
        """Treat a message as redirected: PutRawMessageContent then answers MessageFrozen."""
        self._require_started()
        self._messageflow().mark_redirected(message_id)

    def message_content(self, message_id: str) -> bytes:
        """The content delivery will use: the last update made during a synchronous invocation."""
        self._require_started()
        return self._messageflow().effective_content(message_id)

    def message_history(self, message_id: str) -> list[Any]:
        """Every PutRawMessageContent on a message, and whether it took effect."""
        self._require_started()
        return self._messageflow().history(message_id)

    # Stand-ins (docs/stand-ins.md): cleared by reset() and stop(); snapshot()/restore() do not carry them.
    def stand_in(self, service: str, operation: str, answer: Any) -> _stand_ins.StandIn:
        """Answer ``service.operation`` (method or API name) for every boto3 client, ahead of moto and the emulators.

        ``answer``: the response dict, a function of the request parameters, or ``stand_ins.client_error(...)``.
        """
        self._require_started()
        return _stand_ins.add(service, operation, answer)

    def stand_in_http(self, url_prefix: str, answer: Any) -> _stand_ins.HttpStandIn:
        """Answer HTTP(S) requests whose URL starts with ``url_prefix`` ({"status", "json" or "body", "headers"})."""
        self._require_started()
        return _stand_ins.add_http(url_prefix, answer)

    def stand_ins(self) -> list[_stand_ins.StandIn | _stand_ins.HttpStandIn]:
        """The stand-ins answering now, oldest first."""
        return _stand_ins.active()

    def stand_in_calls(self) -> list[_stand_ins.StandInCall]:
        """Every call a stand-in answered (AWS and HTTP), in order, since the last reset."""
        return _stand_ins.calls()

    def _require_started(self) -> None:
        if not self.started:
            raise SandboxError("The sandbox is not running.", fix="call workmail_sandbox.sandbox.start() first")

    def __repr__(self) -> str:
        state = "running" if self.started else "stopped"
        return f"<Sandbox {state} region={self.region} account={self.account_id}>"


def _fresh_clock() -> SimulatedClock:
    return SimulatedClock()


def _make_runtime() -> Runtime:
    """The local Lambda runtime (runs deployed functions' code in-process)."""
    # Imported on the first start, not with the package: the CLI's event and check
    # commands never run a function, and the runtime costs about 40 ms to import.
    from .lambda_runtime import Runtime

    return Runtime()


def start(
    region: str | None = None, *, account_id: str | None = None, mode: str | None = None,
    isolation: str | None = None,
) -> Sandbox:
    """Start the sandbox, or return the one already running in this process.

    Calling it again with the same settings is harmless; asking for another
    region or account while one runs is an error (stop it first). ``isolation``
    (also ``$WORKMAIL_SANDBOX_ISOLATION``): ``"in-process"`` (the default: fast, and
    what a handler written in a cell needs nothing for) or ``"process"`` (each
    function in worker processes of its own, docs/isolation.md).
    """
    running = current()
    sandbox = _start(region, account_id=account_id, mode=mode)
    # The environment variable sets up a sandbox this call starts; the argument a running one too.
    wanted = isolation or (os.environ.get("WORKMAIL_SANDBOX_ISOLATION") if sandbox is not running else None)
    if wanted and sandbox.runtime is not None:
        from .lambda_runtime.process import checked_isolation

        sandbox.runtime.isolation = checked_isolation(wanted)
    return sandbox


def _start(region: str | None = None, *, account_id: str | None = None, mode: str | None = None) -> Sandbox:
    global _current
    if get_mode(mode) == AWS:
        raise ConfigurationError(
            "start() runs the offline sandbox, but the mode is 'aws'.",
            fix="use workmail_sandbox.connect() for a real account, or unset WORKMAIL_SANDBOX_MODE",
        )
    with _lock:
        region = region or os.environ.get("WORKMAIL_SANDBOX_REGION") or DEFAULT_REGION
        if region not in WORKMAIL_REGIONS:
            check_region(region)  # raises the clear error
        if (_current is None or not _current.started) and _running is not None and _running.started:
            _current = _running  # started as Sandbox(...).start(): still the one sandbox of this process
        if _current is not None and _current.started:
            wanted_account = account_id or _current.account_id
            if (_current.region, _current.account_id) != (region, wanted_account):
                raise SandboxError(
                    f"A sandbox is already running in {_current.region} for account {_current.account_id}.",
                    fix="call workmail_sandbox.sandbox.stop() first, then start the one you want",
                )
            return _current
        _current = Sandbox(region, account_id or DEFAULT_ACCOUNT_ID).start()
        return _current


def stop() -> None:
    """Stop the running sandbox, if any (calling it twice is harmless)."""
    global _current
    with _lock:
        if _current is not None:
            _current.stop()
            if _current._saved_env:  # kept for threads function code left running: the next stop() restores it
                return
        _current = None


def current() -> Sandbox | None:
    """The running sandbox, or None."""
    if _current is not None and _current.started:
        return _current
    return _running if _running is not None and _running.started else None


@contextmanager
def sandbox(region: str | None = None, *, account_id: str | None = None) -> Iterator[Sandbox]:
    """``with sandbox() as sb:`` runs a block in a fresh sandbox and stops it afterwards."""
    already = current()
    sb = start(region, account_id=account_id)
    try:
        yield sb
    finally:
        if already is None:
            stop()


atexit.register(_moto.dispose_kept_s3_models)
