"""Check emulated responses and errors against botocore's own service models.

Generic helpers for every emulator's tests (the botocore Stubber idea: fakes may
only answer what the real service model allows)::

    assert_matches_output_shape("workmailmessageflow", "GetRawMessageContent", response)
    assert_error_code_modeled("workmailmessageflow", "PutRawMessageContent", "MessageFrozen")

``response`` is what the boto3 client returned (``ResponseMetadata`` is ignored)
or what an emulator's responses method returned. Every key must be a member of
the output shape, every required member present and every value of the shape's
type: structure -> dict, list -> list, map -> dict, string -> str (and one of
the enum values when the shape has an enum), integer/long -> int, boolean ->
bool, float/double -> int or float, timestamp -> datetime, blob -> bytes (a
streaming blob -> an object with ``read()``, e.g. ``StreamingBody``).
"""

from __future__ import annotations

import datetime as _dt
from functools import cache
from typing import Any

import botocore.session

__all__ = ["assert_error_code_modeled", "assert_matches_output_shape", "modeled_error_codes", "shape_problems"]


@cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def _operation_model(service: str, operation: str) -> Any:
    model = _service_model(service)
    if operation not in model.operation_names:
        raise AssertionError(f"{service} has no operation {operation!r}; it has {', '.join(model.operation_names)}")
    return model.operation_model(operation)


def _type_name(value: Any) -> str:
    return type(value).__name__


def shape_problems(shape: Any, value: Any, path: str = "response") -> list[str]:
    """Every way ``value`` differs from botocore ``shape`` (empty when it matches)."""
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False) or shape.metadata.get("document"):
            return []
        if not isinstance(value, dict):
            return [f"{path}: expected a dict for structure {shape.name}, got {_type_name(value)}"]
        problems: list[str] = []
        members = shape.members
        for key, item in value.items():
            if path == "response" and key == "ResponseMetadata":
                continue
            if key not in members:
                problems.append(f"{path}: {key!r} is not a member of {shape.name} (members: {', '.join(members) or 'none'})")
                continue
            problems += shape_problems(members[key], item, f"{path}.{key}")
        for key in shape.required_members:
            if key not in value:
                problems.append(f"{path}: required member {key!r} of {shape.name} is missing")
        if shape.metadata.get("union") and len([k for k in value if k != "ResponseMetadata"]) != 1:
            problems.append(f"{path}: union {shape.name} must have exactly one member set, has {sorted(value)}")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list for {shape.name}, got {_type_name(value)}"]
        out: list[str] = []
        for i, item in enumerate(value):
            out += shape_problems(shape.member, item, f"{path}[{i}]")
        return out
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a dict for map {shape.name}, got {_type_name(value)}"]
        out = []
        for key, item in value.items():
            out += shape_problems(shape.key, key, f"{path}<key {key!r}>")
            out += shape_problems(shape.value, item, f"{path}[{key!r}]")
        return out
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a str for {shape.name}, got {_type_name(value)}"]
        enum = shape.enum
        if enum and value not in enum:
            return [f"{path}: {value!r} is not one of {shape.name}'s values {list(enum)}"]
        return []
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: expected an int for {shape.name}, got {_type_name(value)}"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a bool for {shape.name}, got {_type_name(value)}"]
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [f"{path}: expected a number for {shape.name}, got {_type_name(value)}"]
        return []
    if kind == "timestamp":
        if not isinstance(value, _dt.datetime):
            return [f"{path}: expected a datetime for timestamp {shape.name}, got {_type_name(value)}"]
        return []
    if kind == "blob":
        streaming = shape.serialization.get("streaming") or shape.metadata.get("streaming")
        if streaming or getattr(shape, "serialization", {}).get("eventstream"):
            if not callable(getattr(value, "read", None)):
                return [f"{path}: expected a stream with read() for streaming blob {shape.name}, got {_type_name(value)}"]
            return []
        if isinstance(value, (bytes, bytearray)) or callable(getattr(value, "read", None)):
            return []
        return [f"{path}: expected bytes for blob {shape.name}, got {_type_name(value)}"]
    return [f"{path}: shape type {kind!r} of {shape.name} is not checked by botocore_shapes.py"]


def assert_matches_output_shape(service: str, operation: str, response: dict[str, Any]) -> None:
    """Fail unless ``response`` fits ``operation``'s output shape in botocore's model."""
    op = _operation_model(service, operation)
    shape = op.output_shape
    if shape is None:
        extra = [k for k in response if k != "ResponseMetadata"]
        assert not extra, f"{service}.{operation} has no output shape, but the response has {extra}"
        return
    problems = shape_problems(shape, response)
    assert not problems, f"{service}.{operation} output does not match botocore's model:\n  " + "\n  ".join(problems)


def modeled_error_codes(service: str, operation: str) -> list[str]:
    """The error codes botocore lists for ``operation`` (its ``error_shapes``)."""
    op = _operation_model(service, operation)
    return [s.metadata.get("error", {}).get("code", s.name) for s in op.error_shapes]


def assert_error_code_modeled(service: str, operation: str, code: str) -> None:
    """Fail unless ``code`` is one of the errors botocore lists for ``operation``."""
    codes = modeled_error_codes(service, operation)
    assert code in codes, f"{service}.{operation} does not list error {code!r}; botocore lists {codes}"
