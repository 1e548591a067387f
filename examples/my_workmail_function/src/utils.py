"""Plain helpers for app.py. They make no AWS calls, so tests/test_utils.py checks them in microseconds."""

TAG = "[External]"


def parse_domains(value: str) -> frozenset[str]:
    """The organization's domains from the INTERNAL_DOMAINS setting: "example.com, Sales.Example.com"."""
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def is_external(address: str, internal_domains: frozenset[str]) -> bool:
    """True when the address's domain is not one of the organization's domains."""
    domain = address.rpartition("@")[2].strip().lower()
    return domain not in internal_domains


def tag_subject(subject: str, tag: str = TAG) -> str:
    """Prefix the tag: "Price list" -> "[External] Price list".

    A subject that already carries the tag is returned as it is, so a retry of the same
    invocation does not tag twice.
    """
    subject = subject or ""
    if subject.startswith(tag):
        return subject
    return f"{tag} {subject}" if subject else tag
