"""The MIME rules PutRawMessageContent applies (workmail_sandbox.mail.replacement).

Source of the rule list: the API reference of ``RawMessageContent`` (and the
same text in botocore's workmailmessageflow model): "every part of a multipart
message well-formed; attachment types that SES accepts; non-7-bit content
encoded; no line over 1,000 characters including CRLF (RFC 5321); all required
headers present; immutable headers unchanged; headers that must be unique
appear once". Pure tests: no moto.
"""

from __future__ import annotations

import email.policy
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmail_sandbox.mail import replacement as replacement_module
from workmail_sandbox.mail.replacement import check_message, check_replacement

HEAD = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: bob@example.org\r\n"
    b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
    b"Message-ID: <m1@example.com>\r\n"
    b"Subject: Quarterly numbers\r\n"
    b"MIME-Version: 1.0\r\n"
)
PLAIN = HEAD + b"Content-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob,\r\nsee you.\r\n"


def multipart(*parts: bytes, boundary: bytes = b"b1", close: bool = True, head: bytes = HEAD) -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    if close:
        body += b"--" + boundary + b"--\r\n"
    return head + b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n' + body


TEXT_PART = b"Content-Type: text/plain\r\n\r\nthe body"


def attachment(filename: str) -> bytes:
    return (
        b"Content-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="' + filename.encode() + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nAAECAw=="
    )


# ---------------------------------------------------------------- accepted


def test_unchanged_message_is_accepted():
    """An untouched message passes every rule."""
    assert check_replacement(PLAIN, PLAIN) == []


def test_edited_subject_is_accepted():
    """AWS's own example edits the Subject (update-with-lambda.md; hello-world app.py)."""
    new = PLAIN.replace(b"Subject: Quarterly numbers", b"Subject: [Hello World!] Quarterly numbers")
    assert check_replacement(PLAIN, new) == []


def test_added_disclaimer_part_is_accepted():
    """The update-email template appends a disclaimer to the body."""
    new = multipart(TEXT_PART, b"Content-Type: text/plain\r\n\r\nThis mail came from outside.")
    assert check_replacement(PLAIN, new) == []


def test_python_round_trip_of_the_hello_world_edit_is_accepted():
    """hello-world app.py: parse, replace the Subject, serialise with as_bytes()."""
    msg = email.message_from_bytes(PLAIN, policy=email.policy.default)
    subject = msg["Subject"]
    del msg["Subject"]
    msg["Subject"] = f"[Hello World!] {subject}"
    assert check_replacement(PLAIN, msg.as_bytes()) == []


# ------------------------------------------------------------ line length


def test_line_of_exactly_1000_characters_with_crlf_is_accepted():
    """RFC 5321 4.5.3.1.6: at most 1000 octets including CRLF (998 + CRLF)."""
    new = PLAIN.replace(b"see you.", b"x" * 998)
    assert check_message(new) == []


def test_line_of_1001_characters_is_rejected_naming_the_line():
    """RFC 5321 4.5.3.1.6 / API reference: no line over 1,000 characters including CRLF."""
    new = PLAIN.replace(b"see you.", b"x" * 999)
    problems = check_message(new)
    assert len(problems) == 1
    assert problems[0].startswith("line 10: 1001 characters including CRLF")
    assert "RFC 5321 4.5.3.1.6" in problems[0]


def test_bare_lf_lines_are_counted_as_if_they_ended_in_crlf():
    """A line sent over SMTP always ends in CRLF, so LF-only files count 2 for the ending."""
    new = PLAIN.replace(b"\r\n", b"\n").replace(b"see you.", b"x" * 999)
    assert [p.split(":")[0] for p in check_message(new)] == ["line 10"]


def test_many_long_lines_are_summarised():
    """Each offending line is named up to three, then the rest are counted."""
    new = PLAIN.replace(b"see you.", b"\r\n".join([b"y" * 1200] * 6))
    problems = check_message(new)
    assert len(problems) == 4
    assert problems[3].startswith("lines 13, 14, 15: 3 more lines over 1000")


def test_long_header_line_is_rejected():
    """The 1,000-character limit holds for header lines too."""
    new = PLAIN.replace(b"Subject: Quarterly numbers", b"Subject: " + b"s" * 1000)
    assert any(p.startswith("line 5:") for p in check_message(new))


# ------------------------------------------------------------ 8-bit content


def test_raw_8bit_header_is_rejected():
    """API reference: non-7-bit content must be encoded; in headers as RFC 2047 words."""
    new = PLAIN.replace(b"Subject: Quarterly numbers", b"Subject: Caf\xc3\xa9")
    assert check_message(new) == [
        "header Subject: unencoded 8-bit bytes; non-7-bit content must be encoded "
        "(in headers as RFC 2047 encoded words, RFC 5322 2.2)"
    ]


def test_encoded_word_header_is_accepted():
    """RFC 2047 encoded words are 7-bit: accepted."""
    new = PLAIN.replace(b"Subject: Quarterly numbers", b"Subject: =?utf-8?q?Caf=C3=A9?=")
    assert check_message(new) == []


def test_8bit_body_without_transfer_encoding_is_rejected():
    """API reference: non-7-bit content encoded; no Content-Transfer-Encoding means 7bit (RFC 2045)."""
    new = PLAIN.replace(b"see you.", b"\xc3\xa0 bient\xc3\xb4t")
    assert check_message(new) == [
        "message (text/plain): holds 8-bit bytes but has no Content-Transfer-Encoding (7bit); "
        "non-7-bit content must be encoded (Content-Transfer-Encoding: quoted-printable or base64)"
    ]


def test_8bit_body_declared_7bit_in_a_part_is_rejected_naming_the_part():
    """A part that declares 7bit must hold 7-bit bytes."""
    new = multipart(TEXT_PART, b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 7bit\r\n\r\nna\xc3\xafve")
    assert check_message(new) == [
        "part 2 (text/plain): holds 8-bit bytes but declares 7bit; non-7-bit content must be encoded "
        "(Content-Transfer-Encoding: quoted-printable or base64)"
    ]


@pytest.mark.parametrize("cte", [b"8bit", b"quoted-printable", b"base64"])
def test_8bit_body_declared_8bit_or_encoded_is_accepted(cte):
    """Assumption (documented): parts declared 8bit are accepted (SES takes 8BITMIME); encoded ones are 7-bit."""
    body = b"na\xc3\xafve" if cte == b"8bit" else (b"na=C3=AFve" if cte == b"quoted-printable" else b"bmHDr3Zl")
    new = multipart(TEXT_PART, b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " + cte + b"\r\n\r\n" + body)
    assert check_message(new) == []


def test_8bit_header_in_an_attached_message_is_rejected():
    """Headers of an attached message (message/rfc822) must be 7-bit too."""
    inner = b"Content-Type: message/rfc822\r\n\r\nFrom: q@example.net\r\nSubject: \xc3\xa9t\xc3\xa9\r\n\r\nplain body"
    problems = check_message(multipart(TEXT_PART, inner))
    assert problems == [
        "part 2.1: header Subject: unencoded 8-bit bytes; non-7-bit content must be encoded "
        "(in headers as RFC 2047 encoded words, RFC 5322 2.2)"
    ]


# ------------------------------------------------------------ required and unique headers


@pytest.mark.parametrize("name", [b"Date", b"From"])
def test_missing_required_header_is_rejected(name):
    """Assumption (documented): RFC 5322 3.6 requires Date and From; AWS lists none."""
    lines = [line for line in PLAIN.split(b"\r\n") if not line.startswith(name + b":")]
    problems = check_message(b"\r\n".join(lines))
    assert problems == [f"header {name.decode()}: missing; it is required (RFC 5322 3.6)"]


def test_missing_optional_header_is_accepted():
    """To, Subject and Message-ID are optional in RFC 5322 3.6."""
    lines = [line for line in PLAIN.split(b"\r\n") if not line.startswith((b"To:", b"Subject:", b"Message-ID:"))]
    assert check_message(b"\r\n".join(lines)) == []


@pytest.mark.parametrize("name", replacement_module.ONCE_ONLY_HEADERS)
def test_repeated_unique_header_is_rejected(name):
    """API reference: headers that must be unique appear once (RFC 5322 3.6 table)."""
    extra = f"{name}: <x@example.com>\r\n".encode()
    new = PLAIN.replace(b"MIME-Version: 1.0\r\n", b"MIME-Version: 1.0\r\n" + extra)
    if name.encode() + b":" not in PLAIN:
        new = new.replace(b"MIME-Version: 1.0\r\n", b"MIME-Version: 1.0\r\n" + extra)
    problems = check_message(new)
    assert f"header {name}: appears 2 times; it must be unique (RFC 5322 3.6 allows it once)" in problems


def test_repeated_received_header_is_accepted():
    """Trace fields such as Received may repeat (RFC 5322 3.6.7)."""
    new = b"Received: from a by b\r\nReceived: from c by d\r\n" + PLAIN
    assert check_message(new) == []


# ------------------------------------------------------------ immutable headers


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        (b"Message-ID", b"<m1@example.com>", b"<m2@example.com>"),
        (b"Date", b"Mon, 01 Jan 2024 10:00:00 +0000", b"Tue, 02 Jan 2024 10:00:00 +0000"),
        (b"From", b"Alice <alice@example.com>", b"Mallory <mallory@example.com>"),
    ],
)
def test_changed_immutable_header_is_rejected(name, old, new):
    """API reference: immutable headers unchanged. The list is an assumption (documented)."""
    replacement = PLAIN.replace(name + b": " + old, name + b": " + new)
    assert check_replacement(PLAIN, replacement) == [
        f"header {name.decode()}: changed from {old.decode()!r} to {new.decode()!r}; it is immutable"
    ]


def test_removed_immutable_header_is_rejected():
    """Removing Message-ID changes it too."""
    new = PLAIN.replace(b"Message-ID: <m1@example.com>\r\n", b"")
    assert check_replacement(PLAIN, new) == [
        "header Message-ID: removed; it is immutable and must stay '<m1@example.com>'"
    ]


def test_sender_and_return_path_are_immutable():
    """Assumption (documented): Sender and Return-Path identify the message's origin."""
    original = b"Return-Path: <bounce@example.com>\r\nSender: list@example.com\r\n" + PLAIN
    new = original.replace(b"bounce@", b"other@").replace(b"list@", b"else@")
    problems = check_replacement(original, new)
    assert [p.split(":")[0] for p in problems] == ["header Sender", "header Return-Path"]


def test_immutable_header_refolded_or_reencoded_is_unchanged():
    """Values are compared decoded and unfolded: re-serialising by Python is no change."""
    original = PLAIN.replace(b"From: Alice <alice@example.com>", b"From: =?utf-8?q?Al=C3=AFce?= <alice@example.com>")
    new = original.replace(b"From: =?utf-8?q?Al=C3=AFce?= <alice@example.com>", b"From: =?utf-8?b?QWzDr2Nl?=\r\n <alice@example.com>")
    assert check_replacement(original, new) == []


def test_adding_a_header_the_original_lacked_is_allowed():
    """Inbound mail without Date may get one: the immutable rule protects only present headers."""
    original = PLAIN.replace(b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n", b"")
    assert check_message(original) == ["header Date: missing; it is required (RFC 5322 3.6)"]
    assert check_replacement(original, PLAIN) == []


def test_other_headers_may_change():
    """To, Subject and custom X- headers are not immutable."""
    new = PLAIN.replace(b"To: bob@example.org", b"To: carol@example.org").replace(
        b"MIME-Version", b"X-Tag: external\r\nMIME-Version"
    )
    assert check_replacement(PLAIN, new) == []


# ------------------------------------------------------------ multipart well-formed


def test_missing_closing_boundary_is_rejected():
    """API reference: every part of a multipart message well-formed (RFC 2046 5.1.1)."""
    assert check_message(multipart(TEXT_PART, close=False)) == [
        "message (multipart/mixed): not a well-formed multipart: its closing boundary line (--boundary--) is missing"
    ]


def test_missing_start_boundary_is_rejected():
    """A boundary that never appears in the body: the parts cannot be split."""
    new = HEAD + b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\njust text\r\n'
    assert check_message(new) == [
        "message (multipart/mixed): not a well-formed multipart: its boundary never appears in the body "
        "(start boundary not found)",
        "message (multipart/mixed): not a well-formed multipart: it is declared multipart but has no parts",
    ]


def test_multipart_without_boundary_parameter_is_rejected():
    """RFC 2046 5.1.1: the boundary parameter is required."""
    new = HEAD + b"Content-Type: multipart/mixed\r\n\r\n--b1\r\n" + TEXT_PART + b"\r\n--b1--\r\n"
    problems = check_message(new)
    assert problems[0] == "message (multipart/mixed): not a well-formed multipart: its Content-Type has no boundary parameter"


def test_nested_broken_multipart_names_the_part():
    """A broken inner multipart is named by its section number."""
    inner = b'Content-Type: multipart/alternative; boundary="b2"\r\n\r\n--b2\r\n' + TEXT_PART + b"\r\n"
    problems = check_message(multipart(inner, TEXT_PART))
    assert any(p.startswith("part 1 (multipart/alternative): not a well-formed multipart") for p in problems)


def test_multipart_with_base64_transfer_encoding_is_rejected():
    """RFC 2045 6.4: a multipart's transfer encoding must be 7bit, 8bit or binary."""
    new = multipart(TEXT_PART).replace(b"Content-Type: multipart/mixed", b"Content-Transfer-Encoding: base64\r\nContent-Type: multipart/mixed")
    assert any("other than 7bit, 8bit or binary" in p for p in check_message(new))


# ------------------------------------------------------------ attachment types


@pytest.mark.parametrize("filename", ["setup.exe", "run.BAT", "script.js", "tool.ps1", "x.vsmacros", "a.b.scr"])
def test_unsupported_attachment_type_is_rejected(filename):
    """API reference: attachment types SES accepts (SES 'Unsupported attachment types' list)."""
    ext = filename.rsplit(".", 1)[1].lower()
    assert check_message(multipart(TEXT_PART, attachment(filename))) == [
        f"part 2 (application/octet-stream): attachment {filename!r} has the extension .{ext}, "
        "which Amazon SES does not accept (SES unsupported attachment types)"
    ]


@pytest.mark.parametrize("filename", ["report.pdf", "photo.jpg", "data.csv", "archive.zip", "exe", "notes.exe.txt"])
def test_supported_attachment_type_is_accepted(filename):
    """Common types are accepted; only the last extension counts."""
    assert check_message(multipart(TEXT_PART, attachment(filename))) == []


def test_attachment_named_only_in_content_type_is_checked():
    """Older clients name the file in Content-Type's name parameter."""
    part = b'Content-Type: application/octet-stream; name="virus.com"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA'
    assert [p.split(":")[0] for p in check_message(multipart(TEXT_PART, part))] == ["part 2 (application/octet-stream)"]


def test_unsupported_extension_list_matches_ses():
    """The SES list as documented, spot-checked, and nothing common on it."""
    exts = replacement_module.UNSUPPORTED_ATTACHMENT_EXTENSIONS
    assert len(exts) == 90
    assert {"ade", "exe", "msh2xml", "xnk", "gadget", "vsmacros"} <= exts
    assert not {"pdf", "zip", "doc", "docx", "txt", "png"} & exts


# ------------------------------------------------------------ not a message, order


@pytest.mark.parametrize("content", [b"", b'{"messageId": "x"}', b"\r\nno headers"])
def test_content_that_is_not_a_message_gives_one_problem(content):
    """What is not MIME at all is rejected as such, without the other rules."""
    problems = check_replacement(PLAIN, content)
    assert len(problems) == 1 and problems[0].startswith("content: not a MIME message")


def test_non_bytes_content_is_a_problem():
    assert check_message("From: a@b\r\n\r\nx") == ["content: expected the raw message bytes, got str"]  # type: ignore[arg-type]


def test_original_that_is_not_mail_skips_the_immutable_rule():
    """The original is read only for immutable headers."""
    assert check_replacement(b"", PLAIN) == []


def test_problems_come_in_rule_order():
    """Line length, 8-bit headers, required, unique, immutable, multipart, 8-bit bodies, attachments."""
    head = HEAD.replace(b"Message-ID: <m1@example.com>", b"Message-ID: <zz@example.com>").replace(
        b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n", b"Subject: again\r\nX-Name: \xc3\xa9\r\n"
    )
    new = multipart(b"Content-Type: text/plain\r\n\r\n" + b"l" * 1200 + b"\xc3\xa9", attachment("a.exe"), close=False, head=head)
    kinds = [p.split(":")[0] for p in check_replacement(PLAIN, new)]
    assert kinds == [
        "line 13",
        "header X-Name",
        "header Date",
        "header Subject",
        "header Message-ID",
        "header Date",
        "message (multipart/mixed)",
        "part 1 (text/plain)",
        "part 2 (application/octet-stream)",
    ]


# ------------------------------------------------------------ property


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300),
    body=st.text(st.characters(blacklist_categories=("Cs",)), max_size=3000),
)
def test_messages_python_builds_pass_every_rule(subject, body):
    """A message built with email.policy.default (what the templates do) passes: Python folds
    headers, encodes non-ASCII as RFC 2047 words and picks a body encoding that keeps lines short."""
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.com>"
    msg["To"] = "bob@example.org"
    msg["Date"] = "Mon, 01 Jan 2024 10:00:00 +0000"
    msg["Message-ID"] = "<m1@example.com>"
    msg["Subject"] = subject
    msg.set_content(body)
    raw = msg.as_bytes(policy=email.policy.SMTP)
    problems = check_replacement(PLAIN, raw)
    assert problems == [], problems
