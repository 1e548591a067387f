"""Header fields read one at a time, so a broken field never stops the rest.

Stdlib quirks handled here (Python 3.11):

- Reading some malformed address, Message-ID or encoded-word headers raises
  from inside ``email._header_value_parser`` (``IndexError``, ``AttributeError``,
  ``TypeError``), even from ``msg['To']`` or ``msg.items()``. Every header is
  therefore read one at a time from ``raw_items()`` with a fallback
  (:class:`Header`).
- A header line without a colon ends the header block: the parser reads the
  rest of the headers as body (``MissingHeaderBodySeparatorDefect``).
  :func:`header_block_lines` stops at the same line.
"""

from __future__ import annotations

import email.header
import email.message
import re
from collections.abc import Iterator
from typing import Any

from ._text import clean, unfold
from .addresses import STDLIB_ADDRESS_FIELD_CHARS

__all__ = ["LONG_FIELD_CHARS", "ONCE_ONLY_HEADERS", "Header", "header_block_lines", "read_headers"]

LONG_FIELD_CHARS = STDLIB_ADDRESS_FIELD_CHARS
"""Fields longer than this (16 KB) are never given to ``email.policy.default``.

Its parser (``email._header_value_parser``) is quadratic in a field's length (Python
3.11: a 100 KB To field 1.9 s, 400 KB 45 s; 400 KB of encoded words in a Subject
15 s). A longer field is unfolded and its RFC 2047 words decoded one by one
(:func:`_linear_decode`); its ``obj`` is None and :attr:`Header.too_long` is True.
Address fields of any length are read by :func:`~workmail_sandbox.mail.addresses.addresses_in_field`.
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

# Lines the stdlib parser accepts inside a header block (feedparser.headerRE).
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:|[ \t]")
END_OF_HEADERS = re.compile(rb"\n\r?\n")


class Header:
    """One header field, parsed by the stdlib on first use, read leniently if that fails."""

    __slots__ = ("_error", "_obj", "_policy", "_value", "name", "raw")

    def __init__(self, name: str, raw: Any, policy: Any) -> None:
        self.name = name
        self.raw = str(raw)  # as stored: folded, encoded words intact, 8-bit bytes as surrogates
        self._policy = policy
        self._value: str | None = None
        self._obj: Any = None
        self._error: str | None = None

    @property
    def too_long(self) -> bool:
        """True when the field is longer than :data:`LONG_FIELD_CHARS` and read without the stdlib's parser."""
        return len(self.raw) > LONG_FIELD_CHARS

    def _parse(self) -> str:
        if self._value is None and self.too_long:
            self._value = clean(_linear_decode(self.raw))
        if self._value is None:
            try:
                obj = self._policy.header_fetch_parse(self.name, self.raw)
                self._value = clean(unfold(str(obj)))
                self._obj = obj if hasattr(obj, "defects") else None
            except Exception as exc:  # IndexError, AttributeError, TypeError, ...
                self._error = f"{type(exc).__name__}: {exc}"
                self._value = clean(_fallback_decode(self.raw))
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


def read_headers(message: email.message.Message) -> list[Header]:
    """List the fields of ``message`` without parsing them (parsing is per field, on use)."""
    return [Header(name, raw, message.policy) for name, raw in message.raw_items()]


def _fallback_decode(raw: str) -> str:
    """Decode RFC 2047 words the forgiving compat32 way, for headers the new parser rejects."""
    text = unfold(raw).strip()
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except Exception:
        return text


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]{0,4096})\?=")
_BETWEEN_WORDS = re.compile(r"(?<=\?=)[ \t]+(?==\?)")


def _decode_word(match: re.Match[str]) -> str:
    try:
        (data, charset), *_ = email.header.decode_header(match.group())
        if isinstance(data, str):
            return data
        return data.decode(charset or "ascii", "replace")
    except Exception:
        return match.group()


def _linear_decode(raw: str) -> str:
    """Unfold and decode RFC 2047 words one by one: linear where ``decode_header`` is quadratic.

    Used for fields over :data:`LONG_FIELD_CHARS`. The stdlib's ``decode_header`` and
    ``make_header`` re-join the decoded chunks (Python 3.11: 1 MB of encoded words 3 s,
    4 MB 77 s); this reads each word with a bounded regular expression instead.
    Whitespace between two adjacent encoded words is dropped, as RFC 2047 section 6.2 says.
    """
    text = unfold(raw).strip()
    return _ENCODED_WORD.sub(_decode_word, _BETWEEN_WORDS.sub("", text))


def header_block_lines(raw: bytes) -> Iterator[bytes]:
    """Yield the top-level header lines as the stdlib parser sees them (no CR/LF)."""
    match = END_OF_HEADERS.search(raw)
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
