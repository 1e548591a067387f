"""Bounded work on hostile input: size limits before reading, linear parsing, clear errors.

Every input here must finish within a time budget and raise only the kit's own
errors (``WorkMailSandboxError`` and its subclasses). The hostile files are
written by the tests themselves: a YAML alias bomb, deeply nested JSON, huge
integers, a 10 MB To header, a FIFO, ``/dev/zero``, a 50,000-statement policy.
The command-line cases run in a subprocess with an address-space limit
(``RLIMIT_AS``), so a regression that eats memory fails instead of swapping.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workmail_sandbox.errors import MessageParseError, RuleError, WorkMailSandboxError
from workmail_sandbox.events import JSONLimitError, WorkMailEvent, check_event, events_from_message, load_json
from workmail_sandbox.iam import PolicyError, parse_policy
from workmail_sandbox.mail import parse_message, read_eml
from workmail_sandbox.mail.addresses import addresses_in_field, plain_address_list, split_address_list
from workmail_sandbox.mail.parsing import MAX_HEADER_BYTES
from workmail_sandbox.responses import check_response
from workmail_sandbox.rules import RuleSet
from workmail_sandbox.rules.files import MAX_RULE_FILE_BYTES

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 2.0  # per input, on a shared 2-core machine
MEMORY_LIMIT = 1024 * 1024 * 1024  # address space of a CLI subprocess

FUZZ = settings(
    deadline=2000, max_examples=60, suppress_health_check=[HealthCheck.too_slow], database=None, derandomize=True
)


@contextmanager
def budget(seconds: float = BUDGET_S) -> Iterator[None]:
    """Fail if the block takes longer than ``seconds``; SIGALRM also interrupts a blocking open()."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"over the {seconds} s budget")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds * 3)  # hard stop; the soft check is below
    start = time.perf_counter()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s, over the {seconds} s budget"


def msg(headers: bytes = b"", body: bytes = b"hello\r\n") -> bytes:
    return b"From: a@example.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n" + headers + b"\r\n" + body


def recipients_message(count: int, *, named: bool = True) -> bytes:
    items = (f"User {i} <user{i}@example.com>" if named else f"user{i}@example.com" for i in range(count))
    return msg(b"To: " + ", ".join(items).encode() + b"\r\nSubject: many\r\n")


def run_cli(*args: str, stdin: bytes | None = None, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess with RLIMIT_AS, so runaway memory is a MemoryError, not a swap storm."""
    code = (
        "import resource, sys;"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}));"
        "from workmail_sandbox.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("workmail-sandbox"), result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# -------------------------------------------------------------- reading files: stat first


def test_read_eml_refuses_a_fifo_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.eml"
    os.mkfifo(fifo)
    with budget(), pytest.raises(MessageParseError, match="FIFO"):
        read_eml(fifo)  # opening a FIFO for reading would block forever


def test_read_eml_refuses_a_device() -> None:
    with budget(), pytest.raises(MessageParseError, match="character device"):
        read_eml("/dev/zero")  # used to read until MemoryError at 2.6 GB


def test_read_eml_refuses_an_oversized_file_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.eml"
    with big.open("wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.truncate(100 * 1024 * 1024)
    tracemalloc.start()
    try:
        with budget(), pytest.raises(MessageParseError, match="over the .*-byte limit"):
            read_eml(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_header_block_limit_is_checked_before_parsing() -> None:
    raw = msg(b"X-Long: " + b"a" * 5000 + b"\r\n")
    with pytest.raises(MessageParseError, match="header block is over the 1,000-byte limit"):
        parse_message(raw, max_header_bytes=1000)
    assert parse_message(raw, max_header_bytes=None).header("X-Long") == "a" * 5000
    assert parse_message(raw).header("X-Long") == "a" * 5000  # the default is far larger


def test_a_10_mb_to_header_is_refused_at_once() -> None:
    raw = msg(b"To: " + b"user@example.com, " * (10 * 1024 * 1024 // 18) + b"\r\n")
    assert len(raw) > MAX_HEADER_BYTES
    with budget(), pytest.raises(MessageParseError, match="header block"):
        events_from_message(raw, org_domains=["example.com"])


# ----------------------------------------------------------------- addresses: linear


def test_100000_recipients_take_seconds_not_minutes() -> None:
    raw = recipients_message(100_000)  # `event` took 618 s and 932 MB before
    tracemalloc.start()
    try:
        with budget(5):
            events = events_from_message(raw, org_domains=["example.com"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(events) == 1 and events[0].truncated
    assert events[0].envelope.recipients[0] == "user0@example.com"
    assert peak < 300 * 1024 * 1024


def test_20000_recipients_read_the_same_as_a_few() -> None:
    parsed = parse_message(recipients_message(20_000), headers_only=True)
    with budget():
        to = parsed.to
    assert to == [f"user{i}@example.com" for i in range(20_000)]


@pytest.mark.parametrize(
    "item",
    [
        '"Doe, Jane" <JANE{i}@Example.com>',
        "jane{i}@example.com (Jane)",
        "=?utf-8?q?J=C3=A9r=C3=B4me?= <jerome{i}@example.com>",
        '"quoted \\" name" <q{i}@example.com>',
    ],
)
def test_long_fields_read_item_by_item_as_the_stdlib_reads_short_ones(item: str) -> None:
    short = ", ".join(item.format(i=i) for i in range(3))
    long = ", ".join(item.format(i=i) for i in range(2000))
    assert len(long) > 16 * 1024
    expected_short = parse_message(msg(f"To: {short}\r\n".encode())).to
    with budget():
        got = parse_message(msg(f"To: {long}\r\n".encode()), headers_only=True).to
    assert got[:3] == expected_short
    assert len(got) == 2000


def test_long_group_field() -> None:
    field = "team: " + ", ".join(f"u{i}@example.com" for i in range(3000)) + "; other@example.com"
    got = parse_message(msg(f"To: {field}\r\n".encode()), headers_only=True).to
    assert got == [f"u{i}@example.com" for i in range(3000)] + ["other@example.com"]


def test_long_fields_skip_the_quadratic_stdlib_parser() -> None:
    subject = " ".join("=?utf-8?q?caf=C3=A9?=" for _ in range(30_000))  # 600 KB; stdlib: minutes
    raw = msg(f"Subject: {subject}\r\nTo: {', '.join('x' * 40 for _ in range(20_000))}\r\n".encode())
    parsed = parse_message(raw, headers_only=True)
    with budget():
        assert parsed.subject == "café" * 30_000  # adjacent encoded words join (RFC 2047 6.2)
        assert parsed.to == []
        defects = parsed.defects
    assert any("linear reader" in d for d in defects)


@FUZZ
@given(st.lists(st.from_regex(r"[A-Za-z0-9 .\"'<>@(),:;\\=?-]{0,30}", fullmatch=True), max_size=8))
def test_plain_address_reading_agrees_with_the_stdlib(items: list[str]) -> None:
    text = ", ".join(items)
    plain = plain_address_list(text)
    if plain is not None:  # compare with the stdlib's full RFC 5322 grammar, not the kit's reader
        from email import policy

        from workmail_sandbox.mail import normalize_address

        def normalized(specs: list[str]) -> list[str]:
            out = []
            for spec in specs:
                try:
                    out.append(normalize_address(spec))
                except MessageParseError:
                    pass
            return out

        stdlib = [a.addr_spec for a in policy.default.header_fetch_parse("To", text).addresses]
        assert normalized(plain) == normalized(stdlib)
    with budget():
        split_address_list(text * 50)
        addresses_in_field(text * 2000)


# ------------------------------------------------------------------------- JSON input


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"[" * 1000 + b"]" * 1000, "more than 64 levels"),
        (b'{"a": ' + b"9" * 5000 + b"}", "number of 5,000 characters"),
        (b'{"a": -' + b"9" * 100_000 + b"}", "number of 100,001 characters"),
        (b'{"a": 1' + b"0" * 200 + b".5}", "number of"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": -Infinity}', "-Infinity"),
        (b" " * (5 * 1024 * 1024), "over the"),
    ],
)
def test_load_json_limits(data: bytes, needle: str) -> None:
    with budget(), pytest.raises(JSONLimitError, match=needle):
        load_json(data)


def test_load_json_depth_scan_ignores_brackets_in_strings() -> None:
    assert load_json(json.dumps({"a": "[" * 500 + "{" * 500})) == {"a": "[" * 500 + "{" * 500}


def test_event_from_json_turns_limits_into_event_errors() -> None:
    with pytest.raises(WorkMailSandboxError, match="more than 64 levels"):
        WorkMailEvent.from_json("[" * 2000 + "]" * 2000)


def test_check_functions_survive_deep_python_values() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    with budget():
        assert check_response({"actions": deep}, direction="inbound")
        problems = check_event({"summaryVersion": "2018-10-10", "x": deep}, strict=False)
    assert problems


@pytest.mark.parametrize("command", ["check-event", "check-response"])
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"[" * 1000 + b"]" * 1000, "levels"),  # RecursionError traceback before
        (b'{"actions": ' + b"7" * 4301 + b"}", "number of 4,301 characters"),  # ValueError traceback before
        (b'{"actions": 1e99999}', None),  # a float overflow is inf, not an error: checked as a value
    ],
)
def test_check_commands_turn_hostile_json_into_one_line(
    tmp_path: Path, command: str, content: bytes, needle: str | None
) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    extra = ["--direction", "inbound", "--recipient", "a@example.com"] if command == "check-response" else []
    result = run_cli(command, str(path), *extra)
    if needle is None:
        assert result.returncode in (1, 3) and "Traceback" not in result.stderr, result.stderr
    else:
        assert_one_line_error(result, 3, needle)


def test_check_event_refuses_a_fifo_and_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "event.json"
    os.mkfifo(fifo)
    assert_one_line_error(run_cli("check-event", str(fifo), timeout=10), 3, "FIFO")
    assert_one_line_error(run_cli("check-event", "/dev/zero", timeout=10), 3, "character device")


def test_event_command_on_hostile_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.eml"
    os.mkfifo(fifo)
    assert_one_line_error(run_cli("event", str(fifo), "--org-domain", "example.com", timeout=10), 3, "FIFO")
    assert_one_line_error(run_cli("event", "/dev/zero", "--org-domain", "example.com", timeout=10), 3, "device")
    huge = tmp_path / "huge.eml"
    huge.write_bytes(msg(b"To: " + b"user@example.com, " * (10 * 1024 * 1024 // 18) + b"\r\n"))
    assert_one_line_error(run_cli("event", str(huge), "--org-domain", "example.com"), 3, "header block")
    many = tmp_path / "many.eml"
    many.write_bytes(recipients_message(100_000))
    start = time.perf_counter()
    result = run_cli("event", str(many), "--org-domain", "example.com", "--indent", "0")
    assert result.returncode == 0, result.stderr
    assert time.perf_counter() - start < 10
    assert json.loads(result.stdout)[0]["truncated"] is True


def test_event_command_reads_stdin_with_a_bound() -> None:
    result = run_cli("event", "-", "--org-domain", "example.com", stdin=msg(b"To: b@example.com\r\n"))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("indent", ["100000000", "-1", "17", "x"])
def test_indent_is_bounded(indent: str) -> None:
    from workmail_sandbox.cli import build_parser

    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["event", "m.eml", "--org-domain", "example.com", "--indent", indent])
    assert info.value.code == 2


def test_indent_in_range_is_accepted() -> None:
    from workmail_sandbox.cli import build_parser

    args = build_parser().parse_args(["event", "m.eml", "--org-domain", "example.com", "--indent", "16"])
    assert args.indent == 16


# ------------------------------------------------------------------------- rule files

BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "inbound:\n  - name: *i\n    senders: ['*']\n    recipients: ['*']\n    action: DEFAULT\n"
)


def test_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 1000  # took 6.2 GB and 84 s before MemoryError
    tracemalloc.start()
    try:
        with budget(), pytest.raises(RuleError, match="anchors and aliases"):
            RuleSet.from_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_a_single_alias_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("inbound:\n  - &r {name: a, senders: ['*'], recipients: ['*'], action: DEFAULT}\n  - *r\n")
    with pytest.raises(RuleError, match=r"anchors and aliases .*line 2"):
        RuleSet.from_file(path)


def test_unquoted_star_pattern_still_gets_its_hint(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("inbound:\n  - name: a\n    senders: [*]\n    recipients: ['*']\n    action: DEFAULT\n")
    with pytest.raises(RuleError) as info:
        RuleSet.from_file(path)
    assert info.value.fix and "quote" in info.value.fix


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_rule_file_size_cap_is_checked_before_reading(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"rules{suffix}"
    with path.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024)  # a 20 MB YAML file ran past 20 s
    with budget(), pytest.raises(RuleError, match=f"over the {MAX_RULE_FILE_BYTES:,}-byte limit"):
        RuleSet.from_file(path)


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("deep.json", "[" * 5000 + "]" * 5000, "levels"),
        ("int.json", '{"rules": ' + "1" * 5000 + "}", "number"),
        ("deep.yaml", "[" * 100 + "]" * 100, "more than 32 levels"),
        ("deeper.yaml", "[" * 3000 + "]" * 3000, "nest"),  # libyaml's own limit, or the kit's
    ],
)
def test_rule_file_nesting_and_numbers(tmp_path: Path, name: str, content: str, needle: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with budget(), pytest.raises(RuleError, match=needle):
        RuleSet.from_file(path)


def test_rule_file_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    with budget(), pytest.raises(RuleError, match="not a regular file"):
        RuleSet.from_file(fifo)


def test_test_rule_command_on_a_yaml_bomb(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(BOMB)
    result = run_cli("test-rule", "--rules", str(path), "--sender", "a@b.example", "--recipient", "c@d.example")
    assert_one_line_error(result, 1, "anchors and aliases")


# ----------------------------------------------------------------------------- policies


def _statement(i: int) -> dict[str, Any]:
    return {
        "Sid": f"s{i}",
        "Effect": "Allow",
        "Principal": {"Service": "workmail.us-east-1.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": "*",
    }


def _policy(statements: int) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [_statement(i) for i in range(statements)]}


@pytest.mark.parametrize(
    ("kind", "limit", "wording"),
    [
        ("lambda", 20 * 1024, "PolicyLengthExceededException: The final policy size is bigger than the limit"),
        ("s3-bucket", 20 * 1024, "20 KB"),
        ("inline-role", 10_240, "Maximum policy size of 10240 bytes exceeded for role"),
        ("managed", 6_144, "Cannot exceed quota for PolicySize: 6144"),
    ],
)
def test_policy_size_limits_by_kind(kind: Any, limit: int, wording: str) -> None:
    fits = [n for n in range(1, 400) if len(json.dumps(_policy(n), separators=(",", ":"))) <= limit][-1]
    parse_policy(json.dumps(_policy(fits), separators=(",", ":")), kind=kind)
    with pytest.raises(PolicyError, match="over the") as info:
        parse_policy(json.dumps(_policy(fits + 1), separators=(",", ":")), kind=kind)
    assert wording in str(info.value)


def test_character_limits_do_not_count_white_space() -> None:
    compact = json.dumps(_policy(40), separators=(",", ":"))
    assert len(compact) <= 6_144
    parse_policy(json.dumps(_policy(40), indent=8), kind="managed")  # pretty-printed, same characters


def test_a_50000_statement_policy_is_refused_quickly() -> None:
    doc = _policy(50_000)  # took 18.5 s to evaluate before
    from workmail_sandbox.iam import Principal, Request, evaluate

    request = Request("lambda:InvokeFunction", "*", principal=Principal("Service", "workmail.us-east-1.amazonaws.com"))
    with budget():
        with pytest.raises(PolicyError, match="over the 20,480-character limit"):
            parse_policy(json.dumps(doc))
        with pytest.raises(PolicyError, match="over the"):
            parse_policy(doc)
        with pytest.raises(PolicyError, match="over the"):
            evaluate([doc], request, kind="resource")


def test_deep_policy_json_is_a_policy_error() -> None:
    with budget(), pytest.raises(PolicyError):
        parse_policy('{"Statement": ' + "[" * 5000 + "]" * 5000 + "}")


# ------------------------------------------------------------------------------ fuzzing


def _only_kit_errors(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except WorkMailSandboxError:
        pass


HEADER_LINE = st.builds(
    lambda name, value: name + b": " + value + b"\r\n",
    st.sampled_from([b"From", b"To", b"Cc", b"Sender", b"Subject", b"Bcc", b"Date", b"X-A"]),
    st.binary(max_size=200),
)


@FUZZ
@given(st.lists(HEADER_LINE, max_size=6), st.binary(max_size=300))
def test_fuzz_parse_message_and_events(headers: list[bytes], body: bytes) -> None:
    raw = b"".join(headers) + b"\r\n" + body
    with budget():
        _only_kit_errors(lambda: parse_message(raw).defects)
        _only_kit_errors(lambda: events_from_message(raw, org_domains=["example.com"]))
        _only_kit_errors(lambda: events_from_message(raw, direction="outbound"))


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_parse_message_on_any_bytes(raw: bytes) -> None:
    with budget():
        _only_kit_errors(lambda: parse_message(raw, headers_only=True).recipients)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(JSON_VALUES, st.sampled_from(["inbound", "outbound"]))
def test_fuzz_check_event_and_response(value: Any, direction: str) -> None:
    with budget():
        check_event(value)
        check_event({"summaryVersion": "2018-10-10", "envelope": value, "truncated": False}, strict=False)
        check_response(value, direction=direction)
        check_response({"actions": value}, direction=direction)
        _only_kit_errors(lambda: load_json(json.dumps(value)))


@FUZZ
@given(st.text(alphabet="[]{}\"\\,:0123456789.eE-+ antrufl", max_size=200))
def test_fuzz_load_json_raises_only_documented_errors(text: str) -> None:
    with budget():
        try:
            load_json(text)
        except (JSONLimitError, json.JSONDecodeError):
            pass


@FUZZ
@given(st.text(alphabet="&*abc :-[]{}\n'\"!#", max_size=200), st.sampled_from([".yaml", ".json"]))
def test_fuzz_rule_files(tmp_path_factory: pytest.TempPathFactory, text: str, suffix: str) -> None:
    path = tmp_path_factory.mktemp("rules") / f"rules{suffix}"
    path.write_text(text, encoding="utf-8")
    with budget():
        _only_kit_errors(lambda: RuleSet.from_file(path))


def test_hostile_corpus_is_regular_files_only(tmp_path: Path) -> None:
    """Sanity: the corpus the tests build uses the file kinds they claim."""
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert stat.S_ISCHR(Path("/dev/zero").stat().st_mode)
