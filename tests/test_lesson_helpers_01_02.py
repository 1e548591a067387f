"""lesson_helpers_01_02: the SAR template behind a TemplateUrl, capabilities per resource,
and "may WorkMail invoke this function for this organization?"."""

from __future__ import annotations

import io

import pytest

from workmail_sandbox import lesson_helpers_01_02 as helpers
from workmail_sandbox.apps import get_app
from workmail_sandbox.errors import ConfigurationError, SandboxError

HELLO_WORLD = "arn:aws:serverlessrepo:us-east-1:489970191081:applications/workmail-hello-world-python"
OTHER_ORG = "m-" + "0" * 32


def _handler(event, context):
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}


@pytest.fixture
def function_arn(workmail_sandbox):
    from workmail_sandbox.handlers import deploy_handler

    return deploy_handler(_handler, name="wm-helpers-test")["FunctionArn"]


# read_template -------------------------------------------------------------------------


def test_read_template_reads_the_emulated_sar_in_process(workmail_sandbox):
    version = workmail_sandbox.client("serverlessrepo").get_application(ApplicationId=HELLO_WORLD)["Version"]
    text = helpers.read_template(version["TemplateUrl"])
    assert "Transform: AWS::Serverless-2016-10-31" in text
    assert text == get_app("hello_world").template_text
    assert workmail_sandbox.network.attempts == []


def test_read_template_refuses_an_url_the_sandbox_did_not_give_out(workmail_sandbox, monkeypatch):
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("must not fetch in the sandbox"))
    with pytest.raises(SandboxError, match="not a template URL"):
        helpers.read_template("https://awsserverlessrepo-changesets-abcdefghijklm.s3.amazonaws.com/x/template.yaml")


def test_read_template_in_sandbox_mode_without_a_running_sandbox_is_a_clear_error():
    from workmail_sandbox import sandbox

    sandbox.stop()
    with pytest.raises(SandboxError, match="not running"):
        helpers.read_template("https://example.com/template.yaml")


def test_read_template_fetches_over_https_in_aws_mode(monkeypatch):
    import urllib.request

    from workmail_sandbox.emulators import _core

    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    monkeypatch.setattr(_core.STATE, "active", False)
    monkeypatch.setattr(_core.STATE, "ever_started", False)
    seen = {}

    def fake_urlopen(url, timeout):
        seen.update(url=url, timeout=timeout)
        return io.BytesIO(b"Resources: {}\n")

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    url = "https://awsserverlessrepo-changesets-abcdefghijklm.s3.amazonaws.com/x/template.yaml?X-Amz-Signature=1"
    assert helpers.read_template(url, timeout=5) == "Resources: {}\n"
    assert seen == {"url": url, "timeout": 5}


def test_read_template_in_aws_mode_takes_only_https(monkeypatch):
    from workmail_sandbox.emulators import _core

    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    monkeypatch.setattr(_core.STATE, "active", False)
    monkeypatch.setattr(_core.STATE, "ever_started", False)
    with pytest.raises(ConfigurationError, match="not an https://"):
        helpers.read_template("file:///etc/passwd")


def test_read_template_needs_a_string():
    with pytest.raises(ConfigurationError, match="TemplateUrl"):
        helpers.read_template(None)  # type: ignore[arg-type]


# resource_capabilities -------------------------------------------------------------------


def test_hello_world_resources_explain_its_required_capabilities():
    app = get_app("hello_world")
    rows = helpers.resource_capabilities(app.template_text)
    by_id = {logical_id: (kind, needs) for logical_id, kind, needs in rows}
    assert by_id["WorkMailHelloWorldFunctionRole"] == ("AWS::IAM::Role", ["CAPABILITY_IAM"])
    assert by_id["PermissionToCallLambdaAbove"] == ("AWS::Lambda::Permission", ["CAPABILITY_RESOURCE_POLICY"])
    assert by_id["UpdatedEmailS3BucketPolicy"] == ("AWS::S3::BucketPolicy", ["CAPABILITY_RESOURCE_POLICY"])
    assert by_id["WorkMailHelloWorldFunction"] == ("AWS::Serverless::Function", [])  # it names its Role
    assert by_id["UpdatedEmailS3Bucket"] == ("AWS::S3::Bucket", [])
    union = {c for _, _, needs in rows for c in needs}
    assert sorted(union) == sorted(app.metadata["RequiredCapabilities"])


def test_rows_keep_template_order_and_accept_a_parsed_dict():
    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.h"}},
            "Named": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "fixed"}},
            "Nested": {"Type": "AWS::Serverless::Application", "Properties": {}},
            "Topic": {"Type": "AWS::SNS::Topic"},
        }
    }
    assert helpers.resource_capabilities(template) == [
        ("Fn", "AWS::Serverless::Function", ["CAPABILITY_IAM"]),  # the transform makes it a role
        ("Named", "AWS::IAM::Role", ["CAPABILITY_NAMED_IAM"]),
        ("Nested", "AWS::Serverless::Application", ["CAPABILITY_AUTO_EXPAND"]),
        ("Topic", "AWS::SNS::Topic", []),
    ]


def test_a_template_without_resources_is_refused():
    with pytest.raises(ConfigurationError, match="no Resources"):
        helpers.resource_capabilities({"Outputs": {}})


# workmail_may_invoke -----------------------------------------------------------------------


def test_refused_without_a_policy_then_allowed_for_one_organization_only(workmail_sandbox, workmail_org, function_arn):
    sb = workmail_sandbox
    check = helpers.workmail_may_invoke(function_arn, workmail_org.arn)
    assert not check.allowed and "no resource-based policy" in check.reason
    assert str(check).startswith("refused: ")

    from workmail_sandbox.lessons import grant_workmail

    grant_workmail(sb, "wm-helpers-test", workmail_org.arn)
    check = helpers.workmail_may_invoke(function_arn, workmail_org.arn)
    assert check.allowed and str(check).startswith("allowed: ")

    other = workmail_org.arn.replace(workmail_org.organization_id, OTHER_ORG)
    check = helpers.workmail_may_invoke(function_arn, other)
    assert not check.allowed and "does not match" in check.reason


def test_same_region_and_same_account_come_from_the_organization_arn(workmail_sandbox, workmail_org, function_arn):
    from workmail_sandbox.lessons import grant_workmail

    grant_workmail(workmail_sandbox, "wm-helpers-test", workmail_org.arn)
    elsewhere = workmail_org.arn.replace(":us-east-1:", ":eu-west-1:")
    check = helpers.workmail_may_invoke(function_arn, elsewhere)
    assert not check.allowed and "in us-east-1 but the organization is in eu-west-1" in check.reason
    other_account = workmail_org.arn.replace(":123456789012:", ":210987654321:")
    check = helpers.workmail_may_invoke(function_arn, other_account)
    assert not check.allowed and "organization is in account 210987654321" in check.reason


def test_a_region_without_workmail_is_a_clear_error(workmail_sandbox, function_arn):
    with pytest.raises(ConfigurationError, match="not offered in region"):
        helpers.workmail_may_invoke(function_arn, f"arn:aws:workmail:ap-south-1:123456789012:organization/{OTHER_ORG}")


@pytest.mark.parametrize("bad", ["", "m-123", "arn:aws:lambda:us-east-1:123456789012:function:x", None])
def test_anything_but_an_organization_arn_is_refused(bad):
    with pytest.raises(ConfigurationError, match="not a WorkMail organization ARN"):
        helpers.workmail_may_invoke("arn:aws:lambda:us-east-1:123456789012:function:x", bad)  # type: ignore[arg-type]


def test_without_a_sandbox_it_says_so():
    from workmail_sandbox import sandbox

    sandbox.stop()
    with pytest.raises(SandboxError, match="not running"):
        helpers.workmail_may_invoke(
            "arn:aws:lambda:us-east-1:123456789012:function:x",
            f"arn:aws:workmail:us-east-1:123456789012:organization/{OTHER_ORG}",
        )
