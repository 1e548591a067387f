"""What routing one message produced: one final state per recipient, the invocations, the timings.

Nothing is lost: every recipient of a message ends in exactly one of
:data:`OUTCOMES` (``inbox``, ``junk``, ``dropped``, ``bounced``, ``sent``,
``failed``), and :meth:`FlowResult.check` proves it for one message.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from ..errors import SandboxError

__all__ = [
    "BOUNCED",
    "DROPPED",
    "FAILED",
    "INBOX",
    "JUNK",
    "OUTCOMES",
    "SENT",
    "Attempt",
    "BounceRecord",
    "FlowResult",
    "InvocationRecord",
    "RecipientOutcome",
]

INBOX = "inbox"
JUNK = "junk"
DROPPED = "dropped"
BOUNCED = "bounced"
SENT = "sent"
FAILED = "failed"
#: The final states a recipient can end in; each recipient ends in exactly one.
OUTCOMES = (INBOX, JUNK, DROPPED, BOUNCED, SENT, FAILED)

#: Where a recipient's action came from.
SOURCES = (
    "rule",  # the winning rule's action
    "no rule",  # no rule matched: WorkMail's default behaviour (DEFAULT)
    "lambda",  # a synchronous function's response
    "fallback",  # a synchronous rule's fallback action
    "ses",  # SES stopped it before any rule (virus verdict)
    "delivery",  # decided at delivery (no such mailbox, empty group)
)

RECIPIENT_COLUMNS = (
    "recipient", "outcome", "action", "rule", "source", "reason", "conversation", "message_id",
    "invocation_id", "added", "bounce_message", "delivered_to", "via", "spam_verdict",
)


@dataclass
class RecipientOutcome:
    """The final state of one recipient of one message.

    ``outcome`` is one of :data:`OUTCOMES`; ``action`` the action applied
    (``DEFAULT``, ``DROP``, ``BOUNCE``, ``MOVE_TO_JUNK``, ``BYPASS_SPAM_CHECK``,
    ``ROUTE_TO_SMTP_GATEWAY``); ``rule`` the rule that decided (None when no
    rule matched); ``source`` where the action came from (``rule``, ``no
    rule``, ``lambda``, ``fallback``, ``ses``, ``delivery``); ``reason`` why,
    in words. ``message_id`` is the Message Flow API id of the copy in transit
    (None when no function ran); ``invocation_id`` the synchronous
    invocation that decided, if any. ``added`` marks a recipient a function
    added (delivered as BCC). ``delivered_to`` lists the mailboxes that got a
    copy (a group's members); ``via`` says how it left: ``mailbox``,
    ``internet`` or ``smtp-gateway``.
    """

    recipient: str
    outcome: str
    action: str
    rule: str | None
    source: str
    reason: str
    conversation: int = 0
    message_id: str | None = None
    invocation_id: str | None = None
    added: bool = False
    bounce_message: str | None = None
    delivered_to: tuple[str, ...] = ()
    via: str | None = None
    spam_verdict: str | None = None

    def to_record(self) -> dict[str, Any]:
        """One plain dict (a DataFrame row)."""
        return {name: getattr(self, name) for name in RECIPIENT_COLUMNS}


@dataclass
class Attempt:
    """One call of a function by a Run Lambda rule (a first attempt or a retry)."""

    number: int
    at: _dt.datetime
    request_id: str | None
    ok: bool
    #: Why the attempt failed (None when it succeeded): permission, error, timeout or invalid response.
    error: str | None = None
    duration_ms: float = 0.0
    timed_out: bool = False
    payload: Any = None


@dataclass
class InvocationRecord:
    """Everything one Run Lambda rule did for one SMTP conversation of one message.

    ``outcome``: ``"applied"`` (a synchronous response decided delivery),
    ``"fallback"`` (every attempt failed, or the rule timeout is 0 and the one
    attempt failed: the fallback applied to every recipient), ``"ignored"``
    (an asynchronous invocation: its result never changes delivery) or
    ``"failed"`` (an asynchronous invocation that failed; delivery is not
    affected either). ``event`` is the event the function got (the same dict,
    same ``invocationId``, on every attempt). ``resolution`` is the
    :class:`~workmail_sandbox.responses.Resolution` of the response that was
    applied.
    """

    rule: str
    function_arn: str
    synchronous: bool
    invocation_id: str
    message_id: str
    recipients: tuple[str, ...]
    conversation: int
    event: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    outcome: str = "pending"
    reason: str = ""
    resolution: Any = None
    fallback: str | None = None
    decides: bool = True
    started_at: _dt.datetime | None = None
    ended_at: _dt.datetime | None = None

    @property
    def retries(self) -> int:
        """Attempts after the first."""
        return max(len(self.attempts) - 1, 0)

    @property
    def waited(self) -> _dt.timedelta:
        """Simulated time from the first attempt to the decision."""
        if self.started_at is None or self.ended_at is None:
            return _dt.timedelta(0)
        return self.ended_at - self.started_at

    def to_record(self) -> dict[str, Any]:
        """One plain dict (a DataFrame row)."""
        return {
            "rule": self.rule,
            "function_arn": self.function_arn,
            "mode": "sync" if self.synchronous else "async",
            "invocation_id": self.invocation_id,
            "message_id": self.message_id,
            "conversation": self.conversation,
            "recipients": len(self.recipients),
            "attempts": len(self.attempts),
            "outcome": self.outcome,
            "reason": self.reason,
            "waited_s": self.waited.total_seconds(),
            "duration_ms": sum(a.duration_ms for a in self.attempts),
        }


@dataclass
class BounceRecord:
    """A bounce message (a non-delivery report) for one or more recipients of a message.

    ``to`` is where it went (the envelope sender), None when it could not be
    sent (a null sender, ``<>``, is never bounced to). ``delivered`` says how:
    ``"mailbox"`` (an internal sender), ``"internet"`` (recorded in the
    organization's outbox), or None with ``reason``.
    """

    recipients: tuple[str, ...]
    text: str | None
    to: str | None
    delivered: str | None
    reason: str = ""
    content: bytes | None = None


@dataclass
class FlowResult:
    """What happened to one message: a final state per recipient, the invocations and the timings.

    ``recipients`` maps each recipient (lower case) to its
    :class:`RecipientOutcome`, in the order they were seen (original
    recipients, then those a function added). ``skipped`` lists header
    recipients WorkMail never receives (inbound mail for other domains: the
    sending server delivers those itself). ``timings`` holds wall-clock
    milliseconds per stage (``parse``, ``rules``, ``lambda``, ``deliver``,
    ``total``); ``received_at`` and ``completed_at`` are simulated times (a
    retried function moves the clock).
    """

    direction: str
    trace_id: str
    smtp_message_id: str | None
    subject: str
    mail_from: str | None
    received_at: _dt.datetime
    recipients: dict[str, RecipientOutcome] = field(default_factory=dict)
    invocations: list[InvocationRecord] = field(default_factory=list)
    bounces: list[BounceRecord] = field(default_factory=list)
    skipped: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    completed_at: _dt.datetime | None = None
    note: str = ""

    def __getitem__(self, recipient: str) -> RecipientOutcome:
        key = recipient.strip().lower()
        try:
            return self.recipients[key]
        except KeyError:
            known = ", ".join(self.recipients) or "none"
            raise KeyError(f"{recipient!r} is not a recipient of this message (recipients: {known})") from None

    def outcome(self, recipient: str) -> str:
        """The final state of ``recipient``: ``inbox``, ``junk``, ``dropped``, ``bounced``, ``sent`` or ``failed``."""
        return self[recipient].outcome

    @property
    def outcomes(self) -> dict[str, str]:
        """``{recipient: outcome}``."""
        return {r: o.outcome for r, o in self.recipients.items()}

    def check(self) -> FlowResult:
        """Raise :class:`SandboxError` unless every recipient has exactly one known final state."""
        for recipient, outcome in self.recipients.items():
            if outcome.recipient != recipient or outcome.outcome not in OUTCOMES:
                raise SandboxError(
                    f"Recipient {recipient!r} has no valid final state ({outcome.outcome!r}).",
                    fix="this is a bug in the kit's flow engine; please report it with the message",
                )
            if outcome.outcome == FAILED and not outcome.reason:
                raise SandboxError(f"Recipient {recipient!r} failed without a reason.", fix="report this bug")
        return self

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per recipient."""
        return [o.to_record() for o in self.recipients.values()]

    def to_dataframe(self):
        """One row per recipient: outcome, action, rule, source, reason, invocation, ..."""
        import pandas as pd

        return pd.DataFrame(self.to_records(), columns=list(RECIPIENT_COLUMNS))

    def invocations_dataframe(self):
        """One row per Run Lambda invocation (all attempts of one invocation in one row)."""
        import pandas as pd

        rows = [i.to_record() for i in self.invocations]
        columns = [
            "rule", "function_arn", "mode", "invocation_id", "message_id", "conversation", "recipients",
            "attempts", "outcome", "reason", "waited_s", "duration_ms",
        ]
        return pd.DataFrame(rows, columns=columns)

    def summary(self) -> str:
        """A few lines a learner can read."""
        head = f"{self.direction} {self.subject[:60]!r} from {self.mail_from or '(none)'}"
        lines = [head]
        for o in self.recipients.values():
            by = f" by rule {o.rule!r}" if o.rule else ""
            lines.append(f"  {o.recipient}: {o.outcome} ({o.action}{by}, {o.source}) {o.reason}".rstrip())
        for inv in self.invocations:
            lines.append(
                f"  Run Lambda {inv.rule!r} ({'sync' if inv.synchronous else 'async'}): {inv.outcome} after "
                f"{len(inv.attempts)} attempt(s){', ' + inv.reason if inv.reason else ''}"
            )
        for b in self.bounces:
            lines.append(f"  bounce for {', '.join(b.recipients)} -> {b.to or '(not sent)'} {b.reason}".rstrip())
        if self.skipped:
            lines.append(f"  not for this organization (another server delivers them): {', '.join(self.skipped)}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
