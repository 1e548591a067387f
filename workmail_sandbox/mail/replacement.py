"""The MIME rules PutRawMessageContent applies to a replacement message.

The emulated Message Flow API (``workmail_sandbox.emulators.messageflow``) calls
:func:`check_replacement` before it accepts new content, and answers
``MessageRejected`` with the first problems it returns. The lessons can call it
directly to see why an edit would be refused.

What AWS documents (API reference, ``RawMessageContent``; the botocore shape
documentation says the same): the updated content must have

- every part of a multipart message well-formed;
- attachment types that Amazon SES accepts;
- non-7-bit content encoded;
- no line longer than 1,000 characters including CRLF (RFC 5321);
- all required headers present;
- immutable headers unchanged;
- headers that must be unique appearing once.

How each rule is checked here, and the choices made where AWS is silent:

1. **Line length** (RFC 5321 4.5.3.1.6): every line of the raw bytes, headers
   and body, counted with its CRLF (a line ending in a bare LF, or the last
   line without an ending, is counted as if it ended in CRLF).
2. **8-bit headers** (RFC 5322 2.2; "non-7-bit content encoded"): a header
   field of any part with raw bytes above 127 is refused; non-ASCII text in a
   header must be an RFC 2047 encoded word.
3. **Required headers**: AWS names none. RFC 5322 3.6 requires exactly two
   fields, ``Date`` and ``From``, so those are required. *Assumption.*
4. **Unique headers**: the fields RFC 5322 3.6 allows at most once
   (:data:`ONCE_ONLY_HEADERS`) must not repeat in the top-level header block.
5. **Immutable headers**: AWS does not list them. *Assumption:*
   :data:`IMMUTABLE_HEADERS` (``Message-ID``, ``Date``, ``From``, ``Sender``,
   ``Return-Path``): the fields that identify the message and its author. Each
   one present in the original must keep its decoded value (RFC 2047 decoded,
   unfolded, runs of white space collapsed) and must not be removed. A field the
   original lacked may be added, so that inbound mail without a ``Date`` can be
   fixed up to meet rule 3.
6. **Multipart well-formed**: the stdlib parser's defects on any part:
   no ``boundary`` parameter, start boundary not found, closing boundary not
   found, a multipart with no parts, or a multipart with a transfer encoding
   other than 7bit, 8bit or binary (RFC 2045 6.4).
7. **8-bit bodies**: a leaf part whose ``Content-Transfer-Encoding`` is
   ``7bit`` or absent (RFC 2045's default is 7bit) must not hold bytes above
   127. Parts declared ``8bit`` or ``binary`` are accepted: SES takes 8BITMIME
   mail. *Assumption.*
8. **Attachment types**: a part whose file name (``Content-Disposition``
   ``filename`` or ``Content-Type`` ``name``) ends in an extension on SES's
   list of unsupported attachment types (:data:`UNSUPPORTED_ATTACHMENT_EXTENSIONS`,
   from the SES developer guide, "Unsupported attachment types") is refused.

Content that is not a MIME message at all (empty, JSON, ...) gives a single
problem. Problems come in the order of the rules above; each names the header,
line or part (IMAP-style section numbers: ``1``, ``2.1``, ...) and the rule.
"""

from __future__ import annotations

import email.errors
import email.message
import re

from workmail_sandbox.errors import MessageParseError

from .headers import ONCE_ONLY_HEADERS
from .message import ParsedMessage
from .parsing import parse_message

__all__ = [
    "IMMUTABLE_HEADERS",
    "MAX_LINE_OCTETS",
    "ONCE_ONLY_HEADERS",
    "REQUIRED_HEADERS",
    "UNSUPPORTED_ATTACHMENT_EXTENSIONS",
    "check_message",
    "check_replacement",
]

#: RFC 5321 4.5.3.1.6: "The maximum total length of a text line including the <CRLF> is 1000 octets".
MAX_LINE_OCTETS = 1000

#: RFC 5322 3.6: the only fields every message must have (AWS names none: an assumption).
REQUIRED_HEADERS = ("Date", "From")

#: Fields a replacement may not change or remove (AWS does not list them: an assumption).
IMMUTABLE_HEADERS = ("Message-ID", "Date", "From", "Sender", "Return-Path")

#: File extensions SES refuses as attachments (SES developer guide, "Unsupported attachment types").
UNSUPPORTED_ATTACHMENT_EXTENSIONS = frozenset(
    [
        "ade", "adp", "app", "asp", "bas", "bat", "cer", "chm", "cmd", "com", "cpl", "crt", "csh", "der", "exe",
        "fxp", "gadget", "hlp", "hta", "inf", "ins", "isp", "its", "js", "jse", "ksh", "lib", "lnk", "mad", "maf",
        "mag", "mam", "maq", "mar", "mas", "mat", "mau", "mav", "maw", "mda", "mdb", "mde", "mdt", "mdw", "mdz",
        "msc", "msh", "msh1", "msh2", "mshxml", "msh1xml", "msh2xml", "msi", "msp", "mst", "ops", "pcd", "pif", "plg",
        "prf", "prg", "reg", "scf", "scr", "sct", "shb", "shs", "sys", "ps1", "ps1xml", "ps2", "ps2xml", "psc1",
        "psc2", "tmp", "url", "vb", "vbe", "vbs", "vps", "vsmacros", "vss", "vst", "vsw", "vxd", "ws", "wsc", "wsf",
        "wsh", "xnk",
    ]
)

_MULTIPART_DEFECTS: dict[type, str] = {
    email.errors.NoBoundaryInMultipartDefect: "its Content-Type has no boundary parameter",
    email.errors.StartBoundaryNotFoundDefect: "its boundary never appears in the body (start boundary not found)",
    email.errors.CloseBoundaryNotFoundDefect: "its closing boundary line (--boundary--) is missing",
    email.errors.MultipartInvariantViolationDefect: "it is declared multipart but has no parts",
    email.errors.InvalidMultipartContentTransferEncodingDefect: (
        "it has a Content-Transfer-Encoding other than 7bit, 8bit or binary (RFC 2045 6.4)"
    ),
}
_WS = re.compile(r"\s+")
_MAX_LINES_NAMED = 3


def check_replacement(original: bytes, new: bytes) -> list[str]:
    """Return the problems that make ``new`` unacceptable as a replacement for ``original``.

    An empty list means PutRawMessageContent accepts the content. ``original``
    is the message as WorkMail received it; it is only read for the immutable
    headers, so it may itself break the other rules (inbound mail often does).
    """
    try:
        before: ParsedMessage | None = parse_message(bytes(original), headers_only=True, max_bytes=None)
    except (MessageParseError, TypeError):
        before = None  # the original is not mail: no immutable headers to keep
    return _problems(new, before)


def check_message(raw: bytes) -> list[str]:
    """Every rule but the immutable headers: what needs only the new content."""
    return _problems(raw, None)


def _problems(raw: object, before: ParsedMessage | None) -> list[str]:
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        return [f"content: expected the raw message bytes, got {type(raw).__name__}"]
    data = bytes(raw)
    try:
        parsed = parse_message(data, max_bytes=None)
    except MessageParseError as exc:
        return [f"content: not a MIME message: {exc.problem}"]
    parts = _walk(parsed.message)
    problems: list[str] = []
    problems += _line_length_problems(data)
    problems += _eight_bit_header_problems(parts)
    problems += _required_header_problems(parsed)
    problems += _unique_header_problems(parsed)
    if before is not None:
        problems += _immutable_problems(before, parsed)
    problems += _multipart_problems(parts)
    problems += _eight_bit_body_problems(parts)
    problems += _attachment_problems(parts)
    return problems


# ------------------------------------------------------------------ rules


def _line_length_problems(raw: bytes) -> list[str]:
    too_long: list[tuple[int, int]] = []
    lines = raw.split(b"\n")
    if raw.endswith(b"\n"):
        lines.pop()  # the empty remainder after the final line ending
    for number, line in enumerate(lines, 1):
        content = line[:-1] if line.endswith(b"\r") else line
        length = len(content) + 2
        if length > MAX_LINE_OCTETS:
            too_long.append((number, length))
    if not too_long:
        return []
    named = too_long[:_MAX_LINES_NAMED]
    out = [
        f"line {number}: {length} characters including CRLF; RFC 5321 4.5.3.1.6 allows at most "
        f"{MAX_LINE_OCTETS} (wrap it, or use quoted-printable or base64 for the body)"
        for number, length in named
    ]
    if len(too_long) > len(named):
        rest = ", ".join(str(n) for n, _ in too_long[len(named) : len(named) + 10])
        more = " ..." if len(too_long) > len(named) + 10 else ""
        out.append(f"lines {rest}{more}: {len(too_long) - len(named)} more lines over {MAX_LINE_OCTETS} characters")
    return out


def _eight_bit_header_problems(parts: list[tuple[str, email.message.Message]]) -> list[str]:
    out: list[str] = []
    for section, part in parts:
        seen: set[str] = set()
        for name, value in part.raw_items():
            if (name.isascii() and str(value).isascii()) or name.lower() in seen:
                continue
            seen.add(name.lower())
            where = f"header {name}" if not section else f"part {section}: header {name}"
            out.append(
                f"{where}: unencoded 8-bit bytes; non-7-bit content must be encoded "
                "(in headers as RFC 2047 encoded words, RFC 5322 2.2)"
            )
    return out


def _required_header_problems(parsed: ParsedMessage) -> list[str]:
    return [
        f"header {name}: missing; it is required (RFC 5322 3.6)"
        for name in REQUIRED_HEADERS
        if not parsed.header_values(name)
    ]


def _unique_header_problems(parsed: ParsedMessage) -> list[str]:
    out = []
    for name in ONCE_ONLY_HEADERS:
        count = len(parsed.header_values(name))
        if count > 1:
            out.append(f"header {name}: appears {count} times; it must be unique (RFC 5322 3.6 allows it once)")
    return out


def _normalized(values: list[str]) -> list[str]:
    return [_WS.sub(" ", v).strip() for v in values]


def _immutable_problems(before: ParsedMessage, after: ParsedMessage) -> list[str]:
    out = []
    for name in IMMUTABLE_HEADERS:
        old = _normalized(before.header_values(name))
        if not old:
            continue
        new = _normalized(after.header_values(name))
        if not new:
            out.append(f"header {name}: removed; it is immutable and must stay {old[0]!r}")
        elif new != old:
            shown_old = old[0] if len(old) == 1 else old
            shown_new = new[0] if len(new) == 1 else new
            out.append(f"header {name}: changed from {shown_old!r} to {shown_new!r}; it is immutable")
    return out


def _multipart_problems(parts: list[tuple[str, email.message.Message]]) -> list[str]:
    out = []
    for section, part in parts:
        for defect in part.defects:
            text = _MULTIPART_DEFECTS.get(type(defect))
            if text:
                out.append(f"{_label(section, part)}: not a well-formed multipart: {text}")
    return out


def _eight_bit_body_problems(parts: list[tuple[str, email.message.Message]]) -> list[str]:
    out = []
    for section, part in parts:
        if part.is_multipart():
            continue
        cte = (part.get("Content-Transfer-Encoding") or "7bit").strip().lower()
        if cte != "7bit":
            continue
        try:
            body = part.get_payload(decode=True)
        except Exception:  # a broken part: the multipart rule reports it
            continue
        if isinstance(body, bytes) and not body.isascii():
            if part.get("Content-Transfer-Encoding"):
                declared = "declares 7bit"
            else:
                declared = "has no Content-Transfer-Encoding (7bit)"
            out.append(
                f"{_label(section, part)}: holds 8-bit bytes but {declared}; non-7-bit content must be "
                "encoded (Content-Transfer-Encoding: quoted-printable or base64)"
            )
    return out


def _attachment_problems(parts: list[tuple[str, email.message.Message]]) -> list[str]:
    out = []
    for section, part in parts:
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        if not filename:
            continue
        extension = filename.rsplit(".", 1)[-1].strip().lower() if "." in filename else ""
        if extension in UNSUPPORTED_ATTACHMENT_EXTENSIONS:
            out.append(
                f"{_label(section, part)}: attachment {filename!r} has the extension .{extension}, "
                "which Amazon SES does not accept (SES unsupported attachment types)"
            )
    return out


# ------------------------------------------------------------------ walking


def _content_type(part: email.message.Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _label(section: str, part: email.message.Message) -> str:
    return f"part {section} ({_content_type(part)})" if section else f"message ({_content_type(part)})"


def _walk(message: email.message.Message) -> list[tuple[str, email.message.Message]]:
    """Every part depth-first with IMAP-style sections ('' is the message itself).

    An attached message (message/rfc822) is part N; its parts are N.1, N.2 ...
    (a single-part attached message's body is N.1), as IMAP numbers them.
    """
    out: list[tuple[str, email.message.Message]] = []

    def visit(section: str, part: email.message.Message) -> None:
        out.append((section, part))
        payload = part.get_payload()
        if not isinstance(payload, list):
            return
        prefix = f"{section}." if section else ""
        if _content_type(part).startswith("message/"):
            for inner in payload:
                if isinstance(inner, email.message.Message):
                    visit(section if inner.is_multipart() else f"{prefix}1", inner)
            return
        for i, child in enumerate(payload, 1):
            if isinstance(child, email.message.Message):
                visit(f"{prefix}{i}", child)

    visit("", message)
    return out
