"""Every permission decision about WorkMail and its Run Lambda functions, in one place.

* may WorkMail, acting for an organization, invoke a function?
  (:func:`workmail_may_invoke`; the Lambda resource policy, ``aws:SourceArn`` and
  ``aws:SourceAccount``, the same Region and account; docs/aws-behaviour.md §2.2);
* the bucket policy WorkMail needs to read an updated message from S3
  (:func:`workmail_bucket_policy`; docs/aws-behaviour.md §3.3).

Policies are evaluated by :mod:`workmail_sandbox.iam`.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from . import _moto
from .emulators._core import STATE
from .errors import ConfigurationError, SandboxError
from .iam import PolicyError, Principal, Request, evaluate
from .workmail_service import organization_arn, service_principal

__all__ = ["InvokeCheck", "workmail_bucket_policy", "workmail_invoke_decision", "workmail_may_invoke"]

_ORGANIZATION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):workmail:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"organization/(?P<id>m-[0-9a-f]{32})"
)
#: A Lambda function ARN, with an optional version or alias (the runtime's own pattern).
_FUNCTION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"function:(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>[a-zA-Z0-9$_-]+))?$"
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
    if not STATE.active:
        raise SandboxError(
            "workmail_may_invoke asks the sandbox's Lambda runtime, and the sandbox is not running.",
            fix="start it first (lessons.setup(2) or workmail_sandbox.sandbox.start())",
        )
    return workmail_invoke_decision(
        function_arn, organization_arn=organization_arn, region=match["region"], account=match["account"]
    )


def workmail_invoke_decision(function_arn: str, *, organization_arn: str, region: str, account: str) -> InvokeCheck:
    """May WorkMail (organization ``organization_arn``, in ``region`` and ``account``) invoke ``function_arn``?

    Checks what WorkMail checks: the function is in the organization's Region
    and account, and its resource policy lets ``workmail.<region>.amazonaws.com``
    call ``lambda:InvokeFunction`` with ``aws:SourceArn`` = the organization ARN
    and ``aws:SourceAccount`` = the account. ``function_arn`` may also be a name
    (``name[:qualifier]``) in the organization's Region and account. Reads the
    function and its policy from moto (sandbox only).
    """
    principal = service_principal(region)
    match = _FUNCTION_ARN.match(function_arn)
    if match:
        fn_region, fn_account = match["region"], match["account"]
        name, qualifier = match["name"], match["qualifier"]
    else:
        fn_region, fn_account = region, account
        name, _, qualifier = function_arn.partition(":")
        qualifier = qualifier or None
    same_place = "Lambda email flow rules reference only functions in the same Region and account as the organization"
    if fn_region != region:
        return InvokeCheck(False, f"the function is in {fn_region} but the organization is in {region}: {same_place}")
    if fn_account != account:
        return InvokeCheck(
            False,
            f"the function is in account {fn_account} but the organization is in account {account}: {same_place}",
        )
    try:
        fn = _moto.get_lambda_function(account, region, name, qualifier, operation="GetFunction")
    except ClientError:
        return InvokeCheck(
            False,
            f"there is no function {name!r} in {region} (account {account}): deploy it first, "
            "or fix the function ARN in the rule",
        )
    add_permission = (
        f"run add-permission as in lesson 02 (Principal='{principal}', Action='lambda:InvokeFunction', "
        f"SourceArn='{organization_arn}')"
    )
    policy = _moto.get_lambda_policy(account, region, name, qualifier)
    if policy is None:
        return InvokeCheck(
            False, f"the function {name} has no resource-based policy, so WorkMail may not invoke it: {add_permission}"
        )
    document = json.loads(policy)
    resource = function_arn if match else fn.function_arn
    request = Request(
        "lambda:InvokeFunction",
        resource,
        principal=Principal("Service", principal),
        context={"aws:SourceArn": organization_arn, "aws:SourceAccount": account},
    )
    try:
        decision = evaluate([document], request, kind="resource")
    except PolicyError as error:
        return InvokeCheck(False, f"the function's policy cannot be evaluated: {error}")
    if decision.allowed:
        return InvokeCheck(True, f"WorkMail ({principal}) may invoke {name}: {decision.reason}")
    if decision.checks and all(check.failed == "principal" for check in decision.checks if check.effect == "Allow"):
        return InvokeCheck(False, f"the function's policy has no statement for {principal}: {add_permission}")
    return InvokeCheck(False, f"the function's policy does not let {principal} invoke it: {decision.reason}")


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
