"""The cheap part of routing: recipients, SMTP conversations, rules per recipient, and the events (a dry run).

:func:`plan` reads the header block only and invokes nothing; the router
(:mod:`workmail_sandbox.flow.engine`) then carries the plan out.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import EventError, SandboxError
from ..events import INBOUND, OUTBOUND, SmtpEnvelope, WorkMailEvent, events_from_message
from ..events.building import build_event, normalize_event_address
from ..events.from_message import split_conversations
from ..mail import ParsedMessage
from ..rules import Evaluation, Rule
from .headers import HeaderFacts, _normalized, _return_path, header_facts, to_raw

if TYPE_CHECKING:  # pragma: no cover
    from ..organization import Organization

__all__ = ["Job", "Plan", "plan"]


@dataclass
class Job:
    """One Run Lambda rule to run for one SMTP conversation: who it covers and the event it gets."""

    rule: Rule
    conversation: int
    recipients: tuple[str, ...]
    event: WorkMailEvent | None
    #: Why no event could be built (the invocation then fails), None when it was.
    problem: str | None = None

    @property
    def synchronous(self) -> bool:
        return self.rule.synchronous


@dataclass
class Plan:
    """What the rules decide for one message before any function runs (a dry run).

    ``evaluations`` holds one :class:`~workmail_sandbox.rules.Evaluation` per
    recipient; ``jobs`` the Run Lambda invocations that would happen, each with
    its event (its ``messageId`` is a placeholder: nothing is in transit yet);
    ``conversations`` the recipients of each SMTP conversation.
    """

    direction: str
    raw: bytes
    parsed: ParsedMessage
    trace_id: str
    recipients: list[str]
    skipped: tuple[str, ...]
    conversations: list[list[str]]
    conversation_of: dict[str, int]
    evaluations: dict[str, Evaluation]
    jobs: list[Job]
    sender_header: str | None
    from_address: str | None
    bounce_to: str | None
    null_sender: bool
    spam: bool
    virus: bool
    blocked: bool
    facts: HeaderFacts | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def events(self) -> list[WorkMailEvent]:
        """The events the functions would get, in invocation order."""
        return [j.event for j in self.jobs if j.event is not None]

    def to_dataframe(self):
        """One row per recipient: the rule that wins, the action, and the functions that run."""
        import pandas as pd

        rows = []
        for r in self.recipients:
            ev = self.evaluations.get(r)
            rows.append(
                {
                    "recipient": r,
                    "conversation": self.conversation_of.get(r, 0),
                    "rule": ev.winner.name if ev is not None and ev.winner is not None else None,
                    "action": ev.action if ev is not None else None,
                    "delivery_action": ev.delivery_action if ev is not None else None,
                    "functions": ", ".join(x.name for x in ev.lambda_rules) if ev is not None else "",
                    "header": ev.matched_header if ev is not None else None,
                }
            )
        columns = ["recipient", "conversation", "rule", "action", "delivery_action", "functions", "header"]
        return pd.DataFrame(rows, columns=columns)


def plan(
    org: Organization,
    message: Any,
    *,
    direction: str,
    envelope: SmtpEnvelope | None = None,
    conversations: Any = "single",
) -> Plan:
    """Rules and events for one message, without invoking anything or delivering (headers only)."""
    started = time.perf_counter()
    raw, parsed = to_raw(message)
    parsed_at = time.perf_counter()
    envelope = envelope or SmtpEnvelope()
    domains = org.domain_set
    addresses = header_facts(parsed)
    froms = addresses.from_addresses
    from_address = froms[0] if froms else None
    sender_header = addresses.sender
    if direction == "AUTO":  # replay: outbound when the author is one of the organization's
        author = from_address or sender_header or ""
        direction = OUTBOUND if author.rpartition("@")[2] in domains else INBOUND
    if envelope.recipients is not None:
        candidates = _normalized(envelope.recipients, "envelope.recipients")
    else:
        candidates = addresses.recipients
    if direction == INBOUND:
        recipients = [r for r in candidates if r.rpartition("@")[2] in domains]
        skipped = tuple(r for r in candidates if r.rpartition("@")[2] not in domains)
    else:
        recipients = list(candidates)
        skipped = ()
    rp_present, rp_address = _return_path(addresses.return_path)
    bounce_to: str | None
    if envelope.mail_from:
        bounce_to, null_sender = _normalized([envelope.mail_from], "envelope.mail_from")[0], False
    elif rp_present:
        bounce_to, null_sender = rp_address, rp_address is None
    else:
        bounce_to, null_sender = from_address or sender_header, False
    settings = org.settings
    spam = virus = blocked = False
    if direction == INBOUND:
        spam = addresses.spam_verdict == "FAIL"
        virus = addresses.virus_verdict == "FAIL" and settings.virus_verdict != "ignore"
        blocked = virus and settings.virus_verdict == "block"
        if virus and settings.virus_verdict == "junk":
            spam = True
    groups = _conversations(recipients, conversations, domains if direction == INBOUND else None)
    conversation_of: dict[str, int] = {}
    for index, group in enumerate(groups):
        for address in group:
            conversation_of.setdefault(address, index)
    recipients = list(conversation_of)
    # The event's mailFrom as events_from_message takes it: envelope MAIL FROM, else From, else Sender
    # (else the Return-Path, for a message with neither). Given explicitly, with the conversation's
    # recipients, so events_from_message does not read the address headers again.
    event_mail_from = envelope.mail_from or from_address or sender_header or bounce_to
    evaluations: dict[str, Evaluation] = {}
    jobs: list[Job] = []
    if not blocked and recipients:
        rules = org.rules
        evaluations = rules.evaluate_recipients(
            direction, recipients, sender_header=sender_header, from_address=from_address
        )
        buckets: dict[tuple[int, int], list[str]] = {}
        order: dict[int, Rule] = {}
        for r in recipients:
            for rule in evaluations[r].lambda_rules:
                order.setdefault(id(rule), rule)
                buckets.setdefault((conversation_of[r], id(rule)), []).append(r)
        for (conv, rule_id), members in sorted(buckets.items(), key=lambda kv: kv[0][0]):
            rule = order[rule_id]
            event, problem = None, None
            try:
                if event_mail_from:
                    built = _conversation_event(addresses, direction, domains, event_mail_from, members,
                                                settings.summary_version)
                else:  # no author at all: events_from_message says why (EventError)
                    built = events_from_message(
                        parsed,
                        direction=direction,
                        org_domains=domains,
                        envelope=SmtpEnvelope(mail_from=event_mail_from, recipients=members, extra=envelope.extra),
                        summary_version=settings.summary_version,
                    )
                if built:
                    event = built[0]
                else:  # pragma: no cover - members are org recipients
                    problem = "no recipient of the organization in this conversation"
            except EventError as exc:
                problem = f"the event cannot be built: {exc}"
            jobs.append(Job(rule, conv, tuple(members), event, problem))
    done = time.perf_counter()
    return Plan(
        direction=direction,
        raw=raw,
        parsed=parsed,
        trace_id=str(uuid.uuid4()),
        recipients=recipients,
        skipped=skipped,
        conversations=groups,
        conversation_of=conversation_of,
        evaluations=evaluations,
        jobs=jobs,
        sender_header=sender_header,
        from_address=from_address,
        bounce_to=bounce_to,
        null_sender=null_sender,
        spam=spam,
        virus=virus,
        blocked=blocked,
        facts=addresses,
        timings={"parse": (parsed_at - started) * 1000, "rules": (done - parsed_at) * 1000},
    )


def _conversation_event(
    facts: HeaderFacts, direction: str, domains: set[str], mail_from: str, members: list[str], summary_version: str
) -> list[WorkMailEvent]:
    """``events_from_message(parsed, envelope=SmtpEnvelope(mail_from, members), ...)`` for one conversation,
    reading From, Sender and Subject from the plan's :class:`HeaderFacts` (the same values, without
    :class:`~workmail_sandbox.mail.ParsedMessage` reading those fields again). ``mail_from`` is not empty."""
    sender = facts.sender if facts.sender is not None and facts.sender not in facts.from_addresses else None
    if sender is not None and sender == normalize_event_address(mail_from, "envelope.mailFrom.address"):
        sender = None  # a Sender with no From is the author, not someone acting on behalf
    recipients = list(
        dict.fromkeys(normalize_event_address(a, f"envelope.recipients[{i}]") for i, a in enumerate(members))
    )
    if direction == INBOUND:
        recipients = [a for a in recipients if a.rpartition("@")[2] in domains]
        if not recipients:
            return []
    return [build_event(mail_from=mail_from, recipients=recipients, subject=facts.subject, sender=sender,
                        direction=direction, summary_version=summary_version)]


def _conversations(recipients: list[str], conversations: Any, domains: set[str] | None) -> list[list[str]]:
    """Recipients split into SMTP conversations; none lost, each in one conversation, empty ones dropped."""
    if not recipients:
        return []
    if isinstance(conversations, str):
        groups = split_conversations(recipients, conversations)
    else:
        try:
            groups = [_normalized(g, "conversations") for g in conversations]
        except TypeError:
            raise SandboxError(
                f"conversations must be 'single', 'per-domain' or a list of recipient lists, got {conversations!r}.",
                fix="pass conversations=[['a@example.com'], ['b@example.com']]",
            ) from None
        listed = {a for g in groups for a in g}
        leftovers = [r for r in recipients if r not in listed]
        if leftovers:  # recipients no conversation names get one of their own: nothing is lost
            groups.append(leftovers)
    if domains is not None:
        groups = [[a for a in g if a.rpartition("@")[2] in domains] for g in groups]
    seen: set[str] = set()
    out = []
    for g in groups:
        fresh = [a for a in g if a not in seen]
        seen.update(fresh)
        if fresh:
            out.append(fresh)
    return out


