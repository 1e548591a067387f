"""Email addresses as the kit compares them: bare, lower-case ``local@domain``.

Events, rules and the emulated organization all compare addresses through
these functions, so de-duplication and domain conditions agree everywhere.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Iterable

from workmail_sandbox.errors import MessageParseError

__all__ = [
    "STDLIB_ADDRESS_FIELD_CHARS",
    "addresses_in_field",
    "domain_of",
    "in_domains",
    "normalize_address",
    "plain_address_list",
    "split_address_list",
    "unique_addresses",
]


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


# -- reading address fields in linear time -------------------------------------------

#: One plain list item: ``Name <local@domain>`` (a name with no quote, comma, ``@``, angle
#: bracket or parenthesis) or a bare ``local@domain``. The same reading as the stdlib's for
#: these items (they leave its RFC 5322 grammar no choice).
_ATOM = r"[^<>\s\",;:\\()\[\].@\x00-\x1f\x7f]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_ADDR = rf"{_DOT_ATOM}@{_DOT_ATOM}"
_SIMPLE_ITEM = re.compile(rf"\s*(?:[^<>\",@;:\\()]*<({_ADDR})>|({_ADDR}))\s*")
# Two more item forms read without the stdlib in long fields: a quoted display name
# (escapes allowed) before an angle address, and a bare address with one comment after it.
_QUOTED_ITEM = re.compile(rf'\s*"(?:[^"\\]|\\.)*"\s*<({_ADDR})>\s*|\s*({_ADDR})\s*\([^()\\]*\)\s*')
# Tokens of an address list, for the item splitter: a quoted string, a comment (not nested),
# an angle address, a separator, or a run of anything else. Each alternative consumes at
# least one character and never backtracks into another, so the scan is linear.
_LIST_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|\((?:[^()\\]|\\.)*\)?|<[^<>]*>?|[,:;]|[^",:;(<]+|.', re.S)

STDLIB_ADDRESS_FIELD_CHARS = 16 * 1024
"""Address fields up to this many characters that are not a plain list go to the stdlib parser.

``email.policy.default`` reads an address field with the full RFC 5322 grammar in
``email._header_value_parser``, which re-slices the rest of the field for every token:
quadratic in the field's length (Python 3.11: 5,000 addresses 1.6 s, 20,000 addresses
8 s, 100,000 addresses over 10 minutes). Plain lists (the usual case) are read by
:func:`plain_address_list` at any size; other fields longer than this are split into
items first (:func:`split_address_list`) and each item is read on its own.
"""


def plain_address_list(text: str) -> list[str] | None:
    """The addr-specs of a plain address list (``a@x, Name <b@y>``), None when it is not that plain.

    Linear in ``len(text)``. A group, a quoted name, a comment or a backslash make it
    not plain: the caller then uses a full reader.
    """
    if ":" in text or "\\" in text or ";" in text:
        return None
    out = []
    for item in text.split(","):
        match = _SIMPLE_ITEM.fullmatch(item)
        if match is None:
            if item.strip():
                return None
            continue
        out.append(match.group(1) or match.group(2))
    return out


def split_address_list(text: str) -> list[str]:
    """Split an address field into its items at top-level commas, linear in ``len(text)``.

    Quoted strings, comments and angle addresses are kept whole; a group's display name
    (``team:``) and its closing ``;`` are dropped, so its members become items.
    """
    items: list[str] = []
    current: list[str] = []
    for match in _LIST_TOKEN.finditer(text):
        token = match.group()
        if token == ",":
            items.append("".join(current))
            current = []
        elif token == ":":
            current = []  # a group's display name
        elif token == ";":
            items.append("".join(current))
            current = []
        else:
            current.append(token)
    items.append("".join(current))
    return [item for item in items if item.strip()]


def addresses_in_field(text: str, *, parse_small: Callable[[], list[str]] | None = None) -> list[str]:
    """The addr-specs (not normalized) of one unfolded address field, in time linear in its length.

    A plain list is read with a regular expression; any other field up to
    :data:`STDLIB_ADDRESS_FIELD_CHARS` is read by ``parse_small`` (the stdlib's full
    grammar, exact) when given, else by ``email.utils.getaddresses``; a longer one is split
    into items and each item read by ``email.utils.getaddresses`` on its own.
    """
    plain = plain_address_list(text)
    if plain is not None:
        return plain
    if len(text) <= STDLIB_ADDRESS_FIELD_CHARS:
        if parse_small is not None:
            return parse_small()
        return _getaddresses(text)
    found: list[str] = []
    for item in split_address_list(text):
        match = _SIMPLE_ITEM.fullmatch(item)
        if match is not None:
            found.append(match.group(1) or match.group(2))
        elif (quoted := _QUOTED_ITEM.fullmatch(item)) is not None:
            found.append(quoted.group(1) or quoted.group(2))
        elif len(item) <= STDLIB_ADDRESS_FIELD_CHARS:
            found += _getaddresses(item)
        # a single item longer than that is not an address anyone can deliver to: skipped
    return found


def _getaddresses(text: str) -> list[str]:
    try:
        return [addr for _, addr in email.utils.getaddresses([text]) if addr]
    except Exception:
        return []
