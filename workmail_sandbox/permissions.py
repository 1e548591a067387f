"""Every permission decision about WorkMail and its Run Lambda functions, in one place.

* may WorkMail, acting for an organization, invoke a function?
  (:func:`workmail_may_invoke`; the Lambda resource policy, ``aws:SourceArn`` and
  ``aws:SourceAccount``, the same Region and account; docs/aws-behaviour.md §2.2);
* may a function's execution role call the Message Flow API on a message?
  (:func:`message_flow_role_decision`; docs/aws-behaviour.md §3.2), or a WorkMail
  operation on an organization? (:func:`workmail_role_decision`);
* may WorkMail read an updated message from S3 under the bucket's policy?
  (:func:`workmail_bucket_read_decision`), and the policy that lets it
  (:func:`workmail_bucket_policy`; docs/aws-behaviour.md §3.3).

The emulators and the flow engine ask these functions and turn a refusal into
the AWS error of the operation (``AccessDeniedException``,
``InvalidContentLocation``); the lessons call them to show a decision.

Policies are evaluated by :mod:`workmail_sandbox.iam`.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from . import _moto
from .emulators._core import STATE
from .errors import ConfigurationError, SandboxError
from .iam import Policy, PolicyError, Principal, Request, evaluate, parse_policy
from .workmail_service import FUNCTION_ARN, organization_arn, service_principal

__all__ = [
    "AccessCheck",
    "InvokeCheck",
    "message_flow_role_decision",
    "ses_bucket_write_decision",
    "ses_invoke_decision",
    "workmail_bucket_policy",
    "workmail_bucket_read_decision",
    "workmail_invoke_decision",
    "workmail_may_invoke",
    "workmail_role_decision",
]

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
    match = FUNCTION_ARN.match(function_arn)
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
    try:
        document = parse_policy(policy, name=f"resource-based policy of {name}", kind="lambda")
    except PolicyError as error:
        return InvokeCheck(False, f"the function's policy cannot be read: {error}")
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


# The Message Flow API: the calling function's execution role ----------------------------------

_ROLE_ARN = re.compile(r"arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)")


class AccessCheck(NamedTuple):
    """An access decision: allowed or not, and the AWS-worded reason when not."""

    allowed: bool
    reason: str


def _role_policies(role_arn: str, account: str, partition: str) -> list[Policy] | None:
    """The role's inline and attached managed policies, parsed; None when the role does not exist."""
    documents = _moto.role_policy_documents(account, partition, role_arn)
    if documents is None:
        return None
    return [
        _parsed_policy(name, document) if isinstance(document, str) else parse_policy(document, name=name)
        for name, document in documents
    ]


@functools.lru_cache(maxsize=512)
def _parsed_policy(name: str, document: str) -> Policy:
    """``parse_policy`` of a policy's JSON text, remembered by name and exact text (a parsed Policy is frozen).

    Every Message Flow or WorkMail call from function code asks about its role; keyed on the text itself, a
    changed or replaced policy is parsed afresh. A document that cannot be read raises each time (not cached).
    """
    return parse_policy(document, name=name)


def _role_decision(
    role_arn: str,
    *,
    function_name: str,
    action: str,
    resource: str,
    account: str,
    region: str,
    resource_kind: str,
    service: str,
    fix: str,
) -> AccessCheck:
    """May the execution role ``role_arn`` of ``function_name`` call ``action`` on ``resource``?

    The role's identity-based policies (inline and attached managed ones) must
    allow it; the services asked here have no resource policies, so a role of
    another account is never allowed. When refused,
    ``reason`` is the AccessDeniedException message as IAM words it, then the
    sandbox's explanation and ``fix`` in parentheses.
    """
    match = _ROLE_ARN.fullmatch(role_arn)
    role_name = match["name"] if match else role_arn.rsplit("/", 1)[-1]
    role_account = match["account"] if match else account
    who = f"arn:aws:sts::{role_account}:assumed-role/{role_name}/{function_name}"
    denied = (
        f"User: {who} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )
    if role_account != account:
        return AccessCheck(
            False,
            (
                f"{denied}. (Sandbox: the role is in account {role_account}, the {resource_kind} in "
                f"{account}; {service} has no resource policies, so only roles of "
                f"the {resource_kind}'s own account can be allowed.)"
            ),
        )
    try:
        policies = _role_policies(role_arn, role_account, match["partition"] if match else "aws")
    except PolicyError as exc:
        return AccessCheck(False, f"{denied}. (Sandbox: a policy of role {role_name} cannot be read: {exc})")
    if policies is None:
        return AccessCheck(False, f"{denied}. (Sandbox: the execution role {role_arn} does not exist in IAM.)")
    request = Request(
        action=action,
        resource=resource,
        principal=Principal("AWS", who),
        context={
            "aws:PrincipalArn": role_arn,
            "aws:PrincipalAccount": role_account,
            "aws:RequestedRegion": region,
            "aws:SecureTransport": True,
        },
    )
    try:
        decision = evaluate(policies, request, kind="identity")
    except PolicyError as exc:
        return AccessCheck(False, f"{denied}. (Sandbox: a policy of role {role_name} cannot be evaluated: {exc})")
    if decision.allowed:
        return AccessCheck(True, decision.reason)
    if decision.explicit_deny:
        denied = (
            f"User: {who} is not authorized to perform: {action} on resource: {resource} "
            "with an explicit deny in an identity-based policy"
        )
    return AccessCheck(False, f"{denied}. (Sandbox: {decision.reason}. Fix: {fix.format(role=role_name)})")


def message_flow_role_decision(
    role_arn: str, *, function_name: str, operation: str, message_arn: str, account: str, region: str
) -> AccessCheck:
    """May a function whose execution role is ``role_arn`` call a Message Flow operation on a message?

    ``operation`` is ``GetRawMessageContent`` or ``PutRawMessageContent``. The
    role's identity-based policies (inline and attached managed ones) must
    allow ``workmailmessageflow:<operation>`` on the message ARN
    (docs/aws-behaviour.md §3.2); the Message Flow API has no resource
    policies, so a role of another account is never allowed. When refused,
    ``reason`` is the AccessDeniedException message, as IAM words it, with
    the sandbox's explanation and the fix in parentheses.
    """
    action = f"workmailmessageflow:{operation}"
    return _role_decision(
        role_arn,
        function_name=function_name,
        action=action,
        resource=message_arn,
        account=account,
        region=region,
        resource_kind="message",
        service="the Message Flow API",
        fix=(
            f"attach AmazonWorkMailMessageFlow{'ReadOnly' if operation.startswith('Get') else 'Full'}Access "
            f"to role {{role}}, or allow {action} on {message_arn.rsplit('/', 3)[0]}/* in its policy."
        ),
    )


#: WorkMail operations whose IAM resource is "*" (they name no organization).
_WORKMAIL_ACCOUNT_OPERATIONS = frozenset({"CreateOrganization", "ListOrganizations"})
_WORKMAIL_READ_PREFIXES = ("Describe", "Get", "List", "Search")


def workmail_role_decision(
    role_arn: str, *, function_name: str, operation: str, organization_id: str | None, account: str, region: str
) -> AccessCheck:
    """May a function whose execution role is ``role_arn`` call the WorkMail operation ``operation``?

    As for Message Flow (:func:`message_flow_role_decision`), the role's
    identity-based policies must allow ``workmail:<operation>`` on the
    organization's ARN (``arn:aws:workmail:<region>:<account>:organization/<id>``;
    ``*`` for CreateOrganization and ListOrganizations, which name none).
    WorkMail has no resource policies, so a role of another account is never
    allowed. ``AmazonWorkMailReadOnlyAccess`` allows ``workmail:Describe*``,
    ``Get*``, ``List*`` and ``Search*``; ``AmazonWorkMailFullAccess`` allows
    ``workmail:*``. When refused, ``reason`` is the AccessDeniedException
    message as IAM words it, with the sandbox's explanation and the fix.
    """
    action = f"workmail:{operation}"
    if operation in _WORKMAIL_ACCOUNT_OPERATIONS or not organization_id:
        resource = "*"
    else:
        resource = f"arn:aws:workmail:{region}:{account}:organization/{organization_id}"
    policy = (
        "AmazonWorkMailReadOnlyAccess" if operation.startswith(_WORKMAIL_READ_PREFIXES) else "AmazonWorkMailFullAccess"
    )
    return _role_decision(
        role_arn,
        function_name=function_name,
        action=action,
        resource=resource,
        account=account,
        region=region,
        resource_kind="organization",
        service="WorkMail",
        fix=f"attach {policy} to role {{role}}, or allow {action} on {resource} in its policy.",
    )


# The Message Flow API: WorkMail reading the updated message from S3 ------------------------------


def workmail_bucket_read_decision(
    bucket: str,
    policy_text: bytes | str | None,
    *,
    key: str,
    version: str | None,
    message_arn: str,
    organization_id: str,
    account: str,
    region: str,
) -> AccessCheck:
    """May WorkMail read ``s3://bucket/key`` (PutRawMessageContent's new content) under ``policy_text``?

    WorkMail reads the object as ``workmail.<region>.amazonaws.com``, so the
    bucket's policy must allow ``s3:GetObject`` (and ``s3:GetObjectVersion``
    for a versioned read) with ``aws:SourceArn`` = the message ARN,
    ``aws:SourceAccount`` = the account and ``aws:SecureTransport`` = true
    (docs/aws-behaviour.md §3.3; :func:`workmail_bucket_policy` builds such a
    policy). When refused, ``reason`` says why and how to fix it (the
    InvalidContentLocation message after "Unable to read <location>: ").
    """
    principal = service_principal(region)
    fix = (
        f"Fix: give {bucket} a bucket policy (lesson 05) that allows "
        f'Principal {{"Service": "{principal}"}} s3:GetObject and s3:GetObjectVersion on '
        f"arn:aws:s3:::{bucket}/*, with the conditions aws:SourceAccount = {account}, "
        "aws:SecureTransport = true and ArnLike aws:SourceArn = "
        f"arn:aws:workmailmessageflow:{region}:{account}:message/{organization_id}/*."
    )
    if not policy_text:
        return AccessCheck(
            False, (f"the bucket {bucket} has no bucket policy, so WorkMail ({principal}) may not read it. {fix}")
        )
    try:
        policy = parse_policy(
            policy_text.decode("utf-8") if isinstance(policy_text, (bytes, bytearray)) else policy_text,
            name=f"bucket policy of {bucket}",
            kind="s3-bucket",
        )
    except (PolicyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return AccessCheck(False, f"the bucket policy of {bucket} cannot be read: {exc} {fix}")
    actions = ["s3:GetObject"] + (["s3:GetObjectVersion"] if version is not None else [])
    context: dict[str, str | bool] = {
        "aws:SourceArn": message_arn,
        "aws:SourceAccount": account,
        "aws:SecureTransport": True,
    }
    for action in actions:
        request = Request(
            action=action,
            resource=f"arn:aws:s3:::{bucket}/{key}",
            principal=Principal("Service", principal),
            context=context,
        )
        try:
            decision = evaluate([policy], request, kind="resource")
        except PolicyError as exc:
            return AccessCheck(False, f"the bucket policy of {bucket} cannot be evaluated: {exc} {fix}")
        if not decision.allowed:
            return AccessCheck(
                False, (f"the bucket policy does not let {principal} call {action}: {decision.reason}. {fix}")
            )
    return AccessCheck(True, f"the bucket policy lets {principal} read s3://{bucket}/{key}")


# Amazon SES receiving: SES invoking a rule's function, SES writing to a rule's bucket --------------

#: The service principal SES receiving uses for Lambda, S3 and SNS (docs/aws-behaviour.md §7.4).
SES_PRINCIPAL = "ses.amazonaws.com"


def ses_invoke_decision(function_arn: str, *, source_arn: str, region: str, account: str) -> InvokeCheck:
    """May SES receiving (the receipt rule ``source_arn``, in ``region`` and ``account``) invoke ``function_arn``?

    The function must be in the Region of the SES endpoint; its resource policy must let
    ``ses.amazonaws.com`` call ``lambda:InvokeFunction`` with ``aws:SourceArn`` = the rule's ARN
    (``arn:aws:ses:<region>:<account>:receipt-rule-set/<set>:receipt-rule/<rule>``) and
    ``aws:SourceAccount`` = the account (each checked when the policy names it). Sandbox only.
    """
    match = FUNCTION_ARN.match(function_arn)
    if match is None:
        return InvokeCheck(False, f"{function_arn!r} is not a Lambda function ARN: a Lambda action names one")
    fn_region, fn_account, name, qualifier = match["region"], match["account"], match["name"], match["qualifier"]
    if fn_region != region:
        return InvokeCheck(False, f"the function is in {fn_region} but SES receives mail in {region}: the function "
                           "of a Lambda action must be in the Region of the SES endpoint that receives the mail")
    try:
        _moto.get_lambda_function(fn_account, fn_region, name, qualifier, operation="GetFunction")
    except ClientError:
        return InvokeCheck(False, f"there is no function {name!r} in {fn_region} (account {fn_account}): "
                           "deploy it first, or fix the FunctionArn of the Lambda action")
    fix = (f"run lambda add_permission(FunctionName='{name}', Principal='{SES_PRINCIPAL}', "
           f"Action='lambda:InvokeFunction', SourceAccount='{account}', SourceArn='{source_arn}')")
    policy = _moto.get_lambda_policy(fn_account, fn_region, name, qualifier)
    if policy is None:
        return InvokeCheck(False, f"the function {name} has no resource-based policy, so SES may not invoke it: {fix}")
    try:
        document = parse_policy(policy, name=f"resource-based policy of {name}", kind="lambda")
        decision = evaluate([document], Request(
            "lambda:InvokeFunction", function_arn, principal=Principal("Service", SES_PRINCIPAL),
            context={"aws:SourceArn": source_arn, "aws:SourceAccount": account}), kind="resource")
    except PolicyError as error:
        return InvokeCheck(False, f"the function's policy cannot be evaluated: {error}")
    if decision.allowed:
        return InvokeCheck(True, f"SES ({SES_PRINCIPAL}) may invoke {name}: {decision.reason}")
    return InvokeCheck(False, f"the function's policy does not let {SES_PRINCIPAL} invoke it for {source_arn}: "
                       f"{decision.reason}. Fix: {fix}")


def ses_bucket_write_decision(
    bucket: str, policy_text: bytes | str | None, *, key: str, source_arn: str, account: str
) -> AccessCheck:
    """May SES receiving (the receipt rule ``source_arn``) write ``s3://bucket/key`` under ``policy_text``?

    The bucket policy must let ``ses.amazonaws.com`` call ``s3:PutObject`` on the object with
    ``aws:SourceAccount`` = the account and ``aws:SourceArn`` = the rule's ARN (each checked
    when the policy names it; docs/aws-behaviour.md §7.4).
    """
    fix = (f'Fix: give {bucket} a bucket policy allowing Principal {{"Service": "{SES_PRINCIPAL}"}} s3:PutObject '
           f"on arn:aws:s3:::{bucket}/*, with StringEquals AWS:SourceAccount = {account} and "
           f"AWS:SourceArn = {source_arn}.")
    if not policy_text:
        return AccessCheck(False, f"the bucket {bucket} has no bucket policy, so SES may not write to it. {fix}")
    try:
        text = policy_text.decode("utf-8") if isinstance(policy_text, (bytes, bytearray)) else policy_text
        policy = parse_policy(text, name=f"bucket policy of {bucket}", kind="s3-bucket")
        decision = evaluate([policy], Request(
            action="s3:PutObject", resource=f"arn:aws:s3:::{bucket}/{key}",
            principal=Principal("Service", SES_PRINCIPAL),
            context={"aws:SourceArn": source_arn, "aws:SourceAccount": account}), kind="resource")
    except (PolicyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return AccessCheck(False, f"the bucket policy of {bucket} cannot be evaluated: {exc} {fix}")
    if not decision.allowed:
        return AccessCheck(False, f"the bucket policy does not let {SES_PRINCIPAL} call s3:PutObject: "
                           f"{decision.reason}. {fix}")
    return AccessCheck(True, f"the bucket policy lets {SES_PRINCIPAL} write s3://{bucket}/{key}")
