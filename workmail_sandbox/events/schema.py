"""What a WorkMail event may hold: format versions, directions, fields and limits.

Source: docs/aws-behaviour.md §2.3 (AWS's *Lambda event data*). Where AWS
gives a number as "128 KB", the kit's reading is noted next to the constant.
"""

from __future__ import annotations

import re

from ..errors import EventError

__all__ = [
    "DEFAULT_SUMMARY_VERSION",
    "FLOW_DIRECTIONS",
    "INBOUND",
    "KNOWN_SUMMARY_VERSIONS",
    "LATER_FIELDS",
    "MESSAGE_ID_PATTERN",
    "OUTBOUND",
    "PAYLOAD_LIMIT_BYTES",
    "SUBJECT_LIMIT_CHARS",
    "SUMMARY_VERSION_2018",
    "SUMMARY_VERSION_2019",
    "TOP_LEVEL_FIELDS",
    "normalize_direction",
]

#: The version in the AWS documentation's example event and in SAM CLI's event.
SUMMARY_VERSION_2018 = "2018-10-10"
#: The version in the hello-world template's docstring and ``tst/event.json``.
SUMMARY_VERSION_2019 = "2019-07-28"
KNOWN_SUMMARY_VERSIONS = (SUMMARY_VERSION_2018, SUMMARY_VERSION_2019)
DEFAULT_SUMMARY_VERSION = SUMMARY_VERSION_2018

#: "The email subject line. Truncated when it exceeds the 256 character limit."
SUBJECT_LIMIT_CHARS = 256
#: "When true, the payload size exceeds the 128 KB limit" (taken as 128 * 1024 bytes).
PAYLOAD_LIMIT_BYTES = 128 * 1024

INBOUND = "INBOUND"
OUTBOUND = "OUTBOUND"
FLOW_DIRECTIONS = (INBOUND, OUTBOUND)

# The Message Flow API's messageId constraint (botocore workmailmessageflow model).
MESSAGE_ID_PATTERN = re.compile(r"[a-z0-9\-]{1,120}")
# Fields WorkMail added after the first event format (messageId in 2019,
# invocationId and flowDirection in 2020); older samples lack them.
LATER_FIELDS = ("messageId", "invocationId", "flowDirection")
TOP_LEVEL_FIELDS = (
    "summaryVersion",
    "envelope",
    "sender",
    "subject",
    "messageId",
    "invocationId",
    "flowDirection",
    "truncated",
)


def normalize_direction(direction: str) -> str:
    """``"inbound"``/``"INBOUND"`` -> ``"INBOUND"``; anything else is an error."""
    value = str(direction).strip().upper()
    if value not in FLOW_DIRECTIONS:
        raise EventError(
            "flowDirection",
            f"must be INBOUND or OUTBOUND, got {direction!r}",
            fix="pass direction='inbound' or direction='outbound'",
        )
    return value
