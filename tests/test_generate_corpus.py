"""Tests for ``data/generate_corpus.py``, the seeded generator of large mail corpora.

The same seed must give byte-identical messages, every message must parse with
``email.policy.default`` and carry the headers a mail server requires, the three output layouts
must read back with ``mailbox``, and bad command-line arguments must end in one argparse error
line. Standard library only.
"""

import email
import email.policy
import mailbox
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_generator import SCRIPT, load_generator

gen = load_generator()


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_same_seed_gives_identical_bytes():
    first = list(gen.generate_messages(50, seed=7))
    second = list(gen.generate_messages(50, seed=7))
    assert len(first) == 50
    assert first == second


def test_different_seed_differs():
    assert list(gen.generate_messages(50, seed=7)) != list(gen.generate_messages(50, seed=8))


def test_every_message_parses_and_has_required_headers():
    ids = set()
    for raw in gen.generate_messages(300, seed=11):
        assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        msg = parse(raw)
        for name in ("From", "To", "Date", "Message-ID", "Subject"):
            assert msg[name] is not None, name
        assert msg["Date"].datetime.date().isoformat() == "2025-11-17"
        assert not msg.defects
        for part in msg.walk():
            assert not part.defects
            if not part.is_multipart():
                part.get_content()
        ids.add(str(msg["Message-ID"]))
    assert len(ids) == 300


def test_the_mix_covers_the_documented_cases():
    seen = {"spam": 0, "sender": 0, "bcc": 0, "non_ascii": 0, "long": 0, "html": 0, "attach": 0,
            "outbound": 0, "many": 0}
    for raw in gen.generate_messages(800, seed=5):
        msg = parse(raw)
        subject = str(msg["Subject"])
        # count from the raw header text: parsing 200+ addresses with policy.default is slow
        recipients = sum(v.count("@") for k, v in msg.raw_items() if k.lower() in ("to", "cc", "bcc"))
        seen["spam"] += msg["X-SES-Spam-Verdict"] == "FAIL"
        seen["sender"] += msg["Sender"] is not None
        seen["bcc"] += msg["Bcc"] is not None
        seen["non_ascii"] += not subject.isascii()
        seen["long"] += len(subject) > 256
        seen["html"] += any(p.get_content_type() == "text/html" for p in msg.walk())
        seen["attach"] += any(p.is_attachment() for p in msg.walk())
        seen["outbound"] += msg["X-SES-Spam-Verdict"] is None
        seen["many"] += recipients >= 200
        assert recipients >= 1
    assert all(count > 0 for count in seen.values()), seen
    assert 0.2 < seen["outbound"] / 800 < 0.4


@pytest.mark.parametrize("ratio, inbound_expected", [(0.0, True), (1.0, False)])
def test_outbound_ratio_extremes(ratio, inbound_expected):
    for raw in gen.generate_messages(40, seed=1, outbound_ratio=ratio):
        assert (parse(raw)["X-SES-Spam-Verdict"] is not None) is inbound_expected


def _read_back(fmt, out):
    if fmt == "eml":
        return [p.read_bytes() for p in sorted(out.glob("*.eml"))]
    if fmt == "mbox":
        box = mailbox.mbox(out / "corpus.mbox", create=False)
        return [box.get_bytes(key) for key in box.iterkeys()]
    box = mailbox.Maildir(out / "maildir", factory=None, create=False)
    return [box.get_bytes(key) for key in sorted(box.iterkeys(), key=lambda k: k.split(".")[1])]


@pytest.mark.parametrize("fmt", ["eml", "mbox", "maildir"])
def test_formats_write_n_readable_messages(tmp_path, fmt):
    n = 25
    stats = gen.write_corpus(tmp_path / "out", n, seed=4, fmt=fmt)
    assert stats["messages"] == n
    assert stats["inbound"] + stats["outbound"] == n
    messages = _read_back(fmt, tmp_path / "out")
    assert len(messages) == n
    assert messages == list(gen.generate_messages(n, seed=4))
    for raw in messages:
        assert parse(raw)["Message-ID"] is not None


@pytest.mark.parametrize("fmt", ["eml", "mbox", "maildir"])
def test_write_corpus_is_byte_identical_on_disk(tmp_path, fmt):
    for name in ("a", "b"):
        gen.write_corpus(tmp_path / name, 20, seed=9, fmt=fmt)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_cli_writes_and_prints_one_line(tmp_path):
    result = run_cli(tmp_path / "corpus", "-n", 12, "--seed", 2, "--format", "mbox")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wrote 12 messages")
    assert len(mailbox.mbox(tmp_path / "corpus" / "corpus.mbox", create=False)) == 12


@pytest.mark.parametrize(
    "args, words",
    [
        (["-n", "0"], "-n"),
        (["--format", "xml"], "--format"),
        (["--outbound-ratio", "1.5"], "--outbound-ratio"),
        (["-n", "many"], "-n"),
    ],
)
def test_cli_bad_argument_is_one_error_line(tmp_path, args, words):
    result = run_cli(tmp_path / "corpus", *args)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and words in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "corpus").exists()


def test_cli_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = run_cli(tmp_path, "-n", 3)
    assert result.returncode == 2
    assert "not an empty directory" in result.stderr.splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_library_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        list(gen.generate_messages(0))
    with pytest.raises(ValueError):
        gen.write_corpus(tmp_path / "x", 5, fmt="zip")
    with pytest.raises(ValueError):
        gen.write_corpus(tmp_path / "y", 0)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.parametrize("fmt", ["eml", "mbox", "maildir"])
def test_the_kits_corpus_readers_read_every_message_in_order(tmp_path, fmt):
    from workmail_sandbox.mail.corpus import corpus_size, iter_corpus

    n = 40
    stats = gen.write_corpus(tmp_path / "out", n, seed=6, fmt=fmt)
    source = Path(stats["path"]) if fmt != "eml" else tmp_path / "out"
    items = list(iter_corpus(source, headers_only=True))
    assert [item.error for item in items] == [None] * n
    expected = [parse(raw) for raw in gen.generate_messages(n, seed=6)]
    assert [item.message.message_id for item in items] == [str(m["Message-ID"]) for m in expected]
    assert corpus_size(source) in (n, None)  # None: an mbox is not counted before it is read


def test_the_mbox_has_the_bytes_mailbox_writes(tmp_path):
    """The streamed writer gives what mailbox.mbox.add gives (which keeps every message's offsets in memory)."""
    gen.write_corpus(tmp_path / "streamed", 30, seed=8, fmt="mbox")
    box = mailbox.mbox(tmp_path / "by-mailbox.mbox", create=True)
    for direction, env_from, when, raw in gen._iter(30, 8, 0.3):
        assert direction in ("INBOUND", "OUTBOUND")
        box.add(f"From {env_from} {gen._asctime(when)}\n".encode("ascii") + raw)
    box.close()
    assert (tmp_path / "streamed" / "corpus.mbox").read_bytes() == (tmp_path / "by-mailbox.mbox").read_bytes()


def test_a_from_line_in_a_body_is_quoted_as_mailbox_quotes_it():
    raw = b"Subject: x\r\n\r\nhello\r\nFrom here on\r\n"
    entry = gen._mbox_entry("a@example.org", gen.BASE_DATE, raw)
    assert entry.startswith(b"From a@example.org Mon Nov 17 00:00:00 2025\n")
    assert b"\r\n>From here on\r\n" in entry and entry.endswith(b"\r\n\n")


def test_fill_wraps_the_scripts_paragraphs_exactly_as_textwrap_does():
    import random
    import textwrap

    rng = random.Random(5)
    for _ in range(5000):
        sentences = [rng.choice(gen._SENTENCES) for _ in range(rng.randrange(1, 7))]
        if rng.random() < 0.3:
            sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(gen._NON_ASCII_SENTENCES))
        text = " ".join(sentences)
        assert gen.fill(text) == textwrap.fill(text, 72), text
    for other in ("a follow-up on the e-mail " * 5, "x" * 100 + " y", "two  spaces " * 9, "tab\there " * 10):
        assert gen.fill(other) == textwrap.fill(other, 72)
