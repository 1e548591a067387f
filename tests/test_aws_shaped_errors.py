"""Every AWS call in the sandbox gets an AWS-shaped answer: botocore's ClientError, never a Python exception.

* an operation of an emulated service (workmail, workmailmessageflow, serverlessrepo)
  without an emulation: ``NotImplemented`` (HTTP 501) naming it and docs/coverage.md;
* an action moto lacks (comprehend.DetectDominantLanguage: moto mocks comprehend but
  raises ``NotImplementedError``) and a service moto does not mock at all
  (translate.TranslateText: a 404 "Not yet implemented"): ``NotImplemented`` (HTTP 501);
* the emulated WorkMail API applies the calling function's execution role, as the
  Message Flow API does: ``AccessDeniedException`` worded as IAM words it.

Each is checked from test code and from inside a deployed function, which catches
``ClientError`` as code written for AWS does.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from workmail_sandbox import deploy_handler

CATCHING_FUNCTION = """
import json
import os

import boto3
from botocore.exceptions import ClientError


def call(service, operation, params):
    client = boto3.client(service)
    try:
        getattr(client, operation)(**params)
    except ClientError as error:
        return {
            "code": error.response["Error"]["Code"],
            "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
            "message": error.response["Error"]["Message"],
        }
    return {"code": "OK"}


def lambda_handler(event, context):
    return call(event["service"], event["operation"], event["params"])
"""

TRANSLATE = ("translate", "translate_text", {"Text": "hi", "SourceLanguageCode": "en", "TargetLanguageCode": "fr"})
COMPREHEND = ("comprehend", "detect_dominant_language", {"Text": "hello"})


def _invoke(sb, name, service, operation, params):
    response = sb.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps({"service": service, "operation": operation, "params": params})
    )
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def _deploy(name, managed_policies=()):
    deploy_handler(CATCHING_FUNCTION, name=name, managed_policies=list(managed_policies))
    return name


# moto's gaps -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "named", "why"),
    [
        (COMPREHEND, "comprehend.DetectDominantLanguage", "does not implement this operation"),
        (TRANSLATE, "translate.TranslateText", "does not emulate the translate service at all"),
    ],
)
def test_a_moto_gap_is_a_client_error_from_test_code(workmail_sandbox, call, named, why):
    service, operation, params = call
    with pytest.raises(ClientError) as info:
        getattr(workmail_sandbox.client(service), operation)(**params)
    error = info.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    message = error["Error"]["Message"]
    assert named in message and why in message and "moto" in message and "Fix:" in message


@pytest.mark.parametrize(
    ("call", "named"), [(COMPREHEND, "comprehend.DetectDominantLanguage"), (TRANSLATE, "translate.TranslateText")]
)
def test_a_moto_gap_is_a_client_error_inside_a_function(workmail_sandbox, call, named):
    name = _deploy("aws-shaped-errors")
    answer = _invoke(workmail_sandbox, name, *call)
    assert answer["code"] == "NotImplemented" and answer["status"] == 501
    assert named in answer["message"]


def test_an_operation_the_kit_does_not_emulate_is_a_client_error_inside_a_function(workmail_sandbox, workmail_org):
    name = _deploy("aws-shaped-errors", ["arn:aws:iam::aws:policy/AmazonWorkMailReadOnlyAccess"])
    answer = _invoke(
        workmail_sandbox, name, "workmail", "list_resources", {"OrganizationId": workmail_org.organization_id}
    )
    assert answer["code"] == "NotImplemented" and answer["status"] == 501
    assert "workmail.ListResources" in answer["message"] and "docs/coverage.md" in answer["message"]


# The WorkMail API checks the calling function's execution role ------------------------------------


def test_a_read_only_role_may_describe_but_not_create(workmail_sandbox, workmail_org):
    org = workmail_org.organization_id
    name = _deploy("workmail-reader", ["arn:aws:iam::aws:policy/AmazonWorkMailReadOnlyAccess"])
    assert _invoke(workmail_sandbox, name, "workmail", "describe_organization", {"OrganizationId": org}) == {
        "code": "OK"
    }
    assert _invoke(workmail_sandbox, name, "workmail", "list_organizations", {})["code"] == "OK"
    refused = _invoke(
        workmail_sandbox,
        name,
        "workmail",
        "create_user",
        {"OrganizationId": org, "Name": "eve", "DisplayName": "Eve", "Password": "Corr3ct-Horse"},
    )
    assert refused["code"] == "AccessDeniedException" and refused["status"] == 400
    message = refused["message"]
    assert message.startswith(
        "User: arn:aws:sts::123456789012:assumed-role/workmail-reader-role/workmail-reader is not authorized to "
        f"perform: workmail:CreateUser on resource: {workmail_org.arn} because no identity-based policy allows "
        "the workmail:CreateUser action"
    ), message
    assert "AmazonWorkMailFullAccess" in message
    users = workmail_sandbox.client("workmail").list_users(OrganizationId=org)["Users"]
    assert "eve" not in {u["Name"] for u in users}, "a refused call changes nothing"


def test_a_role_without_a_workmail_policy_is_refused(workmail_sandbox, workmail_org):
    name = _deploy("workmail-stranger")
    refused = _invoke(
        workmail_sandbox, name, "workmail", "describe_organization", {"OrganizationId": workmail_org.organization_id}
    )
    assert refused["code"] == "AccessDeniedException"
    assert "workmail:DescribeOrganization" in refused["message"] and workmail_org.arn in refused["message"]
    assert "AmazonWorkMailReadOnlyAccess" in refused["message"]
    listing = _invoke(workmail_sandbox, name, "workmail", "list_organizations", {})
    assert listing["code"] == "AccessDeniedException" and "on resource: *" in listing["message"]


def test_the_sandbox_user_outside_a_function_is_not_checked(workmail_sandbox, workmail_org):
    workmail = workmail_sandbox.client("workmail")
    assert workmail.describe_organization(OrganizationId=workmail_org.organization_id)["State"] == "Active"


def test_workmail_role_decision_reads_the_roles_policies(workmail_sandbox, workmail_org):
    from workmail_sandbox.permissions import workmail_role_decision

    _deploy("workmail-reader", ["arn:aws:iam::aws:policy/AmazonWorkMailReadOnlyAccess"])
    role = workmail_sandbox.client("iam").get_role(RoleName="workmail-reader-role")["Role"]["Arn"]
    where = {"organization_id": workmail_org.organization_id, "account": "123456789012", "region": "us-east-1"}
    assert workmail_role_decision(role, function_name="f", operation="ListUsers", **where).allowed
    assert not workmail_role_decision(role, function_name="f", operation="DeleteUser", **where).allowed
    other = workmail_role_decision(
        role.replace("123456789012", "210987654321"), function_name="f", operation="ListUsers", **where
    )
    assert not other.allowed and "WorkMail has no resource policies" in other.reason
