"""Tests for workmail_sandbox.mail: reading messages, addresses and parts (no AWS)."""

from __future__ import annotations

import base64
import email
import email.policy
import mailbox
import time
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmail_sandbox.errors import MessageParseError, WorkMailSandboxError
from workmail_sandbox.mail import (
    MAX_MESSAGE_BYTES,
    ONCE_ONLY_HEADERS,
    ParsedMessage,
    Part,
    domain_of,
    in_domains,
    iter_messages,
    normalize_address,
    parse_message,
    read_eml,
    unique_addresses,
)

FIXTURES = Path(__file__).parent / "fixtures" / "mime"

BASE_HEADERS = (
    b"From: ana@example.com\r\n"
    b"To: bob@example.com\r\n"
    b"Date: Tue, 03 Sep 2024 09:15:00 +0000\r\n"
    b"Message-ID: <m1@example.com>\r\n"
)


def msg(extra: bytes = b"", body: bytes = b"Hello.\r\n", base: bytes = BASE_HEADERS) -> bytes:
    """A small valid message with ``extra`` header lines added."""
    return base + extra + b"\r\n" + body


def read_everything(m: ParsedMessage) -> None:
    """Touch every accessor, as a notebook table or an event builder would."""
    for name in (
        "subject",
        "from_addresses",
        "sender_address",
        "on_behalf",
        "to",
        "cc",
        "bcc",
        "recipients",
        "message_id",
        "date",
        "header_items",
        "resent",
        "spam_verdict",
        "virus_verdict",
        "defects",
    ):
        getattr(m, name)
    m.summary()
    repr(m)
    if not m.headers_only:
        for part in m.parts:
            part.payload()
            part.text()
        _ = (m.attachments, m.text_body, m.html_body)


# ------------------------------------------------------------------ subjects


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (b"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Grüße aus Köln"),
        (b"=?iso-8859-1?q?caf=E9_cr=E8me?=", "café crème"),
        (b"=?ISO-8859-1?B?Y2Fm6Q==?=", "café"),
        (b"=?utf-8?b?5Lya6K2w44Gu6K2w6aGM?=", "会議の議題"),
        (b"=?utf-8?q?=F0=9F=8E=89_launch?=", "🎉 launch"),
        (b"Re: =?utf-8?q?r=C3=A9union?= today", "Re: réunion today"),
        # two encoded words folded onto two lines: the whitespace between them is dropped
        (b"=?utf-8?q?Quarterly_?=\r\n =?utf-8?q?report?=", "Quarterly report"),
        (b"plain subject\r\n folded", "plain subject folded"),
    ],
)
def test_subject_decodes_rfc2047_and_unfolds(encoded: bytes, expected: str) -> None:
    m = parse_message(msg(b"Subject: " + encoded + b"\r\n"))
    assert m.subject == expected
    assert m.header("subject") == expected
    assert ("Subject", expected) in m.header_items


def test_subject_is_empty_string_when_absent() -> None:
    assert parse_message(msg()).subject == ""


# ------------------------------------------------------------- on behalf of


def test_sender_other_than_from_is_on_behalf() -> None:
    m = parse_message(msg(b"Sender: Assistant <Asst@Example.com>\r\n"))
    assert m.sender_address == "asst@example.com"
    assert m.on_behalf is True


def test_sender_equal_to_from_is_not_on_behalf() -> None:
    m = parse_message(msg(b"Sender: <ANA@example.COM>\r\n"))
    assert m.sender_address is None
    assert m.on_behalf is False


def test_no_sender_is_not_on_behalf() -> None:
    m = parse_message(msg())
    assert m.sender_address is None
    assert m.on_behalf is False


def test_sender_among_several_authors_is_kept_but_not_on_behalf() -> None:
    base = BASE_HEADERS.replace(b"From: ana@example.com", b"From: ana@example.com, cy@example.com")
    m = parse_message(msg(b"Sender: cy@example.com\r\n", base=base))
    assert m.from_addresses == ["ana@example.com", "cy@example.com"]
    assert m.sender_address == "cy@example.com"
    assert m.on_behalf is False


# ---------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("given_address", "expected"),
    [
        ("Jane@Example.COM", "jane@example.com"),
        ("  <Jane@Example.com>  ", "jane@example.com"),
        ("Jane Doe <Jane.Doe@EXAMPLE.com>", "jane.doe@example.com"),
        ('"odd@local"@Example.com', '"odd@local"@example.com'),
    ],
)
def test_normalize_address(given_address: str, expected: str) -> None:
    assert normalize_address(given_address) == expected


@pytest.mark.parametrize("bad", ["", "jane", "<>", "@example.com", "jane@", "Jane <jane>"])
def test_normalize_address_rejects_text_without_local_at_domain(bad: str) -> None:
    with pytest.raises(MessageParseError) as info:
        normalize_address(bad)
    assert "not an email address" in info.value.problem
    assert info.value.fix and "local@domain" in info.value.fix


def test_normalize_address_rejects_non_str() -> None:
    with pytest.raises(MessageParseError, match="must be a str"):
        normalize_address(42)  # type: ignore[arg-type]


def test_domain_of() -> None:
    assert domain_of("Jane <jane@Mail.Example.COM>") == "mail.example.com"


def test_in_domains_is_exact_and_case_insensitive() -> None:
    domains = ["Example.com", "example.org"]
    assert in_domains("bob@EXAMPLE.COM", domains)
    assert in_domains("x@example.org", domains)
    assert not in_domains("bob@eu.example.com", domains)  # subdomains are separate mail domains
    assert not in_domains("bob@example.com.evil.net", domains)
    assert not in_domains("bob@notexample.com", domains)
    assert in_domains("bob@example.com", "example.com")  # a single str is one domain, not letters
    assert in_domains("bob@example.com", ["@example.com"])
    assert not in_domains("bob@example.com", [])


def test_unique_addresses_keeps_first_appearance() -> None:
    got = unique_addresses(["B@x.com", "a@x.com", "Bee <b@X.COM>", "a@x.com", "c@x.com"])
    assert got == ["b@x.com", "a@x.com", "c@x.com"]


def test_recipients_normalized_and_deduplicated_across_to_cc_bcc() -> None:
    base = (
        b"From: ana@example.com\r\n"
        b"Date: Tue, 03 Sep 2024 09:15:00 +0000\r\n"
        b'To: "Bob B." <Bob@Example.com>, carol@example.net\r\n'
        b"Cc: =?utf-8?q?J=C3=BCrgen?= <JURGEN@example.com>, bob@example.com\r\n"
        b"Bcc: Carol <CAROL@EXAMPLE.NET>, dave@example.com\r\n"
    )
    m = parse_message(base + b"\r\nbody")
    assert m.to == ["bob@example.com", "carol@example.net"]
    assert m.cc == ["jurgen@example.com", "bob@example.com"]
    assert m.bcc == ["carol@example.net", "dave@example.com"]
    assert m.recipients == ["bob@example.com", "carol@example.net", "jurgen@example.com", "dave@example.com"]
    assert m.defects == []


def test_group_syntax() -> None:
    m = parse_message(
        msg(b"Cc: Team: Ann@example.com, ben@example.com;, solo@example.com\r\n").replace(
            b"To: bob@example.com", b"To: undisclosed-recipients:;"
        )
    )
    assert m.to == []
    assert m.cc == ["ann@example.com", "ben@example.com", "solo@example.com"]
    assert m.recipients == m.cc
    assert m.defects == []


def test_unparsable_address_is_skipped_and_recorded() -> None:
    m = parse_message(msg().replace(b"To: bob@example.com", b"To: bob@example.com, root, <<>>"))
    assert m.to == ["bob@example.com"]
    assert any("'root' is not an address" in d for d in m.defects)


# ----------------------------------------------------------- other headers


def test_resent_detection() -> None:
    resent = b"Resent-From: fwd@example.com\r\nResent-Date: Tue, 03 Sep 2024 10:00:00 +0000\r\n"
    assert parse_message(msg(resent)).resent
    assert parse_message(msg(b"resent-to: x@example.com\r\n")).resent
    assert not parse_message(msg(b"X-Resent: no\r\n")).resent


def test_ses_verdicts_upper_cased() -> None:
    m = parse_message(msg(b"X-SES-Spam-Verdict: pass\r\nx-ses-virus-verdict:  Gray \r\n"))
    assert m.spam_verdict == "PASS"
    assert m.virus_verdict == "GRAY"
    plain = parse_message(msg())
    assert plain.spam_verdict is None and plain.virus_verdict is None


def test_message_id_date_and_header_lookup() -> None:
    m = parse_message(msg(b"Received: from a\r\nReceived: from b\r\n"))
    assert m.message_id == "<m1@example.com>"
    assert m.date is not None and (m.date.year, m.date.hour, m.date.utcoffset()) == (2024, 9, m.date.utcoffset())
    assert m.header("RECEIVED") == "from a"
    assert m.header_values("received") == ["from a", "from b"]
    assert m.header("X-Missing") is None
    assert [name for name, _ in m.header_items][:4] == ["From", "To", "Date", "Message-ID"]


def test_bad_date_is_none_and_a_defect() -> None:
    m = parse_message(msg().replace(b"Tue, 03 Sep 2024 09:15:00 +0000", b"the day after tomorrow"))
    assert m.date is None
    assert any(d.startswith("header Date:") for d in m.defects)


# -------------------------------------------------------------------- parts


def test_multipart_mixed_with_alternative_related_and_attachments() -> None:
    m = read_eml(FIXTURES / "multipart_mixed.eml")
    assert m.subject == "Quarterly report – Q3"
    assert [(p.section, p.content_type) for p in m.parts] == [
        ("1.1.1", "text/plain"),
        ("1.1.2", "text/html"),
        ("1.2", "image/png"),
        ("2", "application/pdf"),
        ("3", "message/rfc822"),
    ]
    assert m.text_body == "Hello Bob,\n\nThe Q3 report is attached – see the chart."
    assert m.html_body is not None and m.html_body.startswith("<p>Hello Bob,</p>")
    image, pdf, forwarded = m.parts[2:]
    assert not image.is_attachment  # inline with a Content-ID: part of the HTML body
    assert image.content_id == "<chart1@example.com>"
    assert image.payload().startswith(b"\x89PNG")
    assert pdf.is_attachment and pdf.filename == "Résumé Q3.pdf"  # RFC 2231 filename*
    assert pdf.payload().startswith(b"%PDF-1.4") and pdf.size == len(pdf.payload())
    assert forwarded.is_attachment and b"Subject: forwarded" in forwarded.payload()
    assert m.attachments == [pdf, forwarded]
    assert m.parts[0].charset == "utf-8"
    assert m.defects == []
    assert m.summary() == {
        "message_id": "<q3-report-1@example.com>",
        "from": "ana.lima@example.com",
        "sender": None,
        "subject": "Quarterly report – Q3",
        "recipients": 2,
        "attachments": 2,
        "size": len((FIXTURES / "multipart_mixed.eml").read_bytes()),
        "defects": 0,
    }


def test_single_part_message_is_one_text_part() -> None:
    m = parse_message(msg())
    assert m.parts == [Part("text/plain", None, 8, False, None, None, section="1")]
    assert m.text_body == "Hello.\n"
    assert m.html_body is None
    assert m.attachments == []


def test_named_part_without_disposition_is_an_attachment() -> None:
    body = (
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: application/octet-stream; name=data.bin\r\n\r\n\x00\x01\r\n--b--\r\n"
    )
    m = parse_message(msg(b'Content-Type: multipart/mixed; boundary="b"\r\n', body))
    assert [p.filename for p in m.attachments] == ["data.bin"]


def test_latin1_body_decodes() -> None:
    m = parse_message(msg(b"Content-Type: text/plain; charset=iso-8859-1\r\n", b"caf\xe9\r\n"))
    assert m.text_body == "café\n"
    assert m.defects == []


def test_invalid_utf8_body_gets_replacement_characters() -> None:
    m = parse_message(msg(b"Content-Type: text/plain; charset=utf-8\r\n", b"ok \xff\xfe end"))
    assert m.text_body == "ok \ufffd\ufffd end"


def test_undeclared_8bit_body_is_read_as_utf8() -> None:
    m = parse_message(msg(b"", "Grüße".encode()))
    assert m.text_body == "Grüße"


def test_unknown_charset_body_does_not_crash() -> None:
    raw = msg(b"Content-Type: text/plain; charset=x-klingon\r\n", b"na\xc3\xafve \xff")
    m = parse_message(raw)
    with pytest.raises(LookupError):  # the stdlib quirk this module hides
        m.message.get_content()
    assert m.text_body == "naïve \ufffd"
    assert any("unknown charset 'x-klingon'" in d for d in m.defects)


@pytest.mark.parametrize("charset", ["base64", "rot13", "zlib"])
def test_charset_naming_a_bytes_codec_is_treated_as_unknown(charset: str) -> None:
    m = parse_message(msg(f"Content-Type: text/plain; charset={charset}\r\n".encode(), b"plain words"))
    assert m.text_body == "plain words"
    assert any(f"unknown charset {charset!r}" in d for d in m.defects)


def test_utf16_and_iso2022jp_bodies() -> None:
    body = "会議".encode("iso-2022-jp")
    m = parse_message(msg(b"Content-Type: text/plain; charset=ISO-2022-JP\r\n", body))
    assert m.text_body == "会議"
    m = parse_message(
        msg(
            b"Content-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n",
            base64.b64encode("héllo".encode("utf-16")),
        )
    )
    assert m.text_body == "héllo"


def test_broken_base64_is_a_defect_not_an_error() -> None:
    body = (
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!not*base64=x\r\n--b--\r\n"
    )
    m = parse_message(msg(b'Content-Type: multipart/mixed; boundary="b"\r\n', body))
    assert m.parts[0].size >= 0
    assert any("base64" in d for d in m.defects)


# ----------------------------------------------------------------- defects


def test_clean_message_has_no_defects() -> None:
    assert parse_message(msg(b"Subject: hi\r\n")).defects == []


def test_long_header_line_is_a_defect() -> None:
    m = parse_message(msg(b"X-Long: " + b"a" * 1000 + b"\r\n"))
    assert any("X-Long" in d and "998" in d and "RFC 5322 2.1.1" in d for d in m.defects)
    assert not parse_message(msg(b"X-Ok: " + b"a" * (998 - 6) + b"\r\n")).defects


@pytest.mark.parametrize("name", [b"Date", b"From"])
def test_missing_required_field_is_a_defect(name: bytes) -> None:
    lines = [ln for ln in BASE_HEADERS.split(b"\r\n") if ln and not ln.startswith(name + b":")]
    m = parse_message(msg(base=b"\r\n".join(lines) + b"\r\n"))
    assert f"missing {name.decode()} header (required by RFC 5322 3.6)" in m.defects


@pytest.mark.parametrize("name", ONCE_ONLY_HEADERS)
def test_duplicated_once_only_field_is_a_defect(name: str) -> None:
    value = {"Date": "Tue, 03 Sep 2024 09:15:00 +0000", "Message-ID": "<x@example.com>"}.get(
        name, "<dup@example.com>" if name in ("In-Reply-To", "References") else "dup@example.com"
    )
    line = f"{name}: {value}\r\n".encode()
    m = parse_message(msg(line + line))
    assert any(d.startswith(f"{name} header appears") and "RFC 5322 3.6" in d for d in m.defects), m.defects


def test_repeated_trace_fields_are_fine() -> None:
    m = parse_message(msg(b"Received: a\r\nReceived: b\r\nComments: x\r\nComments: y\r\n"))
    assert m.defects == []


def test_missing_closing_boundary_is_a_defect_in_both_modes() -> None:
    body = b"--b\r\nContent-Type: text/plain\r\n\r\nnever closed\r\n"
    raw = msg(b'Content-Type: multipart/mixed; boundary="b"\r\n', body)
    full = parse_message(raw)
    assert full.text_body == "never closed"
    assert any("closing boundary" in d for d in full.defects)
    assert any("closing boundary" in d for d in parse_message(raw, headers_only=True).defects)


def test_nested_missing_closing_boundary_names_the_part() -> None:
    body = (
        b"--out\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n"
        b"--in\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--out--\r\n"
    )
    m = parse_message(msg(b"Content-Type: multipart/mixed; boundary=out\r\n", body))
    assert any(d.startswith("part 1 (multipart/alternative)") and "closing boundary" in d for d in m.defects)


def test_8bit_header_bytes_are_a_defect_and_still_readable() -> None:
    m = parse_message(msg(b"Subject: caf\xc3\xa9 \xff\r\n"))
    assert m.subject == "café \ufffd"  # valid UTF-8 is read (RFC 6532), the rest replaced
    assert any(d.startswith("header Subject: unencoded 8-bit bytes") for d in m.defects)


def test_fixture_with_every_header_defect() -> None:
    m = read_eml(FIXTURES / "broken.eml")
    text = "\n".join(m.defects)
    for expected in (
        "X-Long: a line is",
        "X-Raw: unencoded 8-bit",
        "missing Date",
        "From header appears 2 times",
        "Subject header appears 2 times",
        "closing boundary",
    ):
        assert expected in text
    assert m.subject == "first"
    assert m.from_addresses == ["sender@example.com", "second@example.com"]


# --------------------------------------------------- malformed, no crashes

STDLIB_CRASHERS = [  # each makes email's header parser raise on access (Python 3.11)
    b"From: =?utf-8?q??=",
    b"From: .:;?> <@(",
    b"To: <a-@)<,\t..c=<[>,<",
    b"To: \t=c:;.\xa9=",
    b"Sender: <",
    b"Cc: b -\xffa)\\,\xa9\t@",
    b'Message-ID: <(aa>"\t>(ca\\:)=:]:\t;?\xa9',
    b"Reply-To: (c) .]",
]


@pytest.mark.parametrize("line", STDLIB_CRASHERS)
def test_headers_that_crash_the_stdlib_degrade(line: bytes) -> None:
    raw = line + b"\r\nSubject: still here\r\nDate: Tue, 03 Sep 2024 09:15:00 +0000\r\n\r\nbody\r\n"
    m = parse_message(raw)
    read_everything(m)
    assert m.subject == "still here"
    assert m.text_body == "body\n"
    name = line.split(b":")[0].decode()
    assert any(name in d for d in m.defects)
    read_everything(parse_message(raw, headers_only=True))


@pytest.mark.parametrize(
    "raw",
    [
        msg(b"Content-Type: multipart/mixed\r\n", b"no boundary parameter"),
        msg(b"Content-Type: multipart/mixed; boundary=zz\r\n", b"boundary never used"),
        msg(b"Content-Type: ;;;/\r\nContent-Disposition: =?x?q?\r\n", b"x"),
        msg(b"Content-Transfer-Encoding: base64\r\n", b"@@@@"),
        msg(b"Content-Transfer-Encoding: quoted-printable\r\n", b"=ZZ=\r\n=\r\n"),
        b"From: a@example.com\r\nthis line has no colon\r\nTo: b@example.com\r\n\r\nbody",
        b"From: a@example.com\nTo: b@example.com",  # no body, no blank line, LF only
        b"From: a@example.com\r\nContent-Type: message/rfc822\r\n\r\nnot a message",
        msg(b'Content-Type: text/plain; charset=""\r\n', b"\xff"),
    ],
)
def test_malformed_messages_do_not_raise(raw: bytes) -> None:
    read_everything(parse_message(raw))
    read_everything(parse_message(raw, headers_only=True))


def test_deeply_nested_multipart_does_not_crash_with_a_traceback() -> None:
    depth = 400
    head = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(depth))
    raw = msg(b"Content-Type: multipart/mixed; boundary=b0\r\n", head + b"--b%d\r\n\r\nleaf\r\n" % depth)
    try:
        m = parse_message(raw)
    except MessageParseError:
        return
    read_everything(m)


# ------------------------------------------------------- MessageParseError


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"  \r\n\r\n", "empty"),
        (b'{"summaryVersion": "2019-07-28", "messageId": "x"}', "JSON"),
        (b"[1, 2]", "JSON"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\r\nFrom: a@example.com\r\n\r\nbody", "blank line"),
        (b"Hello Bob, this is just text\r\n", "not a 'Name: value' header"),
        (b" From: a@example.com\r\n\r\nbody", "not a 'Name: value' header"),
        ("just words, no headers", "not a 'Name: value' header"),
    ],
)
def test_not_a_message_raises_with_problem_and_fix(data: bytes | str, problem: str) -> None:
    with pytest.raises(MessageParseError) as info:
        parse_message(data)
    assert problem in info.value.problem
    assert info.value.fix
    assert isinstance(info.value, WorkMailSandboxError)


def test_str_input_error_points_to_paths() -> None:
    with pytest.raises(MessageParseError) as info:
        parse_message("data/emails/hello.eml")
    assert "read_eml" in (info.value.fix or "")


@pytest.mark.parametrize("data", [42, None, 3.5, ["From: a@b.c"]])
def test_wrong_type_raises(data: object) -> None:
    with pytest.raises(MessageParseError) as info:
        parse_message(data)  # type: ignore[arg-type]
    assert type(data).__name__ in info.value.problem
    assert info.value.fix


def test_over_size_limit_names_size_and_limit() -> None:
    raw = msg(body=b"x" * 200)
    with pytest.raises(MessageParseError) as info:
        parse_message(raw, max_bytes=100)
    assert f"{len(raw):,} bytes" in info.value.problem and "100-byte limit" in info.value.problem
    assert "max_bytes" in (info.value.fix or "")
    assert parse_message(raw, max_bytes=None).text_body


def test_default_size_limit_is_40_mib() -> None:
    assert MAX_MESSAGE_BYTES == 40 * 1024 * 1024
    with pytest.raises(MessageParseError, match="limit"):
        parse_message(BASE_HEADERS + b"\r\n" + b"x" * MAX_MESSAGE_BYTES)


def test_mbox_from_line_and_bom_are_accepted() -> None:
    m = parse_message(b"From ana@example.com Tue Sep  3 09:15:00 2024\r\n" + msg(b"Subject: s\r\n"))
    assert m.subject == "s" and m.from_addresses == ["ana@example.com"]
    assert parse_message(b"\xef\xbb\xbf" + msg(b"Subject: bom\r\n")).subject == "bom"


# ------------------------------------------------------------ input kinds


def test_str_input_is_utf8_message_text() -> None:
    m = parse_message("From: ana@example.com\nSubject: Grüße\nDate: Tue, 03 Sep 2024 09:15:00 +0000\n\nBody ü\n")
    assert m.subject == "Grüße"
    assert m.text_body == "Body ü\n"
    assert isinstance(m.raw, bytes)


def test_email_message_input_is_serialised() -> None:
    em = EmailMessage()
    em["From"] = "Ana <ana@example.com>"
    em["To"] = "bob@example.com"
    em["Subject"] = "Grüße 🎉"
    em.set_content("Hallo")
    em.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    m = parse_message(em)
    assert m.raw == em.as_bytes()
    assert m.subject == "Grüße 🎉"
    assert m.text_body == "Hallo\n"
    assert [p.filename for p in m.attachments] == ["a.pdf"]
    assert isinstance(m.message, EmailMessage) and m.message is not em  # a snapshot of the bytes


def test_compat32_message_input_gets_decoded_subject() -> None:
    old = email.message_from_bytes(msg(b"Subject: =?utf-8?q?caf=C3=A9?=\r\n"))
    assert old["Subject"] == "=?utf-8?q?caf=C3=A9?="  # what compat32 gives
    assert parse_message(old).subject == "café"


def test_path_and_bytearray_inputs(tmp_path: Path) -> None:
    path = tmp_path / "a.eml"
    path.write_bytes(msg(b"Subject: from a file\r\n"))
    assert parse_message(path).subject == "from a file"
    assert parse_message(bytearray(path.read_bytes())).subject == "from a file"
    assert read_eml(str(path)).subject == "from a file"


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"%PDF-1.4\n"), "not an email message"),
    ],
)
def test_read_eml_errors_name_the_path(tmp_path: Path, setup, problem: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "message.eml"
    setup(path)
    with pytest.raises(MessageParseError) as info:
        read_eml(path)
    assert str(path) in info.value.problem and problem in info.value.problem
    assert info.value.fix


def test_read_eml_checks_size_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.eml"
    path.write_bytes(msg(body=b"x" * 500))
    with pytest.raises(MessageParseError, match="over the 100-byte limit"):
        read_eml(path, max_bytes=100)


# ------------------------------------------------------------ headers only


def test_headers_only_reads_headers_and_blocks_body() -> None:
    raw = (FIXTURES / "multipart_mixed.eml").read_bytes()
    m = parse_message(raw, headers_only=True)
    assert m.headers_only
    assert m.subject == "Quarterly report – Q3"
    assert m.recipients == ["bob@example.com", "carol@example.net"]
    assert isinstance(m.message.get_payload(), str)  # the body was never split into parts
    for name in ("parts", "attachments", "text_body", "html_body"):
        with pytest.raises(MessageParseError) as info:
            getattr(m, name)
        assert "headers_only=True" in info.value.problem
        assert "parse_message" in (info.value.fix or "")
    assert m.summary()["attachments"] is None
    assert m.defects == []


@pytest.mark.parametrize(
    "raw",
    [
        (FIXTURES / "multipart_mixed.eml").read_bytes(),
        (FIXTURES / "broken.eml").read_bytes(),
        b"From: a@example.com\r\nno colon here\r\nTo: b@example.com\r\n\r\nbody\r\n\r\nmore \xff",
        b"From: a@example.com\n\n",
        b"From: a@example.com",
    ],
)
def test_headers_only_matches_the_stdlib_header_parser(raw: bytes) -> None:
    """The kit parses only the header block and attaches the body: same result as BytesHeaderParser."""
    ours = parse_message(raw, headers_only=True).message
    theirs = BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    assert ours.raw_items() and list(ours.raw_items()) == list(theirs.raw_items())
    assert ours.get_payload() == theirs.get_payload()
    assert [type(d) for d in ours.defects] == [type(d) for d in theirs.defects]


def test_headers_only_is_cheaper() -> None:
    parts = b"".join(
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b"SGVsbG8gd29ybGQ=\r\n" * 20
        for _ in range(200)
    )
    raw = msg(b"Content-Type: multipart/mixed; boundary=b\r\n", parts + b"--b--\r\n")

    def best(headers_only: bool) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            _ = parse_message(raw, headers_only=headers_only).recipients
            times.append(time.perf_counter() - start)
        return min(times)

    assert best(True) * 3 < best(False)


# --------------------------------------------------------------- corpora


def _write(path: Path, subject: str) -> bytes:
    data = msg(f"Subject: {subject}\r\n".encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def test_iter_messages_over_a_folder(tmp_path: Path) -> None:
    _write(tmp_path / "b.eml", "b")
    _write(tmp_path / "a.eml", "a")
    _write(tmp_path / "sub" / "c.EML", "c-upper-suffix-ignored")
    _write(tmp_path / "sub" / "c.eml", "c")
    (tmp_path / "notes.txt").write_text("not mail")
    got = [(name, m.subject) for name, m in iter_messages(tmp_path)]
    assert got == [("a.eml", "a"), ("b.eml", "b"), ("sub/c.eml", "c")]


def test_iter_messages_is_lazy_and_names_the_bad_file(tmp_path: Path) -> None:
    _write(tmp_path / "a.eml", "a")
    (tmp_path / "b.eml").write_bytes(b"")
    it = iter_messages(tmp_path)
    assert next(it)[1].subject == "a"  # the broken second file is not read yet
    with pytest.raises(MessageParseError, match=r"b\.eml"):
        next(it)


def test_iter_messages_over_an_mbox(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(path)
    for subject in ("one", "two", "three"):
        box.add(msg(f"Subject: {subject}\r\n".encode()))
    box.close()
    got = [(name, m.subject, m.from_addresses) for name, m in iter_messages(path, headers_only=True)]
    assert got == [
        ("inbox.mbox:1", "one", ["ana@example.com"]),
        ("inbox.mbox:2", "two", ["ana@example.com"]),
        ("inbox.mbox:3", "three", ["ana@example.com"]),
    ]


def test_iter_messages_over_a_maildir(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    keys = {box.add(msg(f"Subject: {s}\r\n".encode())): s for s in ("x", "y")}
    got = {name: m.subject for name, m in iter_messages(tmp_path / "Maildir")}
    assert got == keys
    assert list(got) == sorted(keys)


def test_iter_messages_single_file_and_missing_source(tmp_path: Path) -> None:
    _write(tmp_path / "one.eml", "only")
    assert [(n, m.subject) for n, m in iter_messages(tmp_path / "one.eml")] == [("one.eml", "only")]
    with pytest.raises(MessageParseError, match="no such file or folder"):
        list(iter_messages(tmp_path / "missing"))


# ---------------------------------------------------------------- properties

# Every str EmailMessage accepts in a header: no lone surrogates, none of the
# characters str.splitlines() breaks on (the stdlib refuses those with ValueError).
_subject_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(subject=_subject_text)
def test_any_subject_survives_encoding_and_parsing(subject: str) -> None:
    em = EmailMessage()
    em["From"] = "ana@example.com"
    em["Subject"] = subject
    em.set_content("x")
    got = parse_message(em.as_bytes()).subject
    assert " ".join(got.split()) == " ".join(subject.split())


_header_name = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z", fullmatch=True)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_header_name, value=st.binary(max_size=60), rest=st.binary(max_size=400))
def test_parse_never_raises_on_bytes_after_a_header_line(name: str, value: bytes, rest: bytes) -> None:
    raw = name.encode() + b": " + value.replace(b"\n", b" ") + b"\r\n" + rest
    try:
        ours = parse_message(raw, headers_only=True).message
    except MessageParseError:
        pass
    else:  # parsing only the header block changes nothing
        theirs = BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        assert list(ours.raw_items()) == list(theirs.raw_items())
        assert ours.get_payload() == theirs.get_payload()
    for headers_only in (False, True):
        try:
            m = parse_message(raw, headers_only=headers_only)
            read_everything(m)
        except MessageParseError:
            pass


_address_fuzz = st.text(alphabet='<>@"(),:;\\. ab=?[]\t\xe9\xff-', max_size=30)


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from(["From", "To", "Cc", "Sender", "Message-ID", "Date", "Content-Type"]), value=_address_fuzz)
def test_structured_headers_never_raise(field: str, value: str) -> None:
    raw = f"{field}: {value}\r\nSubject: s\r\n\r\nbody".encode()
    read_everything(parse_message(raw))


def test_an_attached_message_keeps_its_line_ends_and_its_long_header_lines():
    """message/rfc822 payload is the attached bytes: CRLF kept, a long header line not refolded."""
    long_header = b"X-Trace: " + b" ".join(b"token%03d" % i for i in range(20))
    inner = b"From: c@example.net\r\nSubject: inner\r\n" + long_header + b"\r\n\r\nbody"
    raw = (
        b"From: a@example.org\r\nTo: b@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
        b"--B\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" + inner + b"\r\n--B--\r\n"
    )
    part = parse_message(raw).parts[1]
    assert part.payload() == inner
    assert part.size == len(inner)
    lf = parse_message(raw.replace(b"\r\n", b"\n")).parts[1]
    assert lf.payload() == inner.replace(b"\r\n", b"\n")
