"""The SMTP door: real SMTP (smtplib) into the emulated organizations, one conversation per transaction.

Each test names the documented fact it checks ("aws-behaviour §2.3": the Run Lambda
event lists the recipients of one SMTP conversation, and the function runs once per
conversation) or the kit choice it pins (documented in ``workmail_sandbox/smtp_door.py``
and ``docs/smtp.md``). Functions are real Lambda functions deployed with
``deploy_handler`` and allowed with the ``lambda.add_permission`` call of lambda.md.
"""

from __future__ import annotations

import smtplib
import socket
import threading
import time

import pytest
from aiosmtpd.smtp import SMTP

from workmail_sandbox.deploy.handler import deploy_handler
from workmail_sandbox.errors import ConfigurationError, SandboxError
from workmail_sandbox.flow.mailboxes import strip_bcc
from workmail_sandbox.mail.parsing import MAX_MESSAGE_BYTES
from workmail_sandbox.organization import Organization
from workmail_sandbox.rules import Rule, RuleSet
from workmail_sandbox.smtp_door import DEFAULT_PASSWORD, SmtpDoor, _DoorSMTP

PRINCIPAL = "workmail.us-east-1.amazonaws.com"


def mail(frm: str = "Carlos <carlos@example.org>", to: str = "alice@example.com", subject: str = "Hello",
         *, extra: str = "", body: str = "Hello there.") -> bytes:
    lines = [f"From: {frm}", f"To: {to}", f"Subject: {subject}", "Date: Mon, 03 Nov 2025 09:14:02 +0100",
             "Message-ID: <smtp-1@example.org>"]
    if extra:
        lines.append(extra)
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii", "", body, ""]
    return "\r\n".join(lines).encode()


def client(port: int) -> smtplib.SMTP:
    # local_hostname: smtplib would look up this machine's name, which the network guard refuses
    return smtplib.SMTP("127.0.0.1", port, local_hostname="localhost", timeout=20)


@pytest.fixture
def org(workmail_sandbox):
    return Organization.create(
        workmail_sandbox, "example-corp", domains=["example.com"],
        users=["alice@example.com", "bob@example.com", "carol@example.com"],
        groups={"finance@example.com": ["alice@example.com", "bob@example.com"]},
    )


@pytest.fixture
def door(workmail_sandbox, org):
    with SmtpDoor(workmail_sandbox, port=0, submission_port=0) as running:
        yield running


@pytest.fixture
def deploy(workmail_sandbox, org):
    def _deploy(source: str, name: str) -> str:
        fn = deploy_handler(source, name=name, handler_name="lambda_handler")
        workmail_sandbox.client("lambda").add_permission(
            FunctionName=name, StatementId="AllowWorkMail", Action="lambda:InvokeFunction",
            Principal=PRINCIPAL, SourceArn=org.arn,
        )
        return fn["FunctionArn"]

    return _deploy


def respond(response: dict, *, sleep: float = 0) -> str:
    return f"import time\n\ndef lambda_handler(event, context):\n    time.sleep({sleep})\n    return {response!r}\n"


DEFAULT_ALL = {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}


def sync_rule(arn: str) -> RuleSet:
    return RuleSet([Rule.run_lambda("fn", "inbound", arn, synchronous=True, fallback_action="DEFAULT",
                                    rule_timeout_minutes=0)])


def invoked(org: Organization) -> int:
    return sum(1 for r in org.log.records if r["event"]["eventName"] == "LAMBDA_INVOKED")


# ------------------------------------------------------------------ one transaction, one conversation


def test_one_transaction_with_two_recipients_invokes_the_function_once(org, door, deploy):
    """One SMTP conversation -> one event with exactly its recipients (aws-behaviour §2.3)."""
    org.rules = sync_rule(deploy(respond(DEFAULT_ALL), "recorder"))  # set on the user's object: the door uses it
    with client(door.port) as smtp:
        assert smtp.sendmail("Carlos@Example.org", ["alice@example.com", "Bob@example.com"],
                             mail(to="alice@example.com, bob@example.com, someone@example.net")) == {}
    (transaction,) = door.transactions
    assert transaction.accepted and transaction.reply == f"250 2.0.0 Ok: queued as {transaction.result.trace_id}"
    result = transaction.result
    assert len(result.invocations) == 1 == invoked(org)
    event = result.invocations[0].event
    assert [r["address"] for r in event["envelope"]["recipients"]] == ["alice@example.com", "bob@example.com"]
    assert event["envelope"]["mailFrom"]["address"] == "carlos@example.org"  # MAIL FROM, not the header
    assert result.outcomes == {"alice@example.com": "inbox", "bob@example.com": "inbox"}
    assert transaction.organization_id == org.id and transaction.port == "inbound"


def test_two_sessions_invoke_the_function_twice_each_with_its_recipients(org, door, deploy):
    """Two SMTP conversations -> two invocations, each event with its own conversation's recipients (§2.3)."""
    org.rules = sync_rule(deploy(respond(DEFAULT_ALL), "recorder"))
    raw = mail(to="alice@example.com, bob@example.com, carol@example.com")
    with client(door.port) as first:
        first.sendmail("carlos@example.org", ["alice@example.com"], raw)
    with client(door.port) as second:
        second.sendmail("carlos@example.org", ["bob@example.com", "carol@example.com"], raw)
    events = [t.result.invocations[0].event for t in door.transactions]
    assert [[r["address"] for r in e["envelope"]["recipients"]] for e in events] == [
        ["alice@example.com"], ["bob@example.com", "carol@example.com"]]
    assert events[0]["invocationId"] != events[1]["invocationId"]
    assert invoked(org) == 2
    assert door.stats["connections"] == 2 and door.stats["accepted"] == 2


def test_the_registered_object_is_the_one_the_door_uses(workmail_sandbox, org, door):
    """Kit choice: the most recent Organization object of an id gets the mail; a reset forgets them."""
    newer = Organization.attach(workmail_sandbox, org.id,
                                rules=RuleSet([Rule.inbound("junk-it", "MOVE_TO_JUNK", senders="example.org")]))
    with client(door.port) as smtp:
        smtp.sendmail("carlos@example.org", ["alice@example.com"], mail())
    assert len(newer.mailbox("alice@example.com").junk) == 1
    assert len(org.mailbox("alice@example.com")) == 0  # the older object's mailboxes
    assert Organization.registered(workmail_sandbox) == {org.id: newer}
    workmail_sandbox.reset()
    assert Organization.registered(workmail_sandbox) == {}


def test_an_organization_made_through_boto3_alone_is_attached_on_first_mail(workmail_sandbox, door):
    """No Python object yet: the door finds the owner of the domain through the workmail API and attaches it."""
    wm = workmail_sandbox.client("workmail")
    org_id = wm.create_organization(Alias="api-only")["OrganizationId"]
    wm.register_mail_domain(OrganizationId=org_id, DomainName="api.example.net")
    user = wm.create_user(OrganizationId=org_id, Name="dana", DisplayName="Dana", Password="Passw0rd!x")["UserId"]
    wm.register_to_work_mail(OrganizationId=org_id, EntityId=user, Email="dana@api.example.net")
    with client(door.port) as smtp:
        smtp.sendmail("carlos@example.org", ["dana@api.example.net"], mail(to="dana@api.example.net"))
    attached = Organization.for_domain(workmail_sandbox, "API.example.net")
    assert attached is not None and attached.id == org_id
    assert [item.subject for item in attached.mailbox("dana@api.example.net").inbox] == ["Hello"]
    assert Organization.for_domain(workmail_sandbox, "nobody.example.net") is None


# ------------------------------------------------------------------ RCPT TO


def test_unknown_user_and_external_domain_are_refused_at_rcpt(org, door):
    """550 5.1.1 for an unknown user of the organization, 550 5.7.1 relaying denied for other domains."""
    with client(door.port) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
            smtp.sendmail("carlos@example.org", ["nobody@example.com"], mail())
        code, text = unknown.value.recipients["nobody@example.com"]
        assert code == 550 and text.startswith(b"5.1.1 <nobody@example.com>: Recipient address rejected: User unknown")
        with pytest.raises(smtplib.SMTPRecipientsRefused) as external:
            smtp.sendmail("carlos@example.org", ["someone@example.net"], mail())
        code, text = external.value.recipients["someone@example.net"]
        assert code == 550 and text.startswith(b"5.7.1 Relaying denied")
        # a group is a recipient; the refused address does not stop the others
        refused = smtp.sendmail("carlos@example.org", ["finance@example.com", "ghost@example.com"], mail())
        assert list(refused) == ["ghost@example.com"]
        smtp.mail("carlos@example.org")
        assert smtp.rcpt("postmaster")[0] == 553  # not local@domain
    assert len(org.mailbox("alice@example.com").inbox) == len(org.mailbox("bob@example.com").inbox) == 1
    assert door.transactions[-1].recipients == ("finance@example.com",)
    assert door.stats["refused_recipients"] == 4


def test_recipients_of_two_organizations_need_two_transactions(workmail_sandbox, org, door):
    """Kit choice: one transaction is one organization's conversation; the other's recipients get 452 4.5.3."""
    other = Organization.create(workmail_sandbox, "other-corp", domains=["other.example"], users=["olga@other.example"])
    with client(door.port) as smtp:
        refused = smtp.sendmail("carlos@example.org", ["alice@example.com", "olga@other.example"], mail())
        assert refused["olga@other.example"][0] == 452 and refused["olga@other.example"][1].startswith(b"4.5.3")
        assert smtp.sendmail("carlos@example.org", ["olga@other.example"], mail()) == {}
    assert len(org.mailbox("alice@example.com").inbox) == len(other.mailbox("olga@other.example").inbox) == 1


def test_a_stopped_sandbox_is_a_temporary_failure(workmail_sandbox, door):
    workmail_sandbox.stop()
    with client(door.port) as smtp:
        smtp.ehlo()
        smtp.mail("carlos@example.org")
        code, text = smtp.rcpt("alice@example.com")
    assert code == 451 and text.startswith(b"4.3.0")


# ------------------------------------------------------------------ DATA


def test_delivered_content_is_what_was_sent(org, door):
    """The mailbox gets the bytes sent (dot-stuffing undone); only Bcc is removed, as the flow does."""
    raw = mail(to="alice@example.com", extra="Bcc: bob@example.com",
               body="Line one.\r\n.a line that starts with a dot\r\n..two dots\r\n.")
    with client(door.port) as smtp:
        smtp.sendmail("carlos@example.org", ["alice@example.com", "bob@example.com"], raw)
    expected = strip_bcc(raw)
    assert b"Bcc" not in expected and expected != raw
    assert org.mailbox("alice@example.com").inbox[0].content == expected
    assert org.mailbox("bob@example.com").inbox[0].content == expected


def test_a_bounce_is_accepted_then_bounced_and_never_to_a_null_sender(org, door, deploy):
    """WorkMail accepts, then bounces (aws-behaviour §2.4); a null sender <> gets no bounce (RFC 5321 §4.5.5)."""
    org.rules = sync_rule(deploy(respond({"actions": [{"action": {"type": "BOUNCE", "parameters": {
        "bounceMessage": "Not here."}}, "allRecipients": True}]}), "bouncer"))
    with client(door.port) as smtp:
        assert smtp.sendmail("carlos@example.org", ["alice@example.com"], mail()) == {}
        assert smtp.sendmail("<>", ["bob@example.com"], mail()) == {}
    to_carlos, to_null = (t.result for t in door.transactions)
    assert to_carlos.outcomes == {"alice@example.com": "bounced"}
    assert [(item.recipient, item.kind) for item in org.outbox] == [("carlos@example.org", "bounce")]
    assert to_null.outcomes == {"bob@example.com": "bounced"}
    assert to_null.bounces[0].to is None and "null" in to_null.bounces[0].reason
    assert door.transactions[1].mail_from == "<>"


def test_an_unreadable_message_gets_554_and_a_failure_inside_the_kit_451(org, door, monkeypatch):
    with client(door.port) as smtp:
        smtp.ehlo()
        smtp.mail("carlos@example.org")
        smtp.rcpt("alice@example.com")
        code, text = smtp.data(b"this is not a header line\r\n\r\nbody\r\n")
        assert code == 554 and text.startswith(b"5.6.0 Message cannot be read")

        def fail(*args, **kwargs):
            raise SandboxError("The flow broke.", fix="none")

        monkeypatch.setattr(org, "receive", fail)
        smtp.mail("carlos@example.org")
        smtp.rcpt("alice@example.com")
        code, text = smtp.data(mail())
        assert code == 451 and text == b"4.3.0 Routing failed in the sandbox: The flow broke."
        monkeypatch.setattr(org, "receive", lambda *a, **k: 1 / 0)
        smtp.mail("carlos@example.org")
        smtp.rcpt("alice@example.com")
        code, text = smtp.data(mail())
        assert code == 451 and b"ZeroDivisionError" in text
    assert [t.accepted for t in door.transactions] == [False, False, False]
    assert door.stats["failed"] == 3 and len(org.mailbox("alice@example.com")) == 0


def test_size_limit_is_advertised_and_enforced_with_552(workmail_sandbox, org, door):
    with client(door.port) as smtp:
        smtp.ehlo()
        assert int(smtp.esmtp_features["size"]) == MAX_MESSAGE_BYTES
        assert "auth" not in smtp.esmtp_features  # an MX offers no AUTH
        assert smtp.docmd("AUTH PLAIN AGFsaWNlAHNhbmRib3g=")[0] == 504
    with SmtpDoor(workmail_sandbox, port=0, max_message_bytes=2_000) as small:
        big = mail(body="x" * 70 + ("\r\n" + "y" * 70) * 40)
        with client(small.port) as smtp:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # smtplib sends SIZE= with MAIL FROM
                smtp.sendmail("carlos@example.org", ["alice@example.com"], big)
            assert refused.value.smtp_code == 552
            assert refused.value.smtp_error == b"5.3.4 Message size exceeds fixed maximum message size"
            smtp.rset()
            smtp.mail("carlos@example.org")  # no SIZE: refused after the data
            smtp.rcpt("alice@example.com")
            assert smtp.data(big) == (552, b"5.3.4 Message size exceeds fixed maximum message size")
    assert len(org.mailbox("alice@example.com")) == 0
    with pytest.raises(ConfigurationError):
        SmtpDoor(workmail_sandbox, max_message_bytes=MAX_MESSAGE_BYTES + 1)


def test_malformed_commands_get_aiosmtpd_replies(door):
    with client(door.port) as smtp:
        assert smtp.docmd("FOO")[0] == 500
        assert smtp.docmd("RCPT TO:<alice@example.com>")[0] == 503  # before HELO/EHLO and MAIL
        smtp.ehlo()
        assert smtp.docmd("RCPT TO:<alice@example.com>")[0] == 503  # no MAIL yet
        assert smtp.docmd("MAIL FROM:<<<")[0] == 553
        assert smtp.docmd("DATA")[0] == 503
        assert smtp.docmd("MAIL FROM:<postmaster>")[:2] == (553, b"5.1.7 <postmaster>: Sender address is not local@domain")
    assert door.stats["transactions"] == 0


@pytest.mark.parametrize("arg", [
    "<>", "<> SIZE=10", " <a@b.example>  SIZE=100 BODY=8BITMIME ", "<A.B+c@Ex-ample.COM>", "<a@b.example>\tX=1",
    "a@b.example", "<a@b.example>x", '<"q u"@b.example>', "<a@[192.0.2.1]>", "<a..b@c.d>", "<a@b..c>", "<<<", "",
])
def test_the_fast_address_reader_answers_as_aiosmtpd(arg):
    """_DoorSMTP reads plain <local@domain> with a regex; everything it answers equals aiosmtpd's reading."""
    mine, theirs = _DoorSMTP(object(), hostname="x")._getaddr(arg), SMTP(object(), hostname="x")._getaddr(arg)
    assert mine[0] == theirs[0]
    assert (mine[1] or "").split() == (theirs[1] or "").split() and bool(mine[1]) == bool(theirs[1])


# ------------------------------------------------------------------ submission


def test_submission_needs_a_login_and_the_sender_it_owns(org, door):
    """AUTH PLAIN/LOGIN without TLS (loopback sandbox); MAIL FROM must be the user (553 5.7.1)."""
    with client(door.submission_port) as smtp:
        smtp.ehlo()
        assert set(smtp.esmtp_features["auth"].split()) == {"LOGIN", "PLAIN"}
        assert smtp.docmd("MAIL FROM:<alice@example.com>")[0] == 530
        with pytest.raises(smtplib.SMTPAuthenticationError) as bad:
            smtp.login("alice@example.com", "wrong")
        assert bad.value.smtp_code == 535
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("finance@example.com", DEFAULT_PASSWORD)  # a group is not a user
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("nobody@example.com", DEFAULT_PASSWORD)
        smtp.login("Alice@Example.com", DEFAULT_PASSWORD)
        with pytest.raises(smtplib.SMTPSenderRefused) as not_hers:
            smtp.sendmail("bob@example.com", ["x@example.net"], mail(frm="bob@example.com"))
        assert not_hers.value.smtp_code == 553 and not_hers.value.smtp_error.startswith(b"5.7.1")
    door.set_password("bob@example.com", "b0b-secret")
    with client(door.submission_port) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("bob@example.com", DEFAULT_PASSWORD)
        smtp.login("bob@example.com", "b0b-secret")
    assert door.stats["transactions"] == 0 and door.stats["failed_logins"] >= 4


def test_submission_goes_through_the_outbound_rules(org, door):
    """DATA on the submission port is org.send: outbound rules, the outbox, internal mailboxes."""
    org.rules = RuleSet([Rule.outbound("drop-phish", "DROP", recipients="phish.example.net")])
    raw = mail(frm="Alice <alice@example.com>", to="z@example.net, y@phish.example.net, bob@example.com")
    with client(door.submission_port) as smtp:
        smtp.login("alice@example.com", DEFAULT_PASSWORD)
        assert smtp.sendmail("alice@example.com", ["z@example.net", "y@phish.example.net", "bob@example.com"],
                             raw) == {}
    result = door.transactions[-1].result
    assert result.direction == "OUTBOUND" and door.transactions[-1].port == "submission"
    assert result.outcomes == {"z@example.net": "sent", "y@phish.example.net": "dropped", "bob@example.com": "sent"}
    assert [(o.recipient, o.via, o.content) for o in org.outbox] == [("z@example.net", "internet", raw)]
    assert org.mailbox("bob@example.com").inbox[0].content == raw


# ------------------------------------------------------------------ threads, ports, network


def test_a_slow_function_does_not_hold_up_other_sessions_commands(org, door, deploy):
    """Routing runs off the event loop: while one DATA waits for a function, another session is answered."""
    org.rules = sync_rule(deploy(respond(DEFAULT_ALL, sleep=1.5), "slow"))
    done = threading.Event()

    def send_slowly() -> None:
        with client(door.port) as smtp:
            smtp.sendmail("carlos@example.org", ["alice@example.com"], mail())
        done.set()

    sender = threading.Thread(target=send_slowly)
    sender.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(  # the slow DATA is being routed
            r["event"]["eventName"] == "ORGANIZATION_EMAIL_RECEIVED" for r in list(org.log.records)):
        time.sleep(0.02)
    started = time.monotonic()
    with client(door.port) as other:
        assert other.ehlo()[0] == 250 and other.mail("dave@example.org")[0] == 250
    quick = time.monotonic() - started
    still_routing = not done.is_set()
    sender.join(20)
    assert still_routing and quick < 1.0
    assert door.transactions[-1].accepted


def test_stop_frees_the_port_and_start_needs_a_running_sandbox(workmail_sandbox, org):
    door = SmtpDoor(workmail_sandbox, port=0, submission_port=0).start()
    assert door.running and door.port and door.submission_port and door.port != door.submission_port
    ports = (door.port, door.submission_port)
    door.stop()
    door.stop()  # idempotent
    assert not door.running
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))  # free again
    with SmtpDoor(workmail_sandbox, port=ports[0]) as same_port, client(same_port.port) as smtp:
        assert smtp.noop()[0] == 250
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SandboxError, match="cannot listen"):
            SmtpDoor(workmail_sandbox, port=taken.getsockname()[1]).start()
    workmail_sandbox.stop()
    with pytest.raises(SandboxError, match="not running"):
        SmtpDoor(workmail_sandbox, port=0).start()


def test_only_loopback_unless_allowed(workmail_sandbox):
    """The network guard allows loopback; a door on other interfaces must be asked for, and warns."""
    for host in ("0.0.0.0", "", "192.0.2.10", "::"):
        with pytest.raises(SandboxError, match="loopback only"):
            SmtpDoor(workmail_sandbox, host=host)
    with pytest.warns(UserWarning, match="any machine that reaches it"):
        remote = SmtpDoor(workmail_sandbox, host="0.0.0.0", port=0, allow_remote=True)
    assert not remote.running  # never started here
    assert SmtpDoor(workmail_sandbox, host="localhost").host == "127.0.0.1"
    assert SmtpDoor(workmail_sandbox, host="::1").host == "::1"
