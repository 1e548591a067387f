"""Checks on the hand-written sample mail in ``data/emails``.

Every ``.eml`` file must be listed in ``manifest.json`` and in the README table, and must parse
with ``email.policy.default`` without raising. For each well-formed file (``malformed`` is null)
the manifest's from/sender/recipients/subject/attachments and the other flags must match what the
standard library parser reads. Uses the standard library only, so it also runs before the
package is installed.
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
