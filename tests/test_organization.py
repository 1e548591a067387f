"""The emulated organization: mail through email flow rules and Run Lambda functions, end to end.

Each test names the documented fact it checks ("aws-behaviour §2.4" is
section 2.4 of ``docs/aws-behaviour.md``, which names the AWS page it comes
from), or says "kit choice" for behaviour AWS leaves
open (documented in ``workmail_sandbox/organization.py`` and ``flow/``).
Functions are real Lambda functions deployed with ``deploy_handler`` and
allowed with the real ``lambda.add_permission`` call of lambda.md.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from workmail_sandbox.deploy.handler import deploy_handler
from workmail_sandbox.errors import ConfigurationError, SandboxError
from workmail_sandbox.events import SmtpEnvelope
from workmail_sandbox.flow import FlowSettings, RetryPolicy
from workmail_sandbox.mail import parse_message
from workmail_sandbox.organization import OUTCOMES, Organization
from workmail_sandbox.rules import Rule, RuleSet

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
RULES = ROOT / "data" / "rules"
PRINCIPAL = "workmail.us-east-1.amazonaws.com"


def mail(
    frm: str = "Carlos <carlos@example.org>",
    to: str = "alice@example.com",
    subject: str = "Hello",
    *,
    cc: str | None = None,
    sender: str | None = None,
    spam: str = "PASS",
    virus: str = "PASS",
    extra: str = "",
) -> bytes:
    lines = [f"From: {frm}", f"To: {to}"]
    if cc:
        lines.append(f"Cc: {cc}")
    if sender:
        lines.append(f"Sender: {sender}")
    lines += [
        f"Subject: {subject}",
        "Date: Mon, 03 Nov 2025 09:14:02 +0100",
        "Message-ID: <test-1@example.org>",
        f"X-SES-Spam-Verdict: {spam}",
        f"X-SES-Virus-Verdict: {virus}",
    ]
    if extra:
        lines.append(extra)
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii", "", "Hello there.", ""]
    return "\r\n".join(lines).encode()


@pytest.fixture
def org(workmail_sandbox):
    return Organization.create(
        workmail_sandbox,
        "example-corp",
        domains=["example.com", "sales.example.com"],
        users=["alice@example.com", "bob@example.com", "carol@example.com", "dave@sales.example.com"],
        groups={"finance@example.com": ["alice@example.com", "bob@example.com"]},
    )


@pytest.fixture
def deploy(workmail_sandbox, org):
    """Deploy a handler (source text) and give the organization permission, as lambda.md shows."""

    def _deploy(source: str, name: str, *, permit: bool = True, handler: str = "lambda_handler", **kwargs) -> str:
        fn = deploy_handler(source, name=name, handler_name=handler, **kwargs)
        if permit:
            workmail_sandbox.client("lambda").add_permission(
                FunctionName=name,
                StatementId="AllowWorkMail",
                Action="lambda:InvokeFunction",
                Principal=PRINCIPAL,
                SourceArn=org.arn,
            )
        return fn["FunctionArn"]

    return _deploy


def sync_rule(arn: str, *, fallback: str = "DEFAULT", timeout: int = 0, direction: str = "inbound", name: str = "fn"):
    return RuleSet([Rule.run_lambda(name, direction, arn, synchronous=True, fallback_action=fallback,
                                    rule_timeout_minutes=timeout)])


def respond(response: dict) -> str:
    return f"def lambda_handler(event, context):\n    return {response!r}\n"


# ----------------------------------------------------------------- the organization


def test_create_makes_a_real_emulated_organization(workmail_sandbox, org):
    """The organization is the emulated workmail service's: id, ARN, domains, users, groups (aws-behaviour §6.2)."""
    client = workmail_sandbox.client("workmail")
    described = client.describe_organization(OrganizationId=org.id)
    assert org.arn == described["ARN"] == f"arn:aws:workmail:us-east-1:123456789012:organization/{org.id}"
    assert (org.region, org.account_id) == ("us-east-1", "123456789012")
    assert org.domains == ["example-corp.awsapps.com", "example.com", "sales.example.com"]
    assert set(org.users) == {"alice@example.com", "bob@example.com", "carol@example.com", "dave@sales.example.com"}
    assert org.groups == {"finance@example.com": ["alice@example.com", "bob@example.com"]}
    listed = {u["Email"] for u in client.list_users(OrganizationId=org.id)["Users"] if u.get("Email")}
    assert listed == set(org.users)
    assert org.mailbox("alice@example.com").inbox == [] and org.mailbox("alice@example.com").junk == []
    with pytest.raises(SandboxError, match="is a group"):
        org.mailbox("finance@example.com")


def test_attach_to_the_pytest_plugin_organization(workmail_sandbox, workmail_org):
    """An existing organization (here the pytest plugin's) can route mail; rules from a file (aws-behaviour §4.5: no API)."""
    attached = Organization.attach(workmail_sandbox, workmail_org.organization_id, rules=RULES / "basic.yaml")
    assert attached.arn == workmail_org.arn
    assert len(attached.rules.inbound) == 4
    result = attached.receive(mail(to="bob@example.com"))
    assert result.outcome("bob@example.com") == "inbox"


def test_rules_load_from_the_sample_files(org):
    """Flow rules cannot be managed by API (aws-behaviour §4.5): the organization takes the kit's rule files."""
    for path in sorted(RULES.glob("*.yaml")) + sorted(RULES.glob("*.json")):
        if path.name.startswith("invalid-") or path.name == "manifest.json":
            continue
        org.rules = path
        assert isinstance(org.rules, RuleSet)
    org.load_rules(RULES / "outbound.yaml")
    assert len(org.rules.outbound) == 4
    with pytest.raises(ConfigurationError):
        org.rules = 42


# ----------------------------------------------------------------------- precedence


def test_precedence_is_visible_end_to_end(org):
    """Most specific rule wins, then the most restrictive action; Sender before From (email-flows.md; aws-behaviour §4.4)."""
    org.rules = RuleSet([
        Rule.inbound("junk-partner-domain", "MOVE_TO_JUNK", senders="partner.example.org"),
        Rule.inbound("bypass-one-partner", "BYPASS_SPAM_CHECK", senders="ana@partner.example.org"),
        Rule.inbound("bounce-all-partners", "BOUNCE", senders="*.partner.example.org"),
        Rule.inbound("drop-all-partners", "DROP", senders="*.partner.example.org"),
    ])
    # An address beats a domain, even with a less restrictive action.
    result = org.receive(mail(frm="ana@partner.example.org", spam="FAIL"))
    assert result.outcome("alice@example.com") == "inbox"
    assert result["alice@example.com"].rule == "bypass-one-partner"
    # A domain beats a wildcard domain.
    assert org.receive(mail(frm="ben@partner.example.org")).outcome("alice@example.com") == "junk"
    # Equal specificity: Drop ranks above Bounce in the documentation's table.
    result = org.receive(mail(frm="ben@eu.partner.example.org"))
    assert result.outcome("alice@example.com") == "dropped"
    assert result["alice@example.com"].rule == "drop-all-partners"
    # The Sender header is tried first: ana's rule applies although From is someone else.
    result = org.receive(mail(frm="zed@elsewhere.example.net", sender="ana@partner.example.org", spam="FAIL"))
    assert result["alice@example.com"].rule == "bypass-one-partner"
    assert result.outcome("alice@example.com") == "inbox"
    applied = org.event_log().query("eventName == 'RULE_APPLIED'")
    assert list(applied.ruleName) == ["bypass-one-partner", "junk-partner-domain", "drop-all-partners",
                                      "bypass-one-partner"]


def test_each_recipient_gets_its_own_rule(org):
    """With several recipients, each gets the rule that matches it (email-flows.md; aws-behaviour §4.4)."""
    org.rules = RuleSet([
        Rule.inbound("sales-junk", "MOVE_TO_JUNK", recipients="sales.example.com"),
        Rule.inbound("bob-drop", "DROP", recipients="bob@example.com"),
    ])
    result = org.receive(mail(to="alice@example.com, bob@example.com", cc="dave@sales.example.com"))
    assert result.outcomes == {"alice@example.com": "inbox", "bob@example.com": "dropped",
                               "dave@sales.example.com": "junk"}
    assert result["alice@example.com"].source == "no rule"


# ------------------------------------------------------------ synchronous Run Lambda


def test_sync_bounce_with_bounce_message(org, deploy, workmail_sandbox):
    """BOUNCE with parameters.bounceMessage builds the bounce email (lambda.md synchronous schema; aws-behaviour §2.4)."""
    arn = deploy(respond({"actions": [{"action": {"type": "BOUNCE", "parameters": {
        "bounceMessage": "We no longer accept mail from this address."}}, "allRecipients": True}]}), "bouncer")
    org.rules = sync_rule(arn)
    result = org.receive(mail(frm="carlos@example.org", subject="Quote"))
    assert result.outcome("alice@example.com") == "bounced"
    assert result["alice@example.com"].source == "lambda"
    (bounce,) = result.bounces
    assert bounce.to == "carlos@example.org" and bounce.delivered == "internet"
    (sent,) = [o for o in org.outbox if o.kind == "bounce"]
    report = parse_message(sent.content)
    assert report.subject == "Undeliverable: Quote"
    assert "We no longer accept mail from this address." in report.text_body
    assert "alice@example.com" in report.text_body
    assert report.header("Content-Type").startswith("multipart/report")
    assert org.mailbox("alice@example.com").inbox == []


def test_sync_drop_named_recipients_default_for_the_rest(org, deploy):
    """The doc's first example: DEFAULT for everyone, DROP for named addresses (aws-behaviour §2.4)."""
    arn = deploy(respond({"actions": [
        {"action": {"type": "DEFAULT"}, "allRecipients": True},
        {"action": {"type": "DROP"}, "recipients": ["bob@example.com"]},
    ]}), "remover")
    org.rules = sync_rule(arn)
    result = org.receive(mail(to="alice@example.com, bob@example.com, carol@example.com"))
    assert result.outcomes == {"alice@example.com": "inbox", "bob@example.com": "dropped",
                               "carol@example.com": "inbox"}
    assert len(org.mailbox("bob@example.com")) == 0
    assert "EMAIL_DROPPED" in set(org.event_log().eventName)


def test_sync_junk_and_bypass_spam_check(org, deploy):
    """MOVE_TO_JUNK and BYPASS_SPAM_CHECK are inbound response types (aws-behaviour §2.4, §4.2)."""
    arn = deploy(respond({"actions": [
        {"action": {"type": "MOVE_TO_JUNK"}, "recipients": ["alice@example.com"]},
        {"action": {"type": "BYPASS_SPAM_CHECK"}, "recipients": ["bob@example.com"]},
        {"action": {"type": "DEFAULT"}, "allRecipients": True},
    ]}), "sorter")
    org.rules = sync_rule(arn)
    result = org.receive(mail(to="alice@example.com, bob@example.com, carol@example.com", spam="FAIL"))
    assert result.outcomes == {"alice@example.com": "junk", "bob@example.com": "inbox", "carol@example.com": "junk"}
    assert [m.subject for m in org.mailbox("bob@example.com").inbox] == ["Hello"]


def test_sync_added_recipient_is_delivered_as_bcc(org, deploy):
    """The doc's third example: DEFAULT for a new address plus DEFAULT for all;
    added recipients are delivered as BCC, To/CC unchanged (aws-behaviour §2.4)."""
    arn = deploy(respond({"actions": [
        {"action": {"type": "DEFAULT"}, "recipients": ["carol@example.com"]},
        {"action": {"type": "DEFAULT"}, "allRecipients": True},
    ]}), "adder")
    org.rules = sync_rule(arn)
    result = org.receive(mail(to="alice@example.com"))
    assert result.outcomes == {"alice@example.com": "inbox", "carol@example.com": "inbox"}
    assert result["carol@example.com"].added and not result["alice@example.com"].added
    (copy,) = org.mailbox("carol@example.com").inbox
    assert copy.bcc
    assert parse_message(copy.content).to == ["alice@example.com"]  # headers unchanged


def test_inbound_function_cannot_add_an_outside_recipient(org, deploy):
    """Inbound: added addresses must belong to the organization; otherwise the response is invalid (aws-behaviour §2.4, §2.5)."""
    arn = deploy(respond({"actions": [
        {"action": {"type": "DEFAULT"}, "recipients": ["spy@example.net"]},
        {"action": {"type": "DEFAULT"}, "allRecipients": True},
    ]}), "leaker")
    org.rules = sync_rule(arn, fallback="MOVE_TO_JUNK")
    result = org.receive(mail())
    assert result.outcomes == {"alice@example.com": "junk"}
    assert result["alice@example.com"].source == "fallback"
    assert "outside the organization" in result.invocations[0].attempts[0].error


def test_fallback_for_recipients_the_response_leaves_out(org, deploy):
    """Recipients the response leaves out (no allRecipients) get the fallback action (aws-behaviour §2.1)."""
    arn = deploy(respond({"actions": [{"action": {"type": "DEFAULT"}, "recipients": ["alice@example.com"]}]}),
                 "partial")
    org.rules = sync_rule(arn, fallback="DROP")
    result = org.receive(mail(to="alice@example.com, bob@example.com"))
    assert result.outcomes == {"alice@example.com": "inbox", "bob@example.com": "dropped"}
    assert result["bob@example.com"].source == "fallback"
    assert "not named by the response" in result["bob@example.com"].reason


def test_actions_past_the_tenth_get_the_fallback(org, deploy, workmail_sandbox):
    """Up to 10 distinct actions per response; actions beyond 10 get the Fallback action (aws-behaviour §2.5)."""
    users = [f"user{i:02d}@example.com" for i in range(12)]
    client = workmail_sandbox.client("workmail")
    for address in users:
        uid = client.create_user(OrganizationId=org.id, Name=address.split("@")[0], DisplayName="U",
                                 Password="Sandbox-Passw0rd!")["UserId"]
        client.register_to_work_mail(OrganizationId=org.id, EntityId=uid, Email=address)
    actions = [{"action": {"type": "DEFAULT"}, "recipients": [a]} for a in users]
    arn = deploy(respond({"actions": actions}), "chatty")
    org.rules = sync_rule(arn, fallback="MOVE_TO_JUNK")
    result = org.receive(mail(to=", ".join(users)))
    assert [result.outcome(a) for a in users] == ["inbox"] * 10 + ["junk"] * 2
    assert "past the tenth" in result[users[10]].reason


def test_retries_reuse_the_invocation_id_and_then_succeed(org, deploy, workmail_sandbox):
    """invocationId is the same across retries of the same event (aws-behaviour §2.3); failures are retried (aws-behaviour §2.5)."""
    source = (
        "SEEN = []\n"
        "def lambda_handler(event, context):\n"
        "    SEEN.append((event['invocationId'], context.aws_request_id))\n"
        "    if len(SEEN) < 3:\n"
        "        raise RuntimeError('not yet: attempt %d' % len(SEEN))\n"
        "    ids = ','.join(i for i, _ in SEEN)\n"
        "    return {'actions': [{'action': {'type': 'BOUNCE', 'parameters': {'bounceMessage': ids}},"
        " 'allRecipients': True}]}\n"
    )
    arn = deploy(source, "flaky")
    org.rules = sync_rule(arn, fallback="DROP", timeout=60)
    before = workmail_sandbox.clock.now()
    result = org.receive(mail())
    (invocation,) = result.invocations
    assert invocation.outcome == "applied" and len(invocation.attempts) == 3
    assert [a.ok for a in invocation.attempts] == [False, False, True]
    assert len({a.request_id for a in invocation.attempts}) == 3  # three Lambda requests...
    seen = result.bounces[0].text.split(",")
    assert seen == [invocation.invocation_id] * 3  # ...of one WorkMail invocation
    assert result.outcome("alice@example.com") == "bounced"
    # Backoff on the simulated clock: 60 s, then 120 s (the kit's RetryPolicy).
    assert workmail_sandbox.clock.now() - before == RetryPolicy().schedule(60)[2] * dt.timedelta(seconds=1)
    log = org.event_log()
    assert list(log.query("eventName == 'LAMBDA_RETRY_SCHEDULED'").attempt) == [2, 3]
    assert set(log.query("eventName == 'LAMBDA_INVOKED'").invocationId) == {invocation.invocation_id}


def test_rule_timeout_zero_applies_the_fallback_at_once(org, deploy, workmail_sandbox):
    """Rule timeout 0: WorkMail does not retry and applies the fallback at once (aws-behaviour §2.5)."""
    arn = deploy("def lambda_handler(event, context):\n    raise ValueError('broken')\n", "broken")
    org.rules = sync_rule(arn, fallback="BOUNCE", timeout=0)
    before = workmail_sandbox.clock.now()
    result = org.receive(mail())
    (invocation,) = result.invocations
    assert len(invocation.attempts) == 1 and invocation.outcome == "fallback"
    assert workmail_sandbox.clock.now() == before
    assert result.outcome("alice@example.com") == "bounced"
    assert result["alice@example.com"].source == "fallback"
    assert "ValueError: broken" in result["alice@example.com"].reason


def test_timeout_240_with_an_always_failing_function_falls_back_without_waiting(org, deploy, workmail_sandbox):
    """Retries until the rule timeout (max 240 min), then the fallback for all recipients (aws-behaviour §2.5);
    the simulated clock means nobody waits."""
    arn = deploy("def lambda_handler(event, context):\n    raise RuntimeError('down')\n", "down")
    org.rules = sync_rule(arn, fallback="MOVE_TO_JUNK", timeout=240)
    before = workmail_sandbox.clock.now()
    started = time.perf_counter()
    result = org.receive(mail(to="alice@example.com, bob@example.com"))
    assert time.perf_counter() - started < 10
    (invocation,) = result.invocations
    assert len(invocation.attempts) == len(RetryPolicy().schedule(240)) == 12
    assert workmail_sandbox.clock.now() - before == dt.timedelta(minutes=240)
    assert result.outcomes == {"alice@example.com": "junk", "bob@example.com": "junk"}
    fallback = org.event_log().query("eventName == 'LAMBDA_FALLBACK_APPLIED'")
    assert len(fallback) == 1 and "240-minute rule timeout ran out" in fallback.reason.iloc[0]


def test_missing_permission_is_a_failed_invocation(org, deploy):
    """WorkMail may invoke only with the add-permission resource policy (lambda.md; aws-behaviour §2.2)."""
    arn = deploy(respond({"actions": [{"action": {"type": "DROP"}, "allRecipients": True}]}), "unpermitted",
                 permit=False)
    org.rules = sync_rule(arn, fallback="MOVE_TO_JUNK")
    result = org.receive(mail())
    assert result.outcome("alice@example.com") == "junk"
    assert result["alice@example.com"].source == "fallback"
    failed = org.event_log().query("eventName == 'LAMBDA_FAILED'")
    assert "no permission" in failed.reason.iloc[0] and "resource-based policy" in failed.reason.iloc[0]
    assert "LAMBDA_INVOKED" not in set(org.event_log().eventName)  # never ran


def test_permission_for_another_organization_is_refused(org, deploy, workmail_sandbox):
    """The SourceArn condition names one organization (lambda.md since 2022; aws-behaviour §2.2)."""
    other = Organization.create(workmail_sandbox, "other-corp", domains=["other.example.net"])
    arn = deploy(respond({"actions": [{"action": {"type": "DROP"}, "allRecipients": True}]}), "theirs", permit=False)
    workmail_sandbox.client("lambda").add_permission(
        FunctionName="theirs", StatementId="AllowOther", Action="lambda:InvokeFunction",
        Principal=PRINCIPAL, SourceArn=other.arn,
    )
    org.rules = sync_rule(arn)
    result = org.receive(mail())
    assert result.outcome("alice@example.com") == "inbox"  # fallback DEFAULT, not the function's DROP
    assert "no permission" in result.invocations[0].attempts[0].error


def test_a_function_over_the_time_limit_counts_as_failed(org, deploy):
    """The function must answer within 15 seconds, or the call counts as failed (aws-behaviour §2.5).
    The limit is a setting, lowered here so the test does not wait 15 s."""
    arn = deploy("import time\ndef lambda_handler(event, context):\n    time.sleep(2)\n    return {}\n", "slow")
    org.settings = FlowSettings(invocation_limit_seconds=0.3)
    org.rules = sync_rule(arn, fallback="DROP")
    result = org.receive(mail())
    attempt = result.invocations[0].attempts[0]
    assert attempt.timed_out and attempt.error.startswith("timed out")
    assert result.outcome("alice@example.com") == "dropped"


def test_an_invalid_response_counts_as_failed(org, deploy):
    """An invalid response triggers the same handling as an error (aws-behaviour §2.5)."""
    arn = deploy(respond({"actions": [{"action": {"type": "ROUTE_TO_SMTP_GATEWAY"}, "allRecipients": True}]}),
                 "invalid")
    org.rules = sync_rule(arn, fallback="MOVE_TO_JUNK")
    result = org.receive(mail())
    assert result.outcome("alice@example.com") == "junk"
    assert result.invocations[0].attempts[0].error.startswith("invalid response")


# ----------------------------------------------------------- asynchronous Run Lambda


def test_async_rule_never_changes_delivery(org, deploy):
    """Asynchronous: does not affect delivery; the return value is ignored (lambda.md; aws-behaviour §2.1)."""
    arn = deploy(respond({"actions": [{"action": {"type": "DROP"}, "allRecipients": True}]}), "observer")
    org.rules = RuleSet([Rule.run_lambda("metrics", "inbound", arn, synchronous=False)])
    result = org.receive(mail(to="alice@example.com, bob@example.com"))
    assert result.outcomes == {"alice@example.com": "inbox", "bob@example.com": "inbox"}
    (invocation,) = result.invocations
    assert invocation.outcome == "ignored" and invocation.attempts[0].payload["actions"][0]["action"]["type"] == "DROP"
    applied = org.event_log().query("eventName == 'RULE_APPLIED'").event.iloc[0]
    assert applied["ruleActions"] == [{"action": "RUN_LAMBDA", "recipients": ["alice@example.com", "bob@example.com"]}]


def test_async_failure_does_not_change_delivery_either(org, deploy):
    """Asynchronous: does not affect delivery (aws-behaviour §2.1); its retry behaviour is not documented (aws-behaviour §2.5):
    kit choice, one attempt, logged."""
    arn = deploy("def lambda_handler(event, context):\n    raise RuntimeError('oops')\n", "fragile")
    org.rules = RuleSet([Rule.run_lambda("metrics", "inbound", arn, synchronous=False)])
    result = org.receive(mail())
    assert result.outcome("alice@example.com") == "inbox"
    assert result.invocations[0].outcome == "failed"


# ------------------------------------------------------------------- message content


UPDATER = """
import email
import uuid
from email import policy

import boto3

s3 = boto3.client("s3")
flow = boto3.client("workmailmessageflow")


def lambda_handler(event, context):
    raw = flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    message = email.message_from_bytes(raw, policy=policy.default)
    subject = message["Subject"]
    del message["Subject"]
    message["Subject"] = "[Checked] " + subject
    key = str(uuid.uuid4())
    s3.put_object(Bucket="updated-mail", Key=key, Body=message.as_bytes())
    flow.put_raw_message_content(
        messageId=event["messageId"], content={"s3Reference": {"bucket": "updated-mail", "key": key}}
    )
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
"""


@pytest.fixture
def updater(workmail_sandbox, org, deploy):
    """A function that rewrites the Subject through S3 and PutRawMessageContent (update-with-lambda.md)."""
    s3 = workmail_sandbox.client("s3")
    s3.create_bucket(Bucket="updated-mail")
    s3.put_bucket_policy(Bucket="updated-mail", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": PRINCIPAL},
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": "arn:aws:s3:::updated-mail/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "Bool": {"aws:SecureTransport": "true"},
                "ArnLike": {"aws:SourceArn": f"arn:aws:workmailmessageflow:us-east-1:123456789012:message/{org.id}/*"},
            },
        }],
    }))
    return deploy(UPDATER, "updater",
                  managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"])


def test_put_raw_message_content_during_sync_changes_the_mailbox_copy(org, updater, workmail_sandbox):
    """PutRawMessageContent from a synchronous rule is what the mailboxes receive (update-with-lambda.md; aws-behaviour §3.3)."""
    org.rules = sync_rule(updater)
    raw = (EMAILS / "01-plain-inbound.eml").read_bytes()
    result = org.receive(raw)
    assert result.invocations[0].outcome == "applied", result.invocations[0].attempts
    (copy,) = org.mailbox("alice@example.com").inbox
    original = parse_message(raw).subject
    assert parse_message(copy.content).subject == f"[Checked] {original}"
    assert copy.subject == f"[Checked] {original}", "the mailbox item names the subject its recipient sees"
    (message_id,) = result.message_ids
    assert copy.message_id == message_id == result.invocations[0].event["messageId"]
    assert workmail_sandbox.message_content(message_id) == copy.content
    (update,) = workmail_sandbox.message_history(message_id)
    assert update.effective


def test_put_raw_message_content_during_async_does_not(org, updater, workmail_sandbox):
    """Only a synchronous rule's update has an effect (update-with-lambda.md; aws-behaviour §3.3)."""
    org.rules = RuleSet([Rule.run_lambda("updater-async", "inbound", updater, synchronous=False)])
    raw = (EMAILS / "01-plain-inbound.eml").read_bytes()
    result = org.receive(raw)
    assert result.invocations[0].outcome == "ignored", result.invocations[0].attempts
    (copy,) = org.mailbox("alice@example.com").inbox
    assert parse_message(copy.content).subject == parse_message(raw).subject == copy.subject
    (update,) = workmail_sandbox.message_history(result.message_ids[0])
    assert not update.effective and "asynchronous" in update.reason


def test_the_event_message_id_reaches_the_message_in_transit(org, deploy):
    """The event's messageId fetches the full MIME message with GetRawMessageContent (aws-behaviour §2.3, §3.1)."""
    source = (
        "import boto3\n"
        "def lambda_handler(event, context):\n"
        "    raw = boto3.client('workmailmessageflow').get_raw_message_content("
        "messageId=event['messageId'])['messageContent'].read()\n"
        "    subject = [l for l in raw.decode().splitlines() if l.startswith('Subject:')][0]\n"
        "    return {'actions': [{'action': {'type': 'BOUNCE', 'parameters': {'bounceMessage': subject}},"
        " 'allRecipients': True}]}\n"
    )
    arn = deploy(source, "reader", managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"])
    org.rules = sync_rule(arn)
    result = org.receive(mail(subject="Read me"))
    assert result.bounces[0].text == "Subject: Read me"


# ---------------------------------------------------------------- events per conversation


def test_one_invocation_per_smtp_conversation_with_only_org_recipients(org, deploy):
    """Inbound: one invocation per SMTP conversation, listing only the organization's recipients (aws-behaviour §2.3)."""
    arn = deploy(respond({"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}), "counter")
    org.rules = sync_rule(arn)
    message = mail(to="alice@example.com, dave@sales.example.com, someone@example.net")
    result = org.receive(message, conversations="per-domain")
    assert result.skipped == ("someone@example.net",)
    events = [i.event for i in result.invocations]
    assert [[r["address"] for r in e["envelope"]["recipients"]] for e in events] == [
        ["alice@example.com"], ["dave@sales.example.com"]]
    assert len({e["messageId"] for e in events}) == 2 == len(result.message_ids)
    assert len({e["invocationId"] for e in events}) == 2
    assert all(e["flowDirection"] == "INBOUND" for e in events)
    one = org.receive(message)
    assert len(one.invocations) == 1


def test_explicit_envelope_recipients_win_over_headers(org):
    """The envelope's recipients replace To/Cc/Bcc (events model; aws-behaviour §2.3)."""
    result = org.receive(mail(to="someone@example.net"), SmtpEnvelope(recipients=["bob@example.com"]))
    assert result.outcomes == {"bob@example.com": "inbox"}


# ------------------------------------------------------------------------ spam and virus


@pytest.mark.parametrize(
    ("action", "spam", "outcome"),
    [
        ("DEFAULT", "PASS", "inbox"),
        ("DEFAULT", "FAIL", "junk"),
        ("MOVE_TO_JUNK", "PASS", "junk"),
        ("MOVE_TO_JUNK", "FAIL", "junk"),
        ("BYPASS_SPAM_CHECK", "PASS", "inbox"),
        ("BYPASS_SPAM_CHECK", "FAIL", "inbox"),
    ],
)
def test_spam_verdict_makes_default_junk_and_bypass_differ(org, action, spam, outcome):
    """Default: spam to junk, the rest to the inbox; Deliver to junk; Never deliver to junk (aws-behaviour §4.2)."""
    org.rules = RuleSet([Rule.inbound("r", action)])
    result = org.receive(mail(spam=spam))
    assert result.outcome("alice@example.com") == outcome
    box = org.mailbox("alice@example.com")
    assert len(box.junk if outcome == "junk" else box.inbox) == 1
    folder = org.event_log().query("eventName == 'MAILBOX_EMAIL_DELIVERED'").folder.iloc[0]
    assert folder == ("Junk Email" if outcome == "junk" else "Inbox")


def test_the_sample_spam_file_goes_to_junk_by_default(org):
    """Default action: spam check, spam to the junk folder (aws-behaviour §4.2), on the sample spam (data/emails 18)."""
    org.settings = FlowSettings(unknown_recipients="create-mailbox")  # grace@ is not one of the fixture's users
    result = org.receive(EMAILS / "18-spam-fail.eml")
    assert set(result.outcomes.values()) == {"junk"}


def test_virus_verdict_fail_is_blocked_before_the_rules_by_default(org):
    """Inbound mail goes through SES first; a known virus may be blocked before any rule (aws-behaviour §4.1). Kit choice:
    blocked by default (FlowSettings.virus_verdict), or junked, or ignored."""
    org.rules = RuleSet([Rule.inbound("bypass", "BYPASS_SPAM_CHECK")])
    blocked = org.receive(mail(virus="FAIL"))
    assert blocked.outcome("alice@example.com") == "dropped"
    assert blocked["alice@example.com"].source == "ses" and not blocked.bounces
    assert "SES_BLOCKED" in set(org.event_log().eventName)
    assert "RULE_APPLIED" not in set(org.event_log().eventName)
    org.settings = FlowSettings(virus_verdict="junk")
    org.rules = RuleSet()
    assert org.receive(mail(virus="FAIL")).outcome("alice@example.com") == "junk"
    org.settings = FlowSettings(virus_verdict="ignore")
    assert org.receive(mail(virus="FAIL")).outcome("alice@example.com") == "inbox"


# ----------------------------------------------------------------------------- bounces


def test_rule_bounce_sends_a_generic_bounce_to_an_internal_sender(org):
    """Outbound Send bounce response: not sent, the sender is told (aws-behaviour §4.3); internal sender gets it in its inbox."""
    org.rules = RuleSet([Rule.outbound("no-competitors", "BOUNCE", recipients="rival.example.net")])
    result = org.send(mail(frm="Alice <alice@example.com>", to="ceo@rival.example.net, bob@example.com",
                           subject="Prices"))
    assert result.outcomes == {"ceo@rival.example.net": "bounced", "bob@example.com": "sent"}
    (report,) = [m for m in org.mailbox("alice@example.com").inbox if m.kind == "bounce"]
    text = parse_message(report.content).text_body
    assert "ceo@rival.example.net" in text and "rejected" in text
    assert [m.subject for m in org.mailbox("bob@example.com").inbox] == ["Prices"]
    assert "OUTGOING_EMAIL_BOUNCED" in set(org.event_log().eventName)


def test_no_bounce_to_a_null_sender(org):
    """Kit choice (RFC 5321/3834): mail with Return-Path <> is never bounced to."""
    org.rules = RuleSet([Rule.inbound("bounce-all", "BOUNCE")])
    result = org.receive(EMAILS / "33-auto-reply.eml")
    assert set(result.outcomes.values()) == {"bounced"}
    (bounce,) = result.bounces
    assert bounce.to is None and "null" in bounce.reason
    assert org.outbox == []


def test_unknown_recipient_in_the_domain_bounces_or_gets_a_mailbox(org):
    """Mail for a mailbox that does not exist bounces (IncomingEmailBounced metric, monitoring doc); kit choice:
    FlowSettings(unknown_recipients="create-mailbox") makes one instead."""
    result = org.receive(mail(to="nobody@example.com"))
    assert result.outcome("nobody@example.com") == "bounced"
    assert "5.1.1" in result["nobody@example.com"].reason
    org.settings = FlowSettings(unknown_recipients="create-mailbox")
    assert org.receive(mail(to="nobody@example.com")).outcome("nobody@example.com") == "inbox"
    assert len(org.mailbox("nobody@example.com").inbox) == 1


def test_group_mail_reaches_every_member(org):
    """Mail to a group is delivered to each member's mailbox, one MAILBOX_EMAIL_DELIVERED per mailbox
    (monitoring-workmail-cloudwatch.md)."""
    result = org.receive(mail(to="finance@example.com"))
    assert result.outcome("finance@example.com") == "inbox"
    assert result["finance@example.com"].delivered_to == ("alice@example.com", "bob@example.com")
    assert len(org.mailbox("alice@example.com").inbox) == len(org.mailbox("bob@example.com").inbox) == 1
    delivered = org.event_log().query("eventName == 'MAILBOX_EMAIL_DELIVERED'")
    assert list(delivered.recipient) == ["alice@example.com", "bob@example.com"]
    assert list(delivered.outcome.fillna("")) == ["inbox", ""]  # one final state for the group's address


# ---------------------------------------------------------------------------- outbound


def test_outbound_actions(org):
    """Outbound: Default sends, Drop, Bounce, Route to SMTP gateway (aws-behaviour §4.3)."""
    org.rules = RuleSet([
        Rule.outbound("gateway", "ROUTE_TO_SMTP_GATEWAY", recipients="regulated.example.org"),
        Rule.outbound("drop-phish", "DROP", recipients="phish.example.net"),
    ])
    result = org.send(mail(frm="alice@example.com",
                           to="x@regulated.example.org, y@phish.example.net, z@example.net, bob@example.com"))
    assert result.direction == "OUTBOUND"
    assert result.outcomes == {"x@regulated.example.org": "sent", "y@phish.example.net": "dropped",
                               "z@example.net": "sent", "bob@example.com": "sent"}
    assert result["x@regulated.example.org"].via == "smtp-gateway"
    assert result["z@example.net"].via == "internet"
    assert result["bob@example.com"].via == "mailbox"
    assert {(o.recipient, o.via) for o in org.outbox} == {("x@regulated.example.org", "smtp-gateway"),
                                                        ("z@example.net", "internet")}
    assert len(org.mailbox("bob@example.com").inbox) == 1


def test_outbound_sync_function_and_bcc_is_stripped(org, deploy):
    """Outbound response types are DEFAULT, BOUNCE, DROP (aws-behaviour §2.4); Bcc never travels with the copies."""
    arn = deploy(respond({"actions": [{"action": {"type": "DROP"}, "recipients": ["z@example.net"]},
                                      {"action": {"type": "DEFAULT"}, "allRecipients": True}]}), "outfilter")
    org.rules = sync_rule(arn, direction="outbound", fallback="ROUTE_TO_SMTP_GATEWAY")
    message = mail(frm="alice@example.com", to="y@example.net", extra="Bcc: z@example.net, w@example.net")
    result = org.send(message)
    assert result.outcomes == {"y@example.net": "sent", "z@example.net": "dropped", "w@example.net": "sent"}
    assert all(b"Bcc" not in o.content for o in org.outbox)
    assert result.invocations[0].event["flowDirection"] == "OUTBOUND"


# ------------------------------------------------------------------------- the event log


def test_event_log_rows_and_cloudwatch_entries(org, workmail_sandbox):
    """Email event logs: RULE_APPLIED with ruleName, ruleType and ruleActions, in CloudWatch Logs
    (monitoring-workmail-cloudwatch.md; aws-behaviour §4.5)."""
    org.rules = RuleSet([Rule.inbound("junk-it", "MOVE_TO_JUNK", senders="example.org")])
    result = org.receive(mail())
    log = org.event_log()
    assert list(log.eventName) == ["ORGANIZATION_EMAIL_RECEIVED", "RULE_APPLIED", "MAILBOX_EMAIL_DELIVERED"]
    assert set(log.traceId) == {result.trace_id}
    applied = log.iloc[1].event
    assert applied["ruleName"] == "junk-it" and applied["ruleType"] == "INBOUND_RULE"
    assert applied["ruleActions"] == [{"action": "MOVE_TO_JUNK", "recipients": ["alice@example.com"]}]
    assert org.log_group == "/aws/workmail/example-corp"
    events = workmail_sandbox.client("logs").filter_log_events(logGroupName=org.log_group)["events"]
    messages = [json.loads(e["message"]) for e in events]
    assert [m["event"]["eventName"] for m in messages] == list(log.eventName)
    assert messages[1] == {"traceId": result.trace_id, "event": applied}


def test_event_log_goes_to_the_monitoring_log_group(org, workmail_sandbox):
    """PutEmailMonitoringConfiguration names the log group WorkMail writes email events to (aws-behaviour §4.5)."""
    logs = workmail_sandbox.client("logs")
    logs.create_log_group(logGroupName="/workmail/events")
    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/workmail/events:*"
    workmail_sandbox.client("workmail").put_email_monitoring_configuration(
        OrganizationId=org.id, LogGroupArn=group_arn
    )
    assert org.log_group == "/workmail/events"
    org.receive(mail())
    events = logs.filter_log_events(logGroupName="/workmail/events")["events"]
    assert {json.loads(e["message"])["event"]["eventName"] for e in events} >= {"MAILBOX_EMAIL_DELIVERED"}


def test_the_log_records_every_lambda_step(org, deploy):
    arn = deploy("def lambda_handler(event, context):\n    raise RuntimeError('no')\n", "failing")
    org.settings = FlowSettings(retry=RetryPolicy(first_delay_seconds=60, multiplier=2, max_delay_seconds=600))
    org.rules = sync_rule(arn, fallback="DROP", timeout=5)
    org.receive(mail())
    names = list(org.event_log().eventName)
    assert names == [
        "ORGANIZATION_EMAIL_RECEIVED",
        "LAMBDA_INVOKED", "LAMBDA_FAILED", "LAMBDA_RETRY_SCHEDULED",  # minute 0
        "LAMBDA_INVOKED", "LAMBDA_FAILED", "LAMBDA_RETRY_SCHEDULED",  # minute 1
        "LAMBDA_INVOKED", "LAMBDA_FAILED",  # minute 3; the next (minute 7) is past the 5-minute timeout
        "LAMBDA_FALLBACK_APPLIED", "RULE_APPLIED", "EMAIL_DROPPED",
    ]
    times = org.event_log().time
    assert (times.iloc[-1] - times.iloc[0]).total_seconds() == 300


# -------------------------------------------------------------------------- nothing lost


@pytest.mark.parametrize("rules", ["basic.yaml", "precedence-demo.yaml", "outbound.yaml", "run-lambda-async.yaml",
                                   "run-lambda-sync.json"])
def test_every_sample_message_ends_in_one_final_state(org, rules):
    """Nothing is lost: every recipient of every sample message ends in exactly one final state."""
    org.rules = RULES / rules
    for path in sorted(EMAILS.glob("*.eml")):
        result = org.route(path, direction="auto")
        result.check()
        assert all(o.outcome in OUTCOMES for o in result.recipients.values())
        assert result.recipients or result.note
        if any(o.outcome == "failed" for o in result.recipients.values()):
            assert all(o.reason for o in result.recipients.values())


def test_flow_result_dataframes_and_summary(org):
    """Kit API: per-recipient results, timings and the dry-run plan as DataFrames."""
    org.rules = RULES / "basic.yaml"
    result = org.receive(mail(to="alice@example.com, bob@example.com"))
    df = result.to_dataframe()
    assert list(df.recipient) == ["alice@example.com", "bob@example.com"]
    assert {"outcome", "action", "rule", "source", "reason", "invocation_id"} <= set(df.columns)
    assert "alice@example.com: inbox" in result.summary()
    assert set(result.timings) >= {"parse", "rules", "lambda", "deliver", "total"}
    assert len(org.mail()) == 2
    plan = org.plan(mail(to="alice@example.com"))
    assert list(plan.to_dataframe().recipient) == ["alice@example.com"] and plan.jobs == []


def test_retry_policy_schedule_is_documented():
    """Kit choice (AWS does not publish it): 60 s doubling, capped at 30 min, within the rule timeout."""
    policy = RetryPolicy()
    assert [t / 60 for t in policy.schedule(240)] == [0, 1, 3, 7, 15, 31, 61, 91, 121, 151, 181, 211]
    assert policy.schedule(0) == [0.0]
    assert "12 attempts" in policy.describe(240)
    with pytest.raises(ConfigurationError):
        RetryPolicy(multiplier=0.5)
    with pytest.raises(ConfigurationError):
        FlowSettings(virus_verdict="maybe")
