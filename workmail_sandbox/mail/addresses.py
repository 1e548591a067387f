"""Email addresses as the kit compares them: bare, lower-case ``local@domain``.

Events, rules and the emulated organization all compare addresses through
these functions, so de-duplication and domain conditions agree everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from workmail_sandbox.errors import MessageParseError

__all__ = ["domain_of", "in_domains", "normalize_address", "unique_addresses"]


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
