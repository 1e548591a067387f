"""What the flow remembers between messages (speed, issue #16) is forgotten when what it was computed from changes.

* WorkMail's permission decision, per function and resource-policy revision
  (``flow/lambdas.py``): a policy changed by ``add_permission`` or
  ``remove_permission``, a function deleted and deployed again, a reset
  sandbox and a restored snapshot must each be checked afresh
  (aws-behaviour §2.2: WorkMail may invoke only under the resource policy).
* A role's parsed policies (``permissions.py``), keyed on the document text:
  a changed inline policy decides the next Message Flow call (aws-behaviour §3.2).
* The plan's header facts and events (``flow/headers.py``, ``flow/planning.py``)
  give what :class:`~workmail_sandbox.mail.ParsedMessage` and
  :func:`~workmail_sandbox.events.events_from_message` give, and the
  headers-only parse (``mail/parsing.py``, without the stdlib's multipart check
  that reads Content-Type) gives what ``BytesHeaderParser`` gives.
"""

from __future__ import annotations

import email.policy
import json
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from corpus_generator import load_generator
from hypothesis import given, settings
from hypothesis import strategies as st

from workmail_sandbox.deploy.handler import deploy_handler
from workmail_sandbox.events import SmtpEnvelope, events_from_message
from workmail_sandbox.flow.headers import header_facts
from workmail_sandbox.mail import parse_message
from workmail_sandbox.mail.parsing import _headers_only
from workmail_sandbox.organization import Organization
from workmail_sandbox.rules import Rule, RuleSet

ROOT = Path(__file__).resolve().parent.parent
PRINCIPAL = "workmail.us-east-1.amazonaws.com"
DROP_ALL = "def lambda_handler(event, context):\n    return {'actions': [{'action': {'type': 'DROP'}, 'allRecipients': True}]}\n"
MAIL = (b"From: Carlos <carlos@example.org>\r\nTo: alice@example.com\r\nSubject: Hello\r\n"
        b"Message-ID: <c-1@example.org>\r\n\r\nHello there.\r\n")


@pytest.fixture
def org(workmail_sandbox):
    return Organization.create(workmail_sandbox, "cache-corp", domains=["example.com"], users=["alice@example.com"])


def _dropping_function(sb, org, name="dropper", *, permit=True):
    arn = deploy_handler(DROP_ALL, name=name)["FunctionArn"]
    if permit:
        _permit(sb, org, name)
    org.rules = RuleSet([Rule.run_lambda("fn", "inbound", arn, synchronous=True, fallback_action="DEFAULT",
                                         rule_timeout_minutes=0)])
    return arn


def _permit(sb, org, name, sid="AllowWorkMail"):
    sb.client("lambda").add_permission(FunctionName=name, StatementId=sid, Action="lambda:InvokeFunction",
                                       Principal=PRINCIPAL, SourceArn=org.arn)


def _outcome(org) -> str:
    """alice's outcome: dropped when the function ran (it drops), inbox when WorkMail could not invoke it."""
    return org.receive(MAIL).outcome("alice@example.com")


@pytest.fixture
def checks(workmail_sandbox, monkeypatch):
    """How many full permission checks ran (the ones the cache did not answer)."""
    runtime = workmail_sandbox.runtime
    calls = []
    original = runtime.check_workmail_permission

    def counted(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(runtime, "check_workmail_permission", counted)
    return calls


# ----------------------------------------------------------- WorkMail's permission decision


def test_the_decision_is_reused_while_the_policy_revision_is_the_same(workmail_sandbox, org, checks):
    _dropping_function(workmail_sandbox, org)
    assert [_outcome(org) for _ in range(3)] == ["dropped"] * 3
    assert len(checks) == 1


def test_remove_permission_is_checked_again_at_once(workmail_sandbox, org, checks):
    """moto keeps the RevisionId on RemovePermission, so the statements are part of the key: checked anew."""
    lam = workmail_sandbox.client("lambda")
    _dropping_function(workmail_sandbox, org)
    _permit(workmail_sandbox, org, "dropper", sid="Second")
    revision = lam.get_policy(FunctionName="dropper")["RevisionId"]
    assert _outcome(org) == "dropped"
    lam.remove_permission(FunctionName="dropper", StatementId="AllowWorkMail")
    assert lam.get_policy(FunctionName="dropper")["RevisionId"] == revision  # moto: unchanged
    assert _outcome(org) == "dropped"  # the "Second" statement still allows it, checked anew
    lam.remove_permission(FunctionName="dropper", StatementId="Second")
    result = org.receive(MAIL)
    assert result.outcome("alice@example.com") == "inbox"
    assert "no permission" in result.invocations[0].attempts[0].error
    assert len(checks) == 3


def test_add_permission_is_seen_at_once(workmail_sandbox, org, checks):
    _dropping_function(workmail_sandbox, org, permit=False)
    assert _outcome(org) == "inbox"  # no policy: refused, and nothing to remember
    other = Organization.create(workmail_sandbox, "other-corp", domains=["other.example.net"])
    _permit(workmail_sandbox, other, "dropper", sid="AllowOther")
    assert _outcome(org) == "inbox"  # a policy for another organization only
    _permit(workmail_sandbox, org, "dropper")
    assert _outcome(org) == "dropped"
    assert len(checks) == 3


def test_a_function_deployed_again_without_its_policy_is_refused(workmail_sandbox, org, checks):
    _dropping_function(workmail_sandbox, org)
    assert _outcome(org) == "dropped"
    workmail_sandbox.client("lambda").delete_function(FunctionName="dropper")
    deploy_handler(DROP_ALL, name="dropper")  # same name and ARN, no resource policy
    assert _outcome(org) == "inbox"
    _permit(workmail_sandbox, org, "dropper")
    assert _outcome(org) == "dropped"


def test_after_a_reset_the_same_names_start_from_nothing(workmail_sandbox, org):
    _dropping_function(workmail_sandbox, org)
    assert _outcome(org) == "dropped"
    workmail_sandbox.reset()
    again = Organization.create(workmail_sandbox, "cache-corp", domains=["example.com"], users=["alice@example.com"])
    _dropping_function(workmail_sandbox, again, permit=False)
    assert _outcome(again) == "inbox"


def test_a_restored_snapshot_brings_its_own_policy_back(workmail_sandbox, org, checks):
    _dropping_function(workmail_sandbox, org, permit=False)
    without = workmail_sandbox.snapshot()
    _permit(workmail_sandbox, org, "dropper")
    with_permission = workmail_sandbox.snapshot()
    assert _outcome(org) == "dropped"
    workmail_sandbox.restore(without)
    assert _outcome(org) == "inbox"
    workmail_sandbox.restore(with_permission)
    assert _outcome(org) == "dropped"
    workmail_sandbox.client("lambda").remove_permission(FunctionName="dropper", StatementId="AllowWorkMail")
    assert _outcome(org) == "inbox"


# ----------------------------------------------------------- a role's parsed policies


def test_a_changed_role_policy_decides_the_next_message_flow_call(workmail_sandbox, org):
    """The role's policies are parsed once per document text; a new text is read again (aws-behaviour §3.2)."""
    fetch = ("import boto3\n\ndef lambda_handler(event, context):\n"
             "    boto3.client('workmailmessageflow').get_raw_message_content(messageId=event['messageId'])\n"
             "    return {'actions': [{'action': {'type': 'DROP'}, 'allRecipients': True}]}\n")
    fn = deploy_handler(fetch, name="fetcher",
                        managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"])
    _permit(workmail_sandbox, org, "fetcher")
    org.rules = RuleSet([Rule.run_lambda("fn", "inbound", fn["FunctionArn"], synchronous=True,
                                         fallback_action="DEFAULT", rule_timeout_minutes=0)])
    role = fn["Role"].rsplit("/", 1)[-1]
    iam = workmail_sandbox.client("iam")
    assert _outcome(org) == "dropped"
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "workmailmessageflow:GetRawMessageContent", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="deny-read", PolicyDocument=json.dumps(deny))
    result = org.receive(MAIL)
    assert result.outcome("alice@example.com") == "inbox"
    assert "AccessDeniedException" in result.invocations[0].attempts[0].error
    deny["Statement"][0]["Action"] = "workmailmessageflow:PutRawMessageContent"
    iam.put_role_policy(RoleName=role, PolicyName="deny-read", PolicyDocument=json.dumps(deny))
    assert _outcome(org) == "dropped"


# ----------------------------------------------------------- the plan reads what ParsedMessage reads

SUBJECTS = st.lists(
    st.sampled_from(["Hello", "  spaced  out ", "\ttab", "=?utf-8?q?Jos=C3=A9?=", "=?", "Zoë", "a\r\n b",
                     "x\r\n\ty", "re: [ticket #12]", "", " ", "~!@#$%^&*()", "=?utf-8?b?w6k=?= tail", "\x7f"]),
    max_size=4,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(subject=SUBJECTS)
def test_the_fast_subject_agrees_with_parsed_message(subject):
    raw = f"From: a@example.org\r\nTo: b@example.com\r\nSubject: {subject}\r\n\r\nbody\r\n".encode(
        "utf-8", "surrogateescape")
    assert header_facts(parse_message(raw, headers_only=True)).subject == parse_message(raw, headers_only=True).subject


def test_the_plan_builds_the_events_events_from_message_builds(workmail_sandbox, org):
    """Same event as events_from_message, field for field, but the ids each build draws afresh."""
    gen = load_generator()
    corpus = [p.read_bytes() for p in sorted((ROOT / "data" / "emails").glob("*.eml"))]
    corpus += list(gen.generate_messages(300, seed=11))
    arn = _dropping_function(workmail_sandbox, org)
    org.rules = RuleSet([Rule.run_lambda("in", "inbound", arn, synchronous=False),
                         Rule.run_lambda("out", "outbound", arn, synchronous=False)])
    compared = 0
    for raw in corpus:
        plan = org.plan(raw, direction="auto")
        facts = plan.facts
        assert facts is not None and facts.subject == plan.parsed.subject
        for job in plan.jobs:
            mail_from = plan.from_address or plan.sender_header or plan.bounce_to
            (expected,) = events_from_message(plan.parsed, direction=plan.direction, org_domains=org.domain_set,
                                              envelope=SmtpEnvelope(mail_from=mail_from, recipients=job.recipients))
            got, want = dict(job.event.raw), dict(expected.raw)
            for key in ("messageId", "invocationId"):
                assert got.pop(key) and want.pop(key)
            assert got == want
            compared += 1
    assert compared > 200


def _reading(parse, data: bytes) -> tuple:
    """Everything a reader of a headers-only parse sees, or the error it raises."""
    try:
        m = parse(data)
    except Exception as exc:  # noqa: BLE001 - compared, not hidden
        return ("raised", type(exc).__name__)
    return (m.items(), [f"{type(d).__name__}: {d}" for d in m.defects], m.get_payload(), m.is_multipart(),
            m.get_unixfrom(), m.get_content_type(), m.get_params())


def _both(data: bytes) -> tuple[tuple, tuple]:
    return _reading(BytesHeaderParser(policy=email.policy.default).parsebytes, data), _reading(_headers_only, data)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400) | st.lists(st.sampled_from(
    [b"Content-Type: multipart/mixed; boundary=x\r\n", b"Content-Type: ;;=\r\n", b"Content-Type: multipart/\r\n",
     b"From: a@example.org\r\n", b" folded\r\n", b"\r\n", b"--x\r\n", b"body\x80\r\n", b"Subject: =?utf-8?q?x?=\n",
     b"From nobody Mon Jan  1 00:00:00 2024\n", b"X: \xff\r\n"]), max_size=8).map(b"".join))
def test_the_headers_only_parse_reads_what_bytes_header_parser_reads(data):
    stdlib, ours = _both(data)
    assert ours == stdlib


def test_the_headers_only_parse_on_the_sample_and_generated_mail():
    corpus = [p.read_bytes() for p in sorted((ROOT / "data" / "emails").glob("*.eml"))]
    corpus += list(load_generator().generate_messages(300, seed=5))
    for raw in corpus:
        stdlib, ours = _both(raw)
        assert ours == stdlib


# ----------------------------------------------------------- the rules' remembered evaluations


def test_a_remembered_evaluation_follows_the_rules_and_the_settings():
    """Each rule set remembers evaluations per recipient, Sender and From; new rules or settings decide anew."""
    drop = Rule.from_dict({"name": "drop-news", "action": "DROP", "senders": ["newsletter.example.net"],
                           "recipients": ["*"]},
                          "inbound")
    fn = Rule.run_lambda("fn", "inbound", "arn:aws:lambda:us-east-1:123456789012:function:f", synchronous=False,
                         senders=["news@newsletter.example.net"])
    rules = RuleSet([drop, fn])
    ask = {"from_address": "news@newsletter.example.net"}
    first = rules.evaluate("inbound", "alice@example.com", **ask)
    assert rules.evaluate("inbound", "alice@example.com", **ask) is first  # remembered
    assert first.winner is fn  # the more specific sender pattern wins (compete)
    rules.settings = {"run_lambda": "in-addition"}
    after = rules.evaluate("inbound", "alice@example.com", **ask)
    assert after.winner is drop and after.lambda_rules == (fn,)
    rules.remove("drop-news")
    without = rules.evaluate("inbound", "alice@example.com", **ask)
    assert without.winner is None and without.action == "DEFAULT" and without.lambda_rules == (fn,)
