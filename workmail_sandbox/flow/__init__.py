"""The emulated organization's mail flow: routing, results, mailboxes, event log and settings.

The public entry point is :class:`workmail_sandbox.organization.Organization`;
this package holds its parts, one concept per module:

* :mod:`.headers`: what the flow reads from the header block, fast;
* :mod:`.planning`: recipients, SMTP conversations, rules per recipient and
  the events (``plan``, a dry run);
* :mod:`.lambdas`: the Run Lambda steps (transit, permission, retries, responses);
* :mod:`.engine`: one message through the rules, the functions and delivery
  (``route``);
* :mod:`.results`: :class:`FlowResult` (a final state per recipient),
  :class:`InvocationRecord`, :class:`Attempt`, :class:`BounceRecord`;
* :mod:`.mailboxes`: :class:`Mailbox` (inbox and junk), :class:`OutboxItem`,
  bounce messages;
* :mod:`.eventlog`: :class:`EventLog`, WorkMail-style email event logs in
  CloudWatch Logs and as a DataFrame;
* :mod:`.settings`: :class:`FlowSettings` and :class:`RetryPolicy`, the
  choices AWS leaves open.
"""

from __future__ import annotations

from .engine import Plan
from .eventlog import SANDBOX_EVENTS, WORKMAIL_EVENTS, EventLog
from .mailboxes import INBOX_FOLDER, JUNK_FOLDER, Mailbox, MailItem, OutboxItem
from .results import (
    BOUNCED,
    DROPPED,
    FAILED,
    INBOX,
    JUNK,
    OUTCOMES,
    SENT,
    Attempt,
    BounceRecord,
    FlowResult,
    InvocationRecord,
    RecipientOutcome,
)
from .settings import INVOCATION_LIMIT_SECONDS, FlowSettings, RetryPolicy

__all__ = [
    "BOUNCED",
    "DROPPED",
    "FAILED",
    "INBOX",
    "INBOX_FOLDER",
    "INVOCATION_LIMIT_SECONDS",
    "JUNK",
    "JUNK_FOLDER",
    "OUTCOMES",
    "SANDBOX_EVENTS",
    "SENT",
    "WORKMAIL_EVENTS",
    "Attempt",
    "BounceRecord",
    "EventLog",
    "FlowResult",
    "FlowSettings",
    "InvocationRecord",
    "MailItem",
    "Mailbox",
    "OutboxItem",
    "Plan",
    "RecipientOutcome",
    "RetryPolicy",
]
