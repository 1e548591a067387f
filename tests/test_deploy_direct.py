"""install_app (the lessons' fast path) creates what deploy_app's stack creates, without CloudFormation."""

from __future__ import annotations

import json

import pytest

from workmail_sandbox import sandbox as sbx
from workmail_sandbox.deploy import deploy_app, install_app
from workmail_sandbox.errors import SandboxError


@pytest.fixture
def sb():
    sbx.stop()
    yield sbx.start()
    sbx.stop()


def _state(sb, summary):
    """Everything a learner can read about the app's resources, with the generated names blanked."""
    lam, iam, s3 = sb.client("lambda"), sb.client("iam"), sb.client("s3")
    names = {summary["FunctionName"]: "<function>", summary["RoleName"]: "<role>", summary["BucketName"]: "<bucket>"}

    def blank(value):
        text = json.dumps(value, sort_keys=True, default=str)
        for name, placeholder in names.items():
            text = text.replace(name, placeholder)
        return json.loads(text)

    config = lam.get_function_configuration(FunctionName=summary["FunctionName"])
    for volatile in ("ResponseMetadata", "LastModified", "RevisionId"):
        config.pop(volatile, None)
    statements = json.loads(lam.get_policy(FunctionName=summary["FunctionName"])["Policy"])["Statement"]
    for statement in statements:
        statement.pop("Sid")  # random from CloudFormation, the logical id here
        statement.pop("FunctionName", None)  # moto adds it to statements CloudFormation makes
    role = iam.get_role(RoleName=summary["RoleName"])["Role"]
    inline = {
        name: iam.get_role_policy(RoleName=summary["RoleName"], PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=summary["RoleName"])["PolicyNames"]
    }
    bucket = summary["BucketName"]
    return blank(
        {
            "function": config,
            "resource policy": statements,
            "trust": role["AssumeRolePolicyDocument"],
            "managed": sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=summary["RoleName"])["AttachedPolicies"]),
            "inline": inline,
            "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
            "public access": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
            "versioning": s3.get_bucket_versioning(Bucket=bucket)["Status"],
            "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
            "bucket policy": json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
            "outputs": summary["Outputs"],
        }
    )


def test_install_app_matches_the_deployed_stack_resource_by_resource(sb):
    deployed = _state(sb, deploy_app("hello_world"))
    sb.reset()
    installed_summary = install_app("hello_world")
    installed = _state(sb, installed_summary)
    assert installed == deployed
    assert installed_summary["StackId"] is None and installed_summary["StackName"] == "serverlessrepo-workmail-hello-world"


def test_generated_names_fit_the_service_limits(sb):
    summary = install_app("hello_world")
    assert len(summary["FunctionName"]) <= 64 and len(summary["RoleName"]) <= 64
    assert len(summary["BucketName"]) <= 63 and summary["BucketName"] == summary["BucketName"].lower()


def test_parameters_are_passed_and_unknown_ones_refused(sb):
    summary = install_app("hello_world", parameters={"UpdateMessage": "true"})
    variables = sb.client("lambda").get_function_configuration(FunctionName=summary["FunctionName"])["Environment"]
    assert variables["Variables"]["UPDATE_MESSAGE"] == "true"
    with pytest.raises(SandboxError, match="no parameter Colour") as error:
        install_app("hello_world", stack_name="other", parameters={"Colour": "blue"})
    assert "UpdateMessage" in error.value.fix


def test_resource_types_it_cannot_create_are_refused_with_the_alternative(sb, monkeypatch):
    from workmail_sandbox.apps import App

    original = App.template

    def with_a_queue(self):
        template = original(self)
        template["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue"}
        return template

    monkeypatch.setattr(App, "template", with_a_queue)
    with pytest.raises(SandboxError, match="cannot create AWS::SQS::Queue") as error:
        install_app("hello_world")
    assert "deploy_app" in error.value.fix


def test_install_app_needs_the_sandbox():
    sbx.stop()
    with pytest.raises(SandboxError, match="sandbox is not running"):
        install_app("hello_world")
