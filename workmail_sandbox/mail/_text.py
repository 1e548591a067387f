"""Turning MIME bytes and header values into text, never raising.

Shared by the header, part and message modules of :mod:`workmail_sandbox.mail`.
``get_content()`` raises ``LookupError`` for an unknown charset (Python 3.11);
bodies are therefore decoded here from the payload bytes, with replacement
characters instead.
"""

from __future__ import annotations

import codecs
import re

_LINESEP = re.compile(r"\r\n|\r|\n")


def codec_for(charset: str | None) -> str | None:
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


def bytes_to_text(data: bytes, charset: str | None) -> str:
    codec = codec_for(charset) or "utf-8"
    try:
        text = data.decode(codec, errors="replace")
    except Exception:  # codecs that reject errors='replace' or misbehave
        text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n")


def clean(value: str) -> str:
    """Turn surrogate-escaped 8-bit bytes into text: UTF-8 if valid, else U+FFFD."""
    if value.isascii():
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8", "replace")


def unfold(value: str) -> str:
    return _LINESEP.sub("", value)
