"""The SMTP door and Amazon SES receiving: a RCPT TO outside every organization, in a verified SES domain.

Facts: docs/aws-behaviour.md §7.3 (SES receives mail for verified domains only, and only for
recipients an enabled rule of the active rule set matches). Kit choices: docs/ses.md (the door
has no TLS, so a rule with TlsPolicy Require bounces; one transaction is either one
organization's or SES's).
"""

from __future__ import annotations

import smtplib

import pytest

from workmail_sandbox.organization import Organization
from workmail_sandbox.smtp_door import SmtpDoor

RAW = b"From: Ann <ann@sender.example>\r\nTo: bob@ses.example\r\nSubject: via smtp\r\n\r\nbody\r\n"


def client(port: int) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", port, local_hostname="localhost", timeout=20)


@pytest.fixture
def door(workmail_sandbox):
    ses = workmail_sandbox.client("ses")
    ses.verify_domain_identity(Domain="ses.example")
    ses.create_receipt_rule_set(RuleSetName="main")
    ses.create_receipt_rule(RuleSetName="main", Rule={"Name": "bob", "Enabled": True, "Recipients": [
        "bob@ses.example"], "Actions": [{"AddHeaderAction": {"HeaderName": "X-Seen", "HeaderValue": "1"}}]})
    ses.set_active_receipt_rule_set(RuleSetName="main")
    Organization.create(workmail_sandbox, "corp", domains=["corp.example"], users=["alice@corp.example"])
    with SmtpDoor(workmail_sandbox, port=0) as running:
        yield running


def test_a_recipient_ses_receives_is_accepted_and_the_rule_set_runs(door):
    """§7.3: a verified SES domain with an active rule set matching the recipient: SES receives the message."""
    with client(door.port) as smtp:
        refused = smtp.sendmail("ann@sender.example", ["bob@ses.example"], RAW)
    assert refused == {}
    [transaction] = door.transactions
    receipt = transaction.result
    assert transaction.accepted and transaction.organization_id is None
    assert transaction.reply == f"250 2.0.0 Ok: queued as {receipt.message_id}"
    assert receipt.outcome("bob@ses.example") == "accepted"
    assert [a.type for a in receipt.actions] == ["AddHeader"] and receipt.sender == "ann@sender.example"


def test_no_matching_rule_is_550_and_an_unverified_domain_is_relaying(door):
    """§7.3: SES rejects a recipient no enabled rule matches; a domain SES does not verify is relaying."""
    with client(door.port) as smtp:
        smtp.ehlo()
        smtp.mail("ann@sender.example")
        code, text = smtp.rcpt("carol@ses.example")
        assert code == 550 and b"no enabled rule" in text
        code, text = smtp.rcpt("dan@nowhere.example")
        assert code == 550 and b"Relaying denied" in text


def test_one_transaction_is_either_an_organizations_or_ses(door):
    """Kit choice (docs/ses.md): SES and organization recipients go in separate transactions (452 4.5.3)."""
    with client(door.port) as smtp:
        smtp.ehlo()
        smtp.mail("ann@sender.example")
        assert smtp.rcpt("bob@ses.example")[0] == 250
        code, text = smtp.rcpt("alice@corp.example")
        assert code == 452 and b"new transaction" in text
    with client(door.port) as smtp:
        smtp.ehlo()
        smtp.mail("ann@sender.example")
        assert smtp.rcpt("alice@corp.example")[0] == 250
        code, text = smtp.rcpt("bob@ses.example")
        assert code == 452 and b"Amazon SES receiving" in text
