"""Checking a raw event against every documented rule: :func:`check_event`.

Each broken rule is an :class:`EventProblem` naming the JSON path, so a test
or a widget can list them all instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._dict_view import DictView
from .schema import (
    FLOW_DIRECTIONS,
    KNOWN_SUMMARY_VERSIONS,
    LATER_FIELDS,
    MESSAGE_ID_PATTERN,
    PAYLOAD_LIMIT_BYTES,
    SUBJECT_LIMIT_CHARS,
    TOP_LEVEL_FIELDS,
)
from .serialization import payload_size

__all__ = ["EventProblem", "check_event"]


@dataclass(frozen=True)
class EventProblem:
    """One documented rule an event breaks: the JSON path and the rule."""

    field: str
    rule: str
    fix: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}" + (f" Fix: {self.fix}" if self.fix else "")


def _address_problem(path: str, value: Any) -> EventProblem | None:
    if not isinstance(value, Mapping):
        return EventProblem(path, f'must be an object {{"address": "..."}}, got {type(value).__name__}')
    address = value.get("address")
    if not isinstance(address, str):
        return EventProblem(f"{path}.address", f"must be a string, got {type(address).__name__}")
    if "@" not in address:
        return EventProblem(f"{path}.address", f"must be an email address, got {address!r}")
    if not _is_valid_unicode(address):
        return EventProblem(f"{path}.address", "contains characters that are not valid Unicode (lone surrogates)")
    return None


def _is_valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_event(
    data: Any, *, strict: bool = True, payload_limit: int = PAYLOAD_LIMIT_BYTES
) -> list[EventProblem]:
    """Every documented rule the raw event breaks, as a list (empty when valid)."""
    if isinstance(data, DictView):
        data = data.raw
    if not isinstance(data, Mapping):
        return [EventProblem("(document)", f"must be a JSON object, got {type(data).__name__}")]
    problems: list[EventProblem] = []
    add = problems.append

    version = data.get("summaryVersion")
    if version is None:
        add(EventProblem("summaryVersion", "is required"))
    elif version not in KNOWN_SUMMARY_VERSIONS:
        add(
            EventProblem(
                "summaryVersion",
                f"must be one of {', '.join(KNOWN_SUMMARY_VERSIONS)} (the versions in AWS material), got {version!r}",
            )
        )

    envelope = data.get("envelope")
    if not isinstance(envelope, Mapping):
        add(EventProblem("envelope", "is required and must be an object with mailFrom and recipients"))
    else:
        if "mailFrom" not in envelope:
            add(EventProblem("envelope.mailFrom", "is required"))
        elif (p := _address_problem("envelope.mailFrom", envelope["mailFrom"])) is not None:
            add(p)
        recipients = envelope.get("recipients")
        if not isinstance(recipients, list):
            add(EventProblem("envelope.recipients", "is required and must be a list"))
        else:
            seen: set[str] = set()
            for i, item in enumerate(recipients):
                if (p := _address_problem(f"envelope.recipients[{i}]", item)) is not None:
                    add(p)
                    continue
                key = item["address"].lower()
                if key in seen:
                    add(
                        EventProblem(
                            f"envelope.recipients[{i}].address",
                            f"{item['address']!r} is listed twice; WorkMail lists each recipient once",
                        )
                    )
                seen.add(key)

    sender = data.get("sender")
    if sender is not None and (p := _address_problem("sender", sender)) is not None:
        add(p)

    subject = data.get("subject")
    if not isinstance(subject, str):
        add(EventProblem("subject", f"is required and must be a string, got {type(subject).__name__}"))
    elif not _is_valid_unicode(subject):
        add(EventProblem("subject", "contains characters that are not valid Unicode (lone surrogates)"))
    elif len(subject) > SUBJECT_LIMIT_CHARS:
        add(
            EventProblem(
                "subject",
                f"has {len(subject)} characters; WorkMail cuts subjects at {SUBJECT_LIMIT_CHARS}",
                fix="build the event with build_event(), which applies the cut",
            )
        )

    for name in LATER_FIELDS:
        if name in data and data[name] is None:
            add(EventProblem(name, "must not be null"))
        elif name not in data and strict:
            add(
                EventProblem(
                    name,
                    "is required in current WorkMail events",
                    fix="pass strict=False to accept a pre-2020 event that lacks it",
                )
            )
    message_id = data.get("messageId")
    if message_id is not None and not (isinstance(message_id, str) and MESSAGE_ID_PATTERN.fullmatch(message_id)):
        add(
            EventProblem(
                "messageId",
                f"must be 1-120 characters of a-z, 0-9 and '-' (the Message Flow API's pattern), got {message_id!r}",
            )
        )
    invocation_id = data.get("invocationId")
    if invocation_id is not None and not (isinstance(invocation_id, str) and invocation_id):
        add(EventProblem("invocationId", f"must be a non-empty string, got {invocation_id!r}"))
    direction = data.get("flowDirection")
    if direction is not None and direction not in FLOW_DIRECTIONS:
        add(EventProblem("flowDirection", f"must be INBOUND or OUTBOUND, got {direction!r}"))

    truncated = data.get("truncated")
    if not isinstance(truncated, bool):
        add(EventProblem("truncated", f"is required and must be true or false, got {truncated!r}"))

    if not problems:
        try:
            size = payload_size(data)
        except (RecursionError, ValueError, TypeError) as exc:
            add(EventProblem("(document)", f"cannot be serialised as JSON ({type(exc).__name__}: nested too deeply?)"))
            return problems
        if size > payload_limit:
            add(
                EventProblem(
                    "envelope.recipients",
                    f"the event is {size:,} bytes, over the {payload_limit:,}-byte (128 KB) limit; "
                    "WorkMail cuts the recipient list to fit and sets truncated to true",
                    fix="build the event with build_event(), which applies the cut",
                )
            )
    extra = sorted(set(data) - set(TOP_LEVEL_FIELDS))
    if extra and strict:
        add(
            EventProblem(
                extra[0],
                f"is not a documented event field (undocumented: {', '.join(extra)})",
                fix="pass strict=False to keep undocumented fields",
            )
        )
    return problems
