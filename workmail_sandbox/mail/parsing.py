"""Parsing one message from bytes, text, a file or a stdlib ``Message``.

Why ``email.policy.default`` and not ``email.message_from_bytes(data)``: the
latter still uses the ``compat32`` policy, which leaves RFC 2047 encoded words
(``=?utf-8?b?...?=``) undecoded in subjects and display names.

:class:`~workmail_sandbox.errors.MessageParseError` is raised only for input
that is not a message at all (empty, too big, not starting with a header line,
or not bytes/str/path/Message); anything else is read best effort.

Stdlib quirk handled here (Python 3.11): ``BytesHeaderParser`` still walks the
whole body line by line to store it as a string (0.4 s for 30 MB); the
headers-only path parses the header block alone and attaches the rest, with
the same result.
"""

from __future__ import annotations

import email.message
import os
import re
import stat
from email import policy as _policy
from email.feedparser import FeedParser
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from workmail_sandbox.errors import MessageParseError

from .headers import END_OF_HEADERS
from .message import ParsedMessage

__all__ = ["MAX_HEADER_BYTES", "MAX_MESSAGE_BYTES", "MessageSource", "parse_message", "read_eml", "read_regular_file"]

MAX_MESSAGE_BYTES = 40 * 1024 * 1024
"""Default size cap, in bytes, for one message (40 MiB).

WorkMail's own message size limit is 25 MB (the WorkMail quotas page; not
re-checked for this kit). That limit counts attachments before transfer
encoding; base64 makes them a third bigger, so a 25 MB message can be about
34 MB on the wire. 40 MiB also matches the largest message SES v2 and SMTP
accept ("40 MB per message (after base64 encoding)",
https://docs.aws.amazon.com/ses/latest/dg/quotas.html). Anything larger cannot
be WorkMail mail, and refusing it early keeps a wrong file from eating memory:
:func:`read_eml` checks it with ``stat`` before opening the file.
"""

MAX_HEADER_BYTES = 8 * 1024 * 1024
"""Default cap, in bytes, for the top-level header block of one message (8 MiB).

The kit's choice: no AWS page gives a header limit (Postfix's ``header_size_limit``
defaults to 100 KB). 8 MiB keeps synthetic corpora readable (a 100,000-recipient To
field is about 3.5 MB) while bounding the work: every reader of a long field is
linear (fields over 16 KB never reach the stdlib's quadratic RFC 5322 parser, see
:data:`~workmail_sandbox.mail.headers.LONG_FIELD_CHARS`), so a header block at the
cap costs a few seconds. Checked before the stdlib parser runs.
"""

# A first line a message can start with: a field name (RFC 7230 token chars,
# which every real header name uses) then a colon. Stricter than RFC 5322's
# "any printable but colon" so that JSON ('{"a": 1}') is not taken for mail.
_FIRST_HEADER = re.compile(rb"[A-Za-z0-9!#$%&'*+\-.^_`|~]+[ \t]*:")
_BOM = b"\xef\xbb\xbf"

MessageSource = bytes | bytearray | memoryview | str | os.PathLike[str] | email.message.Message


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
    data = data.removeprefix(_BOM)
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


def _check_header_block(raw: bytes, limit: int) -> None:
    """Refuse a top-level header block over ``limit`` bytes; looks at ``limit`` + 2 bytes at most."""
    if len(raw) <= limit:
        return
    if END_OF_HEADERS.search(raw, 0, limit + 2) is None:
        raise MessageParseError(
            f"The header block is over the {limit:,}-byte limit (no blank line ends it within {limit:,} bytes).",
            fix="Check that this is a mail message, or pass a larger max_header_bytes (or None) to parse_message.",
        )


class _HeadersOnlyFeedParser(FeedParser):
    """The feed parser ``BytesHeaderParser`` runs, without the check its ``close()`` makes for a full parse.

    ``FeedParser.close()`` reports a multipart message whose body was not split
    into parts (``MultipartInvariantViolationDefect``) only when it parsed the
    body, but it reads Content-Type first, through the modern policy's header
    classes: a third of a headers-only parse of a small message. The result is
    the same message; the private steps are the stdlib's own ``close()``
    (Python 3.10 to 3.13).
    """

    def close(self) -> email.message.Message:
        self._input.close()  # type: ignore[attr-defined]  # FeedParser's own state, as its close() uses it
        self._call_parse()  # type: ignore[attr-defined]  # (see above)
        return self._pop_message()  # type: ignore[attr-defined]  # (see above)


def _headers_only(data: bytes) -> email.message.EmailMessage:
    """``BytesHeaderParser(policy=default).parsebytes(data)``, without the multipart check it cannot use."""
    text = data.decode("ascii", "surrogateescape")  # as BytesParser does
    try:
        parser = _HeadersOnlyFeedParser(policy=_policy.default)
        parser._set_headersonly()  # type: ignore[attr-defined]  # what Parser.parse(headersonly=True) calls
        parser.feed(text)
        message = parser.close()
    except AttributeError:  # pragma: no cover - a Python whose FeedParser is laid out otherwise
        return BytesHeaderParser(policy=_policy.default).parsebytes(data)
    return message  # type: ignore[return-value]  # the default policy's factory makes an EmailMessage


def _parse_headers_only(raw: bytes) -> email.message.EmailMessage:
    """BytesHeaderParser on the header block only, the rest attached as the text payload.

    Same result as parsing everything with BytesHeaderParser, but the parser no
    longer walks a 30 MB body line by line just to store it as a string.
    """
    match = END_OF_HEADERS.search(raw)
    if match is None or match.end() == len(raw):
        return _headers_only(raw)
    message = _headers_only(raw[: match.end()])
    # The stored payload as is: get_payload() would also parse Content-Transfer-Encoding, a third of the cost.
    head = message._payload  # type: ignore[attr-defined]  # the stdlib's own attribute, what get_payload returns
    tail = raw[match.end() :].decode("ascii", "surrogateescape")  # as BytesParser does
    message.set_payload((head if isinstance(head, str) else "") + tail)
    return message


def parse_message(
    data: MessageSource,
    *,
    headers_only: bool = False,
    max_bytes: int | None = MAX_MESSAGE_BYTES,
    max_header_bytes: int | None = MAX_HEADER_BYTES,
) -> ParsedMessage:
    """Parse one message from bytes, str, a path or a stdlib Message.

    ``headers_only=True`` parses just the header block (about ten times
    cheaper; enough to build a WorkMail event) and then refuses body access.
    A str is the message text (encoded as UTF-8); to read a file pass a path.
    A Message is serialised with ``as_bytes()`` and parsed again, so the view
    is a snapshot of exactly those bytes. ``max_bytes=None`` lifts the size cap;
    ``max_header_bytes`` caps the top-level header block (:data:`MAX_HEADER_BYTES`),
    ``None`` lifts it.
    """
    if isinstance(data, os.PathLike):
        return read_eml(data, headers_only=headers_only, max_bytes=max_bytes, max_header_bytes=max_header_bytes)
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
    if max_header_bytes is not None:
        _check_header_block(raw, max_header_bytes)
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
    max_header_bytes: int | None = MAX_HEADER_BYTES,
) -> ParsedMessage:
    """Read and parse one .eml file; errors name the file.

    The file is checked with ``stat`` before it is opened: only a regular file is read
    (a FIFO, a device such as ``/dev/zero`` or a socket is refused without opening it),
    and one over ``max_bytes`` is refused unread. At most ``max_bytes`` + 1 bytes are
    read, so a file that grows after the check is refused too.
    """
    p = Path(path)
    try:
        data = read_regular_file(p, max_bytes, what="message")
    except MessageParseError as exc:
        raise MessageParseError(f"{p}: {exc.problem}", fix=exc.fix) from None
    if not data or data.isspace():
        raise MessageParseError(f"{p}: the file is empty.", fix="Check that the file was written completely.")
    try:
        return parse_message(data, headers_only=headers_only, max_bytes=max_bytes, max_header_bytes=max_header_bytes)
    except MessageParseError as exc:
        raise MessageParseError(f"{p}: {exc.problem}", fix=exc.fix) from exc


def read_regular_file(path: str | os.PathLike[str], max_bytes: int | None, *, what: str = "file") -> bytes:
    """The bytes of ``path``, read only if ``stat`` says it is a regular file of at most ``max_bytes``.

    Raises :class:`MessageParseError` (without the path; callers add it) for a missing
    file, a folder, a FIFO, a device or a socket (never opened, so a FIFO cannot
    block), a file over the limit (never read), and a file that grew past it while
    being read (at most ``max_bytes`` + 1 bytes are read).
    """
    p = Path(path)
    try:
        st = p.stat()
        if stat.S_ISDIR(st.st_mode):
            raise MessageParseError(
                "is a folder, not a file.", fix="Use iter_messages(folder) to read every message in it."
            )
        if not stat.S_ISREG(st.st_mode):
            kind = _FILE_KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
            raise MessageParseError(
                f"is a {kind}, not a regular file; only regular files are read.",
                fix="Save the content to a regular file first (a FIFO or device could block or never end).",
            )
        if max_bytes is not None and st.st_size > max_bytes:
            raise MessageParseError(
                f"the file is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit for a {what}"
                + (" (WorkMail's own limit is 25 MB)." if what == "message" else "."),
                fix="Check that this is the right file, or pass a larger max_bytes (or None).",
            )
        with p.open("rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise MessageParseError(
            "no such file.", fix="Check the path; relative paths start from the notebook's folder."
        ) from exc
    except IsADirectoryError as exc:
        raise MessageParseError(
            "is a folder, not a file.", fix="Use iter_messages(folder) to read every message in it."
        ) from exc
    except OSError as exc:
        raise MessageParseError(
            f"cannot read the file ({exc.strerror or exc}).", fix="Check the file's permissions."
        ) from exc
    if max_bytes is not None and len(data) > max_bytes:
        raise MessageParseError(
            f"the file grew past the {max_bytes:,}-byte limit for a {what} while it was read.",
            fix="Wait until the file is written completely, or pass a larger max_bytes (or None).",
        )
    return data


_FILE_KINDS = {
    stat.S_IFIFO: "FIFO (named pipe)",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}
