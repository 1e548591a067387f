"""Checking an SES receiving event against what SES documents: :func:`check_ses_event`.

Like :func:`workmail_sandbox.events.check_event`, every broken rule is one
:class:`~workmail_sandbox.events.checks.EventProblem` naming the JSON path and
the fix, so a test or a widget can list them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..events.checks import EventProblem
from .event import DMARC_POLICIES, EVENT_SOURCE, EVENT_VERSION, INVOCATION_TYPES, VERDICTS

__all__ = ["EventProblem", "check_ses_event", "ses_parts"]

_MAIL_FIELDS = {
    "timestamp": str,
    "source": str,
    "messageId": str,
    "destination": list,
    "headersTruncated": bool,
    "headers": list,
    "commonHeaders": dict,
}
_RECEIPT_FIELDS = {"timestamp": str, "processingTimeMillis": int, "recipients": list, "action": dict}
_VERDICT_FIELDS = ("spamVerdict", "virusVerdict", "spfVerdict", "dkimVerdict", "dmarcVerdict")
_COMMON_LISTS = ("from", "to", "cc", "bcc", "replyTo")
_COMMON_TEXT = ("returnPath", "date", "messageId", "subject", "sender")


def _typed(problems: list[EventProblem], path: str, value: Any, kind: type) -> bool:
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        name = {str: "a string", list: "a list", dict: "an object", bool: "true or false", int: "a number"}[kind]
        problems.append(EventProblem(path, f"must be {name}, got {type(value).__name__}"))
    return ok


def _check_mail(mail: Mapping[str, Any], add: list[EventProblem]) -> None:
    for key, kind in _MAIL_FIELDS.items():
        if key not in mail:
            add.append(EventProblem(f"Records[0].ses.mail.{key}", "is required",
                                    "build the event with build_ses_event"))
        else:
            _typed(add, f"Records[0].ses.mail.{key}", mail[key], kind)
    if "content" in mail:
        add.append(EventProblem("Records[0].ses.mail.content", "a Lambda action's event never carries the message",
                                "store the message with an S3 action placed before the Lambda action"))
    for i, header in enumerate(mail.get("headers") or []):
        if not (isinstance(header, Mapping) and isinstance(header.get("name"), str)
                and isinstance(header.get("value"), str)):
            add.append(EventProblem(f"Records[0].ses.mail.headers[{i}]", 'must be {"name": "...", "value": "..."}'))
    common = mail.get("commonHeaders")
    if isinstance(common, Mapping):
        for key, value in common.items():
            path = f"Records[0].ses.mail.commonHeaders.{key}"
            if key in _COMMON_LISTS:
                if _typed(add, path, value, list) and not all(isinstance(v, str) for v in value):
                    add.append(EventProblem(path, "must list strings"))
            elif key in _COMMON_TEXT:
                _typed(add, path, value, str)
            else:
                known = ", ".join((*_COMMON_LISTS, *_COMMON_TEXT))
                add.append(EventProblem(path, f"is not a commonHeaders field SES documents ({known})"))


def _check_receipt(receipt: Mapping[str, Any], add: list[EventProblem]) -> None:
    for key, kind in _RECEIPT_FIELDS.items():
        if key not in receipt:
            add.append(EventProblem(f"Records[0].ses.receipt.{key}", "is required"))
        else:
            _typed(add, f"Records[0].ses.receipt.{key}", receipt[key], kind)
    if isinstance(receipt.get("recipients"), list) and not receipt["recipients"]:
        add.append(EventProblem("Records[0].ses.receipt.recipients", "lists the envelope recipients the rule "
                                "matched, so it is never empty"))
    for key in _VERDICT_FIELDS:
        path = f"Records[0].ses.receipt.{key}"
        verdict = receipt.get(key)
        if not isinstance(verdict, Mapping):
            add.append(EventProblem(path, 'is required: {"status": "PASS"}'))
        elif verdict.get("status") not in VERDICTS:
            add.append(EventProblem(f"{path}.status", f"must be one of {', '.join(VERDICTS)}, "
                                    f"got {verdict.get('status')!r}"))
    dmarc = receipt.get("dmarcVerdict")
    failed = isinstance(dmarc, Mapping) and dmarc.get("status") == "FAIL"
    if "dmarcPolicy" in receipt:
        if not failed:
            add.append(EventProblem("Records[0].ses.receipt.dmarcPolicy", "appears only when dmarcVerdict is FAIL"))
        elif receipt["dmarcPolicy"] not in DMARC_POLICIES:
            add.append(EventProblem("Records[0].ses.receipt.dmarcPolicy",
                                    f"must be one of {', '.join(DMARC_POLICIES)}, got {receipt['dmarcPolicy']!r}"))
    elif failed:
        add.append(EventProblem("Records[0].ses.receipt.dmarcPolicy", "is present when dmarcVerdict is FAIL",
                                "add the sending domain's policy: none, quarantine or reject"))
    action = receipt.get("action")
    if isinstance(action, Mapping):
        if action.get("type") != "Lambda":
            add.append(EventProblem("Records[0].ses.receipt.action.type",
                                    f"is Lambda in a Lambda action's event, got {action.get('type')!r}"))
        if not isinstance(action.get("functionArn"), str) or not str(action.get("functionArn")).startswith(
            "arn:aws"
        ):
            add.append(EventProblem("Records[0].ses.receipt.action.functionArn", "must be the function's ARN"))
        if action.get("invocationType") not in INVOCATION_TYPES:
            add.append(EventProblem("Records[0].ses.receipt.action.invocationType",
                                    f"must be Event or RequestResponse, got {action.get('invocationType')!r}"))


def check_ses_event(data: Any) -> list[EventProblem]:
    """Every documented rule the SES Lambda event ``data`` breaks, as a list (empty when valid)."""
    if not isinstance(data, Mapping):
        return [EventProblem("(document)", f"must be a JSON object, got {type(data).__name__}")]
    records = data.get("Records")
    if not isinstance(records, list) or len(records) != 1:
        return [EventProblem("Records", "must be a list of exactly one record (SES sends one per invocation)",
                             "build the event with build_ses_event")]
    record = records[0]
    if not isinstance(record, Mapping):
        return [EventProblem("Records[0]", "must be an object")]
    problems: list[EventProblem] = []
    if record.get("eventSource") != EVENT_SOURCE:
        problems.append(EventProblem("Records[0].eventSource", f"must be {EVENT_SOURCE!r}, "
                                     f"got {record.get('eventSource')!r}"))
    if record.get("eventVersion") != EVENT_VERSION:
        problems.append(EventProblem("Records[0].eventVersion", f"must be {EVENT_VERSION!r}, "
                                     f"got {record.get('eventVersion')!r}"))
    ses = record.get("ses")
    if not isinstance(ses, Mapping):
        problems.append(EventProblem("Records[0].ses", "is required: an object with mail and receipt"))
        return problems
    for part, check in (("mail", _check_mail), ("receipt", _check_receipt)):
        value = ses.get(part)
        if isinstance(value, Mapping):
            check(value, problems)
        else:
            problems.append(EventProblem(f"Records[0].ses.{part}", "is required and must be an object"))
    return problems


def ses_parts(event: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(mail, receipt)`` of an SES event, as function code reads them: ``event["Records"][0]["ses"]``."""
    ses = event["Records"][0]["ses"]
    return ses["mail"], ses["receipt"]
