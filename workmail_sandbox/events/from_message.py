"""The events WorkMail would send for one message: :func:`events_from_message`.

One event per SMTP conversation (docs/aws-behaviour.md §2.3). Assumptions,
where AWS does not say (each is a keyword argument you can change):

* When no conversations are given, the whole message is one SMTP conversation
  (a sender that delivers all recipients to WorkMail in one transaction).
  ``conversations="per-domain"`` models a sender that opens one conversation per
  recipient domain; an explicit list of recipient lists models anything else.
* Each conversation is its own message in transit, so it gets its own
  ``messageId`` and ``invocationId``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import EventError
from ..mail.message import ParsedMessage
from ..mail.parsing import parse_message
from .building import build_event, normalize_event_address
from .schema import DEFAULT_SUMMARY_VERSION, INBOUND, PAYLOAD_LIMIT_BYTES, normalize_direction
from .view import WorkMailEvent

__all__ = ["Conversations", "SmtpEnvelope", "events_from_message", "split_conversations"]


@dataclass(frozen=True)
class SmtpEnvelope:
    """The SMTP envelope of a message: MAIL FROM and RCPT TO, when known.

    When ``mail_from`` is given it wins over the message's headers; when
    ``recipients`` is given it replaces To, Cc and Bcc.
    """

    mail_from: str | None = None
    recipients: Sequence[str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


Conversations = Literal["single", "per-domain"] | Sequence[Sequence[str]]


def split_conversations(recipients: list[str], conversations: Conversations) -> list[list[str]]:
    """Group ``recipients`` into SMTP conversations, each a list of addresses.

    ``"single"``: one conversation with everyone; ``"per-domain"``: one per
    recipient domain, in order of first appearance; a list of recipient lists
    is taken as given (each address normalized). The flow engine plans its
    deliveries with the same grouping.
    """
    if conversations == "single":
        return [recipients]
    if conversations == "per-domain":
        groups: dict[str, list[str]] = {}
        for address in recipients:
            groups.setdefault(address.rsplit("@", 1)[-1], []).append(address)
        return list(groups.values())
    if isinstance(conversations, str):
        raise EventError(
            "conversations",
            f"must be 'single', 'per-domain' or a list of recipient lists, got {conversations!r}",
        )
    return [[normalize_event_address(a, "conversations") for a in group] for group in conversations]


def events_from_message(
    message: Any,
    *,
    direction: str = INBOUND,
    org_domains: Iterable[str] = (),
    envelope: SmtpEnvelope | None = None,
    conversations: Conversations = "single",
    message_id: str | None = None,
    summary_version: str = DEFAULT_SUMMARY_VERSION,
    payload_limit: int = PAYLOAD_LIMIT_BYTES,
) -> list[WorkMailEvent]:
    """The events WorkMail would send for one message: one per SMTP conversation.

    ``message`` is raw bytes, a path, an ``email`` message or a
    :class:`~workmail_sandbox.mail.ParsedMessage`. Rules applied (AWS docs,
    *Lambda event data*):

    * ``mailFrom`` is the From address, which is the represented user when the
      message is sent on behalf of someone (a Sender header naming another
      user); an explicit envelope MAIL FROM wins over both.
    * ``sender`` is set only when the message is sent on behalf.
    * recipients come from the envelope when given, else from To, Cc and Bcc,
      with no distinction and no duplicates.
    * inbound events list only recipients in ``org_domains``; a conversation with
      none of them invokes nothing and yields no event.

    ``message_id`` ties the event to a message already in transit (for example
    one from ``Sandbox.put_message_in_transit``); it needs a single conversation.
    """
    direction = normalize_direction(direction)
    domains = [d.strip().lower() for d in org_domains]
    if direction == INBOUND and not domains:
        raise EventError(
            "envelope.recipients",
            "inbound events list only recipients in the organization's domains, and none were given",
            fix="pass org_domains=['example.com', ...] (the organization's mail domains)",
        )
    parsed = message if isinstance(message, ParsedMessage) else parse_message(message, headers_only=True)
    envelope = envelope or SmtpEnvelope()

    if envelope.mail_from:
        mail_from = envelope.mail_from
    elif parsed.from_addresses:
        mail_from = parsed.from_addresses[0]
    elif parsed.sender_address:
        mail_from = parsed.sender_address
    else:
        raise EventError(
            "envelope.mailFrom.address",
            "the message has no From header and no envelope MAIL FROM was given",
            fix="pass envelope=SmtpEnvelope(mail_from='someone@example.com')",
        )
    sender = parsed.sender_address if parsed.on_behalf else None
    if sender is not None and sender == normalize_event_address(mail_from, "envelope.mailFrom.address"):
        sender = None  # a Sender with no From is the author, not someone acting on behalf

    if envelope.recipients is not None:
        seen: set[str] = set()
        recipients = []
        for i, address in enumerate(envelope.recipients):
            value = normalize_event_address(address, f"envelope.recipients[{i}]")
            if value not in seen:
                seen.add(value)
                recipients.append(value)
    else:
        recipients = list(parsed.recipients)

    groups = split_conversations(recipients, conversations)
    if message_id is not None and len(groups) > 1:
        raise EventError(
            "messageId",
            f"one message_id was given for {len(groups)} SMTP conversations; each conversation is its own message",
            fix="use conversations='single', or build each event with build_event(..., message_id=...)",
        )
    domain_set = {d.lstrip("@") for d in domains}  # as in_domains() reads them, built once
    events = []
    for group in groups:
        if direction == INBOUND:
            group = [a for a in group if a.rpartition("@")[2] in domain_set]  # addresses are normalized
            if not group:
                continue
        events.append(
            build_event(
                mail_from=mail_from,
                recipients=group,
                subject=parsed.subject,
                sender=sender,
                direction=direction,
                message_id=message_id,
                summary_version=summary_version,
                payload_limit=payload_limit,
            )
        )
    return events
