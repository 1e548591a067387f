"""workmail-sandbox invoke (invoke_project) and replay --project: a SAM project's function on real mail.

Most tests share one running sandbox (invoke_project uses it and leaves it running);
each project folder has its own name, so each test deploys its own stack. One test
runs with no sandbox running, as the command does on a fresh machine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest
from loopback import LoopbackListener

from workmail_sandbox import cli
from workmail_sandbox import sandbox as sbx
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.project_invoke import invoke_project

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "my_workmail_function"
PLAIN_INBOUND = ROOT / "data" / "emails" / "01-plain-inbound.eml"
PLAIN_OUTBOUND = ROOT / "data" / "emails" / "02-plain-outbound.eml"

MESSAGE = (
    b"From: Carlos Mendes <carlos@example.org>\r\n"
    b"To: Alice <alice@example.com>, bob@example.com\r\n"
    b"Cc: erin@sales.example.com\r\n"
    b"Subject: Quarterly report\r\n"
    b"Message-ID: <q3@example.org>\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
    b"\r\n"
    b"The numbers are attached.\r\n"
)

FUNCTION = """\
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: {handler}
      Runtime: python3.12
      Timeout: {timeout}
"""

# Prefixes the subject and adds a header through the Message Flow API (the AWS samples' way).
TAGGER = """\
import email, email.policy, os, uuid
import boto3

flow = boto3.client("workmailmessageflow")
s3 = boto3.client("s3")

def handler(event, context):
    message_id = event["messageId"]
    raw = flow.get_raw_message_content(messageId=message_id)["messageContent"].read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message.replace_header("Subject", os.environ["PREFIX"] + " " + str(message["Subject"]))
    message["X-Checked"] = "yes"
    key = str(uuid.uuid4())
    s3.put_object(Bucket=os.environ["BUCKET"], Key=key, Body=message.as_bytes(policy=email.policy.SMTP))
    flow.put_raw_message_content(messageId=message_id, content={"s3Reference": {"bucket": os.environ["BUCKET"], "key": key}})
    print("tagged", message_id)
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
"""

TAGGER_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Org:
    Type: String
    AllowedPattern: "^m-[0-9a-f]{32}$"
  Prefix:
    Type: String
    Default: "[Checked]"
Resources:
  Tagger:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Timeout: 5
      Environment:
        Variables:
          PREFIX: !Ref Prefix
          BUCKET: !Ref Copies
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: ["workmailmessageflow:GetRawMessageContent", "workmailmessageflow:PutRawMessageContent"]
              Resource: "*"
            - Effect: Allow
              Action: s3:PutObject
              Resource: !Sub ${Copies.Arn}/*
  Copies:
    Type: AWS::S3::Bucket
  CopiesPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Copies
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: !Sub "workmail.${AWS::Region}.amazonaws.com"}
            Action: [s3:GetObject, s3:GetObjectVersion]
            Resource: !Sub ${Copies.Arn}/*
            Condition:
              Bool: {aws:SecureTransport: "true"}
              StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}
              ArnLike:
                aws:SourceArn: !Sub arn:${AWS::Partition}:workmailmessageflow:${AWS::Region}:${AWS::AccountId}:message/${Org}/*
"""

BOUNCER = """\
def handler(event, context):
    print("bouncing", len(event["envelope"]["recipients"]), "recipients")
    return {"actions": [{"action": {"type": "BOUNCE", "parameters": {"bounceMessage": "Not accepted here"}},
                         "allRecipients": True}]}
"""

FAILING = """\
def handler(event, context):
    for n in range(30):
        print("step", n)
    raise RuntimeError("the database is down")
"""

SLOW = """\
import time

def handler(event, context):
    time.sleep(1.5)
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
"""

TRANSLATOR = """\
import boto3
from botocore.exceptions import ClientError

def handler(event, context):
    try:
        text = boto3.client("translate").translate_text(
            Text=event["subject"], SourceLanguageCode="en", TargetLanguageCode="fr")["TranslatedText"]
        print("translated:", text)
    except ClientError as error:
        print("translate failed:", error.response["Error"]["Code"])
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
"""

TWO = """\
def first(event, context):
    print("first ran")
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}

def second(event, context):
    print("second ran")
    return {"actions": [{"action": {"type": "DROP"}, "allRecipients": True}]}
"""


def write_project(
    folder: Path, code: str, *, template: str | None = None, functions: str | None = None, extra: str = ""
) -> Path:
    """A SAM project: src/app.py and a template.yaml (one function ``Fn`` running app.handler by default)."""
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text(code, encoding="utf-8")
    if template is None:
        body = functions or FUNCTION.format(name="Fn", handler="app.handler", timeout=5)
        template = 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\n'
        template += f"Resources:\n{body}{extra}"
    (folder / "template.yaml").write_text(template, encoding="utf-8")
    return folder


@pytest.fixture(scope="module", autouse=True)
def _stop_the_sandbox_at_the_end():
    yield
    sbx.stop()


@pytest.fixture
def sb():
    """The running sandbox the tests share (started on first use)."""
    return sbx.start()


@pytest.fixture
def message(tmp_path):
    path = tmp_path / "quarterly.eml"
    path.write_bytes(MESSAGE)
    return path


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def policy_statements(function_name):
    policy = boto3.client("lambda").get_policy(FunctionName=function_name)["Policy"]
    return json.loads(policy)["Statement"]


# invoke_project: the library function --------------------------------------------------------------


def test_a_fresh_sandbox_runs_the_example_project_and_is_stopped_afterwards():
    sbx.stop()
    run = invoke_project(EXAMPLE, PLAIN_INBOUND)
    assert sbx.current() is None
    assert run.ok and run.status == "succeeded" and run.attempts == 1
    assert run.filled_parameters == ["OrganizationId"] and run.parameters["OrganizationId"] == run.organization_id
    assert run.permission == "stack"  # the template's own AWS::Lambda::Permission
    assert [(r.recipient, r.outcome, r.rule) for r in run.recipients] == [
        ("alice@example.com", "inbox", "invoke TagExternalFunction")
    ]
    assert run.content.subject_before == "Delivery window for order 4471"
    assert run.content.subject_after == "[External] Delivery window for order 4471"
    assert [str(c) for c in run.calls] == [
        "workmailmessageflow.GetRawMessageContent ok",
        "s3.PutObject ok",
        "workmailmessageflow.PutRawMessageContent ok",
    ]
    assert any("tagged: [External]" in line for line in run.logs)
    assert "OrganizationId: filled in with the organization's id" in run.report()


def test_subject_and_headers_changed_through_the_message_flow_api(sb, tmp_path, message):
    project = write_project(tmp_path / "tagger-lib", TAGGER, template=TAGGER_TEMPLATE)
    run = invoke_project(project, message, parameters={"Prefix": "[Scanned]"})
    assert run.ok and run.response == {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
    assert run.parameters["Prefix"] == "[Scanned]"
    assert run.filled_parameters == ["Org"] and run.parameters["Org"] == run.organization_id  # by AllowedPattern
    assert run.domains == ["example.com", "sales.example.com"]
    assert {r.recipient: r.outcome for r in run.recipients} == {
        "alice@example.com": "inbox",
        "bob@example.com": "inbox",
        "erin@sales.example.com": "inbox",
    }
    change = run.content
    assert (change.subject_before, change.subject_after) == ("Quarterly report", "[Scanned] Quarterly report")
    assert "-Subject: Quarterly report" in change.header_diff
    assert "+Subject: [Scanned] Quarterly report" in change.header_diff
    assert "+X-Checked: yes" in change.header_diff
    assert change.body_changed is False and change.changed
    assert [u["effective"] for u in change.updates] == [True]
    # the template has no AWS::Lambda::Permission: the kit granted it, once, for this organization
    assert run.permission == "granted" and "no resource-based policy" in run.permission_reason
    statements = policy_statements(run.function_name)
    assert [s["Sid"] for s in statements] == [f"workmail-sandbox-{run.organization_id}"]
    assert statements[0]["Condition"]["StringEquals"]["AWS:SourceAccount"] == sb.account_id
    report = run.report()
    assert "subject: 'Quarterly report' -> '[Scanned] Quarterly report'" in report
    assert "    +X-Checked: yes" in report and "body: unchanged" in report


def test_asynchronous_rule_cannot_change_the_message(sb, tmp_path, message):
    project = write_project(tmp_path / "tagger-async", TAGGER, template=TAGGER_TEMPLATE)
    run = invoke_project(project, message, mode="async")
    assert run.ok and run.mode == "async" and run.invocation_outcome == "ignored"
    assert run.content.subject_after == "Quarterly report" and not run.content.changed
    assert [u["effective"] for u in run.content.updates] == [False]
    assert [c.operation for c in run.calls][-1] == "PutRawMessageContent"


def test_a_given_organization_id_is_kept_the_permission_granted_and_the_role_refused(sb):
    other = "m-" + "0" * 32
    run = invoke_project(EXAMPLE, PLAIN_INBOUND, parameters={"OrganizationId": other})
    assert run.filled_parameters == [] and run.parameters["OrganizationId"] == other
    # the stack's permission names another organization: this one needed its own
    assert run.permission == "granted" and "does not let" in run.permission_reason
    # and the role may read only the other organization's mail, as on AWS
    assert [str(c) for c in run.calls] == ["workmailmessageflow.GetRawMessageContent -> AccessDeniedException"]
    assert not run.ok and run.error["type"] == "ClientError" and "AccessDeniedException" in run.error["message"]


def test_bounce_for_every_recipient(sb, tmp_path, message):
    run = invoke_project(write_project(tmp_path / "bouncer-lib", BOUNCER), message)
    assert run.ok
    assert {r.outcome for r in run.recipients} == {"bounced"} and len(run.recipients) == 3
    assert {r.bounce_message for r in run.recipients} == {"Not accepted here"}
    assert {r.source for r in run.recipients} == {"lambda"}
    assert any("bouncing 3 recipients" in line for line in run.logs)
    assert run.calls == [] and not run.content.changed


def test_a_function_that_raises_is_a_failed_result_with_its_log(sb, tmp_path, message):
    run = invoke_project(write_project(tmp_path / "failing-lib", FAILING), message)
    assert not run.ok and run.status == "failed" and run.attempts == 1
    assert run.error == {"type": "RuntimeError", "message": "the database is down"}
    assert {(r.outcome, r.source, r.action) for r in run.recipients} == {("inbox", "fallback", "DEFAULT")}
    assert any("step 29" in line for line in run.logs) and any("RuntimeError" in line for line in run.logs)
    report = run.report()
    assert "function: FAILED (1 attempt): RuntimeError: the database is down" in report
    assert f"log (last 20 of {len(run.logs)} lines):" in report


def test_a_timeout_is_a_failure(sb, tmp_path, message):
    functions = FUNCTION.format(name="Slow", handler="app.handler", timeout=1)
    run = invoke_project(write_project(tmp_path / "slow-lib", SLOW, functions=functions), message)
    assert not run.ok and run.timed_out
    assert "timed out" in run.error["message"].lower()


def test_a_call_nothing_emulates_is_recorded_with_its_error_code(sb, tmp_path, message):
    run = invoke_project(write_project(tmp_path / "translator-lib", TRANSLATOR), message)
    assert run.ok
    (call,) = run.calls
    assert (call.service, call.operation, call.error_code) == ("translate", "TranslateText", "NotImplemented")
    assert call.function_name == run.function_name and call.request_id == run.request_ids[0]
    assert any("translate failed: NotImplemented" in line for line in run.logs)
    assert "translate.TranslateText -> NotImplemented" in run.report()


def test_stand_ins_answer_the_call_and_are_removed_afterwards(sb, tmp_path, message):
    stand_ins = tmp_path / "stand-ins.yaml"
    stand_ins.write_text(
        "stand_ins:\n"
        "  - service: translate\n"
        "    operation: translate_text\n"
        "    answer: {TranslatedText: Rapport trimestriel, SourceLanguageCode: en, TargetLanguageCode: fr}\n",
        encoding="utf-8",
    )
    run = invoke_project(write_project(tmp_path / "translator-stand-in", TRANSLATOR), message, stand_ins=stand_ins)
    assert run.stand_ins == ["translate.TranslateText"]
    assert [str(c) for c in run.calls] == ["translate.TranslateText ok"]
    assert any("translated: Rapport trimestriel" in line for line in run.logs)
    assert sb.stand_ins() == []  # the running sandbox is left as it was


def test_two_functions_need_function(sb, tmp_path, message):
    functions = FUNCTION.format(name="First", handler="app.first", timeout=5)
    functions += FUNCTION.format(name="Second", handler="app.second", timeout=5)
    project = write_project(tmp_path / "two-lib", TWO, functions=functions)
    with pytest.raises(SandboxError, match="2 functions"):
        invoke_project(project, message)
    run = invoke_project(project, message, function="Second")
    assert run.logical_id == "Second" and {r.outcome for r in run.recipients} == {"dropped"}
    assert any("second ran" in line for line in run.logs)


def test_skip_leaves_out_what_the_sandbox_cannot_create(sb, tmp_path, message):
    extra = (
        "  Weird:\n    Type: Custom::Weird\n    Properties:\n      ServiceToken: arn:aws:sns:us-east-1:123456789012:t\n"
    )
    project = write_project(tmp_path / "skipping-lib", BOUNCER, extra=extra)
    with pytest.raises(SandboxError, match="Weird"):
        invoke_project(project, message)
    run = invoke_project(project, message, skip=["Weird"])
    assert run.ok and {r.outcome for r in run.recipients} == {"bounced"}


def test_outbound_mail_is_sent_from_the_senders_organization(sb):
    run = invoke_project(EXAMPLE, PLAIN_OUTBOUND, direction="outbound")
    assert "example.com" in run.domains and run.direction == "outbound"
    assert [(r.recipient, r.outcome) for r in run.recipients] == [("jordan.reyes@example.net", "sent")]
    assert not run.content.changed  # the example tags inbound mail only
    assert any("left as it is" in line for line in run.logs)


def test_a_message_ses_blocks_never_reaches_the_function(sb):
    run = invoke_project(EXAMPLE, ROOT / "data" / "emails" / "19-virus-fail.eml")
    assert run.status == "not invoked" and not run.ok and run.attempts == 0 and run.logs == []
    assert [(r.outcome, r.source) for r in run.recipients] == [("dropped", "ses")]
    assert "function: not invoked (no recipient reached the Run Lambda rule)" in run.report()


def test_call_log_records_only_function_code_and_not_calls_made_while_answering(sb):
    from workmail_sandbox import call_log
    from workmail_sandbox.invocation import CURRENT_INVOCATION, Invocation

    def answer(params):
        boto3.client("s3").list_buckets()  # made while answering the function's call: not the function's
        return {"TranslatedText": "Bonjour", "SourceLanguageCode": "en", "TargetLanguageCode": "fr"}

    stand_in = sb.stand_in("translate", "translate_text", answer)
    call_log.install()
    try:
        with call_log.CallRecorder() as recorder:
            boto3.client("s3").list_buckets()  # the kit's (or a notebook's) own call: not recorded
            token = CURRENT_INVOCATION.set(Invocation("fn", "arn:fn", None, "req-1", sb.region, sb.account_id))
            try:
                translate = boto3.client("translate")
                translate.translate_text(Text="Hello", SourceLanguageCode="en", TargetLanguageCode="fr")
                s3 = boto3.client("s3")
                with pytest.raises(s3.exceptions.NoSuchBucket):
                    s3.get_bucket_policy(Bucket="no-such-bucket")
            finally:
                CURRENT_INVOCATION.reset(token)
    finally:
        stand_in.remove()
    assert [str(c) for c in recorder.calls] == ["translate.TranslateText ok", "s3.GetBucketPolicy -> NoSuchBucket"]
    assert {(c.function_name, c.request_id) for c in recorder.calls} == {("fn", "req-1")}


# the command ----------------------------------------------------------------------------------------


def test_cli_text_report(sb, capsys, tmp_path, message):
    project = write_project(tmp_path / "tagger-cli", TAGGER, template=TAGGER_TEMPLATE)
    code, out, err = run_cli(capsys, "invoke", project, "--eml", message, "--parameter", "Prefix=[CLI]")
    assert code == 0 and err == ""
    assert "Org: filled in with the organization's id" in out
    assert "permission: granted here" in out
    assert "alice@example.com: inbox (DEFAULT; rule 'invoke Tagger', lambda)" in out
    assert "subject: 'Quarterly report' -> '[CLI] Quarterly report'" in out
    assert "    +X-Checked: yes" in out
    assert "  workmailmessageflow.PutRawMessageContent ok" in out


def test_cli_json_is_one_object_with_the_fields(sb, capsys, tmp_path, message):
    project = write_project(tmp_path / "translator-cli", TRANSLATOR)
    code, out, err = run_cli(capsys, "invoke", project, "--eml", message, "--json", "--async")
    assert code == 0 and err == ""
    data = json.loads(out)  # exactly one JSON document
    assert data["ok"] is True and data["mode"] == "async" and data["status"] == "succeeded"
    assert [r["outcome"] for r in data["recipients"]] == ["inbox", "inbox", "inbox"]
    assert data["content"]["subject_before"] == data["content"]["subject_after"] == "Quarterly report"
    assert data["content"]["header_diff"] == [] and data["content"]["changed"] is False
    assert data["calls"] == [
        {
            "service": "translate",
            "operation": "TranslateText",
            "error_code": "NotImplemented",
            "function_name": data["function_name"],
            "request_id": data["request_ids"][0],
        }
    ]
    assert any(line.startswith("START RequestId:") for line in data["logs"])


def test_cli_text_stays_short_for_many_recipients(sb, capsys, tmp_path):
    many = ROOT / "data" / "emails" / "05-many-recipients.eml"
    code, out, _ = run_cli(capsys, "invoke", write_project(tmp_path / "bouncer-many", BOUNCER), "--eml", many)
    assert code == 0
    shown = [line for line in out.splitlines() if ": bounced (BOUNCE; rule 'invoke Fn', lambda)" in line]
    assert len(shown) == 20
    assert re.search(r"\.\.\. \d+ more \(bounced \d+\); --json lists every recipient", out)


def test_cli_exit_1_when_the_function_fails(sb, capsys, tmp_path, message):
    code, out, err = run_cli(capsys, "invoke", write_project(tmp_path / "failing-cli", FAILING), "--eml", message)
    assert code == cli.EXIT_INVALID and err == ""
    assert "function: FAILED (1 attempt): RuntimeError: the database is down" in out


def test_cli_two_functions_without_function_is_one_line_exit_3(sb, capsys, tmp_path, message):
    functions = FUNCTION.format(name="First", handler="app.first", timeout=5)
    functions += FUNCTION.format(name="Second", handler="app.second", timeout=5)
    project = write_project(tmp_path / "two-cli", TWO, functions=functions)
    code, out, err = run_cli(capsys, "invoke", project, "--eml", message)
    assert code == cli.EXIT_INPUT and out == "" and err.count("\n") == 1
    assert "First, Second" in err and "--function" in err
    code, out, _ = run_cli(capsys, "invoke", project, "--eml", message, "--function", "First", "--json")
    assert code == 0 and json.loads(out)["logical_id"] == "First"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: ["invoke", tmp / "nowhere", "--eml", PLAIN_INBOUND], "no such project folder"),
        (lambda tmp: ["invoke", EXAMPLE, "--eml", tmp / "missing.eml"], "no such file"),
        (lambda tmp: ["invoke", EXAMPLE, "--eml", tmp / "not-mail.eml"], "not-mail.eml"),
        (lambda tmp: ["invoke", EXAMPLE, "--eml", PLAIN_INBOUND, "--parameter", "Nope=1"], "no parameter Nope"),
        (lambda tmp: ["invoke", EXAMPLE, "--eml", PLAIN_INBOUND, "--stand-ins", tmp / "none.yaml"], "stand-in"),
    ],
    ids=["missing-project", "missing-eml", "not-an-email", "unknown-parameter", "missing-stand-ins"],
)
def test_cli_bad_input_is_one_line_on_stderr_exit_3(capsys, tmp_path, make, expected):
    (tmp_path / "not-mail.eml").write_bytes(b"%PDF-1.7\n\x00\x01binary")
    code, out, err = run_cli(capsys, *make(tmp_path))
    assert code == cli.EXIT_INPUT and out == ""
    assert err.startswith("workmail-sandbox: error:") and err.count("\n") == 1 and expected in err


def test_cli_usage_errors(capsys):
    for argv in (
        ["invoke", str(EXAMPLE)],
        ["invoke", str(EXAMPLE), "--eml", "x.eml", "--sync", "--async"],
        ["invoke", str(EXAMPLE), "--eml", "x.eml", "--parameter", "novalue"],
    ):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == cli.EXIT_USAGE
    assert "KEY=VALUE" in capsys.readouterr().err


def test_invoke_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["invoke", "--help"])
    out = capsys.readouterr().out
    assert "0 when the function ran without error" in out and "1 when it failed" in out


# replay --project ------------------------------------------------------------------------------------

RULES = """\
inbound:
  - name: screen
    senders: ["*"]
    recipients: ["*"]
    action: RUN_LAMBDA
    function_arn: arn:aws:lambda:us-east-1:123456789012:function:replaced-by-the-project
    synchronous: true
    fallback_action: DEFAULT
    rule_timeout_minutes: 0
"""


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("01-plain-inbound.eml", "05-many-recipients.eml"):
        (folder / name).write_bytes((ROOT / "data" / "emails" / name).read_bytes())
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return folder, rules


def test_replay_project_runs_the_projects_function_for_every_message(capsys, tmp_path, corpus):
    sbx.stop()  # replay's organization has the sample domains: a fresh sandbox, as on the command line
    folder, rules = corpus
    out_csv = tmp_path / "rows.csv"
    project = write_project(tmp_path / "bouncer-replay", BOUNCER)
    code, out, err = run_cli(
        capsys, "replay", folder, "--rules", rules, "--project", project, "--no-progress", "--csv", out_csv
    )
    assert code == 0, err
    import pandas as pd

    frame = pd.read_csv(out_csv)
    assert set(frame["message"]) == {"01-plain-inbound.eml", "05-many-recipients.eml"}
    assert set(frame["outcome"]) == {"bounced"} and set(frame["source"]) == {"lambda"}
    assert "replayed 2 messages: 2 routed, 0 failed" in out


def test_replay_project_with_a_logical_id_and_parameters(capsys, tmp_path, corpus):
    sbx.stop()
    folder, rules = corpus
    functions = FUNCTION.format(name="First", handler="app.first", timeout=5)
    functions += FUNCTION.format(name="Second", handler="app.second", timeout=5)
    project = write_project(tmp_path / "two-replay", TWO, functions=functions)
    from workmail_sandbox.replay_folder import replay_folder

    frame = replay_folder(folder, rules, project=project, function="Second", progress=False)
    assert set(frame["outcome"]) == {"dropped"}
    code, _, err = run_cli(
        capsys,
        "replay",
        folder,
        "--rules",
        rules,
        "--project",
        EXAMPLE,
        "--parameter",
        "InternalDomains=example.com",
        "--no-progress",
    )
    assert code == 0, err


def test_replay_function_path_and_project_are_mutually_exclusive(capsys, corpus):
    folder, rules = corpus
    with pytest.raises(SystemExit) as exc:
        cli.main(
            [
                "replay",
                str(folder),
                "--rules",
                str(rules),
                "--project",
                str(EXAMPLE),
                "--function",
                "my_function.py:lambda_handler",
            ]
        )
    assert exc.value.code == cli.EXIT_USAGE
    assert "mutually exclusive" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["replay", str(folder), "--rules", str(rules), "--parameter", "A=1"])
    assert exc.value.code == cli.EXIT_USAGE
    assert "--project" in capsys.readouterr().err


# invoke --no-network -----------------------------------------------------------------------------------

PROBE = """\
import subprocess, sys

def handler(event, context):
    code = "import socket; socket.create_connection(('127.0.0.1', %d), timeout=2); print('connected')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    print("probe:", "connected" if "connected" in done.stdout else "refused")
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
"""


def test_invoke_no_network_runs_the_command_in_a_namespace_of_its_own(tmp_path, message):
    import subprocess
    import sys

    from workmail_sandbox.network import can_isolate_network

    listener = LoopbackListener()
    project = write_project(tmp_path / "probe-isolated", PROBE % listener.port)
    done = subprocess.run(
        [sys.executable, "-m", "workmail_sandbox.cli", "invoke", str(project), "--eml", str(message), "--json",
         "--no-network"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    listener.close()
    if not can_isolate_network():
        assert done.returncode != 0 and "unshare -rn failed" in done.stderr and "Traceback" not in done.stderr
        return
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert "probe: refused" in "\n".join(data["logs"])  # not even this machine's loopback server
