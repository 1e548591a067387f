"""Tests for the RuleTester widget, driven through its Python API and control values (no browser)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")

from workmail_sandbox.rules import Rule, RuleSet  # noqa: E402
from workmail_sandbox.widgets import RuleTester  # noqa: E402
from workmail_sandbox.widgets.rule_tester import TABLE_COLUMNS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "rules" / "precedence-demo.yaml"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def make_tester(**kw) -> RuleTester:
    args = {"sender": "news@vendor.example.net", "recipient": "alice@example.com"}
    args.update(kw)
    return RuleTester(DEMO, **args)


def test_loads_a_path_and_shows_the_winner_and_the_losers():
    t = make_tester()
    assert t.evaluation is not None and t.error is None
    assert t.evaluation.action == "DROP"
    assert t.evaluation.winner.name == "vendor-domain-drop"
    text = t.result.value
    assert "DROP (Drop email)" in text and "vendor-domain-drop" in text
    assert "DROP ranks above BOUNCE" in text
    for loser in ("vendor-domain-bounce", "vendor-family-junk", "everyone-default"):
        assert loser in t.table.value
    assert "lost" in t.table.value
    assert "shop-default" not in t.table.value  # rules that did not match are not in the table


def test_accepts_a_ruleset_and_matches_test_configuration():
    rules = RuleSet.from_file(DEMO)
    t = RuleTester(rules, sender="ceo@vendor.example.net", recipient="alice@example.com")
    assert t.rules is rules
    expected = rules.test_configuration("ceo@vendor.example.net", "alice@example.com")
    assert t.evaluation.action == expected.action == "DEFAULT"
    assert t.evaluation.winner.name == "vendor-ceo-exception"


@pytest.mark.parametrize(
    ("direction", "sender", "recipient", "action", "winner"),
    [
        ("inbound", "someone@example.net", "alice@example.com", "DEFAULT", "everyone-default"),
        ("inbound", "news@mail.vendor.example.net", "alice@example.com", "MOVE_TO_JUNK", "vendor-family-junk"),
        ("inbound", "news@mail.eu.vendor.example.net", "alice@example.com", "BYPASS_SPAM_CHECK", "vendor-eu-bypass"),
        ("inbound", "someone@example.net", "bob@sales.example.com", "BYPASS_SPAM_CHECK", "sales-bypass"),
        ("inbound", "orders@shop.example.net", "alice@example.com", "DEFAULT", "shop-default"),
        ("outbound", "alice@example.com", "buyer@competitor.example.org", "DEFAULT", "allow-competitor"),
    ],
)
def test_set_drives_the_readme_cases(direction, sender, recipient, action, winner):
    t = make_tester().set(direction=direction, sender=sender, recipient=recipient)
    assert t.evaluation.action == action
    assert t.evaluation.winner.name == winner
    assert f"Action: {action}" in t.static_text()
    assert f"Winning rule: {winner}" in t.static_text()


def test_typing_into_the_controls_updates_the_result():
    t = make_tester()
    t.sender_input.value = "ceo@vendor.example.net"
    assert t.evaluation.action == "DEFAULT"
    assert "vendor-ceo-exception" in t.result.value
    t.direction_buttons.value = "OUTBOUND"
    assert t.evaluation.direction == "OUTBOUND"
    assert t.evaluation.is_default
    assert "no rule matches" in t.result.value


def test_sender_header_is_tried_before_from():
    t = make_tester(sender="x@other.example.net", from_address="news@vendor.example.net")
    assert t.evaluation.sender_header == "x@other.example.net"
    assert t.evaluation.from_address == "news@vendor.example.net"
    assert t.evaluation.matched_header == "Sender"
    assert t.evaluation.winner.name == "everyone-default"  # Sender matched '*', so From is never tried
    assert "Matched with the Sender header" in t.static_text()
    t.set(sender="")
    assert t.evaluation.sender_header is None
    assert t.evaluation.winner.name == "vendor-domain-drop"


def test_no_recipient_and_bad_recipient_give_no_evaluation():
    t = make_tester(recipient="")
    assert t.evaluation is None
    assert "enter a recipient" in t.error
    assert "wms-badge-info" in t.result.value
    t.set(recipient="not an address")
    assert t.evaluation is None
    assert "not an email address" in t.error
    assert "wms-badge-error" in t.result.value
    assert t.static_text().splitlines()[1].startswith("no result:")
    t.set(recipient="alice@example.com")
    assert t.evaluation.action == "DROP"


def test_run_lambda_rules_are_named():
    arn = "arn:aws:lambda:us-east-1:123456789012:function:hello"
    rules = RuleSet([Rule.run_lambda("hello", "inbound", arn, synchronous=False)])
    t = RuleTester(rules, sender="a@example.net", recipient="alice@example.com")
    assert t.evaluation.action == "RUN_LAMBDA"
    assert f"Runs: hello (asynchronous) {arn}" in t.static_text()


def test_set_rejects_unknown_fields():
    with pytest.raises(TypeError, match="unknown field"):
        make_tester().set(mail_from="x@example.net")


def test_css_classes_for_the_browser_test():
    t = make_tester()
    assert "wms-rule-sender" in t.sender_input._dom_classes
    assert "wms-rule-recipient" in t.recipient_input._dom_classes
    assert "wms-rule-from" in t.from_input._dom_classes
    assert "wms-rule-result" in t.result._dom_classes
    assert "wms-rule-tester" in t._dom_classes


def test_static_view_is_deterministic():
    a, b = make_tester()._repr_mimebundle_(), make_tester()._repr_mimebundle_()
    assert a["text/plain"] == b["text/plain"]
    assert a["text/html"] == b["text/html"]
    assert a[WIDGET_VIEW]["model_id"] != b[WIDGET_VIEW]["model_id"]
    assert a["text/plain"].startswith("WorkMail rule tester: inbound rules, Sender news@vendor.example.net")
    assert 'class="wms-rule-result"' in a["text/html"]
    for column in TABLE_COLUMNS:
        assert f"<th>{column}</th>" in a["text/html"]
    assert "0x" not in a["text/plain"]


def test_html_is_escaped():
    t = make_tester(sender="<b>@example.net")
    assert "<b>@" not in t.static_html()
    assert "&lt;b&gt;" in t.static_html()


# ------------------------------------------------------------------ issue #15


@pytest.mark.parametrize("field", ["sender", "from_address"])
def test_an_invalid_address_is_refused_in_one_line_and_picks_no_rule(field):
    t = make_tester(**{field: "not an address"})
    assert t.evaluation is None
    assert "'not an address' is not an email address" in t.error and "Fix: " in t.error
    assert "\n" not in t.error
    assert "wms-badge-error" in t.result.value and "Winning rule" not in t.result.value
    assert t.table.layout.display == "none" and t.table.value == ""
    assert "Winning rule" not in t.static_text() and "Matching rules" not in t.static_text()
    t.set(**{field: "ceo@vendor.example.net"})
    assert t.evaluation is not None and t.evaluation.winner is not None


def test_an_empty_sender_asks_for_one():
    t = make_tester(sender="")
    assert t.evaluation is None and t.error == "enter a sender address to test"
    assert "wms-badge-info" in t.result.value


def _walk_through_steps() -> list[tuple[str, str, str]]:
    """(sender, recipient, winner) per row of the walk-through table in lesson 04's markdown."""
    notebook = json.loads((ROOT / "notebooks" / "04_email_flow_rules.ipynb").read_text(encoding="utf-8"))
    text = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    rows = re.findall(r"^\| \d+ \| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \|", text, re.MULTILINE)
    assert len(rows) >= 5, "lesson 04 lost its walk-through table"
    return rows


def test_the_lessons_walk_through_changes_the_winner_at_every_step():
    """Lesson 04 asks the learner to type each row into the tester: every row must change the winner."""
    t = make_tester()
    previous = None
    for sender, recipient, winner in _walk_through_steps():
        t.set(sender=sender, recipient=recipient)
        assert t.evaluation.winner is not None and t.evaluation.winner.name == winner, (sender, recipient)
        assert winner != previous, f"{sender} -> {recipient} leaves the winner at {winner}"
        previous = winner


def test_the_outbound_precedence_line_quotes_the_table_order():
    """Managing email flows: the order of precedence is the order of the actions table, which for outbound
    starts with Default (docs/aws-behaviour.md §4.4a): the tester quotes that order, not only "restrictive"."""
    t = make_tester().set(direction="outbound", sender="alice@example.com", recipient="buyer@competitor.example.org")
    why = t.evaluation.winner_match.reason
    assert "DEFAULT ranks above DROP in the order of the outbound actions table of AWS's guide" in why
    assert "DEFAULT > DROP > BOUNCE > ROUTE_TO_SMTP_GATEWAY > RUN_LAMBDA" in why
    assert "taken literally Default outranks Drop" in why
    assert why in t.static_text()
