"""lessons.setup: any lesson starts from a known state in one call; the aws-only gate."""

from __future__ import annotations

import json

import pytest

from workmail_sandbox import lessons
from workmail_sandbox import sandbox as sbx
from workmail_sandbox.errors import ConfigurationError


@pytest.fixture(autouse=True)
def _stopped():
    sbx.stop()
    yield
    sbx.stop()


def test_early_lessons_start_empty():
    state = lessons.setup(1)
    assert state.organization_id is None and state.hello_world is None
    assert state.sandbox.client("lambda").list_functions()["Functions"] == []


def test_lesson_2_has_an_organization_and_hello_world_with_the_template_permission():
    state = lessons.setup(2)
    assert state.organization_id.startswith("m-") and state.domains == ("example.com", "sales.example.com")
    assert "dave@sales.example.com" in state.users
    policy = json.loads(state.sandbox.client("lambda").get_policy(FunctionName=state.function_name)["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(":organization/*")


def test_later_lessons_grant_workmail_for_one_organization_and_catch_up_after_changes():
    state = lessons.setup(4)
    sb = state.sandbox
    allowed, reason = sb.runtime.check_workmail_permission(
        state.function_arn, organization_arn=state.organization_arn, region=sb.region, account=sb.account_id
    )
    assert allowed, reason
    sb.client("lambda").delete_function(FunctionName=state.function_name)  # a learner breaks things
    again = lessons.setup(4)
    assert again.function_name == state.function_name
    assert sb.client("lambda").get_function(FunctionName=state.function_name)
    assert "Lesson 04" in again.summary()


def test_unknown_lesson_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="numbered 0 to 8"):
        lessons.setup(12)


def test_aws_only_skips_with_a_reason_in_sandbox_mode(capsys):
    assert lessons.aws_only() is False
    assert "WORKMAIL_SANDBOX_MODE=aws" in capsys.readouterr().out


def test_aws_only_runs_in_aws_mode(monkeypatch):
    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    assert lessons.aws_only() is True
