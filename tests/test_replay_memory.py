"""Replay keeps memory flat: a replay worker's organization retains (almost) nothing per message routed.

Measured with tracemalloc (what stays allocated after routing, not time): the bytes retained per
message while routing 4N messages must be small and no more than while routing N. Before
``Organization.keep_mail`` and ``EventLog.write_logs``, a worker retained about 4.3 KB per message
(mailbox metadata, every event log line in moto's CloudWatch Logs).
"""

from __future__ import annotations

import gc
import itertools
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import pytest
from corpus_generator import load_generator

from workmail_sandbox import replay_jobs
from workmail_sandbox import sandbox as sandbox_module
from workmail_sandbox.deploy import deploy_handler
from workmail_sandbox.flow import FlowSettings
from workmail_sandbox.organization import Organization
from workmail_sandbox.replay import REPLAY_COLUMNS, SAMPLE_DOMAINS
from workmail_sandbox.replay_folder import rules_running
from workmail_sandbox.rules import RuleSet, patterns

ROOT = Path(__file__).resolve().parents[1]
N = 100
#: Retained bytes per message allowed over the 4N messages (it was about 4,300 before).
PER_MESSAGE_LIMIT = 256
_ALIASES = itertools.count(1)


@contextmanager
def _replay_org(rules: str):
    """The organization a replay worker sets up (what replay_folder does for --jobs), in this process."""
    with sandbox_module.sandbox() as sb:
        yield Organization.create(
            sb, f"memory-{next(_ALIASES)}", domains=list(SAMPLE_DOMAINS), rules=ROOT / "data" / "rules" / rules,
            settings=FlowSettings(unknown_recipients="create-mailbox"),
        )


def _retained(org: Organization) -> int:
    """Bytes traced now, without the rules' caches (bounded: they are emptied at 10,000, 50,000 and 100,000 entries).

    Those caches are flat over a long run but fill up over a short one, which would hide what this test is about.
    """
    org.rules = RuleSet(list(org.rules), settings=org.rules.settings)  # a fresh copy: same rules, empty caches
    patterns._KEYS.clear()  # normalized addresses, emptied at 100,000
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _routed(rows: list[list[tuple]]) -> int:
    return sum(1 for entry in rows if entry[0][-2] is None)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memory") / "corpus"
    load_generator().write_corpus(folder, 6 * N, seed=11, fmt="mbox")
    return folder / "corpus.mbox"


FETCH = """
import boto3

flow = boto3.client("workmailmessageflow")


def handler(event, context):
    flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    print("fetched", event["messageId"])
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
"""


@contextmanager
def _replay_org_with_function():
    """The same with a Run Lambda rule running a function that fetches each message and prints a line."""
    with sandbox_module.sandbox() as sb:
        name = f"memory-fn-{next(_ALIASES)}"
        deployed = deploy_handler(FETCH, name=name, handler_name="handler",
                                  managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"])
        rules = rules_running(RuleSet.from_file(ROOT / "data" / "rules" / "run-lambda-sync.json"),
                              deployed["FunctionArn"])
        org = Organization.create(sb, name, domains=list(SAMPLE_DOMAINS), rules=rules,
                                  settings=FlowSettings(unknown_recipients="create-mailbox"))
        org.grant_invoke(name)
        yield org


@pytest.mark.parametrize("setup", [(_replay_org, ("basic.yaml",)), (_replay_org_with_function, ())],
                         ids=["rules only", "a function that fetches and prints"])
def test_a_replay_worker_retains_no_memory_per_message(corpus, setup):
    entries, error = replay_jobs.corpus_entries(corpus)
    assert error is None and len(entries) == 6 * N
    assert {kind for _, kind, _ in entries} == {"mbox-at"}  # read by offset: no mbox table in the worker
    token = f"memory-test-{id(corpus)}-{setup[0].__name__}"
    replay_jobs.set_up_once(token, setup[0], setup[1], "auto")
    try:
        org = replay_jobs._worker["org"]
        assert org.keep_mail is False and org.log.write_logs is False and org.log.keep is False
        assert org.sandbox.runtime.logs.enabled is False
        replay_jobs.route_chunk(entries[:N])  # warm up: imports, first-use caches
        tracemalloc.start()
        try:
            start = _retained(org)
            routed = _routed(replay_jobs.route_chunk(entries[N:2 * N]))  # the rows are not kept
            after_n = _retained(org)
            routed += _routed(replay_jobs.route_chunk(entries[2 * N:6 * N]))
            after_5n = _retained(org)
        finally:
            tracemalloc.stop()
        per_n = max(after_n - start, 0) / N
        per_4n = (after_5n - after_n) / (4 * N)
        print(f"retained per message: {per_n:.0f} bytes over {N}, {per_4n:.0f} over {4 * N}")
        assert per_4n < PER_MESSAGE_LIMIT, f"{per_4n:.0f} bytes retained per message over {4 * N} messages"
        assert per_4n <= per_n + 64, f"per message: {per_n:.0f} bytes over {N}, {per_4n:.0f} over {4 * N}"
        assert routed == 5 * N  # every message routed, none failed
        assert org.log.unwritten > 0 and len(org.log) == 0 and not org.outbox
        assert all(len(box) == 0 for box in org.mailboxes.values())
    finally:
        replay_jobs._stop_worker()


def test_an_organization_keeps_its_mail_by_default_and_not_when_told(workmail_sandbox):
    org = Organization.create(workmail_sandbox, f"keep-{next(_ALIASES)}", domains=["example.com"],
                              users=["alice@example.com"])
    message = b"From: bob@example.org\r\nTo: alice@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    assert org.keep_mail is True and org.log.write_logs is True
    org.receive(message)
    assert len(org.mailbox("alice@example.com").inbox) == 1
    written = org.log.unwritten
    org.keep_mail = False
    org.log.write_logs = False
    result = org.receive(message)
    assert result.recipients["alice@example.com"].outcome == "inbox"  # routed as before, only not kept
    assert len(org.mailbox("alice@example.com").inbox) == 1
    assert org.log.unwritten > written
    org.keep_mail = True
    org.receive(message)
    assert len(org.mailbox("alice@example.com").inbox) == 2


def test_workers_read_an_mbox_by_the_listing_offsets_as_mailbox_mbox_reads_it(tmp_path):
    import mailbox

    box = mailbox.mbox(tmp_path / "tricky.mbox")
    box.add(b"From: a@example.org\nTo: alice@example.com\nSubject: one\n\nFrom the start, a body line\n")
    box.add(b"From: b@example.org\nTo: bob@example.com\nSubject: two\n\nno final newline")
    box.add(b"From: c@example.org\nTo: carol@example.com, x@example.net\nSubject: three\n\n>From quoted\n\n")
    box.flush()
    keys = list(box.iterkeys())
    box.close()
    entries, error = replay_jobs.corpus_entries(tmp_path / "tricky.mbox")
    assert error is None and [kind for _, kind, _ in entries] == ["mbox-at"] * 3
    by_key = [(name, "mbox", (str(tmp_path / "tricky.mbox"), key)) for (name, _, _), key in zip(entries, keys,
                                                                                                strict=True)]
    replay_jobs.set_up_once(f"offsets-{id(tmp_path)}", _replay_org, ("basic.yaml",), "auto")
    try:
        at, keyed = replay_jobs.route_chunk(entries), replay_jobs.route_chunk(by_key)
    finally:
        replay_jobs._stop_worker()
    time_ms = REPLAY_COLUMNS.index("time_ms")  # wall-clock: differs between runs

    def comparable(rows):
        return [[row[:time_ms] + row[time_ms + 1:] for row in entry] for entry in rows]

    assert comparable(at) == comparable(keyed)
    assert [entry[0][2] for entry in at] == ["one", "two", "three"]


def test_a_log_that_records_nothing_counts_each_event_it_was_spared(workmail_sandbox):
    """With neither memory nor CloudWatch Logs, the router builds no event at all, yet counts each one."""
    org = Organization.create(workmail_sandbox, f"spared-{next(_ALIASES)}", domains=["example.com"],
                              users=["alice@example.com", "bob@example.com"])
    message = b"From: carol@example.org\r\nTo: alice@example.com, bob@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    org.receive(message)
    produced = len(org.log)  # what one such message logs: received, two deliveries
    assert produced >= 3
    org.log.keep = False
    org.log.write_logs = False
    assert not org.log.recording
    before = org.log.unwritten
    org.receive(message)
    assert org.log.unwritten - before == produced
    assert len(org.log) == produced  # nothing new in memory


def test_replay_without_logs_writes_no_function_log_line_and_restores_the_runtime(workmail_sandbox, tmp_path):
    import boto3

    from workmail_sandbox.replay import replay

    name = f"quiet-{next(_ALIASES)}"
    deployed = deploy_handler(FETCH, name=name, handler_name="handler",
                              managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"])
    rules = rules_running(RuleSet.from_file(ROOT / "data" / "rules" / "run-lambda-sync.json"), deployed["FunctionArn"])
    org = Organization.create(workmail_sandbox, name, domains=["example.com"], users=["alice@example.com"], rules=rules)
    org.grant_invoke(name)
    for i in range(3):
        (tmp_path / f"{i}.eml").write_bytes(
            f"From: bob@example.org\r\nTo: alice@example.com\r\nSubject: m{i}\r\n\r\nbody\r\n".encode())
    runtime = workmail_sandbox.runtime
    frame = replay(org, tmp_path, progress=False, keep_log=False, keep_mail=False, write_logs=False)
    assert len(frame) == 3 and frame["invocation"].notna().all() and set(frame["action"]) == {"DEFAULT"}
    assert runtime.logs.enabled is True  # restored
    assert runtime.logs.unwritten == 3 * 4  # START, the print, END, REPORT per message
    logs = boto3.client("logs", region_name="us-east-1")
    assert not logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    replay(org, tmp_path, progress=False)  # the defaults write them
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert streams


def test_replay_folder_in_your_sandbox_writes_no_function_log_line_and_restores_the_runtime(workmail_sandbox, tmp_path):
    import boto3

    from workmail_sandbox.replay_folder import replay_folder

    function = tmp_path / "fetcher.py"
    function.write_text(FETCH)
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "one.eml").write_bytes(b"From: bob@example.org\r\nTo: alice@example.com\r\nSubject: hi\r\n\r\nbody\r\n")
    frame = replay_folder(mail, ROOT / "data" / "rules" / "run-lambda-sync.json", f"{function}:handler", progress=False)
    assert len(frame) == 1 and frame["invocation"].notna().all()
    assert workmail_sandbox.runtime.logs.enabled is True
    assert workmail_sandbox.runtime.logs.unwritten == 4  # START, the print, END, REPORT
    logs = boto3.client("logs", region_name="us-east-1")
    assert not logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/replay-fetcher")["logGroups"]
