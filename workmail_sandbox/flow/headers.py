"""Reading what the flow needs from a message's header fields: fast, and the same as :mod:`workmail_sandbox.mail`.

The rules and the events need only the header block (``parse_message(headers_only=True)``).
Within it, reading an address field through ``email.policy.default`` costs about
0.3 ms per address, more than parsing a whole message for a long recipient
list; :func:`header_facts` reads the raw values instead, and gives the same
answers as :class:`~workmail_sandbox.mail.ParsedMessage` (checked on the
sample mail and 3,000 generated messages; unusual fields fall back to it).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import MessageParseError, SandboxError
from ..mail import ParsedMessage, normalize_address, parse_message
from ..mail.addresses import plain_address_list
from ..mail.headers import LONG_FIELD_CHARS

__all__ = ["HeaderFacts", "header_facts", "to_raw"]

def to_raw(message: Any) -> tuple[bytes, ParsedMessage]:
    """Raw bytes and a headers-only parse of ``message`` (bytes, str text, path, Message or ParsedMessage)."""
    import os
    from email.message import Message

    if isinstance(message, ParsedMessage):
        raw = message.raw
        parsed = message
    elif isinstance(message, (bytes, bytearray, memoryview)):
        raw = bytes(message)
        parsed = parse_message(raw, headers_only=True)
    elif isinstance(message, (os.PathLike, str, Message)):
        parsed = parse_message(message, headers_only=True)
        raw = parsed.raw
    else:
        raise MessageParseError(
            f"A message to route must be bytes, text, a path or an email Message, not {type(message).__name__}.",
            fix="pass Path('mail.eml'), its bytes, or an email.message.EmailMessage",
        )
    return raw, parsed


_LINESEP = re.compile(r"\r\n|\r|\n")
_ADDRESS_FIELDS = ("from", "sender", "to", "cc", "bcc")
_TOKEN_FIELDS = ("message-id", "return-path", "x-ses-spam-verdict", "x-ses-virus-verdict", "subject")
#: An unfolded Subject the stdlib would return unchanged: printable ASCII, spaces and tabs, no encoded word.
_PLAIN_TEXT = re.compile(r"[\x20-\x7e\t]*")
@dataclass(frozen=True)
class HeaderFacts:
    """What rules, events and delivery need from the header fields, read once from their raw values."""

    from_addresses: list[str]
    #: The Sender header's address, None when absent or when it only repeats the single From
    #: (as :attr:`ParsedMessage.sender_address`).
    sender: str | None
    #: To, Cc and Bcc, normalized and de-duplicated (as :attr:`ParsedMessage.recipients`).
    recipients: list[str]
    #: Message-ID as written (as :attr:`ParsedMessage.message_id`).
    message_id: str | None = None
    #: Return-Path as written, None when absent.
    return_path: str | None = None
    #: X-SES-Spam-Verdict / X-SES-Virus-Verdict upper-cased (as :attr:`ParsedMessage.spam_verdict`).
    spam_verdict: str | None = None
    virus_verdict: str | None = None
    #: The Subject, decoded and unfolded, '' when absent (as :attr:`ParsedMessage.subject`).
    subject: str = ""


def _subject(raw: str | None, parsed: ParsedMessage) -> str:
    """The first Subject as ``ParsedMessage.subject`` reads it; a plain ASCII value without encoded words
    needs no header class (the stdlib's reading of it is the unfolded text itself)."""
    if raw is None:
        return ""
    text = _LINESEP.sub("", raw)
    if len(text) <= LONG_FIELD_CHARS and "=?" not in text and _PLAIN_TEXT.fullmatch(text):
        return text.strip()
    return parsed.subject


def _token(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = " ".join(_LINESEP.sub(" ", raw).split())
    return value or None


def header_facts(parsed: ParsedMessage) -> HeaderFacts:
    """From, Sender, the recipients and a few plain fields of ``parsed``, as its properties give them, faster.

    Reading a field through ``email.policy.default`` costs a header class
    built per call, and an address field the full RFC 5322 grammar (about
    0.3 ms per address: a 300-recipient message costs more than parsing the
    whole message). The raw values are read here once: plain address lists
    with :func:`workmail_sandbox.mail.addresses.plain_address_list` (the
    reader :class:`ParsedMessage` uses too), other simple fields with
    ``email.utils.getaddresses``; a field either might read differently (a
    group, a backslash, an entry that is not an address) falls back to
    :class:`ParsedMessage`'s own reading, so the result is the same (a
    property test compares them). Plain tokens (Message-ID, verdicts) need no
    decoding, nor does a Subject of printable ASCII without encoded words
    (any other Subject is read by :class:`ParsedMessage`).
    """
    raw: dict[str, list[str]] = {}
    tokens: dict[str, str] = {}
    for name, value in parsed.message.raw_items():
        key = name.lower()
        if key in _ADDRESS_FIELDS:
            raw.setdefault(key, []).append(str(value))
        elif key in _TOKEN_FIELDS and key not in tokens:
            tokens[key] = str(value)
    found: dict[str, list[str]] = {}
    for key in _ADDRESS_FIELDS:
        values = raw.get(key)
        if not values:
            found[key] = []
            continue
        result: list[str] = []
        usable = True
        for value in values:
            text = _LINESEP.sub("", value)
            if ":" in text or "\\" in text or ";" in text:
                usable = False
                break
            simple = plain_address_list(text)
            pairs = [("", a) for a in simple] if simple is not None else email.utils.getaddresses([text])
            for _, addr in pairs:
                if not addr:
                    continue
                try:
                    result.append(normalize_address(addr))
                except MessageParseError:
                    usable = False
                    break
            if not usable:
                break
        found[key] = result if usable else parsed._addresses(key)
    froms = found["from"]
    senders = found["sender"]
    sender = senders[0] if senders and froms != senders[:1] else None
    recipients = found["to"] + found["cc"] + found["bcc"]
    recipients = list(dict.fromkeys(recipients)) if recipients else []
    spam, virus = _token(tokens.get("x-ses-spam-verdict")), _token(tokens.get("x-ses-virus-verdict"))
    return HeaderFacts(
        froms,
        sender,
        recipients,
        message_id=_token(tokens.get("message-id")),
        return_path=_token(tokens.get("return-path")) if "return-path" in tokens else None,
        spam_verdict=spam.upper() if spam else None,
        virus_verdict=virus.upper() if virus else None,
        subject=_subject(tokens.get("subject"), parsed),
    )


def _normalized(addresses: Iterable[str], what: str) -> list[str]:
    out: dict[str, None] = {}
    for address in addresses:
        try:
            out[normalize_address(address)] = None
        except MessageParseError as exc:
            raise SandboxError(f"{what}: {exc.problem}", fix=exc.fix) from None
    return list(out)


def _return_path(value: str | None) -> tuple[bool, str | None]:
    """(present, address) of a Return-Path value; ``<>`` is present with address None."""
    if value is None:
        return False, None
    text = value.strip()
    if text in ("<>", ""):
        return True, None
    try:
        return True, normalize_address(text)
    except MessageParseError:
        return False, None


