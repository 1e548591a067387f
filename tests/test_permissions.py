"""permissions: may WorkMail invoke a function for an organization; the bucket policy WorkMail reads updates with."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from workmail_sandbox.errors import ConfigurationError, SandboxError
from workmail_sandbox.iam import Principal, Request, evaluate
from workmail_sandbox.permissions import (
    message_flow_role_decision,
    workmail_bucket_policy,
    workmail_bucket_read_decision,
    workmail_may_invoke,
)

EMAILS = Path(__file__).resolve().parent.parent / "data" / "emails"
ORG = "m-" + "0123456789abcdef" * 2
OTHER_ORG = "m-" + "f" * 32
ACCOUNT = "123456789012"
REGION = "us-east-1"


def _handler(event, context):
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}


@pytest.fixture
def function_arn(workmail_sandbox):
    from workmail_sandbox.deploy.handler import deploy_handler

    return deploy_handler(_handler, name="wm-helpers-test")["FunctionArn"]



def _policy(**overrides):
    arguments = {"organization_id": ORG, "account_id": ACCOUNT, "region": REGION, **overrides}
    return workmail_bucket_policy("updated-email", **arguments)


def test_the_policy_is_the_documented_one_for_one_organization():
    """update-with-lambda.md: GetObject and GetObjectVersion for workmail.<region>, with SourceAccount,
    SecureTransport and an ArnLike SourceArn on the organization's messages."""
    assert _policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "workmail.us-east-1.amazonaws.com"},
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": "arn:aws:s3:::updated-email/*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "Bool": {"aws:SecureTransport": "true"},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:message/{ORG}/*"},
                },
            }
        ],
    }
    assert json.loads(json.dumps(_policy())) == _policy()  # plain JSON types only


def _read(policy, *, org=ORG, account=ACCOUNT, secure=True, action="s3:GetObject", principal=None):
    request = Request(
        action,
        "arn:aws:s3:::updated-email/1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        principal=Principal.service(principal or f"workmail.{REGION}.amazonaws.com"),
        context={
            "aws:SourceArn": f"arn:aws:workmailmessageflow:{REGION}:{account}:message/{org}/incoming/abc-123",
            "aws:SourceAccount": account,
            "aws:SecureTransport": secure,
        },
    )
    return evaluate([policy], request, kind="resource")


def test_workmail_may_read_the_organizations_messages_and_nothing_else():
    policy = _policy()
    assert _read(policy).allowed
    assert _read(policy, action="s3:GetObjectVersion").allowed
    assert not _read(policy, org=OTHER_ORG).allowed
    assert not _read(policy, account="210987654321").allowed
    assert not _read(policy, secure=False).allowed
    assert not _read(policy, action="s3:PutObject").allowed
    assert not _read(policy, principal="workmail.eu-west-1.amazonaws.com").allowed


@pytest.mark.parametrize(
    ("bucket", "overrides", "words"),
    [
        ("Updated.Email", {}, "3 to 63 characters"),
        ("ab", {}, "3 to 63 characters"),
        ("updated-email", {"organization_id": "m-123"}, "not a WorkMail organization id"),
        ("updated-email", {"account_id": "12345"}, "not an AWS account id"),
        ("updated-email", {"region": "eu-central-1"}, "not offered in region"),
    ],
)
def test_bad_arguments_are_clear_errors(bucket, overrides, words):
    arguments = {"organization_id": ORG, "account_id": ACCOUNT, "region": REGION, **overrides}
    with pytest.raises(ConfigurationError, match=words) as caught:
        workmail_bucket_policy(bucket, **arguments)
    assert caught.value.fix


def test_put_raw_message_content_reads_from_a_bucket_with_the_policy(workmail_sandbox, workmail_org):
    """The emulated Message Flow API refuses the bucket without the policy, and with another
    organization's, and accepts it with the policy for the message's organization."""
    sb = workmail_sandbox
    flow, s3 = sb.client("workmailmessageflow"), sb.client("s3")
    raw = (EMAILS / "01-plain-inbound.eml").read_bytes()
    message_id = sb.put_message_in_transit(raw, organization_id=workmail_org.organization_id)
    s3.create_bucket(Bucket="lesson-updated-email")
    key = str(uuid.uuid4())
    s3.put_object(Bucket="lesson-updated-email", Key=key, Body=raw)
    content = {"s3Reference": {"bucket": "lesson-updated-email", "key": key}}

    def put_bucket_policy(organization_id):
        policy = workmail_bucket_policy(
            "lesson-updated-email", organization_id=organization_id, account_id=sb.account_id, region=sb.region
        )
        s3.put_bucket_policy(Bucket="lesson-updated-email", Policy=json.dumps(policy))

    with pytest.raises(flow.exceptions.InvalidContentLocation, match="has no bucket policy"):
        flow.put_raw_message_content(messageId=message_id, content=content)
    put_bucket_policy(OTHER_ORG)
    with pytest.raises(flow.exceptions.InvalidContentLocation, match="does not let"):
        flow.put_raw_message_content(messageId=message_id, content=content)
    put_bucket_policy(workmail_org.organization_id)
    flow.put_raw_message_content(messageId=message_id, content=content)
    (update,) = sb.message_history(message_id)
    assert (update.bucket, update.key) == ("lesson-updated-email", key)


# workmail_may_invoke -----------------------------------------------------------------------


def test_refused_without_a_policy_then_allowed_for_one_organization_only(workmail_sandbox, workmail_org, function_arn):
    sb = workmail_sandbox
    check = workmail_may_invoke(function_arn, workmail_org.arn)
    assert not check.allowed and "no resource-based policy" in check.reason
    assert str(check).startswith("refused: ")

    from workmail_sandbox.lessons import grant_workmail

    grant_workmail(sb, "wm-helpers-test", workmail_org.arn)
    check = workmail_may_invoke(function_arn, workmail_org.arn)
    assert check.allowed and str(check).startswith("allowed: ")

    other = workmail_org.arn.replace(workmail_org.organization_id, OTHER_ORG)
    check = workmail_may_invoke(function_arn, other)
    assert not check.allowed and "does not match" in check.reason


def test_same_region_and_same_account_come_from_the_organization_arn(workmail_sandbox, workmail_org, function_arn):
    from workmail_sandbox.lessons import grant_workmail

    grant_workmail(workmail_sandbox, "wm-helpers-test", workmail_org.arn)
    elsewhere = workmail_org.arn.replace(":us-east-1:", ":eu-west-1:")
    check = workmail_may_invoke(function_arn, elsewhere)
    assert not check.allowed and "in us-east-1 but the organization is in eu-west-1" in check.reason
    other_account = workmail_org.arn.replace(":123456789012:", ":210987654321:")
    check = workmail_may_invoke(function_arn, other_account)
    assert not check.allowed and "organization is in account 210987654321" in check.reason


def test_a_region_without_workmail_is_a_clear_error(workmail_sandbox, function_arn):
    with pytest.raises(ConfigurationError, match="not offered in region"):
        workmail_may_invoke(function_arn, f"arn:aws:workmail:ap-south-1:123456789012:organization/{OTHER_ORG}")


@pytest.mark.parametrize("bad", ["", "m-123", "arn:aws:lambda:us-east-1:123456789012:function:x", None])
def test_anything_but_an_organization_arn_is_refused(bad):
    with pytest.raises(ConfigurationError, match="not a WorkMail organization ARN"):
        workmail_may_invoke("arn:aws:lambda:us-east-1:123456789012:function:x", bad)  # type: ignore[arg-type]


def test_without_a_sandbox_it_says_so():
    from workmail_sandbox import sandbox

    sandbox.stop()
    with pytest.raises(SandboxError, match="not running"):
        workmail_may_invoke(
            "arn:aws:lambda:us-east-1:123456789012:function:x",
            f"arn:aws:workmail:us-east-1:123456789012:organization/{OTHER_ORG}",
        )


# workmail_bucket_read_decision -----------------------------------------------------------------

MESSAGE_ARN = f"arn:aws:workmailmessageflow:{REGION}:{ACCOUNT}:message/{ORG}/incoming/abc-123"


def _bucket_read(policy_text, *, version=None, message_arn=MESSAGE_ARN):
    return workmail_bucket_read_decision(
        "updated-email", policy_text, key="new.eml", version=version, message_arn=message_arn,
        organization_id=ORG, account=ACCOUNT, region=REGION,
    )


def test_bucket_read_is_allowed_by_the_documented_policy_only():
    policy = json.dumps(workmail_bucket_policy("updated-email", organization_id=ORG, account_id=ACCOUNT, region=REGION))
    assert _bucket_read(policy).allowed
    assert _bucket_read(policy.encode()).allowed  # moto keeps bucket policies as bytes
    assert _bucket_read(policy, version="3HL4kqtJlcpXroDTDmJ").allowed
    other = MESSAGE_ARN.replace(ORG, OTHER_ORG)
    refused = _bucket_read(policy, message_arn=other)
    assert not refused.allowed
    assert refused.reason.startswith(f"the bucket policy does not let workmail.{REGION}.amazonaws.com call s3:GetObject")


def test_bucket_read_without_a_policy_or_with_a_broken_one_says_how_to_fix_it():
    missing = _bucket_read(None)
    assert not missing.allowed
    assert "has no bucket policy" in missing.reason and "Fix: give updated-email a bucket policy" in missing.reason
    broken = _bucket_read(b"not json")
    assert not broken.allowed and "cannot be read" in broken.reason


def test_a_versioned_read_needs_get_object_version_too():
    only_get = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": f"workmail.{REGION}.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::updated-email/*",
    }]}
    assert _bucket_read(json.dumps(only_get)).allowed
    refused = _bucket_read(json.dumps(only_get), version="v2")
    assert not refused.allowed and "call s3:GetObjectVersion" in refused.reason


# message_flow_role_decision --------------------------------------------------------------------

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _role_decision(role_arn, operation="GetRawMessageContent", account=ACCOUNT):
    return message_flow_role_decision(
        role_arn, function_name="fn", operation=operation, message_arn=MESSAGE_ARN, account=account, region=REGION
    )


def test_a_read_only_role_may_read_but_not_update(workmail_sandbox):
    iam = workmail_sandbox.client("iam")
    arn = iam.create_role(RoleName="mf-reader", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="mf-reader", PolicyArn="arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess")
    assert _role_decision(arn).allowed
    refused = _role_decision(arn, "PutRawMessageContent")
    assert not refused.allowed
    assert refused.reason.startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/mf-reader/fn is not authorized to perform: "
        f"workmailmessageflow:PutRawMessageContent on resource: {MESSAGE_ARN}"
    )
    assert "Fix: attach AmazonWorkMailMessageFlowFullAccess to role mf-reader" in refused.reason


def test_a_missing_role_or_one_of_another_account_is_refused(workmail_sandbox):
    missing = _role_decision(f"arn:aws:iam::{ACCOUNT}:role/no-such-role")
    assert not missing.allowed and "does not exist in IAM" in missing.reason
    elsewhere = _role_decision("arn:aws:iam::210987654321:role/mf-reader")
    assert not elsewhere.allowed and "only roles of the message's own account" in elsewhere.reason


def test_an_explicit_deny_is_named_as_such(workmail_sandbox):
    iam = workmail_sandbox.client("iam")
    arn = iam.create_role(RoleName="mf-denied", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="mf-denied", PolicyArn="arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess")
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "workmailmessageflow:GetRawMessageContent", "Resource": "*"}]}
    iam.put_role_policy(RoleName="mf-denied", PolicyName="deny-read", PolicyDocument=json.dumps(deny))
    refused = _role_decision(arn)
    assert not refused.allowed and "with an explicit deny in an identity-based policy" in refused.reason
    assert _role_decision(arn, "PutRawMessageContent").allowed


def test_a_bucket_policy_over_s3s_20_kb_limit_is_refused():
    """S3 limits bucket policies to 20 KB (aws-behaviour, bounded input); WorkMail cannot read under one."""
    statements = [{
        "Sid": f"S{n}", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::updated-email/prefix-{n}/*",
    } for n in range(200)]
    big = json.loads(json.dumps(workmail_bucket_policy(
        "updated-email", organization_id=ORG, account_id=ACCOUNT, region=REGION)))
    big["Statement"] += statements
    text = json.dumps(big)
    assert len(text.encode()) > 20 * 1024
    refused = _bucket_read(text)
    assert not refused.allowed and "cannot be read" in refused.reason and "20" in refused.reason
