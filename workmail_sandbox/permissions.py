"""Every permission decision about WorkMail and its Run Lambda functions, in one place.

* may WorkMail, acting for an organization, invoke a function?
  (:func:`workmail_may_invoke`; the Lambda resource policy, ``aws:SourceArn`` and
  ``aws:SourceAccount``, the same Region and account; docs/aws-behaviour.md §2.2);
* the bucket policy WorkMail needs to read an updated message from S3
  (:func:`workmail_bucket_policy`; docs/aws-behaviour.md §3.3).

Policies are evaluated by :mod:`workmail_sandbox.iam`.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .errors import ConfigurationError, SandboxError
from .workmail_service import organization_arn, service_principal

__all__ = ["InvokeCheck", "workmail_bucket_policy", "workmail_may_invoke"]

_ORGANIZATION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):workmail:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"organization/(?P<id>m-[0-9a-f]{32})"
)


class InvokeCheck(NamedTuple):
    """The answer to "may WorkMail invoke this function for this organization?"."""

    allowed: bool
    reason: str

    def __str__(self) -> str:
        return f"{'allowed' if self.allowed else 'refused'}: {self.reason}"


def workmail_may_invoke(function_arn: str, organization_arn: str) -> InvokeCheck:
    """Would Lambda let WorkMail invoke ``function_arn`` for the organization ``organization_arn``?

    Sandbox only. The organization's Region and account come from its ARN; the
    check is the one the sandbox runtime applies (same Region, same account,
    then the function's resource-based policy for
    ``workmail.<region>.amazonaws.com`` with ``aws:SourceArn`` = the organization
    ARN and ``aws:SourceAccount`` = its account).
    """
    match = _ORGANIZATION_ARN.fullmatch(organization_arn or "") if isinstance(organization_arn, str) else None
    if match is None:
        raise ConfigurationError(
            f"{organization_arn!r} is not a WorkMail organization ARN.",
            fix="use describe_organization(OrganizationId=...)['ARN'], "
            "e.g. arn:aws:workmail:us-east-1:123456789012:organization/m-<32 hex digits>",
        )
    from .sandbox import current

    sb = current()
    if sb is None or getattr(sb, "runtime", None) is None:
        raise SandboxError(
            "workmail_may_invoke asks the sandbox's Lambda runtime, and the sandbox is not running.",
            fix="start it first (lessons.setup(2) or workmail_sandbox.sandbox.start())",
        )
    allowed, reason = sb.runtime.check_workmail_permission(
        function_arn, organization_arn=organization_arn, region=match["region"], account=match["account"]
    )
    return InvokeCheck(bool(allowed), reason)


# The Message Flow API's S3Reference.bucket constraint (botocore model): 3-63
# characters, ^[a-z0-9][a-z0-9\-]* -- no dots or upper case, stricter than S3.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9\-]{2,62}")
_ACCOUNT = re.compile(r"\d{12}")


def workmail_bucket_policy(bucket: str, *, organization_id: str, account_id: str, region: str) -> dict[str, Any]:
    """The bucket policy from the AWS docs that lets WorkMail read updated messages from ``bucket``.

    One statement: ``workmail.<region>.amazonaws.com`` may ``s3:GetObject`` and
    ``s3:GetObjectVersion`` on ``arn:aws:s3:::<bucket>/*``, only when the
    request comes from ``account_id`` (``aws:SourceAccount``), over TLS
    (``aws:SecureTransport``) and for a message of ``organization_id``
    (``ArnLike aws:SourceArn`` ``arn:aws:workmailmessageflow:<region>:<account>:message/<org>/*``).
    Returns a dict; pass ``json.dumps(policy)`` to ``s3.put_bucket_policy``.
    """
    if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
        raise ConfigurationError(
            f"{bucket!r} cannot hold updated messages: PutRawMessageContent takes bucket names of 3 to 63 "
            "characters of a-z, 0-9 and '-', starting with a letter or digit.",
            fix="use a bucket named like 'workmail-updated-email-123456789012' (no dots, no upper case)",
        )
    if not isinstance(account_id, str) or not _ACCOUNT.fullmatch(account_id):
        raise ConfigurationError(
            f"{account_id!r} is not an AWS account id.", fix="pass the 12 digits, e.g. '123456789012'"
        )
    organization_arn(region, account_id, organization_id)  # checks the region and the organization id
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service_principal(region)},
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "Bool": {"aws:SecureTransport": "true"},
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:aws:workmailmessageflow:{region}:{account_id}:message/{organization_id}/*"
                        )
                    },
                },
            }
        ],
    }
