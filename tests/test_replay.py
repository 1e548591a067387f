"""Replaying a corpus through an emulated organization, and the functions behind the CLI commands.

Over the sample mail (``data/emails``) and a generated corpus of 200 messages
written as a folder of .eml files, an mbox and a Maildir.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from corpus_generator import load_generator

from workmail_sandbox import sandbox as sandbox_module
from workmail_sandbox.errors import ConfigurationError, RuleError
from workmail_sandbox.organization import OUTCOMES, Organization
from workmail_sandbox.replay import REPLAY_COLUMNS, SAMPLE_DOMAINS
from workmail_sandbox.replay import test_rule as rule_test
from workmail_sandbox.replay_folder import replay_folder
from workmail_sandbox.rules import Evaluation

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
RULES = ROOT / "data" / "rules"
CORPUS_SIZE = 200
SEED = 11


@pytest.fixture(scope="module")
def gen():
    return load_generator()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, gen):
    """The same 200 generated messages as .eml files, an mbox and a Maildir."""
    root = tmp_path_factory.mktemp("corpus")
    paths = {}
    for fmt in ("eml", "mbox", "maildir"):
        stats = gen.write_corpus(root / fmt, CORPUS_SIZE, seed=SEED, fmt=fmt)
        paths[fmt] = Path(stats["path"])
    return paths


@pytest.fixture
def corpus_org(workmail_sandbox, gen):
    """The organization the generated corpus is written for (its users and groups)."""
    return Organization.create(
        workmail_sandbox,
        "example-corp",
        domains=list(gen.ORG_DOMAINS),
        users=[address for _, address in gen.INTERNAL_USERS],
        groups={
            "finance@example.com": ["alice@example.com", "frank@example.com"],
            "sales@sales.example.com": ["dave@sales.example.com"],
            "support@example.com": ["bob@example.com", "carol@example.com"],
        },
        rules=RULES / "basic.yaml",
    )


def _expected_rows(gen, seed: int, n: int) -> tuple[int, dict[int, str]]:
    """Recipients WorkMail handles per message, and each message's direction, from the generator itself."""
    from workmail_sandbox.mail import parse_message

    rows = 0
    directions = {}
    for i, (direction, _from, _when, raw) in enumerate(gen._iter(n, seed, 0.3)):
        parsed = parse_message(raw, headers_only=True)
        recipients = parsed.recipients
        if direction == "INBOUND":
            recipients = [r for r in recipients if r.rpartition("@")[2] in gen.ORG_DOMAINS]
        rows += max(len(recipients), 1)
        directions[i] = direction
    return rows, directions


# ---------------------------------------------------------------- Organization.replay


def test_replay_the_sample_mail(workmail_sandbox):
    org = Organization.create(
        workmail_sandbox, "example-corp", domains=list(SAMPLE_DOMAINS),
        users=["alice@example.com", "bob@example.com", "carol@example.com", "erin@example.com",
               "frank@example.com", "grace@example.com", "hana@example.com", "dave@sales.example.com",
               "restricted@example.com"],
        groups={"finance@example.com": ["alice@example.com", "frank@example.com"]},
        rules=RULES / "basic.yaml",
    )
    df = org.replay(EMAILS, progress=False)
    assert list(df.columns) == list(REPLAY_COLUMNS)
    manifest = {m["file"]: m for m in json.loads((EMAILS / "manifest.json").read_text())}
    assert set(df.message) == set(manifest)
    # direction="auto": outbound exactly when the From address is the organization's (data/emails/README.md).
    directions = df.groupby("message").direction.first()
    assert dict(directions.items()) == {f: m["direction"] for f, m in manifest.items()}
    assert set(df.outcome) <= set(OUTCOMES)
    assert df.loc[df.message == "18-spam-fail.eml", "outcome"].tolist() == ["junk"]
    assert df.loc[df.message == "19-virus-fail.eml", "outcome"].tolist() == ["dropped"]
    assert df.loc[df.message == "17-newsletter.eml", "rule"].tolist() == ["junk-newsletter"]
    # An inbound message none of whose recipients is the organization's gets one failed row, with the reason.
    (row,) = df[df.message == "29-bad-address.eml"].itertuples()
    assert row.outcome == "failed" and "never receive" in row.reason


@pytest.mark.parametrize("fmt", ["eml", "mbox", "maildir"])
def test_replay_a_generated_corpus(corpus_org, corpus, gen, fmt):
    df = corpus_org.replay(corpus[fmt], progress=False)
    rows, directions = _expected_rows(gen, SEED, CORPUS_SIZE)
    assert len(df) == rows  # one row per recipient, nothing lost, nothing doubled
    assert df.message.nunique() == CORPUS_SIZE
    assert set(df.outcome) <= set(OUTCOMES)
    assert df.outcome.notna().all() and df.reason.notna().all()
    order = list(dict.fromkeys(df.message))
    assert [df.loc[df.message == m, "direction"].iloc[0] for m in order] == [directions[i] for i in range(CORPUS_SIZE)]
    assert (df.time_ms > 0).all()


def test_the_three_layouts_give_the_same_result(corpus_org, corpus):
    frames = [corpus_org.replay(corpus[fmt], progress=False) for fmt in ("eml", "mbox", "maildir")]
    keep = ["direction", "subject", "recipient", "rule", "action", "source", "outcome"]
    first = frames[0][keep].reset_index(drop=True)
    for other in frames[1:]:
        pd.testing.assert_frame_equal(first, other[keep].reset_index(drop=True))


def test_replay_keeps_results_not_bodies(corpus_org, corpus, workmail_sandbox):
    """Memory stays flat: metadata only in the mailboxes, and the copies in transit are forgotten."""
    from workmail_sandbox.emulators import _core

    corpus_org.replay(corpus["mbox"], progress=False)
    boxes = [b for b in corpus_org.mailboxes.values() if len(b)]
    assert boxes and all(item.content is None for b in boxes for item in [*b.inbox, *b.junk])
    assert all(item.content is None for item in corpus_org.outbox)
    backend = _core.registered_services()["workmailmessageflow"].backend(
        workmail_sandbox.account_id, workmail_sandbox.region
    )
    assert backend.messages == {}
    assert corpus_org.settings.keep_content  # the organization's own setting is back


def test_replay_with_a_run_lambda_rule(corpus_org, corpus, workmail_sandbox):
    from workmail_sandbox.deploy.handler import deploy_handler

    source = (
        "import boto3\n"
        "flow = boto3.client('workmailmessageflow')\n"
        "def lambda_handler(event, context):\n"
        "    raw = flow.get_raw_message_content(messageId=event['messageId'])['messageContent'].read()\n"
        "    kind = 'MOVE_TO_JUNK' if b'X-SES-Spam-Verdict: FAIL' in raw else 'DEFAULT'\n"
        "    if event['flowDirection'] == 'OUTBOUND':\n"
        "        kind = 'DEFAULT'\n"
        "    return {'actions': [{'action': {'type': kind}, 'allRecipients': True}]}\n"
    )
    fn = deploy_handler(source, name="classifier",
                        managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"])
    corpus_org.grant_invoke("classifier")
    from workmail_sandbox.rules import Rule, RuleSet

    corpus_org.rules = RuleSet([
        Rule.run_lambda("classify-in", "inbound", fn["FunctionArn"], synchronous=True, fallback_action="DEFAULT",
                        rule_timeout_minutes=0),
        Rule.run_lambda("classify-out", "outbound", fn["FunctionArn"], synchronous=True, fallback_action="DEFAULT",
                        rule_timeout_minutes=0),
    ])
    df = corpus_org.replay(corpus["eml"], progress=False)
    handled = df[df.outcome != "failed"]
    virus = handled.source == "ses"
    assert (handled[~virus].source == "lambda").all()
    assert handled[~virus].invocation.notna().all() and (handled[~virus].attempts == 1).all()
    # Every message got exactly one invocation (one conversation each).
    assert handled[~virus].groupby("message").invocation.nunique().eq(1).all()
    assert set(handled[handled.action == "MOVE_TO_JUNK"].outcome) <= {"junk"}


def test_replay_carries_on_past_a_file_that_is_not_mail(workmail_sandbox, tmp_path):
    for name in ("01-plain-inbound.eml", "18-spam-fail.eml"):
        (tmp_path / name).write_bytes((EMAILS / name).read_bytes())
    (tmp_path / "10-broken.eml").write_bytes(b"")
    org = Organization.create(workmail_sandbox, "x", domains=["example.com"], users=["alice@example.com",
                                                                                   "grace@example.com"])
    df = org.replay(tmp_path, progress=False)
    assert list(df.message) == ["01-plain-inbound.eml", "10-broken.eml", "18-spam-fail.eml"]
    assert list(df.outcome) == ["inbox", "failed", "junk"]
    assert "empty" in df.reason.iloc[1]


def test_replay_progress_bar_and_direction(workmail_sandbox, capsys):
    org = Organization.create(workmail_sandbox, "x", domains=["example.com"], users=["alice@example.com"])
    df = org.replay(EMAILS / "01-plain-inbound.eml", progress=True, direction="outbound")
    assert list(df.direction) == ["OUTBOUND"]
    assert list(df.outcome) == ["sent"]
    with pytest.raises(ConfigurationError):
        org.replay(EMAILS, direction="sideways")
    with pytest.raises(ConfigurationError):
        org.replay(EMAILS / "no-such-folder")


# ---------------------------------------------------------------------- CLI functions


def test_test_rule_matches_the_rule_manifest():
    """The console's Test configuration box over rule files (test-email-flow-rule.md; data/rules/manifest.json)."""
    manifest = json.loads((RULES / "manifest.json").read_text())
    checked = 0
    for entry in manifest:
        for case in entry.get("cases", []):
            evaluation = rule_test(RULES / entry["file"], case["sender"], case["recipient"], case["direction"])
            assert isinstance(evaluation, Evaluation)
            assert evaluation.action == case["action"]
            assert (evaluation.winner.name if evaluation.winner else None) == case["winner"]
            checked += 1
    assert checked > 10
    with pytest.raises(RuleError):
        rule_test(RULES / "invalid-plus-pattern.yaml", "a@example.org", "b@example.com")


def test_replay_folder_with_a_function(tmp_path, corpus):
    assert sandbox_module.current() is None
    handler = tmp_path / "my_function.py"
    handler.write_text(
        "import boto3\n"
        "def handle(event, context):\n"
        "    boto3.client('workmailmessageflow').get_raw_message_content(messageId=event['messageId'])\n"
        "    return {'actions': [{'action': {'type': 'DEFAULT'}, 'allRecipients': True}]}\n"
    )
    out = tmp_path / "out.csv"
    df = replay_folder(corpus["maildir"], RULES / "run-lambda-sync.json", f"{handler}:handle", out, progress=False)
    assert sandbox_module.current() is None  # started for the call, stopped after it
    assert out.exists() and len(pd.read_csv(out)) == len(df)
    lambda_rows = df[df.rule.isin(["hello-world-inbound", "hello-world-outbound"])]
    assert len(lambda_rows) > 0 and (lambda_rows.source == "lambda").all()
    assert set(df.outcome) <= set(OUTCOMES)


def test_replay_folder_without_the_function_uses_the_fallback(tmp_path):
    """The rule file names a function that does not exist in a fresh sandbox: the rule's fallback applies."""
    df = replay_folder(EMAILS, RULES / "run-lambda-sync.json", progress=False, csv=None)
    inbound = df[(df.rule == "hello-world-inbound")]
    assert len(inbound) > 0 and (inbound.source == "fallback").all()
    assert inbound.reason.str.contains("there is no function").all()
    outbound = df[(df.rule == "hello-world-outbound")]
    assert (outbound.outcome == "bounced").all()  # fallback BOUNCE, timeout 0


def test_replay_folder_refuses_bad_function_specs(tmp_path):
    with pytest.raises(ConfigurationError, match="PATH:HANDLER"):
        replay_folder(EMAILS, RULES / "run-lambda-sync.json", "nohandler")
    with pytest.raises(ConfigurationError, match="no such Python file"):
        replay_folder(EMAILS, RULES / "run-lambda-sync.json", str(tmp_path / "missing.py") + ":h")
    (tmp_path / "f.py").write_text("def h(e, c):\n    return None\n")
    with pytest.raises(ConfigurationError, match="no Run Lambda rule"):
        replay_folder(EMAILS, RULES / "basic.yaml", f"{tmp_path / 'f.py'}:h")
