"""Reading email messages (.eml bytes), their addresses and their MIME parts.

A WorkMail function fetches the message with ``GetRawMessageContent`` and parses
the bytes itself; this package is the kit's one reader, so events, rules and the
emulated organization all see a message the same way.

Like a real mail server the reader is best effort. Broken headers, a missing
closing boundary, raw 8-bit bytes in headers or an address that cannot be read
never raise: they are listed in :attr:`ParsedMessage.defects` and the accessors
return what can be read. :class:`~workmail_sandbox.errors.MessageParseError` is
raised only for input that is not a message at all.

Modules:

- :mod:`.parsing`: :func:`parse_message` and :func:`read_eml` (one message);
- :mod:`.corpus`: :func:`iter_messages` over a folder, an mbox or a Maildir;
- :mod:`.message`: :class:`ParsedMessage`, the read-only view;
- :mod:`.parts`: :class:`Part`, one leaf MIME part;
- :mod:`.headers`: header fields read one at a time, :data:`ONCE_ONLY_HEADERS`;
- :mod:`.addresses`: :func:`normalize_address` and the domain helpers;
- :mod:`.replacement`: the MIME rules PutRawMessageContent applies to new
  content (:func:`check_replacement`).
"""

from __future__ import annotations

from .addresses import domain_of, in_domains, normalize_address, unique_addresses
from .corpus import iter_messages
from .headers import ONCE_ONLY_HEADERS
from .message import ParsedMessage
from .parsing import MAX_MESSAGE_BYTES, parse_message, read_eml
from .parts import Part
from .replacement import (
    IMMUTABLE_HEADERS,
    MAX_LINE_OCTETS,
    REQUIRED_HEADERS,
    UNSUPPORTED_ATTACHMENT_EXTENSIONS,
    check_message,
    check_replacement,
)

__all__ = [
    "IMMUTABLE_HEADERS",
    "MAX_LINE_OCTETS",
    "MAX_MESSAGE_BYTES",
    "ONCE_ONLY_HEADERS",
    "REQUIRED_HEADERS",
    "UNSUPPORTED_ATTACHMENT_EXTENSIONS",
    "ParsedMessage",
    "Part",
    "check_message",
    "check_replacement",
    "domain_of",
    "in_domains",
    "iter_messages",
    "normalize_address",
    "parse_message",
    "read_eml",
    "unique_addresses",
]
