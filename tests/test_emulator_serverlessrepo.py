"""The emulated Serverless Application Repository, through real boto3 clients (moto-backed).

Facts checked: docs/aws-behaviour.md §5.5 (SAR deployment route, stack name
``serverlessrepo-<name>``, capabilities, 1-hour templates) and botocore's
``serverlessrepo`` model (output shapes, modeled error codes).
"""

from __future__ import annotations

import datetime as _dt
import json
import re

import boto3
import pytest
from botocore_shapes import assert_error_code_modeled, assert_matches_output_shape

from workmail_sandbox.emulators._core import install_hooks, register
from workmail_sandbox.emulators.serverlessrepo import SERVICE, read_template_url
from workmail_sandbox.errors import SandboxError

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS.+BucketPolicy but it.s not supported:UserWarning")

APP_ID = "arn:aws:serverlessrepo:us-east-1:489970191081:applications/workmail-hello-world-python"
REQUIRED = ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]
SERVICE_NAME = "serverlessrepo"


@pytest.fixture
def aws(emulators_active):
    """boto3 clients with the SAR emulator answering and moto behind everything else."""
    register(SERVICE)
    install_hooks([SERVICE.service_id])
    start = emulators_active.clock.now()

    class Clients:
        sar = boto3.client("serverlessrepo", region_name="us-east-1")
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        iam = boto3.client("iam", region_name="us-east-1")
        lam = boto3.client("lambda", region_name="us-east-1")
        state = emulators_active

    yield Clients
    emulators_active.clock.set(start)


def _error(excinfo) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def _change_set(aws, stack_name="hello", **kwargs):
    kwargs.setdefault("Capabilities", REQUIRED)
    return aws.sar.create_cloud_formation_change_set(ApplicationId=APP_ID, StackName=stack_name, **kwargs)


def _execute(aws, change, stack_name="hello", waiter="stack_create_complete"):
    fast = {"Delay": 1, "MaxAttempts": 5}
    aws.cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change["ChangeSetId"], WaiterConfig=fast)
    aws.cfn.execute_change_set(ChangeSetName=change["ChangeSetId"])
    aws.cfn.get_waiter(waiter).wait(StackName=f"serverlessrepo-{stack_name}", WaiterConfig=fast)
    return aws.cfn.describe_stacks(StackName=f"serverlessrepo-{stack_name}")["Stacks"][0]


# ListApplications / GetApplication ------------------------------------------------------


def test_list_applications_serves_the_catalog_in_botocores_shape(aws):
    answer = aws.sar.list_applications()
    assert_matches_output_shape(SERVICE_NAME, "ListApplications", answer)
    [hello] = [a for a in answer["Applications"] if a["Name"] == "workmail-hello-world-python"]
    assert hello["ApplicationId"] == APP_ID
    assert "NextToken" not in answer
    pages = list(aws.sar.get_paginator("list_applications").paginate(PaginationConfig={"PageSize": 1}))
    assert [a["ApplicationId"] for p in pages for a in p["Applications"]] == [
        a["ApplicationId"] for a in answer["Applications"]
    ]


def test_list_applications_refuses_a_bad_token(aws):
    with pytest.raises(aws.sar.exceptions.BadRequestException) as excinfo:
        aws.sar.list_applications(NextToken="!!not-a-token!!")
    assert_error_code_modeled(SERVICE_NAME, "ListApplications", _error(excinfo)[0])


def test_get_application_reports_capabilities_parameters_and_template_url(aws):
    answer = aws.sar.get_application(ApplicationId=APP_ID)
    assert_matches_output_shape(SERVICE_NAME, "GetApplication", answer)
    version = answer["Version"]
    assert version["RequiredCapabilities"] == REQUIRED  # aws-behaviour §5.5: IAM role + permission + bucket policy
    assert version["SemanticVersion"] == "1.0.0"
    assert version["ResourcesSupported"] is True
    [parameter] = version["ParameterDefinitions"]
    assert parameter["Name"] == "UpdateMessage"
    assert parameter["DefaultValue"] == "false"
    assert parameter["AllowedValues"] == ["true", "false"]
    assert parameter["ReferencedByResources"] == ["WorkMailHelloWorldFunction"]
    assert re.fullmatch(
        r"https://awsserverlessrepo-changesets-[a-z0-9]{13}\.s3\.amazonaws\.com/.+", version["TemplateUrl"]
    )
    assert "Transform: AWS::Serverless-2016-10-31" in read_template_url(version["TemplateUrl"])
    assert aws.sar.get_application(ApplicationId=APP_ID, SemanticVersion="1.0.0")["Version"] == version


@pytest.mark.parametrize(
    ("application_id", "version", "code"),
    [
        ("arn:aws:serverlessrepo:us-east-1:123456789012:applications/no-such-app", None, "NotFoundException"),
        (APP_ID, "9.9.9", "NotFoundException"),
        ("workmail-hello-world-python", None, "BadRequestException"),
    ],
)
def test_get_application_errors(aws, application_id, version, code):
    kwargs = {"SemanticVersion": version} if version else {}
    with pytest.raises(aws.sar.exceptions.ClientError) as excinfo:
        aws.sar.get_application(ApplicationId=application_id, **kwargs)
    got, message = _error(excinfo)
    assert got == code
    assert application_id in message or (version and version in message)
    assert_error_code_modeled(SERVICE_NAME, "GetApplication", got)
    assert excinfo.value.response["ErrorCode"] == code


# CreateCloudFormationChangeSet --------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ([], REQUIRED),
        (["CAPABILITY_IAM"], ["CAPABILITY_RESOURCE_POLICY"]),
        (["CAPABILITY_RESOURCE_POLICY"], ["CAPABILITY_IAM"]),
    ],
)
def test_missing_capabilities_are_refused_naming_them(aws, given, missing):
    with pytest.raises(aws.sar.exceptions.BadRequestException) as excinfo:
        _change_set(aws, Capabilities=given)
    code, message = _error(excinfo)
    assert message == f"Required capabilities [{', '.join(missing)}] were not provided."
    assert_error_code_modeled(SERVICE_NAME, "CreateCloudFormationChangeSet", code)
    with pytest.raises(aws.cfn.exceptions.ClientError):
        aws.cfn.describe_stacks(StackName="serverlessrepo-hello")  # nothing was created


def test_named_iam_stands_for_iam_and_unknown_capabilities_are_refused(aws):
    change = _change_set(aws, Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_RESOURCE_POLICY"])
    assert change["ChangeSetId"].startswith("arn:aws:cloudformation:us-east-1:")
    with pytest.raises(aws.sar.exceptions.BadRequestException) as excinfo:
        _change_set(aws, "other", Capabilities=[*REQUIRED, "CAPABILITY_EVERYTHING"])
    assert "CAPABILITY_EVERYTHING" in _error(excinfo)[1]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"ApplicationId": "arn:aws:serverlessrepo:us-east-1:123456789012:applications/nope"}, "nope"),
        ({"SemanticVersion": "2.0.0"}, "2.0.0"),
        ({"ParameterOverrides": [{"Name": "NoSuchParameter", "Value": "x"}]}, "NoSuchParameter"),
        ({"ParameterOverrides": [{"Name": "UpdateMessage", "Value": "yes"}]}, "AllowedValues"),
        ({"StackName": "bad_name!"}, "bad_name!"),
        ({"ChangeSetName": "1-starts-with-a-digit"}, "1-starts-with-a-digit"),
    ],
)
def test_change_set_request_errors_are_modeled_bad_requests(aws, kwargs, needle):
    arguments = {"ApplicationId": APP_ID, "StackName": "hello", "Capabilities": REQUIRED, **kwargs}
    with pytest.raises(aws.sar.exceptions.BadRequestException) as excinfo:
        aws.sar.create_cloud_formation_change_set(**arguments)
    code, message = _error(excinfo)
    assert needle in message
    assert_error_code_modeled(SERVICE_NAME, "CreateCloudFormationChangeSet", code)


def test_full_change_set_route_with_waiters(aws):
    change = _change_set(aws, Tags=[{"Key": "team", "Value": "mail"}])
    assert_matches_output_shape(SERVICE_NAME, "CreateCloudFormationChangeSet", change)
    assert change["ApplicationId"] == APP_ID
    assert change["SemanticVersion"] == "1.0.0"
    assert re.fullmatch(r"arn:aws:cloudformation:us-east-1:\d{12}:stack/serverlessrepo-hello/.+", change["StackId"])

    described = aws.cfn.describe_change_set(ChangeSetName=change["ChangeSetId"])
    assert described["StackName"] == "serverlessrepo-hello"
    assert {c["ResourceChange"]["LogicalResourceId"] for c in described["Changes"]} >= {
        "WorkMailHelloWorldFunction",
        "WorkMailHelloWorldFunctionRole",
        "PermissionToCallLambdaAbove",
        "UpdatedEmailS3Bucket",
        "UpdatedEmailS3BucketPolicy",
    }
    assert "CAPABILITY_RESOURCE_POLICY" not in (described.get("Capabilities") or [])  # SAR-only value

    stack = _execute(aws, change)
    assert stack["StackName"] == "serverlessrepo-hello"
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert re.fullmatch(r"arn:aws:lambda:us-east-1:\d{12}:function:serverlessrepo-hello-.+", outputs["HelloWorldArn"])
    tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
    assert tags == {"serverlessrepo:applicationId": APP_ID, "serverlessrepo:semanticVersion": "1.0.0", "team": "mail"}
    resources = {
        r["LogicalResourceId"]: r
        for r in aws.cfn.list_stack_resources(StackName="serverlessrepo-hello")["StackResourceSummaries"]
    }
    assert resources["UpdatedEmailS3BucketPolicy"]["ResourceType"] == "AWS::S3::BucketPolicy"
    assert aws.lam.get_function(FunctionName=outputs["HelloWorldArn"])["Configuration"]["Runtime"] == "python3.12"


def test_executing_by_name_and_stack_name_fills_the_gaps_too(aws):
    change = _change_set(aws, ChangeSetName="by-name")
    aws.cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change["ChangeSetId"])
    aws.cfn.execute_change_set(ChangeSetName="by-name", StackName="serverlessrepo-hello")
    stack = aws.cfn.describe_stacks(StackName="serverlessrepo-hello")["Stacks"][0]
    assert [o["OutputKey"] for o in stack["Outputs"]] == ["HelloWorldArn"]


def test_update_through_a_second_change_set(aws):
    first = _execute(aws, _change_set(aws))
    function_arn = first["Outputs"][0]["OutputValue"]
    before = aws.lam.get_function_configuration(FunctionName=function_arn)["Environment"]["Variables"]
    assert before["UPDATE_MESSAGE"] == "false"

    change = _change_set(aws, ParameterOverrides=[{"Name": "UpdateMessage", "Value": "true"}])
    assert change["StackId"] == first["StackId"]
    stack = _execute(aws, change, waiter="stack_update_complete")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert stack["Parameters"] == [{"ParameterKey": "UpdateMessage", "ParameterValue": "true"}]
    assert stack["Outputs"][0]["OutputValue"] == function_arn
    after = aws.lam.get_function_configuration(FunctionName=function_arn)["Environment"]["Variables"]
    assert after == {**before, "UPDATE_MESSAGE": "true"}

    again = _change_set(aws, ParameterOverrides=[{"Name": "UpdateMessage", "Value": "true"}])
    described = aws.cfn.describe_change_set(ChangeSetName=again["ChangeSetId"])
    assert described["Status"] == "FAILED"  # CloudFormation: "didn't contain changes"


def test_deleting_the_stack_keeps_the_bucket_and_removes_the_rest(aws):
    stack = _execute(aws, _change_set(aws))
    resources = {
        r["ResourceType"]: r["PhysicalResourceId"]
        for r in aws.cfn.list_stack_resources(StackName=stack["StackName"])["StackResourceSummaries"]
    }
    aws.cfn.delete_stack(StackName=stack["StackName"])
    aws.cfn.get_waiter("stack_delete_complete").wait(
        StackName=stack["StackId"], WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )
    bucket = resources["AWS::S3::Bucket"]
    assert bucket in [b["Name"] for b in aws.s3.list_buckets()["Buckets"]]  # DeletionPolicy: Retain
    with pytest.raises(aws.s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        aws.s3.get_bucket_policy(Bucket=bucket)
    assert resources["AWS::IAM::Role"] not in [r["RoleName"] for r in aws.iam.list_roles()["Roles"]]
    assert aws.lam.list_functions()["Functions"] == []


# CreateCloudFormationTemplate / GetCloudFormationTemplate + cloudformation.create_stack --------------


def test_template_route_preparing_active_then_create_stack(aws):
    created = aws.sar.create_cloud_formation_template(ApplicationId=APP_ID)
    assert_matches_output_shape(SERVICE_NAME, "CreateCloudFormationTemplate", created)
    assert created["Status"] == "PREPARING"
    creation = _dt.datetime.fromisoformat(created["CreationTime"].replace("Z", "+00:00"))
    expiration = _dt.datetime.fromisoformat(created["ExpirationTime"].replace("Z", "+00:00"))
    assert expiration - creation == _dt.timedelta(hours=1)

    with pytest.raises(aws.cfn.exceptions.ClientError, match="PREPARING"):
        aws.cfn.create_stack(
            StackName="by-url",
            TemplateURL=created["TemplateUrl"],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )

    got = aws.sar.get_cloud_formation_template(ApplicationId=APP_ID, TemplateId=created["TemplateId"])
    assert_matches_output_shape(SERVICE_NAME, "GetCloudFormationTemplate", got)
    assert got["Status"] == "ACTIVE"
    assert got["TemplateUrl"] == created["TemplateUrl"]
    assert json.loads(read_template_url(got["TemplateUrl"]))["Transform"] == "AWS::Serverless-2016-10-31"

    for capabilities, missing in (
        (["CAPABILITY_IAM"], "CAPABILITY_AUTO_EXPAND"),
        (["CAPABILITY_AUTO_EXPAND"], "CAPABILITY_IAM"),
    ):
        with pytest.raises(aws.cfn.exceptions.InsufficientCapabilitiesException) as excinfo:
            aws.cfn.create_stack(StackName="by-url", TemplateURL=got["TemplateUrl"], Capabilities=capabilities)
        assert _error(excinfo)[1] == f"Requires capabilities : [{missing}]"

    aws.cfn.create_stack(
        StackName="by-url", TemplateURL=got["TemplateUrl"], Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    )
    aws.cfn.get_waiter("stack_create_complete").wait(StackName="by-url", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    stack = aws.cfn.describe_stacks(StackName="by-url")["Stacks"][0]
    assert [o["OutputKey"] for o in stack["Outputs"]] == ["HelloWorldArn"]
    bucket = next(
        r["PhysicalResourceId"]
        for r in aws.cfn.list_stack_resources(StackName="by-url")["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::S3::Bucket"
    )
    assert json.loads(aws.s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Principal"] == {
        "Service": "workmail.us-east-1.amazonaws.com"
    }


def test_expired_template_is_refused(aws):
    created = aws.sar.create_cloud_formation_template(ApplicationId=APP_ID)
    aws.sar.get_cloud_formation_template(ApplicationId=APP_ID, TemplateId=created["TemplateId"])
    aws.state.clock.advance(minutes=61)
    got = aws.sar.get_cloud_formation_template(ApplicationId=APP_ID, TemplateId=created["TemplateId"])
    assert got["Status"] == "EXPIRED"
    with pytest.raises(aws.cfn.exceptions.ClientError) as excinfo:
        aws.cfn.create_stack(
            StackName="late",
            TemplateURL=created["TemplateUrl"],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    code, message = _error(excinfo)
    assert code == "ValidationError"
    assert "expired" in message
    with pytest.raises(aws.sar.exceptions.BadRequestException, match="expired"):
        _change_set(aws, TemplateId=created["TemplateId"])


def test_a_template_url_of_another_kind_is_refused_and_never_fetched(aws):
    url = aws.sar.get_application(ApplicationId=APP_ID)["Version"]["TemplateUrl"]
    with pytest.raises(aws.cfn.exceptions.ClientError, match="Access Denied"):
        aws.cfn.create_stack(StackName="x", TemplateURL=url, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])


def test_change_set_from_a_template_id(aws):
    created = aws.sar.create_cloud_formation_template(ApplicationId=APP_ID)
    aws.sar.get_cloud_formation_template(ApplicationId=APP_ID, TemplateId=created["TemplateId"])
    stack = _execute(aws, _change_set(aws, TemplateId=created["TemplateId"]))
    assert stack["Outputs"][0]["OutputKey"] == "HelloWorldArn"


def test_cloudformation_change_set_from_the_template_url_gets_the_gaps_filled(aws):
    created = aws.sar.create_cloud_formation_template(ApplicationId=APP_ID)
    url = aws.sar.get_cloud_formation_template(ApplicationId=APP_ID, TemplateId=created["TemplateId"])["TemplateUrl"]
    change = aws.cfn.create_change_set(
        StackName="sam-style",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateURL=url,
        Capabilities=["CAPABILITY_IAM"],
    )
    aws.cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change["Id"])
    aws.cfn.execute_change_set(ChangeSetName=change["Id"])
    stack = aws.cfn.describe_stacks(StackName="sam-style")["Stacks"][0]
    assert stack["Outputs"][0]["OutputKey"] == "HelloWorldArn"


@pytest.mark.parametrize(
    ("template_id", "code"),
    [("00000000-0000-0000-0000-000000000000", "NotFoundException"), ("not-a-uuid", "BadRequestException")],
)
def test_get_cloud_formation_template_errors(aws, template_id, code):
    with pytest.raises(aws.sar.exceptions.ClientError) as excinfo:
        aws.sar.get_cloud_formation_template(ApplicationId=APP_ID, TemplateId=template_id)
    assert _error(excinfo)[0] == code
    assert template_id in _error(excinfo)[1]
    assert_error_code_modeled(SERVICE_NAME, "GetCloudFormationTemplate", code)


def test_create_cloud_formation_template_for_an_unknown_app(aws):
    with pytest.raises(aws.sar.exceptions.NotFoundException) as excinfo:
        aws.sar.create_cloud_formation_template(
            ApplicationId="arn:aws:serverlessrepo:us-east-1:123456789012:applications/nope"
        )
    assert_error_code_modeled(SERVICE_NAME, "CreateCloudFormationTemplate", _error(excinfo)[0])


# The rest ----------------------------------------------------------------------------------------


def test_operations_not_emulated_are_a_client_error_naming_them(aws):
    with pytest.raises(aws.sar.exceptions.ClientError) as info:
        aws.sar.create_application(Author="me", Description="d", Name="n")
    error = info.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "serverlessrepo.CreateApplication" in error["Error"]["Message"]
    assert "docs/coverage.md" in error["Error"]["Message"]


def test_every_emulated_operation_is_a_botocore_operation():
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(SERVICE_NAME)
    assert model.service_id.hyphenize() == SERVICE.service_id == "serverlessapplicationrepository"
    operations = {xform_name(op) for op in model.operation_names}
    assert set(SERVICE.operations()) <= operations
    assert set(SERVICE.operations()) == {
        "list_applications",
        "get_application",
        "create_cloud_formation_change_set",
        "create_cloud_formation_template",
        "get_cloud_formation_template",
    }


def test_hooks_step_aside_when_the_sandbox_is_not_active():
    from workmail_sandbox.deploy import deploy_app

    with pytest.raises(SandboxError, match="not running"):
        deploy_app()
