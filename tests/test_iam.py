"""The IAM policy evaluator: the three policies a Run Lambda set-up depends on."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workmail_sandbox.errors import ConfigurationError, WorkMailSandboxError
from workmail_sandbox.iam import (
    MESSAGE_FLOW_FULL_ACCESS_POLICY,
    MESSAGE_FLOW_FULL_ACCESS_POLICY_ARN,
    MESSAGE_FLOW_READ_ONLY_POLICY,
    MESSAGE_FLOW_READ_ONLY_POLICY_ARN,
    Decision,
    Policy,
    PolicyError,
    Principal,
    Request,
    evaluate,
    parse_policy,
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "999999999999"
ORG = "m-0123456789abcdef0123456789abcdef"
OTHER_ORG = "m-fedcba9876543210fedcba9876543210"
ORG_ARN = f"arn:aws:workmail:us-east-1:{ACCOUNT}:organization/{ORG}"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:wm-rule"
WORKMAIL = Principal("Service", "workmail.us-east-1.amazonaws.com")
BUCKET = "wm-updated-email"
OBJECT_ARN = f"arn:aws:s3:::{BUCKET}/4f6c0a9e-updated.eml"
MESSAGE_ID = "d1234567-8e90-1f23-4567-abcdef012345"
MESSAGE_ARN = f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:message/{ORG}/incoming/{MESSAGE_ID}"
OTHER_ORG_MESSAGE_ARN = f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:message/{OTHER_ORG}/incoming/{MESSAGE_ID}"

# Exactly what moto 5.2.5 returns from lambda get_policy()["Policy"] after
# add_permission(..., SourceArn=ORG_ARN, SourceAccount=ACCOUNT).
MOTO_LAMBDA_POLICY = (
    '{"Version": "2012-10-17", "Id": "default", "Statement": [{"Action": "lambda:InvokeFunction", '
    '"Principal": {"Service": "workmail.us-east-1.amazonaws.com"}, "Effect": "Allow", '
    '"Resource": "arn:aws:lambda:us-east-1:123456789012:function:wm-rule", "Sid": "workmail-invoke", '
    '"Condition": {"ArnLike": {"AWS:SourceArn": '
    '"arn:aws:workmail:us-east-1:123456789012:organization/m-0123456789abcdef0123456789abcdef"}, '
    '"StringEquals": {"AWS:SourceAccount": "123456789012"}}}]}'
)

# The SAM template's AWS::Lambda::Permission, as moto stores it after CloudFormation
# (note moto's extra "FunctionName" key inside the statement).
SAM_LAMBDA_POLICY = {
    "Version": "2012-10-17",
    "Id": "default",
    "Statement": [
        {
            "FunctionName": "wm-rule",
            "Action": "lambda:InvokeFunction",
            "Principal": {"Service": "workmail.us-east-1.amazonaws.com"},
            "Effect": "Allow",
            "Resource": FUNCTION_ARN,
            "Sid": "6879759d-2a1e-4105-98cc-0fccf5fd3d6a",
            "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:workmail:us-east-1:{ACCOUNT}:organization/*"}},
        }
    ],
}

# workmail-hello-world-python template.yaml, UpdatedEmailS3BucketPolicy.
HELLO_WORLD_BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "workmail.us-east-1.amazonaws.com"},
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {
                "Bool": {"aws:SecureTransport": "true"},
                "ArnLike": {"aws:SourceArn": f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:message/*"},
            },
        }
    ],
}

# The AWS docs' bucket policy (update-with-lambda.md): adds SourceAccount and one org.
DOCS_BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "workmail.us-east-1.amazonaws.com"},
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "Bool": {"aws:SecureTransport": "true"},
                "ArnLike": {"aws:SourceArn": f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:message/{ORG}/*"},
            },
        }
    ],
}


def invoke(context, *, principal=WORKMAIL, action="lambda:InvokeFunction", resource=FUNCTION_ARN):
    return Request(action, resource, principal=principal, context=context)


def get_object(context, *, action="s3:GetObject", resource=OBJECT_ARN):
    return Request(action, resource, principal=WORKMAIL, context=context)


def right_invoke_context():
    return {"aws:SourceArn": ORG_ARN, "aws:SourceAccount": ACCOUNT}


def s3_context(secure=True, source_arn=MESSAGE_ARN, account=ACCOUNT):
    return {"aws:SourceArn": source_arn, "aws:SourceAccount": account, "aws:SecureTransport": secure}


# ----------------------------------------------------------------------------------------
# 1. The function's resource policy, exactly as moto returns it
# ----------------------------------------------------------------------------------------


class TestLambdaPolicyFromMoto:
    def test_allows_workmail_from_the_right_organization(self):
        d = evaluate([MOTO_LAMBDA_POLICY], invoke(right_invoke_context()), kind="resource")
        assert isinstance(d, Decision)
        assert d.allowed and not d.explicit_deny
        assert d.matched == ("workmail-invoke",)
        assert "workmail-invoke" in d.reason

    def test_condition_keys_ignore_case_in_the_request(self):
        ctx = {"AWS:SOURCEARN": ORG_ARN, "aws:sourceaccount": ACCOUNT}
        assert evaluate([MOTO_LAMBDA_POLICY], invoke(ctx), kind="resource").allowed

    def test_another_organization_is_denied_naming_arnlike(self):
        ctx = {"aws:SourceArn": ORG_ARN.replace(ORG, OTHER_ORG), "aws:SourceAccount": ACCOUNT}
        d = evaluate([MOTO_LAMBDA_POLICY], invoke(ctx), kind="resource")
        assert not d.allowed and not d.explicit_deny and d.matched == ()
        assert "ArnLike" in d.reason and "sourcearn" in d.reason.lower()
        assert OTHER_ORG in d.reason and ORG in d.reason
        assert "statement 'workmail-invoke' matches but its condition ArnLike" in d.reason
        assert "StringEquals" not in d.reason  # the account condition held
        (miss,) = d.near_misses
        assert miss.failed == "condition" and len(miss.failed_conditions) == 1

    def test_another_account_fails_both_conditions(self):
        ctx = {"aws:SourceArn": ORG_ARN.replace(ACCOUNT, OTHER_ACCOUNT), "aws:SourceAccount": OTHER_ACCOUNT}
        d = evaluate([MOTO_LAMBDA_POLICY], invoke(ctx), kind="resource")
        assert not d.allowed
        assert "ArnLike" in d.reason and "SourceArn" in d.reason
        assert "StringEquals AWS:SourceAccount=123456789012 does not match 999999999999" in d.reason
        assert len(d.near_misses[0].failed_conditions) == 2

    def test_missing_source_arn_is_denied(self):
        d = evaluate([MOTO_LAMBDA_POLICY], invoke({"aws:SourceAccount": ACCOUNT}), kind="resource")
        assert not d.allowed
        assert "ArnLike" in d.reason
        assert "the request has no AWS:SourceArn" in d.reason

    def test_another_principal_is_denied_naming_the_principal(self):
        eu = Principal("Service", "workmail.eu-west-1.amazonaws.com")
        d = evaluate([MOTO_LAMBDA_POLICY], invoke(right_invoke_context(), principal=eu), kind="resource")
        assert not d.allowed
        assert d.reason.startswith("no statement allows workmail.eu-west-1.amazonaws.com to call lambda:InvokeFunction")
        assert "is for Service workmail.us-east-1.amazonaws.com, not workmail.eu-west-1.amazonaws.com" in d.reason
        assert d.near_misses[0].failed == "principal"

    def test_service_principal_ignores_case(self):
        loud = Principal("Service", "WorkMail.US-East-1.amazonaws.com")
        assert evaluate([MOTO_LAMBDA_POLICY], invoke(right_invoke_context(), principal=loud), kind="resource").allowed

    def test_another_action_is_denied_naming_the_action(self):
        d = evaluate(
            [MOTO_LAMBDA_POLICY], invoke(right_invoke_context(), action="lambda:GetFunction"), kind="resource"
        )
        assert not d.allowed
        assert "covers lambda:InvokeFunction, not lambda:GetFunction" in d.reason
        assert d.near_misses[0].failed == "action"

    def test_action_names_ignore_case(self):
        d = evaluate(
            [MOTO_LAMBDA_POLICY], invoke(right_invoke_context(), action="LAMBDA:invokefunction"), kind="resource"
        )
        assert d.allowed

    def test_another_function_is_denied_naming_the_resource(self):
        other = FUNCTION_ARN.replace("wm-rule", "other")
        d = evaluate([MOTO_LAMBDA_POLICY], invoke(right_invoke_context(), resource=other), kind="resource")
        assert not d.allowed and d.near_misses[0].failed == "resource"
        assert f"not {other}" in d.reason

    def test_qualified_function_arn_is_not_modelled(self):
        d = evaluate(
            [MOTO_LAMBDA_POLICY], invoke(right_invoke_context(), resource=FUNCTION_ARN + ":live"), kind="resource"
        )
        assert not d.allowed

    def test_empty_policy_list_denies(self):
        d = evaluate([], invoke(right_invoke_context()), kind="resource")
        assert not d.allowed and "no policy was given" in d.reason

    def test_a_single_document_needs_no_list(self):
        assert evaluate(MOTO_LAMBDA_POLICY, invoke(right_invoke_context()), kind="resource").allowed

    def test_moto_round_trip(self):
        """The live moto output, including CloudFormation's FunctionName key and a bare account principal."""
        boto3 = pytest.importorskip("boto3")
        moto = pytest.importorskip("moto")
        with moto.mock_aws():
            iam = boto3.client("iam", region_name="us-east-1")
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
            role = iam.create_role(RoleName="wm-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            code = io.BytesIO()
            with zipfile.ZipFile(code, "w") as z:
                z.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")
            lam = boto3.client("lambda", region_name="us-east-1")
            arn = lam.create_function(
                FunctionName="wm-rule",
                Runtime="python3.12",
                Role=role,
                Handler="app.lambda_handler",
                Code={"ZipFile": code.getvalue()},
            )["FunctionArn"]
            lam.add_permission(
                FunctionName="wm-rule",
                StatementId="workmail-invoke",
                Action="lambda:InvokeFunction",
                Principal="workmail.us-east-1.amazonaws.com",
                SourceArn=ORG_ARN,
                SourceAccount=ACCOUNT,
            )
            lam.add_permission(
                FunctionName="wm-rule", StatementId="account", Action="lambda:GetFunction", Principal=ACCOUNT
            )
            cfn = boto3.client("cloudformation", region_name="us-east-1")
            template = {
                "Resources": {
                    "PermissionToCallLambdaAbove": {
                        "Type": "AWS::Lambda::Permission",
                        "Properties": {
                            "FunctionName": "wm-rule",
                            "Action": "lambda:InvokeFunction",
                            "Principal": "workmail.us-east-1.amazonaws.com",
                            "SourceArn": f"arn:aws:workmail:us-east-1:{ACCOUNT}:organization/*",
                        },
                    }
                }
            }
            cfn.create_stack(StackName="wm", TemplateBody=json.dumps(template))
            text = lam.get_policy(FunctionName="wm-rule")["Policy"]
        assert arn == FUNCTION_ARN
        policy = parse_policy(text)
        assert len(policy.statements) == 3
        other_org = {"aws:SourceArn": ORG_ARN.replace(ORG, OTHER_ORG), "aws:SourceAccount": ACCOUNT}
        d = evaluate([text], invoke(other_org), kind="resource")
        assert d.allowed and len(d.matched) == 1 and d.matched != ("workmail-invoke",)  # the CFN statement
        role_principal = Principal("AWS", f"arn:aws:iam::{ACCOUNT}:role/wm-role")
        assert evaluate([text], invoke({}, principal=role_principal, action="lambda:GetFunction"), kind="resource").allowed
        stranger = Principal("AWS", f"arn:aws:iam::{OTHER_ACCOUNT}:role/wm-role")
        assert not evaluate(
            [text], invoke({}, principal=stranger, action="lambda:GetFunction"), kind="resource"
        ).allowed


class TestSamTemplatePermission:
    @pytest.mark.parametrize("org", [ORG, OTHER_ORG])
    def test_any_organization_of_the_account_is_allowed(self, org):
        ctx = {"aws:SourceArn": ORG_ARN.replace(ORG, org)}
        assert evaluate([SAM_LAMBDA_POLICY], invoke(ctx), kind="resource").allowed

    def test_another_account_is_denied(self):
        ctx = {"aws:SourceArn": ORG_ARN.replace(ACCOUNT, OTHER_ACCOUNT)}
        d = evaluate([SAM_LAMBDA_POLICY], invoke(ctx), kind="resource")
        assert not d.allowed and "ArnLike" in d.reason

    def test_arnlike_wildcards_stay_inside_their_component(self):
        # "organization/*" must not reach across ":" into another service's ARN.
        ctx = {"aws:SourceArn": f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:organization/x"}
        assert not evaluate([SAM_LAMBDA_POLICY], invoke(ctx), kind="resource").allowed
        not_an_arn = {"aws:SourceArn": "organization/m-1"}
        assert not evaluate([SAM_LAMBDA_POLICY], invoke(not_an_arn), kind="resource").allowed


# ----------------------------------------------------------------------------------------
# 2. The bucket policy
# ----------------------------------------------------------------------------------------


class TestBucketPolicies:
    @pytest.mark.parametrize("action", ["s3:GetObject", "s3:GetObjectVersion"])
    def test_hello_world_allows_over_tls(self, action):
        d = evaluate([HELLO_WORLD_BUCKET_POLICY], get_object(s3_context(), action=action), kind="resource")
        assert d.allowed and d.matched == ("#0",)

    def test_hello_world_denies_without_tls(self):
        d = evaluate([HELLO_WORLD_BUCKET_POLICY], get_object(s3_context(secure=False)), kind="resource")
        assert not d.allowed
        assert "Bool aws:SecureTransport=true does not match false" in d.reason
        assert "statement '#0' matches but" in d.reason

    def test_json_true_in_the_policy_equals_string_true(self):
        policy = copy.deepcopy(HELLO_WORLD_BUCKET_POLICY)
        policy["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"] = True  # as moto echoes it
        assert evaluate([policy], get_object(s3_context()), kind="resource").allowed
        assert evaluate([policy], get_object(s3_context(secure="true")), kind="resource").allowed
        assert not evaluate([policy], get_object(s3_context(secure=False)), kind="resource").allowed

    def test_hello_world_allows_any_org_of_the_account(self):
        ctx = s3_context(source_arn=OTHER_ORG_MESSAGE_ARN)
        assert evaluate([HELLO_WORLD_BUCKET_POLICY], get_object(ctx), kind="resource").allowed

    def test_hello_world_does_not_cover_put(self):
        d = evaluate([HELLO_WORLD_BUCKET_POLICY], get_object(s3_context(), action="s3:PutObject"), kind="resource")
        assert not d.allowed and "s3:PutObject" in d.reason

    def test_bucket_arn_alone_does_not_cover_objects(self):
        policy = copy.deepcopy(HELLO_WORLD_BUCKET_POLICY)
        policy["Statement"][0]["Resource"] = f"arn:aws:s3:::{BUCKET}"
        d = evaluate([policy], get_object(s3_context()), kind="resource")
        assert not d.allowed
        assert f"write arn:aws:s3:::{BUCKET}/*" in d.reason

    def test_docs_policy_allows_its_organization(self):
        assert evaluate([DOCS_BUCKET_POLICY], get_object(s3_context()), kind="resource").allowed

    def test_docs_policy_denies_another_organization(self):
        d = evaluate([DOCS_BUCKET_POLICY], get_object(s3_context(source_arn=OTHER_ORG_MESSAGE_ARN)), kind="resource")
        assert not d.allowed
        assert "ArnLike aws:SourceArn" in d.reason and OTHER_ORG in d.reason

    def test_docs_policy_denies_another_account(self):
        d = evaluate([DOCS_BUCKET_POLICY], get_object(s3_context(account=OTHER_ACCOUNT)), kind="resource")
        assert not d.allowed
        assert "StringEquals aws:SourceAccount=123456789012 does not match 999999999999" in d.reason

    def test_missing_secure_transport_denies(self):
        ctx = s3_context()
        del ctx["aws:SecureTransport"]
        d = evaluate([DOCS_BUCKET_POLICY], get_object(ctx), kind="resource")
        assert not d.allowed and "the request has no aws:SecureTransport" in d.reason


# ----------------------------------------------------------------------------------------
# Explicit deny, Not* elements, wildcards, condition operators
# ----------------------------------------------------------------------------------------

DENY_HTTP = {
    "Sid": "DenyHttp",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def with_statement(policy, statement):
    policy = copy.deepcopy(policy)
    policy["Statement"].append(statement)
    return policy


def resource_policy(**statement):
    base = {"Effect": "Allow", "Principal": {"Service": WORKMAIL.id}, "Action": "s3:GetObject", "Resource": "*"}
    base.update(statement)
    return {"Version": "2012-10-17", "Statement": [base]}


class TestExplicitDeny:
    def test_deny_wins_over_allow(self):
        policy = with_statement(HELLO_WORLD_BUCKET_POLICY, DENY_HTTP)
        policy["Statement"][0]["Condition"].pop("Bool")  # the Allow alone would now allow
        d = evaluate([policy], get_object(s3_context(secure=False)), kind="resource")
        assert not d.allowed and d.explicit_deny
        assert d.reason.startswith("explicitly denied by statement 'DenyHttp'")
        assert "overrides the Allow in statement '#0'" in d.reason
        assert set(d.matched) == {"#0", "DenyHttp"}

    def test_deny_that_does_not_apply_changes_nothing(self):
        policy = with_statement(HELLO_WORLD_BUCKET_POLICY, DENY_HTTP)
        d = evaluate([policy], get_object(s3_context(secure=True)), kind="resource")
        assert d.allowed and not d.explicit_deny

    def test_deny_in_another_policy_wins_too(self):
        deny = {"Version": "2012-10-17", "Statement": [dict(DENY_HTTP, Condition={})]}
        d = evaluate([HELLO_WORLD_BUCKET_POLICY, deny], get_object(s3_context()), kind="resource")
        assert not d.allowed and d.explicit_deny

    def test_identity_deny_wins(self):
        deny = {
            "Version": "2012-10-17",
            "Statement": {"Sid": "NoPut", "Effect": "Deny", "Action": "workmailmessageflow:Put*", "Resource": "*"},
        }
        req = Request("workmailmessageflow:PutRawMessageContent", MESSAGE_ARN)
        d = evaluate([MESSAGE_FLOW_FULL_ACCESS_POLICY, deny], req, kind="identity")
        assert not d.allowed and d.explicit_deny and "NoPut" in d.reason


class TestNotElements:
    def test_not_action(self):
        policy = resource_policy(Action=None, NotAction="s3:Delete*")
        del policy["Statement"][0]["Action"]
        assert evaluate([policy], get_object({}), kind="resource").allowed
        d = evaluate([policy], get_object({}, action="s3:DeleteObject"), kind="resource")
        assert not d.allowed and "excludes s3:DeleteObject through NotAction s3:Delete*" in d.reason

    def test_not_resource(self):
        policy = resource_policy(NotResource=f"arn:aws:s3:::{BUCKET}/private/*")
        del policy["Statement"][0]["Resource"]
        assert evaluate([policy], get_object({}), kind="resource").allowed
        secret = f"arn:aws:s3:::{BUCKET}/private/key.eml"
        d = evaluate([policy], get_object({}, resource=secret), kind="resource")
        assert not d.allowed and "through NotResource" in d.reason

    def test_not_principal_with_deny(self):
        policy = with_statement(
            resource_policy(),
            {
                "Sid": "OnlyWorkMail",
                "Effect": "Deny",
                "NotPrincipal": {"Service": WORKMAIL.id},
                "Action": "s3:*",
                "Resource": "*",
            },
        )
        assert evaluate([policy], get_object({}), kind="resource").allowed
        anyone = Request("s3:GetObject", OBJECT_ARN, principal=Principal("AWS", f"arn:aws:iam::{ACCOUNT}:role/x"))
        d = evaluate([policy], anyone, kind="resource")
        assert not d.allowed and d.explicit_deny and "OnlyWorkMail" in d.reason

    def test_principal_star_and_aws_star_match_everyone(self):
        for principal in ("*", {"AWS": "*"}):
            policy = resource_policy(Principal=principal)
            for who in (WORKMAIL, Principal("AWS", ACCOUNT), Principal("*", "*")):
                assert evaluate([policy], Request("s3:GetObject", OBJECT_ARN, principal=who), kind="resource").allowed


class TestWildcards:
    def test_question_mark_in_action_matches_one_character(self):
        policy = resource_policy(Action="s3:GetObjec?")
        assert evaluate([policy], get_object({}), kind="resource").allowed
        assert not evaluate([policy], get_object({}, action="s3:GetObjectVersion"), kind="resource").allowed

    def test_question_mark_in_resource_matches_one_character(self):
        policy = resource_policy(Resource=f"arn:aws:s3:::{BUCKET}/??.eml")
        assert evaluate([policy], get_object({}, resource=f"arn:aws:s3:::{BUCKET}/ab.eml"), kind="resource").allowed
        assert not evaluate(
            [policy], get_object({}, resource=f"arn:aws:s3:::{BUCKET}/abc.eml"), kind="resource"
        ).allowed

    def test_question_mark_in_condition(self):
        policy = resource_policy(Condition={"StringLike": {"aws:SourceAccount": "12345678901?"}})
        assert evaluate([policy], get_object({"aws:SourceAccount": ACCOUNT}), kind="resource").allowed
        assert not evaluate([policy], get_object({"aws:SourceAccount": "1234567890123"}), kind="resource").allowed

    def test_resource_is_case_sensitive(self):
        policy = resource_policy(Resource=f"arn:aws:s3:::{BUCKET}/*")
        assert not evaluate(
            [policy], get_object({}, resource=f"arn:aws:s3:::{BUCKET.upper()}/k"), kind="resource"
        ).allowed

    def test_resource_wildcards_per_segment(self):
        policy = resource_policy(Action="workmailmessageflow:*", Resource="arn:aws:workmailmessageflow:*:*:message/*")
        req = Request("workmailmessageflow:GetRawMessageContent", MESSAGE_ARN, principal=WORKMAIL)
        assert evaluate([policy], req, kind="resource").allowed
        mid = resource_policy(Resource="arn:aws:s3:::wm-*-email/*")
        assert evaluate([mid], get_object({}), kind="resource").allowed


class TestConditionOperators:
    def check(self, condition, context):
        policy = resource_policy(Condition=condition)
        return evaluate([policy], get_object(context), kind="resource")

    def test_string_equals_is_case_sensitive_and_ignore_case_is_not(self):
        assert not self.check({"StringEquals": {"s3:prefix": "Mail"}}, {"s3:prefix": "mail"}).allowed
        assert self.check({"StringEqualsIgnoreCase": {"s3:prefix": "Mail"}}, {"s3:prefix": "mail"}).allowed
        assert not self.check({"StringNotEqualsIgnoreCase": {"s3:prefix": "Mail"}}, {"s3:prefix": "MAIL"}).allowed

    def test_multiple_values_are_or_and_negated_values_are_nor(self):
        assert self.check({"StringEquals": {"aws:SourceAccount": ["111111111111", ACCOUNT]}}, {"aws:SourceAccount": ACCOUNT}).allowed
        d = self.check({"StringNotEquals": {"aws:SourceAccount": ["111111111111", ACCOUNT]}}, {"aws:SourceAccount": ACCOUNT})
        assert not d.allowed and "which it excludes" in d.reason
        assert self.check({"StringNotEquals": {"aws:SourceAccount": ["111111111111", "222222222222"]}}, {"aws:SourceAccount": ACCOUNT}).allowed

    def test_negated_operator_passes_when_key_is_missing(self):
        assert self.check({"StringNotEquals": {"aws:SourceAccount": OTHER_ACCOUNT}}, {}).allowed
        assert self.check({"ArnNotLike": {"aws:SourceArn": "arn:aws:*:*:*:*"}}, {}).allowed
        assert self.check({"StringNotLike": {"aws:SourceArn": "*"}}, {}).allowed

    def test_arn_operators(self):
        pattern = f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:message/{ORG}/*"
        assert self.check({"ArnEquals": {"aws:SourceArn": pattern}}, {"aws:SourceArn": MESSAGE_ARN}).allowed
        assert not self.check({"ArnNotLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": MESSAGE_ARN}).allowed
        assert self.check({"ArnNotEquals": {"aws:SourceArn": pattern}}, {"aws:SourceArn": OTHER_ORG_MESSAGE_ARN}).allowed
        # per-component: "*" in the region slot matches any region, not extra components
        assert self.check(
            {"ArnLike": {"aws:SourceArn": f"arn:aws:workmailmessageflow:*:{ACCOUNT}:message/*"}},
            {"aws:SourceArn": MESSAGE_ARN.replace("us-east-1", "eu-west-1")},
        ).allowed

    def test_if_exists(self):
        cond = {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}
        assert self.check(cond, {}).allowed
        assert self.check(cond, {"aws:SourceAccount": ACCOUNT}).allowed
        d = self.check(cond, {"aws:SourceAccount": OTHER_ACCOUNT})
        assert not d.allowed and "StringEqualsIfExists" in d.reason
        assert self.check({"BoolIfExists": {"aws:SecureTransport": "true"}}, {}).allowed
        assert not self.check({"ArnLikeIfExists": {"aws:SourceArn": ORG_ARN}}, {"aws:SourceArn": MESSAGE_ARN}).allowed

    def test_if_exists_on_a_deny_also_applies_when_the_key_is_missing(self):
        # The IAM trap: IfExists passes on a missing key, so the Deny applies.
        policy = with_statement(
            resource_policy(),
            {
                "Sid": "DenyOtherAccounts",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:SourceAccount": ACCOUNT}},
            },
        )
        assert evaluate([policy], get_object({"aws:SourceAccount": ACCOUNT}), kind="resource").allowed
        assert evaluate([policy], get_object({"aws:SourceAccount": OTHER_ACCOUNT}), kind="resource").explicit_deny
        assert evaluate([policy], get_object({}), kind="resource").explicit_deny

    def test_for_any_value(self):
        cond = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "owner"]}}
        assert self.check(cond, {"aws:TagKeys": ["cost", "owner"]}).allowed
        d = self.check(cond, {"aws:TagKeys": ["cost"]})
        assert not d.allowed and "ForAnyValue:StringEquals aws:TagKeys=[team, owner] does not match cost" in d.reason
        d = self.check(cond, {})
        assert not d.allowed and "ForAnyValue needs at least one value" in d.reason
        assert not self.check(cond, {"aws:TagKeys": []}).allowed
        assert self.check({"ForAnyValue:StringLike": {"aws:TagKeys": "own*"}}, {"aws:TagKeys": ["x", "owner"]}).allowed

    def test_for_all_values(self):
        cond = {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "owner"]}}
        assert self.check(cond, {"aws:TagKeys": ["owner", "team"]}).allowed
        d = self.check(cond, {"aws:TagKeys": ["owner", "cost"]})
        assert not d.allowed and "request value cost" in d.reason
        # The documented trap: a missing or empty key passes ForAllValues.
        assert self.check(cond, {}).allowed
        assert self.check(cond, {"aws:TagKeys": []}).allowed
        assert not self.check({"ForAllValues:StringNotEquals": {"aws:TagKeys": "secret"}}, {"aws:TagKeys": ["a", "secret"]}).allowed

    def test_single_valued_operator_on_a_list(self):
        assert self.check({"StringEquals": {"aws:TagKeys": "owner"}}, {"aws:TagKeys": ["cost", "owner"]}).allowed
        assert not self.check({"StringNotEquals": {"aws:TagKeys": "owner"}}, {"aws:TagKeys": ["cost", "owner"]}).allowed

    def test_null(self):
        must_be_absent = {"Null": {"aws:SourceArn": "true"}}
        assert self.check(must_be_absent, {}).allowed
        d = self.check(must_be_absent, {"aws:SourceArn": ORG_ARN})
        assert not d.allowed and "Null aws:SourceArn=true fails because the request has aws:SourceArn" in d.reason
        must_be_present = {"Null": {"aws:SourceArn": False}}
        assert self.check(must_be_present, {"aws:SourceArn": ORG_ARN}).allowed
        assert not self.check(must_be_present, {"aws:SourceArn": None}).allowed  # None = absent

    def test_bool(self):
        assert self.check({"Bool": {"aws:SecureTransport": "True"}}, {"aws:SecureTransport": True}).allowed
        assert not self.check({"Bool": {"aws:SecureTransport": "true"}}, {}).allowed

    def test_several_operators_and_keys_are_anded(self):
        cond = {"StringEquals": {"aws:SourceAccount": ACCOUNT, "s3:prefix": "in/"}, "Bool": {"aws:SecureTransport": "true"}}
        full = {"aws:SourceAccount": ACCOUNT, "s3:prefix": "in/", "aws:SecureTransport": True}
        assert self.check(cond, full).allowed
        for drop in full:
            partial = {k: v for k, v in full.items() if k != drop}
            assert not self.check(cond, partial).allowed, drop

    @pytest.mark.parametrize(
        "operator",
        ["StringEqualz", "ArnMatches", "NumericLessThan", "DateGreaterThan", "IpAddress", "stringequals", "ForSomeValues:StringLike"],
    )
    def test_unknown_or_unmodelled_operator_raises(self, operator):
        with pytest.raises(PolicyError) as err:
            parse_policy(resource_policy(Condition={operator: {"aws:SourceAccount": ACCOUNT}}))
        assert repr(operator) in str(err.value) or repr(operator.partition(":")[0]) in str(err.value)
        assert err.value.fix

    def test_lower_case_operator_suggests_the_right_spelling(self):
        with pytest.raises(PolicyError, match="Did you mean 'StringEquals'"):
            parse_policy(resource_policy(Condition={"stringequals": {"aws:SourceAccount": ACCOUNT}}))

    def test_null_if_exists_is_refused_as_in_iam(self):
        with pytest.raises(PolicyError, match="IfExists"):
            parse_policy(resource_policy(Condition={"NullIfExists": {"aws:SourceArn": "true"}}))

    def test_bool_takes_only_true_or_false(self):
        with pytest.raises(PolicyError, match="only true or false"):
            parse_policy(resource_policy(Condition={"Bool": {"aws:SecureTransport": "yes"}}))


# ----------------------------------------------------------------------------------------
# 3. Identity policies of the execution role
# ----------------------------------------------------------------------------------------

GET = Request("workmailmessageflow:GetRawMessageContent", MESSAGE_ARN)
PUT = Request("workmailmessageflow:PutRawMessageContent", MESSAGE_ARN)


class TestManagedPolicies:
    def test_read_only_allows_get_and_denies_put(self):
        assert evaluate([MESSAGE_FLOW_READ_ONLY_POLICY], GET, kind="identity").allowed
        d = evaluate([MESSAGE_FLOW_READ_ONLY_POLICY], PUT, kind="identity")
        assert not d.allowed
        assert "covers workmailmessageflow:Get*, not workmailmessageflow:PutRawMessageContent" in d.reason

    def test_full_access_allows_get_and_put(self):
        assert evaluate([MESSAGE_FLOW_FULL_ACCESS_POLICY], GET, kind="identity").allowed
        assert evaluate([MESSAGE_FLOW_FULL_ACCESS_POLICY], PUT, kind="identity").allowed

    def test_policy_name_appears_in_reasons(self):
        named = parse_policy(MESSAGE_FLOW_READ_ONLY_POLICY, name="AmazonWorkMailMessageFlowReadOnlyAccess")
        d = evaluate([named], GET, kind="identity")
        assert d.reason == "allowed by statement '#0' in policy 'AmazonWorkMailMessageFlowReadOnlyAccess'"

    def test_constants_match_the_copies_moto_ships(self):
        moto_data = pytest.importorskip("moto.iam.aws_managed_policies")
        shipped = json.loads(moto_data.aws_managed_policies_data)
        for arn, ours in (
            (MESSAGE_FLOW_READ_ONLY_POLICY_ARN, MESSAGE_FLOW_READ_ONLY_POLICY),
            (MESSAGE_FLOW_FULL_ACCESS_POLICY_ARN, MESSAGE_FLOW_FULL_ACCESS_POLICY),
        ):
            assert shipped[arn.rsplit("/", 1)[1]]["Document"] == ours

    def test_inline_and_managed_policies_pool(self):
        inline = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "workmailmessageflow:PutRawMessageContent",
                    "Resource": f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:message/{ORG}/incoming/*",
                }
            ],
        }
        policies = [MESSAGE_FLOW_READ_ONLY_POLICY, inline]
        assert evaluate(policies, PUT, kind="identity").allowed
        outgoing = Request(PUT.action, MESSAGE_ARN.replace("/incoming/", "/outgoing/"))
        d = evaluate(policies, outgoing, kind="identity")
        assert not d.allowed and d.reason.startswith("no statement allows this identity")

    def test_docs_scoped_role_policy(self):
        scoped = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": ["workmailmessageflow:GetRawMessageContent"],
                    "Resource": f"arn:aws:workmailmessageflow:us-east-1:{ACCOUNT}:message/{ORG}/*",
                    "Effect": "Allow",
                }
            ],
        }
        assert evaluate([scoped], GET, kind="identity").allowed
        other = Request(GET.action, OTHER_ORG_MESSAGE_ARN)
        d = evaluate([scoped], other, kind="identity")
        assert not d.allowed and d.near_misses[0].failed == "resource"

    def test_identity_policy_with_a_principal_is_rejected(self):
        with pytest.raises(PolicyError, match="MalformedPolicyDocument") as err:
            evaluate([HELLO_WORLD_BUCKET_POLICY], GET, kind="identity")
        assert "kind='resource'" in err.value.fix

    def test_resource_policy_without_a_principal_is_rejected(self):
        with pytest.raises(PolicyError, match="no Principal"):
            evaluate([MESSAGE_FLOW_READ_ONLY_POLICY], Request(GET.action, MESSAGE_ARN, principal=WORKMAIL), kind="resource")

    def test_no_statements_denies(self):
        d = evaluate([{"Version": "2012-10-17", "Statement": []}], GET, kind="identity")
        assert not d.allowed and "has no statements" in d.reason


# ----------------------------------------------------------------------------------------
# Parsing and kit misuse
# ----------------------------------------------------------------------------------------


class TestParsing:
    def test_invalid_json_raises_with_a_fix(self):
        with pytest.raises(PolicyError) as err:
            parse_policy('{"Version": "2012-10-17", "Statement": [}')
        assert "not valid JSON" in err.value.problem and "line 1" in err.value.problem
        assert err.value.fix and "Fix:" in str(err.value)
        assert isinstance(err.value, ConfigurationError) and isinstance(err.value, WorkMailSandboxError)

    def test_invalid_json_is_also_caught_by_evaluate(self):
        with pytest.raises(PolicyError):
            evaluate(["{not json"], GET, kind="identity")

    def test_a_single_statement_object_is_accepted(self):
        policy = parse_policy({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
        assert isinstance(policy, Policy) and len(policy.statements) == 1
        assert policy.statements[0].label == "#0"

    def test_missing_effect(self):
        with pytest.raises(PolicyError, match="has no Effect"):
            parse_policy({"Statement": [{"Action": "*", "Resource": "*"}]})

    @pytest.mark.parametrize("effect", ["allow", "Permit", "", None])
    def test_bad_effect(self, effect):
        with pytest.raises(PolicyError, match="Effect"):
            parse_policy({"Statement": [{"Effect": effect, "Action": "*", "Resource": "*"}]})

    def test_moto_function_name_key_is_ignored(self):
        assert parse_policy(SAM_LAMBDA_POLICY).statements[0].sid.startswith("6879759d")

    def test_unknown_statement_key_raises(self):
        with pytest.raises(PolicyError, match="unknown element 'Actions'"):
            parse_policy({"Statement": [{"Effect": "Allow", "Actions": "*", "Resource": "*"}]})
        with pytest.raises(PolicyError, match="Did you mean 'Condition'"):
            parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "condition": {}}]})

    def test_whole_get_policy_response_gets_a_pointed_fix(self):
        with pytest.raises(PolicyError) as err:
            parse_policy({"Policy": MOTO_LAMBDA_POLICY, "RevisionId": "x"})
        assert "response['Policy']" in err.value.fix

    @pytest.mark.parametrize(
        "statement, message",
        [
            ({"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"}, "both Action and NotAction"),
            ({"Effect": "Allow", "Resource": "*"}, "neither Action nor NotAction"),
            ({"Effect": "Allow", "Action": "*"}, "neither Resource nor NotResource"),
            ({"Effect": "Allow", "Action": "InvokeFunction", "Resource": "*"}, "without a service prefix"),
            ({"Effect": "Allow", "Action": [], "Resource": "*"}, "non-empty"),
            ({"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": {"Servic": "x"}}, "unknown principal type"),
            ({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": ["x"]}, "Condition must be an object"),
        ],
    )
    def test_malformed_statements(self, statement, message):
        with pytest.raises(PolicyError, match=message):
            parse_policy({"Version": "2012-10-17", "Statement": [statement]})

    def test_duplicate_sids_and_bad_version(self):
        s = {"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}
        with pytest.raises(PolicyError, match="two statements with Sid 'A'"):
            parse_policy({"Statement": [s, s]})
        with pytest.raises(PolicyError, match="Version"):
            parse_policy({"Version": "2024-01-01", "Statement": [s]})

    def test_parsed_policy_does_not_share_the_callers_document(self):
        doc = copy.deepcopy(HELLO_WORLD_BUCKET_POLICY)
        policy = parse_policy(doc)
        doc["Statement"][0]["Effect"] = "Deny"
        assert policy.statements[0].effect == "Allow"
        assert policy.document["Statement"][0]["Effect"] == "Allow"
        assert parse_policy(policy) is policy

    def test_request_misuse_raises_configuration_error(self):
        with pytest.raises(ConfigurationError, match="no principal"):
            evaluate([MOTO_LAMBDA_POLICY], Request("lambda:InvokeFunction", FUNCTION_ARN), kind="resource")
        with pytest.raises(ConfigurationError, match="service:Action"):
            Request("InvokeFunction", FUNCTION_ARN)
        with pytest.raises(ConfigurationError, match="kind"):
            evaluate([MOTO_LAMBDA_POLICY], invoke({}), kind="bucket")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="ignore case"):
            Request("s3:GetObject", OBJECT_ARN, context={"aws:SourceArn": "a", "AWS:SourceArn": "b"})
        with pytest.raises(ConfigurationError):
            Principal("Services", "workmail.us-east-1.amazonaws.com")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------
# Property
# ----------------------------------------------------------------------------------------

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ALLOW_NOTHING = {"Version": "2012-10-17", "Statement": []}

actions = st.builds(
    lambda service, name: f"{service}:{name}",
    st.text(st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), min_size=1, max_size=20),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
)


@settings(max_examples=200, deadline=None)
@given(action=actions)
def test_star_allows_every_action_and_nothing_allows_none(action):
    request = Request(action, "arn:aws:workmailmessageflow:us-east-1:123456789012:message/m-1/incoming/x")
    allowed = evaluate([ALLOW_ALL], request, kind="identity")
    assert allowed.allowed and allowed.matched == ("#0",)
    denied = evaluate([ALLOW_NOTHING], request, kind="identity")
    assert not denied.allowed and not denied.explicit_deny
    service_wide = {"Statement": [{"Effect": "Allow", "Action": action.split(":")[0] + ":*", "Resource": "*"}]}
    assert evaluate([service_wide], request, kind="identity").allowed
