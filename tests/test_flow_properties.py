"""Nothing is lost: every recipient of every message ends in exactly one final state.

A hypothesis property over generated mail (``data/generate_corpus.py``'s
``generate_messages``) and random rule sets: ordinary rules, synchronous and
asynchronous Run Lambda rules whose functions answer valid or invalid
responses, add recipients, name too many actions, raise, or have no
permission, with random fallbacks, rule timeouts (0 to 240 minutes) and
precedence settings. Each function's behaviour is chosen by an ``X-Chaos``
header hypothesis adds to the message, which the function reads with
GetRawMessageContent, so every example is reproducible.

A second property checks the flow's fast header reader
(:func:`workmail_sandbox.flow.headers.header_facts`) against
:class:`~workmail_sandbox.mail.ParsedMessage` on random address fields.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from corpus_generator import load_generator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workmail_sandbox.emulators import _core
from workmail_sandbox.flow import FlowSettings, RetryPolicy
from workmail_sandbox.mail import parse_message
from workmail_sandbox.organization import OUTCOMES, Organization
from workmail_sandbox.rules import (
    INBOUND_ACTIONS,
    OUTBOUND_ACTIONS,
    RUN_LAMBDA,
    PrecedenceSettings,
    Rule,
    RuleSet,
)

ROOT = Path(__file__).resolve().parent.parent

CHAOS = '''
import email.parser
import email.policy

import boto3

flow = boto3.client("workmailmessageflow")
INBOUND = ["DEFAULT", "BOUNCE", "DROP", "BYPASS_SPAM_CHECK", "MOVE_TO_JUNK"]
OUTBOUND = ["DEFAULT", "BOUNCE", "DROP"]


def lambda_handler(event, context):
    raw = flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    mode, _, seed = (headers.get("X-Chaos") or "0:0").partition(":")
    mode, seed = int(mode), int(seed or 0)
    types = INBOUND if event["flowDirection"] == "INBOUND" else OUTBOUND
    recipients = [r["address"] for r in event["envelope"]["recipients"]]
    pick = lambda i: types[(seed + i) % len(types)]
    if mode == 0:
        return {"actions": [{"action": {"type": pick(0)}, "allRecipients": True}]}
    if mode == 1:  # one action per recipient, some left out (they get the fallback)
        return {"actions": [{"action": {"type": pick(i)}, "recipients": [r]}
                            for i, r in enumerate(recipients) if (seed + i) % 3]}
    if mode == 2:  # bounce with a message, plus a recipient added as BCC
        return {"actions": [
            {"action": {"type": "DEFAULT"}, "recipients": ["alice@example.com", "added@example.com"]},
            {"action": {"type": "BOUNCE", "parameters": {"bounceMessage": "no %d" % seed}}, "allRecipients": True},
        ]}
    if mode == 3:  # more than ten actions
        return {"actions": [{"action": {"type": pick(i)}, "recipients": [r]} for i, r in enumerate(recipients * 4)]
                + [{"action": {"type": pick(1)}, "allRecipients": True}]}
    if mode == 4:  # invalid: an unknown type
        return {"actions": [{"action": {"type": "ROUTE_TO_SMTP_GATEWAY"}, "allRecipients": True}]}
    if mode == 5:  # invalid: not a response at all
        return "yes please"
    if mode == 6:  # adds an outside address (invalid inbound, fine outbound)
        return {"actions": [{"action": {"type": "DEFAULT"}, "recipients": ["outsider@example.net"]},
                            {"action": {"type": "DEFAULT"}, "allRecipients": True}]}
    raise RuntimeError("chaos %d" % seed)
'''
MODES = 8

PATTERNS = st.sampled_from([
    "*", "example.com", "sales.example.com", "*.example.com", "example.org", "*.example.org", "example.net",
    "*.example.net", "partner.example.org", "alice@example.com", "dave@sales.example.com", "bob@example.com",
    "offers.example.net", "news@billing.example.net",
])


GEN = load_generator()


@pytest.fixture(scope="module")
def world():
    """One sandbox for the module: the corpus's organization and the functions the rules can run."""
    from workmail_sandbox import sandbox as sandbox_module
    from workmail_sandbox.deploy.handler import deploy_handler

    already = sandbox_module.current()
    sb = sandbox_module.start()
    try:
        org = Organization.create(
            sb, "chaos-corp", domains=list(GEN.ORG_DOMAINS),
            users=[address for _, address in GEN.INTERNAL_USERS] + ["added@example.com"],
            groups={"finance@example.com": ["alice@example.com"], "support@example.com": []},
        )
        policies = ["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"]
        permitted = deploy_handler(CHAOS, name="chaos", managed_policies=policies)["FunctionArn"]
        org.grant_invoke("chaos")
        unpermitted = deploy_handler(CHAOS, name="chaos-no-permission", managed_policies=policies)["FunctionArn"]
        missing = "arn:aws:lambda:us-east-1:123456789012:function:never-deployed"
        yield sb, org, (permitted, permitted, permitted, unpermitted, missing)
    finally:
        if already is None:
            sandbox_module.stop()


LAMBDA_SENDERS = st.one_of(st.just(["*"]), st.lists(PATTERNS, min_size=1, max_size=3))


@st.composite
def rules(draw, functions):
    """A random, valid rule set: ordinary rules and Run Lambda rules of both kinds, random settings."""
    chosen = []
    for direction, actions in (("INBOUND", INBOUND_ACTIONS), ("OUTBOUND", OUTBOUND_ACTIONS)):
        ordinary = [a for a in actions if a != RUN_LAMBDA]
        for n in range(draw(st.integers(0, 3))):
            senders = draw(st.lists(PATTERNS, min_size=1, max_size=3))
            recipients = draw(st.lists(PATTERNS, min_size=1, max_size=2))
            chosen.append(Rule(f"{direction.lower()}-{n}", direction, tuple(senders), tuple(recipients),
                               draw(st.sampled_from(ordinary))))
        for n in range(draw(st.integers(1, 2))):
            name = f"{direction.lower()}-lambda-{n}"
            arn = draw(st.sampled_from(functions))
            senders = draw(LAMBDA_SENDERS)
            if draw(st.booleans()):
                chosen.append(Rule.run_lambda(
                    name, direction, arn, synchronous=True, fallback_action=draw(st.sampled_from(ordinary)),
                    rule_timeout_minutes=draw(st.sampled_from([0, 0, 1, 30, 240])), senders=senders,
                ))
            else:
                recipients = draw(st.one_of(st.just(["*"]), st.lists(PATTERNS, min_size=1, max_size=2)))
                chosen.append(Rule.run_lambda(name, direction, arn, synchronous=False, senders=senders,
                                              recipients=recipients))
    precedence = PrecedenceSettings(
        specificity=draw(st.sampled_from(["sender-first", "recipient-first", "sum", "max"])),
        run_lambda=draw(st.sampled_from(["compete", "in-addition"])),
        lambda_rules=draw(st.sampled_from(["winner", "all-matching"])),
    )
    return RuleSet(chosen, settings=precedence)


@st.composite
def messages(draw):
    """A few generated messages, each with an X-Chaos header choosing what the functions answer."""
    seed = draw(st.integers(0, 10_000))
    count = draw(st.integers(1, 3))
    out = []
    for raw in GEN.generate_messages(count, seed=seed, outbound_ratio=draw(st.sampled_from([0.0, 0.3, 1.0]))):
        chaos = f"X-Chaos: {draw(st.integers(0, MODES - 1))}:{draw(st.integers(0, 99))}\r\n".encode()
        out.append(chaos + raw)
    return out


def _check_nothing_lost(org, raw: bytes, result) -> None:
    result.check()
    parsed = parse_message(raw, headers_only=True)
    domains = set(GEN.ORG_DOMAINS) | {f"{org.alias}.awsapps.com"}
    expected = parsed.recipients  # read independently of the engine's fast address reader
    if result.direction == "INBOUND":
        expected = [r for r in expected if r.rpartition("@")[2] in domains]
    originals = [r for r, o in result.recipients.items() if not o.added]
    assert sorted(originals) == sorted(expected) and len(set(originals)) == len(originals)
    assert all(o.outcome in OUTCOMES for o in result.recipients.values())
    assert all(o.reason for o in result.recipients.values())
    if result.direction == "INBOUND":
        assert all(r.rpartition("@")[2] in domains for r in result.recipients)
    # The event log has exactly one final-state event per recipient, with the same outcome.
    log = org.log.to_records(result.trace_id)
    finals = Counter(r["outcome"] for r in log if r["outcome"])
    assert finals == Counter(o.outcome for o in result.recipients.values())
    # Every copy put in transit was delivered (finish_transit).
    backend = _core.registered_services()["workmailmessageflow"].backend(org.account_id, org.region)
    assert all(not backend.messages[m].in_transit for m in result.message_ids)
    # Every synchronous invocation ended applied or in the fallback; none is left pending.
    assert {i.outcome for i in result.invocations} <= {"applied", "fallback", "ignored", "failed"}
    assert all(i.invocation_id == i.event.get("invocationId", i.invocation_id) for i in result.invocations)
    for o in result.recipients.values():
        event(f"outcome {o.outcome} from {o.source}")
    for i in result.invocations:
        event(f"{'sync' if i.synchronous else 'async'} invocation {i.outcome}, {min(len(i.attempts), 3)}+ attempts")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_every_recipient_ends_in_exactly_one_final_state(world, data):
    sb, org, functions = world
    org.rules = data.draw(rules(functions), label="rules")
    org.settings = FlowSettings(
        retry=RetryPolicy(first_delay_seconds=data.draw(st.sampled_from([30.0, 60.0, 600.0]), label="delay")),
        virus_verdict=data.draw(st.sampled_from(["block", "junk", "ignore"]), label="virus"),
        unknown_recipients=data.draw(st.sampled_from(["bounce", "create-mailbox"]), label="unknown"),
    )
    conversations = data.draw(st.sampled_from(["single", "per-domain"]), label="conversations")
    for raw in data.draw(messages(), label="messages"):
        result = org.route(raw, direction="auto", conversations=conversations)
        _check_nothing_lost(org, raw, result)
    org.clear_mail()


# ----------------------------------------------------- the flow's fast header reader


NAMES = st.sampled_from(["", "Ana", "Ana Lima", '"Lima, Ana"', "=?utf-8?q?Jos=C3=A9?=", "Ana (sales)", '"a@b"',
                         "Zoë", "O'Brien"])
LOCALS = st.sampled_from(["ana", "Ana.Lima", "x+tag", "o'brien", "first_last", "UPPER"])
DOMAINS = st.sampled_from(["example.com", "Sales.Example.com", "example.org", "mail.example.net"])


@st.composite
def address_field(draw):
    items = []
    for _ in range(draw(st.integers(1, 4))):
        name, address = draw(NAMES), f"{draw(LOCALS)}@{draw(DOMAINS)}"
        items.append(draw(st.sampled_from([address, f"<{address}>", f"{name} <{address}>".strip(),
                                           f"{address} (comment)"])))
    if draw(st.booleans()) and draw(st.booleans()):
        items.append("undisclosed-recipients:;")
    return ", ".join(items)


@settings(max_examples=200, deadline=None)
@given(to=address_field(), cc=st.none() | address_field(), frm=address_field(), sender=st.none() | address_field())
def test_the_fast_header_reader_agrees_with_parsed_message(to, cc, frm, sender):
    """The engine reads From, Sender, To, Cc and Bcc from raw values (speed); the result must be ParsedMessage's."""
    from workmail_sandbox.flow.headers import header_facts

    lines = [f"From: {frm}", f"To: {to}"] + ([f"Cc: {cc}"] if cc else []) + ([f"Sender: {sender}"] if sender else [])
    lines += ["Subject: x", "Message-ID: <1@example.com>", "X-SES-Spam-Verdict: fail", "", "body", ""]
    raw = "\r\n".join(lines).encode("utf-8")
    facts = header_facts(parse_message(raw, headers_only=True))
    reference = parse_message(raw, headers_only=True)
    assert facts.recipients == reference.recipients
    assert facts.from_addresses == reference.from_addresses
    assert facts.sender == reference.sender_address
    assert (facts.message_id, facts.spam_verdict) == (reference.message_id, reference.spam_verdict)


def test_the_fast_header_reader_on_the_sample_and_generated_mail():
    from workmail_sandbox.flow.headers import header_facts

    corpus = [p.read_bytes() for p in sorted((ROOT / "data" / "emails").glob("*.eml"))]
    corpus += list(GEN.generate_messages(500, seed=3))
    for raw in corpus:
        facts = header_facts(parse_message(raw, headers_only=True))
        reference = parse_message(raw, headers_only=True)
        assert (facts.recipients, facts.from_addresses, facts.sender) == (
            reference.recipients, reference.from_addresses, reference.sender_address)
        assert (facts.message_id, facts.spam_verdict, facts.virus_verdict) == (
            reference.message_id, reference.spam_verdict, reference.virus_verdict)
