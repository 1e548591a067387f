"""Amazon SES receiving in the sandbox: the active receipt rule set run on one message.

:func:`ses_receive` (``workmail_sandbox.ses_receive``) and :class:`SesReceiving`
take a message with its envelope, read the ACTIVE receipt rule set from the
sandbox's SES (moto stores rule sets and rules; it never receives mail) and run
its enabled rules in order for the envelope recipients, as SES does
(docs/aws-behaviour.md §7, docs/ses.md):

* a recipient outside every verified domain identity, or matched by no enabled
  rule, is rejected; with no active rule set every recipient is;
* each rule's actions run in order for the recipients it matched: ``S3`` (the
  bucket policy must let ``ses.amazonaws.com`` put the object; key =
  ObjectKeyPrefix + the SES message id), ``Lambda`` (the function's resource
  policy must let ``ses.amazonaws.com`` invoke it; the event of
  :func:`~workmail_sandbox.ses.build_ses_event`; ``Event`` or
  ``RequestResponse`` with a 30-second limit and its disposition), ``SNS``
  (the whole message up to 150 KB, UTF-8 or Base64; larger ones bounce),
  ``Bounce``, ``Stop``, ``AddHeader`` and ``WorkMail`` (recorded only);
* ``TlsPolicy`` ``Require`` bounces a message that did not arrive over TLS.

Inside the function, ``ses.send_bounce`` for the message is answered as SES
answers it and recorded (:mod:`workmail_sandbox.ses._hooks`).

Where SES does not say what happens, the kit's choice is a keyword argument:
``stop_scope`` (a stop ends the rule set for the recipients the stopping rule
matched: ``"recipients"``, or for the whole message: ``"message"``) and
``sync_error_disposition`` (what a failed or timed-out RequestResponse
invocation counts as: ``"CONTINUE"`` by default). A failed action (no
permission, no bucket) is recorded and the next action runs.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .. import permissions
from .._internal_clients import sandbox_client
from ..errors import ConfigurationError, SandboxError
from ..mail import ParsedMessage, normalize_address, parse_message
from . import _hooks
from .bounces import SesBounce
from .event import build_ses_mail, build_ses_receipt, lambda_action, new_ses_message_id, ses_record, ses_timestamp
from .rules import (
    CONTINUE,
    DISPOSITIONS,
    MAX_ACTIONS_PER_RULE,
    MAX_RULES_PER_RULE_SET,
    REQUEST_RESPONSE_TIMEOUT_SECONDS,
    S3_MESSAGE_LIMIT_BYTES,
    SNS_MESSAGE_LIMIT_BYTES,
    STOP_RULE,
    STOP_RULE_SET,
    disposition_of,
    receipt_rule_arn,
    rule_matches,
    verified_domain_of,
)

__all__ = ["SesAction", "SesBounce", "SesReceipt", "SesReceiving", "ses_accepts", "ses_receive"]

#: The final outcome of a recipient, strongest first: the first that happened to it is its outcome.
OUTCOMES = ("rejected", "bounced", "stored", "published", "workmail", "stopped", "processed", "accepted")
_STOP_SCOPES = ("recipients", "message")


@dataclass
class SesAction:
    """One action of a rule, run (or not) for the recipients the rule matched, and what came of it."""

    rule: str
    position: int
    type: str
    recipients: tuple[str, ...]
    outcome: str
    detail: str
    disposition: str | None = None
    location: str | None = None
    event: dict[str, Any] | None = field(default=None, repr=False)
    invocation: Any = field(default=None, repr=False)


@dataclass
class SesReceipt:
    """What SES receiving did with one message: rules matched, actions in order, each recipient's outcome."""

    message_id: str
    rule_set: str | None
    sender: str
    recipients: tuple[str, ...]
    received_at: _dt.datetime
    tls: bool
    actions: list[SesAction] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    rules_matched: dict[str, list[str]] = field(default_factory=dict)
    bounces: list[SesBounce] = field(default_factory=list)
    raw: bytes = field(default=b"", repr=False)

    @property
    def trace_id(self) -> str:
        """The SES message id (the SMTP door's ``250 ... queued as`` id)."""
        return self.message_id

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events the Lambda actions sent, in order."""
        return [a.event for a in self.actions if a.event is not None]

    @property
    def event(self) -> dict[str, Any] | None:
        """The first Lambda action's event, or None when no function was invoked."""
        events = self.events
        return events[0] if events else None

    @property
    def accepted(self) -> tuple[str, ...]:
        """The envelope recipients SES accepted (not rejected)."""
        return tuple(r for r in self.recipients if self.outcomes.get(r) != "rejected")

    def outcome(self, recipient: str) -> str:
        """The final outcome for ``recipient``: one of :data:`OUTCOMES`."""
        try:
            return self.outcomes[normalize_address(recipient)]
        except KeyError:
            raise ConfigurationError(
                f"{recipient!r} is not an envelope recipient of message {self.message_id}.",
                fix=f"use one of {', '.join(self.recipients)}",
            ) from None

    def table(self) -> Any:
        """Every action run, in order, as a pandas DataFrame (rule, position, type, recipients, outcome, detail)."""
        import pandas as pd

        rows = [
            {"rule": a.rule, "position": a.position, "action": a.type, "recipients": ", ".join(a.recipients),
             "outcome": a.outcome, "disposition": a.disposition or "", "detail": a.detail}
            for a in self.actions
        ]
        columns = ["rule", "position", "action", "recipients", "outcome", "disposition", "detail"]
        return pd.DataFrame(rows, columns=columns)

    def summary(self) -> str:
        """A few lines: the message, then each recipient's outcome and why."""
        lines = [f"SES message {self.message_id} from {self.sender or '<>'} (rule set {self.rule_set or 'none'})"]
        lines += [f"  {r}: {self.outcomes.get(r, '?')} ({self.reasons.get(r, '')})" for r in self.recipients]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the message id, rule set, outcomes, actions (without events) and bounces."""
        return {
            "messageId": self.message_id,
            "ruleSet": self.rule_set,
            "sender": self.sender,
            "outcomes": dict(self.outcomes),
            "reasons": dict(self.reasons),
            "actions": [{"rule": a.rule, "position": a.position, "type": a.type, "recipients": list(a.recipients),
                         "outcome": a.outcome, "disposition": a.disposition, "detail": a.detail,
                         "location": a.location} for a in self.actions],
            "bounces": [b.__dict__ | {"recipients": list(b.recipients)} for b in self.bounces],
        }

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for value in self.outcomes.values():
            counts[value] = counts.get(value, 0) + 1
        shown = ", ".join(f"{n} {o}" for o, n in counts.items()) or "no recipients"
        rule_set = self.rule_set or "none"
        return f"<SesReceipt {self.message_id} rule set {rule_set}: {shown}; {len(self.actions)} actions>"


def _require(sandbox: Any) -> Any:
    if sandbox is None:
        from ..sandbox import current

        sandbox = current()
    if sandbox is None or not getattr(sandbox, "started", False):
        raise SandboxError(
            "SES receiving runs in the sandbox, and no sandbox is running.",
            fix="start one first: sb = workmail_sandbox.start()",
        )
    return sandbox


def _choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigurationError(f"{name}={value!r} is not one of {', '.join(allowed)}.",
                                 fix=f"pass {name}={allowed[0]!r}")
    return str(value)


class SesReceiving:
    """SES receiving for one sandbox (its Region and account): :meth:`receive` runs the active rule set."""

    def __init__(self, sandbox: Any = None, *, region: str | None = None) -> None:
        self.sandbox = _require(sandbox)
        self.region = region or self.sandbox.region
        self.account = self.sandbox.account_id

    # -- what SES holds ---------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        return sandbox_client(service, self.region)

    def active_rule_set(self) -> tuple[str | None, list[dict[str, Any]]]:
        """(name, rules in order) of the active receipt rule set; (None, []) when none is active."""
        answer = self._client("ses").describe_active_receipt_rule_set()
        metadata = answer.get("Metadata") or {}
        return metadata.get("Name"), list(answer.get("Rules") or [])

    def verified_domains(self) -> list[str]:
        """The domain identities of SES in this Region (moto verifies them at once)."""
        ses = self._client("ses")
        names = ses.list_identities(IdentityType="Domain").get("Identities", [])
        if not names:
            return []
        attributes = ses.get_identity_verification_attributes(Identities=names)["VerificationAttributes"]
        return [n for n in names if attributes.get(n, {}).get("VerificationStatus") == "Success"]

    def accepts(self, recipient: str) -> tuple[bool, str]:
        """Would SES accept mail for ``recipient``? (verified domain, active rule set, an enabled rule matching)."""
        address = normalize_address(recipient)
        if verified_domain_of(address, self.verified_domains()) is None:
            return False, f"{address} is in no verified SES domain identity of {self.region}"
        name, rules = self.active_rule_set()
        if name is None:
            return False, f"no receipt rule set is active in {self.region}"
        if not any(r.get("Enabled") and rule_matches(r, address) for r in rules):
            return False, f"no enabled rule of the active receipt rule set {name} matches {address}"
        return True, f"rule set {name} accepts {address}"

    # -- receiving ------------------------------------------------------------------------------

    def receive(
        self,
        message: Any,
        *,
        recipients: Iterable[str] | None = None,
        sender: str | None = None,
        tls: bool = True,
        spam: str = "PASS",
        virus: str = "PASS",
        spf: str = "PASS",
        dkim: str = "PASS",
        dmarc: str = "PASS",
        dmarc_policy: str | None = None,
        stop_scope: str = "recipients",
        sync_error_disposition: str = CONTINUE,
    ) -> SesReceipt:
        """Receive ``message`` (bytes, str, path or ParsedMessage) for ``recipients`` from ``sender``.

        ``recipients`` default to the message's To, Cc and Bcc; ``sender`` (envelope MAIL FROM) to its
        first From address. ``tls``: did it arrive over TLS (TlsPolicy Require bounces it if not). The
        verdicts are what SES's checks found (default PASS). See the module docstring for
        ``stop_scope`` and ``sync_error_disposition``.
        """
        _choice("stop_scope", stop_scope, _STOP_SCOPES)
        _choice("sync_error_disposition", sync_error_disposition, DISPOSITIONS)
        parsed = message if isinstance(message, ParsedMessage) else parse_message(message)
        if sender is None:
            if not parsed.from_addresses:
                raise ConfigurationError("The message has no From address to use as the envelope sender.",
                                         fix="pass sender='someone@example.com'")
            sender = parsed.from_addresses[0]
        source = normalize_address(sender)
        if isinstance(recipients, str):
            raise ConfigurationError("recipients must be a list of addresses, not one string.",
                                     fix=f"pass recipients=[{recipients!r}]")
        envelope = list(dict.fromkeys(normalize_address(r) for r in (parsed.recipients if recipients is None
                                                                       else recipients)))
        if not envelope:
            raise ConfigurationError("The message has no recipients.", fix="pass recipients=['user@example.com']")
        verdicts: dict[str, Any] = {"spam": spam, "virus": virus, "spf": spf, "dkim": dkim, "dmarc": dmarc,
                    "dmarc_policy": dmarc_policy}
        build_ses_receipt(recipients=envelope, action={}, timestamp="", **verdicts)  # checks the verdicts now
        run = _Run(self, parsed, source, envelope, tls, verdicts, stop_scope, sync_error_disposition)
        return run.go()


class _Run:
    """One message through the active rule set (the state :meth:`SesReceiving.receive` keeps)."""

    def __init__(self, receiving: SesReceiving, parsed: ParsedMessage, source: str, envelope: list[str],
                 tls: bool, verdicts: dict[str, Any], stop_scope: str, sync_error: str) -> None:
        self.r = receiving
        self.parsed = parsed
        self.raw = parsed.raw
        self.started = time.monotonic()
        self.clock = receiving.sandbox.clock
        now = self.clock.now()
        self.receipt = SesReceipt(new_ses_message_id(), None, source, tuple(envelope), now, tls, raw=self.raw)
        self.mail_stamp = ses_timestamp(now)
        self.verdicts = verdicts
        self.stop_scope = stop_scope
        self.sync_error = sync_error

    # outcomes ------------------------------------------------------------------------------------

    def _mark(self, recipients: Iterable[str], outcome: str, reason: str) -> None:
        for r in recipients:
            old = self.receipt.outcomes.get(r)
            if old is None or OUTCOMES.index(outcome) < OUTCOMES.index(old):
                self.receipt.outcomes[r] = outcome
                self.receipt.reasons[r] = reason

    def go(self) -> SesReceipt:
        receipt = self.receipt
        name, rules = self.r.active_rule_set()
        receipt.rule_set = name
        domains = self.r.verified_domains()
        live: list[str] = []
        for r in receipt.recipients:
            if verified_domain_of(r, domains) is None:
                self._mark([r], "rejected", f"{r} is in no verified SES domain identity of {self.r.region}")
            elif name is None:
                self._mark([r], "rejected", f"no receipt rule set is active in {self.r.region}: SES receives no mail")
            elif not any(rule.get("Enabled") and rule_matches(rule, r) for rule in rules):
                self._mark([r], "rejected", f"no enabled rule of the active rule set {name} matches {r}")
            else:
                live.append(r)
        if name is not None and live:
            _check_quotas(name, rules)
        if live:
            _hooks.remember(self.r.account, self.r.region, receipt.message_id, receipt.sender, live,
                            receipt.received_at)
        for rule in rules:
            if not live:
                break
            if not rule.get("Enabled"):
                continue
            matched = [r for r in live if rule_matches(rule, r)]
            if not matched:
                continue
            stop = self._run_rule(str(name), rule, matched)
            for r in matched:
                receipt.rules_matched.setdefault(r, []).append(rule["Name"])
            if stop:
                live = [] if self.stop_scope == "message" else [r for r in live if r not in matched]
        for r in receipt.recipients:
            if r not in receipt.outcomes:
                receipt.outcomes[r], receipt.reasons[r] = "accepted", "accepted; no action stored or bounced it"
        receipt.bounces.extend(_hooks.take_bounces(receipt.message_id))
        for bounce in receipt.bounces:
            if bounce.via == "SendBounce":
                self._mark([r for r in bounce.recipients if r in receipt.recipients], "bounced",
                           f"the function called SendBounce ({bounce.smtp_reply_code})")
        return receipt

    def _run_rule(self, set_name: str, rule: Mapping[str, Any], matched: list[str]) -> bool:
        """Run one rule's actions for ``matched``; True when the rule set stops for them."""
        rule_name = str(rule["Name"])
        source_arn = receipt_rule_arn(self.r.region, self.r.account, set_name, rule_name)
        if rule.get("TlsPolicy") == "Require" and not self.receipt.tls:
            why = "the rule's TlsPolicy is Require and the message did not arrive over TLS"
            self._bounce("TlsPolicy", rule_name, matched, "550", "5.7.1", why)
            self._record(rule_name, 0, "TlsPolicy", matched, "bounced", why)
            self._mark(matched, "bounced", f"rule {rule_name}: {why}")
            return True
        actions = list(rule.get("Actions") or [])
        for position, action in enumerate(actions, start=1):
            kind, spec = next(iter(action.items()))
            handler = getattr(self, f"_do_{kind}", None)
            if handler is None:
                self._record(rule_name, position, kind.removesuffix("Action"), matched, "not emulated",
                             f"the sandbox does not run {kind}; it was skipped")
                continue
            flow = handler(rule_name, position, spec, matched, source_arn)
            if flow in (STOP_RULE, STOP_RULE_SET):
                why = "the rule stopped (STOP_RULE)" if flow == STOP_RULE else "the rule set stopped"
                for later, skipped in enumerate(actions[position:], start=position + 1):
                    self._record(rule_name, later, next(iter(skipped)).removesuffix("Action"), matched, "skipped",
                                 f"skipped: {why} at action {position}")
            if flow == STOP_RULE:
                return False
            if flow == STOP_RULE_SET:
                self._mark(matched, "stopped", f"rule {rule_name} stopped the rule set")
                return True
        return False

    def _record(self, rule: str, position: int, kind: str, recipients: list[str], outcome: str, detail: str,
                **extra: Any) -> SesAction:
        action = SesAction(rule, position, kind, tuple(recipients), outcome, detail, **extra)
        self.receipt.actions.append(action)
        return action

    def _bounce(self, via: str, rule: str | None, recipients: list[str], code: str, status: str | None,
                message: str, sender: str | None = None) -> None:
        bounce_from = sender or f"MAILER-DAEMON@{self.r.region}.amazonses.com"
        self.receipt.bounces.append(SesBounce(via, self.receipt.sender, bounce_from, tuple(recipients), code,
                                              status, message, rule))

    def _mail(self) -> dict[str, Any]:
        return build_ses_mail(self.parsed, source=self.receipt.sender, message_id=self.receipt.message_id,
                              timestamp=self.mail_stamp)

    def _receipt(self, recipients: list[str], action: Mapping[str, Any]) -> dict[str, Any]:
        elapsed = int((time.monotonic() - self.started) * 1000)
        return build_ses_receipt(recipients=recipients, action=action, timestamp=ses_timestamp(self.clock.now()),
                                 processing_time_ms=elapsed, **self.verdicts)

    def _notify(self, topic: str | None, recipients: list[str], action: Mapping[str, Any]) -> str:
        """Publish a receipt notification (no content) to an action's optional TopicArn; '' when there is none."""
        if not topic:
            return ""
        note = {"notificationType": "Received", "mail": self._mail(), "receipt": self._receipt(recipients, action)}
        try:
            self.r._client("sns").publish(TopicArn=topic, Subject="Amazon SES Email Receipt Notification",
                                          Message=json.dumps(note))
        except ClientError as exc:
            return f"; the notification to {topic} failed: {exc}"
        return f"; notified {topic}"

    # actions -------------------------------------------------------------------------------------

    def _do_S3Action(self, rule: str, position: int, spec: Mapping[str, Any], matched: list[str],
                     source_arn: str) -> str:
        bucket = str(spec.get("BucketName", ""))
        key = str(spec.get("ObjectKeyPrefix") or "") + self.receipt.message_id
        if len(self.raw) > S3_MESSAGE_LIMIT_BYTES:
            self._record(rule, position, "S3", matched, "failed",
                         f"the message is {len(self.raw)} bytes, over the S3 action's 30 MB")
            return CONTINUE
        s3 = self.r._client("s3")
        try:
            policy: str | None = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code != "NoSuchBucketPolicy":
                self._record(rule, position, "S3", matched, "failed", f"SES could not write to {bucket}: {code}")
                return CONTINUE
            policy = None
        check = permissions.ses_bucket_write_decision(bucket, policy, key=key, source_arn=source_arn,
                                                      account=self.r.account)
        if not check.allowed:
            self._record(rule, position, "S3", matched, "denied", check.reason)
            return CONTINUE
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=self.raw)
        except ClientError as exc:
            self._record(rule, position, "S3", matched, "failed", f"SES could not write s3://{bucket}/{key}: {exc}")
            return CONTINUE
        location = f"s3://{bucket}/{key}"
        action = {"type": "S3", "topicArn": spec.get("TopicArn"), "bucketName": bucket, "objectKey": key}
        note = self._notify(spec.get("TopicArn"), matched, {k: v for k, v in action.items() if v})
        kms = "; KmsKeyArn is not emulated: the object is stored unencrypted" if spec.get("KmsKeyArn") else ""
        self._record(rule, position, "S3", matched, "stored", f"stored {location}{note}{kms}", location=location)
        self._mark(matched, "stored", f"rule {rule} stored it at {location}")
        return CONTINUE

    def _do_LambdaAction(self, rule: str, position: int, spec: Mapping[str, Any], matched: list[str],
                         source_arn: str) -> str:
        arn = str(spec.get("FunctionArn", ""))
        kind = str(spec.get("InvocationType") or "Event")
        event = ses_record(self._mail(), self._receipt(matched, lambda_action(arn, kind)))
        check = permissions.ses_invoke_decision(arn, source_arn=source_arn, region=self.r.region,
                                                account=self.r.account)
        if not check.allowed:
            self._record(rule, position, "Lambda", matched, "denied", check.reason, event=event)
            return CONTINUE
        runtime = self.r.sandbox.runtime
        limit = REQUEST_RESPONSE_TIMEOUT_SECONDS if kind == "RequestResponse" else None
        try:
            result = runtime.invoke(arn, event, limit_seconds=limit)
        except ClientError as exc:
            self._record(rule, position, "Lambda", matched, "failed", f"the invocation failed: {exc}", event=event)
            return self.sync_error if kind == "RequestResponse" else CONTINUE
        note = self._notify(spec.get("TopicArn"), matched, lambda_action(arn, kind))
        self._mark(matched, "processed", f"rule {rule} invoked {arn.rsplit(':', 1)[-1]}")
        if not result.ok:
            payload = result.payload if isinstance(result.payload, dict) else {}
            error = ("timed out" if result.timed_out else
                     f"function error {payload.get('errorType', 'Error')}: {payload.get('errorMessage', '')}")
            if kind == "Event":
                self._record(rule, position, "Lambda", matched, "failed",
                             f"Event invocation: {error}; SES is not told and the rule set goes on{note}",
                             event=event, invocation=result)
                return CONTINUE
            self._record(rule, position, "Lambda", matched, "failed",
                         f"RequestResponse: {error}; counted as {self.sync_error} (sync_error_disposition){note}",
                         disposition=self.sync_error, event=event, invocation=result)
            return self.sync_error
        if kind == "Event":
            self._record(rule, position, "Lambda", matched, "invoked",
                         f"invoked {arn} (Event): its result is ignored{note}", event=event, invocation=result)
            return CONTINUE
        disposition = disposition_of(result.payload)
        self._record(rule, position, "Lambda", matched, "invoked",
                     f"invoked {arn} (RequestResponse): disposition {disposition}{note}",
                     disposition=disposition, event=event, invocation=result)
        return disposition

    def _do_SNSAction(self, rule: str, position: int, spec: Mapping[str, Any], matched: list[str],
                      source_arn: str) -> str:
        topic = str(spec.get("TopicArn", ""))
        encoding = str(spec.get("Encoding") or "UTF-8")
        if len(self.raw) > SNS_MESSAGE_LIMIT_BYTES:
            why = f"the message is {len(self.raw)} bytes, over the SNS action's 150 KB: it bounces"
            self._bounce("SNS size", rule, matched, "552", "5.3.4", why)
            self._record(rule, position, "SNS", matched, "bounced", why)
            self._mark(matched, "bounced", f"rule {rule}: {why}")
            return STOP_RULE_SET
        if encoding == "Base64":
            content, label = base64.b64encode(self.raw).decode("ascii"), "BASE64"
        else:
            content, label = self.raw.decode("utf-8", "replace"), "UTF8"
        note = {"notificationType": "Received", "mail": self._mail(),
                "receipt": self._receipt(matched, {"type": "SNS", "topicArn": topic, "encoding": label}),
                "content": content}
        try:
            self.r._client("sns").publish(TopicArn=topic, Subject="Amazon SES Email Receipt Notification",
                                          Message=json.dumps(note))
        except ClientError as exc:
            self._record(rule, position, "SNS", matched, "failed", f"publishing to {topic} failed: {exc}")
            return CONTINUE
        self._record(rule, position, "SNS", matched, "published", f"published the message to {topic} ({encoding})",
                     location=topic)
        self._mark(matched, "published", f"rule {rule} published it to {topic}")
        return CONTINUE

    def _do_BounceAction(self, rule: str, position: int, spec: Mapping[str, Any], matched: list[str],
                         source_arn: str) -> str:
        code, status = str(spec.get("SmtpReplyCode", "550")), spec.get("StatusCode")
        text, sender = str(spec.get("Message", "")), str(spec.get("Sender", ""))
        self._bounce("BounceAction", rule, matched, code, status, text, sender)
        action = {"type": "Bounce", "topicArn": spec.get("TopicArn"), "smtpReplyCode": code, "statusCode": status,
                  "message": text, "sender": sender}
        note = self._notify(spec.get("TopicArn"), matched, {k: v for k, v in action.items() if v})
        self._record(rule, position, "Bounce", matched, "bounced",
                     f"bounce {code} {status or ''} from {sender} to {self.receipt.sender}: {text}{note}")
        self._mark(matched, "bounced", f"rule {rule} bounced it ({code})")
        return CONTINUE

    def _do_StopAction(self, rule: str, position: int, spec: Mapping[str, Any], matched: list[str],
                       source_arn: str) -> str:
        note = self._notify(spec.get("TopicArn"), matched, {"type": "Stop", "topicArn": spec.get("TopicArn")})
        self._record(rule, position, "Stop", matched, "stopped", f"the rule set stops here{note}")
        return STOP_RULE_SET

    def _do_AddHeaderAction(self, rule: str, position: int, spec: Mapping[str, Any], matched: list[str],
                            source_arn: str) -> str:
        name, value = str(spec.get("HeaderName", "")), str(spec.get("HeaderValue", ""))
        newline = b"\r\n" if b"\r\n" in self.raw[:4096] else b"\n"
        self.raw = f"{name}: {value}".encode() + newline + self.raw
        self.parsed = parse_message(self.raw)
        self.receipt.raw = self.raw
        self._record(rule, position, "AddHeader", matched, "header added",
                     f"added {name}: {value} (later actions see it)")
        return CONTINUE

    def _do_WorkmailAction(self, rule: str, position: int, spec: Mapping[str, Any], matched: list[str],
                           source_arn: str) -> str:
        org = str(spec.get("OrganizationArn", ""))
        self._record(rule, position, "WorkMail", matched, "recorded",
                     f"handed to WorkMail organization {org} (recorded only: use Organization.receive for "
                     "WorkMail's own flow)")
        self._mark(matched, "workmail", f"rule {rule} handed it to WorkMail")
        return CONTINUE


def _check_quotas(name: str, rules: list[dict[str, Any]]) -> None:
    """The active rule set within SES's quotas (the kit's hooks refuse more at creation; this catches the rest)."""
    if len(rules) > MAX_RULES_PER_RULE_SET:
        raise ConfigurationError(
            f"The active receipt rule set {name} has {len(rules)} rules; SES allows {MAX_RULES_PER_RULE_SET}.",
            fix="delete rules, or split them over rule sets",
        )
    for rule in rules:
        if len(rule.get("Actions") or []) > MAX_ACTIONS_PER_RULE:
            raise ConfigurationError(
                f"Rule {rule.get('Name')} of {name} has {len(rule['Actions'])} actions; SES allows "
                f"{MAX_ACTIONS_PER_RULE} per rule.",
                fix="move actions to a second rule with the same Recipients",
            )


def ses_receive(message: Any, *, recipients: Iterable[str] | None = None, sender: str | None = None,
                **options: Any) -> SesReceipt:
    """Receive ``message`` with Amazon SES in the running sandbox: :meth:`SesReceiving.receive`."""
    return SesReceiving().receive(message, recipients=recipients, sender=sender, **options)


def ses_accepts(recipient: str, sandbox: Any = None) -> tuple[bool, str]:
    """Would SES in the sandbox accept mail for ``recipient``? ``(accepted, why)`` (the SMTP door asks this)."""
    return SesReceiving(sandbox).accepts(recipient)
