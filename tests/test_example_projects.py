"""The example function projects in examples/ deploy in the sandbox and do what their READMEs say.

Each project is deployed twice over: with ``wms.deploy_project`` in a sandbox (the
pytest plugin's ``workmail_sandbox`` and ``workmail_org``), where the test routes
mail through an organization and looks at what the stack made; and through
``workmail-sandbox invoke`` (``cli.main`` or ``invoke_project``, which start a sandbox
of their own), whose outcome is the one each README documents.

Builds go to one dependency cache for the session (``WORKMAIL_SANDBOX_CACHE``), so
calendar_invite_tagger's ``requirements.txt`` is installed by pip once per run.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import shlex
import time
from pathlib import Path
from typing import Any

import pytest

import workmail_sandbox as wms
from workmail_sandbox import cli
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.flow import FlowSettings
from workmail_sandbox.organization import Organization
from workmail_sandbox.project_invoke import invoke_project

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EMAILS = ROOT / "data" / "emails"
CALENDAR_INVITE = EMAILS / "44-calendar-invite.eml"  # priya@partner.example.org to alice, cc bob; 3,332 bytes
CALENDAR_REPLY = EMAILS / "60-calendar-reply.eml"  # METHOD:REPLY, to erin
GERMAN_SUBJECT = EMAILS / "22-latin1-8bit-body.eml"  # "Lieferung KW 47", to dave@sales.example.com
PLAIN_FROM_VIP = EMAILS / "01-plain-inbound.eml"  # carlos.mendes@example.org to alice
URGENT_FROM_VIP = EXAMPLES / "escalation_state_machine" / "messages" / "urgent-from-vip.eml"
WEBHOOK = "https://chat.example.net/hooks/T0001/B0002/mail-alerts"  # chat_webhook_notify's default WebhookUrl

# The commands each README gives, run here as written (from the repository's root).
SIZE_DEFAULT = "workmail-sandbox invoke examples/size_limit_bouncer --eml data/emails/44-calendar-invite.eml"
SIZE_BOUNCE = f"{SIZE_DEFAULT} --parameter MaxSizeKb=2"
SIZE_JUNK = f"{SIZE_DEFAULT} --parameter MaxSizeKb=2 --parameter Action=MOVE_TO_JUNK"
SIZE_REFUSED = f"{SIZE_DEFAULT} --parameter MaxSizeKb=0"
TRANSLATE = "workmail-sandbox invoke examples/translate_subject --eml data/emails/22-latin1-8bit-body.eml"
TRANSLATE_STAND_INS = f"{TRANSLATE} --stand-ins examples/translate_subject/stand-ins.yaml"
CHAT = "workmail-sandbox invoke examples/chat_webhook_notify --eml data/emails/44-calendar-invite.eml --async"
CHAT_STAND_INS = f"{CHAT} --stand-ins examples/chat_webhook_notify/stand-ins.yaml"
ESCALATE = (
    "workmail-sandbox invoke examples/escalation_state_machine --function EscalateFunction "
    "--eml examples/escalation_state_machine/messages/urgent-from-vip.eml"
)
CALENDAR = "workmail-sandbox invoke examples/calendar_invite_tagger --eml data/emails/44-calendar-invite.eml"
README_COMMANDS = {
    "size_limit_bouncer": (SIZE_DEFAULT, SIZE_BOUNCE, SIZE_JUNK, SIZE_REFUSED),
    "translate_subject": (TRANSLATE, TRANSLATE_STAND_INS),
    "chat_webhook_notify": (CHAT, CHAT_STAND_INS),
    "escalation_state_machine": (ESCALATE,),
    "calendar_invite_tagger": (CALENDAR,),
}


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dependency cache for the whole run: pip installs icalendar once."""
    return tmp_path_factory.mktemp("sam-build-cache")


@pytest.fixture(autouse=True)
def _shared_build_cache(monkeypatch: pytest.MonkeyPatch, build_cache: Path) -> None:
    monkeypatch.setenv("WORKMAIL_SANDBOX_CACHE", str(build_cache))


# helpers -----------------------------------------------------------------------------------------


def run_readme_command(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, Any]:
    """A README's ``workmail-sandbox invoke ...`` line, run from the repository's root with ``--json``.

    Returns the exit status and the JSON report.
    """
    words = shlex.split(command)
    assert words[:2] == ["workmail-sandbox", "invoke"], command
    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    status = cli.main([*words[1:], "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


def outcomes(run: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """recipient -> (outcome, action) from invoke's JSON."""
    return {r["recipient"]: (r["outcome"], r["action"]) for r in run["recipients"]}


def calls(run: dict[str, Any]) -> list[str]:
    """The function's AWS calls as the report prints them: 'service.Operation ok' or '... -> Code'."""
    return [
        f"{c['service']}.{c['operation']}" + (f" -> {c['error_code']}" if c["error_code"] else " ok")
        for c in run["calls"]
    ]


def organization(sb: Any, org_info: Any, function_arn: str, *, synchronous: bool = True) -> Organization:
    """The plugin's organization, with one Run Lambda rule for every sender and recipient."""
    rule: dict[str, Any] = {
        "name": "run-example",
        "senders": ["*"],
        "recipients": ["*"],
        "action": "RUN_LAMBDA",
        "function_arn": function_arn,
        "synchronous": synchronous,
    }
    if synchronous:
        rule.update(fallback_action="DEFAULT", rule_timeout_minutes=0)
    return Organization.attach(
        sb,
        org_info.organization_id,
        rules={"inbound": [rule]},
        settings=FlowSettings(unknown_recipients="create-mailbox"),
    )


def delivered(org: Organization, address: str, folder: str = "inbox") -> email.message.Message:
    """The last message ``address`` received in ``folder``, as the mailbox has it."""
    item = org.mailbox(address).folder(folder)[-1]
    assert item.content is not None
    return email.message_from_bytes(item.content, policy=email.policy.default)


def executions(sb: Any, machine_arn: str, count: int) -> list[dict[str, Any]]:
    """The state machine's executions once ``count`` of them have finished (they run in a thread)."""
    sfn = sb.client("stepfunctions")
    deadline = time.monotonic() + 10
    while True:
        listed = sfn.list_executions(stateMachineArn=machine_arn)["executions"]
        done = [e for e in listed if e["status"] != "RUNNING"]
        if len(done) >= count or time.monotonic() > deadline:
            return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]
        time.sleep(0.05)


def test_every_example_has_a_readme_with_the_commands_tested_here():
    for name, commands in README_COMMANDS.items():
        folder = EXAMPLES / name
        readme = (folder / "README.md").read_text(encoding="utf-8")
        for command in commands:
            assert command in readme, (name, command)
        assert "Runtime: python3.12" in (folder / "template.yaml").read_text(encoding="utf-8"), name
        for code in folder.rglob("*.py"):
            text = code.read_text(encoding="utf-8")
            # Unmodified AWS code: plain boto3, nothing from the kit.
            assert "workmail_sandbox" not in text, code


# size_limit_bouncer: Parameters (Number with bounds, AllowedValues) and Globals -------------------


def test_size_limit_bouncer_deploys_with_its_globals_and_parameters(workmail_sandbox, workmail_org):
    sb = workmail_sandbox
    project = wms.deploy_project(
        EXAMPLES / "size_limit_bouncer", {"OrganizationId": workmail_org.organization_id, "MaxSizeKb": 3}
    )
    config = sb.client("lambda").get_function_configuration(FunctionName=project.function().name)
    # Globals: Runtime, Timeout, MemorySize, and LOG_LEVEL merged with the function's own variables.
    assert (config["Runtime"], config["Timeout"], config["MemorySize"]) == ("python3.12", 10, 256)
    assert config["Environment"]["Variables"] == {"LOG_LEVEL": "INFO", "MAX_SIZE_KB": "3", "OVERSIZE_ACTION": "BOUNCE"}

    org = organization(sb, workmail_org, project.function().arn)
    small = org.receive(PLAIN_FROM_VIP)  # 1.4 KB
    large = org.receive(CALENDAR_INVITE)  # 3.3 KB
    assert small.outcomes == {"alice@example.com": "inbox"}
    assert large.outcomes == {"alice@example.com": "bounced", "bob@example.com": "bounced"}
    assert "Your message is 3.3 KB" in large["alice@example.com"].bounce_message


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"MaxSizeKb": "0"}, "Parameter MaxSizeKb is 0, outside its MinValue 1"),
        ({"MaxSizeKb": "30000"}, "outside its MaxValue 25600"),
        ({"MaxSizeKb": "big"}, "is a Number, and 'big' is not a number"),
        ({"Action": "DROP"}, "not one of its AllowedValues (BOUNCE, MOVE_TO_JUNK)"),
    ],
)
def test_size_limit_bouncer_refuses_parameters_its_template_does_not_allow(workmail_sandbox, parameters, message):
    with pytest.raises(SandboxError) as caught:
        wms.deploy_project(EXAMPLES / "size_limit_bouncer", {"OrganizationId": "m-" + "0" * 32, **parameters})
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("command", "outcome", "action"),
    [
        (SIZE_DEFAULT, "inbox", "DEFAULT"),  # the default limit, 10240 KB
        (SIZE_BOUNCE, "bounced", "BOUNCE"),
        (SIZE_JUNK, "junk", "MOVE_TO_JUNK"),
    ],
    ids=["default", "bounce", "junk"],
)
def test_size_limit_bouncer_invoke(capsys, monkeypatch, command, outcome, action):
    status, run = run_readme_command(command, capsys, monkeypatch)
    assert status == 0
    assert run["filled_parameters"] == ["OrganizationId"]
    assert outcomes(run) == {"alice@example.com": (outcome, action), "bob@example.com": (outcome, action)}
    assert calls(run) == ["workmailmessageflow.GetRawMessageContent ok"]
    assert run["content"]["subject_after"] == run["content"]["subject_before"]
    if action == "BOUNCE":
        bounce = run["recipients"][0]["bounce_message"]
        assert bounce.startswith("Your message is 3.3 KB; this organization accepts messages of at most 2 KB.")


def test_size_limit_bouncer_invoke_refuses_a_limit_under_min_value(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status = cli.main(shlex.split(SIZE_REFUSED)[1:])
    captured = capsys.readouterr()
    assert (status, captured.out) == (3, "")  # nothing deployed, no report
    assert "error: Parameter MaxSizeKb is 0, outside its MinValue 1." in captured.err


# translate_subject: an AWS service the sandbox does not emulate, and its stand-in -----------------


def test_translate_subject_deployed_with_a_stand_in_that_reads_the_request(workmail_sandbox, workmail_org):
    sb = workmail_sandbox
    project = wms.deploy_project(
        EXAMPLES / "translate_subject", {"OrganizationId": workmail_org.organization_id, "TargetLanguage": "fr"}
    )
    stand_in = sb.stand_in(
        "translate",
        "translate_text",
        lambda request: {
            "TranslatedText": {"Lieferung KW 47": "Livraison semaine 47"}.get(request["Text"], request["Text"]),
            "SourceLanguageCode": "de",
            "TargetLanguageCode": request["TargetLanguageCode"],
        },
    )
    org = organization(sb, workmail_org, project.function().arn)

    result = org.receive(GERMAN_SUBJECT)

    assert result.outcomes == {"dave@sales.example.com": "inbox"}
    assert stand_in.calls == [{"Text": "Lieferung KW 47", "SourceLanguageCode": "auto", "TargetLanguageCode": "fr"}]
    message = delivered(org, "dave@sales.example.com")
    assert message["Subject"] == "[de] Livraison semaine 47"
    assert message["X-Original-Subject"] == "Lieferung KW 47"


def test_translate_subject_invoke_without_stand_ins_falls_back(capsys, monkeypatch):
    status, run = run_readme_command(TRANSLATE, capsys, monkeypatch)
    assert status == 0 and run["status"] == "succeeded"
    assert outcomes(run) == {"dave@sales.example.com": ("inbox", "DEFAULT")}
    assert run["content"]["subject_after"] == "Lieferung KW 47"
    assert not run["content"]["changed"]
    assert calls(run) == ["translate.TranslateText -> NotImplemented"]
    assert any("Translate failed" in line and "subject left as it is" in line for line in run["logs"])


def test_translate_subject_invoke_with_its_stand_ins_file_translates(capsys, monkeypatch):
    status, run = run_readme_command(TRANSLATE_STAND_INS, capsys, monkeypatch)
    assert status == 0
    assert run["stand_ins"] == ["translate.TranslateText"]
    assert outcomes(run) == {"dave@sales.example.com": ("inbox", "DEFAULT")}
    assert (run["content"]["subject_before"], run["content"]["subject_after"]) == (
        "Lieferung KW 47",
        "[de] Delivery week 47",
    )
    assert "+X-Original-Subject: Lieferung KW 47" in run["content"]["header_diff"]
    assert calls(run) == [
        "translate.TranslateText ok",
        "workmailmessageflow.GetRawMessageContent ok",
        "s3.PutObject ok",
        "workmailmessageflow.PutRawMessageContent ok",
    ]


# chat_webhook_notify: a Secrets Manager secret, an HTTP webhook and the network guard ------------------


def test_chat_webhook_notify_reads_its_secret_and_posts_to_the_webhook(workmail_sandbox, workmail_org):
    sb = workmail_sandbox
    project = wms.deploy_project(EXAMPLES / "chat_webhook_notify", {"OrganizationId": workmail_org.organization_id})
    secret_arn = project.outputs["WebhookSecretArn"]
    secret = sb.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    assert json.loads(secret["SecretString"]) == {"webhook_url": WEBHOOK}
    config = sb.client("lambda").get_function_configuration(FunctionName=project.function().name)
    assert config["Environment"]["Variables"] == {"WEBHOOK_SECRET_ARN": secret_arn}  # the URL itself stays out

    chat = sb.stand_in_http("https://chat.example.net/hooks/", {"status": 200, "json": {"ok": True}})
    org = organization(sb, workmail_org, project.function().arn, synchronous=False)
    result = org.receive(CALENDAR_INVITE)

    assert result.outcomes == {"alice@example.com": "inbox", "bob@example.com": "inbox"}
    [post] = chat.calls
    assert (post.method, post.url, post.header("Content-Type")) == ("POST", WEBHOOK, "application/json")
    assert post.json() == {
        "text": "New mail for alice@example.com, bob@example.com from priya.natarajan@partner.example.org: "
        "Invitation: Quarterly logistics review @ Mon 24 Nov 2025 15:00 - 16:00 (CET)"
    }


def test_chat_webhook_notify_invoke_without_stand_ins_is_refused_by_the_network_guard(capsys, monkeypatch):
    status, run = run_readme_command(CHAT, capsys, monkeypatch)
    assert status == 1 and run["status"] == "failed"
    assert run["error"]["type"] == "URLError"
    assert "The sandbox refused a network name lookup to chat.example.net" in run["error"]["message"]
    # An asynchronous rule never changes delivery, even when its function fails.
    assert outcomes(run) == {"alice@example.com": ("inbox", "DEFAULT"), "bob@example.com": ("inbox", "DEFAULT")}
    assert calls(run) == ["secretsmanager.GetSecretValue ok"]
    assert run["http_calls"] == []


def test_chat_webhook_notify_invoke_with_its_stand_ins_file_posts(capsys, monkeypatch):
    status, run = run_readme_command(CHAT_STAND_INS, capsys, monkeypatch)
    assert status == 0 and run["status"] == "succeeded"
    assert outcomes(run) == {"alice@example.com": ("inbox", "DEFAULT"), "bob@example.com": ("inbox", "DEFAULT")}
    assert calls(run) == ["secretsmanager.GetSecretValue ok"]
    assert run["http_calls"] == [f"POST {WEBHOOK}"]
    assert any(
        "Posted to chat (HTTP 200): New mail for alice@example.com, bob@example.com" in line for line in run["logs"]
    )


# escalation_state_machine: roles by Fn::GetAtt, a state machine that runs, a second function ----------


def test_escalation_state_machine_runs_for_vip_mail(workmail_sandbox, workmail_org):
    sb = workmail_sandbox
    project = wms.deploy_project(
        EXAMPLES / "escalation_state_machine", {"OrganizationId": workmail_org.organization_id}
    )
    escalate = project.function("EscalateFunction")
    machine_arn = project.outputs["StateMachineArn"]
    # Role: !GetAtt EscalateFunctionRole.Arn, and the state machine's ARN (Ref) in the environment.
    role_type, role_name = project.resources["EscalateFunctionRole"]
    assert role_type == "AWS::IAM::Role"
    assert escalate.role_arn == sb.client("iam").get_role(RoleName=role_name)["Role"]["Arn"]
    variables = sb.client("lambda").get_function_configuration(FunctionName=escalate.name)["Environment"]["Variables"]
    assert variables == {
        "STATE_MACHINE_ARN": machine_arn,
        "VIP_SENDERS": "carlos.mendes@example.org,bigcustomer.example.net",
    }

    org = organization(sb, workmail_org, escalate.arn)
    urgent = org.receive(URGENT_FROM_VIP)
    normal = org.receive(PLAIN_FROM_VIP)
    other = org.receive(CALENDAR_INVITE)  # priya@partner.example.org is no VIP

    assert urgent.outcomes == {"alice@example.com": "inbox", "bob@example.com": "inbox"}
    assert urgent["alice@example.com"].action == "BYPASS_SPAM_CHECK"
    assert normal["alice@example.com"].action == "BYPASS_SPAM_CHECK"
    assert other["alice@example.com"].action == "DEFAULT"

    finished = executions(sb, machine_arn, 2)
    by_name = {e["name"]: e for e in finished}
    assert len(finished) == 2  # no execution for the message that is not from a VIP
    for result, priority, queue in ((urgent, "high", "vip-urgent"), (normal, "normal", "vip")):
        invocation_id = result.invocations[0].invocation_id
        execution = by_name[invocation_id]  # named after the invocationId
        assert execution["status"] == "SUCCEEDED"
        ticket = json.loads(execution["output"])
        assert ticket["ticketId"] == "ESC-" + invocation_id[:8].upper()
        assert (ticket["priority"], ticket["queue"], ticket["sender"]) == (priority, queue, "carlos.mendes@example.org")
    tickets = sb.client("dynamodb").scan(TableName=project.outputs["TicketsTableName"])["Items"]
    assert sorted(item["priority"]["S"] for item in tickets) == ["high", "normal"]


def test_escalation_state_machine_a_retry_starts_no_second_execution(workmail_sandbox, workmail_org):
    sb = workmail_sandbox
    project = wms.deploy_project(
        EXAMPLES / "escalation_state_machine", {"OrganizationId": workmail_org.organization_id}
    )
    raw = URGENT_FROM_VIP.read_bytes()
    message_id = sb.put_message_in_transit(raw, organization_id=workmail_org.organization_id)
    [event] = wms.events_from_message(raw, org_domains=workmail_org.domains)
    event_dict = {**event.to_dict(), "messageId": message_id}
    name = project.function("EscalateFunction").name

    first = sb.runtime.invoke(name, event_dict, workmail_mode="sync", message_id=message_id)
    executions(sb, project.outputs["StateMachineArn"], 1)  # WorkMail retries a minute later at the earliest
    retry = sb.runtime.invoke(name, event_dict, workmail_mode="sync", message_id=message_id)  # same invocationId

    assert first.ok and retry.ok, retry.log_text
    assert retry.payload == {"actions": [{"action": {"type": "BYPASS_SPAM_CHECK"}, "allRecipients": True}]}
    assert "escalation already started by an earlier attempt" in retry.log_text
    assert len(executions(sb, project.outputs["StateMachineArn"], 1)) == 1


def test_escalation_state_machine_invoke(capsys, monkeypatch):
    status, run = run_readme_command(ESCALATE, capsys, monkeypatch)
    assert status == 0
    assert run["logical_id"] == "EscalateFunction"
    assert outcomes(run) == {
        "alice@example.com": ("inbox", "BYPASS_SPAM_CHECK"),
        "bob@example.com": ("inbox", "BYPASS_SPAM_CHECK"),
    }
    assert calls(run) == ["stepfunctions.StartExecution ok"]
    assert any("VIP mail from carlos.mendes@example.org: escalation arn:aws:states:" in line for line in run["logs"])


def test_escalation_state_machine_invoke_needs_the_function_named(capsys):
    status = cli.main(["invoke", str(EXAMPLES / "escalation_state_machine"), "--eml", str(URGENT_FROM_VIP)])
    assert status == 3
    assert "The project has 2 functions (EscalateFunction, OpenTicketFunction)" in capsys.readouterr().err


# calendar_invite_tagger: a PyPI package (requirements.txt) and a layer --------------------------------


@pytest.mark.slow
def test_calendar_invite_tagger_with_icalendar_and_its_layer(workmail_sandbox, workmail_org):
    """Needs the package index: sam build's pip step installs icalendar (once per run, see build_cache)."""
    sb = workmail_sandbox
    project = wms.deploy_project(EXAMPLES / "calendar_invite_tagger", {"OrganizationId": workmail_org.organization_id})
    function = project.function()
    [layer_arn] = function.layers
    assert layer_arn == project.outputs["MailHelpersLayerArn"]
    assert ":layer:workmail-mail-helpers:" in layer_arn

    org = organization(sb, workmail_org, function.arn)
    invite = org.receive(CALENDAR_INVITE)
    reply = org.receive(CALENDAR_REPLY)
    plain = org.receive(PLAIN_FROM_VIP)

    assert invite.outcomes == {"alice@example.com": "inbox", "bob@example.com": "inbox"}
    message = delivered(org, "bob@example.com")
    assert message["Subject"] == (
        "[Invite] Invitation: Quarterly logistics review @ Mon 24 Nov 2025 15:00 - 16:00 (CET)"
    )
    assert message["X-Calendar-Start"] == "2025-11-24T14:00:00Z"  # DTSTART 20251124T140000Z
    assert reply.outcomes == {"erin@example.com": "inbox"}
    assert delivered(org, "erin@example.com")["Subject"] == "Accepted: Supplier onboarding call"
    assert "X-Calendar-Start" not in delivered(org, "erin@example.com")
    assert plain.outcomes == {"alice@example.com": "inbox"}
    assert delivered(org, "alice@example.com")["Subject"] == "Delivery window for order 4471"


@pytest.mark.slow
def test_calendar_invite_tagger_invoke(capsys, monkeypatch, tmp_path):
    """Needs the package index once per run (the cache then holds icalendar)."""
    status, run = run_readme_command(CALENDAR, capsys, monkeypatch)
    assert status == 0
    assert outcomes(run) == {"alice@example.com": ("inbox", "DEFAULT"), "bob@example.com": ("inbox", "DEFAULT")}
    assert run["content"]["subject_after"] == (
        "[Invite] Invitation: Quarterly logistics review @ Mon 24 Nov 2025 15:00 - 16:00 (CET)"
    )
    assert "+X-Calendar-Start: 2025-11-24T14:00:00Z" in run["content"]["header_diff"]
    assert calls(run) == [
        "workmailmessageflow.GetRawMessageContent ok",
        "s3.PutObject ok",
        "workmailmessageflow.PutRawMessageContent ok",
    ]

    # The same invitation, cancelled: the inline text/calendar part (read first) says METHOD:CANCEL.
    cancelled = tmp_path / "cancelled.eml"
    cancelled.write_bytes(CALENDAR_INVITE.read_bytes().replace(b"METHOD:REQUEST", b"METHOD:CANCEL"))
    run = invoke_project(EXAMPLES / "calendar_invite_tagger", cancelled)
    assert run.ok
    assert run.content.subject_after.startswith("[Cancelled] Invitation: Quarterly logistics review")
