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
from ..handler_logs import in_your_terms, own_lines, tail

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
    #: The attempt's log as Lambda wrote it to CloudWatch Logs ("" when the function did not run).
    log: str = ""


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

    def own_log(self) -> list[str]:
        """What the function itself printed and logged, over every attempt, in your terms.

        Lambda's START/END/REPORT lines are left out and a traceback points at
        the cell or file the handler was written in (:mod:`workmail_sandbox.handler_logs`).
        """
        lines: list[str] = []
        several = len(self.attempts) > 1
        for attempt in self.attempts:
            if not attempt.log:
                continue
            if several:
                lines.append(f"-- attempt {attempt.number}")
            lines.extend(own_lines(in_your_terms(attempt.log, self.function_arn)))
        return lines

    def failure(self) -> str:
        """Why the function gave no usable answer, in a learner's words ("" when it answered)."""
        failed = [a for a in self.attempts if not a.ok and a.error]
        if not failed:
            return ""
        return _failure_words(failed[-1].error or "")

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

    def invocation(self, invocation_id: str | None) -> InvocationRecord | None:
        """The Run Lambda invocation with ``invocation_id`` (None when no function decided)."""
        return next((i for i in self.invocations if invocation_id and i.invocation_id == invocation_id), None)

    def explain(self, recipient: str) -> str:
        """Where ``recipient`` ended and why, in a learner's words.

        What the function answered and what the rule did when it could not
        answer are separate sentences: "Your function answered BOUNCE." or
        "Your function was not allowed to run (no permission). The rule's
        fallback action MOVE_TO_JUNK applied.", then the details.
        """
        o = self[recipient]
        where = {"inbox": "delivered to the inbox", "junk": "delivered to the junk folder", "dropped": "dropped",
                 "bounced": "bounced", "sent": "sent", "failed": "not delivered"}.get(o.outcome, o.outcome)
        head = f"{o.recipient}: {where}."
        invocation = self.invocation(o.invocation_id)
        if o.source == "lambda":
            where_in_answer = o.reason.removeprefix("the function's response, ")
            return f"{head} Your function answered {o.action}, in {where_in_answer}."
        if o.source == "fallback" and invocation is not None:
            failure = invocation.failure() if invocation.outcome == "fallback" else ""
            if failure:
                tries = len(invocation.attempts)
                after = f" after {tries} attempts" if tries > 1 else ""
                return (f"{head} {failure}{after}. The rule's fallback action {o.action} applied "
                        f"(rule {o.rule!r}).\n    why: {_detail(invocation)}")
            return (f"{head} Your function answered, but not for this recipient. The rule's fallback action "
                    f"{o.action} applied ({o.reason}).")
        if o.source == "fallback":
            return f"{head} The rule's fallback action {o.action} applied ({o.reason})."
        by = f" by rule {o.rule!r}" if o.rule else ""
        return f"{head} {o.action}{by} ({o.source}): {o.reason}".rstrip(": ")

    def function_logs(self) -> dict[str, list[str]]:
        """``{"rule (invocation n)": lines}``: what the function printed and logged, per invocation."""
        logs: dict[str, list[str]] = {}
        for number, invocation in enumerate(self.invocations, 1):
            label = f"{invocation.rule!r}" + (f" (invocation {number})" if len(self.invocations) > 1 else "")
            logs[label] = invocation.own_log()
        return logs

    def summary(self) -> str:
        """A few lines a learner can read."""
        head = f"{self.direction} {self.subject[:60]!r} from {self.mail_from or '(none)'}"
        lines = [head]
        for o in self.recipients.values():
            invocation = self.invocation(o.invocation_id) if o.source == "fallback" else None
            if invocation is not None and invocation.outcome == "fallback" and invocation.failure():
                lines.append("  " + self.explain(o.recipient))  # what failed, then the fallback: two sentences
                continue
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

    def __repr__(self) -> str:
        """The summary, then the last lines each function printed or logged."""
        lines = [self.summary()]
        for label, log in self.function_logs().items():
            shown = tail(log) if log else ["(nothing printed or logged)"]
            lines.append(f"  log of Run Lambda {label}:")
            lines.extend(f"    {line}" for line in shown)
        return "\n".join(lines)


def _failure_words(error: str) -> str:
    """An attempt's error (``no permission: ...``, ``function error: ...``) as the start of a learner's sentence."""
    if error.startswith("no permission: "):
        return "Your function was not allowed to run (no permission)"
    if error.startswith("function error: "):
        kind = error[len("function error: "):].split(":", 1)[0]
        return f"Your function raised {kind}"
    if error.startswith("timed out: "):
        return "Your function did not answer in time"
    if error.startswith("invalid response: "):
        return "Your function's answer was not a valid response"
    return "Your function could not be run"


def _detail(invocation: InvocationRecord) -> str:
    """The last failed attempt's error without its category prefix, and what the rule timeout did."""
    failed = [a for a in invocation.attempts if not a.ok and a.error]
    error = failed[-1].error if failed else ""
    for prefix in ("no permission: ", "function error: ", "timed out: ", "invalid response: "):
        error = (error or "").removeprefix(prefix)
    if invocation.reason.startswith("rule timeout 0"):
        return f"{error} (rule timeout 0: no retry)"
    return error or invocation.reason
