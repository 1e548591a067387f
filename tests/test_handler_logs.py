"""A function's log in the learner's terms: its own lines, tracebacks at its cell's lines, and FlowResult
showing what the function printed and why a fallback applied (separately from what the function answered).

Facts followed: Lambda writes START, END and REPORT lines around what the code prints, and the Python
runtime formats a logging record as level, time, request id and message (docs/aws-behaviour.md §8).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from workmail_sandbox import Organization, deploy_handler, lessons
from workmail_sandbox import sandbox as sbx
from workmail_sandbox.handler_logs import MAX_MAPS, Segment, SourceMap, in_your_terms, own_lines, register, tail

EMAILS = Path(__file__).resolve().parent.parent / "data" / "emails"
HERE = Path(__file__).name


@pytest.fixture
def state():
    sbx.stop()
    yield lessons.setup(3)
    sbx.stop()


def chatty(event, context):
    print("looking at", event["subject"])
    logging.getLogger().warning("about to answer")
    return {"actions": [{"allRecipients": True, "action": {"type": "BOUNCE"}}]}


def crashes(event, context):
    print("before the crash")
    return event["no-such-key"]


CRASH_LINE = crashes.__code__.co_firstlineno + 2  # the line of `return event["no-such-key"]` in this file


def rule_for(arn, **fields):
    return {"name": "my-rule", "senders": ["*"], "recipients": ["*"], "action": "RUN_LAMBDA",
            "function_arn": arn, "synchronous": True, "fallback_action": "MOVE_TO_JUNK",
            "rule_timeout_minutes": 0, **fields}


def test_own_lines_keep_what_the_code_wrote_as_lambda_logs_it(state):
    """aws-behaviour §8: START/END/REPORT are Lambda's; a logging record is [LEVEL] time request-id message."""
    deploy_handler(chatty, name="chatty")
    result = state.sandbox.runtime.invoke("chatty", {"subject": "Hi"})
    assert result.log_text.startswith("START RequestId: ") and "\nREPORT RequestId: " in result.log_text
    assert own_lines(result.log_text) == ["looking at Hi", "[WARNING] about to answer"]


def test_a_traceback_points_at_the_lines_where_the_handler_was_written(state):
    function = deploy_handler(crashes, name="crashes")
    result = state.sandbox.runtime.invoke("crashes", {})
    assert 'app.py", line' in result.log_text  # Lambda's own log keeps the deployed file, as on AWS
    shown = in_your_terms(result.log_text, function["FunctionArn"])
    assert f'File "{HERE}", line {CRASH_LINE}, in crashes\n    return event["no-such-key"]' in shown
    assert "app.py" not in shown


def test_a_frame_whose_line_does_not_match_the_map_is_left_alone():
    arn = "arn:aws:lambda:us-east-1:123456789012:function:mapped"
    register(arn, SourceMap("app.py", "import json\n\n\ndef h(e, c):\n    return e['x']\n",
                            (Segment(4, 2, "your cell In [3]", 10),)))
    good = 'File "/var/task/app.py", line 5, in h\n    return e[\'x\']'
    stale = 'File "/var/task/app.py", line 5, in h\n    return something_else'
    assert in_your_terms(good, arn + ":$LATEST") == 'File "your cell In [3]", line 11, in h\n    return e[\'x\']'
    assert in_your_terms(stale, arn) == stale
    assert in_your_terms('File "/var/task/app.py", line 1, in <module>', arn).endswith("line 1, in <module>")
    register(arn, None)
    assert in_your_terms(good, arn) == good


def test_the_registry_is_bounded():
    for number in range(MAX_MAPS + 10):
        register(f"arn:aws:lambda:us-east-1:123456789012:function:f{number}", SourceMap("app.py", "", ()))
    from workmail_sandbox import handler_logs

    assert len(handler_logs._MAPS) == MAX_MAPS
    assert handler_logs.source_map("arn:aws:lambda:us-east-1:123456789012:function:f0") is None


def test_tail_says_how_many_lines_it_left_out():
    assert tail([str(n) for n in range(8)], 3) == ["... (5 earlier line(s))", "5", "6", "7"]
    assert tail(["x" * 300], 3, width=10) == ["x" * 9 + "…"]


def test_flow_result_keeps_each_attempts_log_and_shows_it_briefly(state):
    function = deploy_handler(chatty, name="chatty")
    lessons.grant_workmail(state.sandbox, "chatty", state.organization_arn)
    org = Organization.attach(state.sandbox, state.organization_id, rules={"inbound": [rule_for(function["FunctionArn"])]})
    result = org.receive(EMAILS / "01-plain-inbound.eml")
    assert result.invocations[0].attempts[0].log.startswith("START RequestId: ")
    assert result.function_logs() == {"'my-rule'": ["looking at Delivery window for order 4471",
                                                    "[WARNING] about to answer"]}
    shown = repr(result)
    assert shown.startswith(result.summary())
    assert "  log of Run Lambda 'my-rule':\n    looking at Delivery window for order 4471" in shown
    assert result.explain("alice@example.com") == (
        "alice@example.com: bounced. Your function answered BOUNCE, in actions[0] (allRecipients)."
    )


def test_no_permission_and_the_fallback_are_separate_sentences(state):
    function = deploy_handler(chatty, name="chatty")  # no grant_workmail: WorkMail may not invoke it
    org = Organization.attach(state.sandbox, state.organization_id, rules={"inbound": [rule_for(function["FunctionArn"])]})
    result = org.receive(EMAILS / "01-plain-inbound.eml")
    first, why = result.explain("alice@example.com").split("\n")
    assert first == (
        "alice@example.com: delivered to the junk folder. Your function was not allowed to run (no permission). "
        "The rule's fallback action MOVE_TO_JUNK applied (rule 'my-rule')."
    )
    assert why.strip().startswith("why: the function chatty has no resource-based policy")
    assert first in result.summary()  # the summary line says the same, in the same two sentences
    assert result.function_logs() == {"'my-rule'": []}  # it never ran, so it logged nothing


def test_a_crash_and_the_fallback_are_separate_sentences_and_the_log_shows_the_cell_line(state):
    function = deploy_handler(crashes, name="crashes")
    lessons.grant_workmail(state.sandbox, "crashes", state.organization_arn)
    org = Organization.attach(state.sandbox, state.organization_id,
                              rules={"inbound": [rule_for(function["FunctionArn"], rule_timeout_minutes=5)]})
    result = org.receive(EMAILS / "01-plain-inbound.eml")
    explained = result.explain("alice@example.com")
    assert explained.startswith("alice@example.com: delivered to the junk folder. Your function raised KeyError after")
    assert "The rule's fallback action MOVE_TO_JUNK applied" in explained
    log = result.invocations[0].own_log()
    assert log[0] == "-- attempt 1" and "before the crash" in log
    assert f'  File "{HERE}", line {CRASH_LINE}, in crashes' in log
