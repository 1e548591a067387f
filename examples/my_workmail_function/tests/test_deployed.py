"""Smoke tests for the deployed function: the same checks offline and in your AWS account.

By default they run in the sandbox, against the function the ``my_function`` fixture
deploys. After ``sam deploy``, run them against the real function (read-only: they
read its policy and invoke it; no mail is sent and no message is changed)::

    WORKMAIL_SANDBOX_MODE=aws MY_FUNCTION_NAME=<function name> \\
    WORKMAIL_ORGANIZATION_ID=m-... AWS_REGION=us-east-1 pytest tests/test_deployed.py
"""

import json
import os
from dataclasses import dataclass

import boto3
import pytest

from workmail_sandbox import build_event, resolve_response
from workmail_sandbox.iam import Principal, Request, evaluate

ON_AWS = os.environ.get("WORKMAIL_SANDBOX_MODE") == "aws"


@dataclass
class Deployed:
    lambda_client: object
    function_name: str
    organization_arn: str
    region: str
    account: str


@pytest.fixture
def deployed(request):
    """The function under test: yours on AWS (aws mode), or the sandbox's own deployment."""
    if not ON_AWS:
        sandbox = request.getfixturevalue("workmail_sandbox")
        org = request.getfixturevalue("workmail_org")
        name = request.getfixturevalue("my_function")
        return Deployed(sandbox.client("lambda"), name, org.arn, sandbox.region, sandbox.account_id)
    name, org_id = os.environ.get("MY_FUNCTION_NAME"), os.environ.get("WORKMAIL_ORGANIZATION_ID")
    if not (name and org_id):
        pytest.skip("set MY_FUNCTION_NAME and WORKMAIL_ORGANIZATION_ID to test the function deployed on AWS")
    session = boto3.session.Session()
    arn = session.client("workmail").describe_organization(OrganizationId=org_id)["ARN"]
    account = session.client("sts").get_caller_identity()["Account"]
    return Deployed(session.client("lambda"), name, arn, session.region_name, account)


def invoke(deployed, event):
    response = deployed.lambda_client.invoke(FunctionName=deployed.function_name, Payload=json.dumps(event))
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_workmail_may_invoke_the_function(deployed):
    """The function's resource policy lets WorkMail, for this organization, invoke it."""
    function = deployed.lambda_client.get_function_configuration(FunctionName=deployed.function_name)
    policy = deployed.lambda_client.get_policy(FunctionName=deployed.function_name)["Policy"]
    decision = evaluate(
        [policy],
        Request(
            "lambda:InvokeFunction",
            function["FunctionArn"],
            principal=Principal.service(f"workmail.{deployed.region}.amazonaws.com"),
            context={"aws:SourceArn": deployed.organization_arn, "aws:SourceAccount": deployed.account},
        ),
        kind="resource",
    )
    assert decision.allowed, decision.reason


def test_internal_mail_gets_default_without_touching_the_message(deployed):
    """The code runs (imports, environment) and answers a valid response; no message is read."""
    function = deployed.lambda_client.get_function_configuration(FunctionName=deployed.function_name)
    domain = function["Environment"]["Variables"]["INTERNAL_DOMAINS"].split(",")[0].strip()
    event = build_event(mail_from=f"smoke-test@{domain}", recipients=[f"smoke-test@{domain}"], subject="smoke test")

    error, payload = invoke(deployed, event.to_dict())

    assert error is None, payload
    resolution = resolve_response(
        payload, direction="INBOUND", recipients=event.envelope.recipients, org_domains=[domain]
    )
    assert resolution.valid, resolution.report()


def test_external_mail_reaches_the_message_flow_api(deployed):
    """For external mail the function calls GetRawMessageContent in its own Region.

    No message has this id, so the call must fail with ResourceNotFoundException, which the
    function re-raises (WorkMail would retry, then apply the fallback). AccessDeniedException
    would mean the role lacks workmailmessageflow:GetRawMessageContent; a timeout or an
    endpoint error would mean the function cannot reach the API.
    """
    event = build_event(
        mail_from="smoke-test@example.org",
        recipients=["smoke-test@example.com"],
        subject="smoke test",
        message_id="00000000-0000-0000-0000-000000000000",
    )

    error, payload = invoke(deployed, event.to_dict())

    assert error == "Unhandled", payload
    assert payload["errorType"] == "ResourceNotFoundException", payload
