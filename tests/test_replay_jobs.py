"""``replay --jobs N``: the corpus split over worker processes gives the rows of one process, in order."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from corpus_generator import load_generator

from workmail_sandbox import cli
from workmail_sandbox import sandbox as sandbox_module
from workmail_sandbox.errors import ConfigurationError
from workmail_sandbox.replay import REPLAY_COLUMNS
from workmail_sandbox.replay_folder import replay_folder

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
RULES = ROOT / "data" / "rules"
#: Measured or generated per run: the only columns allowed to differ between --jobs 1 and --jobs 2.
VARYING = ["time_ms", "invocation"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(REPLAY_COLUMNS) == list(b.columns)
    assert len(a) == len(b) > 0
    pd.testing.assert_frame_equal(a.drop(columns=VARYING).reset_index(drop=True),
                                  b.drop(columns=VARYING).reset_index(drop=True))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """80 generated messages, a file that is not mail and a folder named like a message, in the middle."""
    gen = load_generator()
    root = tmp_path_factory.mktemp("jobs") / "corpus"
    gen.write_corpus(root, 80, seed=5, fmt="eml")
    names = sorted(p.name for p in root.glob("*.eml"))
    middle = names[len(names) // 2]
    (root / (middle[:-4] + "-broken.eml")).write_bytes(b"\x00\x01 not a message \xff\xfe")
    (root / (names[10][:-4] + "-dir.eml")).mkdir()
    return root


def test_two_jobs_give_the_rows_of_one_in_order(corpus):
    one = replay_folder(corpus, RULES / "basic.yaml", progress=False)
    two = replay_folder(corpus, RULES / "basic.yaml", progress=False, jobs=2)
    assert sandbox_module.current() is None
    _same(one, two)
    failed = two[two.error_stage.notna()]
    assert sorted(failed.error_stage) == ["parse", "read"]
    # each error row sits where its file sorts in the corpus
    for name in failed.message:
        position = list(two.message.drop_duplicates()).index(name)
        assert position == list(one.message.drop_duplicates()).index(name)
        assert name == sorted(p.relative_to(corpus).as_posix() for p in corpus.glob("*.eml"))[position]


def test_the_cli_writes_the_same_csv_with_two_jobs_and_a_function(corpus, tmp_path, capsys):
    handler = tmp_path / "fn.py"
    handler.write_text(
        "def handle(event, context):\n"
        "    return {'actions': [{'action': {'type': 'DEFAULT'}, 'allRecipients': True}]}\n"
    )
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.csv"
        code = cli.main(["replay", str(corpus), "--rules", str(RULES / "run-lambda-sync.json"),
                         "--function", f"{handler}:handle", "--csv", str(out), "--no-progress", "--jobs", jobs])
        assert code == 1  # the two entries that are not messages
        outputs[jobs] = pd.read_csv(out)
    _same(outputs["1"], outputs["2"])
    assert (outputs["2"].source == "lambda").any()
    assert capsys.readouterr().err.count("2 message(s) failed (1 at read, 1 at parse)") == 2


def test_a_message_that_kills_its_worker_gets_its_error_row_and_the_run_goes_on(corpus, tmp_path):
    handler = tmp_path / "killer.py"
    handler.write_text(
        "import os\n"
        "def handle(event, context):\n"
        "    if 'Lyon office' in event['subject']:\n"
        "        os._exit(9)  # the whole worker process dies\n"
        "    return {'actions': [{'action': {'type': 'DEFAULT'}, 'allRecipients': True}]}\n"
    )
    df = replay_folder(corpus, RULES / "run-lambda-sync.json", f"{handler}:handle", progress=False, jobs=2)
    messages = list(df.message.drop_duplicates())
    assert messages == sorted(p.relative_to(corpus).as_posix() for p in corpus.glob("*.eml"))
    died = df[df.error.fillna("").str.contains("worker process routing it died")]
    killers = sorted(p.name for p in corpus.glob("*.eml") if p.is_file() and b"Lyon office" in p.read_bytes())
    assert killers and list(died.message) == killers  # those alone, each in one row, in order
    assert (died.error_stage == "route").all()
    assert (df.source == "lambda").any()  # the other messages were routed


@pytest.mark.parametrize("fmt", ["mbox", "maildir"])
def test_an_mbox_and_a_maildir_too(tmp_path, fmt):
    gen = load_generator()
    source = Path(gen.write_corpus(tmp_path / fmt, 30, seed=9, fmt=fmt)["path"])
    one = replay_folder(source, RULES / "basic.yaml", progress=False)
    two = replay_folder(source, RULES / "basic.yaml", progress=False, jobs=2)
    _same(one, two)
    assert two.message.nunique() == 30 and two.error_stage.isna().all()


def test_more_jobs_than_messages(tmp_path):
    one = replay_folder(EMAILS / "01-plain-inbound.eml", RULES / "basic.yaml", progress=False)
    three = replay_folder(EMAILS / "01-plain-inbound.eml", RULES / "basic.yaml", progress=False, jobs=3)
    _same(one, three)


@pytest.mark.parametrize("jobs", ["0", "-2", "two"])
def test_jobs_below_one_is_a_usage_error(jobs, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["replay", str(EMAILS), "--rules", str(RULES / "basic.yaml"), "--jobs", jobs])
    assert exit_info.value.code == 2
    assert "--jobs" in capsys.readouterr().err


def test_the_library_refuses_jobs_below_one():
    with pytest.raises(ConfigurationError, match="jobs must be a whole number of 1 or more"):
        replay_folder(EMAILS, RULES / "basic.yaml", progress=False, jobs=0)


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow is not installed")
def test_two_jobs_stream_parquet_in_row_groups_and_a_summary_without_keeping_rows(corpus, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from workmail_sandbox import replay_folder as replay_folder_module
    from workmail_sandbox.replay_summary import ReplaySummary

    monkeypatch.setattr(replay_folder_module, "PARQUET_ROW_GROUP", 40)
    one = replay_folder(corpus, RULES / "basic.yaml", progress=False)
    summary = ReplaySummary()
    kept = replay_folder(corpus, RULES / "basic.yaml", progress=False, jobs=2, parquet=tmp_path / "rows.parquet",
                         summary=summary, keep_rows=False)
    assert kept.empty and list(kept.columns) == list(REPLAY_COLUMNS)  # the rows went to the file only
    written = pq.ParquetFile(tmp_path / "rows.parquet")
    assert written.metadata.num_row_groups == -(-len(one) // 40)  # a row group every 40 rows, the rest at the end
    from_file = pd.read_parquet(tmp_path / "rows.parquet").astype(object)
    _same(one.astype(object).where(one.notna(), None), from_file.where(from_file.notna(), None))
    whole = ReplaySummary.from_frame(one)
    assert summary.percentile_method == "histogram"  # the rows were not kept
    for name in ("messages", "failed", "rows", "by_action", "by_rule", "errors"):
        assert getattr(summary, name) == getattr(whole, name), name


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow is not installed")
def test_an_interrupted_run_leaves_a_readable_parquet_file_with_the_rows_done(corpus, tmp_path, monkeypatch):
    from workmail_sandbox.organization import Organization

    real, calls = Organization.route, []

    def route(self, parsed, **kwargs):
        calls.append(parsed.subject)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, parsed, **kwargs)

    monkeypatch.setattr(Organization, "route", route)
    with pytest.raises(KeyboardInterrupt):
        replay_folder(corpus, RULES / "basic.yaml", progress=False, parquet=tmp_path / "rows.parquet", keep_rows=False)
    rows = pd.read_parquet(tmp_path / "rows.parquet")
    assert list(rows.message.drop_duplicates()) == sorted(p.name for p in corpus.glob("*.eml"))[:2]
