"""workmail_bucket_policy: the documented bucket policy, and what WorkMail may read with it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from workmail_sandbox.errors import ConfigurationError
from workmail_sandbox.lesson_helpers_03_05 import workmail_bucket_policy
from workmail_sandbox.policy import Principal, Request, evaluate

EMAILS = Path(__file__).resolve().parent.parent / "data" / "emails"
ORG = "m-" + "0123456789abcdef" * 2
OTHER_ORG = "m-" + "f" * 32
ACCOUNT = "123456789012"
REGION = "us-east-1"


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
