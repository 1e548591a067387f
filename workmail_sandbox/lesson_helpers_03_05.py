"""What lessons 03 and 05 need beyond the public API: the bucket policy WorkMail reads updates with.

PutRawMessageContent takes the new message from an S3 object, and WorkMail reads
that object as the service principal ``workmail.<region>.amazonaws.com``. The
bucket's policy must let it (fact sheet §3.3; "Updating message content with
AWS Lambda", https://docs.aws.amazon.com/workmail/latest/adminguide/update-with-lambda.html).
Lesson 05 shows the policy, fixes an ``InvalidContentLocation`` with it in the
sandbox, and puts it on a real bucket in its "On real AWS" section, so it lives
here once, tested, instead of twice in the notebook.

Sandbox differences: none in the document itself. The sandbox evaluates it with
:mod:`workmail_sandbox.policy` (request context ``aws:SourceArn`` = the message
ARN, ``aws:SourceAccount``, ``aws:SecureTransport`` = true); S3 Block Public
Access, ACLs and KMS keys are not considered there.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ConfigurationError
from .service import organization_arn, service_principal

__all__ = ["workmail_bucket_policy"]

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
