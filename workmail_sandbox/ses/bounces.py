"""A bounce SES receiving sent to a message's envelope sender (pure data)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SesBounce"]


@dataclass(frozen=True)
class SesBounce:
    """One bounce: ``via`` a Bounce action (``BounceAction``), ``TlsPolicy``, the SNS size limit
    (``SNS size``) or the function's ``SendBounce`` call; sent from ``sender`` to ``to`` (the
    envelope sender) for ``recipients``."""

    via: str
    to: str
    sender: str
    recipients: tuple[str, ...]
    smtp_reply_code: str
    status_code: str | None
    message: str
    rule: str | None = None
