"""sam.templates: reading templates and the capabilities SAR asks for, resource by resource."""

from __future__ import annotations

import pytest

from workmail_sandbox.apps import get_app
from workmail_sandbox.errors import ConfigurationError
from workmail_sandbox.sam import resource_capabilities

# resource_capabilities -------------------------------------------------------------------


def test_hello_world_resources_explain_its_required_capabilities():
    app = get_app("hello_world")
    rows = resource_capabilities(app.template_text)
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
    assert resource_capabilities(template) == [
        ("Fn", "AWS::Serverless::Function", ["CAPABILITY_IAM"]),  # the transform makes it a role
        ("Named", "AWS::IAM::Role", ["CAPABILITY_NAMED_IAM"]),
        ("Nested", "AWS::Serverless::Application", ["CAPABILITY_AUTO_EXPAND"]),
        ("Topic", "AWS::SNS::Topic", []),
    ]


def test_a_template_without_resources_is_refused():
    with pytest.raises(ConfigurationError, match="no Resources"):
        resource_capabilities({"Outputs": {}})
