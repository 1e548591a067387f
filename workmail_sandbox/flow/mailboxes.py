"""Mailboxes (inbox and junk), the outbox of mail that left the organization, and bounce messages.

Sandbox-only: WorkMail's mailboxes are reached through IMAP or EWS, not an AWS
API (lambda-content.md; docs/aws-behaviour.md §3.1), so the emulated organization keeps them as
plain Python objects a lesson can look into.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP

from ..errors import SandboxError
from ..mail import parse_message

__all__ = [
    "INBOX_FOLDER",
    "JUNK_FOLDER",
    "MailItem",
    "Mailbox",
    "Outbox",
    "OutboxItem",
    "build_bounce",
    "strip_bcc",
]

#: Folder names as WorkMail's web client and Outlook show them (MAILBOX_EMAIL_DELIVERED ``folder``).
INBOX_FOLDER = "Inbox"
JUNK_FOLDER = "Junk Email"

_BCC_LINE = re.compile(rb"(?im)^bcc[ \t]*:.*(?:\r?\n[ \t].*)*\r?\n")
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


@dataclass
class MailItem:
    """One message in a mailbox folder.

    ``content`` is the delivered bytes (None when the organization keeps
    metadata only, as replay does). ``message_id`` is the Message Flow API id
    of the copy that was in transit (None when no function ran);
    ``bcc`` is True for a recipient a function added.
    """

    recipient: str
    folder: str
    subject: str
    mail_from: str | None
    smtp_message_id: str | None
    trace_id: str
    received_at: _dt.datetime
    content: bytes | None = None
    message_id: str | None = None
    bcc: bool = False
    kind: str = "message"  # or "bounce"

    def parse(self):
        """The content as a :class:`~workmail_sandbox.mail.ParsedMessage` (full parse)."""

        if self.content is None:
            raise SandboxError(
                "This mailbox keeps metadata only, not the message bytes.",
                fix="route mail with FlowSettings(keep_content=True) (the default outside replay)",
            )
        return parse_message(self.content, max_bytes=None)

    def __repr__(self) -> str:
        return f"<MailItem {self.folder} {self.subject[:40]!r} from {self.mail_from}>"


@dataclass
class Mailbox:
    """A user's mailbox: ``inbox`` and ``junk`` folders, newest last.

    ``keep`` False: :meth:`add` records nothing (an organization that keeps no delivered copies,
    ``Organization.keep_mail = False``, as replay workers do: nobody reads their mailboxes).
    """

    address: str
    name: str = ""
    inbox: list[MailItem] = field(default_factory=list)
    junk: list[MailItem] = field(default_factory=list)
    #: True for a mailbox the sandbox made on first delivery (FlowSettings.unknown_recipients="create-mailbox").
    created_on_delivery: bool = False
    #: False: delivered copies are not kept (the FlowResult and the event log still say where they went).
    keep: bool = True

    def folder(self, name: str) -> list[MailItem]:
        """``"inbox"``/``"Inbox"`` or ``"junk"``/``"Junk Email"``."""
        key = name.strip().lower()
        if key in ("inbox", INBOX_FOLDER.lower()):
            return self.inbox
        if key in ("junk", JUNK_FOLDER.lower(), "junk e-mail", "spam"):
            return self.junk

        raise SandboxError(f"A mailbox has the folders inbox and junk, not {name!r}.", fix="use 'inbox' or 'junk'")

    def add(self, item: MailItem) -> None:
        if not self.keep:
            return
        (self.junk if item.folder == JUNK_FOLDER else self.inbox).append(item)

    @property
    def subjects(self) -> dict[str, list[str]]:
        """``{"inbox": [...], "junk": [...]}``: a quick look."""
        return {"inbox": [i.subject for i in self.inbox], "junk": [i.subject for i in self.junk]}

    def __len__(self) -> int:
        return len(self.inbox) + len(self.junk)

    def clear(self) -> None:
        self.inbox.clear()
        self.junk.clear()

    def __repr__(self) -> str:
        return f"<Mailbox {self.address}: {len(self.inbox)} in inbox, {len(self.junk)} in junk>"


@dataclass
class OutboxItem:
    """Mail that left the organization (sandbox record: nothing is really sent).

    ``via`` is ``"internet"`` (the default route) or ``"smtp-gateway"``
    (Route to SMTP gateway); ``kind`` is ``"message"`` or ``"bounce"``.
    """

    recipient: str
    via: str
    subject: str
    mail_from: str | None
    smtp_message_id: str | None
    trace_id: str
    sent_at: _dt.datetime
    content: bytes | None = None
    message_id: str | None = None
    bcc: bool = False
    kind: str = "message"


class Outbox(list[OutboxItem]):
    """The organization's record of mail that left it: a list of :class:`OutboxItem`, oldest first.

    ``keep`` False: :meth:`append` (how the flow records a copy sent) records nothing, so an
    organization that keeps no delivered copies (``Organization.keep_mail = False``) does not grow
    with the mail it routes.
    """

    keep: bool = True

    def append(self, item: OutboxItem) -> None:
        if self.keep:
            super().append(item)


def strip_bcc(raw: bytes) -> bytes:
    """``raw`` without its Bcc header field(s), as a mail server sends it on; untouched when there is none."""
    match = _END_OF_HEADERS.search(raw)
    head_end = match.start() if match else len(raw)
    head = raw[: head_end + 2]
    if b"bcc" not in head.lower():
        return raw
    new_head = _BCC_LINE.sub(b"", head)
    if new_head == head:
        return raw
    return new_head + raw[head_end + 2 :]


def _encodable(text: str) -> str:
    """``text`` as a str that encodes to UTF-8: surrogate escapes become the UTF-8 they spell, else U+FFFD.

    The mail parser keeps raw 8-bit bytes of a header as surrogate escapes (``\\udce9``), which no codec
    encodes; without this, ``alex`` with a raw 0xE9 in a recipient stopped the whole bounce (and the run).
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def build_bounce(
    *,
    original_headers: list[tuple[str, str]],
    subject: str,
    smtp_message_id: str | None,
    recipients: list[str],
    to: str,
    reporting_domain: str,
    bounce_message: str | None,
    status: str,
    diagnostic: str,
    when: _dt.datetime,
) -> bytes:
    """A non-delivery report (RFC 3464 ``multipart/report``) for ``recipients``, sent to ``to``.

    The human-readable part holds ``bounce_message`` when a function gave one
    (lambda.md: "The bounce message text is used to build the bounce
    email"), else a generic text. WorkMail's exact bounce wording is not
    documented: this layout is the kit's (a DSN as most servers send it).
    """
    import uuid
    from email.header import Header

    # Every text that comes from the message may hold surrogate escapes (raw 8-bit bytes in an address or a
    # header, read with errors="surrogateescape"): made encodable first, so a bounce can always be built.
    subject = _encodable(subject)
    recipients = [_encodable(r) for r in recipients]
    to = _encodable(to)
    reporting_domain = _encodable(reporting_domain)
    bounce_message = _encodable(bounce_message) if bounce_message else bounce_message
    status = _encodable(status)
    diagnostic = _encodable(diagnostic)
    smtp_message_id = _encodable(smtp_message_id) if smtp_message_id else smtp_message_id
    original_headers = [(_encodable(name), _encodable(value)) for name, value in original_headers]
    date = email.utils.format_datetime(when)
    boundary = f"=_bounce_{uuid.uuid4().hex}"
    full_subject = f"Undeliverable: {subject}" if subject else "Undeliverable message"
    listed = "\n".join(f"    {r}" for r in recipients)
    if bounce_message:
        text = f"{bounce_message}\n\nYour message could not be delivered to:\n\n{listed}\n"
    else:
        text = f"Your message could not be delivered to the following recipients:\n\n{listed}\n\nReason: {diagnostic}\n"
    text_part = EmailMessage()
    text_part.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    del text_part["MIME-Version"]
    per_recipient = "".join(
        f"\nFinal-Recipient: rfc822; {r}\nAction: failed\nStatus: {status}\nDiagnostic-Code: smtp; {diagnostic}\n"
        for r in recipients
    )
    status_text = f"Reporting-MTA: dns; {reporting_domain}\nArrival-Date: {date}\n{per_recipient}"
    header_lines = []
    for name, value in original_headers:
        if name.lower() == "bcc":
            continue
        try:
            value.encode("ascii")
            header_lines.append(f"{name}: {value}")
        except UnicodeEncodeError:
            header_lines.append(f"{name}: {Header(value, 'utf-8').encode()}")
    lines = [
        f"From: MAILER-DAEMON@{reporting_domain}",
        f"To: {to}",
        f"Subject: {Header(full_subject, 'utf-8').encode() if not full_subject.isascii() else full_subject}",
        f"Date: {date}",
        f"Message-ID: {email.utils.make_msgid(domain=reporting_domain)}",
        "Auto-Submitted: auto-replied",
    ]
    if smtp_message_id:
        lines += [f"In-Reply-To: {smtp_message_id}", f"References: {smtp_message_id}"]
    lines += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        text_part.as_string(policy=SMTP).rstrip("\r\n"),
        f"--{boundary}",
        "Content-Type: message/delivery-status",
        "",
        status_text.rstrip("\n"),
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        "",
        "\n".join(header_lines),
        f"--{boundary}--",
        "",
    ]
    body = "\n".join(lines)
    return body.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii", "replace")
