"""Building one event as WorkMail would send it: :func:`build_event`.

Applies the 256-character subject cut and the 128 KB truncation
(docs/aws-behaviour.md §2.3). Assumptions, where AWS does not say (each is a
keyword argument you can change):

* 128 KB means 131,072 bytes of the event serialised as compact UTF-8 JSON
  (``PAYLOAD_LIMIT_BYTES``; pass ``payload_limit=``).
* Addresses are lower-cased and de-duplicated (WorkMail matches addresses without
  regard to case).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from itertools import islice
from json.encoder import encode_basestring
from typing import Any

from ..errors import EventError, MessageParseError
from ..mail.addresses import normalize_address
from .schema import (
    DEFAULT_SUMMARY_VERSION,
    INBOUND,
    KNOWN_SUMMARY_VERSIONS,
    MESSAGE_ID_PATTERN,
    PAYLOAD_LIMIT_BYTES,
    SUBJECT_LIMIT_CHARS,
    normalize_direction,
)
from .serialization import payload_size
from .view import WorkMailEvent

__all__ = ["build_event", "new_invocation_id", "new_message_id", "normalize_event_address"]


def _clean_text(text: str) -> str:
    """Replace lone surrogates (from undecodable bytes) so the JSON stays valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text

def normalize_event_address(address: str, path: str) -> str:
    """A bare, lower-case address (display names and <> removed), or an EventError."""
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
                joined.encode("utf-8")  # lone surrogates: let normalize_event_address name the bad one
        except UnicodeEncodeError:
            values = [
                normalize_event_address(a, f"envelope.recipients[{index + i}].address")
                for i, a in enumerate(chunk)
            ]
        except AttributeError:
            values = [
                normalize_event_address(a, f"envelope.recipients[{index + i}].address")
                for i, a in enumerate(chunk)
            ]
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
    if not (isinstance(message_id, str) and MESSAGE_ID_PATTERN.fullmatch(message_id)):
        raise EventError(
            "messageId",
            f"must be 1-120 characters of a-z, 0-9 and '-', got {message_id!r}",
        )
    event: dict[str, Any] = {
        "summaryVersion": summary_version,
        "envelope": {
            "mailFrom": {"address": normalize_event_address(mail_from, "envelope.mailFrom.address")},
            "recipients": [],
        },
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
            "sender": {"address": normalize_event_address(sender, "sender.address")},
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

