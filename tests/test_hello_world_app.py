"""The kit's hello-world app: catalog entry, template, handler code and the deployed stack.

Facts checked: docs/aws-behaviour.md §5.2 (the template), §5.3 (what the
handler does), §5.5 (capabilities), §2.2 (the Lambda permission) and §3.3 (the
bucket policy). The handler is unit-tested with botocore's Stubber; running it through
the local runtime is tested with the runtime.
"""

from __future__ import annotations

import email
import email.policy
import importlib.util
import io
import json
import logging
import re
import uuid
import zipfile

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from workmail_sandbox.apps import App, catalog, get_app, load_template, required_capabilities_of
from workmail_sandbox.deploy import deploy_app
from workmail_sandbox.emulators._core import install_hooks, register
from workmail_sandbox.emulators.serverlessrepo import SERVICE
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.sam import transform_template

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS.+BucketPolicy but it.s not supported:UserWarning")

APP_ID = "arn:aws:serverlessrepo:us-east-1:489970191081:applications/workmail-hello-world-python"


@pytest.fixture(scope="module")
def app() -> App:
    return catalog()["hello_world"]


@pytest.fixture(scope="module")
def template(app) -> dict:
    return app.template()


# Catalog ---------------------------------------------------------------------------------


def test_catalog_lists_hello_world_with_its_sar_identity(app):
    assert app.name == "workmail-hello-world-python"
    assert app.application_id == APP_ID  # the real public ARN (aws-behaviour §5.1)
    assert re.fullmatch(r"\d+\.\d+\.\d+", app.version)
    assert get_app("hello_world") is app and get_app(APP_ID) is app and get_app(app.name) is app
    assert app.template_text.startswith("AWSTemplateFormatVersion")
    assert (app.code_dir / "app.py").is_file()
    for key in (
        "Name",
        "Author",
        "Description",
        "SemanticVersion",
        "SpdxLicenseId",
        "HomePageUrl",
        "Labels",
        "CreationTime",
    ):
        assert app.metadata[key], key
    assert app.metadata["HomePageUrl"] == "https://github.com/aws-samples/amazon-workmail-lambda-templates"


def test_unknown_app_names_the_catalog():
    with pytest.raises(SandboxError, match="hello_world"):
        get_app("no-such-app")


def test_metadata_capabilities_and_parameters_are_what_sar_derives_from_the_template(app):
    assert (
        app.metadata["RequiredCapabilities"]
        == app.required_capabilities()
        == [
            "CAPABILITY_IAM",
            "CAPABILITY_RESOURCE_POLICY",
        ]
    )
    assert app.metadata["ParameterDefinitions"] == app.parameter_definitions()


def test_code_zip_is_deterministic_and_holds_only_the_source(app):
    first, second = app.code_zip(), app.code_zip()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.namelist() == ["app.py"]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.read("app.py") == (app.code_dir / "app.py").read_bytes()


# Template (aws-behaviour §5.2) ----------------------------------------------------------


def test_template_function(template):
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    function = template["Resources"]["WorkMailHelloWorldFunction"]
    assert function["Type"] == "AWS::Serverless::Function"
    properties = function["Properties"]
    assert properties["Runtime"] == "python3.12"
    assert properties["Handler"] == "app.lambda_handler"
    assert properties["CodeUri"] == "src/"
    assert properties["Timeout"] == 10
    assert properties["Role"] == {"Fn::GetAtt": ["WorkMailHelloWorldFunctionRole", "Arn"]}
    assert properties["Environment"]["Variables"] == {
        "UPDATED_EMAIL_S3_BUCKET": {"Ref": "UpdatedEmailS3Bucket"},
        "UPDATE_MESSAGE": {"Ref": "UpdateMessage"},
    }
    assert "Layers" not in properties  # boto3 comes from the runtime
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::LayerVersion"]
    parameter = template["Parameters"]["UpdateMessage"]
    assert parameter["Default"] == "false" and parameter["AllowedValues"] == ["true", "false"]
    assert template["Outputs"]["HelloWorldArn"]["Value"] == {"Fn::GetAtt": ["WorkMailHelloWorldFunction", "Arn"]}


def test_template_role(template):
    role = template["Resources"]["WorkMailHelloWorldFunctionRole"]
    assert role["Type"] == "AWS::IAM::Role"
    properties = role["Properties"]
    [trust] = properties["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    managed = [arn["Fn::Sub"] for arn in properties["ManagedPolicyArns"]]
    assert managed == [
        "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:${AWS::Partition}:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess",
    ]
    [inline] = properties["Policies"]
    [statement] = inline["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == {"Fn::Sub": "${UpdatedEmailS3Bucket.Arn}/*"}
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "true"}}


def test_template_permission_bucket_and_bucket_policy(template):
    resources = template["Resources"]
    permission = resources["PermissionToCallLambdaAbove"]["Properties"]
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == {"Fn::Sub": "workmail.${AWS::Region}.amazonaws.com"}
    assert permission["SourceArn"] == {"Fn::Sub": "arn:aws:workmail:${AWS::Region}:${AWS::AccountId}:organization/*"}

    bucket = resources["UpdatedEmailS3Bucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    properties = bucket["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert (
        all(properties["PublicAccessBlockConfiguration"].values())
        and len(properties["PublicAccessBlockConfiguration"]) == 4
    )
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = properties["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 1 and rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}

    policy = resources["UpdatedEmailS3BucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "UpdatedEmailS3Bucket"}
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": {"Fn::Sub": "workmail.${AWS::Region}.amazonaws.com"}}
    assert statement["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statement["Condition"]["Bool"] == {"aws:SecureTransport": "true"}
    assert statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": {"Fn::Sub": "arn:aws:workmailmessageflow:${AWS::Region}:${AWS::AccountId}:message/*"}
    }


# Capabilities and the transform ----------------------------------------------------------------


def _resources(**kinds):
    return {"Resources": {name: {"Type": kind, "Properties": props} for name, (kind, props) in kinds.items()}}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (_resources(R=("AWS::IAM::Role", {})), ["CAPABILITY_IAM"]),
        (_resources(R=("AWS::IAM::Role", {"RoleName": "fixed"})), ["CAPABILITY_NAMED_IAM"]),
        (_resources(P=("AWS::IAM::Policy", {"PolicyName": "p"})), ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]),
        (_resources(G=("AWS::IAM::Group", {}), I=("AWS::IAM::InstanceProfile", {})), ["CAPABILITY_IAM"]),
        (_resources(Q=("AWS::SQS::QueuePolicy", {}), T=("AWS::SNS::TopicPolicy", {})), ["CAPABILITY_RESOURCE_POLICY"]),
        (_resources(S=("AWS::ApplicationAutoScaling::ScalingPolicy", {})), ["CAPABILITY_RESOURCE_POLICY"]),
        (_resources(A=("AWS::Serverless::Application", {})), ["CAPABILITY_AUTO_EXPAND"]),
        (_resources(B=("AWS::S3::Bucket", {})), []),
    ],
)
def test_required_capabilities_follow_sars_list(template, expected):
    assert required_capabilities_of(template) == expected


def test_a_function_with_policies_gets_a_role_from_the_transform_and_so_needs_iam():
    sam = load_template(
        """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies: [AWSLambdaBasicExecutionRole]
"""
    )
    assert required_capabilities_of(sam) == []
    out = transform_template(
        sam, region="us-east-1", account="123456789012", code_locations={"Fn": {"Bucket": "b", "Key": "k.zip"}}
    )
    assert required_capabilities_of(out) == ["CAPABILITY_IAM"]
    assert out["Resources"]["Fn"]["Properties"]["Code"] == {"S3Bucket": "b", "S3Key": "k.zip"}
    role = out["Resources"]["FnRole"]["Properties"]
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in role["ManagedPolicyArns"]


def test_transform_needs_the_code_in_s3(template):
    with pytest.raises(SandboxError, match="WorkMailHelloWorldFunction"):
        transform_template(template, region="us-east-1", account="123456789012")
    with pytest.raises(SandboxError, match="NotAFunction"):
        transform_template(
            template,
            region="us-east-1",
            account="123456789012",
            code_locations={"NotAFunction": {"Bucket": "b", "Key": "k"}},
        )


def test_transform_of_the_hello_world_template(template):
    out = transform_template(
        template,
        region="eu-west-1",
        account="111122223333",
        code_locations={"WorkMailHelloWorldFunction": {"Bucket": "b", "Key": "k.zip"}},
    )
    assert "Transform" not in out
    function = out["Resources"]["WorkMailHelloWorldFunction"]
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["Code"] == {"S3Bucket": "b", "S3Key": "k.zip"}
    assert {r["Type"] for r in out["Resources"].values()} == {
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::Lambda::Permission",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
    }
    assert template["Resources"]["WorkMailHelloWorldFunction"]["Properties"]["CodeUri"] == "src/"  # input untouched


# The handler (aws-behaviour §5.3), with botocore's Stubber -----------------------------------------

RAW = (
    b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: =?utf-8?q?Caf=C3=A9_order?=\r\n"
    b"Message-ID: <1@example.com>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nTwo coffees, please.\r\n"
)
MESSAGE_ID = "4ed8a8d6-3d2b-4c53-9e6f-2a1b3c4d5e6f"
EVENT = {
    "summaryVersion": "2019-07-28",
    "envelope": {"mailFrom": {"address": "alice@example.com"}, "recipients": [{"address": "bob@example.org"}]},
    "sender": None,
    "subject": "Café order",
    "messageId": MESSAGE_ID,
    "invocationId": "0" * 32,
    "flowDirection": "INBOUND",
    "truncated": False,
}
DEFAULT_ALL = {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}


class Capture:
    """Matches anything in a Stubber's expected params and keeps what it matched."""

    value = None

    def __eq__(self, other):
        self.value = other
        return True


@pytest.fixture
def handler(app, monkeypatch):
    """The app's src/app.py imported from its path, its two clients stubbed."""
    monkeypatch.setenv("UPDATED_EMAIL_S3_BUCKET", "updated-emails")
    monkeypatch.delenv("UPDATE_MESSAGE", raising=False)
    spec = importlib.util.spec_from_file_location(f"hello_world_app_{uuid.uuid4().hex}", app.code_dir / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.workmail_message_flow.meta.service_model.service_name == "workmailmessageflow"
    assert module.workmail_message_flow.meta.region_name == "us-east-1"  # from the environment, no region argument
    flow, s3 = Stubber(module.workmail_message_flow), Stubber(module.s3)
    with flow, s3:
        module.flow_stub, module.s3_stub = flow, s3
        yield module
        flow.assert_no_pending_responses()
        s3.assert_no_pending_responses()


def _raw_response(raw=RAW):
    return {"messageContent": StreamingBody(io.BytesIO(raw), len(raw))}


def test_handler_stores_a_tagged_copy_and_leaves_the_message_alone_by_default(handler, caplog):
    body, key = Capture(), Capture()
    handler.flow_stub.add_response("get_raw_message_content", _raw_response(), {"messageId": MESSAGE_ID})
    handler.s3_stub.add_response("put_object", {}, {"Bucket": "updated-emails", "Key": key, "Body": body})
    with caplog.at_level(logging.INFO, logger="hello_world"):
        assert handler.lambda_handler(EVENT, None) == DEFAULT_ALL
    assert re.fullmatch(r"[a-zA-Z0-9\-/]+", key.value)  # Message Flow's key pattern: a UUID fits
    uuid.UUID(key.value)
    stored = email.message_from_bytes(body.value, policy=email.policy.default)
    assert stored["Subject"] == "[Hello World!] Café order"
    assert stored["Message-ID"] == "<1@example.com>"
    assert stored.get_content().strip() == "Two coffees, please."
    logged = caplog.text
    for part in (MESSAGE_ID, "INBOUND", "alice@example.com", "Café order", "unchanged"):
        assert part in logged


def test_handler_replaces_the_message_when_update_message_is_true(handler, monkeypatch):
    monkeypatch.setenv("UPDATE_MESSAGE", "true")
    key = Capture()
    handler.flow_stub.add_response("get_raw_message_content", _raw_response(), {"messageId": MESSAGE_ID})
    handler.s3_stub.add_response("put_object", {}, {"Bucket": "updated-emails", "Key": key, "Body": ANY})
    reference = Capture()
    handler.flow_stub.add_response(
        "put_raw_message_content", {}, {"messageId": MESSAGE_ID, "content": {"s3Reference": reference}}
    )
    assert handler.lambda_handler(EVENT, None) == DEFAULT_ALL
    assert reference.value == {"bucket": "updated-emails", "key": key.value}


def test_handler_carries_on_when_the_message_is_frozen(handler, monkeypatch, caplog):
    monkeypatch.setenv("UPDATE_MESSAGE", "true")
    handler.flow_stub.add_response("get_raw_message_content", _raw_response(), {"messageId": MESSAGE_ID})
    handler.s3_stub.add_response("put_object", {}, {"Bucket": "updated-emails", "Key": ANY, "Body": ANY})
    handler.flow_stub.add_client_error(
        "put_raw_message_content", service_error_code="MessageFrozen", service_message="frozen"
    )
    with caplog.at_level(logging.INFO, logger="hello_world"):
        assert handler.lambda_handler(EVENT, None) == DEFAULT_ALL
    assert "frozen" in caplog.text


def test_handler_reraises_when_the_message_is_gone(handler, caplog):
    handler.flow_stub.add_client_error(
        "get_raw_message_content",
        service_error_code="ResourceNotFoundException",
        service_message="gone",
        http_status_code=404,
    )
    with (
        caplog.at_level(logging.INFO, logger="hello_world"),
        pytest.raises(handler.workmail_message_flow.exceptions.ResourceNotFoundException),
    ):
        handler.lambda_handler(EVENT, None)
    assert "no longer accessible after 1 day" in caplog.text


def test_handler_reraises_an_invalid_content_location(handler, monkeypatch, caplog):
    monkeypatch.setenv("UPDATE_MESSAGE", "true")
    handler.flow_stub.add_response("get_raw_message_content", _raw_response(), {"messageId": MESSAGE_ID})
    handler.s3_stub.add_response("put_object", {}, {"Bucket": "updated-emails", "Key": ANY, "Body": ANY})
    handler.flow_stub.add_client_error(
        "put_raw_message_content", service_error_code="InvalidContentLocation", service_message="no"
    )
    with (
        caplog.at_level(logging.INFO, logger="hello_world"),
        pytest.raises(handler.workmail_message_flow.exceptions.InvalidContentLocation),
    ):
        handler.lambda_handler(EVENT, None)
    assert "bucket" in caplog.text


def test_handler_tags_a_message_without_subject(handler):
    body = Capture()
    raw = b"From: a@example.com\r\nTo: b@example.org\r\n\r\nhi\r\n"
    handler.flow_stub.add_response("get_raw_message_content", _raw_response(raw), {"messageId": MESSAGE_ID})
    handler.s3_stub.add_response("put_object", {}, {"Bucket": "updated-emails", "Key": ANY, "Body": body})
    handler.lambda_handler({**EVENT, "subject": ""}, None)
    assert email.message_from_bytes(body.value, policy=email.policy.default)["Subject"] == "[Hello World!]"


# The deployed app (SAR route through moto) ---------------------------------------------------


@pytest.fixture(scope="module")
def deployed_once():
    """One deployment shared by the read-only checks below (moto started once for them)."""
    from moto import mock_aws

    from workmail_sandbox.emulators import _core

    register(SERVICE)
    install_hooks([SERVICE.service_id])
    with mock_aws(config={"lambda": {"use_docker": False}, "iam": {"load_aws_managed_policies": True}}):
        _core.STATE.active = True
        try:
            boto3.setup_default_session()
            yield deploy_app()
        finally:
            _core.STATE.active = False
            SERVICE.reset()


@pytest.fixture
def deployed(deployed_once):
    return deployed_once


@pytest.fixture
def deployed_fresh(emulators_active):
    register(SERVICE)
    install_hooks([SERVICE.service_id])
    boto3.setup_default_session()
    return deploy_app()


def test_deploy_app_returns_the_stack_and_its_resources(deployed):
    assert deployed["StackName"] == "serverlessrepo-workmail-hello-world"
    assert deployed["StackStatus"] == "CREATE_COMPLETE"
    assert deployed["ApplicationId"] == APP_ID
    assert deployed["Outputs"]["HelloWorldArn"] == deployed["FunctionArn"]
    assert deployed["FunctionArn"].endswith(":function:" + deployed["FunctionName"])
    assert deployed["RoleArn"].endswith(":role/" + deployed["RoleName"])
    assert deployed["BucketName"].startswith(
        "serverlessrepo-workmail-hello"
    )  # CloudFormation-made: stack name cut to fit 63
    assert "updatedemails3bucket" in deployed["BucketName"]


def test_deployed_function(deployed):
    lam = boto3.client("lambda", region_name="us-east-1")
    configuration = lam.get_function(FunctionName=deployed["FunctionName"])["Configuration"]
    assert configuration["Runtime"] == "python3.12"
    assert configuration["Handler"] == "app.lambda_handler"
    assert configuration["Timeout"] == 10
    assert configuration["Role"] == deployed["RoleArn"]
    assert configuration["Environment"]["Variables"] == {
        "UPDATED_EMAIL_S3_BUCKET": deployed["BucketName"],
        "UPDATE_MESSAGE": "false",
    }
    from moto.awslambda.utils import get_backend

    code = (
        get_backend(deployed["FunctionArn"].split(":")[4], "us-east-1")
        .get_function(deployed["FunctionName"], None)
        .code_bytes
    )
    assert code == get_app("hello_world").code_zip()


def test_deployed_permission_lets_workmail_invoke(deployed):
    lam = boto3.client("lambda", region_name="us-east-1")
    policy = json.loads(
        lam.get_policy(FunctionName=deployed["FunctionName"])["Policy"]
    )  # compare parsed (docs/moto.md §1)
    [statement] = policy["Statement"]
    account = deployed["FunctionArn"].split(":")[4]
    assert statement["Principal"] == {"Service": "workmail.us-east-1.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Effect"] == "Allow"
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:workmail:us-east-1:{account}:organization/*"


def test_deployed_role(deployed):
    iam = boto3.client("iam", region_name="us-east-1")
    attached = {
        p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=deployed["RoleName"])["AttachedPolicies"]
    }
    assert attached == {"AWSLambdaBasicExecutionRole", "AmazonWorkMailMessageFlowFullAccess"}
    [name] = iam.list_role_policies(RoleName=deployed["RoleName"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=deployed["RoleName"], PolicyName=name)["PolicyDocument"]
    assert document["Statement"][0]["Resource"] == f"arn:aws:s3:::{deployed['BucketName']}/*"
    trust = iam.get_role(RoleName=deployed["RoleName"])["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_deployed_bucket(deployed):
    s3 = boto3.client("s3", region_name="us-east-1")
    bucket = deployed["BucketName"]
    account = deployed["FunctionArn"].split(":")[4]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "workmail.us-east-1.amazonaws.com"}
    assert statement["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statement["Resource"] == f"arn:aws:s3:::{bucket}/*"
    assert statement["Condition"] == {
        "Bool": {"aws:SecureTransport": "true"},
        "ArnLike": {"aws:SourceArn": f"arn:aws:workmailmessageflow:us-east-1:{account}:message/*"},
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["Expiration"] == {"Days": 1}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    [encryption] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


def test_deploy_app_again_updates_or_leaves_the_stack(deployed_fresh):
    deployed = deployed_fresh
    same = deploy_app()
    assert same["StackId"] == deployed["StackId"] and same["StackStatus"] == "CREATE_COMPLETE"
    updated = deploy_app(parameters={"UpdateMessage": "true"})
    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    assert updated["FunctionName"] == deployed["FunctionName"]
    lam = boto3.client("lambda", region_name="us-east-1")
    variables = lam.get_function_configuration(FunctionName=deployed["FunctionName"])["Environment"]["Variables"]
    assert variables["UPDATE_MESSAGE"] == "true"


def test_managed_policies_are_created_when_moto_did_not_load_them():
    """Without moto's load_aws_managed_policies, the deployer adds the two policies the role needs."""
    from moto import mock_aws

    from workmail_sandbox.emulators import _core

    register(SERVICE)
    install_hooks([SERVICE.service_id])
    with mock_aws(config={"lambda": {"use_docker": False}, "iam": {"load_aws_managed_policies": False}}):
        _core.STATE.active = True
        try:
            boto3.setup_default_session()
            deployed = deploy_app(stack_name="no-preloaded-policies")
            iam = boto3.client("iam", region_name="us-east-1")
            attached = {
                p["PolicyArn"]
                for p in iam.list_attached_role_policies(RoleName=deployed["RoleName"])["AttachedPolicies"]
            }
            assert attached == {
                "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess",
            }
            document = iam.get_policy_version(
                PolicyArn="arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess", VersionId="v1"
            )["PolicyVersion"]["Document"]
            assert document["Statement"][0]["Action"] in ("workmailmessageflow:*", ["workmailmessageflow:*"])
        finally:
            _core.STATE.active = False
            SERVICE.reset()


def test_generated_function_name_fits_lambdas_64_characters(emulators_active):
    """Lambda names are at most 64 characters; CloudFormation shortens the names it generates."""
    from workmail_sandbox.sam.packaging import MAX_FUNCTION_NAME, cap_function_names

    template = {"Resources": {"WorkMailHelloWorldFunction": {"Type": "AWS::Lambda::Function", "Properties": {}}}}
    cap_function_names(template, "serverlessrepo-workmail-hello-world")
    name = template["Resources"]["WorkMailHelloWorldFunction"]["Properties"]["FunctionName"]
    assert len(name) <= MAX_FUNCTION_NAME and name.startswith("serverlessrepo-workmail-h")
    again = {"Resources": {"WorkMailHelloWorldFunction": {"Type": "AWS::Lambda::Function", "Properties": {}}}}
    cap_function_names(again, "serverlessrepo-workmail-hello-world", previous=template)
    assert again["Resources"]["WorkMailHelloWorldFunction"]["Properties"]["FunctionName"] == name
