"""Reading email messages (.eml bytes), their addresses and their MIME parts.

A WorkMail function fetches the message with ``GetRawMessageContent`` and parses
the bytes itself; this module is the kit's one reader, so events, rules and the
emulated organization all see a message the same way.

Why ``email.policy.default`` and not ``email.message_from_bytes(data)``: the
latter still uses the ``compat32`` policy, which leaves RFC 2047 encoded words
(``=?utf-8?b?...?=``) undecoded in subjects and display names.

Like a real mail server the reader is best effort. Broken headers, a missing
closing boundary, raw 8-bit bytes in headers or an address that cannot be read
never raise: they are listed in :attr:`ParsedMessage.defects` and the accessors
return what can be read. :class:`MessageParseError` is raised only for input
that is not a message at all (empty, too big, not starting with a header line,
or not bytes/str/path/Message).

Stdlib quirks handled here (Python 3.11):

- Reading some malformed address, Message-ID or encoded-word headers raises
  from inside ``email._header_value_parser`` (``IndexError``, ``AttributeError``,
  ``TypeError``), even from ``msg['To']`` or ``msg.items()``. Every header is
  therefore read one at a time from ``raw_items()`` with a fallback.
- ``get_content()`` raises ``LookupError`` for an unknown charset; bodies are
  decoded here from the payload bytes with replacement characters instead.
- A header line without a colon ends the header block: the parser reads the
  rest of the headers as body (``MissingHeaderBodySeparatorDefect``).
- ``get_content_type()``, ``get_filename()`` and friends re-parse the header
  on every call, and the parser itself costs most of a full parse; parts are
  therefore described from header objects read once per part.
- ``BytesHeaderParser`` still walks the whole body line by line to store it as
  a string (0.4 s for 30 MB); the headers-only path parses the header block
  alone and attaches the rest, with the same result.
- With no closing boundary the last part loses its final line break, as the
  parser takes it for the start of a boundary line that never comes.
"""

from __future__ import annotations

import codecs
import email.errors
import email.header
import email.message
import email.utils
import mailbox
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as _policy
from email.parser import BytesHeaderParser, BytesParser
from functools import cached_property
from pathlib import Path
from typing import Any

from workmail_sandbox.errors import MessageParseError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "ONCE_ONLY_HEADERS",
    "ParsedMessage",
    "Part",
    "domain_of",
    "in_domains",
    "iter_messages",
    "normalize_address",
    "parse_message",
    "read_eml",
    "unique_addresses",
]

MAX_MESSAGE_BYTES = 40 * 1024 * 1024
"""Default size cap, in bytes, for one message (40 MiB).

WorkMail's own message size limit is 25 MB (the WorkMail quotas page; not
re-checked for this kit). That limit counts attachments before transfer
encoding; base64 makes them a third bigger, so a 25 MB message can be about
34 MB on the wire. 40 MiB also matches the largest message SES v2 and SMTP
accept (40 MB after base64 encoding, SES quotas page). Anything larger cannot
be WorkMail mail, and refusing it early keeps a wrong file from eating memory.
"""

ONCE_ONLY_HEADERS = (
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Subject",
)
"""Fields RFC 5322 section 3.6 allows at most once per message."""

_MAX_LINE = 998  # RFC 5322 2.1.1: at most 998 characters before CRLF
_REQUIRED_HEADERS = ("Date", "From")  # RFC 5322 3.6: the only required fields
_ONCE_ONLY_LOWER = {name.lower(): name for name in ONCE_ONLY_HEADERS}

# A first line a message can start with: a field name (RFC 7230 token chars,
# which every real header name uses) then a colon. Stricter than RFC 5322's
# "any printable but colon" so that JSON ('{"a": 1}') is not taken for mail.
_FIRST_HEADER = re.compile(rb"[A-Za-z0-9!#$%&'*+\-.^_`|~]+[ \t]*:")
# Lines the stdlib parser accepts inside a header block (feedparser.headerRE).
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:|[ \t]")
_END_OF_HEADERS = re.compile(rb"\n\r?\n")
_LINESEP = re.compile(r"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"

_Source = bytes | bytearray | memoryview | str | os.PathLike[str] | email.message.Message


# ---------------------------------------------------------------- addresses


def normalize_address(address: str) -> str:
    """Return ``address`` as the kit compares it: bare, lower-case ``local@domain``.

    Strips whitespace, a display name and the ``<>`` around the address, then
    lower-cases both the domain and the local part. RFC 5321 lets a server
    treat local parts as case-sensitive, but WorkMail matches addresses
    case-insensitively, so lower-casing is what makes de-duplication agree
    with WorkMail. Raises :class:`MessageParseError` when there is no
    ``local@domain`` to read.
    """
    if not isinstance(address, str):
        raise MessageParseError(
            f"An email address must be a str, got {type(address).__name__}: {address!r}.",
            fix="Pass the address as text, for example 'jane@example.com'.",
        )
    text = address.strip()
    if "<" in text and text.endswith(">"):
        text = text[text.rfind("<") + 1 : -1].strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise MessageParseError(
            f"{address!r} is not an email address: it needs a local part, '@' and a domain.",
            fix="Use the form 'local@domain', for example 'jane@example.com'.",
        )
    return f"{local.lower()}@{domain.lower()}"


def domain_of(address: str) -> str:
    """Return the lower-case domain of ``address`` (what domain conditions compare)."""
    return normalize_address(address).rpartition("@")[2]


def in_domains(address: str, domains: Iterable[str]) -> bool:
    """Tell whether ``address`` is in one of ``domains``, compared exactly.

    Case-insensitive, but subdomains are *not* included: a WorkMail
    organization lists each mail domain it owns, so ``a@eu.example.com`` is
    not in ``["example.com"]``. A single domain passed as a str is accepted.
    """
    if isinstance(domains, str):
        domains = [domains]
    wanted = {d.strip().lstrip("@").lower() for d in domains}
    return domain_of(address) in wanted


def unique_addresses(addresses: Iterable[str]) -> list[str]:
    """Normalize ``addresses`` and drop repeats, keeping first-appearance order."""
    return list(dict.fromkeys(normalize_address(a) for a in addresses))


# -------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Part:
    """One leaf MIME part: a body text, an inline image or an attachment.

    ``size`` is the decoded payload size in bytes (after base64 or
    quoted-printable). The payload itself is decoded again on demand by
    :meth:`payload` so a list of parts stays small.
    """

    content_type: str
    filename: str | None
    size: int
    is_attachment: bool
    charset: str | None
    content_id: str | None
    disposition: str | None = None
    section: str = "1"
    _message: email.message.Message | None = field(default=None, repr=False, compare=False)

    def payload(self) -> bytes:
        """Return the decoded payload bytes (an attached message as its bytes)."""
        return _decode_payload(self._message, self.content_type) if self._message is not None else b""

    def text(self) -> str:
        """Return the payload as str: part's charset, bad bytes replaced, line ends as ``\\n``."""
        return _bytes_to_text(self.payload(), self.charset)


def _decode_payload(part: email.message.Message, content_type: str) -> bytes:
    """Decode one leaf part's payload; never raises (a mail server keeps going)."""
    try:
        if content_type.startswith("message/") or part.is_multipart():
            inner = part.get_payload()
            if isinstance(inner, list):
                return b"".join(_as_bytes(m) for m in inner if isinstance(m, email.message.Message))
        data = part.get_payload(decode=True)
    except Exception:  # stdlib bugs on broken parts; degrade to the raw text
        data = None
    if isinstance(data, bytes):
        return data
    if data is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            return raw.encode("utf-8", "surrogateescape")
    return b""


def _as_bytes(message: email.message.Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:
        return message.as_bytes(policy=_policy.compat32)


def _codec_for(charset: str | None) -> str | None:
    """Return a Python codec name for a MIME charset, None when unknown."""
    if charset is None or charset in ("us-ascii", "ascii"):
        # RFC 2045's default is US-ASCII; UTF-8 is a superset and reads the
        # 8-bit bytes that mislabelled mail carries, as mail clients do.
        return "utf-8"
    try:
        name = codecs.lookup(charset).name
        b"a".decode(name, "replace")  # refuses bytes-to-bytes codecs a charset may name (base64, rot13, zlib)
    except (LookupError, ValueError, TypeError):
        return None
    return name


def _bytes_to_text(data: bytes, charset: str | None) -> str:
    codec = _codec_for(charset) or "utf-8"
    try:
        text = data.decode(codec, errors="replace")
    except Exception:  # codecs that reject errors='replace' or misbehave
        text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n")


def _clean(value: str) -> str:
    """Turn surrogate-escaped 8-bit bytes into text: UTF-8 if valid, else U+FFFD."""
    if value.isascii():
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8", "replace")


def _unfold(value: str) -> str:
    return _LINESEP.sub("", value)


# ------------------------------------------------------------ headers, safe


class _Header:
    """One header field, parsed by the stdlib on first use, read leniently if that fails."""

    __slots__ = ("_error", "_obj", "_policy", "_value", "name", "raw")

    def __init__(self, name: str, raw: Any, policy: Any) -> None:
        self.name = name
        self.raw = str(raw)  # as stored: folded, encoded words intact, 8-bit bytes as surrogates
        self._policy = policy
        self._value: str | None = None
        self._obj: Any = None
        self._error: str | None = None

    def _parse(self) -> str:
        if self._value is None:
            try:
                obj = self._policy.header_fetch_parse(self.name, self.raw)
                self._value = _clean(_unfold(str(obj)))
                self._obj = obj if hasattr(obj, "defects") else None
            except Exception as exc:  # IndexError, AttributeError, TypeError, ...
                self._error = f"{type(exc).__name__}: {exc}"
                self._value = _clean(_fallback_decode(self.raw))
        return self._value

    @property
    def value(self) -> str:
        """Decoded (RFC 2047), unfolded value."""
        return self._parse()

    @property
    def obj(self) -> Any:
        """The stdlib header object (email.headerregistry), None when parsing it raised."""
        self._parse()
        return self._obj

    @property
    def error(self) -> str | None:
        """What the stdlib raised while parsing this field, if anything."""
        self._parse()
        return self._error


def _read_headers(message: email.message.Message) -> list[_Header]:
    """List the fields of ``message`` without parsing them (parsing is per field, on use)."""
    return [_Header(name, raw, message.policy) for name, raw in message.raw_items()]


def _fallback_decode(raw: str) -> str:
    """Decode RFC 2047 words the forgiving compat32 way, for headers the new parser rejects."""
    text = _unfold(raw).strip()
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except Exception:
        return text


# ---------------------------------------------------------------- defects

_DEFECT_TEXT: dict[type, str] = {
    email.errors.CloseBoundaryNotFoundDefect: (
        "multipart without a closing boundary line; the last part may be cut off (RFC 2046 5.1.1)"
    ),
    email.errors.StartBoundaryNotFoundDefect: (
        "multipart whose boundary never appears in the body, so its parts cannot be split"
    ),
    email.errors.NoBoundaryInMultipartDefect: "multipart Content-Type without a boundary parameter",
    email.errors.MultipartInvariantViolationDefect: "declared multipart but has no parts; read as one part",
    email.errors.FirstHeaderLineIsContinuationDefect: "first header line starts with whitespace",
    email.errors.MisplacedEnvelopeHeaderDefect: "an mbox 'From ' line in the middle of the headers",
    email.errors.MissingHeaderBodySeparatorDefect: (
        "a line that is not 'Name: value' ended the headers; the lines after it were read as body"
    ),
    email.errors.InvalidMultipartContentTransferEncodingDefect: (
        "multipart with a Content-Transfer-Encoding other than 7bit, 8bit or binary"
    ),
    email.errors.InvalidBase64PaddingDefect: "base64 body with bad padding",
    email.errors.InvalidBase64CharactersDefect: "base64 body with characters outside the base64 alphabet (ignored)",
    email.errors.InvalidBase64LengthDefect: "base64 body with an impossible length; left undecoded",
}


def _describe(defect: Exception) -> str:
    text = _DEFECT_TEXT.get(type(defect))
    if text:
        return text
    detail = str(defect).strip()
    return detail or type(defect).__name__


def _content_type(part: email.message.Message) -> str:
    """The part's content type; text/plain (RFC 2045's default) if it cannot be read."""
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _children(part: email.message.Message, content_type: str) -> list[email.message.Message] | None:
    """Sub-parts of a multipart; None for a leaf (an attached message is a leaf)."""
    if not content_type.startswith("multipart/"):
        return None
    payload = part.get_payload()
    if not isinstance(payload, list):
        return None
    return [p for p in payload if isinstance(p, email.message.Message)]


# -------------------------------------------------------------- the message


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
        self._part_header_cache: dict[str, list[_Header]] = {}

    def __repr__(self) -> str:
        kind = ", headers_only" if self.headers_only else ""
        mid = self.message_id or "(no Message-ID)"
        return f"<ParsedMessage {mid} {self.subject[:40]!r} {len(self.raw)} bytes{kind}>"

    # -- headers ------------------------------------------------------------

    @cached_property
    def _headers(self) -> list[_Header]:
        return _read_headers(self.message)

    @cached_property
    def _index(self) -> dict[str, list[_Header]]:
        index: dict[str, list[_Header]] = {}
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
        """Normalized addresses of every ``lower_name`` field; unreadable ones skipped."""
        if lower_name in self._address_cache:
            return self._address_cache[lower_name]
        result: list[str] = []
        for h in self._index.get(lower_name, []):
            try:
                if h.obj is None or not hasattr(h.obj, "addresses"):
                    raise ValueError(h.error or "not an address header object")
                candidates = [a.addr_spec for a in h.obj.addresses]
            except Exception:  # stdlib raised: fall back to the lenient compat32 reader
                candidates = [addr for _, addr in _safe_getaddresses(_unfold(h.raw))]
            for spec in candidates:
                try:
                    result.append(normalize_address(_clean(spec)))
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
            content_type = _content_type(part)
            children = _children(part, content_type)
            tree.append((section, part, content_type, children is None))
            if children is not None:
                prefix = f"{section}." if section else ""
                stack.extend((f"{prefix}{i}", child) for i, child in reversed(list(enumerate(children, 1))))
        return tree

    def _part_headers(self, section: str, part: email.message.Message) -> list[_Header]:
        if not section:
            return self._headers
        return self._part_header_cache.setdefault(section, _read_headers(part))

    @cached_property
    def parts(self) -> list[Part]:
        """Leaf MIME parts, depth-first. An attached message (message/rfc822) is one part."""
        self._require_body("parts")
        return [
            _make_part(section or "1", part, ctype, self._part_headers(section, part))
            for section, part, ctype, leaf in self._tree
            if leaf
        ]

    @cached_property
    def attachments(self) -> list[Part]:
        """The parts that are attachments (see :func:`_is_attachment` for the rule)."""
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
        found += _raw_header_checks(self.raw)
        counts: dict[str, int] = {}
        for h in self._headers:
            counts[h.name.lower()] = counts.get(h.name.lower(), 0) + 1
        for name in _REQUIRED_HEADERS:
            if not counts.get(name.lower()):
                found.append(f"missing {name} header (required by RFC 5322 3.6)")
        for lower, name in _ONCE_ONLY_LOWER.items():
            if counts.get(lower, 0) > 1:
                found.append(f"{name} header appears {counts[lower]} times; RFC 5322 3.6 allows it once")
        for h in self._headers:
            if h.error:
                found.append(f"header {h.name}: the stdlib parser failed on it ({h.error}); read leniently")
            elif h.obj is not None:
                for d in h.obj.defects:
                    if isinstance(d, email.errors.UndecodableBytesDefect):
                        continue  # reported once per field by the raw 8-bit check
                    found.append(f"header {h.name}: {_describe(d)}")
        found += self._address_defects
        if self.headers_only:
            found += [f"message: {_describe(d)}" for d in self.message.defects]
            found += _boundary_check_headers_only(self.message)
        else:
            found += self._part_defects()
        return list(dict.fromkeys(found))

    def _part_defects(self) -> list[str]:
        found: list[str] = []
        for p in self.parts:  # decoding payloads adds base64 defects to the parts
            if p.content_type.startswith("text/") and p.charset and _codec_for(p.charset) is None:
                found.append(
                    f"part {p.section} ({p.content_type}): unknown charset {p.charset!r}; "
                    "decoded as UTF-8 with replacement characters"
                )
        for section, part, ctype, _leaf in self._tree:
            label = f"part {section} ({ctype})" if section else "message"
            found += [f"{label}: {_describe(d)}" for d in part.defects]
            if not section:
                continue  # the message's own fields are checked in defects()
            for h in self._part_headers(section, part):
                if h.error:
                    found.append(f"{label}: header {h.name}: the stdlib parser failed on it ({h.error})")
                elif h.obj is not None:
                    found += [f"{label}: header {h.name}: {_describe(d)}" for d in h.obj.defects]
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


def _safe_getaddresses(value: str) -> list[tuple[str, str]]:
    try:
        return [(n, a) for n, a in email.utils.getaddresses([value]) if a]
    except Exception:
        return []


def _make_part(section: str, part: email.message.Message, content_type: str, headers: list[_Header]) -> Part:
    """Build a Part from header objects read once (each stdlib getter re-parses them)."""
    first: dict[str, _Header] = {}
    for h in headers:
        first.setdefault(h.name.lower(), h)
    ct, cd, cid = first.get("content-type"), first.get("content-disposition"), first.get("content-id")
    ct_params, cd_params = _params(ct), _params(cd)
    if ct_params is None or cd_params is None:  # a header the new parser failed on: ask compat code
        charset, filename = _safe_call(part.get_content_charset), _safe_call(part.get_filename)
    else:
        charset, filename = ct_params.get("charset"), cd_params.get("filename") or ct_params.get("name")
    charset = (charset.strip().lower() or None) if isinstance(charset, str) else None
    filename = (_clean(filename).strip() or None) if isinstance(filename, str) else None
    disposition = (cd.value.split(";", 1)[0].strip().lower() or None) if cd else None
    data = _decode_payload(part, content_type)
    return Part(
        content_type=content_type,
        filename=filename,
        size=len(data),
        is_attachment=_is_attachment(content_type, disposition, filename),
        charset=charset,
        content_id=(cid.value.strip() or None) if cid else None,
        disposition=disposition,
        section=section,
        _message=part,
    )


def _params(header: _Header | None) -> dict[str, Any] | None:
    """MIME parameters (RFC 2231 and encoded words decoded); {} when absent, None if unreadable."""
    if header is None:
        return {}
    try:
        return dict(header.obj.params)
    except Exception:
        return None


def _safe_call(getter: Any) -> Any:
    try:
        return getter()
    except Exception:
        return None


def _is_attachment(content_type: str, disposition: str | None, filename: str | None) -> bool:
    """An attachment is what mail clients list as one.

    ``Content-Disposition: attachment``; or a named part not marked
    ``inline`` (older clients name files only in Content-Type); or an
    attached message (message/rfc822). Inline images with a Content-ID and
    ``inline`` disposition are not attachments.
    """
    if disposition == "attachment":
        return True
    if disposition == "inline":
        return False
    return filename is not None or content_type == "message/rfc822"


# ------------------------------------------------------------ raw checks


def _header_block_lines(raw: bytes) -> Iterator[bytes]:
    """Yield the top-level header lines as the stdlib parser sees them (no CR/LF)."""
    match = _END_OF_HEADERS.search(raw)
    block = raw[: match.start() + 1] if match else raw
    lines = block.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    for line in lines:
        line = line[:-1] if line.endswith(b"\r") else line
        if not line:
            return
        if not _HEADER_LINE.match(line):
            return  # the parser ends the headers here
        yield line


def _raw_header_checks(raw: bytes) -> list[str]:
    """Line length (RFC 5322 2.1.1) and 8-bit bytes (RFC 5322 2.2) in the header block."""
    found: list[str] = []
    eight_bit: list[str] = []
    current = "?"
    for line in _header_block_lines(raw):
        if line[:1] not in (b" ", b"\t"):
            current = line.split(b":", 1)[0].strip().decode("ascii", "replace")
        if len(line) > _MAX_LINE:
            found.append(
                f"header {current}: a line is {len(line)} characters long; "
                f"RFC 5322 2.1.1 allows at most {_MAX_LINE} before CRLF"
            )
        if not line.isascii() and current not in eight_bit:
            eight_bit.append(current)
    for name in eight_bit:
        found.append(
            f"header {name}: unencoded 8-bit bytes; headers must be US-ASCII "
            "(RFC 5322 2.2) unless sent as SMTPUTF8 (RFC 6532); use RFC 2047 encoded words"
        )
    return found


def _boundary_check_headers_only(message: email.message.Message) -> list[str]:
    """Without a full parse, spot a multipart body whose closing boundary is missing."""
    try:
        if message.get_content_maintype() != "multipart":
            return []
        boundary = message.get_boundary()
    except Exception:
        return []
    body = message.get_payload()
    if not boundary or not isinstance(body, str):
        return []
    if f"--{boundary}--" not in body:
        return [f"message: {_DEFECT_TEXT[email.errors.CloseBoundaryNotFoundDefect]}"]
    return []


# --------------------------------------------------------------- parsing


def _to_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    raise MessageParseError(
        f"parse_message cannot read a {type(data).__name__}: it takes bytes, str, a file path "
        "or an email.message.Message.",
        fix="Pass the raw message bytes (for example GetRawMessageContent's messageContent.read()) "
        "or a pathlib.Path to an .eml file.",
    )


def _line_at(data: bytes, start: int) -> bytes:
    end = data.find(b"\n", start)
    return data[start : end if end >= 0 else len(data)]


def _check_is_mail(data: bytes, *, from_str: bool) -> bytes:
    """Refuse input that is not a mail message at all; return it without a BOM."""
    if not data or data.isspace():  # isspace() stops at the first other byte
        raise MessageParseError(
            "The message is empty.",
            fix="Check that the file or GetRawMessageContent stream was read fully (call .read() once).",
        )
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    line = _line_at(data, 0)
    if line.startswith(b"From ") and not _FIRST_HEADER.match(line):  # mbox envelope line
        line = _line_at(data, len(line) + 1)
    line = line.rstrip(b"\r")
    if not _FIRST_HEADER.match(line):
        start = data[:64].lstrip()[:1]
        hint = ""
        if start in (b"{", b"["):
            hint = " It looks like JSON (a WorkMail event?), not a MIME message."
        elif data.startswith(b"%PDF"):
            hint = " It looks like a PDF file."
        elif not line.strip():
            hint = " It starts with a blank line, so there is no header block."
        fix = "Pass the raw RFC 5322 message (an .eml file), which starts with header lines such as 'From: ...'."
        if from_str:
            fix += " To read a file, pass a pathlib.Path or call read_eml(path); a str is read as message text."
        raise MessageParseError(
            f"This is not an email message: the first line {line[:60]!r} is not a 'Name: value' header.{hint}",
            fix=fix,
        )
    return data


def _parse_headers_only(raw: bytes) -> email.message.EmailMessage:
    """BytesHeaderParser on the header block only, the rest attached as the text payload.

    Same result as parsing everything with BytesHeaderParser, but the parser no
    longer walks a 30 MB body line by line just to store it as a string.
    """
    parser = BytesHeaderParser(policy=_policy.default)
    match = _END_OF_HEADERS.search(raw)
    if match is None or match.end() == len(raw):
        return parser.parsebytes(raw)
    message = parser.parsebytes(raw[: match.end()])
    head = message.get_payload()
    tail = raw[match.end() :].decode("ascii", "surrogateescape")  # as BytesParser does
    message.set_payload((head if isinstance(head, str) else "") + tail)
    return message


def parse_message(
    data: _Source,
    *,
    headers_only: bool = False,
    max_bytes: int | None = MAX_MESSAGE_BYTES,
) -> ParsedMessage:
    """Parse one message from bytes, str, a path or a stdlib Message.

    ``headers_only=True`` parses just the header block (about ten times
    cheaper; enough to build a WorkMail event) and then refuses body access.
    A str is the message text (encoded as UTF-8); to read a file pass a path.
    A Message is serialised with ``as_bytes()`` and parsed again, so the view
    is a snapshot of exactly those bytes. ``max_bytes=None`` lifts the size cap.
    """
    if isinstance(data, os.PathLike):
        return read_eml(data, headers_only=headers_only, max_bytes=max_bytes)
    if isinstance(data, email.message.Message):
        try:
            raw = data.as_bytes()
        except Exception as exc:
            try:
                raw = data.as_bytes(policy=_policy.compat32)
            except Exception:
                raise MessageParseError(
                    f"The Message object could not be turned into bytes ({type(exc).__name__}: {exc}).",
                    fix="Check the header values you set; build it with email.message.EmailMessage().",
                ) from exc
        from_str = False
    else:
        raw = _to_bytes(data)
        from_str = isinstance(data, str)
    if max_bytes is not None and len(raw) > max_bytes:
        raise MessageParseError(
            f"The message is {len(raw):,} bytes, over the {max_bytes:,}-byte limit (WorkMail's own limit is 25 MB).",
            fix="Check that this is the right file, or pass a larger max_bytes (or None) to parse_message.",
        )
    raw = _check_is_mail(raw, from_str=from_str)
    try:
        message: email.message.EmailMessage = (
            _parse_headers_only(raw) if headers_only else BytesParser(policy=_policy.default).parsebytes(raw)
        )
    except RecursionError as exc:
        raise MessageParseError(
            "The message nests MIME parts too deeply to read.",
            fix="Check how the message was built; real mail nests a handful of levels.",
        ) from exc
    except Exception as exc:  # the feedparser is forgiving; this is a safety net
        raise MessageParseError(
            f"The stdlib email parser failed on this message ({type(exc).__name__}: {exc}).",
            fix="Check the message bytes; please report it if a real mail server accepts it.",
        ) from exc
    return ParsedMessage(raw, message, headers_only=headers_only)


def read_eml(
    path: str | os.PathLike[str],
    *,
    headers_only: bool = False,
    max_bytes: int | None = MAX_MESSAGE_BYTES,
) -> ParsedMessage:
    """Read and parse one .eml file; errors name the file."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise IsADirectoryError(21, "is a directory")
        if max_bytes is not None and size > max_bytes:
            raise MessageParseError(
                f"{p}: the file is {size:,} bytes, over the {max_bytes:,}-byte limit (WorkMail's own limit is 25 MB).",
                fix="Check that this is the right file, or pass a larger max_bytes (or None).",
            )
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise MessageParseError(
            f"{p}: no such file.", fix="Check the path; relative paths start from the notebook's folder."
        ) from exc
    except IsADirectoryError as exc:
        raise MessageParseError(
            f"{p} is a folder, not an .eml file.", fix="Use iter_messages(folder) to read every message in it."
        ) from exc
    except OSError as exc:
        raise MessageParseError(
            f"{p}: cannot read the file ({exc.strerror or exc}).", fix="Check the file's permissions."
        ) from exc
    if not data or data.isspace():
        raise MessageParseError(f"{p}: the file is empty.", fix="Check that the file was written completely.")
    try:
        return parse_message(data, headers_only=headers_only, max_bytes=max_bytes)
    except MessageParseError as exc:
        raise MessageParseError(f"{p}: {exc.problem}", fix=exc.fix) from exc


def iter_messages(
    source: str | os.PathLike[str],
    *,
    headers_only: bool = False,
    max_bytes: int | None = MAX_MESSAGE_BYTES,
) -> Iterator[tuple[str, ParsedMessage]]:
    """Yield ``(name, parsed)`` for each message in a folder, an mbox or a Maildir.

    - a Maildir (a folder with ``cur`` and ``new``): names are the message keys, sorted;
    - a folder: every ``*.eml`` below it, sorted by relative path, which is the name;
    - an mbox file (starts with ``From ``): names are ``file:1``, ``file:2``...;
    - a single .eml file: one message named after the file.

    Messages are read one at a time, so a large corpus never sits in memory.
    An unreadable message raises :class:`MessageParseError` naming it.
    """
    root = Path(source)
    if not root.exists():
        raise MessageParseError(
            f"{root}: no such file or folder.", fix="Pass a folder of .eml files, an mbox file or a Maildir folder."
        )
    opts: dict[str, Any] = {"headers_only": headers_only, "max_bytes": max_bytes}
    if root.is_dir():
        if (root / "cur").is_dir() and (root / "new").is_dir():
            yield from _iter_maildir(root, opts)
        else:
            for path in sorted(root.rglob("*.eml"), key=lambda q: q.relative_to(root).as_posix()):
                if path.is_file():
                    yield path.relative_to(root).as_posix(), read_eml(path, **opts)
        return
    with root.open("rb") as fh:
        is_mbox = fh.read(5) == b"From "
    if not is_mbox:
        yield root.name, read_eml(root, **opts)
        return
    box = mailbox.mbox(root, create=False)
    try:
        for n, key in enumerate(box.iterkeys(), 1):
            name = f"{root.name}:{n}"
            yield name, _parse_named(name, box.get_bytes(key), opts)
    finally:
        box.close()


def _iter_maildir(root: Path, opts: dict[str, Any]) -> Iterator[tuple[str, ParsedMessage]]:
    box = mailbox.Maildir(root, factory=None, create=False)
    for key in sorted(box.iterkeys()):
        yield key, _parse_named(key, box.get_bytes(key), opts)


def _parse_named(name: str, data: bytes, opts: dict[str, Any]) -> ParsedMessage:
    try:
        return parse_message(data, **opts)
    except MessageParseError as exc:
        raise MessageParseError(f"{name}: {exc.problem}", fix=exc.fix) from exc
