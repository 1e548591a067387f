"""The event WorkMail passes to a Run Lambda function, with every documented limit.

Source: "Configuring AWS Lambda for Amazon WorkMail", section *Lambda event data*
(https://docs.aws.amazon.com/workmail/latest/adminguide/lambda.html#lambda-data).

Three things are built here:

* :class:`WorkMailEvent`, a typed, read-only view over the raw event dict, in the
  spirit of Powertools' event data classes: a handler can read
  ``event.envelope.mail_from`` and still pass the event on as a plain mapping.
* :func:`build_event`, which makes one event from addresses and a subject and
  applies the 256-character subject cut and the 128 KB truncation.
* :func:`events_from_message`, which turns a MIME message plus an optional SMTP
  envelope into the events WorkMail would send, one per SMTP conversation.

Assumptions, where AWS does not say (each is a keyword argument you can change):

* 128 KB means 131,072 bytes of the event serialised as compact UTF-8 JSON
  (``PAYLOAD_LIMIT_BYTES``; pass ``payload_limit=``).
* When no conversations are given, the whole message is one SMTP conversation
  (a sender that delivers all recipients to WorkMail in one transaction).
  ``conversations="per-domain"`` models a sender that opens one conversation per
  recipient domain; an explicit list of recipient lists models anything else.
* Each conversation is its own message in transit, so it gets its own
  ``messageId`` and ``invocationId``.
* Addresses are lower-cased and de-duplicated (WorkMail matches addresses without
  regard to case).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, Literal

from .errors import EventError, MessageParseError

__all__ = [
    "DEFAULT_SUMMARY_VERSION",
    "FLOW_DIRECTIONS",
    "INBOUND",
    "KNOWN_SUMMARY_VERSIONS",
    "OUTBOUND",
    "PAYLOAD_LIMIT_BYTES",
    "SUBJECT_LIMIT_CHARS",
    "EventProblem",
    "Envelope",
    "SmtpEnvelope",
    "WorkMailEvent",
    "build_event",
    "check_event",
    "events_from_message",
    "normalize_direction",
    "payload_size",
    "serialize_event",
]

#: The version in the AWS documentation's example event and in SAM CLI's event.
SUMMARY_VERSION_2018 = "2018-10-10"
#: The version in the hello-world template's docstring and ``tst/event.json``.
SUMMARY_VERSION_2019 = "2019-07-28"
KNOWN_SUMMARY_VERSIONS = (SUMMARY_VERSION_2018, SUMMARY_VERSION_2019)
DEFAULT_SUMMARY_VERSION = SUMMARY_VERSION_2018

#: "The email subject line. Truncated when it exceeds the 256 character limit."
SUBJECT_LIMIT_CHARS = 256
#: "When true, the payload size exceeds the 128 KB limit" (taken as 128 * 1024 bytes).
PAYLOAD_LIMIT_BYTES = 128 * 1024

INBOUND = "INBOUND"
OUTBOUND = "OUTBOUND"
FLOW_DIRECTIONS = (INBOUND, OUTBOUND)

# The Message Flow API's messageId constraint (botocore workmailmessageflow model).
_MESSAGE_ID = re.compile(r"[a-z0-9\-]{1,120}")
# Fields WorkMail added after the first event format (messageId in 2019,
# invocationId and flowDirection in 2020); older samples lack them.
_LATER_FIELDS = ("messageId", "invocationId", "flowDirection")
_TOP_LEVEL = (
    "summaryVersion",
    "envelope",
    "sender",
    "subject",
    "messageId",
    "invocationId",
    "flowDirection",
    "truncated",
)


# --------------------------------------------------------------------------- views


class _DictView(Mapping[str, Any]):
    """A read-only mapping over a raw dict; the raw dict stays reachable."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _DictView):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @property
    def raw(self) -> Mapping[str, Any]:
        """The underlying dict, exactly as WorkMail (or the builder) made it."""
        return self._data


class Envelope(_DictView):
    """The ``envelope`` object: the SMTP envelope of the message."""

    @property
    def mail_from(self) -> str:
        """The From address; when a user sends as or on behalf of another user,
        the address of the user represented, not of the actual sender."""
        return self._data["mailFrom"]["address"]

    @property
    def recipients(self) -> list[str]:
        """Recipient addresses, with no distinction between To, CC and BCC; inbound,
        only those in the organization's domains, from one SMTP conversation."""
        return [r["address"] for r in self._data["recipients"]]


class WorkMailEvent(_DictView):
    """The event a Run Lambda rule passes to a function, as a read-only view.

    Build one with :func:`build_event`, :func:`events_from_message` or
    :meth:`from_dict`; wrapping a raw dict with ``WorkMailEvent(raw)`` does no
    checking, like Powertools' data classes.
    """

    @property
    def summary_version(self) -> str:
        """Version of the event format; it changes only on a backwards-incompatible change."""
        return self._data["summaryVersion"]

    @property
    def envelope(self) -> Envelope:
        """The envelope of the email message: ``mail_from`` and ``recipients``."""
        return Envelope(self._data["envelope"])

    @property
    def sender(self) -> str | None:
        """The address of the user who sent the message on behalf of another user;
        set only when a message is sent on behalf of another user."""
        sender = self._data.get("sender")
        return sender.get("address") if sender else None

    @property
    def subject(self) -> str:
        """The email subject line, truncated when it exceeds 256 characters."""
        return self._data["subject"]

    @property
    def message_id(self) -> str | None:
        """The id to fetch or update the full message with the Message Flow API."""
        return self._data.get("messageId")

    @property
    def invocation_id(self) -> str | None:
        """Unique per invocation, the same across retries of one event: use it to
        spot retries and avoid doing work twice."""
        return self._data.get("invocationId")

    @property
    def flow_direction(self) -> str | None:
        """``INBOUND`` or ``OUTBOUND``: the direction of the email flow."""
        return self._data.get("flowDirection")

    @property
    def truncated(self) -> bool:
        """True when the payload exceeded 128 KB and the recipient list was cut to
        fit; it is about the payload size, not the subject line."""
        return self._data["truncated"]

    # Conveniences that are not WorkMail fields.

    @property
    def raw_event(self) -> Mapping[str, Any]:
        """The raw event dict (the same object as :attr:`raw`)."""
        return self._data

    @property
    def size(self) -> int:
        """The payload size in bytes, compact UTF-8 JSON."""
        return payload_size(self._data)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the raw event, safe to change."""
        return copy.deepcopy(dict(self._data))

    def to_json(self, *, indent: int | None = None) -> str:
        """The event as JSON text: compact by default, as sizes are counted."""
        if indent is None:
            return serialize_event(self._data).decode("utf-8")
        return json.dumps(self._data, ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        strict: bool = True,
        payload_limit: int = PAYLOAD_LIMIT_BYTES,
    ) -> WorkMailEvent:
        """Check a raw event against the documented rules and wrap it.

        Raises :class:`~workmail_sandbox.errors.EventError` naming the first field
        and rule broken; every problem found is in its ``problems`` attribute.
        ``strict=False`` accepts pre-2020 events, which lack ``messageId``,
        ``invocationId`` and ``flowDirection``.
        """
        problems = check_event(data, strict=strict, payload_limit=payload_limit)
        if problems:
            first = problems[0]
            more = f" ({len(problems) - 1} more problem(s) in .problems)" if len(problems) > 1 else ""
            error = EventError(first.field, first.rule + more, fix=first.fix)
            error.problems = problems  # type: ignore[attr-defined]
            raise error
        raw = data.raw if isinstance(data, _DictView) else data
        return cls(copy.deepcopy(dict(raw)))

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        *,
        strict: bool = True,
        payload_limit: int = PAYLOAD_LIMIT_BYTES,
    ) -> WorkMailEvent:
        """Parse JSON text and check it as :meth:`from_dict` does."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EventError(
                "(document)",
                f"is not valid JSON: {exc}",
                fix="pass the event exactly as the function receives it, a JSON object",
            ) from None
        return cls.from_dict(data, strict=strict, payload_limit=payload_limit)

    def __repr__(self) -> str:
        return (
            f"WorkMailEvent(direction={self.flow_direction!r}, mail_from={self.envelope.mail_from!r}, "
            f"recipients={len(self._data['envelope']['recipients'])}, subject={self.subject!r}, "
            f"truncated={self.truncated!r})"
        )


# ---------------------------------------------------------------------- validation


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
    if isinstance(data, _DictView):
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

    for name in _LATER_FIELDS:
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
    if message_id is not None and not (isinstance(message_id, str) and _MESSAGE_ID.fullmatch(message_id)):
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
        size = payload_size(data)
        if size > payload_limit:
            add(
                EventProblem(
                    "envelope.recipients",
                    f"the event is {size:,} bytes, over the {payload_limit:,}-byte (128 KB) limit; "
                    "WorkMail cuts the recipient list to fit and sets truncated to true",
                    fix="build the event with build_event(), which applies the cut",
                )
            )
    extra = sorted(set(data) - set(_TOP_LEVEL))
    if extra and strict:
        add(
            EventProblem(
                extra[0],
                f"is not a documented event field (undocumented: {', '.join(extra)})",
                fix="pass strict=False to keep undocumented fields",
            )
        )
    return problems


# ----------------------------------------------------------------------- building


def serialize_event(event: Mapping[str, Any]) -> bytes:
    """The event as compact UTF-8 JSON, the form its size is counted in."""
    if isinstance(event, _DictView):
        event = event.raw
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=_unwrap).encode("utf-8")


def _unwrap(value: Any) -> Any:
    if isinstance(value, _DictView):
        return value.raw
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def payload_size(event: Mapping[str, Any]) -> int:
    """The event's size in bytes as compact UTF-8 JSON."""
    return len(serialize_event(event))


def _clean_text(text: str) -> str:
    """Replace lone surrogates (from undecodable bytes) so the JSON stays valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def normalize_direction(direction: str) -> str:
    """``"inbound"``/``"INBOUND"`` -> ``"INBOUND"``; anything else is an error."""
    value = str(direction).strip().upper()
    if value not in FLOW_DIRECTIONS:
        raise EventError(
            "flowDirection",
            f"must be INBOUND or OUTBOUND, got {direction!r}",
            fix="pass direction='inbound' or direction='outbound'",
        )
    return value


def _normalize(address: str, path: str) -> str:
    """A bare, lower-case address (display names and <> removed), or an EventError."""
    from .mime import normalize_address

    if not isinstance(address, str):
        raise EventError(path, f"must be an address string, got {type(address).__name__}")
    try:
        value = normalize_address(address)
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EventError(path, f"contains characters that are not valid Unicode: {address!r}") from None
    except MessageParseError:
        raise EventError(path, f"must be an email address (local@domain), got {address!r}") from None
    return value


def new_message_id() -> str:
    """A fresh id in the Message Flow API's format (lower-case uuid)."""
    return str(uuid.uuid4())


def new_invocation_id() -> str:
    """A fresh invocation id: 32 hex digits, like the AWS documentation's example."""
    return uuid.uuid4().hex


_CHUNK = 256


def _fit_recipients(recipients: Iterable[str], budget: int) -> tuple[list[str], int, bool]:
    """The longest de-duplicated prefix of ``recipients`` whose items fit ``budget``.

    Returns (kept addresses, bytes used, whether some recipient was left out).
    Reads the input in chunks and stops at the first recipient that does not
    fit, so the cost follows what is kept, not the length of the input. Each
    item costs ``{"address":"..."}`` plus a comma in compact UTF-8 JSON.
    """
    iterator = iter(recipients)
    seen: set[str] = set()
    kept: list[str] = []
    used = 0
    index = 0
    while True:
        chunk = list(islice(iterator, _CHUNK))
        if not chunk:
            return kept, used, False
        try:
            values = [a.strip().lower() for a in chunk]
            if [v for v in values if "@" not in v or "<" in v or " " in v]:
                raise AttributeError
            joined = " ".join(values)
            if not joined.isascii():
                joined.encode("utf-8")  # lone surrogates: let _normalize name the bad one
        except UnicodeEncodeError:
            values = [_normalize(a, f"envelope.recipients[{index + i}].address") for i, a in enumerate(chunk)]
        except AttributeError:
            values = [_normalize(a, f"envelope.recipients[{index + i}].address") for i, a in enumerate(chunk)]
        index += len(chunk)
        unique = dict.fromkeys(values)
        fresh = list(unique) if seen.isdisjoint(unique) else [v for v in unique if v not in seen]
        if not fresh:
            continue
        joined = " ".join(fresh)
        if len(encode_basestring(joined)) == len(joined) + 2:  # nothing to escape
            text_bytes = len(joined) if joined.isascii() else len(joined.encode("utf-8"))
            # Each item adds 15 bytes around its text; the joining spaces are not JSON.
            total = used + text_bytes - (len(fresh) - 1) + 15 * len(fresh) - (0 if kept else 1)
            if total <= budget:
                kept.extend(fresh)
                seen.update(fresh)
                used = total
                continue
        for value in fresh:
            size = len(encode_basestring(value).encode("utf-8")) + (13 if kept else 12)
            if used + size > budget:
                return kept, used, True
            used += size
            kept.append(value)
            seen.add(value)


def build_event(
    *,
    mail_from: str,
    recipients: Iterable[str] = (),
    subject: str = "",
    sender: str | None = None,
    direction: str = INBOUND,
    message_id: str | None = None,
    invocation_id: str | None = None,
    summary_version: str = DEFAULT_SUMMARY_VERSION,
    payload_limit: int = PAYLOAD_LIMIT_BYTES,
) -> WorkMailEvent:
    """Build one event as WorkMail would send it.

    Recipients are lower-cased and de-duplicated, the subject is cut at 256
    characters (code points), and when the event would exceed ``payload_limit``
    bytes, ``truncated`` is true and the recipients are the longest prefix that
    fits. The recipient list is read only as far as needed, so a million
    recipients cost no more than the few thousand that fit.

    One edge follows from that definition: a full event exactly one byte over
    the limit fits once ``false`` becomes ``true``, so it is sent with
    ``truncated: true`` and every recipient.
    """
    if summary_version not in KNOWN_SUMMARY_VERSIONS:
        raise EventError(
            "summaryVersion",
            f"must be one of {', '.join(KNOWN_SUMMARY_VERSIONS)}, got {summary_version!r}",
        )
    direction = normalize_direction(direction)
    if not isinstance(subject, str):
        raise EventError("subject", f"must be a string, got {type(subject).__name__}")
    subject = _clean_text(subject)[:SUBJECT_LIMIT_CHARS]
    message_id = new_message_id() if message_id is None else message_id
    if not (isinstance(message_id, str) and _MESSAGE_ID.fullmatch(message_id)):
        raise EventError(
            "messageId",
            f"must be 1-120 characters of a-z, 0-9 and '-', got {message_id!r}",
        )
    event: dict[str, Any] = {
        "summaryVersion": summary_version,
        "envelope": {"mailFrom": {"address": _normalize(mail_from, "envelope.mailFrom.address")}, "recipients": []},
        "subject": subject,
        "messageId": message_id,
        "invocationId": new_invocation_id() if invocation_id is None else str(invocation_id),
        "flowDirection": direction,
        "truncated": False,
    }
    if sender is not None:
        # Keep the documented key order: sender comes after envelope.
        event = {
            "summaryVersion": event["summaryVersion"],
            "envelope": event["envelope"],
            "sender": {"address": _normalize(sender, "sender.address")},
            **{k: v for k, v in event.items() if k not in ("summaryVersion", "envelope")},
        }

    # "true" is one byte shorter than "false": budget against the truncated form,
    # and decide truncation against the full, untruncated form.
    budget = payload_limit - (payload_size(event) - 1)
    kept, used, cut = _fit_recipients(recipients, budget)
    if not cut and used + 1 > budget:
        # Everything fits only in the "true" form: the full event is over the limit.
        cut = True
    event["envelope"]["recipients"] = [{"address": a} for a in kept]
    event["truncated"] = cut
    return WorkMailEvent(event)


# ------------------------------------------------------------ events from a message


@dataclass(frozen=True)
class SmtpEnvelope:
    """The SMTP envelope of a message: MAIL FROM and RCPT TO, when known.

    When ``mail_from`` is given it wins over the message's headers; when
    ``recipients`` is given it replaces To, Cc and Bcc.
    """

    mail_from: str | None = None
    recipients: Sequence[str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


Conversations = Literal["single", "per-domain"] | Sequence[Sequence[str]]


def _split_conversations(recipients: list[str], conversations: Conversations) -> list[list[str]]:
    if conversations == "single":
        return [recipients]
    if conversations == "per-domain":
        groups: dict[str, list[str]] = {}
        for address in recipients:
            groups.setdefault(address.rsplit("@", 1)[-1], []).append(address)
        return list(groups.values())
    if isinstance(conversations, str):
        raise EventError(
            "conversations",
            f"must be 'single', 'per-domain' or a list of recipient lists, got {conversations!r}",
        )
    return [[_normalize(a, "conversations") for a in group] for group in conversations]


def events_from_message(
    message: Any,
    *,
    direction: str = INBOUND,
    org_domains: Iterable[str] = (),
    envelope: SmtpEnvelope | None = None,
    conversations: Conversations = "single",
    message_id: str | None = None,
    summary_version: str = DEFAULT_SUMMARY_VERSION,
    payload_limit: int = PAYLOAD_LIMIT_BYTES,
) -> list[WorkMailEvent]:
    """The events WorkMail would send for one message: one per SMTP conversation.

    ``message`` is raw bytes, a path, an ``email`` message or a
    :class:`~workmail_sandbox.mime.ParsedMessage`. Rules applied (AWS docs,
    *Lambda event data*):

    * ``mailFrom`` is the From address, which is the represented user when the
      message is sent on behalf of someone (a Sender header naming another
      user); an explicit envelope MAIL FROM wins over both.
    * ``sender`` is set only when the message is sent on behalf.
    * recipients come from the envelope when given, else from To, Cc and Bcc,
      with no distinction and no duplicates.
    * inbound events list only recipients in ``org_domains``; a conversation with
      none of them invokes nothing and yields no event.

    ``message_id`` ties the event to a message already in transit (for example
    one from ``Sandbox.put_message_in_transit``); it needs a single conversation.
    """
    from .mime import ParsedMessage, in_domains, parse_message

    direction = normalize_direction(direction)
    domains = [d.strip().lower() for d in org_domains]
    if direction == INBOUND and not domains:
        raise EventError(
            "envelope.recipients",
            "inbound events list only recipients in the organization's domains, and none were given",
            fix="pass org_domains=['example.com', ...] (the organization's mail domains)",
        )
    parsed = message if isinstance(message, ParsedMessage) else parse_message(message, headers_only=True)
    envelope = envelope or SmtpEnvelope()

    if envelope.mail_from:
        mail_from = envelope.mail_from
    elif parsed.from_addresses:
        mail_from = parsed.from_addresses[0]
    elif parsed.sender_address:
        mail_from = parsed.sender_address
    else:
        raise EventError(
            "envelope.mailFrom.address",
            "the message has no From header and no envelope MAIL FROM was given",
            fix="pass envelope=SmtpEnvelope(mail_from='someone@example.com')",
        )
    sender = parsed.sender_address if parsed.on_behalf else None
    if sender is not None and sender == _normalize(mail_from, "envelope.mailFrom.address"):
        sender = None  # a Sender with no From is the author, not someone acting on behalf

    if envelope.recipients is not None:
        seen: set[str] = set()
        recipients = []
        for i, address in enumerate(envelope.recipients):
            value = _normalize(address, f"envelope.recipients[{i}]")
            if value not in seen:
                seen.add(value)
                recipients.append(value)
    else:
        recipients = list(parsed.recipients)

    groups = _split_conversations(recipients, conversations)
    if message_id is not None and len(groups) > 1:
        raise EventError(
            "messageId",
            f"one message_id was given for {len(groups)} SMTP conversations; each conversation is its own message",
            fix="use conversations='single', or build each event with build_event(..., message_id=...)",
        )
    events = []
    for group in groups:
        if direction == INBOUND:
            group = [a for a in group if in_domains(a, domains)]
            if not group:
                continue
        events.append(
            build_event(
                mail_from=mail_from,
                recipients=group,
                subject=parsed.subject,
                sender=sender,
                direction=direction,
                message_id=message_id,
                summary_version=summary_version,
                payload_limit=payload_limit,
            )
        )
    return events
