"""Tests of ``workmail_sandbox.rules``: email flow rules, precedence and "Test configuration".

Every test names the fact it checks and where it comes from:

* "AWS docs, Managing email flows (email-flows.md)": awsdocs/amazon-workmail-administration-guide
  ``doc_source/email-flows.md`` (https://docs.aws.amazon.com/workmail/latest/adminguide/email-flows.html):
  action tables, patterns, Sender before From, precedence. Facts sheet sections 4.2 to 4.4a.
* "AWS docs, Configuring AWS Lambda (lambda.md)": synchronous rules, fallback action, rule timeout,
  '*' as the only recipient pattern of synchronous rules. Facts sheet 2.1 and 2.5.
* "AWS docs, WorkMail quotas (workmail_limits.md)": 250 sender patterns per rule, 1,000 per
  organization. Facts sheet 4.4.
* "AWS docs, Testing an email flow rule (test-email-flow-rule.md)": the console's Test
  configuration box. Facts sheet 4.1.
* "Kit choice": where AWS is silent, the choice documented in the docstring of ``rules.py``.
"""

from __future__ import annotations

import copy
import json
import re
import time
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmail_sandbox.errors import RuleError, WorkMailSandboxError
from workmail_sandbox.responses import FALLBACK_ACTION_TYPES
from workmail_sandbox.rules import (
    ACTION_LABELS,
    ACTIONS,
    BOUNCE,
    BYPASS_SPAM_CHECK,
    DEFAULT,
    DROP,
    INBOUND_ACTIONS,
    MAX_RULE_TIMEOUT_MINUTES,
    MAX_SENDER_PATTERNS_PER_ORGANIZATION,
    MAX_SENDER_PATTERNS_PER_RULE,
    MOVE_TO_JUNK,
    OUTBOUND_ACTIONS,
    ROUTE_TO_SMTP_GATEWAY,
    RUN_LAMBDA,
    Evaluation,
    Pattern,
    PrecedenceSettings,
    Rule,
    RuleSet,
    Specificity,
    parse_pattern,
)

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "rules"
MANIFEST = json.loads((RULES_DIR / "manifest.json").read_text(encoding="utf-8"))
ARN = "arn:aws:lambda:us-east-1:123456789012:function:serverlessrepo-workmail-hello-world-WorkMailHelloWorldFunction"
METRICS_ARN = "arn:aws:lambda:us-east-1:123456789012:function:workmail-metrics"


def sync_rule(name="hello", direction="inbound", **kw):
    kw.setdefault("fallback_action", DEFAULT)
    kw.setdefault("rule_timeout_minutes", 60)
    return Rule.run_lambda(name, direction, ARN, synchronous=True, **kw)


def async_rule(name="metrics", direction="inbound", **kw):
    return Rule.run_lambda(name, direction, METRICS_ARN, synchronous=False, **kw)


def inbound(ruleset, sender, recipient="alice@example.com", **kw):
    return ruleset.evaluate("inbound", recipient, from_address=sender, **kw)


# ------------------------------------------------------------------------------ actions


def test_inbound_actions_are_the_documentation_table_in_order():
    """AWS docs, Managing email flows (email-flows.md): inbound actions are Drop email, Send bounce
    response, Deliver to junk folder, Default, Never deliver to junk folder, Run Lambda, and "the
    order of precedence for actions is the same as the order in which they are listed"."""
    assert INBOUND_ACTIONS == ("DROP", "BOUNCE", "MOVE_TO_JUNK", "DEFAULT", "BYPASS_SPAM_CHECK", "RUN_LAMBDA")
    assert [ACTION_LABELS["INBOUND"][a] for a in INBOUND_ACTIONS] == [
        "Drop email", "Send bounce response", "Deliver to junk folder", "Default",
        "Never deliver to junk folder", "Run Lambda",
    ]


def test_outbound_actions_are_the_documentation_table_in_order():
    """AWS docs, Managing email flows (email-flows.md): outbound actions are Default, Drop email,
    Send bounce response, Route to SMTP gateway, Run Lambda, in that (precedence) order."""
    assert OUTBOUND_ACTIONS == ("DEFAULT", "DROP", "BOUNCE", "ROUTE_TO_SMTP_GATEWAY", "RUN_LAMBDA")
    assert [ACTION_LABELS["OUTBOUND"][a] for a in OUTBOUND_ACTIONS] == [
        "Default", "Drop email", "Send bounce response", "Route to SMTP gateway", "Run Lambda",
    ]


def test_fallback_actions_are_the_rule_actions_without_run_lambda():
    """AWS docs, Configuring AWS Lambda (lambda.md): the fallback cannot be a Lambda action; the
    rules module and the responses module agree on the allowed fallbacks."""
    for direction, actions in ACTIONS.items():
        assert set(FALLBACK_ACTION_TYPES[direction]) == set(actions) - {RUN_LAMBDA}


@pytest.mark.parametrize(
    ("direction", "written", "stored"),
    [
        ("inbound", "Drop email", DROP),
        ("inbound", "deliver to junk folder", MOVE_TO_JUNK),
        ("inbound", "Never deliver to junk folder", BYPASS_SPAM_CHECK),
        ("inbound", "bypass_spam_check", BYPASS_SPAM_CHECK),
        ("outbound", "Route to SMTP gateway", ROUTE_TO_SMTP_GATEWAY),
        ("outbound", "route-to-smtp-gateway", ROUTE_TO_SMTP_GATEWAY),
    ],
)
def test_actions_accept_constants_and_console_labels(direction, written, stored):
    """AWS docs, Managing email flows (email-flows.md): the console names actions by label; the kit
    stores the constant (Kit choice: any case, labels accepted) and keeps the label for display."""
    rule = Rule(written.title(), direction, ("*",), ("*",), written)
    assert rule.action == stored
    assert rule.label == ACTION_LABELS[rule.direction][stored]


@pytest.mark.parametrize(
    ("direction", "action", "message"),
    [
        ("outbound", "MOVE_TO_JUNK", "exists only for inbound rules"),
        ("outbound", "BYPASS_SPAM_CHECK", "exists only for inbound rules"),
        ("inbound", "ROUTE_TO_SMTP_GATEWAY", "exists only for outbound rules"),
        ("inbound", "DROPP", "did you mean DROP?"),
        ("inbound", "QUARANTINE", "is not an inbound action"),
    ],
)
def test_actions_belong_to_their_direction(direction, action, message):
    """AWS docs, Managing email flows (email-flows.md): the inbound and outbound tables list
    different actions (junk folder actions are inbound only, the SMTP gateway outbound only)."""
    with pytest.raises(RuleError, match=message):
        Rule("r", direction, ("*",), ("*",), action)


# ------------------------------------------------------------------------------ patterns


@pytest.mark.parametrize(
    ("text", "kind", "value", "specificity"),
    [
        ("mailbox@example.com", "address", "mailbox@example.com", Specificity(3)),
        ("example.com", "domain", "example.com", Specificity(2)),
        ("*.example.com", "wildcard domain", "example.com", Specificity(1, 2)),
        ("*.eu.example.com", "wildcard domain", "eu.example.com", Specificity(1, 3)),
        ("*", "star", "", Specificity(0)),
        ("  Mailbox@Example.COM ", "address", "mailbox@example.com", Specificity(3)),
    ],
)
def test_the_four_pattern_forms(text, kind, value, specificity):
    """AWS docs, Managing email flows (email-flows.md): a pattern is an email address, a domain,
    a wildcard domain ('*' only at the front) or '*' (star). Kit choice: lower-cased, outer spaces trimmed."""
    pattern = parse_pattern(text)
    assert (pattern.kind, pattern.value, pattern.specificity) == (kind, value, specificity)
    assert pattern.specificity.kind == kind


def test_legacy_wildcard_spelling_is_the_same_as_the_dotted_one():
    """AWS docs, Managing email flows, older versions (GH-OLD): the wildcard was written
    '*example.com'. Kit choice: read as '*.example.com' (domain and subdomains), never a suffix match."""
    legacy = parse_pattern("*example.com")
    assert legacy == parse_pattern("*.example.com")
    assert legacy.text == "*.example.com"
    assert legacy.matches("a@example.com") and legacy.matches("a@eu.example.com")
    assert not legacy.matches("a@notexample.com")


@pytest.mark.parametrize(
    ("pattern", "address", "expected"),
    [
        ("Jane@Example.com", "jane@example.com", True),
        ("jane@example.com", "JANE@EXAMPLE.COM", True),
        ("jane@example.com", "Jane Doe <Jane@Example.Com>", True),
        ("EXAMPLE.COM", "bob@example.com", True),
        ("example.com", "bob@Example.Com", True),
        ("example.com", "bob@eu.example.com", False),
        ("*.Example.Com", "bob@EU.example.com", True),
        ("jane@example.com", "jane@eu.example.com", False),
        ("jane@example.com", "john@example.com", False),
    ],
)
def test_matching_is_case_insensitive(pattern, address, expected):
    """AWS docs, Managing email flows (email-flows.md): an address pattern matches one address, a
    domain every address in that domain (not its subdomains). Kit choice: matching ignores case,
    as WorkMail compares addresses without regard to case."""
    assert parse_pattern(pattern).matches(address) is expected
    ruleset = RuleSet([Rule.inbound("r", DROP, senders=[pattern])])
    assert (inbound(ruleset, address).action == DROP) is expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("a@example.com", True),
        ("a@sales.example.com", True),
        ("a@deep.eu.sales.example.com", True),
        ("a@notexample.com", False),
        ("a@example.com.evil.example.net", False),
        ("a@example.co", False),
    ],
)
def test_wildcard_domain_covers_the_domain_and_all_subdomains_only(address, expected):
    """AWS docs, Managing email flows (email-flows.md): "A wildcard domain matches all email
    addresses under that domain and all of its subdomains" - but not a look-alike domain."""
    assert parse_pattern("*.example.com").matches(address) is expected
    ruleset = RuleSet([Rule.inbound("r", DROP, senders=["*.example.com"])])
    assert (inbound(ruleset, address).action == DROP) is expected


def test_star_matches_every_address():
    """AWS docs, Managing email flows (email-flows.md): "Star matches any email addresses under any domain"."""
    star = parse_pattern("*")
    assert all(star.matches(a) for a in ("a@example.com", "x@y.example.org", "Z@EXAMPLE.NET"))


@pytest.mark.parametrize(
    ("pattern", "fix"),
    [
        ("bob+spam@example.org", "bob@example.org"),
        ("+tag@example.org", "example.org"),
        ("example+x.org", "remove the '+'"),
    ],
)
def test_plus_is_refused_in_patterns(pattern, fix):
    """AWS docs, Managing email flows (email-flows.md): '+' is not allowed in patterns."""
    with pytest.raises(RuleError) as caught:
        Rule.inbound("block-partner", DROP, senders=[pattern])
    message = str(caught.value)
    assert f"sender pattern {pattern!r} contains '+', which WorkMail does not allow in patterns" in message
    assert "Fix:" in message and fix in caught.value.fix


def test_plus_is_refused_in_recipient_patterns_too():
    """AWS docs, Managing email flows (email-flows.md): '+' is not allowed in patterns (recipient side)."""
    with pytest.raises(RuleError, match=r"recipient pattern 'team\+x@example.com' contains '\+'"):
        Rule.inbound("r", DROP, recipients=["team+x@example.com"])


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("bob smith@example.com", "contains a space"),
        ("example.com example.net", "contains a space"),
        ("a*b", "'*' at position 2"),
        ("mail*.example.net", "'*' at position 5"),
        ("example.*", "'*' at position 9"),
        ("*@example.com", "puts '*' in front of an address"),
        ("**.example.com", "more than one '*'"),
        ("*.*.example.com", "more than one '*'"),
        ("203.0.113.5", "IP address or CIDR range"),
        ("203.0.113.0/24", "IP address or CIDR range"),
        ("2001:db8::/32", "IP address or CIDR range"),
        ("[203.0.113.5]", "IP address or CIDR range"),
        ("localhost", "single label"),
        ("bob@localhost", "single label"),
        ("example.com.", "ends with a dot"),
        ("-bad.example.com", "not a valid domain"),
        ("exa_mple.com", "not a valid domain"),
        ("a..b.com", "not a valid domain"),
        ("b\u00fccher.example", "non-ASCII domain"),
        ("@example.com", "needs text on both sides"),
        ("bob@", "needs text on both sides"),
        ("a@b@example.com", "more than one '@'"),
        ('"bob smith"@example.com', "contains a space"),
        ('"bob"@example.com', "quoted local part"),
        ("bob..x@example.com", "local part"),
        ("example.123", "numeric label"),
    ],
)
def test_malformed_patterns_are_refused_with_a_fix(pattern, why):
    """AWS docs, Managing email flows (email-flows.md): a pattern is an address, a domain,
    '*.domain' or '*'. Kit choice: anything else (IP or CIDR, spaces, '*' elsewhere, empty)
    is a RuleError naming the pattern, saying why, and giving the fix."""
    with pytest.raises(RuleError) as caught:
        parse_pattern(pattern, what="sender pattern")
    assert why in str(caught.value)
    assert repr(pattern) in str(caught.value)
    assert caught.value.fix


@pytest.mark.parametrize("value", [5, None, b"example.com", ["a@example.com"]])
def test_a_pattern_must_be_text(value):
    """Kit choice: a pattern that is not text is a RuleError, not a TypeError."""
    with pytest.raises(RuleError, match="not text"):
        parse_pattern(value)


def test_pattern_errors_name_the_rule_and_the_pattern():
    """AWS docs, Managing email flows (email-flows.md): '+' is not allowed; the error says which
    rule and which pattern, and the fix."""
    with pytest.raises(RuleError) as caught:
        Rule.inbound("block-partner", DROP, senders=["partner.example.org", "bob+spam@example.org"])
    assert str(caught.value).startswith('rule "block-partner": sender pattern \'bob+spam@example.org\'')


def test_every_rule_error_is_a_kit_error_and_a_value_error():
    """Kit convention (errors.py): misuse raises the kit's own errors, under one base class."""
    with pytest.raises(WorkMailSandboxError):
        parse_pattern("a+b@example.com")
    with pytest.raises(ValueError):
        parse_pattern("a+b@example.com")


# ------------------------------------------------------------------------------ quotas


def _senders(n, domain="example.org"):
    return [f"user{i}@{domain}" for i in range(n)]


def test_250_sender_patterns_per_rule_and_no_more():
    """AWS docs, WorkMail quotas (workmail_limits.md): at most 250 sender patterns per rule."""
    assert MAX_SENDER_PATTERNS_PER_RULE == 250
    rule = Rule.inbound("many", DROP, senders=_senders(250))
    assert len(rule.sender_patterns) == 250
    with pytest.raises(RuleError) as caught:
        Rule.inbound("too-many", DROP, senders=_senders(251))
    assert "251 sender patterns; WorkMail allows at most 250 per rule" in str(caught.value)
    assert "split the patterns" in caught.value.fix


def test_251_patterns_in_a_rule_file_name_the_rule():
    """AWS docs, WorkMail quotas (workmail_limits.md): 250 sender patterns per rule; a file that
    breaks it names the rule by direction, index and name."""
    data = {"inbound": [{"name": "big", "senders": _senders(251), "recipients": ["*"], "action": "DROP"}]}
    with pytest.raises(RuleError, match=r'^inbound\[0\] "big": 251 sender patterns'):
        RuleSet.from_dict(data)


def test_1000_sender_patterns_per_organization_and_no_more():
    """AWS docs, WorkMail quotas (workmail_limits.md): at most 1,000 sender patterns per organization
    (Kit choice: counted over both directions of the rule set)."""
    assert MAX_SENDER_PATTERNS_PER_ORGANIZATION == 1000
    ruleset = RuleSet(Rule.inbound(f"r{i}", DROP, senders=_senders(250, f"d{i}.example.org")) for i in range(3))
    ruleset.add(Rule.outbound("out", DROP, senders=_senders(250, "out.example.org")))
    assert ruleset.sender_pattern_count == 1000
    with pytest.raises(RuleError) as caught:
        ruleset.add(Rule.inbound("one-more", DROP, senders=["last@example.org"]))
    assert "1,001 sender patterns; WorkMail allows at most 1,000 per organization" in str(caught.value)
    assert str(caught.value).startswith('inbound[3] "one-more"')
    assert len(ruleset) == 4  # the refused rule was not added


def test_1001_sender_patterns_in_a_rule_file_are_refused():
    """AWS docs, WorkMail quotas (workmail_limits.md): 1,000 sender patterns per organization,
    checked when a rule file is loaded."""
    rules = [
        {"name": f"r{i}", "senders": _senders(200, f"d{i}.example.org"), "recipients": ["*"], "action": "DROP"}
        for i in range(5)
    ]
    RuleSet.from_dict({"inbound": rules})
    rules.append({"name": "extra", "senders": ["x@example.org"], "recipients": ["*"], "action": "DROP"})
    with pytest.raises(RuleError, match=r'inbound\[5\] "extra": with this rule the rule set has 1,001'):
        RuleSet.from_dict({"inbound": rules})


def test_repeated_patterns_count_once():
    """Kit choice: a pattern repeated within a rule (in any case) counts once, for matching and quotas."""
    rule = Rule.inbound("r", DROP, senders=["a@example.com", "A@Example.com", "a@example.com"] + _senders(249))
    assert len(rule.sender_patterns) == 250


def test_recipient_patterns_have_no_quota():
    """Kit choice: AWS documents quotas for sender patterns only, so none applies to recipients."""
    rule = Rule.inbound("r", DROP, recipients=_senders(600, "example.com"))
    assert len(rule.recipient_patterns) == 600


# ------------------------------------------------------------------------------ specificity


def test_specificity_order_address_domain_wildcard_star():
    """AWS docs, Managing email flows (email-flows.md): the most specific rule wins; an address
    beats a domain. Kit choice: address > domain > wildcard domain > '*'."""
    order = [parse_pattern(p).specificity for p in ("*", "*.example.com", "example.com", "a@example.com")]
    assert order == sorted(order)
    assert len(set(order)) == 4


def test_longer_wildcard_domain_is_more_specific():
    """Kit choice (AWS says only "most specific"): among wildcard domains, more labels is more
    specific, and any wildcard is less specific than a domain."""
    short, long_ = parse_pattern("*.example.com"), parse_pattern("*.eu.example.com")
    assert long_.specificity > short.specificity
    assert parse_pattern("example.com").specificity > long_.specificity
    ruleset = RuleSet([
        Rule.inbound("short", DROP, senders=["*.example.com"]),
        Rule.inbound("long", BYPASS_SPAM_CHECK, senders=["*.eu.example.com"]),
    ])
    evaluation = inbound(ruleset, "x@mail.eu.example.com")
    assert evaluation.winner.name == "long"
    assert "shorter wildcard domain (2 vs 3 labels)" in evaluation.losers[0].reason


@pytest.mark.parametrize(
    ("sender", "winner"),
    [
        ("ceo@vendor.example.net", "address"),
        ("sales@vendor.example.net", "domain"),
        ("x@eu.vendor.example.net", "wildcard"),
        ("x@elsewhere.example.org", "star"),
    ],
)
def test_most_specific_rule_wins_whatever_its_action(sender, winner):
    """AWS docs, Managing email flows (email-flows.md): "If multiple rules match, the action of the
    most specific rule is applied" - specificity first, action order only on a tie."""
    ruleset = RuleSet([
        Rule.inbound("star", DROP, senders=["*"]),
        Rule.inbound("wildcard", BOUNCE, senders=["*.vendor.example.net"]),
        Rule.inbound("domain", MOVE_TO_JUNK, senders=["vendor.example.net"]),
        Rule.inbound("address", BYPASS_SPAM_CHECK, senders=["ceo@vendor.example.net"]),
    ])
    assert inbound(ruleset, sender).winner.name == winner


def test_address_exception_carved_out_of_a_domain_rule():
    """AWS docs, Managing email flows (email-flows.md), Default action: "To add exceptions to
    domain-based email flow rules, configure the Default action with a more specific sender pattern"."""
    ruleset = RuleSet([
        Rule.inbound("drop-domain", DROP, senders=["example.org"]),
        Rule.inbound("allow-ceo", DEFAULT, senders=["ceo@example.org"]),
    ])
    assert inbound(ruleset, "ceo@example.org").action == DEFAULT
    assert inbound(ruleset, "other@example.org").action == DROP
    loser = inbound(ruleset, "ceo@example.org").losers[0]
    assert loser.reason.startswith("less specific: domain rule vs address rule")


def test_a_rule_counts_its_most_specific_matching_pattern():
    """Kit choice: a rule with several patterns takes the specificity of the most specific one
    that matches."""
    ruleset = RuleSet([
        Rule.inbound("broad", DROP, senders=["*", "ceo@example.org"]),
        Rule.inbound("domain", DEFAULT, senders=["example.org"]),
    ])
    evaluation = inbound(ruleset, "ceo@example.org")
    assert evaluation.winner.name == "broad"
    assert evaluation.winner_match.sender_pattern.text == "ceo@example.org"
    assert inbound(ruleset, "other@example.org").winner.name == "domain"


@pytest.mark.parametrize("order", ["drop-first", "bounce-first"])
def test_equal_specificity_inbound_drop_beats_bounce(order):
    """AWS docs, Managing email flows (email-flows.md): "If multiple rules have the same
    specificity, the most restrictive action is applied ... a Drop action takes precedence over a
    Bounce action" - whatever order the rules were created in."""
    rules = [
        Rule.inbound("drop", DROP, senders=["example.org"]),
        Rule.inbound("bounce", BOUNCE, senders=["example.org"]),
    ]
    ruleset = RuleSet(rules if order == "drop-first" else rules[::-1])
    evaluation = inbound(ruleset, "x@example.org")
    assert evaluation.action == DROP
    assert evaluation.losers[0].reason == "same specificity, less restrictive: BOUNCE ranks below DROP"


@pytest.mark.parametrize(
    ("direction", "higher", "lower"),
    [(d, a, b) for d, actions in ACTIONS.items() for a, b in combinations(actions, 2)],
)
def test_equal_specificity_follows_the_table_order(direction, higher, lower):
    """AWS docs, Managing email flows (email-flows.md): "The order of precedence for actions is the
    same as the order in which they are listed" in the inbound and outbound tables (every pair)."""
    def make(name, action):
        if action == RUN_LAMBDA:
            return async_rule(name, direction, senders=["example.org"])
        return Rule(name, direction, ("example.org",), ("*",), action)

    ruleset = RuleSet([make("lower", lower), make("higher", higher)])
    evaluation = ruleset.evaluate(direction, "someone@example.com", from_address="x@example.org")
    assert evaluation.winner.name == "higher"
    assert evaluation.losers[0].reason == f"same specificity, less restrictive: {lower} ranks below {higher}"


def test_outbound_default_beats_drop_literally():
    """AWS docs, Managing email flows (email-flows.md), section 4.4a of the facts: the outbound table
    lists Default before Drop email, so taken literally Default outranks Drop at equal specificity."""
    ruleset = RuleSet([
        Rule.outbound("block", DROP, recipients=["competitor.example.org"]),
        Rule.outbound("allow", DEFAULT, recipients=["competitor.example.org"]),
    ])
    evaluation = ruleset.evaluate("outbound", "buyer@competitor.example.org", from_address="alice@example.com")
    assert evaluation.action == DEFAULT
    assert "DROP ranks below DEFAULT" in evaluation.losers[0].reason


def test_run_lambda_ranks_last_in_both_directions():
    """AWS docs, Managing email flows (email-flows.md): Run Lambda is the last row of both tables,
    so with the default setting (compete) it loses every tie, even to Default."""
    for direction in ACTIONS:
        ruleset = RuleSet([sync_rule("fn", direction), Rule(f"plain-{direction}", direction, ("*",), ("*",), DEFAULT)])
        evaluation = ruleset.evaluate(direction, "a@example.com", from_address="b@example.org")
        assert evaluation.action == DEFAULT
        assert evaluation.lambda_rules == ()


def test_same_specificity_and_action_first_rule_in_the_list_wins():
    """Kit choice: between rules with the same specificity and the same action, the earlier rule in
    the list wins (it only matters for which Run Lambda function runs)."""
    ruleset = RuleSet([async_rule("first", senders=["example.org"]), async_rule("second", senders=["example.org"])])
    evaluation = inbound(ruleset, "x@example.org")
    assert evaluation.winner.name == "first"
    assert "comes earlier in the rule list" in evaluation.losers[0].reason


# ------------------------------------------------------------------------------ matching


@pytest.fixture
def sender_from_rules():
    return RuleSet([
        Rule.inbound("assistant-rule", BYPASS_SPAM_CHECK, senders=["assistant@example.org"]),
        Rule.inbound("ceo-rule", DROP, senders=["ceo@example.net"]),
    ])


def test_inbound_sender_header_is_tried_first(sender_from_rules):
    """AWS docs, Managing email flows (email-flows.md): "If present, the Sender address is matched first"."""
    evaluation = inbound(sender_from_rules, "ceo@example.net", sender_header="assistant@example.org")
    assert evaluation.winner.name == "assistant-rule"
    assert evaluation.matched_header == "Sender"
    no_match = evaluation.considered()[1]
    assert no_match.rule.name == "ceo-rule" and "Sender first" in no_match.reason


def test_inbound_from_is_used_when_sender_matches_no_rule(sender_from_rules):
    """AWS docs, Managing email flows (email-flows.md): "The From address is matched if ... the
    Sender header doesn't match any rule"."""
    evaluation = inbound(sender_from_rules, "ceo@example.net", sender_header="nobody@example.com")
    assert evaluation.winner.name == "ceo-rule"
    assert evaluation.matched_header == "From"
    assert "the Sender header matched no rule" in evaluation.explain()


def test_inbound_from_is_used_when_there_is_no_sender_header(sender_from_rules):
    """AWS docs, Managing email flows (email-flows.md): "The From address is matched if there is no
    Sender header"."""
    evaluation = inbound(sender_from_rules, "ceo@example.net")
    assert (evaluation.winner.name, evaluation.matched_header) == ("ceo-rule", "From")
    assert "there is no Sender header" in evaluation.explain()


def test_inbound_sender_match_hides_a_more_specific_from_match():
    """AWS docs, Managing email flows (email-flows.md): From is tried only when Sender matches no
    rule, so a '*' rule matching Sender wins over an address rule that matches From."""
    ruleset = RuleSet([Rule.inbound("all", MOVE_TO_JUNK), Rule.inbound("ceo", DROP, senders=["ceo@example.net"])])
    evaluation = inbound(ruleset, "ceo@example.net", sender_header="assistant@example.org")
    assert evaluation.winner.name == "all"


def test_inbound_sender_must_match_with_the_recipient():
    """AWS docs, Managing email flows (email-flows.md): "Inbound email flow rules are applied if
    either the Sender or From header ... matches"; Kit choice: a rule matches only when its
    recipient patterns match too, so a Sender that matches a rule for another recipient falls
    through to From."""
    ruleset = RuleSet([
        Rule.inbound("sales-only", DROP, senders=["assistant@example.org"], recipients=["sales.example.com"]),
        Rule.inbound("ceo", BOUNCE, senders=["ceo@example.net"]),
    ])
    evaluation = inbound(
        ruleset, "ceo@example.net", recipient="alice@example.com", sender_header="assistant@example.org"
    )
    assert (evaluation.winner.name, evaluation.matched_header) == ("ceo", "From")


def test_inbound_rules_take_recipient_patterns():
    """AWS docs, Managing email flows (email-flows.md, since March 2020): inbound rules take sender
    and recipient patterns."""
    ruleset = RuleSet(
        [Rule.inbound("sales-junk", MOVE_TO_JUNK, senders=["example.net"], recipients=["sales.example.com"])]
    )
    assert inbound(ruleset, "x@example.net", recipient="bob@sales.example.com").action == MOVE_TO_JUNK
    assert inbound(ruleset, "x@example.net", recipient="alice@example.com").is_default


@pytest.mark.parametrize(
    ("sender_header", "from_address", "recipient", "matches"),
    [
        (None, "alice@example.com", "buyer@partner.example.org", True),
        ("alice@example.com", "ceo@example.com", "buyer@partner.example.org", True),
        ("assistant@example.com", "alice@example.com", "buyer@partner.example.org", True),
        (None, "bob@example.com", "buyer@partner.example.org", False),
        ("assistant@example.com", "bob@example.com", "buyer@partner.example.org", False),
        (None, "alice@example.com", "buyer@other.example.org", False),
    ],
)
def test_outbound_needs_the_recipient_and_sender_or_from(sender_header, from_address, recipient, matches):
    """AWS docs, Managing email flows (email-flows.md): "Outbound email flow rules are applied if the
    recipient and either the Sender or From header in an outbound email matches any patterns"."""
    ruleset = RuleSet([
        Rule.outbound("alice-to-partner", BOUNCE, senders=["alice@example.com"], recipients=["partner.example.org"])
    ])
    evaluation = ruleset.evaluate("outbound", recipient, sender_header=sender_header, from_address=from_address)
    assert (evaluation.action == BOUNCE) is matches


def test_outbound_counts_the_more_specific_of_sender_and_from():
    """Kit choice: outbound, when both Sender and From match a rule, the more specific match counts
    (Sender on a tie), and ``matched_header`` says which."""
    ruleset = RuleSet([
        Rule.outbound("ceo", BOUNCE, senders=["*", "ceo@example.com"]),
        Rule.outbound("domain", DROP, senders=["example.com"]),
    ])
    evaluation = ruleset.evaluate(
        "outbound", "x@example.org", sender_header="assistant@example.com", from_address="ceo@example.com"
    )
    assert (evaluation.winner.name, evaluation.matched_header) == ("ceo", "From")


def test_each_recipient_gets_its_own_rule():
    """AWS docs, Managing email flows (email-flows.md): "If there are multiple recipients for the
    email that match different rules, each rule applies for the matched recipients"."""
    ruleset = RuleSet([
        Rule.outbound("gateway", ROUTE_TO_SMTP_GATEWAY, recipients=["regulated.example.org"]),
        Rule.outbound("drop-phish", DROP, recipients=["*.phish.example.net"]),
    ])
    results = ruleset.evaluate_recipients(
        "outbound",
        ["desk@regulated.example.org", "x@login.phish.example.net", "Friend@Example.net", "friend@example.net"],
        from_address="alice@example.com",
    )
    assert {r: e.action for r, e in results.items()} == {
        "desk@regulated.example.org": ROUTE_TO_SMTP_GATEWAY,
        "x@login.phish.example.net": DROP,
        "friend@example.net": DEFAULT,
    }


def test_no_matching_rule_means_default():
    """AWS docs, Managing email flows (email-flows.md): without a matching rule mail follows the
    Default flow (inbound: spam check, then inbox or junk; outbound: sent normally)."""
    ruleset = RuleSet([Rule.inbound("r", DROP, senders=["spam.example.net"])])
    evaluation = inbound(ruleset, "x@example.org")
    assert evaluation.action == DEFAULT and evaluation.is_default and evaluation.winner is None
    assert evaluation.matched_header is None
    assert "No rule matches, so WorkMail's default behaviour applies" in evaluation.explain()
    assert RuleSet().evaluate("outbound", "a@example.org", from_address="b@example.com").action == DEFAULT


@pytest.mark.parametrize("sender", ["", "<>", "not an address", "MAILER-DAEMON"])
def test_a_sender_that_is_not_an_address_matches_only_star(sender):
    """Kit choice: a sender that is not an address (empty From, '<>') matches only '*' patterns;
    evaluation does not fail."""
    ruleset = RuleSet([Rule.inbound("star", MOVE_TO_JUNK), Rule.inbound("domain", DROP, senders=["example.org"])])
    evaluation = ruleset.evaluate(
        "inbound", "alice@example.com", sender_header=sender or None, from_address=sender or "<>"
    )
    assert evaluation.winner.name == "star"


@pytest.mark.parametrize("recipient", ["", "alice", "@example.com", None])
def test_a_recipient_must_be_an_address(recipient):
    """Kit choice: each recipient is an address; anything else is a RuleError with a fix."""
    with pytest.raises(RuleError, match="is not an email address"):
        RuleSet().evaluate("inbound", recipient, from_address="a@example.org")


def test_direction_is_inbound_or_outbound_in_any_case():
    """AWS docs, Managing email flows (email-flows.md): rules are inbound or outbound."""
    ruleset = RuleSet([Rule.outbound("r", DROP)])
    assert ruleset.evaluate("Outbound", "a@example.org", from_address="b@example.com").action == DROP
    with pytest.raises(RuleError, match="inbound or outbound, got 'sideways'"):
        ruleset.evaluate("sideways", "a@example.org", from_address="b@example.com")
    with pytest.raises(RuleError, match="direction must be INBOUND or OUTBOUND"):
        Rule("r", "sideways", ("*",), ("*",), DROP)


# ------------------------------------------------------------------------------ Run Lambda rules


@pytest.mark.parametrize("recipients", [["sales.example.com"], ["*", "alice@example.com"], ["*.example.com"]])
def test_synchronous_rules_accept_only_star_as_recipient_pattern(recipients):
    """AWS docs, Configuring AWS Lambda (lambda.md): synchronous rules accept only '*' as the
    destination (recipient) condition."""
    with pytest.raises(RuleError) as caught:
        sync_rule(recipients=recipients)
    assert "synchronous Run Lambda rules accept only '*' as recipient pattern" in str(caught.value)
    assert "recipients: ['*']" in caught.value.fix


def test_synchronous_rules_may_narrow_senders():
    """AWS docs, Configuring AWS Lambda (lambda.md): the '*' restriction is on the recipient
    (destination) condition only."""
    rule = sync_rule(senders=["example.org"], direction="outbound")
    assert rule.sender_patterns == ("example.org",)


def test_asynchronous_rules_may_narrow_recipients():
    """AWS docs, Configuring AWS Lambda (lambda.md): only synchronous rules are limited to '*'."""
    rule = async_rule(recipients=["sales.example.com"])
    assert rule.recipient_patterns == ("sales.example.com",)


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_fallback_is_never_run_lambda(direction):
    """AWS docs, Configuring AWS Lambda (lambda.md): "The Fallback action cannot be another Lambda action"."""
    with pytest.raises(RuleError) as caught:
        sync_rule(direction=direction, fallback_action="RUN_LAMBDA")
    assert "fallback_action cannot be RUN_LAMBDA" in str(caught.value)
    with pytest.raises(RuleError, match="cannot be RUN_LAMBDA"):
        sync_rule(direction=direction, fallback_action="Run Lambda")


@pytest.mark.parametrize(
    ("direction", "fallback", "ok"),
    [
        ("inbound", "MOVE_TO_JUNK", True),
        ("inbound", "BYPASS_SPAM_CHECK", True),
        ("inbound", "ROUTE_TO_SMTP_GATEWAY", False),
        ("outbound", "ROUTE_TO_SMTP_GATEWAY", True),
        ("outbound", "BOUNCE", True),
        ("outbound", "MOVE_TO_JUNK", False),
    ],
)
def test_fallback_is_one_of_the_directions_actions(direction, fallback, ok):
    """AWS docs, Configuring AWS Lambda (lambda.md) and the action tables: the fallback is one of
    the rule's direction's ordinary actions."""
    if ok:
        assert sync_rule(direction=direction, fallback_action=fallback).fallback_action == fallback
    else:
        with pytest.raises(RuleError, match="exists only for"):
            sync_rule(direction=direction, fallback_action=fallback)


@pytest.mark.parametrize("minutes", [0, 1, 60, 240])
def test_rule_timeout_from_0_to_240_minutes(minutes):
    """AWS docs, Configuring AWS Lambda (lambda.md): the rule timeout is at most 240 minutes; with 0
    WorkMail does not retry and applies the fallback at once."""
    assert MAX_RULE_TIMEOUT_MINUTES == 240
    assert sync_rule(rule_timeout_minutes=minutes).rule_timeout_minutes == minutes


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        (241, "rule_timeout_minutes is 241; it must be 0 to 240 minutes"),
        (300, "rule_timeout_minutes is 300; it must be 0 to 240 minutes"),
        (-1, "rule_timeout_minutes is -1; it must be 0 to 240 minutes"),
        (10.5, "must be a whole number of minutes, got a number 10.5"),
        ("60", "must be a whole number of minutes, got text '60'"),
        (True, "must be a whole number of minutes, got a boolean True"),
    ],
)
def test_rule_timeout_outside_0_to_240_is_refused(minutes, message):
    """AWS docs, Configuring AWS Lambda (lambda.md): the rule timeout is 0 to 240 minutes."""
    with pytest.raises(RuleError) as caught:
        sync_rule(rule_timeout_minutes=minutes)
    assert message in str(caught.value)


def test_synchronous_rules_need_a_fallback_and_a_timeout():
    """AWS docs, Configuring AWS Lambda (lambda.md): a synchronous rule has a Fallback action and a
    Rule timeout. Kit choice: both must be written out (no default)."""
    with pytest.raises(RuleError, match="needs fallback_action"):
        Rule.run_lambda("r", "inbound", ARN, synchronous=True, rule_timeout_minutes=10)
    with pytest.raises(RuleError, match="needs rule_timeout_minutes"):
        Rule.run_lambda("r", "inbound", ARN, synchronous=True, fallback_action=DEFAULT)


@pytest.mark.parametrize("extra", [{"fallback_action": DEFAULT}, {"rule_timeout_minutes": 5}])
def test_asynchronous_rules_take_no_fallback_or_timeout(extra):
    """AWS docs, Configuring AWS Lambda (lambda.md): an asynchronous function does not affect
    delivery, so only synchronous rules have a fallback action and a rule timeout."""
    with pytest.raises(RuleError, match="is set on an asynchronous Run Lambda rule"):
        async_rule(**extra)


@pytest.mark.parametrize(
    "arn",
    [
        ARN,
        "arn:aws:lambda:eu-west-1:123456789012:function:my-function:live",
        "arn:aws:lambda:us-west-2:123456789012:function:my_function:$LATEST",
        "arn:aws:lambda:us-west-2:123456789012:function:fn:7",
    ],
)
def test_function_arn_accepted(arn):
    """AWS docs, Configuring AWS Lambda (lambda.md): the rule names the function by ARN, optionally
    with a version or alias."""
    assert Rule.run_lambda("r", "inbound", arn, synchronous=False).function_arn == arn


@pytest.mark.parametrize(
    "arn",
    [
        "WorkMailHelloWorldFunction",
        "arn:aws:lambda:us-east-1:12345:function:fn",
        "arn:aws:lambda:us-east-1:123456789012:layer:fn",
        "arn:aws:s3:::bucket",
        "arn:aws:lambda:us-east-1:123456789012:function:",
        "arn:aws:lambda:us-east-1:123456789012:function:fn:a:b",
        "arn:aws:lambda:useast1:123456789012:function:fn",
    ],
)
def test_malformed_function_arn_is_refused(arn):
    """Kit choice: the function ARN must read arn:aws:lambda:<region>:<12 digits>:function:<name>[:qualifier]."""
    with pytest.raises(RuleError, match="is not a Lambda function ARN"):
        Rule.run_lambda("r", "inbound", arn, synchronous=False)


def test_run_lambda_rules_need_a_function_arn():
    """AWS docs, Configuring AWS Lambda (lambda.md): a Run Lambda rule names the function's ARN."""
    with pytest.raises(RuleError, match="needs function_arn"):
        Rule("r", "inbound", ("*",), ("*",), RUN_LAMBDA)


@pytest.mark.parametrize(
    "extra",
    [{"function_arn": ARN}, {"synchronous": True}, {"fallback_action": DEFAULT}, {"rule_timeout_minutes": 5}],
)
def test_only_run_lambda_rules_take_lambda_fields(extra):
    """Kit choice: function_arn, synchronous, fallback_action and rule_timeout_minutes belong to
    Run Lambda rules only."""
    with pytest.raises(RuleError, match=f"{next(iter(extra))} is set but the action is DROP"):
        Rule("r", "inbound", ("*",), ("*",), DROP, **extra)


def test_synchronous_must_be_a_boolean():
    """Kit choice: synchronous is true or false, nothing else."""
    with pytest.raises(RuleError, match="synchronous must be true or false"):
        Rule.run_lambda("r", "inbound", ARN, synchronous="yes")


def test_delivery_of_synchronous_and_asynchronous_rules():
    """AWS docs, Configuring AWS Lambda (lambda.md): a synchronous function's response decides
    delivery (fallback if it cannot be run); an asynchronous function does not affect delivery."""
    sync = inbound(RuleSet([sync_rule(fallback_action=BOUNCE, rule_timeout_minutes=30)]), "x@example.org")
    assert sync.action == RUN_LAMBDA and sync.delivery_action is None
    assert sync.synchronous_rule.fallback_action == BOUNCE
    assert sync.function_arns == (ARN,)
    assert "the fallback BOUNCE applies" in sync.explain()
    asynchronous = inbound(RuleSet([async_rule()]), "x@example.org")
    assert asynchronous.action == RUN_LAMBDA and asynchronous.delivery_action == DEFAULT
    assert "does not change delivery" in asynchronous.explain()


def test_rules_need_a_sender_and_a_recipient_pattern_and_builders_default_to_star():
    """Kit choice: an empty pattern list is not "no condition"; the builders default both sides to '*'."""
    with pytest.raises(RuleError, match="no sender pattern"):
        Rule("r", "inbound", (), ("*",), DROP)
    with pytest.raises(RuleError, match="no recipient pattern"):
        Rule("r", "inbound", ("*",), [], DROP)
    with pytest.raises(RuleError, match="sender patterns must be a list of text"):
        Rule("r", "inbound", None, ("*",), DROP)
    rule = Rule.inbound("r", DROP)
    assert (rule.sender_patterns, rule.recipient_patterns) == (("*",), ("*",))
    assert Rule("r", "inbound", "example.org", "*", DROP).sender_patterns == ("example.org",)


def test_rules_are_frozen_and_compare_by_value():
    """Kit convention: a Rule is a frozen value; changing a rule means making a new one."""
    rule = Rule.inbound("r", DROP, senders=["Example.org"])
    with pytest.raises(AttributeError):
        rule.action = BOUNCE  # type: ignore[misc]
    assert rule == Rule.inbound("r", "drop", senders=["example.org"])


@pytest.mark.parametrize("name", ["", "   ", None, 5])
def test_a_rule_needs_a_name(name):
    """Kit choice: every rule has a non-empty name (the console asks for one)."""
    with pytest.raises(RuleError, match="rule name must be non-empty text"):
        Rule(name, "inbound", ("*",), ("*",), DROP)


# ------------------------------------------------------------------------------ settings


def test_settings_defaults_are_the_literal_reading():
    """Kit choice, documented in PrecedenceSettings: sender pattern first, Run Lambda competes
    (ranking last), only the winning Run Lambda rule runs."""
    assert PrecedenceSettings() == PrecedenceSettings("sender-first", "compete", "winner")
    assert RuleSet().settings == PrecedenceSettings()
    assert "sender-first" in PrecedenceSettings.__doc__ and "literal" in PrecedenceSettings.__doc__


SPECIFICITY_RULES = [
    # sender domain (2) + recipient '*' (0)
    Rule.inbound("sender-domain", DROP, senders=["vendor.example.net"]),
    # sender '*' (0) + recipient address (3)
    Rule.inbound("recipient-address", BYPASS_SPAM_CHECK, recipients=["bob@example.com"]),
]
SUM_MAX_RULES = [
    # sender domain (2) + recipient domain (2): sum 4, max 2
    Rule.inbound("both-domains", MOVE_TO_JUNK, senders=["vendor.example.net"], recipients=["example.com"]),
    # sender address (3) + recipient '*' (0): sum 3, max 3
    Rule.inbound("sender-address", BYPASS_SPAM_CHECK, senders=["news@vendor.example.net"]),
]


@pytest.mark.parametrize(
    ("mode", "rules", "winner"),
    [
        ("sender-first", SPECIFICITY_RULES, "sender-domain"),
        ("recipient-first", SPECIFICITY_RULES, "recipient-address"),
        ("sum", SPECIFICITY_RULES, "recipient-address"),
        ("max", SPECIFICITY_RULES, "recipient-address"),
        ("sender-first", SUM_MAX_RULES, "sender-address"),
        ("recipient-first", SUM_MAX_RULES, "both-domains"),
        ("sum", SUM_MAX_RULES, "both-domains"),
        ("max", SUM_MAX_RULES, "sender-address"),
    ],
)
def test_specificity_setting_changes_the_outcome_as_documented(mode, rules, winner):
    """Kit choice (AWS is silent on rules with both sender and recipient patterns):
    PrecedenceSettings.specificity compares sender first (default), recipient first, the sum of
    the levels or the larger of the two."""
    ruleset = RuleSet(rules, settings={"specificity": mode})
    assert inbound(ruleset, "news@vendor.example.net", recipient="bob@example.com").winner.name == winner


def test_max_specificity_ties_fall_back_to_the_table_order():
    """Kit choice: with specificity 'max' only the more specific side counts; equal maxima are
    decided by the action order."""
    ruleset = RuleSet(
        [
            Rule.inbound("a", BOUNCE, senders=["vendor.example.net"]),
            Rule.inbound("b", DROP, senders=["*"], recipients=["example.com"]),
        ],
        settings=PrecedenceSettings(specificity="max"),
    )
    assert inbound(ruleset, "x@vendor.example.net").winner.name == "b"


@pytest.fixture
def lambda_vs_drop():
    return RuleSet([
        Rule.inbound("drop-vendor", DROP, senders=["vendor.example.net"]),
        sync_rule("hello"),
    ])


def test_run_lambda_setting_compete(lambda_vs_drop):
    """Kit choice (default, literal reading): Run Lambda competes, ranking last; a more specific
    Drop rule wins and the function does not run."""
    evaluation = inbound(lambda_vs_drop, "x@vendor.example.net")
    assert (evaluation.action, evaluation.lambda_rules) == (DROP, ())
    evaluation = inbound(lambda_vs_drop, "x@example.org")
    assert evaluation.action == RUN_LAMBDA and [r.name for r in evaluation.lambda_rules] == ["hello"]


def test_run_lambda_setting_in_addition(lambda_vs_drop):
    """Kit choice (alternative): with run_lambda 'in-addition' the winning non-Lambda rule decides
    the action and the winning Run Lambda rule runs as well; with no other rule the action is DEFAULT."""
    lambda_vs_drop.settings = PrecedenceSettings(run_lambda="in-addition")
    evaluation = inbound(lambda_vs_drop, "x@vendor.example.net")
    assert evaluation.action == DROP and [r.name for r in evaluation.lambda_rules] == ["hello"]
    runs = [m for m in evaluation.matches if m.outcome == "runs"]
    assert runs[0].reason.startswith("runs in addition to the winning rule")
    evaluation = inbound(lambda_vs_drop, "x@example.org")
    assert evaluation.action == DEFAULT and evaluation.winner is None and not evaluation.is_default
    assert [r.name for r in evaluation.lambda_rules] == ["hello"]


@pytest.fixture
def two_lambdas():
    return RuleSet([
        sync_rule("hello"),
        async_rule("metrics-vendor", senders=["vendor.example.net"]),
        async_rule("metrics-all"),
    ])


def test_lambda_rules_setting_winner(two_lambdas):
    """Kit choice (default, AWS does not say whether several can fire): only the single winning Run
    Lambda rule runs for a recipient."""
    evaluation = inbound(two_lambdas, "x@vendor.example.net")
    assert [r.name for r in evaluation.lambda_rules] == ["metrics-vendor"]
    assert evaluation.delivery_action == DEFAULT  # the winner is asynchronous
    assert {m.rule.name: m.outcome for m in evaluation.matches} == {
        "metrics-vendor": "winner", "hello": "lost", "metrics-all": "lost",
    }


def test_lambda_rules_setting_all_matching(two_lambdas):
    """Kit choice (alternative): with lambda_rules 'all-matching' every matching Run Lambda rule runs,
    in precedence order (most specific first, then list order)."""
    two_lambdas.settings = {"lambda_rules": "all-matching"}
    evaluation = inbound(two_lambdas, "x@vendor.example.net")
    assert [r.name for r in evaluation.lambda_rules] == ["metrics-vendor", "hello", "metrics-all"]
    assert evaluation.delivery_action is None  # a synchronous function runs and decides
    assert sum(m.outcome == "runs" for m in evaluation.matches) == 2


def test_all_matching_in_compete_mode_runs_nothing_when_another_action_wins():
    """Kit choice: in 'compete' mode functions run only when a Run Lambda rule wins, even with
    lambda_rules 'all-matching'."""
    ruleset = RuleSet(
        [Rule.inbound("drop", DROP, senders=["example.org"]), async_rule("a"), async_rule("b")],
        settings={"lambda_rules": "all-matching"},
    )
    assert inbound(ruleset, "x@example.org").lambda_rules == ()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"specificity": "sender-frist"}, "settings.specificity must be one of sender-first"),
        ({"run_lambda": "always"}, "settings.run_lambda must be one of compete, in-addition"),
        ({"lambda_rules": "every"}, "settings.lambda_rules must be one of winner, all-matching"),
        ({"precedence": "x"}, "unknown key 'precedence'"),
        ({"specificity": 3}, "settings.specificity must be text"),
        ("sum", "settings must be a mapping"),
    ],
)
def test_settings_refuse_unknown_values(settings, message):
    """Kit convention: a closed set of values is listed with the value received, and a fix."""
    with pytest.raises(RuleError) as caught:
        RuleSet(settings=settings)
    assert message in str(caught.value)
    assert caught.value.fix


# ------------------------------------------------------------------------------ rule set


def test_add_and_remove_take_effect_immediately():
    """AWS docs, Creating / Removing an email flow rule: new rules and removals take effect immediately."""
    ruleset = RuleSet()
    assert inbound(ruleset, "x@example.org").action == DEFAULT
    ruleset.add(Rule.inbound("drop", DROP, senders=["example.org"]))
    assert inbound(ruleset, "x@example.org").action == DROP
    ruleset.add(Rule.inbound("bounce-first", BOUNCE, senders=["x@example.org"]), position=0)
    assert ruleset.rules[0].name == "bounce-first"
    assert inbound(ruleset, "x@example.org").action == BOUNCE
    removed = ruleset.remove("BOUNCE-FIRST")
    assert removed.name == "bounce-first" and "bounce-first" not in ruleset
    assert inbound(ruleset, "x@example.org").action == DROP


def test_rule_names_are_unique_in_the_set():
    """Kit choice: rule names are unique across both directions, compared without regard to case."""
    ruleset = RuleSet([Rule.inbound("drop-spam", DROP)])
    with pytest.raises(RuleError, match="the name 'Drop-Spam' is already used by the inbound rule 'drop-spam'"):
        ruleset.add(Rule.outbound("Drop-Spam", DROP))


def test_unknown_rule_names_suggest_the_closest():
    """Kit convention: an unknown name is a RuleError with a did-you-mean."""
    ruleset = RuleSet([Rule.inbound("drop-spam", DROP)])
    with pytest.raises(RuleError, match="did you mean 'drop-spam'"):
        ruleset.remove("drop-spma")
    with pytest.raises(RuleError, match="RuleSet.add takes a Rule"):
        ruleset.add({"name": "x"})  # type: ignore[arg-type]


def test_rules_of_each_direction_are_kept_apart():
    """AWS docs, Managing email flows (email-flows.md): inbound and outbound rules are separate lists."""
    ruleset = RuleSet([Rule.inbound("in", DROP), Rule.outbound("out", BOUNCE)])
    assert [r.name for r in ruleset.inbound] == ["in"]
    assert [r.name for r in ruleset.outbound] == ["out"]
    assert ruleset.evaluate("outbound", "a@example.org", from_address="b@example.com").action == BOUNCE
    assert ruleset.evaluate("inbound", "a@example.com", from_address="b@example.org").action == DROP


def test_validate_finds_problems_made_around_the_api():
    """Kit convention: validate() re-checks every rule and the set; it points at the rule by
    direction, index and name."""
    ruleset = RuleSet([Rule.inbound("ok", DROP), Rule.inbound("bad", DROP)])
    assert ruleset.validate() is ruleset
    object.__setattr__(ruleset.rules[1], "sender_patterns", ("bob+x@example.org",))
    with pytest.raises(RuleError, match=r'^inbound\[1\] "bad": sender pattern \'bob\+x@example.org\''):
        ruleset.validate()


# ------------------------------------------------------------------------------ test configuration


@pytest.fixture
def demo():
    return RuleSet.from_file(RULES_DIR / "precedence-demo.yaml")


def test_test_configuration_mirrors_the_console_box(demo):
    """AWS docs, Testing an email flow rule (test-email-flow-rule.md): enter a sender and a recipient
    and the console shows the action that would apply."""
    evaluation = demo.test_configuration("news@vendor.example.net", "alice@example.com")
    assert isinstance(evaluation, Evaluation)
    assert (evaluation.direction, evaluation.action, evaluation.winner.name) == ("INBOUND", DROP, "vendor-domain-drop")
    outbound = demo.test_configuration("alice@example.com", "buyer@competitor.example.org", direction="outbound")
    assert (outbound.action, outbound.winner.name) == (DEFAULT, "allow-competitor")


def test_test_configuration_explains_the_winner_and_every_loser(demo):
    """AWS docs, Managing email flows (email-flows.md): most specific rule first, then the most
    restrictive action; explain() says so for each rule in words a learner can follow."""
    text = demo.test_configuration("news@vendor.example.net", "alice@example.com").explain(full=True)
    assert 'Result: DROP (Drop email): not delivered; the sender is not told.' in text
    assert 'Winning rule: inbound[4] "vendor-domain-drop"' in text
    assert '"vendor-domain-bounce" (BOUNCE): lost: same specificity, less restrictive: BOUNCE ranks below DROP' in text
    assert (
        '"vendor-family-junk" (MOVE_TO_JUNK): lost: less specific: wildcard domain rule vs domain rule '
        "(\"vendor-domain-drop\"): sender pattern '*.vendor.example.net' vs 'vendor.example.net'"
    ) in text
    assert '"everyone-default" (DEFAULT): lost: less specific: star rule vs domain rule' in text
    assert "Rules that did not match:" in text
    assert (
        "\"vendor-ceo-exception\" (DEFAULT): From 'news@vendor.example.net' matches none of its sender patterns"
    ) in text
    assert "DROP > BOUNCE > MOVE_TO_JUNK > DEFAULT > BYPASS_SPAM_CHECK > RUN_LAMBDA" in text
    short = demo.test_configuration("news@vendor.example.net", "alice@example.com")
    assert str(short) == short.explain() != text


def test_test_configuration_dataframe_has_one_row_per_rule(demo):
    """AWS docs, Testing an email flow rule (test-email-flow-rule.md): the tool shows the rule that
    applies; the kit's table shows every rule of the direction, winner first."""
    frame = demo.test_configuration("news@vendor.example.net", "alice@example.com").to_dataframe()
    assert len(frame) == len(demo.inbound)
    assert set(frame["rule"]) == {r.name for r in demo.inbound}
    assert frame.iloc[0]["outcome"] == "winner" and frame.iloc[0]["rule"] == "vendor-domain-drop"
    assert list(frame["outcome"]).count("winner") == 1
    assert set(frame["outcome"]) == {"winner", "lost", "no match"}
    matched = frame[frame["matched"]]
    assert list(matched["sender_kind"]) == ["domain", "domain", "wildcard domain", "star"]
    assert frame["reason"].map(bool).all()


def test_test_configuration_with_a_sender_header(sender_from_rules):
    """AWS docs, Managing email flows (email-flows.md): Sender first, then From; test_configuration
    takes the Sender as ``sender`` and the From as ``from_address``."""
    evaluation = sender_from_rules.test_configuration(
        "assistant@example.org", "alice@example.com", from_address="ceo@example.net"
    )
    assert (evaluation.winner.name, evaluation.matched_header) == ("assistant-rule", "Sender")
    assert "Matched with the Sender header" in evaluation.explain()


def test_explain_shows_run_lambda_outcomes():
    """AWS docs, Configuring AWS Lambda (lambda.md): explain() says which function runs, whether it
    decides delivery, and the fallback."""
    ruleset = RuleSet([sync_rule("hello"), async_rule("metrics")], settings={"lambda_rules": "all-matching"})
    text = ruleset.test_configuration("x@example.org", "alice@example.com").explain()
    assert 'Winning rule: inbound[0] "hello"' in text
    assert 'Also runs: inbound[1] "metrics"' in text
    assert "synchronous: " + ARN in text and "asynchronous: " + METRICS_ARN in text


# ------------------------------------------------------------------------------ files


def test_every_rule_file_is_in_the_manifest_and_the_readme():
    """Kit convention: each file in data/rules has one manifest entry and a README row."""
    files = {p.name for p in RULES_DIR.iterdir() if p.name not in {"manifest.json", "README.md"}}
    entries = [e["file"] for e in MANIFEST]
    assert len(entries) == len(set(entries)) and set(entries) == files
    readme = (RULES_DIR / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(files) if f"`{name}`" not in readme] == []
    for entry in MANIFEST:
        assert entry["file"].startswith("invalid-") is (not entry["valid"]), entry["file"]
    kinds = {"basic.yaml", "precedence-demo.yaml", "run-lambda-sync.json", "run-lambda-async.yaml", "outbound.yaml"}
    assert kinds <= files


def test_rule_files_use_example_domains_only():
    """Kit convention: samples are our own and use reserved example domains only (RFC 2606)."""
    for path in RULES_DIR.iterdir():
        data = path.read_text(encoding="utf-8")
        for domain in re.findall(r"@([a-z0-9.-]+[a-z])", data.lower()):
            assert domain.endswith(("example.com", "example.net", "example.org")), (path.name, domain)


VALID = [pytest.param(e, id=e["file"]) for e in MANIFEST if e["valid"]]
INVALID = [pytest.param(e, id=e["file"]) for e in MANIFEST if not e["valid"]]
CASES = [
    pytest.param(e["file"], c, id=f"{e['file']}:{c['direction']}:{c['sender']}->{c['recipient']}")
    for e in MANIFEST if e["valid"] for c in e["cases"]
]


@pytest.mark.parametrize("entry", VALID)
def test_example_rule_files_load(entry):
    """AWS docs, Managing email flows and Configuring AWS Lambda: every example rule set is valid."""
    ruleset = RuleSet.from_file(RULES_DIR / entry["file"])
    assert (len(ruleset.inbound), len(ruleset.outbound)) == (entry["inbound"], entry["outbound"])
    assert ruleset.validate() is ruleset
    assert ruleset.description


@pytest.mark.parametrize(("file", "case"), CASES)
def test_example_rule_files_give_the_documented_outcomes(file, case):
    """AWS docs, Managing email flows (email-flows.md): precedence as the README's case table says."""
    ruleset = RuleSet.from_file(RULES_DIR / file)
    evaluation = ruleset.test_configuration(case["sender"], case["recipient"], case["direction"])
    assert evaluation.action == case["action"]
    assert (evaluation.winner.name if evaluation.winner else None) == case["winner"]


@pytest.mark.parametrize("entry", INVALID)
def test_invalid_rule_files_fail_with_their_documented_message(entry):
    """Kit convention: each invalid file fails with the RuleError its manifest entry documents,
    naming the file, the rule (direction, index, name) and the field, with a fix; never a
    traceback from yaml or json."""
    path = RULES_DIR / entry["file"]
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert entry["error"] in message
    assert caught.value.fix and "Fix: " in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_unquoted_star_hint():
    """Kit choice: YAML reads an unquoted * as an alias; the error says to quote the pattern."""
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(RULES_DIR / "invalid-unquoted-star.yaml")
    assert "quote patterns that start with '*'" in caught.value.fix


def test_the_sample_sync_rule_is_the_hello_world_function():
    """AWS docs, Configuring AWS Lambda (lambda.md): a synchronous rule with a fallback and a timeout,
    for the hello-world function."""
    ruleset = RuleSet.from_file(RULES_DIR / "run-lambda-sync.json")
    rule = ruleset.get("hello-world-inbound")
    lambda_fields = (rule.function_arn, rule.synchronous, rule.fallback_action, rule.rule_timeout_minutes)
    assert lambda_fields == (ARN, True, DEFAULT, 60)
    assert ruleset.get("hello-world-outbound").rule_timeout_minutes == 0


@pytest.mark.parametrize("entry", VALID)
@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_round_trip_through_json_and_yaml(entry, suffix, tmp_path):
    """Kit convention: to_file then from_file gives the same rule set, in JSON and in YAML."""
    ruleset = RuleSet.from_file(RULES_DIR / entry["file"])
    ruleset.settings = {"specificity": "sum", "run_lambda": "in-addition"}
    path = ruleset.to_file(tmp_path / f"rules{suffix}")
    again = RuleSet.from_file(path)
    assert again == ruleset
    assert again.to_dict() == ruleset.to_dict()
    assert again.description == ruleset.description
    if suffix != ".json":
        assert "'*'" in path.read_text() or '"*"' in path.read_text()  # stars stay quoted in YAML


def test_round_trip_through_dicts():
    """Kit convention: from_dict(to_dict()) is the same rule set; the dict is plain JSON data."""
    ruleset = RuleSet([
        Rule.inbound("a", "Drop email", senders=["*example.org"], description="legacy wildcard"),
        sync_rule("b", "outbound", fallback_action=ROUTE_TO_SMTP_GATEWAY, rule_timeout_minutes=0),
        async_rule("c", recipients=["sales.example.com"]),
    ])
    data = ruleset.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["inbound"][0] == {
        "name": "a", "senders": ["*.example.org"], "recipients": ["*"], "action": "DROP",
        "description": "legacy wildcard",
    }
    assert "fallback_action" not in data["inbound"][1]
    assert RuleSet.from_dict(copy.deepcopy(data)) == ruleset


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"inbound": [], "outbund": []}, "the rule set: unknown key 'outbund' (did you mean 'outbound'?)"),
        ({"inbound": [{"name": "r", "senders": ["*"], "recipients": ["*"], "action": "DROP", "timeout": 5}]},
         "inbound[0] \"r\": unknown key 'timeout' (did you mean 'rule_timeout_minutes'?)"),
        ({"inbound": [{"name": "r", "senders": ["*"], "recipients": ["*"], "action": "DROP", "recipent": 5}]},
         "unknown key 'recipent' (did you mean 'recipients'?)"),
        ({"settings": {"lambda_rule": "winner"}}, "settings: unknown key 'lambda_rule' (did you mean 'lambda_rules'?)"),
    ],
)
def test_unknown_keys_are_refused_with_did_you_mean(data, message):
    """Kit convention: unknown keys are RuleErrors with a did-you-mean and the list of known keys."""
    with pytest.raises(RuleError) as caught:
        RuleSet.from_dict(data)
    assert message in str(caught.value)
    assert caught.value.fix.startswith("use only")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "the rule set is empty"),
        ([], "must be a mapping"),
        ({"inbound": {"name": "r"}}, "inbound must be a list of rules, got a mapping"),
        ({"inbound": ["drop everything"]}, "inbound[0]: a rule must be a mapping"),
        ({"inbound": [{"senders": ["*"], "recipients": ["*"], "action": "DROP"}]}, "inbound[0]: name is missing"),
        ({"inbound": [{"name": "r", "recipients": ["*"], "action": "DROP"}]}, 'inbound[0] "r": senders is missing'),
        ({"outbound": [{"name": "r", "senders": ["*"], "recipients": ["*"]}]}, 'outbound[0] "r": action is missing'),
        ({"inbound": [{"name": "r", "senders": 5, "recipients": ["*"], "action": "DROP"}]},
         'inbound[0] "r": senders must be a list of patterns, got a number 5'),
        ({"inbound": [{"name": "r", "senders": {"a": 1}, "recipients": ["*"], "action": "DROP"}]},
         'inbound[0] "r": senders must be a list of patterns, got a mapping'),
        ({"inbound": [{"name": "r", "senders": [5], "recipients": ["*"], "action": "DROP"}]},
         'inbound[0] "r": sender pattern 5 is a number, not text'),
        ({"inbound": [{"name": "r", "senders": ["*"], "recipients": ["*"], "action": 1}]},
         'inbound[0] "r": action must be text'),
        ({"inbound": [{"name": 7, "senders": ["*"], "recipients": ["*"], "action": "DROP"}]},
         "inbound[0]: the rule name must be non-empty text"),
        ({"description": 5}, "description must be text"),
    ],
)
def test_wrong_types_in_rule_data_are_rule_errors(data, message):
    """Kit convention: wrong types are RuleErrors that point at the rule and field, with a fix."""
    with pytest.raises(RuleError) as caught:
        RuleSet.from_dict(data)
    assert message in str(caught.value)
    assert caught.value.fix


def test_a_single_pattern_may_be_written_without_a_list():
    """Kit choice: ``senders: example.org`` is one pattern, as YAML writers expect."""
    data = {"inbound": [{"name": "r", "senders": "example.org", "recipients": "*", "action": "DROP"}]}
    assert RuleSet.from_dict(data).get("r").sender_patterns == ("example.org",)


def test_file_problems_are_rule_errors(tmp_path):
    """Kit convention: a missing file, a wrong extension, or text that is not UTF-8 is a RuleError
    naming the path, never a traceback."""
    with pytest.raises(RuleError, match="no such file"):
        RuleSet.from_file(tmp_path / "missing.yaml")
    (tmp_path / "rules.txt").write_text("inbound: []")
    with pytest.raises(RuleError, match="rule files are .json, .yaml or .yml, got '.txt'"):
        RuleSet.from_file(tmp_path / "rules.txt")
    (tmp_path / "latin1.yaml").write_bytes(b"description: caf\xe9\n")
    with pytest.raises(RuleError, match="not UTF-8"):
        RuleSet.from_file(tmp_path / "latin1.yaml")
    (tmp_path / "tabs.yaml").write_text("inbound:\n\t- name: x\n")
    with pytest.raises(RuleError, match=r"not valid YAML \(line 2"):
        RuleSet.from_file(tmp_path / "tabs.yaml")
    (tmp_path / "empty.yml").write_text("")
    with pytest.raises(RuleError, match="empty.yml: the rule set is empty"):
        RuleSet.from_file(tmp_path / "empty.yml")
    with pytest.raises(RuleError, match="rule files are .json"):
        RuleSet().to_file(tmp_path / "rules.toml")


def test_yaml_is_read_with_safe_load(tmp_path):
    """Kit convention: rule files are data; YAML tags that build Python objects are refused."""
    (tmp_path / "evil.yaml").write_text("inbound: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(RuleError, match="not valid YAML"):
        RuleSet.from_file(tmp_path / "evil.yaml")


# ------------------------------------------------------------------------------ properties and speed

DOMAINS = ["example.com", "sales.example.com", "eu.sales.example.com", "example.net", "mail.example.net", "example.org"]
LOCALS = ["a", "b"]
ADDRESSES = [f"{local}@{d}" for local in LOCALS for d in DOMAINS] + ["a@notexample.com", "A@Sales.Example.COM"]
PATTERNS = ["*"] + DOMAINS + [f"*.{d}" for d in DOMAINS] + [f"{local}@{d}" for local in LOCALS for d in DOMAINS]


@st.composite
def rule_sets(draw):
    rules = []
    for i in range(draw(st.integers(0, 8))):
        direction = draw(st.sampled_from(["INBOUND", "OUTBOUND"]))
        action = draw(st.sampled_from(ACTIONS[direction]))
        senders = draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3))
        recipients = draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3))
        if action == RUN_LAMBDA:
            if draw(st.booleans()):
                rules.append(Rule.run_lambda(
                    f"r{i}", direction, ARN, synchronous=True, senders=senders,
                    fallback_action=draw(st.sampled_from(FALLBACK_ACTION_TYPES[direction])), rule_timeout_minutes=5,
                ))
            else:
                rules.append(
                    Rule.run_lambda(f"r{i}", direction, ARN, synchronous=False, senders=senders, recipients=recipients)
                )
        else:
            rules.append(Rule(f"r{i}", direction, tuple(senders), tuple(recipients), action))
    settings = PrecedenceSettings(
        draw(st.sampled_from(["sender-first", "recipient-first", "sum", "max"])),
        draw(st.sampled_from(["compete", "in-addition"])),
        draw(st.sampled_from(["winner", "all-matching"])),
    )
    return RuleSet(rules, settings=settings)


def _reference_matches(ruleset, direction, recipient, sender_header, from_address):
    """A slow, obviously correct matcher written from the doc's words, to check the index."""
    rules = ruleset.rules_for(direction)

    def with_(address):
        return {
            i for i, r in enumerate(rules)
            if address and r.best_sender_match(address) and r.best_recipient_match(recipient)
        }

    if direction == "INBOUND":
        by_sender = with_(sender_header)
        return by_sender if by_sender else with_(from_address)
    return with_(sender_header) | with_(from_address)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ruleset=rule_sets(),
    direction=st.sampled_from(["INBOUND", "OUTBOUND"]),
    recipient=st.sampled_from(ADDRESSES),
    sender_header=st.none() | st.sampled_from(ADDRESSES),
    from_address=st.sampled_from(ADDRESSES + ["<>"]),
)
def test_property_the_winner_is_never_less_specific(ruleset, direction, recipient, sender_header, from_address):
    """AWS docs, Managing email flows (email-flows.md): "the action of the most specific rule is
    applied". For random rule sets and addresses, under every setting: evaluation never raises, it
    finds exactly the rules the documented matching finds, no competing rule is more specific than
    the winner (or than the rule that runs), and explain() and to_dataframe() work."""
    evaluation = ruleset.evaluate(direction, recipient, sender_header=sender_header, from_address=from_address)
    assert {m.index for m in evaluation.matches} == _reference_matches(
        ruleset, direction, evaluation.recipient, sender_header, from_address
    )
    in_addition = ruleset.settings.run_lambda == "in-addition"
    if evaluation.winner is not None:
        win = evaluation.winner_match
        rivals = [m for m in evaluation.matches if not (in_addition and m.rule.is_run_lambda)]
        assert all(win.specificity >= m.specificity for m in rivals)
        assert all(win.rule.rank <= m.rule.rank for m in rivals if m.specificity == win.specificity)
    else:
        assert evaluation.action == DEFAULT
        assert in_addition or not evaluation.matches
    if evaluation.lambda_rules:
        first = next(m for m in evaluation.matches if m.rule is evaluation.lambda_rules[0])
        assert all(first.specificity >= m.specificity for m in evaluation.matches if m.rule.is_run_lambda)
    assert len(evaluation.lambda_rules) <= 1 or ruleset.settings.lambda_rules == "all-matching"
    assert evaluation.explain()
    assert len(evaluation.to_dataframe()) == len(ruleset.rules_for(direction))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab.*@+-_ 1x/:", max_size=20) | st.text(max_size=12))
def test_property_parse_pattern_raises_only_rule_errors(text):
    """Kit convention: any text either parses as one of the four documented forms or is a RuleError."""
    try:
        pattern = parse_pattern(text)
    except RuleError as error:
        assert error.fix
    else:
        assert isinstance(pattern, Pattern)
        assert "+" not in pattern.text and " " not in pattern.text
        assert pattern.kind in ("address", "domain", "wildcard domain", "star")


def test_evaluation_is_fast_enough_for_large_corpora():
    """Kit requirement: evaluation runs for every recipient of 10,000-message corpora, so patterns
    are precompiled into lookup tables (30,000 evaluations against 100 rules in well under 10 s)."""
    domains = [f"d{i}.example.net" for i in range(100)]
    rules = []
    for i in range(100):
        d = domains[i]
        senders = [[f"u{i}@{d}"], [d], [f"*.{d}"], ["*"]][i % 4]
        recipients = ["*", "example.com"][i % 2]
        rules.append(Rule.inbound(f"r{i}", INBOUND_ACTIONS[i % 5], senders=senders, recipients=recipients))
    ruleset = RuleSet(rules)
    senders = [f"u{i % 7}@{'x.' if i % 3 else ''}{domains[i % 100]}" for i in range(10_000)]
    start = time.perf_counter()
    for i, sender in enumerate(senders):
        for j in range(3):
            ruleset.evaluate("inbound", f"user{(i + j) % 50}@example.com", from_address=sender)
    assert time.perf_counter() - start < 10


# ------------------------------------------------------- short texts and tables (#15)


def test_explain_is_short_by_default_and_full_on_request(demo):
    """The short text names the result, the winner and why, and the rules that lost; full=True says
    why each rule lost or did not match and quotes the precedence order (email-flows.md)."""
    evaluation = demo.test_configuration("news@vendor.example.net", "alice@example.com")
    short, full = evaluation.explain(), evaluation.explain(full=True)
    assert len(short) < 1000 < 2000 < len(full)
    assert len(short.splitlines()) <= 10
    assert 'Winning rule: inbound[4] "vendor-domain-drop"' in short and "Result: DROP (Drop email)" in short
    assert "Also matched, and lost: vendor-domain-bounce (BOUNCE), vendor-family-junk (MOVE_TO_JUNK)" in short
    assert "5 other rules did not match." in short and "explain(full=True)" in short
    assert "Rules that did not match:" not in short and "Rules that did not match:" in full
    page = evaluation._repr_html_()
    assert page.index("<details>") > page.index("Winning rule")
    assert "Rules that did not match:" in page[page.index("<details>") :]


def test_explain_of_a_single_rule_has_no_pointer_to_more():
    ruleset = RuleSet([Rule.inbound("only", DROP, senders=["example.org"])])
    text = ruleset.test_configuration("x@example.org", "alice@example.com").explain()
    assert "explain(full=True)" not in text and "why: the only matching rule" in text


def test_the_outbound_winner_quotes_the_documentations_table_order(demo):
    """email-flows.md (docs/aws-behaviour.md §4.4a): the precedence of actions is the order of the
    outbound table, Default first: the reason says so instead of calling Default the most restrictive."""
    evaluation = demo.test_configuration("alice@example.com", "buyer@competitor.example.org", direction="outbound")
    why = evaluation.winner_match.reason
    assert why.startswith("same specificity as 'block-competitor'; DEFAULT ranks above DROP in the order of the "
                          "outbound actions table of AWS's guide (Managing email flows)")
    assert "DEFAULT > DROP > BOUNCE > ROUTE_TO_SMTP_GATEWAY > RUN_LAMBDA" in why
    assert "most restrictive" not in why
    inbound_why = demo.test_configuration("news@vendor.example.net", "alice@example.com").winner_match.reason
    assert "DROP ranks above BOUNCE in the order of the inbound actions table" in inbound_why
    assert "literally" not in inbound_why


@pytest.mark.parametrize(("sender", "from_address"), [("not an address", None), ("a@example.org", "<>"), ("", None)])
def test_test_configuration_refuses_a_sender_that_is_not_an_address(demo, sender, from_address):
    """The console's Test configuration box tests one sender address; AWS does not say what it does with
    other input, so the kit refuses it in one line and picks no rule (check_addresses=False evaluates it)."""
    with pytest.raises(RuleError) as caught:
        demo.test_configuration(sender, "alice@example.com", from_address=from_address)
    message = str(caught.value)
    assert "\n" not in message and "Fix: " in message
    assert ("is not an email address" in message) or ("is empty" in message)
    loose = demo.test_configuration("not an address", "alice@example.com", check_addresses=False)
    assert loose.winner.name == "everyone-default"  # matches only '*', as evaluate() documents


def test_ruleset_to_dataframe_writes_patterns_as_text(demo):
    frame = demo.to_dataframe()
    assert list(frame.columns) == ["direction", "position", "rule", "senders", "recipients", "action", "label"]
    assert len(frame) == len(demo)
    first = frame.iloc[0]
    assert (first["rule"], first["senders"], first["recipients"], first["position"]) == (
        "everyone-default", "*", "*", "inbound[0]")
    assert "(" not in "".join(frame["senders"]) + "".join(frame["recipients"])
    assert list(demo.to_dataframe("outbound")["position"]) == ["outbound[0]", "outbound[1]"]
    several = RuleSet([Rule.inbound("two", DROP, senders=["a.example.org", "*.b.example.org"])]).to_dataframe()
    assert several.iloc[0]["senders"] == "a.example.org, *.b.example.org"
