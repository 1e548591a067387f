"""lessons.setup: any lesson starts from a known state in one call; the aws-only gate."""

from __future__ import annotations

import io
import json
import os

import pytest

from workmail_sandbox import lessons
from workmail_sandbox import sandbox as sbx
from workmail_sandbox.apps import get_app
from workmail_sandbox.errors import ConfigurationError, SandboxError


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
    with pytest.raises(ConfigurationError, match="numbered 0 to 9"):
        lessons.setup(12)


def test_aws_only_skips_with_a_reason_in_sandbox_mode(capsys):
    assert lessons.aws_only() is False
    assert "WORKMAIL_SANDBOX_MODE=aws" in capsys.readouterr().out


def test_aws_only_runs_in_aws_mode(monkeypatch):
    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    assert lessons.aws_only() is True


class _FakeAccount:
    """What lessons.setup needs from an AwsAccount (the real one refuses a process that ran the sandbox)."""

    mode, region, account_id = "aws", "eu-west-1", "210987654321"


@pytest.fixture
def aws_mode(monkeypatch):
    import workmail_sandbox.aws as aws

    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    monkeypatch.setattr(aws, "connect", lambda region=None: _FakeAccount())


def test_setup_in_aws_mode_connects_instead_of_building_a_sandbox(aws_mode, capsys):
    state = lessons.setup(5)
    assert state.mode == "aws" and state.organization_id is None
    assert "account 210987654321, region eu-west-1" in state.summary()
    assert "run the 'On real AWS' cells only" in capsys.readouterr().out  # no IPython here: nothing to skip
    assert sbx.current() is None


@pytest.fixture
def ipython_shell(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_setup_in_aws_mode_lets_run_all_reach_only_the_aws_cells(aws_mode, ipython_shell, capsys):
    ipython_shell.run_cell("from workmail_sandbox import lessons\nstate = lessons.setup(5)")
    assert "each of its cells prints 'skipped'" in capsys.readouterr().out
    ipython_shell.run_cell("sandbox_only = state.sandbox.put_message_in_transit('x.eml')")
    assert "skipped: a sandbox cell" in capsys.readouterr().out
    assert "sandbox_only" not in ipython_shell.user_ns
    ipython_shell.run_cell("if lessons.aws_only():\n    ran = state.sandbox.region")
    assert ipython_shell.user_ns["ran"] == "eu-west-1"
    ipython_shell.run_cell("state = lessons.setup(5)")  # running the set-up cell again adds no second hook
    assert ipython_shell.input_transformers_post.count(lessons.skip_unless_aws_cell) == 1


def test_the_skip_transformer_keeps_aws_cells_magics_and_blank_cells():
    assert lessons.skip_unless_aws_cell(["if lessons.aws_only():\n", "    pass\n"]) == ["if lessons.aws_only():\n", "    pass\n"]
    assert lessons.skip_unless_aws_cell(["%pip list\n"]) == ["%pip list\n"]
    assert lessons.skip_unless_aws_cell(["\n"]) == ["\n"]
    assert lessons.skip_unless_aws_cell(["x = 1\n"]) == [lessons.SKIPPED]


def test_setup_installs_hello_world_without_cloudformation():
    import sys

    state = lessons.setup(3)
    assert state.hello_world["StackId"] is None
    assert len(state.function_name) <= 64
    if "moto.cloudformation.models" not in sys.modules:  # another test may have deployed a stack already
        assert state.sandbox.snapshot().moto.get("cloudformation") is None


def test_cells_marked_also_on_real_aws_run_in_aws_mode():
    marked = ["# also on real AWS\n", "def handler(event, context):\n", "    return None\n"]
    assert lessons.skip_unless_aws_cell(marked) == marked


HELLO_WORLD = "arn:aws:serverlessrepo:us-east-1:489970191081:applications/workmail-hello-world-python"


# read_template -------------------------------------------------------------------------


def test_read_template_reads_the_emulated_sar_in_process(workmail_sandbox):
    version = workmail_sandbox.client("serverlessrepo").get_application(ApplicationId=HELLO_WORLD)["Version"]
    text = lessons.read_template(version["TemplateUrl"])
    assert "Transform: AWS::Serverless-2016-10-31" in text
    assert text == get_app("hello_world").template_text
    assert workmail_sandbox.network.attempts == []


def test_read_template_refuses_an_url_the_sandbox_did_not_give_out(workmail_sandbox, monkeypatch):
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("must not fetch in the sandbox"))
    with pytest.raises(SandboxError, match="not a template URL"):
        lessons.read_template("https://awsserverlessrepo-changesets-abcdefghijklm.s3.amazonaws.com/x/template.yaml")


def test_read_template_in_sandbox_mode_without_a_running_sandbox_is_a_clear_error():
    from workmail_sandbox import sandbox

    sandbox.stop()
    with pytest.raises(SandboxError, match="not running"):
        lessons.read_template("https://example.com/template.yaml")


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
    assert lessons.read_template(url, timeout=5) == "Resources: {}\n"
    assert seen == {"url": url, "timeout": 5}


def test_read_template_in_aws_mode_takes_only_https(monkeypatch):
    from workmail_sandbox.emulators import _core

    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    monkeypatch.setattr(_core.STATE, "active", False)
    monkeypatch.setattr(_core.STATE, "ever_started", False)
    with pytest.raises(ConfigurationError, match="not an https://"):
        lessons.read_template("file:///etc/passwd")


def test_read_template_needs_a_string():
    with pytest.raises(ConfigurationError, match="TemplateUrl"):
        lessons.read_template(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- try_handler: the 15-minute path


def first_handler(event, context):
    print("subject:", event["subject"])
    return {"actions": [{"allRecipients": True, "action": {"type": "BOUNCE",
                                                         "parameters": {"bounceMessage": "not today"}}}]}


def tagging_handler(event, context):
    from email import message_from_bytes, policy

    import boto3

    flow = boto3.client("workmailmessageflow")
    raw = flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    message = message_from_bytes(raw, policy=policy.default)
    message.replace_header("Subject", "[TRIED] " + message["Subject"])
    bucket = os.environ["BUCKET"]  # hello world's bucket: its policy lets WorkMail read it (lesson 05)
    boto3.client("s3").put_object(Bucket=bucket, Key="tried", Body=message.as_bytes(policy=policy.SMTP))
    flow.put_raw_message_content(messageId=event["messageId"], content={"s3Reference": {"bucket": bucket, "key": "tried"}})
    print("tagged")
    return {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}


def crashing_handler(event, context):
    print("about to fail")
    return event["not-in-the-event"]


def test_try_handler_runs_a_handler_on_one_sample_and_shows_outcome_and_its_print_output():
    tried = lessons.try_handler(first_handler, "data/emails/01-plain-inbound.eml", synchronous=True)
    assert tried.deployed == "created" and tried.outcomes == {"alice@example.com": "bounced"}
    assert tried.log == ["subject: Delivery window for order 4471"]
    text = repr(tried)
    assert "Your function my-function (created) ran on 01-plain-inbound.eml" in text
    assert "alice@example.com: bounced. Your function answered BOUNCE, in actions[0] (allRecipients)." in text
    assert "Your function's log (print and logging):\n  subject: Delivery window for order 4471" in text
    assert "(no copy was delivered" in text  # bounced: there is no delivered copy to compare
    page = tried._repr_html_()
    assert 'class="wms-try-handler"' in page and "subject: Delivery window for order 4471" in page


def test_try_handler_again_with_a_changed_handler_redeploys_and_shows_the_subject_change():
    state = lessons.setup(3)
    lessons.try_handler(first_handler)
    tried = lessons.try_handler(
        tagging_handler,
        environment={"BUCKET": state.hello_world["BucketName"]},
        managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess",
                          "arn:aws:iam::aws:policy/AmazonS3FullAccess"],
    )
    assert tried.deployed == "updated" and tried.outcomes == {"alice@example.com": "inbox"}
    assert tried.changes == [("Subject", "Delivery window for order 4471", "[TRIED] Delivery window for order 4471")]
    assert tried.body_changed is False and tried.log == ["tagged"]
    assert "Subject: 'Delivery window for order 4471' -> '[TRIED] Delivery window for order 4471'" in repr(tried)
    policy = json.loads(sbx.current().client("lambda").get_policy(FunctionName="my-function")["Policy"])
    assert len(policy["Statement"]) == 1  # WorkMail's permission is granted once, not once per call


def test_try_handler_shows_a_crash_at_the_handlers_own_line():
    tried = lessons.try_handler(crashing_handler)
    line = crashing_handler.__code__.co_firstlineno + 2
    assert tried.log[0] == "about to fail"
    assert f'  File "test_lessons.py", line {line}, in crashing_handler' in tried.log
    outcome = tried.explanations()[0]
    assert outcome.startswith("alice@example.com: delivered to the inbox. Your function raised KeyError. "
                              "The rule's fallback action DEFAULT applied")


def test_try_handler_keeps_the_learners_sandbox_and_reuses_its_organization():
    state = lessons.setup(4)
    tried = lessons.try_handler(first_handler)
    assert tried.result.invocations[0].function_arn.endswith(":function:my-function")
    assert sbx.current() is state.sandbox
    workmail = state.sandbox.client("workmail")
    assert len(workmail.list_organizations()["OrganizationSummaries"]) == 1
    assert state.sandbox.client("lambda").get_function(FunctionName=state.function_name)  # hello world is still there


def test_try_handler_outbound():
    tried = lessons.try_handler(first_handler, "02-plain-outbound.eml", direction="outbound")
    assert set(tried.outcomes.values()) == {"bounced"} and "outbound" in tried.headline()


def test_try_handler_explains_bad_input():
    with pytest.raises(ConfigurationError, match="There is no message file 'nope.eml'") as raised:
        lessons.try_handler(first_handler, "nope.eml")
    assert "01-plain-inbound.eml" in raised.value.fix
    with pytest.raises(ConfigurationError, match="direction must be 'inbound' or 'outbound'"):
        lessons.try_handler(first_handler, direction="sideways")
    with pytest.raises(SandboxError, match="takes a function or a source string"):
        lessons.try_handler(42)


def test_try_handler_refuses_aws_mode(monkeypatch):
    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    with pytest.raises(ConfigurationError, match="aws mode"):
        lessons.try_handler(first_handler)
