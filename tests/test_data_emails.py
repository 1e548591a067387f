"""Checks on the hand-written sample mail in ``data/emails``.

Every ``.eml`` file must be listed in ``manifest.json`` and in the README table, and must parse
with ``email.policy.default`` without raising. For each well-formed file (``malformed`` is null)
the manifest's from/sender/recipients/subject/attachments and the other flags must match what the
standard library parser reads. Those checks use the standard library only, so they also run
before the package is installed.

The multipart files (41-61) are also read through the kit (``workmail_sandbox.parse_message``,
skipped when it is not importable): their leaf parts, file names, sizes, Content-ID, the attached
message, the DSN status and the events built from them must be what ``data/emails/README.md`` says.
"""

import email
import email.policy
import json
import re
from pathlib import Path

import pytest

EMAILS = Path(__file__).resolve().parent.parent / "data" / "emails"
FILES = sorted(p.name for p in EMAILS.glob("*.eml"))
MANIFEST = json.loads((EMAILS / "manifest.json").read_text(encoding="utf-8"))
BY_FILE = {entry["file"]: entry for entry in MANIFEST}
WELL_FORMED = [entry["file"] for entry in MANIFEST if entry["malformed"] is None]
KEYS = {
    "file", "direction", "from", "sender", "recipients", "subject", "attachments",
    "has_html", "has_text", "redirected", "spam_verdict", "virus_verdict", "malformed",
}


def parse(name):
    return email.message_from_bytes((EMAILS / name).read_bytes(), policy=email.policy.default)


def addresses(msg, names):
    """Lower-cased addr-specs from the named headers, de-duplicated, in header order."""
    found = []
    for name in names:
        for header in msg.get_all(name) or []:
            for address in header.addresses:
                spec = address.addr_spec.lower()
                if spec not in found:
                    found.append(spec)
    return found


def test_enough_files_with_numbered_names():
    assert len(FILES) >= 25
    for name in FILES:
        assert re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*\.eml", name), name


def test_manifest_lists_exactly_the_files():
    assert [entry["file"] for entry in MANIFEST] == FILES
    for entry in MANIFEST:
        assert set(entry) == KEYS, entry["file"]
        assert entry["direction"] in ("INBOUND", "OUTBOUND")


def test_readme_table_lists_every_file():
    readme = (EMAILS / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\d\d-[^`]+\.eml)` \|", readme, flags=re.MULTILINE)
    assert rows == FILES


@pytest.mark.parametrize("name", FILES)
def test_file_is_crlf_and_small(name):
    data = (EMAILS / name).read_bytes()
    assert len(data) < 20_000
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b"\r\n")


@pytest.mark.parametrize("name", FILES)
def test_file_parses_with_default_policy(name):
    msg = parse(name)
    for part in msg.walk():
        part.get_content_type()
        if not part.is_multipart():
            part.get_content()
    assert msg["From"] is not None


@pytest.mark.parametrize("name", WELL_FORMED)
def test_manifest_matches_parser(name):
    entry = BY_FILE[name]
    msg = parse(name)
    parts = list(msg.walk())
    sender = addresses(msg, ["Sender"])
    assert addresses(msg, ["From"]) == entry["from"]
    assert (sender[0] if sender else None) == entry["sender"]
    assert addresses(msg, ["To", "Cc", "Bcc"]) == entry["recipients"]
    assert str(msg["Subject"]) == entry["subject"]
    assert sum(1 for p in parts if p.is_attachment()) == entry["attachments"]

    def has(ctype):
        return any(p.get_content_type() == ctype and not p.is_attachment() for p in parts)

    assert has("text/html") == entry["has_html"]
    assert has("text/plain") == entry["has_text"]
    assert any(k.lower().startswith("resent-") for k in msg) == entry["redirected"]
    for header, key in (("X-SES-Spam-Verdict", "spam_verdict"), ("X-SES-Virus-Verdict", "virus_verdict")):
        value = msg[header]
        assert (str(value) if value is not None else None) == entry[key]
    assert msg["Date"] is not None and msg["Message-ID"] is not None
    assert len(msg.get_all("Subject")) == 1


def test_direction_follows_the_sender_domain():
    org = ("@example.com", "@sales.example.com")
    for entry in MANIFEST:
        outbound = all(a.endswith(org) for a in entry["from"])
        assert entry["direction"] == ("OUTBOUND" if outbound else "INBOUND"), entry["file"]
        if entry["direction"] == "OUTBOUND":
            assert entry["spam_verdict"] is None and entry["virus_verdict"] is None


def test_corpus_covers_the_documented_cases():
    assert any(e["sender"] and e["sender"] not in e["from"] for e in MANIFEST)  # on behalf
    assert any(len(e["recipients"]) >= 50 for e in MANIFEST)
    assert any(len(e["subject"] or "") > 256 and (e["subject"] or "").isascii() for e in MANIFEST)
    assert any(len(e["subject"] or "") > 256 and not (e["subject"] or "").isascii() for e in MANIFEST)
    assert any(e["attachments"] >= 2 for e in MANIFEST)
    assert any(e["has_html"] and not e["has_text"] for e in MANIFEST)
    assert any(e["redirected"] for e in MANIFEST)
    assert any(e["spam_verdict"] == "FAIL" for e in MANIFEST)
    assert any(e["virus_verdict"] == "FAIL" for e in MANIFEST)
    assert sum(1 for e in MANIFEST if e["malformed"]) >= 6


def test_only_reserved_domains():
    allowed = re.compile(r"(^|\.)(example\.(com|org|net)|test|invalid)$")
    for name in FILES:
        text = (EMAILS / name).read_bytes().decode("latin-1")
        for domain in re.findall(r"[\w.+-]+@([A-Za-z0-9.-]+\.[A-Za-z]+)", text):
            assert allowed.search(domain.lower()), (name, domain)


# ----------------------------------------------------------- multipart files, through the kit

ORG_DOMAINS = ("example.com", "sales.example.com")
PDF_INVOICE, PDF_SPEC, PNG_SIZE, ICS_SIZE, SIG_SIZE, CSV_SIZE = 592, 595, 73, 608, 89, 93
LONG_FILENAME = (
    "Lieferantenverträge Übersicht Q4 2025 – final überarbeitet nach Rücksprache mit Einkauf und "
    "Rechtsabteilung.csv"
)

# Leaf parts as the kit lists them, depth-first: (content type, filename, decoded size or None
# when not pinned, is_attachment). An attached message (message/rfc822) is one leaf.
PARTS = {
    "41-alternative-quoted-printable.eml": [("text/plain", None, None, False), ("text/html", None, None, False)],
    "42-invoice-pdf.eml": [
        ("text/plain", None, None, False), ("application/pdf", "Invoice-2025-1187.pdf", PDF_INVOICE, True),
    ],
    "43-png-attachment.eml": [("text/plain", None, None, False), ("image/png", "status-bar.png", PNG_SIZE, True)],
    "44-calendar-invite.eml": [
        ("text/plain", None, None, False), ("text/calendar", None, ICS_SIZE, False),
        ("application/ics", "invite.ics", ICS_SIZE, True),
    ],
    "45-inline-image-related.eml": [
        ("text/plain", None, None, False), ("text/html", None, None, False), ("image/png", None, PNG_SIZE, False),
    ],
    "46-forwarded-rfc822.eml": [
        ("text/plain", None, None, False),
        ("message/rfc822", "Quote request 2291 (cold storage).eml", None, True),
    ],
    "47-signed-smime.eml": [
        ("text/plain", None, None, False), ("application/pkcs7-signature", "smime.p7s", SIG_SIZE, True),
    ],
    "48-delivery-status-notification.eml": [
        ("text/plain", None, None, False), ("message/delivery-status", None, None, False),
        ("text/rfc822-headers", None, None, False),
    ],
    "49-base64-alternative.eml": [("text/plain", None, None, False), ("text/html", None, None, False)],
    "50-8bit-utf8-alternative.eml": [("text/plain", None, None, False), ("text/html", None, None, False)],
    "51-mailing-list.eml": [("text/plain", None, None, False), ("text/html", None, None, False)],
    "52-reply-in-thread.eml": [("text/plain", None, None, False), ("text/html", None, None, False)],
    "53-auto-reply-outbound.eml": [("text/plain", None, None, False), ("text/html", None, None, False)],
    "54-rfc2047-display-names.eml": [("text/plain", None, None, False)],
    "55-rfc2231-long-filename.eml": [("text/plain", None, None, False), ("text/csv", LONG_FILENAME, CSV_SIZE, True)],
    "56-inline-photo-no-cid.eml": [
        ("text/plain", None, None, False), ("image/png", "IMG_0042.png", PNG_SIZE, False),
        ("text/plain", None, None, False),
    ],
    "57-forwarded-inline.eml": [("text/plain", None, None, False)],
    "58-forward-with-nested-attachment.eml": [
        ("text/plain", None, None, False), ("message/rfc822", "Dock door specification rev C.eml", None, True),
    ],
    "59-attachment-name-only.eml": [
        ("text/plain", None, None, False), ("application/pdf", "scan-20251127-154400.pdf", PDF_INVOICE, True),
    ],
    "60-calendar-reply.eml": [("text/calendar", None, None, False)],
    "61-pdf-and-png-outbound.eml": [
        ("text/plain", None, None, False), ("text/html", None, None, False),
        ("application/pdf", "proforma-2025-1187.pdf", PDF_INVOICE, True), ("image/png", "shelf.png", PNG_SIZE, True),
    ],
}
MULTIPART = sorted(PARTS)
# Where the kit's attachment count differs from the manifest's (the stdlib's walk()); README 58, 59.
KIT_ATTACHMENTS = {"58-forward-with-nested-attachment.eml": 1, "59-attachment-name-only.eml": 1}
# Header recipients are not the envelope for list mail (README 51): the subscriber is in RCPT TO only.
ENVELOPE = {"51-mailing-list.eml": ["frank@example.com"]}


def kit():
    return pytest.importorskip("workmail_sandbox")


def kit_parse(name):
    return kit().parse_message((EMAILS / name).read_bytes())


def part_of(msg, content_type, index=0):
    return [p for p in msg.parts if p.content_type == content_type][index]


def test_at_least_twenty_multipart_files_are_listed():
    assert len(MULTIPART) >= 20
    assert set(MULTIPART) <= set(FILES)
    assert all(BY_FILE[name]["malformed"] is None for name in MULTIPART)


@pytest.mark.parametrize("name", MULTIPART)
def test_multipart_file_parts_through_the_kit(name):
    msg = kit_parse(name)
    entry = BY_FILE[name]
    assert msg.defects == []
    got = [(p.content_type, p.filename, p.is_attachment) for p in msg.parts]
    assert got == [(ctype, filename, attached) for ctype, filename, _size, attached in PARTS[name]]
    for part, (_ctype, _filename, size, _attached) in zip(msg.parts, PARTS[name]):
        if size is not None:
            assert part.size == size, (part.section, part.content_type)
    assert len(msg.attachments) == KIT_ATTACHMENTS.get(name, entry["attachments"])
    assert (msg.text_body is not None) == entry["has_text"]
    assert (msg.html_body is not None) == entry["has_html"]
    assert msg.subject == entry["subject"]
    assert msg.from_addresses == entry["from"]
    assert msg.recipients == entry["recipients"]
    assert msg.message_id is not None and msg.date is not None


@pytest.mark.parametrize("name", MULTIPART)
def test_multipart_file_builds_events(name):
    wm = kit()
    entry = BY_FILE[name]
    envelope = wm.SmtpEnvelope(recipients=ENVELOPE[name]) if name in ENVELOPE else None
    events = wm.events_from_message(
        EMAILS / name, direction=entry["direction"], org_domains=ORG_DOMAINS, envelope=envelope,
    )
    assert len(events) == 1
    event = wm.WorkMailEvent.from_json(events[0].to_json())  # passes the strict documented checks
    expected = ENVELOPE.get(name, entry["recipients"])
    if entry["direction"] == "INBOUND":
        expected = [a for a in expected if a.rpartition("@")[2] in ORG_DOMAINS]
    assert event.envelope.recipients == expected
    assert event.envelope.mail_from == entry["from"][0]
    assert event.subject == entry["subject"][:256]
    assert event.flow_direction == entry["direction"]
    assert event.sender is None


def test_list_mail_without_an_envelope_has_no_org_recipient():
    wm = kit()
    assert wm.events_from_message(EMAILS / "51-mailing-list.eml", direction="INBOUND", org_domains=ORG_DOMAINS) == []
    msg = kit_parse("51-mailing-list.eml")
    assert msg.header("List-Id") == "Warehouse tooling discussion <dev.lists.example.org>"
    assert "<mailto:dev-request@lists.example.org?subject=unsubscribe>" in msg.header("List-Unsubscribe")
    assert msg.header("Precedence") == "list"


def test_minimal_pdf_and_png_are_valid():
    import struct
    import zlib

    for name in ("42-invoice-pdf.eml", "59-attachment-name-only.eml", "61-pdf-and-png-outbound.eml"):
        pdf = part_of(kit_parse(name), "application/pdf").payload()
        assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
        startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
        assert pdf[startxref:].startswith(b"xref\n0 6\n")
        offsets = [int(line[:10]) for line in pdf[startxref:].split(b"\n")[3:8]]
        assert [pdf[o:].split(b"\n", 1)[0] for o in offsets] == [b"%d 0 obj" % i for i in range(1, 6)]
    for name in ("43-png-attachment.eml", "45-inline-image-related.eml", "56-inline-photo-no-cid.eml"):
        png = part_of(kit_parse(name), "image/png").payload()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        width, height = struct.unpack(">II", png[16:24])
        assert (width, height) in ((3, 2), (2, 2))
        pos, idat = 8, b""
        while pos < len(png):
            (length,) = struct.unpack(">I", png[pos:pos + 4])
            kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
            assert struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + data)
            idat += data if kind == b"IDAT" else b""
            pos += 12 + length
        assert len(zlib.decompress(idat)) == height * (1 + 3 * width)


def test_inline_image_is_referenced_by_its_content_id():
    msg = kit_parse("45-inline-image-related.eml")
    image = part_of(msg, "image/png")
    assert image.content_id == "<logo.45@example.com>"
    assert image.disposition == "inline" and not image.is_attachment
    assert f'src="cid:{image.content_id.strip("<>")}"' in msg.html_body
    assert msg.message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.message.get_payload()] == ["text/plain", "multipart/related"]


def test_forwarded_message_is_one_attachment_holding_the_original():
    wm = kit()
    attached = part_of(kit_parse("46-forwarded-rfc822.eml"), "message/rfc822")
    inner = wm.parse_message(attached.payload())
    assert inner.subject == "Quote request 2291 (cold storage)"
    assert inner.from_addresses == ["tomas.lindqvist@hamburg.example.net"]
    assert inner.message_id == "<q2291.tl.4410@hamburg.example.net>"
    assert "cold storage for 40 pallets" in inner.text_body
    nested = wm.parse_message(part_of(kit_parse("58-forward-with-nested-attachment.eml"), "message/rfc822").payload())
    assert nested.subject == "Dock door specification rev C"
    assert [(p.filename, p.size) for p in nested.attachments] == [("dock-door-spec-rev-c.pdf", PDF_SPEC)]


def test_forwarded_message_payload_is_the_attached_bytes():
    """An attached message's payload is its bytes as sent: CRLF kept, no header refolded."""
    raw = (EMAILS / "46-forwarded-rfc822.eml").read_bytes()
    start = raw.index(b"From: Tomas Lindqvist")
    attached = raw[start:raw.index(b"\r\n--mix-46-5a4f3e--")]
    part = part_of(kit_parse("46-forwarded-rfc822.eml"), "message/rfc822")
    assert part.payload() == attached
    assert part.size == len(attached)


def test_signed_message_has_a_placeholder_signature():
    msg = kit_parse("47-signed-smime.eml")
    assert msg.message.get_content_type() == "multipart/signed"
    assert msg.message.get_param("protocol") == "application/pkcs7-signature"
    assert msg.message.get_param("micalg") == "sha-256"
    signature = part_of(msg, "application/pkcs7-signature").payload()
    assert signature.startswith(b"PLACEHOLDER: not a real PKCS #7 signature")


def test_delivery_status_notification_says_failed_5_1_1():
    msg = kit_parse("48-delivery-status-notification.eml")
    assert msg.message.get_content_type() == "multipart/report"
    assert msg.message.get_param("report-type") == "delivery-status"
    assert msg.header("Auto-Submitted") == "auto-replied"
    report = part_of(msg, "message/delivery-status").payload().decode("ascii")
    fields = dict(line.split(": ", 1) for line in report.splitlines() if ": " in line and not line[0].isspace())
    assert fields["Action"] == "failed" and fields["Status"] == "5.1.1"
    assert fields["Final-Recipient"] == "rfc822; j.okafor@example.net"
    # The stdlib reads the report as header blocks: per-message, then one per recipient.
    blocks = msg.message.get_payload()[1].get_payload()
    assert [b["Status"] for b in blocks] == [None, "5.1.1"]
    original = part_of(msg, "text/rfc822-headers").text()
    assert "Subject: Pallet return schedule" in original


def test_calendar_parts_carry_their_method():
    msg = kit_parse("44-calendar-invite.eml")
    inline = part_of(msg, "text/calendar")
    assert msg.message.get_payload()[0].get_payload()[1].get_param("method") == "REQUEST"
    assert "METHOD:REQUEST" in inline.text() and "METHOD:REQUEST" in part_of(msg, "application/ics").text()
    assert inline.payload() == part_of(msg, "application/ics").payload()
    reply = kit_parse("60-calendar-reply.eml")
    assert reply.message.get_param("method") == "REPLY" and "PARTSTAT=ACCEPTED" in reply.parts[0].text()


@pytest.mark.parametrize(
    ("name", "encoding", "words"),
    [
        ("41-alternative-quoted-printable.eml", "quoted-printable", "pallet rates for the southern region"),
        ("49-base64-alternative.eml", "base64", "¿Podríais enviarnos muestras de las tres etiquetas térmicas"),
        ("50-8bit-utf8-alternative.eml", "8bit", "terça-feira às 9h00, no armazém"),
        ("54-rfc2047-display-names.eml", "quoted-printable", "the Łódź site"),
    ],
)
def test_bodies_decode_from_their_transfer_encoding(name, encoding, words):
    msg = kit_parse(name)
    bodies = [p for p in msg.message.walk() if p.get_content_type() in ("text/plain", "text/html")]
    assert {p["Content-Transfer-Encoding"] for p in bodies} == {encoding}
    assert words in " ".join(msg.text_body.split())
    encoded = str(bodies[0].get_payload())  # the body as written in the file, still encoded
    assert (words in " ".join(encoded.split())) is (encoding == "8bit")
    if msg.html_body is not None:
        assert words.split()[-1] in msg.html_body


def test_rfc2047_display_names_and_rfc2231_filename_decode():
    msg = kit_parse("54-rfc2047-display-names.eml")
    assert msg.header("From") == "Zofia Kowalska-Żmuda <zofia.kowalska@example.org>"
    names = [a.display_name for h in ("To", "Cc") for a in msg.message[h].addresses]
    assert names == ["Alice Martin (アリス)", "André Lefèvre", "Αναστασία Παπαδοπούλου", "Tomáš Dvořák"]
    attachment = kit_parse("55-rfc2231-long-filename.eml").attachments[0]
    assert attachment.filename == LONG_FILENAME and len(attachment.filename) == 111
    assert parse("55-rfc2231-long-filename.eml").get_payload()[1].get_filename() == LONG_FILENAME


def test_threading_and_automatic_mail_headers():
    original, reply = kit_parse("41-alternative-quoted-printable.eml"), kit_parse("52-reply-in-thread.eml")
    assert reply.header("In-Reply-To") == reply.header("References") == original.message_id
    assert reply.subject == "Re: " + original.subject
    assert "> As discussed on Friday" in reply.text_body and "<blockquote" in reply.html_body
    auto = kit_parse("53-auto-reply-outbound.eml")
    assert auto.header("Auto-Submitted") == "auto-replied" and auto.header("X-Auto-Response-Suppress") == "All"


def test_corpus_covers_the_multipart_cases():
    seen = {"types": set(), "encodings": set()}
    for name in FILES:
        for part in parse(name).walk():
            seen["types"].add(part.get_content_type())
            if part["Content-Transfer-Encoding"]:
                seen["encodings"].add(str(part["Content-Transfer-Encoding"]).lower())
    assert {
        "multipart/alternative", "multipart/mixed", "multipart/related", "multipart/signed", "multipart/report",
        "message/rfc822", "message/delivery-status", "text/calendar", "application/pdf", "image/png",
        "application/pkcs7-signature",
    } <= seen["types"]
    assert {"quoted-printable", "base64", "8bit"} <= seen["encodings"]
