"""Who makes a request (:class:`Principal`), and whether a policy's ``Principal`` element names it.

``"*"`` and ``{"AWS": "*"}`` match everyone; ``{"Service": ...}`` matches that
service principal, ignoring case; ``{"AWS": "<account>"}`` or
``{"AWS": "arn:aws:iam::<account>:root"}`` matches every AWS principal of the
account; any other ``AWS`` value must equal the principal ARN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigurationError

__all__ = ["Principal", "PrincipalKind"]

PrincipalKind = Literal["Service", "AWS", "Federated", "*"]
_PRINCIPAL_KINDS = ("Service", "AWS", "Federated", "*")


@dataclass(frozen=True)
class Principal:
    """Who makes the request: ``Principal("Service", "workmail.us-east-1.amazonaws.com")``.

    ``kind`` is ``"Service"``, ``"AWS"`` (an account ID or an IAM ARN),
    ``"Federated"`` or ``"*"`` (an anonymous caller).
    """

    kind: PrincipalKind
    id: str

    def __post_init__(self) -> None:
        if self.kind not in _PRINCIPAL_KINDS:
            raise ConfigurationError(
                f"Principal kind {self.kind!r} is not one of {', '.join(_PRINCIPAL_KINDS)}.",
                fix='Use Principal("Service", "workmail.us-east-1.amazonaws.com") for WorkMail.',
            )
        if not isinstance(self.id, str) or not self.id:
            raise ConfigurationError(
                f"Principal id must be a non-empty string, not {self.id!r}.",
                fix='Pass the principal name, e.g. "workmail.us-east-1.amazonaws.com".',
            )

    @classmethod
    def service(cls, name: str) -> Principal:
        """A service principal, e.g. ``Principal.service("workmail.us-east-1.amazonaws.com")``."""
        return cls("Service", name)

    def describe(self) -> str:
        return "an anonymous caller" if self.kind == "*" else self.id


def _principal_matches(entry: tuple[str, str], who: Principal) -> bool:
    ptype, pid = entry
    if ptype == "*" or (ptype == "AWS" and pid == "*"):
        return True
    if ptype == "Service":
        return who.kind == "Service" and pid.lower() == who.id.lower()
    if ptype == "AWS":
        if who.kind != "AWS":
            return False
        if pid == who.id:
            return True
        account = _account_of_principal_entry(pid)
        return account is not None and account == _account_of(who.id)
    if ptype == "Federated":
        return who.kind == "Federated" and pid == who.id
    return False  # CanonicalUser: never a request principal here


_ACCOUNT_RE = re.compile(r"\d{12}")
_ROOT_RE = re.compile(r"arn:[^:]+:iam::(\d{12}):root")


def _account_of_principal_entry(pid: str) -> str | None:
    if _ACCOUNT_RE.fullmatch(pid):
        return pid
    m = _ROOT_RE.fullmatch(pid)
    return m.group(1) if m else None


def _account_of(principal_id: str) -> str | None:
    if _ACCOUNT_RE.fullmatch(principal_id):
        return principal_id
    parts = principal_id.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and _ACCOUNT_RE.fullmatch(parts[4]):
        return parts[4]
    return None


def _describe_principals(entries: tuple[tuple[str, str], ...]) -> str:
    shown = ["everyone (*)" if t == "*" else f"{t} {v}" for t, v in entries]
    return ", ".join(shown)
