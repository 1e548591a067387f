"""Replay never loses a result: every corpus entry gets a row, one bad message never stops the run,
and the CSV is written as the run goes (complete, valid UTF-8, kept when the run is interrupted).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmail_sandbox import cli
from workmail_sandbox import sandbox as sandbox_module
from workmail_sandbox.errors import ConfigurationError
from workmail_sandbox.flow.mailboxes import build_bounce
from workmail_sandbox.organization import Organization
from workmail_sandbox.replay import REPLAY_COLUMNS
from workmail_sandbox.replay_folder import _CsvRows, replay_folder

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
RULES = ROOT / "data" / "rules"
GOOD = ("01-plain-inbound.eml", "18-spam-fail.eml")

#: From the sender data/rules/basic.yaml bounces, to a recipient with a raw 0xE9 byte: the bounce was fatal.
EIGHT_BIT_BOUNCE = (
    b"From: billing@old-vendor.example.org\r\n"
    b"To: al\xe9x@example.com\r\n"
    b"Subject: invoice \xe9t\xe9\r\n"
    b"Message-ID: <8bit@old-vendor.example.org>\r\n"
    b"\r\n"
    b"body\r\n"
)


def _org(sb, alias="x"):
    return Organization.create(
        sb,
        alias,
        domains=["example.com", "sales.example.com"],
        users=["alice@example.com", "grace@example.com"],
        rules=RULES / "basic.yaml",
    )


def _good(folder: Path) -> None:
    for name in GOOD:
        (folder / name).write_bytes((EMAILS / name).read_bytes())


def _errors(df: pd.DataFrame) -> dict[str, str]:
    failed = df[df.error_stage.notna()]
    return dict(zip(failed.message, failed.error_stage, strict=True))


# ------------------------------------------------------------------------ the 8-bit recipient


def test_a_bounce_to_a_recipient_with_raw_8bit_bytes_is_built():
    content = build_bounce(
        original_headers=[
            ("From", "billing@old-vendor.example.org"),
            ("To", "al\udce9x@example.com"),
            ("Subject", "\udce9t\udce9"),
        ],
        subject="\udce9t\udce9",
        smtp_message_id="<1@x>",
        recipients=["al\udce9x@example.com"],
        to="b\udcffilling@old-vendor.example.org",
        reporting_domain="example.com",
        bounce_message="n\udce9",
        status="5.1.1",
        diagnostic="no such user \ud800",
        when=pd.Timestamp("2026-01-01", tz="UTC").to_pydatetime(),
    )
    assert content.startswith(b"From: MAILER-DAEMON@example.com") and b"Final-Recipient" in content


def test_a_recipient_with_raw_8bit_bytes_does_not_stop_the_replay(workmail_sandbox, tmp_path):
    _good(tmp_path)
    (tmp_path / "02-8bit-bounce.eml").write_bytes(EIGHT_BIT_BOUNCE)
    df = _org(workmail_sandbox).replay(tmp_path, progress=False)
    assert list(df.columns) == list(REPLAY_COLUMNS)
    assert list(df.message) == ["01-plain-inbound.eml", "02-8bit-bounce.eml", "18-spam-fail.eml"]
    assert list(df.outcome) == ["inbox", "bounced", "junk"]
    assert df.error_stage.isna().all()


# ------------------------------------------------------------------------ entries that are not files


def test_entries_that_are_not_regular_files_get_an_error_row_each(workmail_sandbox, tmp_path):
    _good(tmp_path)
    os.mkfifo(tmp_path / "03-fifo.eml")  # never opened: opening it would block the run
    (tmp_path / "04-folder.eml").mkdir()
    (tmp_path / "05-broken.eml").symlink_to(tmp_path / "no-such-target.eml")
    (tmp_path / "06-loop.eml").symlink_to(tmp_path / "06-loop.eml")
    (tmp_path / "07-device.eml").symlink_to("/dev/null")
    df = _org(workmail_sandbox).replay(tmp_path, progress=False)
    assert list(df.message) == [
        "01-plain-inbound.eml",
        "03-fifo.eml",
        "04-folder.eml",
        "05-broken.eml",
        "06-loop.eml",
        "07-device.eml",
        "18-spam-fail.eml",
    ]
    not_files = ("03-fifo.eml", "04-folder.eml", "05-broken.eml", "06-loop.eml", "07-device.eml")
    assert _errors(df) == dict.fromkeys(not_files, "read")
    errors = dict(zip(df.message, df.error, strict=True))
    assert "FIFO" in errors["03-fifo.eml"] and "folder" in errors["04-folder.eml"]
    assert "broken symbolic link" in errors["05-broken.eml"] and "loop" in errors["06-loop.eml"]
    assert "character device" in errors["07-device.eml"]
    assert list(df[df.error_stage.isna()].outcome) == ["inbox", "junk"]


def test_a_fifo_in_a_maildir_is_never_opened(workmail_sandbox, tmp_path):
    for sub in ("cur", "new", "tmp"):
        (tmp_path / sub).mkdir()
    (tmp_path / "cur" / "1.good:2,S").write_bytes((EMAILS / GOOD[0]).read_bytes())
    os.mkfifo(tmp_path / "new" / "2.fifo")
    df = _org(workmail_sandbox).replay(tmp_path, progress=False)
    assert list(df.message) == ["1.good", "2.fifo"]
    assert _errors(df) == {"2.fifo": "read"}


def test_a_routing_crash_is_one_error_row(workmail_sandbox, tmp_path, monkeypatch):
    _good(tmp_path)
    real = Organization.route

    def route(self, parsed, **kwargs):
        if parsed.subject and "order 4471" in parsed.subject:
            raise RuntimeError("boom")
        return real(self, parsed, **kwargs)

    monkeypatch.setattr(Organization, "route", route)
    df = _org(workmail_sandbox).replay(tmp_path, progress=False)
    assert _errors(df) == {"01-plain-inbound.eml": "route"}
    assert "RuntimeError: boom" in df.error.iloc[0]
    assert df.outcome.tolist() == ["failed", "junk"]


# ------------------------------------------------------------------------ output paths, checked first


@pytest.fixture
def no_sandbox(monkeypatch):
    """Fails the test if the replay starts a sandbox: bad output paths must be refused before that."""

    def refuse(*args, **kwargs):
        raise AssertionError("the sandbox was started before the output path was checked")

    monkeypatch.setattr(sandbox_module, "sandbox", refuse)


def test_a_csv_in_a_missing_folder_is_refused_before_the_run(tmp_path, no_sandbox):
    with pytest.raises(ConfigurationError, match="does not exist") as info:
        replay_folder(EMAILS, RULES / "basic.yaml", csv=tmp_path / "no-such-dir" / "x.csv", progress=False)
    assert "mkdir" in str(info.value)
    with pytest.raises(ConfigurationError, match="is a folder"):
        replay_folder(EMAILS, RULES / "basic.yaml", csv=tmp_path, progress=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_csv_in_an_unwritable_folder_is_refused_before_the_run(tmp_path, no_sandbox):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigurationError, match="not writable"):
        replay_folder(EMAILS, RULES / "basic.yaml", csv=locked / "x.csv", progress=False)


def test_a_csv_that_may_not_be_written_is_refused_before_the_run(tmp_path, no_sandbox, monkeypatch):
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # as an unprivileged user in a locked folder
    with pytest.raises(ConfigurationError, match="not writable"):
        replay_folder(EMAILS, RULES / "basic.yaml", csv=tmp_path / "x.csv", progress=False)


def test_iter_messages_refuses_a_fifo_in_a_maildir_without_opening_it(tmp_path):
    from workmail_sandbox.errors import MessageParseError
    from workmail_sandbox.mail import iter_messages

    for sub in ("cur", "new", "tmp"):
        (tmp_path / sub).mkdir()
    (tmp_path / "cur" / "1.good:2,S").write_bytes((EMAILS / GOOD[0]).read_bytes())
    (tmp_path / "cur" / "0.folder").mkdir()  # skipped, as mailbox.Maildir skips it
    os.mkfifo(tmp_path / "new" / "2.fifo")
    messages = iter_messages(tmp_path, headers_only=True)
    assert next(messages)[0] == "1.good"
    with pytest.raises(MessageParseError, match="2.fifo: .*FIFO"):
        next(messages)


def test_the_cli_refuses_a_bad_output_path_in_one_line(capsys, tmp_path, no_sandbox):
    code = cli.main(
        [
            "replay",
            str(EMAILS),
            "--rules",
            str(RULES / "basic.yaml"),
            "--no-progress",
            "--csv",
            str(tmp_path / "nonexistent-dir" / "x.csv"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == cli.EXIT_INVALID and out == ""
    assert err.startswith("workmail-sandbox: error:") and err.count("\n") == 1 and "Fix:" in err


def test_parquet_without_pyarrow_is_refused_at_once(tmp_path, monkeypatch, no_sandbox):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a))
    with pytest.raises(ConfigurationError, match="pip install pyarrow"):
        replay_folder(EMAILS, RULES / "basic.yaml", parquet=tmp_path / "x.parquet", progress=False)
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow is not installed")
def test_parquet_holds_every_row(tmp_path):  # pragma: no cover - runs where pyarrow is installed
    (tmp_path / "in").mkdir()
    _good(tmp_path / "in")
    (tmp_path / "in" / "02-8bit-bounce.eml").write_bytes(EIGHT_BIT_BOUNCE)
    df = replay_folder(tmp_path / "in", RULES / "basic.yaml", parquet=tmp_path / "x.parquet", progress=False)
    assert len(pd.read_parquet(tmp_path / "x.parquet")) == len(df)


# ------------------------------------------------------------------------ the CSV, streamed


def _messy(folder: Path) -> None:
    folder.mkdir()
    _good(folder)
    (folder / "02-8bit-bounce.eml").write_bytes(EIGHT_BIT_BOUNCE)
    (folder / "03-random.eml").write_bytes(b"\x00\xff\xfe\xe9 not mail")
    (folder / "04-empty.eml").write_bytes(b"")
    os.mkfifo(folder / "05-fifo.eml")
    (folder / "06-broken.eml").symlink_to(folder / "missing")


def test_the_csv_is_complete_and_valid_utf8_after_bad_messages(capsys, tmp_path):
    _messy(tmp_path / "in")
    out_csv = tmp_path / "out.csv"
    code = cli.main(
        ["replay", str(tmp_path / "in"), "--rules", str(RULES / "basic.yaml"), "--no-progress", "--csv", str(out_csv)]
    )
    out, err = capsys.readouterr()
    assert code == cli.EXIT_INVALID  # some messages failed
    assert "7 messages: 3 routed, 4 failed" in out and str(out_csv) in out
    assert "failed" in err and "read" in err and "parse" in err
    text = out_csv.read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert "al\\udce9x@example.com" in text  # the raw byte, escaped
    frame = pd.read_csv(out_csv)
    assert list(frame.columns) == list(REPLAY_COLUMNS)
    assert list(frame.message) == [
        "01-plain-inbound.eml",
        "02-8bit-bounce.eml",
        "03-random.eml",
        "04-empty.eml",
        "05-fifo.eml",
        "06-broken.eml",
        "18-spam-fail.eml",
    ]
    assert dict(zip(frame.message, frame.error_stage.fillna(""), strict=True)) == {
        "01-plain-inbound.eml": "",
        "02-8bit-bounce.eml": "",
        "03-random.eml": "parse",
        "04-empty.eml": "parse",
        "05-fifo.eml": "read",
        "06-broken.eml": "read",
        "18-spam-fail.eml": "",
    }


def test_the_cli_exits_0_and_says_so_when_every_message_was_routed(capsys, tmp_path):
    (tmp_path / "in").mkdir()
    _good(tmp_path / "in")
    code = cli.main(["replay", str(tmp_path / "in"), "--rules", str(RULES / "basic.yaml"), "--no-progress"])
    out, _ = capsys.readouterr()
    assert code == cli.EXIT_OK and "2 messages: 2 routed, 0 failed" in out


def test_an_interrupted_run_keeps_the_first_rows(capsys, tmp_path, monkeypatch):
    _messy(tmp_path / "in")
    calls = []
    real = Organization.route

    def route(self, parsed, **kwargs):
        calls.append(parsed.subject)
        if len(calls) == 2:  # the second message routed: Ctrl-C
            raise KeyboardInterrupt
        return real(self, parsed, **kwargs)

    monkeypatch.setattr(Organization, "route", route)
    out_csv = tmp_path / "out.csv"
    code = cli.main(
        ["replay", str(tmp_path / "in"), "--rules", str(RULES / "basic.yaml"), "--no-progress", "--csv", str(out_csv)]
    )
    _, err = capsys.readouterr()
    assert code == 130 and "interrupted" in err and str(out_csv) in err
    assert sandbox_module.current() is None  # stopped on the way out
    frame = pd.read_csv(out_csv)
    assert list(frame.message) == ["01-plain-inbound.eml"] and frame.outcome.tolist() == ["inbox"]


def test_a_row_that_cannot_be_written_becomes_a_write_error_row(tmp_path):
    class Unprintable:
        def __str__(self):
            raise ValueError("no text")

    sink = _CsvRows(tmp_path / "out.csv")
    good = (
        "m1",
        "INBOUND",
        "s",
        "a@example.com",
        None,
        "DEFAULT",
        "no rule",
        None,
        0,
        "inbox",
        "r",
        1.0,
        0.0,
        None,
        None,
    )
    kept = sink.write([good])
    bad = sink.write([(*good[:4], Unprintable(), *good[5:])])
    sink.close()
    assert kept == [good] and bad[0][-2] == "write" and "no text" in bad[0][-1]
    frame = pd.read_csv(tmp_path / "out.csv")
    assert frame.message.tolist() == ["m1", "m1"] and frame.error_stage.fillna("").tolist() == ["", "write"]


# ------------------------------------------------------------------------ property: nothing is lost

_HEADER_BYTES = st.binary(min_size=1, max_size=3).map(lambda b: bytes(0x80 | c for c in b))
_LOCAL = st.sampled_from([b"alice", b"grace", b"bob", b"zoe"])
_FROM = st.sampled_from(
    [b"billing@old-vendor.example.org", b"x@example.net", b"alice@example.com", b"news@newsletter.example.net"]
)


@st.composite
def _malformed(draw) -> bytes:
    kind = draw(st.sampled_from(["random", "truncated", "8bit", "huge"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    base = (EMAILS / draw(st.sampled_from(GOOD))).read_bytes()
    if kind == "truncated":
        end = base.find(b"\r\n\r\n") if b"\r\n\r\n" in base else base.find(b"\n\n")
        return base[: draw(st.integers(0, max(end, 0)))]
    if kind == "8bit":
        sender = draw(_FROM)
        if draw(st.booleans()):
            sender = draw(_HEADER_BYTES) + sender
        to = b", ".join(draw(_LOCAL) + draw(_HEADER_BYTES) + b"@example.com" for _ in range(draw(st.integers(1, 3))))
        return b"From: " + sender + b"\r\nTo: " + to + b"\r\nSubject: " + draw(_HEADER_BYTES) + b"\r\n\r\nbody\r\n"
    return b"X-Long: " + b"a" * draw(st.integers(998, 20_000)) + b"\r\n" + base


def test_property_one_row_per_recipient_or_per_failed_file(workmail_sandbox):
    org = _org(workmail_sandbox, "prop")
    baseline_dir = Path(tempfile.mkdtemp())
    try:
        _good(baseline_dir)
        baseline = org.replay(baseline_dir, progress=False).groupby("message").size().to_dict()
    finally:
        shutil.rmtree(baseline_dir)

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(bad=st.lists(_malformed(), min_size=1, max_size=4))
    def check(bad: list[bytes]) -> None:
        folder = Path(tempfile.mkdtemp())
        try:
            _good(folder)
            names = [f"{i:02d}-bad.eml" for i in range(len(bad))]
            for name, data in zip(names, bad, strict=True):
                (folder / name).write_bytes(data)
            df = org.replay(folder, progress=False)
            assert set(df.message) == {*GOOD, *names}  # every file has a row
            assert (df.error_stage.dropna() != "route").all(), df[df.error_stage.notna()].error.tolist()
            for name, rows in df.groupby("message"):
                if rows.error_stage.notna().any():
                    assert len(rows) == 1 and rows.outcome.tolist() == ["failed"]  # one row per failed file
                else:
                    recipients = rows.recipient.dropna()
                    assert recipients.is_unique  # one row per recipient
                    if name in baseline:
                        assert len(rows) == baseline[name]
            # and the CSV of the same rows is complete, valid UTF-8
            sink = _CsvRows(folder / "out.csv")
            for row in df.itertuples(index=False):
                sink.write([tuple(None if pd.isna(v) else v for v in row)])
            sink.close()
            with open(folder / "out.csv", encoding="utf-8", newline="") as fh:
                assert sum(1 for _ in csv.reader(fh)) == len(df) + 1
        finally:
            shutil.rmtree(folder)

    check()
