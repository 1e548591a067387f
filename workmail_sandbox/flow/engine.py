"""The flow engine: one message through the rules, the Run Lambda functions and delivery.

:func:`~workmail_sandbox.flow.planning.plan` is the cheap part (headers-only
parse, rules per recipient, the events each Run Lambda rule would get);
:func:`route` carries the plan out: it puts the message in transit, invokes the
functions (synchronous ones with retries on the simulated clock), applies the
decisions per recipient, delivers, bounces and logs. The organization
(:class:`workmail_sandbox.organization.Organization`) calls both; the steps and
the choices are documented there.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..errors import SandboxError
from ..events import INBOUND, OUTBOUND, SmtpEnvelope
from ..mail.parsing import parse_message
from ..rules import BOUNCE, BYPASS_SPAM_CHECK, DEFAULT, DROP, MOVE_TO_JUNK, ROUTE_TO_SMTP_GATEWAY
from .headers import to_raw
from .lambdas import Decision, LambdaSteps
from .mailboxes import INBOX_FOLDER, JUNK_FOLDER, MailItem, OutboxItem, build_bounce, strip_bcc
from .planning import Job, Plan, plan
from .results import (
    BOUNCED,
    DROPPED,
    FAILED,
    INBOX,
    JUNK,
    SENT,
    BounceRecord,
    FlowResult,
    RecipientOutcome,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..organization import Organization

__all__ = ["Job", "Plan", "plan", "route", "to_raw"]

RULE_TYPES = {INBOUND: "INBOUND_RULE", OUTBOUND: "OUTBOUND_RULE"}
#: Enhanced status codes in bounces (RFC 3463): 5.7.1 delivery not authorized
#: (a rule or function bounced it), 5.1.1 bad destination mailbox.
POLICY_STATUS = ("5.7.1", "550 5.7.1 Message rejected by the organization's email flow rules")
NO_MAILBOX_STATUS = ("5.1.1", "550 5.1.1 Mailbox does not exist")


class _Router(LambdaSteps):
    """Routes one planned message; holds the per-message state."""

    def __init__(self, org: Organization, p: Plan) -> None:
        self.org = org
        self.p = p
        self.settings = org.settings
        self.sandbox = org.sandbox
        self.clock = org.sandbox.clock
        self.log = org.log
        self.direction = p.direction
        self.trace = p.trace_id
        parsed = p.parsed
        self.subject = p.facts.subject if p.facts is not None else parsed.subject
        self.smtp_id = p.facts.message_id if p.facts is not None else parsed.message_id
        self.spam_verdict = p.facts.spam_verdict if p.facts is not None else parsed.spam_verdict
        self.virus_verdict = p.facts.virus_verdict if p.facts is not None else parsed.virus_verdict
        self.result = FlowResult(
            direction=p.direction,
            trace_id=p.trace_id,
            smtp_message_id=self.smtp_id,
            subject=self.subject,
            mail_from=p.from_address or p.bounce_to,
            received_at=self.clock.now(),
            skipped=p.skipped,
        )
        self.message_ids: dict[int, str] = {}
        self.decisions: dict[str, Decision] = {}
        self.conversation_of = dict(p.conversation_of)
        self.contents: dict[int, bytes] = {}
        self.subjects: dict[int, str] = {}
        self.domains = org.domain_set

    # -- logging helpers

    def event(self, name: str, **fields: Any) -> None:
        log = self.log
        if log.recording:
            log.add(self.trace, self.clock.now(), name, **fields)
        else:  # a replay's log: nobody reads it, so the event is not even built (counted as unwritten)
            log.unwritten += 1

    # -- stage 1: received

    def received(self) -> None:
        p = self.p
        common = {
            "recipients": list(p.recipients),
            "from": p.from_address,
            "sender": p.sender_header,
            "subject": self.subject,
        }
        if self.direction == INBOUND:
            self.event(
                "ORGANIZATION_EMAIL_RECEIVED",
                **common,
                messageId=self.smtp_id,
                spamVerdict=self.spam_verdict,
                virusVerdict=self.virus_verdict,
                messageTimestamp=self.result.received_at.isoformat(),
            )
        else:
            self.event("OUTGOING_EMAIL_SUBMITTED", **common, messageId=self.smtp_id)

    # -- stage 2: functions

    def decide_the_rest(self) -> None:
        p = self.p
        for r in p.recipients:
            if r in self.decisions:
                continue
            if p.blocked:
                self.decisions[r] = Decision(
                    DROP, None, "ses", "blocked by SES before any rule ran: X-SES-Virus-Verdict FAIL"
                )
                continue
            ev = p.evaluations[r]
            action = ev.delivery_action
            if action is None:  # a synchronous rule decides, but its job did not run: cannot happen
                action = DEFAULT  # pragma: no cover
            if ev.winner is None:
                if ev.lambda_rules:
                    names = ", ".join(x.name for x in ev.lambda_rules)
                    self.decisions[r] = Decision(
                        action, ev.lambda_rules[0].name, "rule",
                        f"asynchronous Run Lambda rule {names}: delivery is not affected", async_lambda=True,
                    )
                else:
                    self.decisions[r] = Decision(action, None, "no rule", "no rule matched: default delivery")
                continue
            winner = ev.winner
            how = f"matched on {ev.matched_header}" if ev.matched_header else "matched"
            if winner.is_run_lambda:
                reason = f"asynchronous Run Lambda rule {winner.name!r} ({how}): delivery is not affected, DEFAULT"
            else:
                reason = f"rule {winner.name!r} ({winner.label}), {how}"
            self.decisions[r] = Decision(action, winner.name, "rule", reason, async_lambda=winner.is_run_lambda)

    def log_rules(self) -> None:
        """RULE_APPLIED: once per rule that applied, its actions grouped by recipients."""
        groups: dict[str, dict[str, list[str]]] = {}
        for r, d in self.decisions.items():
            if d.rule is None or d.source == "ses" or d.async_lambda:
                continue
            groups.setdefault(d.rule, {}).setdefault(d.action, []).append(r)
        for job in self.p.jobs:  # asynchronous rules: the action is to run the function
            if not job.synchronous:
                groups.setdefault(job.rule.name, {}).setdefault("RUN_LAMBDA", []).extend(job.recipients)
        rule_type = RULE_TYPES[self.direction]
        for name, actions in groups.items():
            self.event(
                "RULE_APPLIED",
                ruleName=name,
                ruleType=rule_type,
                ruleActions=[{"action": a, "recipients": rs} for a, rs in actions.items()],
            )

    # -- stage 4: delivery

    def content_for(self, conversation: int) -> bytes | None:
        if not self.settings.keep_content:
            return None
        cached = self.contents.get(conversation)
        if cached is not None:
            return cached
        mid = self.message_ids.get(conversation)
        raw = self.sandbox.message_content(mid) if mid is not None else self.p.raw
        if self.settings.strip_bcc:
            raw = strip_bcc(raw)
        self.contents[conversation] = raw
        return raw

    def subject_for(self, conversation: int) -> str:
        """The subject of what a recipient receives: the function's replacement's, when it put one."""
        mid = self.message_ids.get(conversation)
        if mid is None or not self.sandbox.message_history(mid):
            return self.subject
        cached = self.subjects.get(conversation)
        if cached is None:
            content = self.sandbox.message_content(mid)
            cached = self.subjects[conversation] = parse_message(content, headers_only=True).subject or ""
        return cached

    def settle(self, recipient: str, outcome: str, d: Decision, **extra: Any) -> RecipientOutcome:
        if recipient in self.result.recipients:  # pragma: no cover - an engine bug
            raise SandboxError(f"{recipient} was given two final states.", fix="report this bug in the flow engine")
        conv = self.conversation_of.get(recipient, 0)
        settled = RecipientOutcome(
            recipient=recipient,
            outcome=outcome,
            action=d.action,
            rule=d.rule,
            source=extra.pop("source", d.source),
            reason=extra.pop("reason", d.reason),
            conversation=conv,
            message_id=self.message_ids.get(conv),
            invocation_id=d.invocation_id,
            added=d.added,
            bounce_message=d.bounce_message,
            spam_verdict=self.spam_verdict if self.direction == INBOUND else None,
            **extra,
        )
        self.result.recipients[recipient] = settled
        return settled

    def deliver(self) -> None:
        ordered = list(self.p.recipients) + [r for r in self.decisions if r not in self.p.conversation_of]
        bounced: dict[tuple[str | None, str, str], list[str]] = {}
        for r in ordered:
            d = self.decisions[r]
            if d.action == DROP:
                self.settle(r, DROPPED, d)
                self.event("EMAIL_DROPPED", recipient=r, reason=d.reason, outcome=DROPPED)
            elif d.action == BOUNCE:
                self._bounce(r, d, bounced, POLICY_STATUS, d.reason)
            elif self.direction == INBOUND:
                self._deliver_inbound(r, d, bounced)
            else:
                self._deliver_outbound(r, d, bounced)
        self.bounced_groups = bounced

    def _bounce(self, r: str, d: Decision, bounced: dict, status: tuple[str, str], reason: str) -> None:
        name = "INCOMING_EMAIL_BOUNCED" if self.direction == INBOUND else "OUTGOING_EMAIL_BOUNCED"
        self.settle(r, BOUNCED, d, reason=reason)
        self.event(
            name,
            bouncedRecipient={"emailAddress": r, "reason": reason, "status": status[0]},
            outcome=BOUNCED,
        )
        text = d.bounce_message if status is POLICY_STATUS else None
        bounced.setdefault((text, status[0], status[1]), []).append(r)

    def _targets(self, r: str) -> tuple[str, list[str]] | None:
        """``("user"|"group"|"created", mailbox addresses)`` for an address of the organization, or None."""
        return self.org._mailbox_targets(r, create=self.settings.unknown_recipients == "create-mailbox")

    def _put(self, r: str, d: Decision, folder: str, outcome: str | None) -> tuple[str, ...] | None:
        """Copies in the mailboxes ``r`` reaches; None when it has none (unknown), () for an empty group.

        The first MAILBOX_EMAIL_DELIVERED of a recipient carries its ``outcome``
        (inbound), so counting outcomes in the log counts recipients.
        """
        targets = self._targets(r)
        if targets is None:
            return None
        kind, addresses = targets
        content = self.content_for(self.conversation_of.get(r, 0))
        subject = self.subject_for(self.conversation_of.get(r, 0))
        now = self.clock.now()
        mid = self.message_ids.get(self.conversation_of.get(r, 0))
        for n, address in enumerate(addresses):
            self.org.mailbox(address, create=True).add(
                MailItem(
                    recipient=address,
                    folder=folder,
                    subject=subject,
                    mail_from=self.p.from_address,
                    smtp_message_id=self.smtp_id,
                    trace_id=self.trace,
                    received_at=now,
                    content=content,
                    message_id=mid,
                    bcc=d.added,
                )
            )
            self.event(
                "MAILBOX_EMAIL_DELIVERED",
                recipient=address,
                folder=folder,
                groupRecipient=r if kind == "group" else None,
                outcome=outcome if n == 0 else None,
            )
        return tuple(addresses)

    def _put_or_settle(self, r: str, d: Decision, folder: str, outcome: str | None, bounced: dict
                       ) -> tuple[str, ...] | None:
        """:meth:`_put`; an address with no mailbox bounces (550 5.1.1), a group without members fails.

        Returns the mailboxes reached, or None when ``r`` is already settled.
        """
        delivered = self._put(r, d, folder, outcome)
        if delivered is None:
            self._bounce(r, d, bounced, NO_MAILBOX_STATUS, f"{r} does not exist in the organization (550 5.1.1)")
            return None
        if not delivered:
            self.settle(r, FAILED, d, reason=f"{r} is a group with no members that have a mailbox")
            self.event("DELIVERY_FAILED", recipient=r, reason="group without members", outcome=FAILED)
            return None
        return delivered

    def _deliver_inbound(self, r: str, d: Decision, bounced: dict) -> None:
        action = d.action
        if action == MOVE_TO_JUNK:
            folder = JUNK_FOLDER
        elif action == BYPASS_SPAM_CHECK:
            folder = INBOX_FOLDER
        elif action == DEFAULT:
            folder = JUNK_FOLDER if self.p.spam else INBOX_FOLDER
        else:  # pragma: no cover - rules and responses allow no other inbound action
            self.settle(r, FAILED, d, reason=f"action {action} is not an inbound action")
            return
        outcome = JUNK if folder == JUNK_FOLDER else INBOX
        delivered = self._put_or_settle(r, d, folder, outcome, bounced)
        if delivered is None:
            return
        reason = d.reason
        if action == DEFAULT:
            reason += "; spam verdict FAIL: junk folder" if self.p.spam else ""
        elif action == BYPASS_SPAM_CHECK and self.p.spam:
            reason += "; spam verdict FAIL ignored (bypass spam check)"
        self.settle(r, outcome, d, reason=reason, delivered_to=delivered, via="mailbox")

    def _deliver_outbound(self, r: str, d: Decision, bounced: dict) -> None:
        action = d.action
        if action not in (DEFAULT, ROUTE_TO_SMTP_GATEWAY):  # pragma: no cover
            self.settle(r, FAILED, d, reason=f"action {action} is not an outbound action")
            return
        internal = r.rpartition("@")[2] in self.domains
        if action == DEFAULT and internal:
            delivered = self._put_or_settle(r, d, INBOX_FOLDER, None, bounced)
            if delivered is None:
                return
            self.settle(r, SENT, d, reason=d.reason + "; delivered to the organization's mailbox",
                        delivered_to=delivered, via="mailbox")
            self.event("OUTGOING_EMAIL_SENT", recipient=r, **{"from": self.p.from_address},
                       sender=self.p.sender_header, messageId=self.smtp_id, outcome=SENT, via="mailbox")
            return
        via = "smtp-gateway" if action == ROUTE_TO_SMTP_GATEWAY else "internet"
        conv = self.conversation_of.get(r, 0)
        self.org.outbox.append(
            OutboxItem(
                recipient=r,
                via=via,
                subject=self.subject_for(conv),
                mail_from=self.p.from_address,
                smtp_message_id=self.smtp_id,
                trace_id=self.trace,
                sent_at=self.clock.now(),
                content=self.content_for(conv),
                message_id=self.message_ids.get(conv),
                bcc=d.added,
            )
        )
        reason = d.reason + ("; sent through the SMTP gateway" if via == "smtp-gateway" else "")
        self.settle(r, SENT, d, reason=reason, via=via)
        self.event("OUTGOING_EMAIL_SENT", recipient=r, **{"from": self.p.from_address},
                   sender=self.p.sender_header, messageId=self.smtp_id, outcome=SENT, via=via)

    # -- stage 5: bounce messages

    def send_bounces(self) -> None:
        p = self.p
        for (text, status, diagnostic), recipients in getattr(self, "bounced_groups", {}).items():
            record = BounceRecord(tuple(recipients), text, None, None)
            self.result.bounces.append(record)
            if p.null_sender or not p.bounce_to:
                record.reason = (
                    "no bounce sent: the envelope sender is null (<>), and mail servers never bounce to it"
                    if p.null_sender
                    else "no bounce sent: the message names no sender"
                )
                self.event("BOUNCE_MESSAGE_SENT", recipients=list(recipients), reason=record.reason)
                continue
            to = p.bounce_to
            now = self.clock.now()
            content = build_bounce(
                original_headers=p.parsed.header_items,
                subject=self.subject,
                smtp_message_id=self.smtp_id,
                recipients=list(recipients),
                to=to,
                reporting_domain=self.org.default_domain,
                bounce_message=text,
                status=status,
                diagnostic=diagnostic,
                when=now,
            )
            record.to = to
            record.content = content
            subject = f"Undeliverable: {self.subject}" if self.subject else "Undeliverable message"
            sender = f"MAILER-DAEMON@{self.org.default_domain}"
            if to.rpartition("@")[2] in self.domains:
                targets = self.org._mailbox_targets(to, create=False)
                if not targets or not targets[1]:
                    record.reason = f"no bounce delivered: {to} has no mailbox in the organization"
                    self.event("BOUNCE_MESSAGE_SENT", recipients=list(recipients), to=to, reason=record.reason)
                    continue
                for address in targets[1]:
                    self.org.mailbox(address, create=True).add(
                        MailItem(address, INBOX_FOLDER, subject, sender, None, self.trace, now,
                                 content if self.settings.keep_content else None, kind="bounce")
                    )
                record.delivered = "mailbox"
            else:
                self.org.outbox.append(
                    OutboxItem(to, "internet", subject, sender, None, self.trace, now,
                               content if self.settings.keep_content else None, kind="bounce")
                )
                record.delivered = "internet"
            if not self.settings.keep_content:
                record.content = None
            self.event("BOUNCE_MESSAGE_SENT", recipients=list(recipients), to=to, via=record.delivered,
                       bounceMessage=text)

    # -- the end

    def finish(self) -> None:
        backend = self.org._messageflow()
        for mid in self.message_ids.values():
            backend.finish_transit(mid)
            if not self.settings.keep_content:
                backend.messages.pop(mid, None)  # replay: keep memory flat (the copy cannot be fetched later)


def route(
    org: Organization,
    message: Any,
    *,
    direction: str,
    envelope: SmtpEnvelope | None = None,
    conversations: Any = "single",
    planned: Plan | None = None,
) -> FlowResult:
    """Route one message through ``org`` (see :class:`~workmail_sandbox.organization.Organization`)."""
    p = planned or plan(org, message, direction=direction, envelope=envelope, conversations=conversations)
    started = time.perf_counter()
    router = _Router(org, p)
    try:
        if p.recipients and not p.blocked:  # WorkMail never receives these
            router.received()
        if p.blocked:
            router.event(
                "SES_BLOCKED",
                reason="X-SES-Virus-Verdict: FAIL; SES blocks known viruses before WorkMail rules run "
                "(FlowSettings.virus_verdict='block')",
                recipients=list(p.recipients),
            )
        lambda_started = time.perf_counter()
        if p.jobs:
            router.put_in_transit()
            router.run_jobs(synchronous=True)
        lambda_ms = (time.perf_counter() - lambda_started) * 1000
        router.decide_the_rest()
        router.log_rules()
        deliver_started = time.perf_counter()
        router.deliver()
        router.send_bounces()
        deliver_ms = (time.perf_counter() - deliver_started) * 1000
        if p.jobs:
            async_started = time.perf_counter()
            router.run_jobs(synchronous=False)  # while the message is delivered: cannot change it
            lambda_ms += (time.perf_counter() - async_started) * 1000
            router.finish()
        result = router.result
        if not result.recipients:
            result.note = (
                "no recipient in the organization's domains: WorkMail would never receive this message"
                if p.direction == INBOUND
                else "the message has no recipient address: there is nobody to send it to"
            )
    finally:
        org.log.flush()
    result.completed_at = org.sandbox.clock.now()
    result.timings = {
        **p.timings,
        "lambda": lambda_ms,
        "deliver": deliver_ms,
        "total": (time.perf_counter() - started) * 1000 + p.timings["parse"] + p.timings["rules"],
    }
    return result.check()
