"""The whole path, offline: deploy hello world through the emulated SAR, put a message
in transit, invoke the function as a synchronous Run Lambda rule would, and watch it
read the message, write to S3 and update it through the Message Flow API."""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from pathlib import Path

import pytest

from workmail_sandbox.deploy import deploy_app
from workmail_sandbox.events import build_event
from workmail_sandbox.mail import parse_message

EMAILS = Path(__file__).resolve().parent.parent / "data" / "emails"


@pytest.fixture
def hello_world(workmail_sandbox):
    return deploy_app(parameters={"UpdateMessage": "true"})


def _event_for(raw: bytes, message_id: str, org_domains) -> dict:
    parsed = parse_message(raw, headers_only=True)
    return dict(
        build_event(
            mail_from=parsed.from_addresses[0],
            recipients=[r for r in parsed.recipients if r.rsplit("@", 1)[1] in org_domains],
            subject=parsed.subject,
            message_id=message_id,
        )
    )


def test_hello_world_reads_writes_s3_and_updates_the_message(workmail_sandbox, workmail_org, hello_world):
    sb = workmail_sandbox
    raw = (EMAILS / "01-plain-inbound.eml").read_bytes()
    message_id = sb.put_message_in_transit(raw, organization_id=workmail_org.organization_id)
    allowed, reason = sb.runtime.check_workmail_permission(
        hello_world["FunctionArn"], organization_arn=workmail_org.arn, region=sb.region, account=sb.account_id
    )
    assert allowed, reason

    result = sb.runtime.invoke(
        hello_world["FunctionArn"],
        _event_for(raw, message_id, workmail_org.domains),
        workmail_mode="sync",
        message_id=message_id,
        limit_seconds=15,
    )

    assert result.function_error is None, result.payload
    assert result.payload == {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}
    updated = parse_message(sb.message_content(message_id))
    assert updated.subject == "[Hello World!] " + parse_message(raw).subject
    (update,) = sb.message_history(message_id)
    assert update.effective
    s3 = sb.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=hello_world["BucketName"])["Contents"]]
    assert update.key in keys
    logs = sb.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{hello_world['FunctionName']}")
    text = "\n".join(e["message"] for e in logs["events"])
    assert message_id in text and "START RequestId" in text and "REPORT RequestId" in text
    assert sb.network.attempts == [], "the kit itself must never try the network"


def test_an_asynchronous_invocation_cannot_change_the_message(workmail_sandbox, workmail_org, hello_world):
    sb = workmail_sandbox
    raw = (EMAILS / "01-plain-inbound.eml").read_bytes()
    message_id = sb.put_message_in_transit(raw, organization_id=workmail_org.organization_id)
    result = sb.runtime.invoke(
        hello_world["FunctionArn"], _event_for(raw, message_id, workmail_org.domains),
        workmail_mode="async", message_id=message_id,
    )
    assert result.function_error is None
    assert sb.message_content(message_id) == raw
    (update,) = sb.message_history(message_id)
    assert not update.effective


def test_redirected_mail_is_frozen_and_the_function_carries_on(workmail_sandbox, workmail_org, hello_world):
    sb = workmail_sandbox
    raw = next(EMAILS.glob("20-*.eml")).read_bytes()  # carries Resent-* fields
    message_id = sb.put_message_in_transit(raw, organization_id=workmail_org.organization_id)
    result = sb.runtime.invoke(
        hello_world["FunctionArn"], _event_for(raw, message_id, workmail_org.domains),
        workmail_mode="sync", message_id=message_id,
    )
    assert result.function_error is None
    assert "MessageFrozen" in result.log_text
    assert sb.message_content(message_id) == raw


def test_lambda_invoke_through_boto3_runs_the_function(workmail_sandbox, workmail_org, hello_world):
    sb = workmail_sandbox
    raw = (EMAILS / "01-plain-inbound.eml").read_bytes()
    message_id = sb.put_message_in_transit(raw, organization_id=workmail_org.organization_id)
    response = sb.client("lambda").invoke(
        FunctionName=hello_world["FunctionName"],
        Payload=json.dumps(_event_for(raw, message_id, workmail_org.domains)).encode(),
        LogType="Tail",
    )
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert json.loads(response["Payload"].read())["actions"][0]["action"]["type"] == "DEFAULT"


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", source)
    return buffer.getvalue()


def test_a_function_cannot_reach_the_network(workmail_sandbox):
    """Isolation: code inside a function is refused like any other code in the process."""
    sb = workmail_sandbox
    iam = sb.client("iam")
    role = iam.create_role(
        RoleName="leaky",
        AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }),
    )["Role"]["Arn"]
    source = "import urllib.request\n\ndef handler(event, context):\n    return urllib.request.urlopen('http://example.org/').status\n"
    sb.client("lambda").create_function(
        FunctionName="leaky", Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": _zip(source)}
    )
    result = sb.runtime.invoke("leaky", {})
    assert result.function_error == "Unhandled"
    assert "sandbox refused" in result.payload["errorMessage"]
    assert any(a.target.startswith("example.org") for a in sb.network.attempts)


def test_learner_code_cannot_use_urllib_either(workmail_sandbox):
    with pytest.raises(OSError, match="sandbox refused"):
        urllib.request.urlopen("https://aws.amazon.com/", timeout=2)
