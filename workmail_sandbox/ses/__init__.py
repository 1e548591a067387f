"""Amazon SES receiving, emulated offline: the route AWS offers after WorkMail for running code on incoming mail.

This package (pure models) holds the event a receipt rule's Lambda action sends
(:func:`build_ses_event`, :func:`check_ses_event`) and the receipt rules as data
(:mod:`.rules`: recipient conditions, quotas, dispositions). Receiving mail in the
sandbox (the active receipt rule set, its actions, the function) is
:mod:`workmail_sandbox.ses.receiving` (mail flow layer), reached as
``workmail_sandbox.ses_receive``. docs/ses.md describes both.
"""

from __future__ import annotations

from .checks import check_ses_event, ses_parts
from .event import (
    DMARC_POLICIES,
    HEADERS_LIMIT_BYTES,
    INVOCATION_TYPES,
    VERDICTS,
    build_ses_event,
    build_ses_mail,
    build_ses_receipt,
    new_ses_message_id,
    ses_record,
)
from .rules import condition_matches, disposition_of, receipt_rule_arn, rule_matches

__all__ = [
    "DMARC_POLICIES",
    "HEADERS_LIMIT_BYTES",
    "INVOCATION_TYPES",
    "VERDICTS",
    "build_ses_event",
    "build_ses_mail",
    "build_ses_receipt",
    "check_ses_event",
    "condition_matches",
    "disposition_of",
    "new_ses_message_id",
    "receipt_rule_arn",
    "rule_matches",
    "ses_parts",
    "ses_record",
]
