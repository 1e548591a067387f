"""The event Amazon SES receiving sends to a Lambda action: :func:`build_ses_event`.

Facts followed (docs/aws-behaviour.md §7; docs/ses.md): one record,
``eventSource`` ``aws:ses``, ``eventVersion`` ``1.0``, and ``ses.mail`` /
``ses.receipt`` as in SES's receipt notifications. The body is never in the
event (a rule stores it first with an S3 action, or publishes it with an SNS
action). ``mail.headers`` stops once the headers pass 10 KB and
``headersTruncated`` says so; ``commonHeaders`` holds only the fields the
message has; ``receipt.dmarcPolicy`` appears only when DMARC fails.

Pure: no I/O, the clock and the message id are arguments.
"""

from __future__ import annotations

import datetime as _dt
import secrets
import string
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import EventError
from ..mail import ParsedMessage, normalize_address, parse_message
from ..mail.headers import read_headers

__all__ = [
    "DMARC_POLICIES",
    "EVENT_SOURCE",
    "EVENT_VERSION",
    "HEADERS_LIMIT_BYTES",
    "INVOCATION_TYPES",
    "VERDICTS",
    "build_ses_event",
    "build_ses_mail",
    "build_ses_receipt",
    "lambda_action",
    "new_ses_message_id",
    "ses_record",
    "ses_timestamp",
]

EVENT_SOURCE = "aws:ses"
EVENT_VERSION = "1.0"
#: The headers a notification or Lambda event carries before ``headersTruncated`` is true.
HEADERS_LIMIT_BYTES = 10 * 1024
#: The verdict statuses SES reports (spam, virus, SPF, DKIM, DMARC).
VERDICTS = ("PASS", "FAIL", "GRAY", "PROCESSING_FAILED")
#: ``receipt.dmarcPolicy``: the sending domain's DMARC policy, present only when DMARC fails.
DMARC_POLICIES = ("none", "quarantine", "reject")
#: A Lambda action's invocation types; ``Event`` is the default.
INVOCATION_TYPES = ("Event", "RequestResponse")

#: commonHeaders fields that hold a list (address fields that may name several mailboxes).
_LIST_FIELDS = {"from": "from", "to": "to", "cc": "cc", "bcc": "bcc", "reply-to": "replyTo"}
_TEXT_FIELDS = {"date": "date", "message-id": "messageId", "subject": "subject", "sender": "sender"}
_ID_CHARS = string.ascii_lowercase + string.digits


def new_ses_message_id() -> str:
    """A message id for a received message: 40 lowercase letters and digits.

    SES does not publish the format. The kit uses the shape of the SMTP id in
    the documented ``Received`` header of a received message; the id is also
    the S3 object key after ``ObjectKeyPrefix``.
    """
    return "".join(secrets.choice(_ID_CHARS) for _ in range(40))


def ses_timestamp(when: _dt.datetime) -> str:
    """ISO 8601 with milliseconds and ``Z``, as in the documented events (``2019-08-05T21:30:02.028Z``)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    when = when.astimezone(_dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _parsed(message: Any) -> ParsedMessage:
    return message if isinstance(message, ParsedMessage) else parse_message(message)


def _address_list(header: Any) -> list[str]:
    obj = header.obj
    addresses = getattr(obj, "addresses", None) if obj is not None else None
    if addresses:
        return [str(a) for a in addresses]
    value = header.value.strip()
    return [value] if value else []


def _check_address(value: str, what: str, fix: str) -> str:
    try:
        return normalize_address(value)
    except Exception:
        raise EventError(what, f"{value!r} is not an email address (local@domain)", fix=fix) from None


def build_ses_mail(
    message: Any,
    *,
    source: str,
    message_id: str,
    timestamp: str,
    headers_limit: int = HEADERS_LIMIT_BYTES,
) -> dict[str, Any]:
    """The ``mail`` object for ``message`` (bytes, str, path or ParsedMessage) received from ``source``.

    ``headers`` lists ``Return-Path`` (the envelope sender, as SES adds it) and then
    the message's own fields in order, values unfolded; once the fields pass
    ``headers_limit`` bytes the rest are left out and ``headersTruncated`` is true.
    ``commonHeaders`` has ``returnPath``, ``from``, ``to``, ``cc``, ``bcc`` and
    ``replyTo`` (lists), ``sender``, ``date``, ``messageId`` and ``subject``
    (strings), each only when the message has that field. ``destination`` is the
    To and Cc addresses of the headers.
    """
    parsed = _parsed(message)
    fields = [("Return-Path", f"<{source}>")]
    common: dict[str, Any] = {"returnPath": source}
    for header in read_headers(parsed.message):
        lower = header.name.lower()
        as_received = " ".join(header.raw.split())
        fields.append((header.name, as_received))
        if lower in _LIST_FIELDS:
            common.setdefault(_LIST_FIELDS[lower], []).extend(_address_list(header))
        elif lower in _TEXT_FIELDS and _TEXT_FIELDS[lower] not in common:
            # the subject decoded (RFC 2047), the others as written
            common[_TEXT_FIELDS[lower]] = header.value.strip() if lower == "subject" else as_received
    headers: list[dict[str, str]] = []
    size, truncated = 0, False
    for name, value in fields:
        size += len(name.encode("utf-8", "replace")) + len(value.encode("utf-8", "replace")) + 4
        if size > headers_limit:
            truncated = True
            break
        headers.append({"name": name, "value": value})
    destination = list(dict.fromkeys([*parsed.to, *parsed.cc]))
    return {
        "timestamp": timestamp,
        "source": source,
        "messageId": message_id,
        "destination": destination,
        "headersTruncated": truncated,
        "headers": headers,
        "commonHeaders": common,
    }


def _verdict(name: str, value: str) -> dict[str, str]:
    if value not in VERDICTS:
        raise EventError(
            f"receipt.{name}.status",
            f"must be one of {', '.join(VERDICTS)}, got {value!r}",
            fix=f"pass {name.removesuffix('Verdict')}='PASS' (or FAIL, GRAY, PROCESSING_FAILED)",
        )
    return {"status": value}


def build_ses_receipt(
    *,
    recipients: Iterable[str],
    action: Mapping[str, Any],
    timestamp: str,
    processing_time_ms: int = 0,
    spam: str = "PASS",
    virus: str = "PASS",
    spf: str = "PASS",
    dkim: str = "PASS",
    dmarc: str = "PASS",
    dmarc_policy: str | None = None,
) -> dict[str, Any]:
    """The ``receipt`` object: the matched envelope recipients, the verdicts and the action."""
    receipt: dict[str, Any] = {
        "timestamp": timestamp,
        "processingTimeMillis": int(processing_time_ms),
        "recipients": list(recipients),
        "spamVerdict": _verdict("spamVerdict", spam),
        "virusVerdict": _verdict("virusVerdict", virus),
        "spfVerdict": _verdict("spfVerdict", spf),
        "dkimVerdict": _verdict("dkimVerdict", dkim),
        "dmarcVerdict": _verdict("dmarcVerdict", dmarc),
    }
    if dmarc == "FAIL":
        policy = dmarc_policy or "none"
        if policy not in DMARC_POLICIES:
            raise EventError(
                "receipt.dmarcPolicy",
                f"must be one of {', '.join(DMARC_POLICIES)}, got {policy!r}",
                fix="pass dmarc_policy='none', 'quarantine' or 'reject'",
            )
        receipt["dmarcPolicy"] = policy
    elif dmarc_policy is not None:
        raise EventError(
            "receipt.dmarcPolicy",
            "appears only when the message fails DMARC (dmarc='FAIL')",
            fix="pass dmarc='FAIL' with it, or leave dmarc_policy out",
        )
    receipt["action"] = dict(action)
    return receipt


def lambda_action(function_arn: str, invocation_type: str = "Event") -> dict[str, str]:
    """``receipt.action`` for a Lambda action."""
    if invocation_type not in INVOCATION_TYPES:
        raise EventError(
            "receipt.action.invocationType",
            f"must be Event or RequestResponse, got {invocation_type!r}",
            fix="pass invocation_type='Event' (the default) or 'RequestResponse'",
        )
    return {"type": "Lambda", "functionArn": function_arn, "invocationType": invocation_type}


def build_ses_event(
    message: Any,
    *,
    recipients: Iterable[str] | None = None,
    sender: str | None = None,
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:IncomingEmail",
    invocation_type: str = "Event",
    now: _dt.datetime | None = None,
    message_id: str | None = None,
    processing_time_ms: int = 0,
    spam: str = "PASS",
    virus: str = "PASS",
    spf: str = "PASS",
    dkim: str = "PASS",
    dmarc: str = "PASS",
    dmarc_policy: str | None = None,
) -> dict[str, Any]:
    """The Lambda action's event for ``message`` (bytes, str, path or ParsedMessage), as a dict.

    ``recipients`` are the envelope recipients the rule matched (default: the
    message's To, Cc and Bcc); ``sender`` the envelope MAIL FROM (default: the
    first From address). ``now`` is when SES received it (the sandbox clock
    when the receiving path calls this; default: the current UTC time), used
    for both timestamps. Verdicts default to PASS; ``dmarc_policy`` only with
    ``dmarc='FAIL'`` (then it defaults to ``none``). ``message_id`` defaults to
    a new :func:`new_ses_message_id`.
    """
    parsed = _parsed(message)
    fix_sender = "pass sender='someone@example.com' (the envelope MAIL FROM)"
    if sender is None:
        if not parsed.from_addresses:
            raise EventError("ses.mail.source", "the message has no From address to use", fix=fix_sender)
        sender = parsed.from_addresses[0]
    source = _check_address(sender, "ses.mail.source", fix_sender)
    fix_rcpt = "pass recipients=['user@example.com'] (the envelope RCPT TO addresses)"
    chosen = parsed.recipients if recipients is None else list(recipients)
    if isinstance(recipients, str):
        raise EventError("ses.receipt.recipients", "must be a list of addresses, not one string", fix=fix_rcpt)
    matched = [_check_address(r, "ses.receipt.recipients", fix_rcpt) for r in chosen]
    if not matched:
        raise EventError("ses.receipt.recipients", "needs at least one envelope recipient", fix=fix_rcpt)
    stamp = ses_timestamp(now or _dt.datetime.now(_dt.UTC))
    mail = build_ses_mail(parsed, source=source, message_id=message_id or new_ses_message_id(), timestamp=stamp)
    receipt = build_ses_receipt(
        recipients=matched,
        action=lambda_action(function_arn, invocation_type),
        timestamp=stamp,
        processing_time_ms=processing_time_ms,
        spam=spam,
        virus=virus,
        spf=spf,
        dkim=dkim,
        dmarc=dmarc,
        dmarc_policy=dmarc_policy,
    )
    return ses_record(mail, receipt)


def ses_record(mail: Mapping[str, Any], receipt: Mapping[str, Any]) -> dict[str, Any]:
    """``{"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {mail, receipt}}]}``."""
    record = {"eventSource": EVENT_SOURCE, "eventVersion": EVENT_VERSION,
              "ses": {"mail": dict(mail), "receipt": dict(receipt)}}
    return {"Records": [record]}
