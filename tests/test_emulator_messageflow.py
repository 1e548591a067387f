"""The emulated Message Flow API through real boto3 clients (moto-backed).

Sources named in each test:
- lambda-content.md: "Retrieving message content with AWS Lambda" (GetRawMessageContent,
  24-hour window, messages in transit);
- update-with-lambda.md: "Updating message content with AWS Lambda" (PutRawMessageContent,
  synchronous rules only, S3 bucket policy, MessageFrozen for redirected mail);
- lambda-content-access.md: the message ARN and IAM actions;
- API reference: API_messageflow_GetRawMessageContent / PutRawMessageContent / RawMessageContent,
  and botocore's workmailmessageflow model (output shapes, error codes).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import json
import os
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from tests.botocore_shapes import assert_error_code_modeled, assert_matches_output_shape
from workmail_sandbox.emulators._core import STATE, install_hooks, register
from workmail_sandbox.emulators.messageflow import CONTENT_WINDOW, SERVICE, ensure_managed_policies
from workmail_sandbox.emulators.messageflow.models import moto_managed_policy_data
from workmail_sandbox.errors import ConfigurationError, MessageParseError, SandboxError
from workmail_sandbox.invocation import CURRENT_INVOCATION, Invocation
from workmail_sandbox.workmail_service import message_arn

SERVICE_NAME = "workmailmessageflow"
ACCOUNT = "123456789012"
REGION = "us-east-1"
ORG = "m-0123456789abcdef0123456789abcdef"
OTHER_ORG = "m-fedcba9876543210fedcba9876543210"
BUCKET = "updated-email-bucket"

RAW = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: bob@example.org\r\n"
    b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
    b"Message-ID: <m1@example.com>\r\n"
    b"Subject: Quarterly numbers\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Hello Bob,\r\nsee you.\r\n"
)
EDITED = RAW.replace(b"Subject: Quarterly numbers", b"Subject: [Hello World!] Quarterly numbers")

register(SERVICE)
install_hooks([SERVICE.service_id])


def hello_world_bucket_policy(bucket: str = BUCKET, region: str = REGION, org: str | None = None) -> str:
    """The hello-world template's UpdatedEmailS3BucketPolicy, plus the doc's aws:SourceAccount."""
    source = f"arn:aws:workmailmessageflow:{region}:{ACCOUNT}:message/" + (f"{org}/*" if org else "*")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": f"workmail.{region}.amazonaws.com"},
                    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {
                        "Bool": {"aws:SecureTransport": "true"},
                        "ArnLike": {"aws:SourceArn": source},
                        "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    },
                }
            ],
        }
    )


class Env:
    """A message in transit, a bucket with the right policy, and boto3 clients."""

    def __init__(self) -> None:
        self.client = boto3.client(SERVICE_NAME, region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.iam = boto3.client("iam", region_name=REGION)
        self.backend = SERVICE.backend(ACCOUNT, REGION)
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_policy(Bucket=BUCKET, Policy=hello_world_bucket_policy())

    def add(self, raw: bytes = RAW, **kwargs) -> str:
        kwargs.setdefault("organization_id", ORG)
        kwargs.setdefault("direction", "INBOUND")
        return self.backend.add_message(raw, **kwargs)

    def upload(self, body: bytes = EDITED, key: str | None = None, bucket: str = BUCKET) -> tuple[str, str]:
        key = key or str(uuid.uuid4())
        version = self.s3.put_object(Bucket=bucket, Key=key, Body=body).get("VersionId")
        return key, version

    def put(self, message_id: str, key: str, bucket: str = BUCKET, version: str | None = None) -> dict:
        ref = {"bucket": bucket, "key": key}
        if version is not None:
            ref["objectVersion"] = version
        return self.client.put_raw_message_content(messageId=message_id, content={"s3Reference": ref})

    def get(self, message_id: str) -> bytes:
        return self.client.get_raw_message_content(messageId=message_id)["messageContent"].read()

    def role(self, name: str, *, managed: list[str] = (), inline: dict | None = None) -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        for policy in managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        if inline is not None:
            self.iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
        return arn


@pytest.fixture
def env(emulators_active, monkeypatch):
    """The emulators, plus a bucket and clients.

    moto's ``load_aws_managed_policies`` (the fixture's config) builds ~1,500
    policies for every IAM backend it creates after a reset, which costs 1-2 s
    per test; only the two Message Flow policies matter here, so they are added
    with ``ensure_managed_policies`` instead (one test below keeps moto's way).
    """
    monkeypatch.setattr("moto.iam.models.load_iam_aws_managed_policies", lambda: False)
    ensure_managed_policies(ACCOUNT)
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[ACCOUNT]["aws"]
    name = "AWSLambdaBasicExecutionRole"  # the one other managed policy the tests attach
    policy = AWSManagedPolicy.from_data(name, ACCOUNT, REGION, moto_managed_policy_data(name))
    backend.aws_managed_policies.append(policy)
    backend.managed_policies[policy.arn] = policy
    return Env()


@pytest.fixture
def env_moto_policies(emulators_active):
    """As ``env``, with moto loading every AWS managed policy itself (slow)."""
    return Env()


@contextlib.contextmanager
def invocation(message_id: str | None, *, mode: str | None = "sync", role_arn: str | None = None,
               abandoned: bool = False, function: str = "wm-hello"):
    """What the Lambda runtime sets while a Run Lambda handler runs."""
    inv = Invocation(
        function_name=function,
        function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}",
        role_arn=role_arn,
        request_id=str(uuid.uuid4()),
        region=REGION,
        account=ACCOUNT,
        workmail_mode=mode,
        message_id=message_id,
        abandoned=abandoned,
    )
    token = CURRENT_INVOCATION.set(inv)
    try:
        yield inv
    finally:
        CURRENT_INVOCATION.reset(token)


def expect_error(call, code: str, status: int, operation: str, *, modeled: bool = True) -> ClientError:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value
    assert error.response["Error"]["Code"] == code, error.response
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    if modeled:
        assert_error_code_modeled(SERVICE_NAME, operation, code)
        assert error.response["message"] == error.response["Error"]["Message"]  # the modeled member
    return error


def get_error(env: Env, message_id: str, code: str, status: int = 400, **kw) -> ClientError:
    return expect_error(lambda: env.get(message_id), code, status, "GetRawMessageContent", **kw)


def put_error(env: Env, message_id: str, key: str, code: str, status: int = 400, **kw) -> ClientError:
    bucket = kw.pop("bucket", BUCKET)
    version = kw.pop("version", None)
    return expect_error(lambda: env.put(message_id, key, bucket, version), code, status, "PutRawMessageContent", **kw)


# ==================================================================== GetRawMessageContent


def test_get_returns_a_streaming_body_that_parses(env):
    """lambda-content.md: messageContent is the MIME message as a stream; read() and parse it."""
    mid = env.add()
    response = env.client.get_raw_message_content(messageId=mid)
    assert_matches_output_shape(SERVICE_NAME, "GetRawMessageContent", response)
    body = response["messageContent"]
    assert isinstance(body, StreamingBody)
    raw = body.read()
    assert raw == RAW
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Quarterly numbers"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_get_unknown_message_is_resource_not_found(env):
    """API reference: GetRawMessageContent's only error is ResourceNotFoundException (404)."""
    error = get_error(env, "no-such-message", "ResourceNotFoundException", 404)
    assert error.response["Error"]["Message"] == "Message no-such-message not found."


def test_resource_not_found_is_catchable_as_modeled_exception(env):
    """client.exceptions.ResourceNotFoundException, as the templates catch it."""
    with pytest.raises(env.client.exceptions.ResourceNotFoundException):
        env.get("nope")


def test_get_works_for_24_hours_then_the_message_is_gone(env):
    """lambda-content.md: content is reachable only within 24 hours of receipt."""
    mid = env.add()
    STATE.clock.advance(CONTENT_WINDOW)
    assert env.get(mid) == RAW  # exactly 24 hours: still within
    STATE.clock.advance(seconds=1)
    error = get_error(env, mid, "ResourceNotFoundException", 404)
    assert error.response["Error"]["Message"] == f"Message {mid} not found."


def test_window_counts_from_receipt_time(env):
    """received_at may be given by the flow engine; the window starts there."""
    mid = env.add(received_at=STATE.clock.now() - dt.timedelta(hours=23, minutes=59))
    assert env.get(mid) == RAW
    STATE.clock.advance(minutes=2)
    get_error(env, mid, "ResourceNotFoundException", 404)


def test_get_still_answers_after_delivery_within_the_window(env):
    """Assumption (documented): async rules run while delivery happens and still fetch content."""
    mid = env.add()
    env.backend.finish_transit(mid)
    assert env.get(mid) == RAW


def test_messages_are_per_region(env):
    """Each WorkMail region is its own service: a us-east-1 message is not found in eu-west-1."""
    mid = env.add()
    other = boto3.client(SERVICE_NAME, region_name="eu-west-1")
    with pytest.raises(other.exceptions.ResourceNotFoundException):
        other.get_raw_message_content(messageId=mid)
    eu = SERVICE.backend(ACCOUNT, "eu-west-1")
    eu_id = eu.add_message(RAW, organization_id=ORG, direction="OUTBOUND")
    assert other.get_raw_message_content(messageId=eu_id)["messageContent"].read() == RAW


def test_region_without_workmail_is_refused_by_the_kit(env):
    """WorkMail runs only in us-east-1, us-west-2 and eu-west-1 (docs/aws-behaviour.md §1)."""
    client = boto3.client(SERVICE_NAME, region_name="eu-central-1")
    with pytest.raises(SandboxError, match="not offered in region 'eu-central-1'"):
        client.get_raw_message_content(messageId="abc")


# ==================================================================== PutRawMessageContent: effect


def test_put_output_shape_and_outside_a_function_has_no_effect(env):
    """update-with-lambda.md / API reference: Put only has an effect from a synchronous rule's
    function; otherwise GetRawMessageContent still returns the new content."""
    mid = env.add()
    key, _ = env.upload()
    response = env.put(mid, key)
    assert_matches_output_shape(SERVICE_NAME, "PutRawMessageContent", response)
    assert env.get(mid) == EDITED
    assert env.backend.effective_content(mid) == RAW
    [update] = env.backend.history(mid)
    assert (update.bucket, update.key, update.effective) == (BUCKET, key, False)
    assert update.reason == "no effect: not called from a Run Lambda function"
    assert update.request_id is None
    assert update.at == STATE.clock.now()


def test_put_in_a_live_synchronous_invocation_takes_effect(env):
    """update-with-lambda.md: a synchronous Run Lambda function can replace the content."""
    mid = env.add()
    key, _ = env.upload()
    with invocation(mid) as inv:
        env.put(mid, key)
    assert env.backend.effective_content(mid) == EDITED
    [update] = env.backend.history(mid)
    assert update.effective and update.request_id == inv.request_id
    assert update.reason == f"applied: synchronous Run Lambda invocation {inv.request_id}"


def test_put_in_an_asynchronous_invocation_has_no_effect(env):
    """lambda.md: asynchronous functions do not affect delivery."""
    mid = env.add()
    key, _ = env.upload()
    with invocation(mid, mode="async"):
        env.put(mid, key)
    assert env.get(mid) == EDITED
    assert env.backend.effective_content(mid) == RAW
    assert env.backend.history(mid)[0].reason == (
        "no effect: called from an asynchronous Run Lambda invocation; only synchronous rules can update mail"
    )


def test_put_for_another_message_than_the_invocation_has_no_effect(env):
    """A synchronous invocation controls only the message it was invoked for."""
    mid = env.add()
    other = env.add()
    key, _ = env.upload()
    with invocation(other):
        env.put(mid, key)
    assert env.backend.effective_content(mid) == RAW
    assert env.backend.history(mid)[0].reason == f"no effect: the invocation is for message {other}, not this one"


def test_put_from_a_timed_out_invocation_has_no_effect(env):
    """lambda.md 2.5: after 15 s WorkMail treats the call as failed; a late Put changes nothing."""
    mid = env.add()
    key, _ = env.upload()
    with invocation(mid, abandoned=True):
        env.put(mid, key)
    assert env.get(mid) == EDITED
    assert env.backend.effective_content(mid) == RAW
    assert "timed out" in env.backend.history(mid)[0].reason


def test_put_after_delivery_has_no_effect_even_from_a_sync_invocation(env):
    """API reference: a Put on a message already delivered or sent changes nothing."""
    mid = env.add(direction="OUTBOUND")
    env.backend.finish_transit(mid)
    key, _ = env.upload()
    with invocation(mid):
        env.put(mid, key)
    assert env.get(mid) == EDITED
    assert env.backend.effective_content(mid) == RAW
    assert env.backend.history(mid)[0].reason == "no effect: the message had already been sent"


def test_effective_content_is_the_last_effective_update(env):
    """A later ineffective Put does not undo an earlier effective one."""
    mid = env.add()
    first, _ = env.upload()
    second, _ = env.upload(RAW.replace(b"Subject: Quarterly numbers", b"Subject: second"))
    with invocation(mid):
        env.put(mid, first)
    env.put(mid, second)
    assert env.get(mid).count(b"second") == 1
    assert env.backend.effective_content(mid) == EDITED
    assert [u.effective for u in env.backend.history(mid)] == [True, False]


def test_put_with_object_version_reads_that_version(env):
    """API reference S3Reference.objectVersion: for versioned buckets."""
    mid = env.add()
    key, v1 = env.upload(EDITED, key="fixed-key")
    env.upload(RAW.replace(b"Subject: Quarterly numbers", b"Subject: newer"), key="fixed-key")
    with invocation(mid):
        env.put(mid, key, version=v1)
    assert env.backend.effective_content(mid) == EDITED
    assert env.backend.history(mid)[0].object_version == v1


def test_put_after_24_hours_is_resource_not_found(env):
    """lambda-content.md / API reference: outside the 24-hour window the message is not found."""
    mid = env.add()
    key, _ = env.upload()
    STATE.clock.advance(hours=24, seconds=1)
    put_error(env, mid, key, "ResourceNotFoundException", 404)
    put_error(env, "unknown-id", key, "ResourceNotFoundException", 404)


# ==================================================================== MessageFrozen


def test_redirected_mail_with_resent_headers_is_frozen(env):
    """update-with-lambda.md / API reference: MessageFrozen, typically a redirected email."""
    mid = env.add(b"Resent-From: carol@example.com\r\nResent-Date: Mon, 01 Jan 2024 11:00:00 +0000\r\n" + RAW)
    key, _ = env.upload()
    with invocation(mid):
        error = put_error(env, mid, key, "MessageFrozen")
    assert "redirected email" in error.response["Error"]["Message"]
    assert env.backend.history(mid) == []


def test_message_frozen_is_catchable_and_mark_redirected_freezes(env):
    """The templates catch client.exceptions.MessageFrozen and carry on."""
    mid = env.add()
    env.backend.mark_redirected(mid)
    key, _ = env.upload()
    with pytest.raises(env.client.exceptions.MessageFrozen):
        env.put(mid, key)


def test_redirected_can_be_forced_either_way(env):
    """add_message(redirected=...) overrides the Resent-* detection."""
    resent = b"Resent-From: carol@example.com\r\n" + RAW
    key, _ = env.upload(EDITED)
    not_frozen = env.add(resent, redirected=False)
    env.put(not_frozen, key)  # accepted
    frozen = env.add(RAW, redirected=True)
    put_error(env, frozen, key, "MessageFrozen")


# ==================================================================== InvalidContentLocation


def test_missing_bucket_is_invalid_content_location(env):
    """API reference: InvalidContentLocation when WorkMail cannot read the S3 object."""
    mid = env.add()
    error = put_error(env, mid, "k", "InvalidContentLocation", bucket="no-such-bucket")
    assert "the bucket no-such-bucket does not exist" in error.response["Error"]["Message"]


def test_bucket_in_another_region_is_invalid_content_location(env):
    """update-with-lambda.md: the bucket must be in the same Region as the WorkMail calls."""
    mid = env.add()
    s3w = boto3.client("s3", region_name="us-west-2")
    s3w.create_bucket(Bucket="west-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3w.put_bucket_policy(Bucket="west-bucket", Policy=hello_world_bucket_policy("west-bucket"))
    s3w.put_object(Bucket="west-bucket", Key="k", Body=EDITED)
    error = put_error(env, mid, "k", "InvalidContentLocation", bucket="west-bucket")
    assert "is in Region us-west-2, but the message is in us-east-1" in error.response["Error"]["Message"]


def test_bucket_of_another_account_is_invalid_content_location(env, monkeypatch):
    """update-with-lambda.md: same account; API reference: the bucket owner differs from the caller."""
    mid = env.add()
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    other = boto3.client("s3", region_name=REGION)
    other.create_bucket(Bucket="foreign-bucket")
    other.put_bucket_policy(Bucket="foreign-bucket", Policy=hello_world_bucket_policy("foreign-bucket"))
    other.put_object(Bucket="foreign-bucket", Key="k", Body=EDITED)
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    error = put_error(env, mid, "k", "InvalidContentLocation", bucket="foreign-bucket")
    assert "belongs to account 111122223333, not to account 123456789012" in error.response["Error"]["Message"]


def test_missing_key_is_invalid_content_location(env):
    mid = env.add()
    error = put_error(env, mid, "never-uploaded", "InvalidContentLocation")
    assert f"there is no object never-uploaded in bucket {BUCKET}" in error.response["Error"]["Message"]


def test_missing_version_is_invalid_content_location(env):
    mid = env.add()
    key, _ = env.upload()
    error = put_error(env, mid, key, "InvalidContentLocation", version="not-a-version")
    assert "has no version not-a-version (it has 1 version)" in error.response["Error"]["Message"]


def test_deleted_object_is_invalid_content_location(env):
    """A versioned bucket keeps a delete marker as the latest version."""
    mid = env.add()
    key, _ = env.upload()
    env.s3.delete_object(Bucket=BUCKET, Key=key)
    error = put_error(env, mid, key, "InvalidContentLocation")
    assert "delete marker" in error.response["Error"]["Message"]


def test_bucket_without_policy_is_invalid_content_location_with_the_fix(env):
    """update-with-lambda.md: the bucket policy must let workmail.<region>.amazonaws.com read the object."""
    mid = env.add()
    env.s3.create_bucket(Bucket="no-policy-bucket")
    env.s3.put_object(Bucket="no-policy-bucket", Key="k", Body=EDITED)
    error = put_error(env, mid, "k", "InvalidContentLocation", bucket="no-policy-bucket")
    message = error.response["Error"]["Message"]
    assert "has no bucket policy" in message
    assert "Fix: give no-policy-bucket a bucket policy (lesson 05)" in message
    assert f"message/{ORG}/*" in message


def test_policy_for_another_organization_is_invalid_content_location(env):
    """update-with-lambda.md: aws:SourceArn is the message ARN, so a policy pinned to another org fails."""
    mid = env.add()
    env.s3.put_bucket_policy(Bucket=BUCKET, Policy=hello_world_bucket_policy(org=OTHER_ORG))
    key, _ = env.upload()
    error = put_error(env, mid, key, "InvalidContentLocation")
    message = error.response["Error"]["Message"]
    assert "the bucket policy does not let workmail.us-east-1.amazonaws.com call s3:GetObject" in message
    assert "aws:SourceArn" in message  # the evaluator's reason names the failed condition


def test_policy_pinned_to_the_right_organization_works(env):
    """The doc's example narrows aws:SourceArn to message/<ORG_ID>/*."""
    mid = env.add()
    env.s3.put_bucket_policy(Bucket=BUCKET, Policy=hello_world_bucket_policy(org=ORG))
    key, _ = env.upload()
    env.put(mid, key)


def test_policy_for_another_region_principal_is_invalid_content_location(env):
    """The principal is workmail.<the message's region>.amazonaws.com."""
    mid = env.add()
    env.s3.put_bucket_policy(Bucket=BUCKET, Policy=hello_world_bucket_policy(region="eu-west-1"))
    key, _ = env.upload()
    put_error(env, mid, key, "InvalidContentLocation")


def test_object_version_needs_get_object_version_in_the_policy(env):
    """Assumption (documented): with objectVersion the policy must also allow s3:GetObjectVersion."""
    mid = env.add()
    policy = json.loads(hello_world_bucket_policy())
    policy["Statement"][0]["Action"] = ["s3:GetObject"]
    env.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    key, version = env.upload()
    error = put_error(env, mid, key, "InvalidContentLocation", version=version)
    assert "call s3:GetObjectVersion" in error.response["Error"]["Message"]
    env.put(mid, key)  # without a version, s3:GetObject is enough


def test_explicit_deny_in_the_bucket_policy_wins(env):
    mid = env.add()
    key, _ = env.upload()  # before the Deny: moto applies bucket policies to PutObject, ignoring Principal
    policy = json.loads(hello_world_bucket_policy())
    policy["Statement"].append(
        {"Sid": "NoWorkMail", "Effect": "Deny", "Principal": {"Service": "workmail.us-east-1.amazonaws.com"},
         "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    )
    env.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    error = put_error(env, mid, key, "InvalidContentLocation")
    assert "explicitly denied by statement 'NoWorkMail'" in error.response["Error"]["Message"]


def test_bucket_policy_that_is_not_json_is_invalid_content_location(env):
    """moto accepts any text as a bucket policy (docs/moto.md §2); the emulator reports it."""
    mid = env.add()
    env.s3.put_bucket_policy(Bucket=BUCKET, Policy="not json")
    from moto.s3.models import s3_backends

    key = "k"
    s3_backends[ACCOUNT]["aws"].buckets[BUCKET].policy = b"not json"  # moto would choke on the s3 call itself
    error = put_error(env, mid, key, "InvalidContentLocation")
    assert "cannot be read" in error.response["Error"]["Message"]


def test_invalid_content_location_is_catchable(env):
    mid = env.add()
    with pytest.raises(env.client.exceptions.InvalidContentLocation):
        env.put(mid, "k", bucket="missing-bucket")


# ==================================================================== MessageRejected


def test_changed_immutable_header_is_message_rejected(env):
    """API reference RawMessageContent: immutable headers unchanged (list: an assumption)."""
    mid = env.add()
    key, _ = env.upload(EDITED.replace(b"<m1@example.com>", b"<m2@example.com>"))
    with invocation(mid):
        error = put_error(env, mid, key, "MessageRejected")
    assert "header Message-ID: changed from '<m1@example.com>' to '<m2@example.com>'; it is immutable" in (
        error.response["Error"]["Message"]
    )
    assert env.backend.effective_content(mid) == RAW
    assert env.get(mid) == RAW and env.backend.history(mid) == []


def test_long_line_is_message_rejected_and_catchable(env):
    """API reference / RFC 5321: no line over 1,000 characters including CRLF."""
    mid = env.add()
    key, _ = env.upload(EDITED.replace(b"see you.", b"z" * 1200))
    with pytest.raises(env.client.exceptions.MessageRejected, match="line 10: 1202 characters including CRLF"):
        env.put(mid, key)


def test_message_rejected_names_the_first_problems(env):
    """At most three problems are spelled out, the rest counted."""
    mid = env.add()
    bad = EDITED.replace(b"From: Alice <alice@example.com>\r\n", b"").replace(b"Date:", b"X-Old-Date:")
    bad = bad.replace(b"Subject:", b"Subject: \xc3\xa9\r\nSubject:")
    key, _ = env.upload(bad)
    message = put_error(env, mid, key, "MessageRejected").response["Error"]["Message"]
    assert message.startswith(f"Message content in s3://{BUCKET}/{key} is invalid: header Subject: unencoded 8-bit")
    assert message.endswith("more problems).")


def test_inbound_mail_that_breaks_rules_is_still_delivered_and_readable(env):
    """update-with-lambda.md: inbound mail does not always meet the RFCs; only a Put is checked."""
    raw = RAW.replace(b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n", b"")
    mid = env.add(raw)
    assert env.get(mid) == raw
    key, _ = env.upload(raw.replace(b"Subject: Quarterly", b"Subject: [ext] Quarterly"))
    put_error(env, mid, key, "MessageRejected")
    fixed, _ = env.upload(EDITED)  # adding the missing Date is allowed
    env.put(mid, fixed)


# ==================================================================== the execution role


def test_role_without_message_flow_permission_is_access_denied(env):
    """lambda-content-access.md: the role needs workmailmessageflow:GetRawMessageContent on the message ARN."""
    mid = env.add()
    role = env.role("no-flow-role", managed=["service-role/AWSLambdaBasicExecutionRole"])
    arn = message_arn(REGION, ACCOUNT, ORG, "INBOUND", mid)
    with invocation(mid, role_arn=role, function="wm-fn"):
        error = get_error(env, mid, "AccessDeniedException", 403, modeled=False)
    message = error.response["Error"]["Message"]
    assert message.startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/no-flow-role/wm-fn is not authorized to perform: "
        f"workmailmessageflow:GetRawMessageContent on resource: {arn} because no identity-based policy "
        "allows the workmailmessageflow:GetRawMessageContent action"
    )
    assert "AmazonWorkMailMessageFlowReadOnlyAccess" in message  # the fix


def test_read_only_managed_policy_allows_get_but_not_put(env):
    """lambda-content-access.md: AmazonWorkMailMessageFlowReadOnlyAccess = workmailmessageflow:Get*."""
    mid = env.add()
    role = env.role("reader", managed=["AmazonWorkMailMessageFlowReadOnlyAccess"])
    key, _ = env.upload()
    with invocation(mid, role_arn=role):
        assert env.get(mid) == RAW
        error = put_error(env, mid, key, "AccessDeniedException", 403, modeled=False)
    assert "workmailmessageflow:PutRawMessageContent" in error.response["Error"]["Message"]


def test_full_access_managed_policy_allows_put(env):
    """The hello-world template attaches AmazonWorkMailMessageFlowFullAccess."""
    mid = env.add()
    role = env.role("writer", managed=["AmazonWorkMailMessageFlowFullAccess"])
    key, _ = env.upload()
    with invocation(mid, role_arn=role):
        env.put(mid, key)
    assert env.backend.effective_content(mid) == EDITED


def test_inline_policy_scoped_to_direction_and_organization(env):
    """lambda-content-access.md: a policy may be scoped to message/<orgId>/incoming/*."""
    inbound = env.add()
    outbound = env.add(direction="OUTBOUND")
    other_org = env.add(organization_id=OTHER_ORG)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "workmailmessageflow:GetRawMessageContent",
            "Resource": f"arn:aws:workmailmessageflow:{REGION}:{ACCOUNT}:message/{ORG}/incoming/*",
        }],
    }
    role = env.role("scoped", inline=policy)
    with invocation(inbound, role_arn=role):
        assert env.get(inbound) == RAW
        get_error(env, outbound, "AccessDeniedException", 403, modeled=False)
        get_error(env, other_org, "AccessDeniedException", 403, modeled=False)


def test_explicit_deny_uses_aws_wording(env):
    mid = env.add()
    role = env.role("denied", managed=["AmazonWorkMailMessageFlowFullAccess"], inline={
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "workmailmessageflow:*", "Resource": "*"}],
    })
    with invocation(mid, role_arn=role):
        error = get_error(env, mid, "AccessDeniedException", 403, modeled=False)
    assert "with an explicit deny in an identity-based policy" in error.response["Error"]["Message"]


def test_role_that_does_not_exist_is_access_denied(env):
    mid = env.add()
    with invocation(mid, role_arn=f"arn:aws:iam::{ACCOUNT}:role/deleted-role"):
        error = get_error(env, mid, "AccessDeniedException", 403, modeled=False)
    assert "does not exist in IAM" in error.response["Error"]["Message"]


def test_role_of_another_account_is_access_denied(env):
    mid = env.add()
    with invocation(mid, role_arn="arn:aws:iam::111122223333:role/elsewhere"):
        error = get_error(env, mid, "AccessDeniedException", 403, modeled=False)
    assert "assumed-role/elsewhere/" in error.response["Error"]["Message"]


def test_role_is_checked_before_the_window(env):
    """IAM answers first: a denied role gets AccessDenied even for an expired message."""
    mid = env.add()
    role = env.role("late", managed=[])
    STATE.clock.advance(hours=25)
    with invocation(mid, role_arn=role):
        get_error(env, mid, "AccessDeniedException", 403, modeled=False)


def test_calls_outside_a_function_act_as_the_sandbox_user(env):
    """A learner's notebook has no execution role: allowed."""
    mid = env.add()
    assert CURRENT_INVOCATION.get() is None
    assert env.get(mid) == RAW


def test_access_denied_is_not_in_the_model_but_is_a_client_error(env):
    """AccessDeniedException is not in workmailmessageflow's error list; botocore raises ClientError."""
    with pytest.raises(AssertionError):
        assert_error_code_modeled(SERVICE_NAME, "GetRawMessageContent", "AccessDeniedException")
    assert not hasattr(env.client.exceptions, "AccessDeniedException")


def test_managed_policies_exist_without_moto_loading_them(emulators_active, monkeypatch):
    """moto loads AWS managed policies only with load_aws_managed_policies; the sandbox loads one
    when a call names it, and ensure_managed_policies adds the two Message Flow ones at their
    real ARNs, idempotently."""
    from moto.iam.models import iam_backends

    monkeypatch.setattr("moto.iam.models.load_iam_aws_managed_policies", lambda: False)
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    arn = "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"
    assert arn not in iam_backends[ACCOUNT]["aws"].managed_policies
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)  # loaded on first use
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    arns = ensure_managed_policies(ACCOUNT)
    assert ensure_managed_policies(ACCOUNT) == arns == [
        "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess",
        arn,
    ]
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    assert version["Statement"][0]["Action"] == ["workmailmessageflow:*"]
    listed = [p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]]
    assert sorted(listed) == ["AmazonWorkMailMessageFlowFullAccess", "AmazonWorkMailMessageFlowReadOnlyAccess"]


def test_moto_bundles_the_message_flow_managed_policies(env_moto_policies):
    """moto bundles both; the sandbox loads an AWS managed policy when a call first names it."""
    docs = {}
    for name in ("AmazonWorkMailMessageFlowReadOnlyAccess", "AmazonWorkMailMessageFlowFullAccess"):
        arn = f"arn:aws:iam::aws:policy/{name}"
        docs[name] = env_moto_policies.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    assert docs["AmazonWorkMailMessageFlowReadOnlyAccess"]["Statement"][0]["Action"] == ["workmailmessageflow:Get*"]


# ==================================================================== the sandbox control API


def test_generated_message_ids_fit_the_model_pattern(env):
    """botocore model: messageId is 1-120 characters of [a-z0-9-]."""
    ids = {env.add() for _ in range(5)}
    assert len(ids) == 5
    for mid in ids:
        assert mid == mid.lower() and len(mid) == 36
        assert set(mid) <= set("0123456789abcdef-")


def test_add_message_with_a_chosen_id(env):
    mid = env.add(message_id="fixed-id-1")
    assert mid == "fixed-id-1" and env.get(mid) == RAW
    assert env.backend.message_arn(mid) == (
        f"arn:aws:workmailmessageflow:{REGION}:{ACCOUNT}:message/{ORG}/incoming/fixed-id-1"
    )
    with pytest.raises(SandboxError, match="already in transit"):
        env.add(message_id="fixed-id-1")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"message_id": "Upper_Case"}, ConfigurationError, "not a valid messageId"),
        ({"message_id": "x" * 121}, ConfigurationError, "not a valid messageId"),
        ({"direction": "SIDEWAYS"}, ConfigurationError, "direction must be one of INBOUND, OUTBOUND"),
        ({"organization_id": "org-1"}, ConfigurationError, "not a WorkMail organization id"),
    ],
)
def test_add_message_refuses_bad_arguments(env, kwargs, error, match):
    with pytest.raises(error, match=match):
        env.add(**kwargs)


def test_add_message_refuses_what_is_not_mail(env):
    with pytest.raises(SandboxError, match="needs the raw message as bytes"):
        env.add("From: a@b\r\n\r\nx")
    with pytest.raises(MessageParseError, match="add_message: This is not an email message"):
        env.add(b'{"not": "mail"}')


def test_direction_is_case_insensitive(env):
    mid = env.add(direction="outbound")
    assert env.backend.message(mid).direction == "OUTBOUND"
    assert "/outgoing/" in env.backend.message_arn(mid)


def test_control_methods_name_an_unknown_message(env):
    for method in ("effective_content", "history", "finish_transit", "mark_redirected", "message_arn"):
        with pytest.raises(SandboxError, match="No message 'ghost' was added"):
            getattr(env.backend, method)("ghost")


def test_effective_content_stays_readable_after_the_window(env):
    """effective_content is the sandbox looking, not the API: no 24-hour limit."""
    mid = env.add()
    STATE.clock.advance(days=3)
    assert env.backend.effective_content(mid) == RAW


def test_backend_state_snapshots_and_restores(env):
    """The framework deep-copies backends for snapshots: plain data only."""
    mid = env.add()
    snapshot = SERVICE.snapshot()
    key, _ = env.upload()
    with invocation(mid):
        env.put(mid, key)
    SERVICE.restore(snapshot)
    backend = SERVICE.backend(ACCOUNT, REGION)
    assert backend.effective_content(mid) == RAW and backend.history(mid) == []


def test_service_is_registered_for_the_workmail_regions():
    assert SERVICE.service_id == "workmailmessageflow"
    assert SERVICE.regions == ("us-east-1", "us-west-2", "eu-west-1")
    assert SERVICE.operations() == ["get_raw_message_content", "put_raw_message_content"]


# ==================================================================== the hello-world flow by hand


def test_hello_world_flow_by_hand(env):
    """hello-world app.py (templates repo), with put_raw_message_content uncommented, run as a
    synchronous Run Lambda function: get, edit the subject, write to S3, put, and delivery uses it."""
    mid = env.add()
    role = env.role(
        "WorkMailHelloWorldFunctionRole",
        managed=["service-role/AWSLambdaBasicExecutionRole", "AmazonWorkMailMessageFlowFullAccess"],
        inline={
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }],
        },
    )
    event = {"messageId": mid, "flowDirection": "INBOUND", "subject": "Quarterly numbers"}

    def lambda_handler(event, context):
        workmail = boto3.client("workmailmessageflow", region_name=os.environ.get("AWS_REGION", REGION))
        s3 = boto3.client("s3")
        raw = workmail.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
        parsed = email.message_from_bytes(raw)
        subject = parsed["Subject"]
        parsed.replace_header("Subject", f"[Hello World!] {subject}")
        key = str(uuid.uuid4())
        s3.put_object(Body=parsed.as_bytes(), Bucket=BUCKET, Key=key)
        try:
            workmail.put_raw_message_content(
                messageId=event["messageId"], content={"s3Reference": {"bucket": BUCKET, "key": key}}
            )
        except workmail.exceptions.MessageFrozen:
            pass
        return {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}

    with invocation(mid, role_arn=role, function="WorkMailHelloWorldFunction"):
        result = lambda_handler(event, None)
    assert result["actions"][0]["action"]["type"] == "DEFAULT"
    delivered = email.message_from_bytes(env.backend.effective_content(mid), policy=email.policy.default)
    assert delivered["Subject"] == "[Hello World!] Quarterly numbers"
    assert delivered["Message-ID"] == "<m1@example.com>"
    [update] = env.backend.history(mid)
    assert update.effective and update.bucket == BUCKET
