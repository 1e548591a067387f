"""How the emulators answer real boto3 calls: botocore's public event hooks.

moto has no ``workmail``, ``workmailmessageflow`` or ``serverlessrepo``. The kit
answers them in-process, for every client in the process (including the clients a
function's own code creates), by adding two handlers to botocore's built-in
handler list, the way ``botocore.stub.Stubber`` does for one client:

* ``before-parameter-build.<service>`` keeps a copy of the caller's parameters
  (already checked by botocore against the service model) in the request context;
* ``before-call.<service>`` returns ``(http_response, parsed_response)``, which
  botocore uses instead of sending a request. Errors come back as botocore
  builds them (``ClientError`` subclasses such as
  ``client.exceptions.ResourceNotFoundException``). An operation without an
  emulation answers ``NotImplemented`` (HTTP 501), a plain ``ClientError``
  naming the service, the operation and docs/coverage.md.

Why ``before-call`` rather than ``before-send``: the request is never serialised
or signed and the answer never parsed, so nothing can drift between our wire
format and botocore's, and a call costs a few microseconds. The output is still
checked against botocore's output shapes, in the tests.

While the sandbox is not active the handlers step aside, except for one rule: a
request signed with the sandbox's fake credentials is refused, so a client made
inside the sandbox can never reach AWS after the sandbox stops.

Each service is split as moto splits one: ``models.py`` (state and rules, no
HTTP), ``responses.py`` (one method per operation: parameters in, dict out),
``exceptions.py`` (one class per AWS error code).
"""

from __future__ import annotations

import copy
import io
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name
from botocore.awsrequest import AWSResponse

from .. import _moto
from ..clock import SimulatedClock
from ..errors import SandboxError

__all__ = [
    "AWSError",
    "NOT_EMULATED_CODE",
    "NOT_EMULATED_STATUS",
    "EmulatedService",
    "SANDBOX_ACCESS_KEYS",
    "STATE",
    "SandboxState",
    "register",
    "registered_services",
]

#: Access keys that only ever exist inside the sandbox (ours and moto's).
SANDBOX_ACCESS_KEYS = ("AKIAWORKMAILSANDBOX0", "FOOBARKEY")
_PARAMS_KEY = "workmail_sandbox_params"


#: The error an operation the sandbox does not emulate answers (S3 answers unsupported features so).
NOT_EMULATED_CODE = "NotImplemented"
NOT_EMULATED_STATUS = 501


def not_emulated_message(service_name: str, operation_name: str) -> str:
    """The NotImplemented message for an operation of an emulated service that has no emulation."""
    return (
        f"workmail-sandbox does not emulate {service_name}.{operation_name} yet "
        f"(docs/coverage.md lists the {service_name} operations it emulates). "
        "Fix: run this call against a real AWS account (aws mode), or keep it out of the code you run in the sandbox."
    )


class AWSError(Exception):
    """An AWS error, as the service reports it: code, message, HTTP status."""

    code = "ServiceException"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields


@dataclass
class SandboxState:
    """What the emulators need to know about the running sandbox."""

    active: bool = False
    account_id: str = "123456789012"
    clock: SimulatedClock = field(default_factory=SimulatedClock)
    #: Set once a sandbox has run in this process (aws mode then needs a restart).
    ever_started: bool = False


STATE = SandboxState()


class EmulatedService:
    """One emulated AWS service: per-(account, region) backends and the dispatcher."""

    def __init__(
        self,
        service_id: str,
        backend_factory: Callable[[str, str], Any],
        responses: Any,
        *,
        regions: tuple[str, ...] | None = None,
    ) -> None:
        self.service_id = service_id  # botocore's hyphenised service id, as in event names
        self.backend_factory = backend_factory
        self.responses = responses
        self.regions = regions
        self.backends: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()

    # State ------------------------------------------------------------------

    def backend(self, account_id: str, region: str) -> Any:
        with self._lock:
            key = (account_id, region)
            if key not in self.backends:
                self.backends[key] = self.backend_factory(account_id, region)
            return self.backends[key]

    def reset(self) -> None:
        with self._lock:
            self.backends.clear()

    def snapshot(self) -> dict[tuple[str, str], Any]:
        with self._lock:
            return copy.deepcopy(self.backends)

    def restore(self, snapshot: dict[tuple[str, str], Any]) -> None:
        with self._lock:
            self.backends = copy.deepcopy(snapshot)

    # Dispatch ----------------------------------------------------------------

    def operations(self) -> list[str]:
        """Operation names (boto3 style) this emulator answers."""
        return sorted(n for n in dir(self.responses) if not n.startswith("_") and callable(getattr(self.responses, n)))

    def handle(
        self, operation_name: str, params: dict[str, Any], region: str, model: Any = None
    ) -> tuple[int, dict[str, Any]]:
        method = getattr(self.responses, xform_name(operation_name), None)
        if method is None:
            service_name = getattr(getattr(model, "service_model", None), "service_name", self.service_id)
            return NOT_EMULATED_STATUS, {
                "Error": {"Code": NOT_EMULATED_CODE, "Message": not_emulated_message(service_name, operation_name)}
            }
        if self.regions is not None and region not in self.regions:
            raise SandboxError(
                f"{self.service_id} is not offered in region {region!r}; it runs in {', '.join(self.regions)}.",
                fix=f"create the client with region_name='{self.regions[0]}'",
            )
        backend = self.backend(STATE.account_id, region)
        try:
            return 200, method(backend, params) or {}
        except AWSError as error:
            body: dict[str, Any] = {"Error": {"Code": error.code, "Message": error.message}}
            # botocore copies an error shape's members into the parsed error; the
            # message member is spelt "message" or "Message" depending on the service.
            shape = next((e for e in getattr(model, "error_shapes", []) if e.name == error.code), None)
            member = next((m for m in getattr(shape, "members", {}) if m.lower() == "message"), None)
            if member:
                body[member] = error.message
            body.update(error.fields)
            return error.status, body


_SERVICES: dict[str, EmulatedService] = {}


def register(service: EmulatedService) -> EmulatedService:
    """Make an emulated service answer boto3 calls while the sandbox is active."""
    _SERVICES[service.service_id] = service
    return service


def registered_services() -> dict[str, EmulatedService]:
    return dict(_SERVICES)


# botocore hooks ------------------------------------------------------------------


class ResponseBody(io.BytesIO):
    """A raw HTTP body botocore can read and stream."""

    def stream(self, **_: Any):
        while chunk := self.read(8192):
            yield chunk


#: Parameter values a shallow copy keeps as safely as a deep one (nothing in them can be changed later).
_IMMUTABLE = (str, bytes, int, float, bool, type(None))


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if STATE.active:
        # Most calls (GetRawMessageContent's messageId, ...) carry only strings and numbers: a shallow copy is
        # the same copy without deepcopy's per-object bookkeeping.
        flat = all(type(v) in _IMMUTABLE for v in params.values())
        context[_PARAMS_KEY] = dict(params) if flat else copy.deepcopy(params)


def _answer(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
    if not STATE.active:
        return None
    service_id = model.service_model.service_id.hyphenize()
    service = _SERVICES.get(service_id)
    if service is None:  # pragma: no cover - only registered services get the hook
        return None
    region = context.get("client_region") or "us-east-1"
    status, body = service.handle(model.name, context.get(_PARAMS_KEY, {}), region, model)
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-requestid": request_id, "content-type": "application/json"}
    body["ResponseMetadata"] = {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": headers,
        "RetryAttempts": 0,
    }
    http = AWSResponse(params.get("url", ""), status, headers, ResponseBody(b""))
    return http, body


def _refuse_sandbox_credentials(request: Any, **_: Any) -> None:
    """After the sandbox stops, a client made inside it still holds fake keys: refuse."""
    if STATE.active or _moto_is_mocking():
        return None  # moto answers this request in-process
    auth = request.headers.get("Authorization", b"")
    auth = auth.decode("latin-1") if isinstance(auth, bytes) else str(auth)
    if any(f"Credential={key}/" in auth for key in SANDBOX_ACCESS_KEYS):
        raise SandboxError(
            f"This boto3 client was created inside the sandbox and still holds its fake credentials; "
            f"it was stopped from sending a request to {request.url.split('?')[0]}.",
            fix="create a new client (boto3.client(...)) now that the sandbox is stopped",
        )
    return None


def _moto_is_mocking() -> bool:
    """True while some moto mock (ours or a test's own mock_aws) intercepts requests."""
    return _moto.is_mocking()


def install_hooks(service_ids: list[str]) -> None:
    """Add the handlers to botocore's built-in list (every new session gets them).

    Besides the emulated services' hooks: the fake-credential guard, and the
    ``needs-retry`` hook that answers what moto does not implement with
    botocore's ``ClientError`` ``NotImplemented`` (HTTP 501; :func:`_moto.moto_gap_as_client_error`).
    """
    for service_id in service_ids:
        _moto.register_builtin_handler(f"before-parameter-build.{service_id}", _keep_params)
        _moto.register_builtin_handler(f"before-call.{service_id}", _answer)
    _moto.register_builtin_handler("before-send", _refuse_sandbox_credentials)
    # moto's own gaps (an action or a whole service it lacks) become ClientError NotImplemented
    _moto.register_builtin_handler("needs-retry", _moto.moto_gap_as_client_error)
