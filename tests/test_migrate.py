"""A WorkMail function and its SES port compared (workmail_sandbox.migrate; docs/migrating.md).

The workshop's four functions (examples/ses_ports/workmail/) and their ports (examples/ses_ports/ses/)
run on the sample corpus; each test names the AWS fact behind the row it expects
(docs/aws-behaviour.md §2, §4, §7).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from workmail_sandbox.errors import ConfigurationError
from workmail_sandbox.migrate import (
    COLUMNS,
    OUTCOMES,
    REASONS,
    Comparison,
    compare_port,
    difference,
    ses_outcome,
    ses_rules_from,
    workmail_outcome,
)

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
PORTS = ROOT / "examples" / "ses_ports"


def _pair(name: str, **options: object) -> Comparison:
    return compare_port(EMAILS, f"{PORTS / 'workmail' / name}.py:lambda_handler",
                        f"{PORTS / 'ses' / name}.py:lambda_handler", **options)


def _differences(comparison: Comparison) -> dict[tuple[str, str], str]:
    rows = comparison.differences
    return {(r.message, r.recipient): r.reason for r in rows.itertuples()}


def _row(comparison: Comparison, message: str, recipient: str):
    table = comparison.table
    found = table[(table.message == message) & (table.recipient == recipient)]
    assert len(found) == 1, f"{message} {recipient}: {len(found)} rows"
    return found.iloc[0]


# The two differences every port shows on the sample corpus, whatever it does.
SPAM = {("18-spam-fail.eml", "grace@example.com"): REASONS["spam"]}
VIRUS = {("19-virus-fail.eml", "frank@example.com"): REASONS["virus"]}


@pytest.fixture(scope="module")
def tag_external() -> Comparison:
    return _pair("tag_external")


@pytest.fixture(scope="module")
def restrict_finance() -> Comparison:
    return _pair("restrict_finance")


@pytest.fixture(scope="module")
def junk_newsletters() -> Comparison:
    return _pair("junk_newsletters")


# ------------------------------------------------------------------ the mapping, pure


def test_workmail_outcomes_map_onto_the_vocabulary():
    """WorkMail's recipient outcomes (inbox, junk, bounced, dropped, sent, failed) each have a word."""
    assert [workmail_outcome(o) for o in ("inbox", "junk", "bounced", "dropped", "sent", "failed")] == [
        "delivered", "junk", "bounced", "dropped", "redirected", "failed"]
    assert set(map(workmail_outcome, ("inbox", "sent", "whatever"))) <= set(OUTCOMES)


def test_ses_stored_is_delivered_unless_the_copy_carries_the_junk_header():
    """§7.5: the S3 action stores the raw message; SES has no junk folder (the kit's junk header decides)."""
    plain = b"Subject: hi\r\n\r\nbody\r\n"
    marked = b"X-Spam-Flag: YES\r\n" + plain
    assert ses_outcome("stored", plain) == "delivered"
    assert ses_outcome("stored", marked) == "junk"
    assert ses_outcome("stored", marked, ("X-Folder", "Junk")) == "delivered"
    assert ses_outcome("stored", b"X-Folder: junk\r\n" + plain, ("X-Folder", "Junk")) == "junk"
    assert [ses_outcome(o) for o in ("rejected", "bounced", "published", "workmail", "stopped", "processed",
                                     "accepted")] == ["rejected", "bounced", "redirected", "delivered", "dropped",
                                                      "dropped", "dropped"]


@pytest.mark.parametrize(("workmail", "ses", "reason"), [
    ({"outcome": "junk", "action": "MOVE_TO_JUNK"}, {"outcome": "delivered"}, "junk"),
    ({"outcome": "junk", "action": "DEFAULT", "spam": "FAIL"}, {"outcome": "delivered"}, "spam"),
    ({"outcome": "delivered"}, {"outcome": "junk"}, "port junk"),
    ({"outcome": "bounced", "action": "BOUNCE"}, {"outcome": "delivered"}, "bounce"),
    ({"outcome": "delivered"}, {"outcome": "bounced", "bounced_via": "SendBounce"}, "port bounce"),
    ({"outcome": "delivered"}, {"outcome": "bounced", "bounced_via": "BounceAction"}, "bounce action"),
    ({"outcome": "dropped", "action": "DROP", "source": "lambda"}, {"outcome": "delivered"}, "drop"),
    ({"outcome": "dropped", "action": "DROP", "source": "ses"}, {"outcome": "delivered"}, "virus"),
    ({"outcome": "delivered"}, {"outcome": "dropped"}, "port drop"),
    ({"outcome": "delivered", "added": True}, {"outcome": "not received"}, "added"),
    ({"outcome": "not received"}, {"outcome": "rejected"}, "only ses"),
    ({"outcome": "delivered"}, {"outcome": "rejected"}, "rejected"),
    ({"outcome": "delivered", "subject": "a"}, {"outcome": "delivered", "subject": "[EXTERNAL] a"}, "subject"),
    ({"outcome": "delivered", "subject": "a", "source": "fallback"},
     {"outcome": "delivered", "subject": "[EXTERNAL] a"}, "fallback"),
])
def test_each_difference_has_its_reason(workmail, ses, reason):
    """§7.1: an SES function answers only CONTINUE, STOP_RULE or STOP_RULE_SET: no junk, no bounce, no drop."""
    assert difference(workmail, ses) == REASONS[reason]


def test_agreeing_sides_have_no_reason():
    assert difference({"outcome": "bounced"}, {"outcome": "bounced", "bounced_via": "SendBounce"}) == ""
    assert difference({"outcome": "delivered", "subject": "x"}, {"outcome": "delivered", "subject": "x"}) == ""
    assert difference({"outcome": "redirected"}, {"outcome": "junk"}) == "WorkMail redirected, SES junk"


def test_ses_rules_from_fills_in_the_port_and_the_bucket():
    rules = ses_rules_from({"Rules": [
        {"Name": "first", "Actions": [{"LambdaAction": {"FunctionArn": "PORT"}}, {"StopAction": {"Scope": "RuleSet"}}],
         "Recipients": ["finance@example.com"]},
        {"Actions": [{"S3Action": {}}, {"LambdaAction": {"InvocationType": "Event"}}]},
    ]}, port_arn="arn:port", bucket="b", prefix="p/", domains=["example.com"])
    assert rules[0]["Actions"][0] == {"LambdaAction": {"FunctionArn": "arn:port", "InvocationType": "RequestResponse"}}
    assert rules[0]["Recipients"] == ["finance@example.com"] and rules[0]["Enabled"] is True
    assert rules[1]["Name"] == "port-2" and rules[1]["Recipients"] == ["example.com"]
    assert rules[1]["Actions"] == [{"S3Action": {"BucketName": "b", "ObjectKeyPrefix": "p/"}},
                                   {"LambdaAction": {"FunctionArn": "arn:port", "InvocationType": "Event"}}]


@pytest.mark.parametrize("data", [[], {"Rules": "x"}, [{"Name": "x"}], [{"Actions": [{"A": {}, "B": {}}]}]])
def test_ses_rules_from_refuses_what_is_not_a_rule_list(data):
    with pytest.raises(ConfigurationError):
        ses_rules_from(data, port_arn="arn", bucket="b", prefix="", domains=["example.com"])


# ------------------------------------------------------------------ bad input, before anything runs


@pytest.mark.parametrize(("options", "words"), [
    ({"invocation_type": "Sync"}, "invocation_type"),
    ({"junk_header": "X-Spam-Flag"}, "junk_header"),
    ({"bucket": "Not A Bucket"}, "bucket"),
    ({"domains": ["alice@example.com"]}, "domains"),
    ({"direction": "sideways"}, "direction"),
])
def test_bad_options_fail_in_one_line(options, words):
    with pytest.raises(ConfigurationError) as caught:
        _pair("junk_newsletters", **options)
    assert words in str(caught.value) and "\n" not in caught.value.problem


def test_missing_corpus_file_or_handler_name_fail_clearly(tmp_path):
    port = f"{PORTS / 'ses' / 'junk_newsletters.py'}:lambda_handler"
    with pytest.raises(ConfigurationError, match="no such file or folder"):
        compare_port(tmp_path / "none", port, port)
    with pytest.raises(ConfigurationError, match="needs the handler's name"):
        compare_port(EMAILS, str(PORTS / "workmail" / "junk_newsletters.py"), port)
    with pytest.raises(ConfigurationError, match="no such project folder"):
        compare_port(EMAILS, tmp_path / "project", port)
    (tmp_path / "rules.json").write_text("[1, 2")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        compare_port(EMAILS, port, port, ses_rules=tmp_path / "rules.json")


# ------------------------------------------------------------------ the workshop's ports on the sample corpus


def test_tag_external_port_tags_the_stored_copy(tag_external):
    """§3.3 and §7.5: WorkMail delivers PutRawMessageContent's content; the port rewrites the S3 object."""
    row = _row(tag_external, "01-plain-inbound.eml", "alice@example.com")
    assert (row.workmail, row.ses, row.verdict) == ("delivered", "delivered", "agree")
    assert row.workmail_subject == row.ses_subject == "[EXTERNAL] Delivery window for order 4471"
    assert _row(tag_external, "40-reply-already-tagged.eml", "alice@example.com").verdict == "agree"
    fallback = REASONS["fallback"]  # WorkMail refuses the new content (§3.3: Date required; 8-bit headers)
    assert _differences(tag_external) == {**SPAM, **VIRUS,
                                          ("25-missing-date-message-id.eml", "erin@example.com"): fallback,
                                          ("28-unencoded-8bit-header.eml", "dave@sales.example.com"): fallback}


def test_restrict_finance_port_bounces_with_send_bounce(restrict_finance):
    """§2 (BOUNCE per recipient) and §7.6 (SendBounce): the group bounces on both sides, bob gets the mail."""
    finance = _row(restrict_finance, "37-external-to-finance.eml", "finance@example.com")
    assert (finance.workmail, finance.ses, finance.verdict) == ("bounced", "bounced", "agree")
    assert "SendBounce" in finance.ses_detail
    others = restrict_finance.table[(restrict_finance.table.message == "37-external-to-finance.eml")
                                    & (restrict_finance.table.recipient != "finance@example.com")]
    assert len(others) and set(others.workmail) == set(others.ses) == {"delivered"}
    assert _differences(restrict_finance) == {**SPAM, **VIRUS}


def test_junk_newsletters_port_marks_bulk_mail_and_spam(junk_newsletters):
    """§4.2: DEFAULT keeps WorkMail's spam check; the port marks FAIL verdicts itself, so spam agrees too."""
    for message in ("17-newsletter.eml", "38-promotion-list-unsubscribe.eml", "18-spam-fail.eml"):
        rows = junk_newsletters.table[junk_newsletters.table.message == message]
        assert len(rows) and set(rows.workmail) == set(rows.ses) == {"junk"}, message
    assert _row(junk_newsletters, "39-newsletter-draft-review.eml",
                next(iter(junk_newsletters.table[junk_newsletters.table.message
                                                 == "39-newsletter-draft-review.eml"].recipient))).ses == "delivered"
    assert _differences(junk_newsletters) == VIRUS


def test_count_messages_port_counts_inbound_mail_only():
    """§7.3: receipt rules handle inbound mail only: outbound messages are skipped, and counted on WorkMail only."""
    comparison = _pair("count_messages", synchronous=False, invocation_type="Event")
    assert _differences(comparison) == {**SPAM, **VIRUS}
    skipped = comparison.table[comparison.table.verdict == "skipped"]
    assert set(skipped.reason) == {REASONS["outbound"], REASONS["no recipient"]}
    assert "02-plain-outbound.eml" in set(skipped.message)


def test_a_port_that_only_continues_differs_where_workmail_acted():
    """§7.1: returning CONTINUE (or nothing) is not MOVE_TO_JUNK, nor BOUNCE: the comparison says so."""

    def does_nothing(event, context):
        return {"disposition": "CONTINUE"}

    junk = compare_port([EMAILS / "17-newsletter.eml", EMAILS / "01-plain-inbound.eml"],
                        f"{PORTS / 'workmail' / 'junk_newsletters.py'}:lambda_handler", does_nothing)
    assert set(junk.differences.reason) == {REASONS["junk"]}
    assert set(junk.differences.message) == {"17-newsletter.eml"}
    bounce = compare_port([EMAILS / "37-external-to-finance.eml"],
                          f"{PORTS / 'workmail' / 'restrict_finance.py'}:lambda_handler", does_nothing)
    assert _differences(bounce) == {("37-external-to-finance.eml", "finance@example.com"): REASONS["bounce"]}


def test_summary_counts_rows_per_reason_and_csv_keeps_every_row(junk_newsletters, tmp_path):
    summary = junk_newsletters.summary()
    assert list(summary.columns) == ["verdict", "reason", "rows"]
    assert summary.rows.sum() == len(junk_newsletters.table)
    assert summary.iloc[0].verdict == "agree"
    differ = summary[summary.verdict == "differ"]
    assert list(differ.reason) == [REASONS["virus"]] and list(differ.rows) == [1]
    assert "1 differ" in junk_newsletters.report() and "1 differ" in repr(junk_newsletters)
    assert not junk_newsletters.agreed
    out = junk_newsletters.to_csv(tmp_path / "compare.csv")
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == COLUMNS and len(rows) == len(junk_newsletters.table) + 1


def test_a_running_sandbox_is_left_as_it_was(workmail_sandbox):
    """The comparison runs in the running sandbox and restores its state: no function, bucket or rule set stays."""
    sb = workmail_sandbox
    before = sb.client("lambda").list_functions()["Functions"]
    comparison = compare_port([EMAILS / "01-plain-inbound.eml"],
                              f"{PORTS / 'workmail' / 'junk_newsletters.py'}:lambda_handler",
                              f"{PORTS / 'ses' / 'junk_newsletters.py'}:lambda_handler")
    assert comparison.agreed and len(comparison.table) == 1
    assert sb.client("lambda").list_functions()["Functions"] == before
    assert sb.client("ses").describe_active_receipt_rule_set().get("Metadata") is None
    assert sb.started


def test_ses_rules_file_places_the_port(tmp_path):
    """§7.3: rules run in order; a stop ends the rule set (here for the recipients the first rule matched)."""
    rules = [{"Name": "finance-first", "Recipients": ["finance@example.com"],
              "Actions": [{"StopAction": {"Scope": "RuleSet"}}]},
             {"Name": "everyone", "Actions": [{"S3Action": {}}, {"LambdaAction": {"FunctionArn": "PORT"}}]}]
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    comparison = compare_port([EMAILS / "37-external-to-finance.eml"],
                              f"{PORTS / 'workmail' / 'restrict_finance.py'}:lambda_handler",
                              f"{PORTS / 'ses' / 'restrict_finance.py'}:lambda_handler", ses_rules=tmp_path / "rules.json")
    finance = _row(comparison, "37-external-to-finance.eml", "finance@example.com")
    assert (finance.workmail, finance.ses, finance.reason) == ("bounced", "dropped", REASONS["bounce"])
    assert "rules" in comparison.ses


def test_aws_mode_is_refused_before_anything_is_deployed(monkeypatch):
    """compare never reaches a real account: both sides run in the sandbox only."""
    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    with pytest.raises(ConfigurationError, match="aws mode"):
        _pair("junk_newsletters")


def test_count_messages_port_puts_one_inbound_count_per_message(workmail_sandbox):
    """§7.1: an Event invocation runs the function; its answer changes nothing. The metric is all it leaves."""
    from workmail_sandbox.migrate import _code, _ses_side
    from workmail_sandbox.ses.receiving import SesReceiving

    sb = workmail_sandbox
    _ses_side(sb, _code(f"{PORTS / 'ses' / 'count_messages.py'}:lambda_handler", "ses"), None, "Event",
              ["example.com", "sales.example.com"], "ses-port-mail", "inbound/", {}, {})
    receiving = SesReceiving(sb)
    for name in ("01-plain-inbound.eml", "07-duplicate-recipients.eml"):
        receipt = receiving.receive(EMAILS / name)
        assert set(receipt.outcomes.values()) == {"stored"}
    stats = sb.client("cloudwatch").get_metric_statistics(
        Namespace="WorkMailWorkshop", MetricName="Messages", Dimensions=[{"Name": "Direction", "Value": "INBOUND"}],
        StartTime="2000-01-01T00:00:00Z", EndTime="2100-01-01T00:00:00Z", Period=86400 * 365 * 100,
        Statistics=["Sum"])
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 2
