"""Lesson 07's workshop (workmail_sandbox.workshop): the notebook's starters fail their checks with the
specific finding, the solutions pass, typical wrong answers get specific feedback, checks leave the
learner's sandbox as it was, and start(n) catches up after a mess."""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import sys
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import boto3
import nbformat
import pytest

from workmail_sandbox import lessons, workshop
from workmail_sandbox import sandbox as sbx
from workmail_sandbox.errors import ConfigurationError, WorkMailSandboxError
from workmail_sandbox.workshop import harness

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "07_workshop.ipynb"
SOLUTIONS = ROOT / "notebooks" / "solutions" / "07_workshop_solutions.ipynb"

ORG_DOMAINS = ("example.com", "sales.example.com")
TAG = "[EXTERNAL]"
DEFAULT = {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}

# What each unsolved exercise must report: (failing finding's title contains, its hint contains).
STARTER_FAILURES = {
    1: ("alice@example.com received 'Delivery window for order 4471' from carlos.mendes@example.org without the tag",
        "Did the function call PutRawMessageContent, and does the rule run synchronously?"),
    2: ("finance@example.com received 'New bank details for invoice HL-3307' from n.petrova@harbourline.example.org",
        "Answer BOUNCE, with a bounceMessage"),
    3: ("erin@example.com: 'Warehouse Weekly #212: pallet prices, peak season checks'", "GetRawMessageContent"),
    4: ("The rule ran synchronously", "'synchronous': False"),
}


@pytest.fixture(scope="module", autouse=True)
def workshop_sandbox():
    """One sandbox for the module, in the workshop's state; stopped afterwards if this module started it."""
    was_running = sbx.current() is not None
    lessons.setup(7)
    yield
    if not was_running:
        sbx.stop()


def tagged_cells(path: Path, tag: str) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return [c.source for c in notebook.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


def load_cell(source: str, tmp_path: Path) -> object:
    """A notebook cell as a module of its own (so deploy_handler can read its functions' source)."""
    name = f"workshop_cell_{uuid.uuid4().hex}"
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def cell_for(path: Path, tag: str, number: int, tmp_path: Path):
    """The handler (and rule settings) that the cell tagged ``tag`` defines for exercise ``number``."""
    exercise = workshop.EXERCISES[number]
    matching = [s for s in tagged_cells(path, tag) if f"def {exercise.handler_name}(" in s]
    assert len(matching) == 1, f"{path.name}: one {tag!r} cell must define {exercise.handler_name}"
    module = load_cell(matching[0], tmp_path)
    rule = getattr(module, exercise.rule_variable) if exercise.rule_variable else None
    return getattr(module, exercise.handler_name), rule


def failing(report, title_part: str):
    found = [f for f in report.failures if title_part in f.title]
    assert found, f"no failing finding containing {title_part!r} in:\n{report}"
    return found[0]


# ----------------------------------------------------------------- the notebooks


def test_each_notebook_has_one_cell_per_exercise():
    assert len(tagged_cells(NOTEBOOK, "exercise")) == len(workshop.EXERCISES)
    assert len(tagged_cells(SOLUTIONS, "solution")) == len(workshop.EXERCISES)


@pytest.mark.parametrize("number", sorted(workshop.EXERCISES))
def test_the_unsolved_exercise_reports_its_failure(number, tmp_path):
    handler, rule = cell_for(NOTEBOOK, "exercise", number, tmp_path)
    report = workshop.check(number, handler, rule=rule)
    assert not report.passed
    title, hint = STARTER_FAILURES[number]
    finding = failing(report, title)
    assert hint in finding.hint and finding.expected and finding.happened
    with pytest.raises(workshop.ExerciseFailed, match=f"Exercise {number}"):
        report.raise_for_failure()


@pytest.mark.parametrize("number", sorted(workshop.EXERCISES))
def test_the_solution_passes(number, tmp_path):
    handler, rule = cell_for(SOLUTIONS, "solution", number, tmp_path)
    report = workshop.check(number, handler, rule=rule)
    assert report.raise_for_failure() is report
    assert report.passed and not report.failures and len(report.findings) >= 3


# ------------------------------------------------------- feedback for wrong answers


def raises_on_environment(event, context):
    bucket = os.environ["UPDATED_BUCKET"]
    return {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}, "bucket": bucket}]}


def answers_nothing(event, context):
    print(event["subject"])


def tag_everything(event, context):
    flow = boto3.client("workmailmessageflow")
    raw = flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    message = message_from_bytes(raw, policy=policy.default)
    message.replace_header("Subject", f"{TAG} {message['Subject']}")
    key = str(uuid.uuid4())
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=key, Body=message.as_bytes(policy=policy.SMTP))
    reference = {"bucket": os.environ["BUCKET"], "key": key}
    try:
        flow.put_raw_message_content(messageId=event["messageId"], content={"s3Reference": reference})
    except flow.exceptions.MessageFrozen:
        pass
    return DEFAULT


def tag_external_twice(event, context):
    """External only, but tags again and lets MessageFrozen escape."""
    if event["envelope"]["mailFrom"]["address"].rpartition("@")[2] in ORG_DOMAINS:
        return DEFAULT
    flow = boto3.client("workmailmessageflow")
    raw = flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    message = message_from_bytes(raw, policy=policy.default)
    message.replace_header("Subject", f"{TAG} {message['Subject']}")
    key = str(uuid.uuid4())
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=key, Body=message.as_bytes(policy=policy.SMTP))
    reference = {"bucket": os.environ["BUCKET"], "key": key}
    flow.put_raw_message_content(messageId=event["messageId"], content={"s3Reference": reference})
    return DEFAULT


def test_a_function_that_raises_is_quoted_from_its_log_without_a_traceback():
    report = workshop.check(1, raises_on_environment)
    finding = failing(report, "Your function raised an error on 5 message(s)")
    assert finding.happened.splitlines()[0] == "[ERROR] KeyError: 'UPDATED_BUCKET'"
    assert "in raises_on_environment, line" in finding.happened and 'os.environ["UPDATED_BUCKET"]' in finding.happened
    assert "environment variables" in finding.hint
    assert "Traceback" not in str(report) and "/tmp/" not in str(report)
    assert "failed on this message" in failing(report, "without the tag").hint


def test_an_invalid_answer_is_shown_with_the_response_schema():
    report = workshop.check(2, answers_nothing)
    finding = failing(report, "gave an invalid answer on 2 message(s)")
    assert finding.happened == "your function answered: null"
    assert "{'actions': [...]}" in finding.hint


def test_tagging_internal_mail_and_tagging_twice():
    report = workshop.check(1, tag_everything)
    internal = failing(report, "carol@example.com's internal mail 'Fire drill on Tuesday 18 November at 10:30' was tagged")
    assert internal.happened == "'[EXTERNAL] Fire drill on Tuesday 18 November at 10:30'"
    assert "ORG_DOMAINS" in internal.hint and "flowDirection" in internal.hint
    twice = failing(report, "'Re: [EXTERNAL] Delivery window for order 4471' from carlos.mendes@example.org with the tag twice")
    assert twice.happened == "'[EXTERNAL] Re: [EXTERNAL] Delivery window for order 4471'"
    assert "does not contain it yet" in twice.hint
    assert len(report.failures) == 2  # the external messages were tagged correctly


def test_redirected_mail_needs_message_frozen_caught():
    report = workshop.check(1, tag_external_twice)
    finding = failing(report, "Your function raised an error on 1 message(s): 20-redirected.eml")
    assert finding.happened.startswith("[ERROR] MessageFrozen") and "MessageFrozen" in finding.hint
    # one crash, one finding: the redirected message is not reported a second time
    assert sum("MessageFrozen" in f.happened for f in report.findings) == 1
    # the line quoted is the function's own call, not botocore's frame that raised
    assert "in tag_external_twice, line" in finding.happened and "of test_workshop.py: flow.put_raw" in finding.happened
    failing(report, "with the tag twice")
    assert not any("internal mail" in f.title for f in report.failures)


def test_a_tagging_function_on_an_asynchronous_rule_changes_nothing():
    report = workshop.check(1, tag_everything, rule={"synchronous": False})
    assert "asynchronous" in report.setting
    finding = failing(report, "'Delivery window for order 4471' from carlos.mendes@example.org without the tag")
    assert finding.hint.startswith("The rule runs asynchronously")


def bounce_everyone(event, context):
    if event["envelope"]["mailFrom"]["address"].rpartition("@")[2] in ORG_DOMAINS:
        return DEFAULT
    if "finance@example.com" in [r["address"] for r in event["envelope"]["recipients"]]:
        bounce = {"type": "BOUNCE", "parameters": {"bounceMessage": "Finance takes no outside mail."}}
        return {"actions": [{"allRecipients": True, "action": bounce}]}
    return DEFAULT


def bounce_silently_even_colleagues(event, context):
    if "finance@example.com" in [r["address"] for r in event["envelope"]["recipients"]]:
        return {"actions": [{"recipients": ["finance@example.com"], "action": {"type": "BOUNCE"}}, DEFAULT["actions"][0]]}
    return DEFAULT


def drop_finance(event, context):
    if event["envelope"]["mailFrom"]["address"].rpartition("@")[2] in ORG_DOMAINS:
        return DEFAULT
    return {"actions": [{"recipients": ["finance@example.com"], "action": {"type": "DROP"}}, DEFAULT["actions"][0]]}


def test_bouncing_everyone_instead_of_only_the_group():
    report = workshop.check(2, bounce_everyone)
    assert report.findings[0].passed and "Finance takes no outside mail." in report.findings[0].title
    finding = failing(report, "bob@example.com, also a recipient of 'New bank details for invoice HL-3307', did not get it")
    assert "bounced" in finding.happened and "allRecipients" in finding.hint
    assert len(report.failures) == 1


def test_a_bounce_without_text_and_bouncing_colleagues():
    report = workshop.check(2, bounce_silently_even_colleagues)
    no_text = failing(report, "but without a bounce message")
    assert "bounceMessage" in no_text.hint
    colleague = failing(report, "carol@example.com (inside the organization) could not write to finance@example.com")
    assert "finance@example.com: bounced" in colleague.happened and "Internal senders" in colleague.hint


def test_dropping_instead_of_bouncing():
    report = workshop.check(2, drop_finance)
    finding = failing(report, "finance@example.com received 'New bank details")
    assert finding.happened.startswith("dropped") and finding.hint.startswith("DROP tells nobody")


def junk_by_subject(event, context):
    subject = event["subject"].lower()
    action = "MOVE_TO_JUNK" if "newsletter" in subject or "weekly" in subject else "BYPASS_SPAM_CHECK"
    return {"actions": [{"allRecipients": True, "action": {"type": action}}]}


def test_junk_by_subject_words_and_bypassing_the_spam_check():
    report = workshop.check(3, junk_by_subject)
    promo = failing(report, "'Black Friday: 30% off standing desks until Sunday'")
    assert "bulk mail (List-Unsubscribe)" in promo.title and promo.expected == "junk"
    draft = failing(report, "'Newsletter draft for December: your comments by Friday'")
    assert "not from words in the subject" in draft.hint
    spam = failing(report, "'Action needed: your mailbox is 98% full'")
    assert "BYPASS_SPAM_CHECK would put it in the inbox" in spam.hint
    assert len(report.failures) == 3


def count_per_recipient_and_bounce(event, context):
    boto3.client("cloudwatch").put_metric_data(
        Namespace="WorkMailWorkshop",
        MetricData=[{"MetricName": "Messages", "Dimensions": [{"Name": "Direction", "Value": event["flowDirection"]}],
                     "Value": len(event["envelope"]["recipients"])}],
    )
    return {"actions": [{"allRecipients": True, "action": {"type": "BOUNCE"}}]}


def count_in_another_namespace(event, context):
    boto3.client("cloudwatch").put_metric_data(Namespace="Mail", MetricData=[{"MetricName": "Count", "Value": 1}])


def count_right_but_answer_bounce(event, context):
    boto3.client("cloudwatch").put_metric_data(
        Namespace="WorkMailWorkshop",
        MetricData=[{"MetricName": "Messages", "Dimensions": [{"Name": "Direction", "Value": event["flowDirection"]}],
                     "Value": 1, "Unit": "Count"}],
    )
    return {"actions": [{"allRecipients": True, "action": {"type": "BOUNCE"}}]}


def test_metrics_from_a_synchronous_rule_that_changes_delivery():
    report = workshop.check(4, count_per_recipient_and_bounce, rule={"synchronous": True})
    failing(report, "The rule ran synchronously")
    changed = failing(report, "Delivery changed for 9 recipient(s)")
    assert "01-plain-inbound.eml: alice@example.com inbox -> bounced" in changed.happened
    inbound = failing(report, "WorkMailWorkshop/Messages (Direction=INBOUND) counts 4, not 2")
    assert "three recipients" in inbound.hint


def test_metrics_in_the_wrong_place_are_listed():
    report = workshop.check(4, count_in_another_namespace)
    finding = failing(report, "CloudWatch has no data for WorkMailWorkshop/Messages (Direction=INBOUND)")
    assert finding.happened == "metrics your function put: Mail/Count"
    assert report.findings[0].passed and "asynchronously" in report.findings[0].title


def test_an_asynchronous_answer_is_only_a_note():
    report = workshop.check(4, count_right_but_answer_bounce)
    assert report.passed, report
    (note,) = report.notes
    assert "ignores the answer" in note.title and "ℹ" in str(report)


def test_functions_and_rules_that_cannot_be_used():
    report = workshop.check(2, lambda event, context: None)
    assert failing(report, "could not be deployed").happened.startswith("A lambda expression cannot be deployed")
    assert "no function to check" in workshop.check(3, None).failures[0].title
    report = workshop.check(1, tag_everything, rule={"synchronous": True, "rule_timeout_minutes": 300})
    assert "240" in failing(report, "The rule cannot be created").happened
    report = workshop.check(4, count_in_another_namespace, rule={"function_arn": "x"})
    assert "'function_arn'" in failing(report, "which the check sets itself").title


def sleeps(event, context):
    time.sleep(3)
    return DEFAULT


def test_a_function_that_hangs_is_reported_as_a_timeout(monkeypatch):
    monkeypatch.setattr(harness, "CHECK_TIMEOUT_SECONDS", 1)
    report = workshop.check(2, sleeps)
    finding = failing(report, "did not answer in time on 2 message(s)")
    assert "1.00 seconds" in finding.happened and "WorkMail waits at most 15" in finding.hint


# ---------------------------------------------------------- reports as a learner sees them


def test_report_text_and_html():
    report = workshop.check(2, bounce_everyone)
    text = str(report)
    assert text.splitlines()[0] == "Exercise 2 · Bounce mail to a restricted group: not yet (1 of 3 checks failed)"
    assert "    expected: delivered to the inbox" in text and "    hint:" in text
    html = report._repr_html_()
    assert html.count("<li") == 3 and "#b42318" in html and "#1a7f37" in html
    assert "&#x27;New bank details" in html  # escaped
    with pytest.raises(AssertionError) as raised:
        report.raise_for_failure()
    assert isinstance(raised.value, WorkMailSandboxError) and raised.value.fix.startswith("Bounce only")


def test_check_all_finds_the_functions_by_name(tmp_path):
    handler, _ = cell_for(SOLUTIONS, "solution", 2, tmp_path)
    board = workshop.check_all({"restrict_finance": handler})
    assert board.passed == 1 and len(board.rows) == 4
    text = str(board)
    assert "✔ 2 · Bounce mail to a restricted group: passed" in text
    assert "1 · Tag external mail: not checked (no function named tag_external yet)" in text
    assert "<li" in board._repr_html_()


def test_unknown_exercise_and_aws_mode_are_clear_errors(monkeypatch):
    with pytest.raises(ConfigurationError, match="no exercise 9"):
        workshop.start(9)
    with pytest.raises(ConfigurationError, match="no exercise 0"):
        workshop.check(0, tag_everything)
    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    with pytest.raises(ConfigurationError, match="aws mode") as raised:
        workshop.check(1, tag_everything)
    assert "WORKMAIL_SANDBOX_MODE" in raised.value.fix


# ------------------------------------------------------------ known states and isolation


def sandbox_facts(sb) -> dict:
    lam, s3 = sb.client("lambda"), sb.client("s3")
    return {
        "functions": sorted(f["FunctionName"] for f in lam.list_functions()["Functions"]),
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "users": sorted(
            (u["Name"], u.get("State"), u.get("Email"))
            for u in sb.client("workmail").list_users(OrganizationId=_org_id(sb))["Users"]
        ),
        "clock": sb.clock.now(),
    }


def _org_id(sb) -> str:
    (org,) = sb.client("workmail").list_organizations()["OrganizationSummaries"]
    return org["OrganizationId"]


def test_a_check_gives_the_learner_sandbox_back_untouched(tmp_path):
    state = workshop.start(1).state
    sb = state.sandbox
    mine = harness.Trial(state, workshop.Report(0, "mine"), function_name="my-own-function")
    assert mine.deploy(answers_nothing, handler_name="answers_nothing")
    sb.advance_clock(hours=2)
    before = sandbox_facts(sb)
    handler, _ = cell_for(SOLUTIONS, "solution", 1, tmp_path)
    assert workshop.check(1, handler).passed
    assert sandbox_facts(sb) == before
    assert "workshop-01-tag-external" not in before["functions"]
    # The learner's own PutRawMessageContent still works after the check restored the sandbox.
    flow, s3 = sb.client("workmailmessageflow"), sb.client("s3")
    mid = sb.put_message_in_transit(harness.emails_dir() / "01-plain-inbound.eml", organization_id=state.organization_id)
    bucket = state.hello_world["BucketName"]
    s3.put_object(Bucket=bucket, Key="mine", Body=flow.get_raw_message_content(messageId=mid)["messageContent"].read())
    flow.put_raw_message_content(messageId=mid, content={"s3Reference": {"bucket": bucket, "key": "mine"}})
    # And functions that existed before the check can still be found by ARN and deleted.
    gc.collect()
    lam = sb.client("lambda")
    assert lam.get_function(FunctionName=state.function_arn)["Configuration"]["FunctionName"] == state.function_name
    lam.delete_function(FunctionName=state.function_name)


def test_start_catches_up_after_a_mess():
    known = workshop.start(3)
    sb = known.state.sandbox
    expected = sandbox_facts(sb)
    bucket = known.state.hello_world["BucketName"]
    s3 = sb.client("s3")
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
    s3.delete_bucket_policy(Bucket=bucket)
    sb.client("lambda").delete_function(FunctionName=known.state.function_name)
    workmail = sb.client("workmail")
    alice = known.state.users["alice@example.com"]
    workmail.deregister_from_work_mail(OrganizationId=known.state.organization_id, EntityId=alice)
    sb.advance_clock(hours=30)
    assert sandbox_facts(sb) != expected

    again = workshop.start(3)
    assert sandbox_facts(sb) == expected
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    text = str(again)
    assert text.startswith("Exercise 3 · Route newsletters to junk: the sandbox is in the workshop's starting state.")
    assert "finance@example.com (members: alice@example.com)" in text
    assert "Check: workshop.check(3, junk_newsletters)" in text
    assert workshop.check(2, bounce_everyone).findings  # checks work from the caught-up state


def test_catch_up_in_a_restarted_sandbox_keeps_functions_reachable_by_arn():
    """start(n) restores a cached state; its functions can still be found by ARN and deleted."""
    sbx.stop()
    gc.collect()
    state = workshop.start(3).state
    gc.collect()
    lam = state.sandbox.client("lambda")
    assert lam.get_function(FunctionName=state.function_arn)["Configuration"]["FunctionName"] == state.function_name
    lam.delete_function(FunctionName=state.function_name)
    assert workshop.start(3).state.sandbox.client("lambda").get_function(FunctionName=state.function_name)


def test_a_check_without_a_running_sandbox_leaves_the_starting_state(tmp_path):
    sbx.stop()
    handler, _ = cell_for(SOLUTIONS, "solution", 3, tmp_path)
    assert workshop.check(3, handler).passed
    functions = [f["FunctionName"] for f in sbx.current().client("lambda").list_functions()["Functions"]]
    assert functions == [lessons.setup(7).function_name]


# ------------------------------------------------------------- the function's own log, in the learner's terms


def prints_then_raises(event, context):
    print("checking", event["subject"])
    return event["no-such-key"]


def prints_and_forgets_to_bounce(event, context):
    print("recipients:", len(event["envelope"]["recipients"]))
    return DEFAULT


def test_a_crash_is_reported_once_at_the_line_of_your_code_with_what_the_function_printed():
    report = workshop.check(1, prints_then_raises)
    line = prints_then_raises.__code__.co_firstlineno + 2
    crashes = [f for f in report.findings if "KeyError" in f.happened]
    assert len(crashes) == 1  # one crash, one finding (20-redirected.eml is among its messages)
    finding = crashes[0]
    assert "20-redirected.eml" in finding.title
    assert f"in prints_then_raises, line {line} of test_workshop.py: return event[\"no-such-key\"]" in finding.happened
    assert finding.log == "checking Delivery window for order 4471"  # what it printed before it failed
    assert "log:      checking Delivery window for order 4471" in str(report)
    assert 'class="wms-finding-log"' in report._repr_html_()
    assert "app.py" not in str(report)


def test_a_wrong_answer_shows_the_last_lines_the_function_printed_on_that_message():
    report = workshop.check(2, prints_and_forgets_to_bounce)
    finding = failing(report, "finance@example.com received 'New bank details for invoice HL-3307'")
    assert finding.log == "recipients: 2"
    assert finding.happened.startswith("delivered to alice@example.com")

