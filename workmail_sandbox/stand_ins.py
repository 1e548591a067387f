"""Stand-ins: your own answers for AWS operations and HTTP endpoints that nothing else answers offline.

moto and the kit's emulators cover the services a WorkMail function usually calls,
but a team's function may also call Amazon Translate, Comprehend, a secret it
expects to exist, or a third-party webhook. A stand-in answers such a call, so the
function's unmodified code runs in the sandbox::

    sb.stand_in("translate", "translate_text",
                {"TranslatedText": "Bonjour", "SourceLanguageCode": "en", "TargetLanguageCode": "fr"})
    sb.stand_in("secretsmanager", "GetSecretValue", lambda params: {"SecretString": "s3cr3t"})
    sb.stand_in_http("https://hooks.slack.example/services/", {"status": 200, "json": {"ok": True}})

An AWS stand-in answers ``service.operation`` for every boto3 client in the process
while the sandbox runs, function code included, ahead of moto and the kit's
emulators. Its answer is a dict (checked against botocore's output shape of the
operation when the stand-in is made), a callable given the request parameters, or
a botocore ``ClientError`` (:func:`client_error` makes one); whatever happens in a
callable, the caller gets an AWS-shaped answer (a bug is ``ClientError``
``StandInError``). It is a botocore ``before-call.*.*`` hook (registered at start,
see :func:`_moto.register_stand_in_hooks`) that answers instead of sending the request.

HTTP stand-ins (:mod:`workmail_sandbox._http_stand_ins`) answer requests whose URL
starts with a prefix, whichever of requests, urllib3, urllib.request or http.client
sends them; everything else still meets the network guard.

Every call is recorded (``stand_in.calls``, ``sb.stand_in_calls()``). Stand-ins are
cleared by ``sb.reset()`` and ``sb.stop()``; ``snapshot()`` / ``restore()`` do not carry
them. :func:`load_stand_ins` reads them from a YAML or Python file. docs/stand-ins.md
says what they cannot reach (subprocesses, C libraries, sockets made by hand).

One concept: the answers a team supplies for calls nothing in the sandbox answers. It
holds the AWS side whole (names checked against botocore's model, answers against the
operation's output shape, the hooks that answer) and the file format that declares both
kinds; the HTTP interceptions live beside it in ``_http_stand_ins``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import functools
import io
import itertools
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from . import _moto
from ._http_stand_ins import HttpRegistry, HttpRequest, HttpStandIn
from ._text_files import read_small_text_file
from ._yaml_limits import YAMLShapeError, load_without_aliases, yaml_error_text
from .errors import SandboxError

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from .sandbox import Sandbox

__all__ = [
    "MAX_STAND_IN_FILE_BYTES",
    "STAND_IN_ERROR_CODE",
    "HttpRequest",
    "HttpStandIn",
    "StandIn",
    "StandInCall",
    "client_error",
    "load_stand_ins",
]

#: The error code a caller gets when a stand-in's answer function fails or answers a wrong shape.
STAND_IN_ERROR_CODE = "StandInError"
#: Largest declaration file read (1 MiB; the kit's choice: answers are small, a file of them too).
MAX_STAND_IN_FILE_BYTES = 1024 * 1024
_MAX_YAML_DEPTH = 32
_PARAMS_KEY = "workmail_sandbox_stand_in_params"


@dataclass(eq=False)
class StandIn:
    """The answer to one AWS operation for every boto3 client in the process (see ``Sandbox.stand_in``)."""

    service: str  #: boto3's service name, e.g. "translate"
    operation: str  #: the API name, e.g. "TranslateText"
    answer: Any = field(repr=False)
    #: The request parameters of every call it answered, in order (as the caller passed them).
    calls: list[dict[str, Any]] = field(default_factory=list, repr=False)
    active: bool = True
    _sequence: int = field(default=0, repr=False)

    @property
    def method_name(self) -> str:
        """The boto3 method, e.g. ``translate_text``."""
        return str(xform_name(self.operation))

    @property
    def target(self) -> str:
        """``service.Operation``, as errors and the sandbox's call list name it."""
        return f"{self.service}.{self.operation}"

    def remove(self) -> None:
        """Stop answering: the operation goes back to moto, the emulators, or NotImplemented."""
        with _LOCK:
            if _AWS.get((self.service, self.operation)) is self:
                del _AWS[(self.service, self.operation)]
            self.active = False


@dataclass(frozen=True)
class StandInCall:
    """One call a stand-in answered: the stand-in, and the request (parameters, or an HttpRequest)."""

    stand_in: StandIn | HttpStandIn
    request: dict[str, Any] | HttpRequest

    @property
    def target(self) -> str:
        return self.stand_in.target


_LOCK = threading.RLock()
_AWS: dict[tuple[str, str], StandIn] = {}
_LOG: list[StandInCall] = []
_SEQUENCE = itertools.count(1)


def _record(stand_in: StandIn | HttpStandIn, request: dict[str, Any] | HttpRequest) -> None:
    with _LOCK:
        _LOG.append(StandInCall(stand_in, request))


_HTTP = HttpRegistry(on_call=_record)


# the sandbox's side -----------------------------------------------------------------------------


def install() -> None:
    """Put the botocore hooks in (the sandbox calls it on start, before any session is made)."""
    _moto.register_stand_in_hooks(_keep_params, _answer)


def add(service: str, operation: str, answer: Any) -> StandIn:
    """A stand-in for ``service.operation`` (a later one for the same operation replaces it)."""
    prepared = _prepare(service, operation, answer)
    return _register(prepared)


def add_http(url_prefix: str, answer: Any) -> HttpStandIn:
    """An HTTP stand-in for every URL starting with ``url_prefix``."""
    return _HTTP.add(url_prefix, answer, next(_SEQUENCE))


def active() -> list[StandIn | HttpStandIn]:
    """Every stand-in answering now, oldest first."""
    with _LOCK:
        found: list[StandIn | HttpStandIn] = [*_AWS.values(), *_HTTP.stand_ins()]
    return sorted(found, key=lambda s: s._sequence)


def http_active() -> bool:
    """Are HTTP stand-ins answering now? (They answer in this process only, not in worker processes.)"""
    with _LOCK:
        return bool(_HTTP.stand_ins())


def calls() -> list[StandInCall]:
    """Every call any stand-in answered since the last clear, in order."""
    with _LOCK:
        return list(_LOG)


def clear() -> None:
    """Remove every stand-in and forget their calls (reset() and stop() call it)."""
    with _LOCK:
        for stand_in in _AWS.values():
            stand_in.active = False
        _AWS.clear()
        _LOG.clear()
    _HTTP.clear()


# checking a stand-in -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _botocore_session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.lru_cache(maxsize=64)
def _service_model(service: str) -> Any:
    return _botocore_session().get_service_model(service)


def _close(value: str, choices: list[str]) -> str:
    found = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
    lowered = [c for c in choices if c.lower() == value.lower().replace("-", "").replace("_", "")]
    found = list(dict.fromkeys([*lowered, *found]))
    return f" (did you mean {', '.join(repr(f) for f in found)}?)" if found else ""


def operation_model(service: str, operation: str) -> Any:
    """botocore's OperationModel for a boto3 service name and a method or API name; SandboxError if unknown."""
    import botocore

    if not isinstance(service, str) or not isinstance(operation, str):
        raise SandboxError(
            f"A stand-in needs a service and an operation as text, got {service!r} and {operation!r}.",
            fix="e.g. sb.stand_in('translate', 'translate_text', {...})",
        )
    services = _botocore_session().get_available_services()
    if service not in services:
        raise SandboxError(
            f"botocore {botocore.__version__} has no service {service!r}{_close(service, services)}.",
            fix="use the name boto3.client() takes, e.g. 'translate', 'secretsmanager', 'comprehend'",
        )
    model = _service_model(service)
    names = list(model.operation_names)
    by_method = {xform_name(name): name for name in names}
    api_name = operation if operation in names else by_method.get(operation)
    if api_name is None:
        raise SandboxError(
            f"{service} has no operation {operation!r}{_close(operation, [*by_method, *names])}.",
            fix=f"use a boto3 method of the {service} client (e.g. {next(iter(by_method))!r}) or its API name",
        )
    return model.operation_model(api_name)


@dataclass
class _Prepared:
    service: str
    operation: str
    answer: Any


def _prepare(service: str, operation: str, answer: Any) -> _Prepared:
    """Check a stand-in without making it: names, and a dict answer against the output shape."""
    model = operation_model(service, operation)
    target = f"{service}.{model.name}"
    if model.has_event_stream_output:
        raise SandboxError(
            f"{target} answers an event stream, which a stand-in cannot give.",
            fix="stand in for the operation without a stream, or keep this call out of the sandbox run",
        )
    if isinstance(answer, ClientError):
        _error_parts(answer)
    elif isinstance(answer, Mapping):
        _output(dict(answer), model, target)  # raises on a key or type the shape does not allow
    elif not callable(answer):
        raise SandboxError(
            f"The stand-in for {target} got {type(answer).__name__} as its answer.",
            fix="pass the response as a dict, a function given the request parameters, or stand_ins.client_error(...)",
        )
    return _Prepared(service, model.name, answer)


def _register(prepared: _Prepared) -> StandIn:
    stand_in = StandIn(prepared.service, prepared.operation, prepared.answer, _sequence=next(_SEQUENCE))
    with _LOCK:
        old = _AWS.get((stand_in.service, stand_in.operation))
        if old is not None:
            old.active = False
        _AWS[(stand_in.service, stand_in.operation)] = stand_in
    return stand_in


class _ShapeError(Exception):
    def __init__(self, path: str, problem: str, fix: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.fix = fix


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "long": "a whole number",
    "float": "a number",
    "double": "a number",
    "boolean": "true or false",
    "timestamp": "a datetime (or ISO 8601 text)",
    "blob": "bytes (or text)",
    "list": "a list",
    "map": "a dict",
    "structure": "a dict",
}


def _names(names: list[str]) -> str:
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")


def _shape_value(value: Any, shape: Any, path: str, streaming: bool = False, streamed_member: str | None = None) -> Any:
    """``value`` checked against a botocore output shape, converted as botocore's parser would give it."""
    kind = shape.type_name
    wrong = _ShapeError(
        path,
        f"must be {_TYPE_WORDS.get(kind, kind)} ({shape.name}), got {type(value).__name__} {_short(value)}",
        f"give {path or 'it'} {_TYPE_WORDS.get(kind, kind)}",
    )
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return copy.deepcopy(value)
        if not isinstance(value, Mapping):
            raise wrong
        members = shape.members
        converted = {}
        for key, item in value.items():
            if key not in members:
                hint = _close(str(key), list(members))
                raise _ShapeError(
                    f"{path}.{key}" if path else str(key),
                    f"is not part of {shape.name}{hint}",
                    f"use only the keys of {shape.name}: {_names(list(members)) or '(none)'}",
                )
            where = f"{path}.{key}" if path else str(key)
            converted[key] = _shape_value(item, members[key], where, streaming=key == streamed_member)
        missing = [name for name in shape.required_members if name not in value]
        if missing:
            raise _ShapeError(
                path,
                f"{shape.name} lacks {', '.join(missing)}, which AWS always returns",
                f"add {', '.join(missing)} to the answer",
            )
        return converted
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            raise wrong
        return [_shape_value(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, Mapping):
            raise wrong
        return {str(k): _shape_value(v, shape.value, f"{path}[{k!r}]") for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            raise wrong
        return value
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong
        return value
    if kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise wrong
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise wrong
        return value
    if kind == "timestamp":
        return _timestamp(value, wrong)
    if kind == "blob":
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, (bytes, bytearray)):
            raise wrong
        if streaming:
            from botocore.response import StreamingBody

            return StreamingBody(io.BytesIO(bytes(value)), len(value))
        return bytes(value)
    return copy.deepcopy(value)  # pragma: no cover - a shape type botocore does not have yet


def _timestamp(value: Any, wrong: _ShapeError) -> _dt.datetime:
    from botocore.utils import parse_timestamp

    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.UTC)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            return parse_timestamp(value)
        except (ValueError, TypeError, OverflowError):
            raise wrong from None
    raise wrong


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _output(answer: dict[str, Any], model: Any, target: str) -> dict[str, Any]:
    """The parsed response botocore would give for ``answer``; SandboxError naming the key path if it cannot."""
    answer = {key: value for key, value in answer.items() if key != "ResponseMetadata"}
    shape = model.output_shape
    try:
        if shape is None:
            if answer:
                raise _ShapeError(next(iter(answer)), f"{model.name} returns nothing", "answer {}")
            return {}
        streamed = shape.serialization.get("payload") if model.get_streaming_output() is not None else None
        return dict(_shape_value(answer, shape, "", streamed_member=streamed))
    except _ShapeError as error:
        raise SandboxError(f"The {target} stand-in's answer: {error}.", fix=error.fix) from None


# answering a call ---------------------------------------------------------------------------------


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Any:
        while chunk := self.read(8192):
            yield chunk


def _copy(params: Any) -> Any:
    """A copy of the caller's parameters that later changes cannot reach (a file object is kept as it is)."""
    if isinstance(params, Mapping):
        return {key: _copy(value) for key, value in params.items()}
    if isinstance(params, list):
        return [_copy(value) for value in params]
    try:
        return copy.deepcopy(params)
    except Exception:  # noqa: BLE001 - an object that cannot be copied (an open file) is recorded as it is
        return params


def _keep_params(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """before-parameter-build.*.*: keep the caller's parameters for the stand-in (if there is one)."""
    if _AWS and (model.service_model.service_name, model.name) in _AWS:
        context[_PARAMS_KEY] = _copy(params)


def _answer(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
    """before-call.*.*: a stand-in's ``(http response, parsed response)``, or None to let the call go on."""
    if not _AWS:
        return None
    stand_in = _AWS.get((model.service_model.service_name, model.name))
    if stand_in is None:
        return None
    request = context.pop(_PARAMS_KEY, {})
    stand_in.calls.append(request)
    _record(stand_in, request)
    url = params.get("url", "") if isinstance(params, Mapping) else ""
    try:
        answer = stand_in.answer(_copy(request)) if callable(stand_in.answer) else stand_in.answer
        if isinstance(answer, ClientError):
            raise answer
        if not isinstance(answer, Mapping):
            raise SandboxError(
                f"The {stand_in.target} stand-in's answer function returned {type(answer).__name__}, not a dict.",
                fix="return the response as a dict, or raise stand_ins.client_error(...)",
            )
        parsed = _output(dict(answer), model, stand_in.target)
    except ClientError as error:
        code, message, status, fields = _error_parts(error)
        return _error(model, url, code, status, message, fields)
    except Exception as error:  # noqa: BLE001 - inside function code every AWS call gets an AWS-shaped answer
        if not isinstance(error, SandboxError):
            error = SandboxError(
                f"The {stand_in.target} stand-in's answer function raised {type(error).__name__}: {error}.",
                fix="correct the function given to sb.stand_in (it is given the request parameters as a dict)",
            )
        return _error(model, url, STAND_IN_ERROR_CODE, 500, str(error), {})
    return _response(url, 200, parsed)


def _response(url: str, status: int, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-requestid": request_id, "x-workmail-sandbox-stand-in": "true"}
    body["ResponseMetadata"] = {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": headers,
        "RetryAttempts": 0,
    }
    return AWSResponse(url, status, headers, _Body(b"")), body


def _error_parts(error: ClientError) -> tuple[str, str, int, dict[str, Any]]:
    response = error.response if isinstance(getattr(error, "response", None), Mapping) else {}
    details = response.get("Error") or {}
    code = str(details.get("Code") or STAND_IN_ERROR_CODE)
    message = str(details.get("Message") or "")
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 300 <= status <= 599:
        status = 400
    fields = {k: v for k, v in response.items() if k not in ("Error", "ResponseMetadata")}
    return code, message, status, fields


def _error(model: Any, url: str, code: str, status: int, message: str, fields: dict[str, Any]) -> Any:
    body: dict[str, Any] = {"Error": {"Code": code, "Message": message}}
    # botocore copies a modelled error's members into the parsed error: "message" or "Message"
    shape = next((e for e in getattr(model, "error_shapes", []) if e.name == code), None)
    member = next((m for m in getattr(shape, "members", {}) if m.lower() == "message"), None)
    if member:
        body[member] = message
    body.update(_copy(fields))
    return _response(url, status, body)


def client_error(code: str, message: str, status: int = 400, **fields: Any) -> ClientError:
    """An AWS error for a stand-in to answer (as its answer) or raise (from its answer function).

    The caller gets it as botocore raises that error for the operation called: the
    modelled exception class when the operation has one (``client.exceptions.
    ResourceNotFoundException``), with ``Error.Code``, ``Error.Message``, the HTTP
    ``status`` and any extra top-level ``fields``.
    """
    if not isinstance(code, str) or not code or not isinstance(message, str):
        raise SandboxError(
            f"client_error needs an error code and a message as text, got {code!r} and {message!r}.",
            fix="e.g. client_error('ResourceNotFoundException', 'Secret not found')",
        )
    if not isinstance(status, int) or isinstance(status, bool) or not 300 <= status <= 599:
        raise SandboxError(f"client_error status must be an HTTP error status, got {status!r}.", fix="use 400 to 599")
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}, **fields},
        "StandIn",
    )


# declaration files --------------------------------------------------------------------------------

_TOP_KEYS = ("stand_ins", "http")
_AWS_KEYS = ("service", "operation", "answer", "error")
_ERROR_KEYS = ("code", "message", "status")
_HTTP_KEYS = ("url", "status", "json", "body", "headers")


def load_stand_ins(path: str | Path, sandbox: Sandbox) -> list[StandIn | HttpStandIn]:
    """Make the stand-ins a YAML file (``stand_ins:`` and ``http:`` lists) or a Python file declares.

    A Python file defines ``def stand_ins(sandbox): ...`` and calls ``sandbox.stand_in``
    and ``sandbox.stand_in_http`` itself. Nothing is made when the file has an error
    (a Python file's stand-ins made before it failed are removed). Returns the stand-ins
    made, in order.
    """
    p = Path(path)
    if not getattr(sandbox, "started", False):
        raise SandboxError(f"{p}: stand-ins need a running sandbox.", fix="start it first (workmail_sandbox.start())")
    suffix = p.suffix.lower()
    if suffix not in (".yaml", ".yml", ".py"):
        raise SandboxError(
            f"{p}: stand-in files are .yaml, .yml or .py, got {suffix or 'no extension'!r}.",
            fix="rename it, matching its content",
        )
    text = _read_bounded(p)
    if suffix == ".py":
        return _load_python(p, sandbox)
    return _load_yaml(p, text)


def _read_bounded(p: Path) -> str:
    return read_small_text_file(
        p,
        MAX_STAND_IN_FILE_BYTES,
        SandboxError,
        kind="a stand-in file",
        fix_missing="check the path",
        fix_not_regular="name a .yaml or .py file",
        fix_too_large="check that this is the right file; split large answers into a Python file that reads them",
    )


def _load_python(p: Path, sandbox: Sandbox) -> list[StandIn | HttpStandIn]:
    import runpy

    try:
        namespace = runpy.run_path(str(p), run_name="workmail_sandbox_stand_ins")
    except SyntaxError as error:
        raise SandboxError(
            f"{p}: invalid Python (line {error.lineno}: {error.msg}).", fix="fix the syntax there"
        ) from None
    except Exception as error:  # noqa: BLE001 - any failure while running the file is reported as one line
        raise SandboxError(
            f"{p}: running the file raised {type(error).__name__}: {error}.",
            fix="fix the file; it should only define stand_ins(sandbox)",
        ) from None
    declare = namespace.get("stand_ins")
    if not callable(declare):
        raise SandboxError(
            f"{p}: the file defines no function stand_ins(sandbox).",
            fix="add def stand_ins(sandbox): ... that calls sandbox.stand_in(...)",
        )
    start = next(_SEQUENCE)
    try:
        declare(sandbox)
    except Exception as error:  # noqa: BLE001 - the file's error, one line naming it
        for made in [s for s in active() if s._sequence > start]:
            made.remove()
        if isinstance(error, SandboxError):
            raise SandboxError(f"{p}: stand_ins(sandbox): {error.problem}", fix=error.fix) from None
        raise SandboxError(
            f"{p}: stand_ins(sandbox) raised {type(error).__name__}: {error}.", fix="fix the function in that file"
        ) from None
    return [s for s in active() if s._sequence > start]


def _load_yaml(p: Path, text: str) -> list[StandIn | HttpStandIn]:
    data = _parse_yaml(p, text)
    if isinstance(data, Mapping):
        _check_keys(data, _TOP_KEYS, str(p))
    if not isinstance(data, Mapping) or not any(data.get(key) for key in _TOP_KEYS):
        raise SandboxError(
            f"{p}: the file declares no stand-ins.",
            fix="write stand_ins: [{service: ..., operation: ..., answer: {...}}] and/or http: [{url: ...}]",
        )
    prepared: list[_Prepared] = []
    for index, entry in enumerate(_entries(data, "stand_ins", p)):
        where = f"{p}: stand_ins[{index}]"
        _check_keys(entry, _AWS_KEYS, where)
        if ("answer" in entry) == ("error" in entry):
            raise SandboxError(
                f"{where}: give either answer or error.",
                fix="answer: {...the response...} or error: {code: ..., message: ...}",
            )
        try:
            answer = entry.get("answer")
            if "error" in entry:
                answer = _error_from(entry["error"], where)
            prepared.append(_prepare(entry.get("service"), entry.get("operation"), answer))  # type: ignore[arg-type]  # checked there
        except SandboxError as error:
            raise SandboxError(f"{where}: {error.problem}", fix=error.fix) from None
    http_entries: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(_entries(data, "http", p)):
        where = f"{p}: http[{index}]"
        _check_keys(entry, _HTTP_KEYS, where)
        url = entry.get("url")
        answer = {key: entry[key] for key in _HTTP_KEYS if key in entry and key != "url"}
        try:
            from ._http_stand_ins import check_http_answer, normalise_prefix

            normalise_prefix(url)
            check_http_answer(answer, f"http[{index}]")
        except SandboxError as error:
            raise SandboxError(f"{where}: {error.problem}", fix=error.fix) from None
        http_entries.append((str(url), answer))
    made: list[StandIn | HttpStandIn] = [_register(item) for item in prepared]
    made.extend(add_http(url, answer) for url, answer in http_entries)
    return made


def _entries(data: Mapping[str, Any], key: str, p: Path) -> list[Mapping[str, Any]]:
    entries = data.get(key) or []
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise SandboxError(f"{p}: {key} must be a list of mappings.", fix=f"write {key}: then '- key: value' items")
    return entries


def _error_from(error: Any, where: str) -> ClientError:
    if not isinstance(error, Mapping):
        raise SandboxError(f"{where}: error must be a mapping.", fix="write error: {code: ..., message: ...}")
    _check_keys(error, _ERROR_KEYS, f"{where}.error")
    return client_error(error.get("code"), str(error.get("message", "")), error.get("status", 400))  # type: ignore[arg-type]  # checked there


def _check_keys(data: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in known:
            raise SandboxError(
                f"{where}: unknown key {key!r}{_close(str(key), list(known))}.", fix=f"use only {', '.join(known)}"
            )


def _parse_yaml(p: Path, text: str) -> Any:
    """``yaml.safe_load`` after refusing aliases and deep nesting (as rule files are read)."""
    import yaml

    try:
        return load_without_aliases(text, max_depth=_MAX_YAML_DEPTH)
    except YAMLShapeError as error:
        if error.kind == "alias":
            raise SandboxError(
                f"{p}: YAML anchors and aliases (&name, *name) are not allowed ({error.where}).",
                fix="write each value out",
            ) from None
        raise SandboxError(
            f"{p}: the YAML nests more than {_MAX_YAML_DEPTH} levels deep ({error.where}).",
            fix="flatten the answer, or build it in a Python stand-in file",
        ) from None
    except yaml.YAMLError as error:
        raise SandboxError(
            f"{p}: not valid YAML ({yaml_error_text(error)}).",
            fix="fix the YAML there (indentation and ':' after each key are the usual causes)",
        ) from None
