"""Receipt rules as data: recipient conditions, quotas, the Lambda disposition.

Facts followed (docs/aws-behaviour.md §7): a rule matches a recipient when one
of its ``Recipients`` conditions matches it, or when it has none (then it
matches every recipient of every verified domain); a condition is an address
(which also matches that address with a ``+label``), a domain (its addresses,
not its subdomains) or a domain with a leading dot (its subdomains' addresses,
not the domain's own). A RequestResponse function controls the flow with
``{"disposition": "STOP_RULE" | "STOP_RULE_SET" | "CONTINUE"}``; anything else
counts as CONTINUE. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "CONTINUE",
    "DISPOSITIONS",
    "MAX_ACTIONS_PER_RULE",
    "MAX_RECIPIENTS_PER_RULE",
    "MAX_RULES_PER_RULE_SET",
    "MAX_RULE_SETS",
    "REQUEST_RESPONSE_TIMEOUT_SECONDS",
    "S3_MESSAGE_LIMIT_BYTES",
    "SNS_MESSAGE_LIMIT_BYTES",
    "STOP_RULE",
    "STOP_RULE_SET",
    "condition_matches",
    "disposition_of",
    "receipt_rule_arn",
    "rule_matches",
    "verified_domain_of",
]

STOP_RULE = "STOP_RULE"
STOP_RULE_SET = "STOP_RULE_SET"
CONTINUE = "CONTINUE"
DISPOSITIONS = (STOP_RULE, STOP_RULE_SET, CONTINUE)

MAX_RULES_PER_RULE_SET = 200
MAX_ACTIONS_PER_RULE = 10
MAX_RULE_SETS = 40
MAX_RECIPIENTS_PER_RULE = 100
#: A RequestResponse invocation's time limit.
REQUEST_RESPONSE_TIMEOUT_SECONDS = 30
#: The largest message (headers included) an SNS action publishes; larger ones bounce.
SNS_MESSAGE_LIMIT_BYTES = 150 * 1024
#: The default largest message (headers included) an S3 action stores.
S3_MESSAGE_LIMIT_BYTES = 30 * 1024 * 1024


def receipt_rule_arn(region: str, account: str, rule_set: str, rule: str) -> str:
    """The ``aws:SourceArn`` SES sends, ``arn:aws:ses:<region>:<account>:receipt-rule-set/<set>:receipt-rule/<rule>``.
    """
    return f"arn:aws:ses:{region}:{account}:receipt-rule-set/{rule_set}:receipt-rule/{rule}"


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().lower().rpartition("@")
    return local, domain


def condition_matches(condition: str, address: str) -> bool:
    """Does the recipient condition ``condition`` match the envelope recipient ``address``?

    ``user@example.com`` matches it and ``user+anything@example.com``;
    ``user+label@example.com`` only itself; ``example.com`` every address at
    example.com; ``.example.com`` every address at a subdomain of example.com.
    Case does not matter (the kit's choice: SES does not say for local parts).
    """
    cond = condition.strip().lower()
    local, domain = _split(address)
    if "@" in cond:
        c_local, _, c_domain = cond.rpartition("@")
        if c_domain != domain:
            return False
        return local == c_local or ("+" not in c_local and local.startswith(c_local + "+"))
    if cond.startswith("."):
        return domain.endswith(cond) and len(domain) > len(cond)
    return domain == cond


def rule_matches(rule: Mapping[str, Any], address: str) -> bool:
    """Does ``rule`` (a ReceiptRule dict) apply to ``address``? A rule without Recipients applies to all."""
    conditions = rule.get("Recipients") or []
    return not conditions or any(condition_matches(c, address) for c in conditions)


def verified_domain_of(address: str, domains: Iterable[str]) -> str | None:
    """The verified domain identity ``address`` belongs to (its domain or a parent of it), or None."""
    _, domain = _split(address)
    known = {d.lower() for d in domains}
    parts = domain.split(".")
    for i in range(len(parts) - 1):
        candidate = ".".join(parts[i:])
        if candidate in known:
            return candidate
    return None


def disposition_of(payload: Any) -> str:
    """What a RequestResponse function's answer means: STOP_RULE, STOP_RULE_SET or CONTINUE.

    A missing, malformed or unknown ``disposition`` counts as CONTINUE.
    """
    if isinstance(payload, Mapping):
        value = payload.get("disposition")
        if isinstance(value, str) and value in DISPOSITIONS:
            return value
    return CONTINUE
