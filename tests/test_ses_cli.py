"""``workmail-sandbox ses-event``: the SES receiving event for an .eml file (docs/ses.md)."""

from __future__ import annotations

import json

from workmail_sandbox.cli import EXIT_INVALID, EXIT_OK, main
from workmail_sandbox.ses import check_ses_event

RAW = b"From: Ann <ann@sender.example>\r\nTo: bob@example.com, carl@example.com\r\nSubject: hi\r\n\r\nthe body\r\n"


def test_ses_event_prints_the_lambda_actions_event(tmp_path, capsys):
    path = tmp_path / "m.eml"
    path.write_bytes(RAW)
    assert main(["ses-event", str(path), "--recipient", "bob@example.com", "--sender", "bounce@sender.example",
                 "--invocation-type", "RequestResponse"]) == EXIT_OK
    event = json.loads(capsys.readouterr().out)
    assert check_ses_event(event) == []
    ses = event["Records"][0]["ses"]
    assert ses["receipt"]["recipients"] == ["bob@example.com"]
    assert ses["mail"]["source"] == "bounce@sender.example"
    assert ses["mail"]["destination"] == ["bob@example.com", "carl@example.com"]
    assert ses["receipt"]["action"]["invocationType"] == "RequestResponse"
    assert "the body" not in json.dumps(event)


def test_ses_event_defaults_to_the_headers_recipients_and_from(tmp_path, capsys):
    path = tmp_path / "m.eml"
    path.write_bytes(RAW)
    assert main(["ses-event", str(path), "--indent", "0"]) == EXIT_OK
    ses = json.loads(capsys.readouterr().out)["Records"][0]["ses"]
    assert ses["receipt"]["recipients"] == ["bob@example.com", "carl@example.com"]
    assert ses["mail"]["source"] == "ann@sender.example"


def test_a_bad_recipient_is_one_line_on_stderr(tmp_path, capsys):
    path = tmp_path / "m.eml"
    path.write_bytes(RAW)
    assert main(["ses-event", str(path), "--recipient", "not-an-address"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ses.receipt.recipients: 'not-an-address' is not an email address" in err
