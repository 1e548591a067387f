"""The organization's email event log, in the spirit of WorkMail email monitoring.

WorkMail's email event logging writes one JSON log event per step to a
CloudWatch Logs group (``PutEmailMonitoringConfiguration``); its Logs Insights
examples query ``traceId`` and ``event.eventName``, ``event.ruleName``,
``event.ruleType``, ``event.ruleActions.0.action``, ``event.recipient``,
``event.folder``, ``event.bouncedRecipient.emailAddress``...
(``monitoring-workmail-cloudwatch.md``, "CloudWatch Event Logs for Amazon
WorkMail"). The sandbox writes the same layout, ``{"traceId": ..., "event":
{"eventName": ..., ...}}``, so those queries read its logs too.

Events WorkMail documents (same names and fields):

==============================  ===================================================
``ORGANIZATION_EMAIL_RECEIVED``  inbound message received: recipients, from, sender, subject,
                                 messageId (the SMTP Message-ID), spamVerdict, messageTimestamp
``OUTGOING_EMAIL_SUBMITTED``     outbound message submitted: recipients, from, sender, subject
``RULE_APPLIED``                 an email flow rule applied: ruleName, ruleType
                                 (``INBOUND_RULE``/``OUTBOUND_RULE``), ruleActions
                                 (``[{"action": ..., "recipients": [...]}]``)
``MAILBOX_EMAIL_DELIVERED``      a copy put in a mailbox: recipient, folder (``Inbox``,
                                 ``Junk Email``); one per mailbox (a group: one per member)
``INCOMING_EMAIL_BOUNCED``       inbound recipient bounced: bouncedRecipient {emailAddress, reason, status}
``OUTGOING_EMAIL_SENT``          outbound recipient sent: recipient, from, sender, messageId
``OUTGOING_EMAIL_BOUNCED``       outbound recipient bounced: bouncedRecipient {...}
==============================  ===================================================

Events only the sandbox writes (``"sandboxOnly": true`` in the event; AWS does
not log these steps, or not in a documented form):

==============================  ===================================================
``SES_BLOCKED``                  SES stopped an inbound message before any rule (virus verdict)
``LAMBDA_INVOKED``               an attempt started: functionArn, invocationId (same on every
                                 retry), requestId, attempt, synchronous, workmailMessageId
``LAMBDA_SUCCEEDED``             a synchronous response was valid and applies (its actions)
``LAMBDA_RESULT_IGNORED``        an asynchronous invocation returned; its result is ignored
``LAMBDA_FAILED``                an attempt failed: reason (no permission, error, timeout,
                                 invalid response)
``LAMBDA_RETRY_SCHEDULED``       the next attempt: attempt, delaySeconds, at
``LAMBDA_FALLBACK_APPLIED``      the rule timeout ran out (or is 0): fallback action, recipients
``EMAIL_DROPPED``                a recipient dropped (Drop action): recipient
``BOUNCE_MESSAGE_SENT``          the bounce message sent to the sender (or why not)
``DELIVERY_FAILED``              a recipient that could not be delivered, with the reason
==============================  ===================================================

Every final-state event carries ``outcome`` (``inbox``, ``junk``, ``dropped``,
``bounced``, ``sent``, ``failed``): a sandbox addition, so one query finds where
each recipient ended.

Deviations: timestamps are the sandbox's simulated clock (so a 240-minute
retry window shows as 240 minutes); the log stream is called
``email-events`` (WorkMail's stream names are not documented); events are
written straight into moto's CloudWatch Logs backend, one batch per message,
without going through boto3 (speed).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from typing import Any

from .._moto import write_log_events

__all__ = [
    "LOG_STREAM",
    "SANDBOX_EVENTS",
    "WORKMAIL_EVENTS",
    "EventLog",
]

WORKMAIL_EVENTS = (
    "ORGANIZATION_EMAIL_RECEIVED",
    "OUTGOING_EMAIL_SUBMITTED",
    "RULE_APPLIED",
    "MAILBOX_EMAIL_DELIVERED",
    "INCOMING_EMAIL_BOUNCED",
    "OUTGOING_EMAIL_SENT",
    "OUTGOING_EMAIL_BOUNCED",
)
SANDBOX_EVENTS = (
    "SES_BLOCKED",
    "LAMBDA_INVOKED",
    "LAMBDA_SUCCEEDED",
    "LAMBDA_RESULT_IGNORED",
    "LAMBDA_FAILED",
    "LAMBDA_RETRY_SCHEDULED",
    "LAMBDA_FALLBACK_APPLIED",
    "EMAIL_DROPPED",
    "BOUNCE_MESSAGE_SENT",
    "DELIVERY_FAILED",
)
_SANDBOX = frozenset(SANDBOX_EVENTS)
_KNOWN = frozenset(WORKMAIL_EVENTS) | _SANDBOX
LOG_STREAM = "email-events"

COLUMNS = (
    "time", "traceId", "eventName", "recipient", "outcome", "ruleName", "ruleType", "action", "folder",
    "functionArn", "invocationId", "requestId", "attempt", "reason", "workmailMessageId", "smtpMessageId",
    "subject", "sandboxOnly", "event",
)


#: ``json.dumps(..., ensure_ascii=False, default=str)`` without building an encoder per event.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _ms(when: _dt.datetime) -> int:
    return int(when.timestamp() * 1000)


class EventLog:
    """The email event log of one organization: in memory (a DataFrame) and in CloudWatch Logs.

    ``log_group`` is called when a batch is written, so a monitoring
    configuration set (or removed) between messages takes effect at once.

    ``keep`` False: no in-memory records (:meth:`to_dataframe` shows none).
    ``write_logs`` False: nothing is written to CloudWatch Logs (moto keeps every
    line written, so a long run grows with it); replay workers set both, since
    nobody reads their log. :attr:`unwritten` counts the events left out.
    """

    def __init__(
        self, *, account_id: str, region: str, log_group: Callable[[], str], keep: bool = True,
        write_logs: bool = True,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self._log_group = log_group
        self.keep = keep
        self.write_logs = write_logs
        #: Events not written to CloudWatch Logs because ``write_logs`` was False.
        self.unwritten = 0
        self.records: list[dict[str, Any]] = []
        self._pending: list[tuple[int, str]] = []

    # ------------------------------------------------------------ writing

    @property
    def recording(self) -> bool:
        """Does an event added now go anywhere (memory or CloudWatch Logs)? Callers may skip building it."""
        return self.keep or self.write_logs

    def add(self, trace_id: str, when: _dt.datetime, event_name: str, **fields: Any) -> dict[str, Any]:
        """Record one event (written to CloudWatch Logs at the next :meth:`flush`)."""
        if event_name not in _KNOWN:  # pragma: no cover - a typo in the engine
            raise ValueError(f"unknown event name {event_name!r}")
        event: dict[str, Any] = {"eventName": event_name, **{k: v for k, v in fields.items() if v is not None}}
        if event_name in _SANDBOX:
            event["sandboxOnly"] = True
        timestamp = _ms(when)
        record: dict[str, Any] = {"timestamp": timestamp, "time": when, "traceId": trace_id, "event": event}
        if self.keep:
            self.records.append(record)
        if self.write_logs:
            self._pending.append((timestamp, _ENCODE({"traceId": trace_id, "event": event})))
        else:
            self.unwritten += 1
        return record

    @property
    def log_group(self) -> str:
        """The CloudWatch Logs group the events go to now."""
        return self._log_group()

    def flush(self) -> int:
        """Write the pending events to CloudWatch Logs (moto's backend); returns how many."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, []
        write_log_events(self.account_id, self.region, self.log_group, LOG_STREAM, pending)
        return len(pending)

    def discard_pending(self) -> None:
        self._pending.clear()

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.records)

    def clear(self) -> None:
        """Forget the in-memory records (CloudWatch Logs keeps what was written)."""
        self.records.clear()

    def to_records(self, trace_id: str | None = None) -> list[dict[str, Any]]:
        """Flat rows (one per event), optionally for one message's ``trace_id``."""
        rows = []
        for record in self.records:
            if trace_id is not None and record["traceId"] != trace_id:
                continue
            event = record["event"]
            actions = event.get("ruleActions") or event.get("actions")
            action = event.get("action")
            if action is None and actions:
                action = ",".join(dict.fromkeys(a["action"] for a in actions))
            bounced = event.get("bouncedRecipient") or {}
            rows.append(
                {
                    "time": record["time"],
                    "traceId": record["traceId"],
                    "eventName": event["eventName"],
                    "recipient": event.get("recipient") or bounced.get("emailAddress"),
                    "outcome": event.get("outcome"),
                    "ruleName": event.get("ruleName"),
                    "ruleType": event.get("ruleType"),
                    "action": action,
                    "folder": event.get("folder"),
                    "functionArn": event.get("functionArn"),
                    "invocationId": event.get("invocationId"),
                    "requestId": event.get("requestId"),
                    "attempt": event.get("attempt"),
                    "reason": event.get("reason") or bounced.get("reason"),
                    "workmailMessageId": event.get("workmailMessageId"),
                    "smtpMessageId": event.get("messageId"),
                    "subject": event.get("subject"),
                    "sandboxOnly": bool(event.get("sandboxOnly")),
                    "event": event,
                }
            )
        return rows

    def to_dataframe(self, trace_id: str | None = None):
        """The events as a pandas DataFrame, one row per event, oldest first."""
        import pandas as pd

        return pd.DataFrame(self.to_records(trace_id), columns=list(COLUMNS))
