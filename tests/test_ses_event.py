"""The SES receiving event (workmail_sandbox.ses): each test names the fact of docs/aws-behaviour.md §7 it checks.

Pure: no sandbox.
"""

from __future__ import annotations

import datetime as _dt
import json

import pytest

import workmail_sandbox as wms
from workmail_sandbox.errors import EventError
from workmail_sandbox.ses import (
    HEADERS_LIMIT_BYTES,
    build_ses_event,
    check_ses_event,
    condition_matches,
    disposition_of,
    receipt_rule_arn,
    rule_matches,
    ses_parts,
)
from workmail_sandbox.ses.rules import verified_domain_of

RAW = (
    b'From: "Doe, John" <john@sender.example>\r\n'
    b"To: a@example.com, Bea <b@example.com>\r\n"
    b"Cc: c@example.com\r\n"
    b"Reply-To: help@sender.example\r\n"
    b"Subject: =?utf-8?q?caf=C3=A9?=\r\n"
    b"Date: Mon, 5 Aug 2019 21:29:57 +0000\r\n"
    b"Message-ID: <F8098FDD@sender.example>\r\n"
    b"\r\n"
    b"the body, which the event never carries\r\n"
)
WHEN = _dt.datetime(2019, 8, 5, 21, 30, 2, 28000, tzinfo=_dt.UTC)


def event(**kwargs):
    kwargs.setdefault("now", WHEN)
    return build_ses_event(RAW, **kwargs)


def test_one_record_with_event_source_aws_ses_and_version_1_0():
    """§7.2: {"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {mail, receipt}}]}."""
    data = event()
    assert list(data) == ["Records"] and len(data["Records"]) == 1
    record = data["Records"][0]
    assert record["eventSource"] == "aws:ses" and record["eventVersion"] == "1.0"
    assert set(record["ses"]) == {"mail", "receipt"}
    assert check_ses_event(data) == []


def test_mail_object_fields_and_timestamps_in_iso_8601_with_milliseconds():
    """§7.2: mail has timestamp, source (MAIL FROM), messageId, destination, headersTruncated, headers, commonHeaders."""
    mail, receipt = ses_parts(event(sender="bounces@sender.example", message_id="m1"))
    assert list(mail) == ["timestamp", "source", "messageId", "destination", "headersTruncated", "headers",
                          "commonHeaders"]
    assert mail["timestamp"] == receipt["timestamp"] == "2019-08-05T21:30:02.028Z"
    assert mail["source"] == "bounces@sender.example"
    assert mail["messageId"] == "m1"
    assert mail["headersTruncated"] is False


def test_the_event_never_carries_the_body():
    """§7.2: the Lambda action's event omits the message body; check_ses_event refuses a content key."""
    data = event()
    assert b"never carries" not in json.dumps(data).encode()
    data["Records"][0]["ses"]["mail"]["content"] = "x"
    assert [p.field for p in check_ses_event(data)] == ["Records[0].ses.mail.content"]


def test_destination_is_the_to_and_cc_addresses_of_the_headers():
    """§7.2: destination lists the To and Cc recipients from the MIME headers, not the envelope."""
    mail, receipt = ses_parts(event(recipients=["a@example.com"]))
    assert mail["destination"] == ["a@example.com", "b@example.com", "c@example.com"]
    assert receipt["recipients"] == ["a@example.com"]


def test_receipt_recipients_are_the_envelope_recipients_the_rule_matched():
    """§7.2: receipt.recipients are the RCPT TO addresses the rule matched (they may differ from destination)."""
    _, receipt = ses_parts(event(recipients=["Hidden@Example.com"]))
    assert receipt["recipients"] == ["hidden@example.com"]


def test_headers_are_name_value_pairs_starting_with_return_path():
    """§7.2: headers is a list of {name, value}; SES's Return-Path carries the envelope sender."""
    mail, _ = ses_parts(event())
    assert mail["headers"][0] == {"name": "Return-Path", "value": "<john@sender.example>"}
    names = [h["name"] for h in mail["headers"]]
    assert names[1:] == ["From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID"]


def test_headers_over_10_kb_are_truncated_and_flagged():
    """§7.2: headersTruncated is true when the headers are larger than 10 KB."""
    many = b"".join(f"X-Filler-{i}: {'v' * 90}\r\n".encode() for i in range(200))
    data = build_ses_event(many + RAW, now=WHEN)
    mail, _ = ses_parts(data)
    assert mail["headersTruncated"] is True
    size = sum(len(h["name"]) + len(h["value"]) + 4 for h in mail["headers"])
    assert size <= HEADERS_LIMIT_BYTES
    assert check_ses_event(data) == []


def test_common_headers_lists_and_strings():
    """§7.2: commonHeaders from/to/cc/replyTo are lists; returnPath, date, messageId, subject are strings."""
    mail, _ = ses_parts(event())
    common = mail["commonHeaders"]
    assert common["from"] == ['"Doe, John" <john@sender.example>']
    assert common["to"] == ["a@example.com", "Bea <b@example.com>"]
    assert common["cc"] == ["c@example.com"] and common["replyTo"] == ["help@sender.example"]
    assert common["returnPath"] == "john@sender.example"
    assert common["date"] == "Mon, 5 Aug 2019 21:29:57 +0000"
    assert common["messageId"] == "<F8098FDD@sender.example>"
    assert common["subject"] == "café"


def test_common_headers_hold_only_the_fields_the_message_has():
    """§7.2: the fields present in commonHeaders vary with the fields present in the message."""
    data = build_ses_event(b"From: a@x.example\r\nTo: b@example.com\r\n\r\nhi\r\n", now=WHEN)
    mail, _ = ses_parts(data)
    assert set(mail["commonHeaders"]) == {"returnPath", "from", "to"}
    assert check_ses_event(data) == []


def test_verdicts_default_to_pass_and_are_settable():
    """§7.2: spam, virus, SPF, DKIM and DMARC verdicts are {"status": ...} with PASS, FAIL, GRAY, PROCESSING_FAILED."""
    _, receipt = ses_parts(event(spam="FAIL", virus="GRAY", spf="PROCESSING_FAILED"))
    assert receipt["spamVerdict"] == {"status": "FAIL"}
    assert receipt["virusVerdict"] == {"status": "GRAY"}
    assert receipt["spfVerdict"] == {"status": "PROCESSING_FAILED"}
    assert receipt["dkimVerdict"] == receipt["dmarcVerdict"] == {"status": "PASS"}
    with pytest.raises(EventError, match="spamVerdict.status: must be one of PASS"):
        event(spam="SPAM")


def test_dmarc_policy_appears_only_when_dmarc_fails():
    """§7.2: receipt.dmarcPolicy (none, quarantine, reject) is present only when the message fails DMARC."""
    _, receipt = ses_parts(event())
    assert "dmarcPolicy" not in receipt
    _, failed = ses_parts(event(dmarc="FAIL", dmarc_policy="reject"))
    assert failed["dmarcPolicy"] == "reject"
    with pytest.raises(EventError, match="only when the message fails DMARC"):
        event(dmarc_policy="reject")
    broken = event(dmarc="FAIL", dmarc_policy="quarantine")
    del broken["Records"][0]["ses"]["receipt"]["dmarcPolicy"]
    assert [p.field for p in check_ses_event(broken)] == ["Records[0].ses.receipt.dmarcPolicy"]


def test_the_action_object_of_a_lambda_action():
    """§7.2: receipt.action is {"type": "Lambda", "functionArn", "invocationType"}; Event is the default."""
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:Inbound"
    _, receipt = ses_parts(event(function_arn=arn))
    assert receipt["action"] == {"type": "Lambda", "functionArn": arn, "invocationType": "Event"}
    _, sync = ses_parts(event(function_arn=arn, invocation_type="RequestResponse"))
    assert sync["action"]["invocationType"] == "RequestResponse"
    with pytest.raises(EventError, match="Event or RequestResponse"):
        event(invocation_type="DryRun")


def test_processing_time_is_a_number_of_milliseconds():
    """§7.2: processingTimeMillis: the time from receipt to the action, in milliseconds."""
    _, receipt = ses_parts(event(processing_time_ms=1205))
    assert receipt["processingTimeMillis"] == 1205


def test_check_ses_event_names_field_and_fix_in_one_line():
    """check_ses_event reports each broken rule as one line naming the JSON path."""
    data = event()
    data["Records"][0]["eventSource"] = "aws:sns"
    data["Records"][0]["ses"]["receipt"]["spamVerdict"] = {"status": "maybe"}
    del data["Records"][0]["ses"]["mail"]["source"]
    problems = [str(p) for p in check_ses_event(data)]
    assert problems == [
        "Records[0].eventSource: must be 'aws:ses', got 'aws:sns'",
        "Records[0].ses.mail.source: is required Fix: build the event with build_ses_event",
        "Records[0].ses.receipt.spamVerdict.status: must be one of PASS, FAIL, GRAY, PROCESSING_FAILED, got 'maybe'",
    ]
    assert all("\n" not in p for p in problems)
    assert [p.field for p in check_ses_event({"Records": []})] == ["Records"]
    assert [p.field for p in check_ses_event([1])] == ["(document)"]


def test_bad_input_is_one_clear_error():
    """A recipient that is not an address, or no recipients at all, is refused naming the field and the fix."""
    with pytest.raises(EventError, match=r"ses.receipt.recipients: 'nope' is not an email address.*Fix: pass"):
        event(recipients=["nope"])
    with pytest.raises(EventError, match="not one string"):
        event(recipients="a@example.com")
    with pytest.raises(EventError, match="at least one envelope recipient"):
        event(recipients=[])


def test_the_package_names_reach_the_ses_event_lazily():
    assert wms.build_ses_event is build_ses_event and wms.check_ses_event is check_ses_event


# receipt rules ---------------------------------------------------------------------------------


def test_a_condition_address_matches_it_and_its_labelled_forms():
    """§7.3: user@example.com matches user+label@example.com too; a condition with a label only itself."""
    assert condition_matches("user@example.com", "user@example.com")
    assert condition_matches("user@example.com", "User+news@Example.com")
    assert not condition_matches("user@example.com", "other@example.com")
    assert condition_matches("user+news@example.com", "user+news@example.com")
    assert not condition_matches("user+news@example.com", "user@example.com")


def test_a_condition_domain_matches_its_addresses_and_a_leading_dot_its_subdomains():
    """§7.3: example.com matches its addresses, not subdomains; .example.com subdomains, not the domain itself."""
    assert condition_matches("example.com", "a@example.com")
    assert not condition_matches("example.com", "a@sub.example.com")
    assert condition_matches(".example.com", "a@sub.example.com")
    assert condition_matches(".example.com", "a@deep.sub.example.com")
    assert not condition_matches(".example.com", "a@example.com")
    assert not condition_matches(".example.com", "a@badexample.com")


def test_a_rule_without_recipients_matches_every_recipient():
    """§7.3: a rule with no Recipients applies to all recipients of the verified domains."""
    assert rule_matches({"Name": "all"}, "anyone@example.com")
    assert rule_matches({"Name": "r", "Recipients": ["x@example.com", "example.org"]}, "y@example.org")
    assert not rule_matches({"Name": "r", "Recipients": ["x@example.com"]}, "y@example.com")


def test_a_verified_domain_covers_its_subdomains():
    """§7.3: the rules apply to addresses of verified domains and their subdomains."""
    assert verified_domain_of("a@mail.example.com", ["example.com"]) == "example.com"
    assert verified_domain_of("a@example.org", ["example.com"]) is None


def test_disposition_missing_or_invalid_counts_as_continue():
    """§7.1: STOP_RULE, STOP_RULE_SET or CONTINUE; a missing or invalid disposition is CONTINUE."""
    assert disposition_of({"disposition": "STOP_RULE"}) == "STOP_RULE"
    assert disposition_of({"disposition": "STOP_RULE_SET"}) == "STOP_RULE_SET"
    assert disposition_of({"disposition": "stop_rule"}) == "CONTINUE"
    assert disposition_of(None) == disposition_of("STOP_RULE") == disposition_of({}) == "CONTINUE"


def test_the_source_arn_of_a_receipt_rule():
    """§7.4: SES invokes and writes with aws:SourceArn arn:aws:ses:REGION:ACCOUNT:receipt-rule-set/SET:receipt-rule/RULE."""
    assert receipt_rule_arn("us-east-1", "111122223333", "main", "store") == (
        "arn:aws:ses:us-east-1:111122223333:receipt-rule-set/main:receipt-rule/store"
    )
