"""A Mail Manager rule set checked against its documented limits (workmail_sandbox.ses.mail_manager).

docs/aws-behaviour.md §9: CreateRuleSet holds at most 40 rules; a Rule 1 to 10 actions, up to 10
conditions and 10 "unless" conditions; RuleAction is a union; InvokeLambdaAction needs FunctionArn,
RoleArn and InvocationType (EVENT | REQUEST_RESPONSE), with ActionFailurePolicy CONTINUE | DROP and
RetryTimeMinutes 0 to 2160. The constants are compared with botocore's Mail Manager model.
"""

from __future__ import annotations

import botocore.session
import pytest

from workmail_sandbox.ses.mail_manager import (
    ACTION_TYPES,
    FAILURE_POLICIES,
    INVOCATION_TYPES,
    MAX_ACTIONS,
    MAX_CONDITIONS,
    MAX_RETRY_MINUTES,
    MAX_RULES,
    MAX_UNLESS,
    check_mail_manager_rule_set,
)

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:port"
ROLE = "arn:aws:iam::123456789012:role/mail-manager-invoke"
INVOKE = {"InvokeLambda": {"FunctionArn": FUNCTION, "RoleArn": ROLE, "InvocationType": "REQUEST_RESPONSE",
                           "ActionFailurePolicy": "CONTINUE", "RetryTimeMinutes": 60}}
CONDITION = {"StringExpression": {"Evaluate": {"Attribute": "RECIPIENT"}, "Operator": "EQUALS",
                                  "Values": ["finance@example.com"]}}


def _rule(**fields):
    return {"Name": "port", "Actions": [INVOKE, {"WriteToS3": {"S3Bucket": "mail", "RoleArn": ROLE}}], **fields}


def test_the_limits_are_those_of_the_published_model():
    """§9: the numbers and names come from the Mail Manager API Reference; botocore ships the same model."""
    model = botocore.session.get_session().get_service_model("mailmanager")
    rule = model.shape_for("Rule").members
    assert rule["Actions"].metadata["max"] == MAX_ACTIONS and rule["Actions"].metadata["min"] == 1
    assert rule["Conditions"].metadata["max"] == MAX_CONDITIONS
    assert rule["Unless"].metadata["max"] == MAX_UNLESS
    assert model.operation_model("CreateRuleSet").input_shape.members["Rules"].metadata["max"] == MAX_RULES
    assert set(model.shape_for("RuleAction").members) == set(ACTION_TYPES)
    invoke = model.shape_for("InvokeLambdaAction")
    assert set(invoke.required_members) == {"FunctionArn", "RoleArn", "InvocationType"}
    assert invoke.members["InvocationType"].enum == list(INVOCATION_TYPES)
    assert invoke.members["ActionFailurePolicy"].enum == list(FAILURE_POLICIES)
    assert invoke.members["RetryTimeMinutes"].metadata == {"min": 0, "max": MAX_RETRY_MINUTES}


def test_a_rule_set_within_the_limits_has_no_problem():
    rules = [_rule(Conditions=[CONDITION] * MAX_CONDITIONS, Unless=[CONDITION] * MAX_UNLESS)]
    assert check_mail_manager_rule_set({"RuleSetName": "inbound", "Rules": rules}) == []
    assert check_mail_manager_rule_set([_rule(Name=f"r{n}") for n in range(MAX_RULES)]) == []


@pytest.mark.parametrize(("rule_set", "words"), [
    ([_rule()] * (MAX_RULES + 1), "41 Rules; a rule set holds at most 40"),
    ([_rule(Conditions=[CONDITION] * 11)], "11 Conditions; a rule holds at most 10"),
    ([_rule(Unless=[CONDITION] * 11)], "11 Unless; a rule holds at most 10"),
    ([_rule(Actions=[INVOKE] * 11)], "11 Actions; a rule holds at most 10"),
    ([_rule(Actions=[])], "Actions is required"),
    ([{"Name": "x"}], "Actions is required"),
    ([_rule(Name="has space")], "Name must be 1 to 32"),
    ([_rule(Name="x" * 33)], "Name must be 1 to 32"),
    ({"RuleSetName": "", "Rules": []}, "RuleSetName must be 1 to 100"),
    ({"RuleSetName": "ok"}, "Rules must be a list"),
    ([_rule(Actions=[{"LambdaAction": {}}])], "'LambdaAction' is not a Mail Manager action"),
    ([_rule(Actions=[{"Drop": {}, "Send": {}}])], "exactly one of"),
])
def test_each_limit_is_named(rule_set, words):
    problems = check_mail_manager_rule_set(rule_set)
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize(("change", "words"), [
    ({"InvocationType": "RequestResponse"}, "InvocationType must be EVENT or REQUEST_RESPONSE"),
    ({"InvocationType": None}, "InvocationType must be EVENT or REQUEST_RESPONSE"),
    ({"ActionFailurePolicy": "RETRY"}, "ActionFailurePolicy must be CONTINUE or DROP"),
    ({"RetryTimeMinutes": 2161}, "RetryTimeMinutes must be a whole number from 0 to 2160"),
    ({"RetryTimeMinutes": -1}, "RetryTimeMinutes must be a whole number from 0 to 2160"),
    ({"RetryTimeMinutes": True}, "RetryTimeMinutes must be a whole number"),
    ({"RoleArn": None}, "RoleArn is required"),
    ({"FunctionArn": "arn:short"}, "FunctionArn must be an ARN of 20 to 2048"),
    ({"Payload": "x"}, "InvokeLambda has no field Payload"),
])
def test_invoke_lambda_fields(change, words):
    spec = {k: v for k, v in {**INVOKE["InvokeLambda"], **change}.items() if v is not None}
    problems = check_mail_manager_rule_set([_rule(Actions=[{"InvokeLambda": spec}])])
    assert any(words in p for p in problems), problems
    assert all(p.startswith("rule 1 (port) action 1:") for p in problems)


def test_a_huge_rule_list_is_checked_in_bounded_time():
    problems = check_mail_manager_rule_set([{"Actions": "x"}] * 100_000)
    assert problems[0] == "100000 Rules; a rule set holds at most 40"
    assert len(problems) == MAX_RULES + 2  # the count, then the first 41 rules' problem
