"""Facts about the Amazon WorkMail service itself: regions, ARNs, end of support.

Kept in one place so the sandbox, the lessons and the CLI cannot disagree.
"""

from __future__ import annotations

import datetime as _dt
import re

from .errors import ConfigurationError

__all__ = [
    "END_OF_SUPPORT",
    "FUNCTION_ARN",
    "WORKMAIL_REGIONS",
    "check_region",
    "days_until_end_of_support",
    "message_arn",
    "organization_arn",
    "service_principal",
]

#: "AWS will end support for Amazon WorkMail on March 31, 2027"; after that day the
#: console and all WorkMail resources can no longer be reached
#: (https://docs.aws.amazon.com/workmail/latest/adminguide/workmail-end-of-support.html).
END_OF_SUPPORT = _dt.date(2027, 3, 31)

#: The regions the WorkMail docs name, and the only ones botocore lists for ``workmail``.
WORKMAIL_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")

_ORG_ID = re.compile(r"m-[0-9a-f]{32}")

#: The Lambda function ARN a Run Lambda rule names, with an optional version or alias.
FUNCTION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"function:(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>[a-zA-Z0-9$_-]+))?$"
)


def check_region(region: str | None) -> str:
    """Return ``region`` if WorkMail runs there, else raise a clear error."""
    if region not in WORKMAIL_REGIONS:
        raise ConfigurationError(
            f"WorkMail is not offered in region {region!r}; it runs only in {', '.join(WORKMAIL_REGIONS)}.",
            fix="pass region='us-east-1' (or us-west-2, eu-west-1); the function must be in the organization's region",
        )
    return region


def service_principal(region: str) -> str:
    """The principal WorkMail uses to invoke functions and read S3: ``workmail.<region>.amazonaws.com``."""
    return f"workmail.{check_region(region)}.amazonaws.com"


def organization_arn(region: str, account: str, organization_id: str) -> str:
    """``arn:aws:workmail:<region>:<account>:organization/<id>``, the SourceArn WorkMail invokes with."""
    if not _ORG_ID.fullmatch(organization_id):
        raise ConfigurationError(
            f"{organization_id!r} is not a WorkMail organization id.",
            fix="organization ids are 'm-' followed by 32 lower-case hex digits",
        )
    return f"arn:aws:workmail:{check_region(region)}:{account}:organization/{organization_id}"


def message_arn(region: str, account: str, organization_id: str, direction: str, message_id: str) -> str:
    """The Message Flow API's resource ARN:
    ``arn:aws:workmailmessageflow:<region>:<account>:message/<org>/<incoming|outgoing>/<id>``."""
    context = {"INBOUND": "incoming", "OUTBOUND": "outgoing"}.get(direction.upper())
    if context is None:
        raise ConfigurationError(f"direction must be INBOUND or OUTBOUND, got {direction!r}.")
    region = check_region(region)
    return f"arn:aws:workmailmessageflow:{region}:{account}:message/{organization_id}/{context}/{message_id}"


def days_until_end_of_support(today: _dt.date | None = None) -> int:
    """Days left before WorkMail's end of support (negative once it has passed)."""
    return (END_OF_SUPPORT - (today or _dt.date.today())).days
