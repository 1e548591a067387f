"""Sender and recipient patterns: parsing, matching and specificity.

The four forms of "Managing email flows" (``email-flows.md``): an address, a
domain, a wildcard domain (``*.example.com``) and ``*``; the kit's choices where
AWS is silent are listed in the :mod:`workmail_sandbox.rules` docstring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import MessageParseError, RuleError
from ..mail import normalize_address
from ._messages import _type_name

STAR = "star"
WILDCARD_DOMAIN = "wildcard domain"
DOMAIN = "domain"
ADDRESS = "address"
_KINDS = (STAR, WILDCARD_DOMAIN, DOMAIN, ADDRESS)


class Specificity(NamedTuple):
    """How specific a pattern is: tuples compare, the larger is more specific.

    ``level``: address 3, domain 2, wildcard domain 1, ``*`` 0. ``labels``: for a
    wildcard domain, the number of labels after ``*.`` (the kit's choice: more
    labels is more specific); 0 otherwise.
    """

    level: int
    labels: int = 0

    @property
    def kind(self) -> str:
        """``"address"``, ``"domain"``, ``"wildcard domain"`` or ``"star"``."""
        return _KINDS[self.level]


@dataclass(frozen=True)
class Pattern:
    """One sender or recipient pattern, parsed and lower-cased.

    ``text`` is the pattern as the kit writes it (``*example.com`` becomes
    ``*.example.com``); ``value`` is the address, the domain, the wildcard's
    domain (without ``*.``) or ``""`` for ``*``.
    """

    text: str
    kind: str
    value: str
    specificity: Specificity = field(init=False, compare=False)
    #: ``specificity`` as one int (level * 256 + labels), for fast comparison.
    weight: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        level = _KINDS.index(self.kind)
        spec = Specificity(level, self.value.count(".") + 1 if self.kind == WILDCARD_DOMAIN else 0)
        object.__setattr__(self, "specificity", spec)
        object.__setattr__(self, "weight", spec.level * 256 + min(spec.labels, 255))

    def matches(self, address: str) -> bool:
        """Tell whether ``address`` matches (case-insensitive). The rule set uses an index instead."""
        key, domain = _address_key(address)
        if self.kind == STAR:
            return True
        if self.kind == ADDRESS:
            return key == self.value
        if self.kind == DOMAIN:
            return domain == self.value
        return domain == self.value or domain.endswith("." + self.value)

    def __str__(self) -> str:
        return self.text


_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LOCAL = re.compile(r"[a-z0-9!#$%&'/=?^_`{|}~.-]+")
_IPV4ISH = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?")


def parse_pattern(text: Any, *, what: str = "pattern") -> Pattern:
    """Parse one pattern, or raise :class:`RuleError` saying what is wrong and how to fix it.

    ``what`` names the pattern in messages (``"sender pattern"``).
    """
    if not isinstance(text, str):
        raise RuleError(
            f"{what} {text!r} is {_type_name(text)}, not text.",
            fix="write each pattern as text: an address, a domain, '*.domain' or '*'",
        )
    raw = text
    text = text.strip().lower()
    shown = repr(raw)
    if not text:
        raise RuleError(
            f"{what} {shown} is empty.",
            fix="write an address (jane@example.com), a domain (example.com), '*.example.com' or '*'",
        )
    if any(c.isspace() for c in text):
        raise RuleError(
            f"{what} {shown} contains a space; a pattern is one address or domain.",
            fix="put each address or domain in its own pattern, without spaces",
        )
    if "+" in text:
        raise RuleError(
            f"{what} {shown} contains '+', which WorkMail does not allow in patterns.",
            fix=_plus_fix(text),
        )
    if text == "*":
        return Pattern("*", STAR, "")
    if text.startswith("*"):
        rest = text[1:]
        if "*" in rest:
            raise RuleError(
                f"{what} {shown} has more than one '*'; '*' may appear only once, at the front.",
                fix="write '*.example.com' for a domain and its subdomains, or '*' for everything",
            )
        if "@" in rest:
            domain = rest.rpartition("@")[2]
            raise RuleError(
                f"{what} {shown} puts '*' in front of an address; a wildcard goes only in front of a domain.",
                fix=f"write the domain {domain!r} for every address in it, or '*.{domain}' to include subdomains",
            )
        domain = rest[1:] if rest.startswith(".") else rest
        _check_domain(domain, raw, what, min_labels=1)
        return Pattern(f"*.{domain}", WILDCARD_DOMAIN, domain)
    if "*" in text:
        where = text.index("*")
        raise RuleError(
            f"{what} {shown} has '*' at position {where + 1}; WorkMail allows '*' only at the front of a domain.",
            fix="write '*.example.com' for a domain and its subdomains, a full address, or '*' for everything",
        )
    if text.count("@") > 1 or text.startswith('"'):
        raise RuleError(
            f"{what} {shown} is not a plain address: it has more than one '@' or a quoted local part.",
            fix="write a plain address such as jane@example.com",
        )
    if "@" in text:
        local, _, domain = text.partition("@")
        if not local or not domain:
            raise RuleError(
                f"{what} {shown} is not an address: it needs text on both sides of '@'.",
                fix="write a full address such as jane@example.com, or a domain such as example.com",
            )
        if not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
            raise RuleError(
                f"{what} {shown} has a local part ({local!r}) with characters WorkMail patterns do not take.",
                fix="use letters, digits and . - _ in the part before '@'",
            )
        _check_domain(domain, raw, what, min_labels=2)
        return Pattern(text, ADDRESS, text)
    _check_domain(text, raw, what, min_labels=2)
    return Pattern(text, DOMAIN, text)


def _plus_fix(text: str) -> str:
    if "@" in text:
        local, _, domain = text.partition("@")
        base = local.split("+", 1)[0]
        if base:
            return f"use the address without the '+' part ({base}@{domain}), or the domain {domain!r}"
        return f"use the domain {domain!r}, or an address without '+'"
    return "remove the '+'; patterns are an address, a domain, '*.domain' or '*'"


def _check_domain(domain: str, raw: str, what: str, *, min_labels: int) -> None:
    shown = repr(raw)
    if "/" in domain or ":" in domain or _IPV4ISH.fullmatch(domain) or domain.startswith("["):
        raise RuleError(
            f"{what} {shown} looks like an IP address or CIDR range; WorkMail email flow rules "
            "match addresses and domains only (no version of the documentation mentions IP patterns).",
            fix="write the sender's domain instead; IP filtering is done in Amazon SES, before WorkMail",
        )
    if not domain.isascii():
        try:
            hint = domain.encode("idna").decode("ascii")
        except UnicodeError:
            hint = "its xn-- (punycode) form"
        raise RuleError(
            f"{what} {shown} has a non-ASCII domain.",
            fix=f"write the domain in punycode: {hint}",
        )
    if domain.endswith("."):
        raise RuleError(
            f"{what} {shown} ends with a dot.",
            fix=f"write {domain.rstrip('.')!r} without the trailing dot",
        )
    labels = domain.split(".")
    bad = [label for label in labels if not _LABEL.fullmatch(label)]
    if bad or len(domain) > 253:
        detail = f"label {bad[0]!r} is not valid" if bad else "it is longer than 253 characters"
        raise RuleError(
            f"{what} {shown} is not a valid domain: {detail}.",
            fix="use labels of letters, digits and '-' (not at either end), separated by single dots",
        )
    if len(labels) < min_labels:
        raise RuleError(
            f"{what} {shown} is a single label ({domain!r}), not a domain.",
            fix=f"write a full domain such as {domain}.com, or '*.{domain}' for everything under it",
        )
    if labels[-1].isdigit():
        raise RuleError(
            f"{what} {shown} ends in a numeric label, which no domain has.",
            fix="write the sender's domain name instead",
        )


_KEYS: dict[str, tuple[str, str]] = {}


def _address_key(address: Any) -> tuple[str, str]:
    """``(lower-case address, domain)``; a sender that is not an address gets domain ``""``."""
    found = _KEYS.get(address) if isinstance(address, str) else None
    if found is not None:
        return found
    try:
        key = normalize_address(address)
    except MessageParseError:
        return (str(address).strip().lower() if isinstance(address, str) else "", "")
    found = (key, key.rpartition("@")[2])
    if len(_KEYS) >= 100_000:
        _KEYS.clear()
    _KEYS[address] = found
    return found
