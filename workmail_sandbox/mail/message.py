"""The parsed message: :class:`ParsedMessage`, a read-only view with cached fields.

Like a real mail server the view is best effort: broken headers, a missing
closing boundary, raw 8-bit bytes in headers or an address that cannot be read
never raise. They are listed in :attr:`ParsedMessage.defects` and the
accessors return what can be read.
"""

from __future__ import annotations

import email.errors
import email.message
import email.utils
from datetime import datetime
from functools import cached_property, partial
from typing import Any

from workmail_sandbox.errors import MessageParseError

from ._defects import (
    ONCE_ONLY_LOWER,
    REQUIRED_FIELDS,
    boundary_check_headers_only,
    describe,
    raw_header_checks,
)
from ._text import clean, codec_for, unfold
from .addresses import addresses_in_field, normalize_address, unique_addresses
from .headers import LONG_FIELD_CHARS, Header, read_headers
from .parts import Part, child_parts, content_type_of, make_part

__all__ = ["ParsedMessage"]


class ParsedMessage:
    """Read-only view over one parsed message.

    Build it with :func:`parse_message` or :func:`read_eml`. Header-level
    fields are computed on first use and cached, so a rule that only looks at
    the From address pays only for that. ``message`` is the stdlib
    ``EmailMessage``; treat it as read-only, or the cached fields go stale.
    """

    def __init__(self, raw: bytes, message: email.message.EmailMessage, *, headers_only: bool = False) -> None:
        self.raw = raw
        self.message = message
        self.headers_only = headers_only
        self._address_cache: dict[str, list[str]] = {}
        self._address_problems: list[str] = []
        self._part_header_cache: dict[str, list[Header]] = {}

    def __repr__(self) -> str:
        kind = ", headers_only" if self.headers_only else ""
        mid = self.message_id or "(no Message-ID)"
        return f"<ParsedMessage {mid} {self.subject[:40]!r} {len(self.raw)} bytes{kind}>"

    # -- headers ------------------------------------------------------------

    @cached_property
    def _headers(self) -> list[Header]:
        return read_headers(self.message)

    @cached_property
    def _index(self) -> dict[str, list[Header]]:
        index: dict[str, list[Header]] = {}
        for h in self._headers:
            index.setdefault(h.name.lower(), []).append(h)
        return index

    @cached_property
    def header_items(self) -> list[tuple[str, str]]:
        """All header fields in order, values decoded (RFC 2047) and unfolded."""
        return [(h.name, h.value) for h in self._headers]

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (any case), None when absent."""
        found = self._index.get(name.lower())
        return found[0].value if found else None

    def header_values(self, name: str) -> list[str]:
        """Return every value of header ``name`` in order (Received, duplicates...)."""
        return [h.value for h in self._index.get(name.lower(), [])]

    @cached_property
    def subject(self) -> str:
        """The Subject, decoded and unfolded; '' when there is none."""
        return (self.header("Subject") or "").strip()

    @cached_property
    def message_id(self) -> str | None:
        """The Message-ID header as written (with its angle brackets), None when absent.

        Not WorkMail's ``messageId``: that is the Message Flow API key in the event.
        """
        value = self.header("Message-ID")
        return (value.strip() or None) if value is not None else None

    @cached_property
    def date(self) -> datetime | None:
        """The Date header as a datetime, None when absent or unreadable."""
        found = self._index.get("date")
        if not found:
            return None
        obj = found[0].obj
        value = getattr(obj, "datetime", None) if obj is not None else None
        if isinstance(value, datetime):
            return value
        try:
            return email.utils.parsedate_to_datetime(found[0].value)
        except Exception:
            return None

    @cached_property
    def resent(self) -> bool:
        """True when any Resent-* field is present: the mail was redirected (RFC 5322 3.6.6).

        WorkMail refuses to update redirected mail (``MessageFrozen``).
        """
        return any(h.name.lower().startswith("resent-") for h in self._headers)

    @cached_property
    def spam_verdict(self) -> str | None:
        """X-SES-Spam-Verdict upper-cased (PASS, FAIL, GRAY, PROCESSING_FAILED), None when absent."""
        return self._verdict("X-SES-Spam-Verdict")

    @cached_property
    def virus_verdict(self) -> str | None:
        """X-SES-Virus-Verdict upper-cased, None when absent."""
        return self._verdict("X-SES-Virus-Verdict")

    def _verdict(self, name: str) -> str | None:
        value = self.header(name)
        return (value.strip().upper() or None) if value is not None else None

    # -- addresses ----------------------------------------------------------

    @cached_property
    def _address_defects(self) -> list[str]:
        for name in ("from", "sender", "to", "cc", "bcc"):
            self._addresses(name)
        return self._address_problems

    def _addresses(self, lower_name: str) -> list[str]:
        """Normalized addresses of every ``lower_name`` field; unreadable ones skipped.

        Linear in the fields' length (:func:`~workmail_sandbox.mail.addresses.addresses_in_field`):
        a plain list is read with a regular expression, anything else up to 16 KB with the
        stdlib's RFC 5322 grammar (quadratic, so only on short fields), longer fields item by
        item. ``events_from_message`` (the ``event`` command) and the flow engine
        (``replay``) both read recipients through here.
        """
        if lower_name in self._address_cache:
            return self._address_cache[lower_name]
        result: list[str] = []
        for h in self._index.get(lower_name, []):
            candidates = addresses_in_field(unfold(h.raw), parse_small=partial(_stdlib_addresses, h))
            for spec in candidates:
                try:
                    result.append(normalize_address(clean(spec)))
                except MessageParseError:
                    self._address_problems.append(
                        f"header {h.name}: {spec!r} is not an address (no local@domain); skipped"
                    )
        self._address_cache[lower_name] = result
        return result

    @cached_property
    def from_addresses(self) -> list[str]:
        """Addresses in From, normalized (usually one; RFC 5322 allows several authors)."""
        return self._addresses("from")

    @cached_property
    def sender_address(self) -> str | None:
        """The Sender header's address, normalized.

        None when there is no Sender, or when it just repeats the single From
        address (then nobody sent on someone else's behalf).
        """
        senders = self._addresses("sender")
        if not senders:
            return None
        sender = senders[0]
        if self.from_addresses == [sender]:
            return None
        return sender

    @cached_property
    def on_behalf(self) -> bool:
        """True when Sender names someone who is not a From author.

        That is WorkMail's "send on behalf": the event's ``sender.address`` is
        then set and ``envelope.mailFrom`` holds the represented user.
        """
        sender = self.sender_address
        return sender is not None and sender not in self.from_addresses

    @cached_property
    def to(self) -> list[str]:
        """Addresses in To, normalized, in order (a group like ``undisclosed-recipients:;`` adds none)."""
        return self._addresses("to")

    @cached_property
    def cc(self) -> list[str]:
        """Addresses in Cc, normalized, in order."""
        return self._addresses("cc")

    @cached_property
    def bcc(self) -> list[str]:
        """Addresses in Bcc, normalized, in order (present only in mail as submitted)."""
        return self._addresses("bcc")

    @cached_property
    def recipients(self) -> list[str]:
        """To, Cc and Bcc in that order, de-duplicated (first appearance wins)."""
        return unique_addresses([*self.to, *self.cc, *self.bcc])

    # -- body ---------------------------------------------------------------

    def _require_body(self, what: str) -> None:
        if self.headers_only:
            raise MessageParseError(
                f"Cannot read {what}: this message was parsed with headers_only=True, so its body was not parsed.",
                fix="Parse it fully with parse_message(data) (headers_only=False) to read parts and bodies.",
            )

    @cached_property
    def _tree(self) -> list[tuple[str, email.message.Message, str, bool]]:
        """Every part depth-first as (section, part, content type, is leaf).

        Sections are IMAP-style numbers (1, 1.2, ...); the message itself is ''.
        Content types are read once here: the stdlib re-parses the header on
        every ``get_content_type()`` call.
        """
        tree: list[tuple[str, email.message.Message, str, bool]] = []
        stack: list[tuple[str, email.message.Message]] = [("", self.message)]
        while stack:
            section, part = stack.pop()
            content_type = content_type_of(part)
            children = child_parts(part, content_type)
            tree.append((section, part, content_type, children is None))
            if children is not None:
                prefix = f"{section}." if section else ""
                stack.extend((f"{prefix}{i}", child) for i, child in reversed(list(enumerate(children, 1))))
        return tree

    def _part_headers(self, section: str, part: email.message.Message) -> list[Header]:
        if not section:
            return self._headers
        return self._part_header_cache.setdefault(section, read_headers(part))

    @cached_property
    def parts(self) -> list[Part]:
        """Leaf MIME parts, depth-first. An attached message (message/rfc822) is one part."""
        self._require_body("parts")
        linesep = "\r\n" if self.raw.find(b"\r\n", 0, 65536) != -1 else "\n"
        return [
            make_part(section or "1", part, ctype, self._part_headers(section, part), linesep=linesep)
            for section, part, ctype, leaf in self._tree
            if leaf
        ]

    @cached_property
    def attachments(self) -> list[Part]:
        """The parts that are attachments (see :func:`~workmail_sandbox.mail.parts.is_attachment` for the rule)."""
        return [p for p in self.parts if p.is_attachment]

    def _first_body(self, content_type: str) -> str | None:
        for part in self.parts:
            if part.content_type == content_type and not part.is_attachment:
                return part.text()
        return None

    @cached_property
    def text_body(self) -> str | None:
        """The first text/plain part that is not an attachment, decoded; bad bytes replaced."""
        self._require_body("text_body")
        return self._first_body("text/plain")

    @cached_property
    def html_body(self) -> str | None:
        """The first text/html part that is not an attachment, decoded; bad bytes replaced."""
        self._require_body("html_body")
        return self._first_body("text/html")

    # -- defects ------------------------------------------------------------

    @cached_property
    def defects(self) -> list[str]:
        """Human-readable problems found, from the stdlib and the kit's own RFC checks.

        Empty for clean mail. Finding a defect never stops reading: the same
        message may still be delivered by a real server, but
        PutRawMessageContent is likely to reject it if you write it back.
        """
        found: list[str] = []
        found += raw_header_checks(self.raw)
        counts: dict[str, int] = {}
        for h in self._headers:
            counts[h.name.lower()] = counts.get(h.name.lower(), 0) + 1
        for name in REQUIRED_FIELDS:
            if not counts.get(name.lower()):
                found.append(f"missing {name} header (required by RFC 5322 3.6)")
        for lower, name in ONCE_ONLY_LOWER.items():
            if counts.get(lower, 0) > 1:
                found.append(f"{name} header appears {counts[lower]} times; RFC 5322 3.6 allows it once")
        for h in self._headers:
            if h.too_long:
                found.append(
                    f"header {h.name}: {len(h.raw):,} characters, over {LONG_FIELD_CHARS:,}; "
                    "read with the kit's linear reader instead of the stdlib's RFC 5322 parser"
                )
            elif h.error:
                found.append(f"header {h.name}: the stdlib parser failed on it ({h.error}); read leniently")
            elif h.obj is not None:
                for d in h.obj.defects:
                    if isinstance(d, email.errors.UndecodableBytesDefect):
                        continue  # reported once per field by the raw 8-bit check
                    found.append(f"header {h.name}: {describe(d)}")
        found += self._address_defects
        if self.headers_only:
            found += [f"message: {describe(d)}" for d in self.message.defects]
            found += boundary_check_headers_only(self.message)
        else:
            found += self._part_defects()
        return list(dict.fromkeys(found))

    def _part_defects(self) -> list[str]:
        found: list[str] = []
        for p in self.parts:  # decoding payloads adds base64 defects to the parts
            if p.content_type.startswith("text/") and p.charset and codec_for(p.charset) is None:
                found.append(
                    f"part {p.section} ({p.content_type}): unknown charset {p.charset!r}; "
                    "decoded as UTF-8 with replacement characters"
                )
        for section, part, ctype, _leaf in self._tree:
            label = f"part {section} ({ctype})" if section else "message"
            found += [f"{label}: {describe(d)}" for d in part.defects]
            if not section:
                continue  # the message's own fields are checked in defects()
            for h in self._part_headers(section, part):
                if h.error:
                    found.append(f"{label}: header {h.name}: the stdlib parser failed on it ({h.error})")
                elif h.obj is not None:
                    found += [f"{label}: header {h.name}: {describe(d)}" for d in h.obj.defects]
        return found

    # -- table row ----------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """A small dict for tables (one row per message); attachments is None when headers_only."""
        return {
            "message_id": self.message_id,
            "from": ", ".join(self.from_addresses),
            "sender": self.sender_address,
            "subject": self.subject,
            "recipients": len(self.recipients),
            "attachments": None if self.headers_only else len(self.attachments),
            "size": len(self.raw),
            "defects": len(self.defects),
        }


def _stdlib_addresses(h: Header) -> list[str]:
    """The addr-specs of one short address field through ``email.policy.default``; compat32 if that fails."""
    try:
        if h.obj is None or not hasattr(h.obj, "addresses"):
            raise ValueError(h.error or "not an address header object")
        return [a.addr_spec for a in h.obj.addresses]
    except Exception:  # stdlib raised: fall back to the lenient compat32 reader
        return [addr for _, addr in _safe_getaddresses(unfold(h.raw))]


def _safe_getaddresses(value: str) -> list[tuple[str, str]]:
    try:
        return [(n, a) for n, a in email.utils.getaddresses([value]) if a]
    except Exception:
        return []
