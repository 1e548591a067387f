"""``replay --dask``: the corpus routed on a Dask cluster gives the rows of ``--jobs 1``, in order.

The cluster is a ``dask.distributed.LocalCluster`` on loopback: two worker processes of one thread
each, as docs/replay.md says to start them. Without Dask installed (the ``[scale]`` extra) these
tests are skipped, except the one checking the error that names the extra.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from corpus_generator import load_generator

from workmail_sandbox import cli
from workmail_sandbox import sandbox as sandbox_module
from workmail_sandbox.errors import ConfigurationError
from workmail_sandbox.replay import REPLAY_COLUMNS
from workmail_sandbox.replay_folder import replay_folder, replay_frame_on_dask
from workmail_sandbox.replay_summary import ReplaySummary

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
RULES = ROOT / "data" / "rules"
#: Measured or generated per run: the only columns allowed to differ from --jobs 1.
VARYING = ["time_ms", "invocation"]
HAS_DASK = importlib.util.find_spec("distributed") is not None and importlib.util.find_spec("pyarrow") is not None
needs_dask = pytest.mark.skipif(not HAS_DASK, reason="Dask is not installed (pip install 'workmail-sandbox[scale]')")
DEFAULT = (
    "def handle(event, context):\n"
    "    return {'actions': [{'action': {'type': 'DEFAULT'}, 'allRecipients': True}]}\n"
)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values only: object columns with None for a missing value, whatever the reader's dtypes."""
    out = frame.drop(columns=VARYING).reset_index(drop=True).astype(object)
    return out.where(out.notna(), None)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(REPLAY_COLUMNS) == list(b.columns)
    assert len(a) == len(b) > 0
    pd.testing.assert_frame_equal(_plain(a), _plain(b))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """60 generated messages, a file that is not mail and a folder named like a message."""
    root = tmp_path_factory.mktemp("dask") / "corpus"
    load_generator().write_corpus(root, 60, seed=5, fmt="eml")
    names = sorted(p.name for p in root.glob("*.eml"))
    (root / (names[30][:-4] + "-broken.eml")).write_bytes(b"\x00\x01 not a message \xff\xfe")
    (root / (names[10][:-4] + "-dir.eml")).mkdir()
    return root


@pytest.fixture(scope="module")
def cluster():
    if not HAS_DASK:
        pytest.skip("Dask is not installed (pip install 'workmail-sandbox[scale]')")
    import dask
    from distributed import Client, LocalCluster

    # a worker that dies is not retried on another one: the test that kills one stays short
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                     dashboard_address=None) as local,
        Client(local) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def one(corpus, tmp_path_factory):
    """--jobs 1 with a function: the reference rows."""
    handler = tmp_path_factory.mktemp("fn") / "fn.py"
    handler.write_text(DEFAULT)
    frame = replay_folder(corpus, RULES / "run-lambda-sync.json", f"{handler}:handle", progress=False)
    return handler, frame


@pytest.mark.slow
@needs_dask
def test_a_local_cluster_gives_the_rows_of_one_job_in_order(corpus, cluster, one):
    handler, reference = one
    summary = ReplaySummary()
    rows = replay_folder(corpus, RULES / "run-lambda-sync.json", f"{handler}:handle", progress=False,
                         client=cluster, summary=summary)
    assert sandbox_module.current() is None  # the workers had the sandboxes, not this process
    _same(reference, rows)
    assert (rows.source == "lambda").any()
    assert sorted(rows[rows.error_stage.notna()].error_stage) == ["parse", "read"]
    assert summary.messages == rows.message.nunique() == 62 and summary.failed == 2
    assert summary.invocations == rows.invocation.dropna().nunique() > 0


@pytest.mark.slow
@needs_dask
def test_the_cli_streams_csv_and_parquet_from_the_cluster(corpus, cluster, one, tmp_path, capsys):
    handler, reference = one
    csv, parquet = tmp_path / "rows.csv", tmp_path / "rows.parquet"
    code = cli.main(["replay", str(corpus), "--rules", str(RULES / "run-lambda-sync.json"), "--function",
                     f"{handler}:handle", "--csv", str(csv), "--parquet", str(parquet), "--no-progress",
                     "--dask", cluster.scheduler.address])
    out, err = capsys.readouterr()
    assert code == 1  # the two entries that are not messages
    _same(reference, pd.read_parquet(parquet))
    assert list(pd.read_csv(csv).message) == list(reference.message)
    assert "outcomes by rule:" in out and "p99" in out and "replayed 62 messages: 60 routed, 2 failed" in out
    assert "2 message(s) failed (1 at read, 1 at parse)" in err


@pytest.mark.slow
@needs_dask
def test_a_dask_dataframe_and_its_summary_merged_from_the_partitions(corpus, cluster, one):
    handler, reference = one
    frame = replay_frame_on_dask(corpus, RULES / "run-lambda-sync.json", f"{handler}:handle", partition_size=16)
    assert frame.npartitions == 4  # 62 entries
    _same(reference, frame.compute())
    from workmail_sandbox.replay_dask import summarize

    merged, whole = summarize(frame), ReplaySummary.from_frame(reference)
    assert merged.percentile_method == "histogram" and whole.percentile_method == "exact"
    for name in ("messages", "failed", "rows", "invocations", "attempts", "by_action", "by_rule", "errors"):
        assert getattr(merged, name) == getattr(whole, name), name


@pytest.mark.slow
@needs_dask
def test_a_message_that_kills_its_worker_gets_its_error_row(tmp_path, cluster):
    folder = tmp_path / "in"
    load_generator().write_corpus(folder, 12, seed=3, fmt="eml")
    killer = sorted(folder.glob("*.eml"))[5]
    killer.write_bytes(killer.read_bytes().replace(b"\r\nSubject: ", b"\r\nSubject: KILL ", 1))
    handler = tmp_path / "killer.py"
    handler.write_text(
        "import os\n"
        "def handle(event, context):\n"
        "    if event['subject'].startswith('KILL'):\n"
        "        os._exit(9)  # the whole worker process dies\n"
        "    return {'actions': [{'action': {'type': 'DEFAULT'}, 'allRecipients': True}]}\n"
    )
    rows = replay_folder(folder, RULES / "run-lambda-sync.json", f"{handler}:handle", progress=False, client=cluster)
    assert list(rows.message.drop_duplicates()) == sorted(p.name for p in folder.glob("*.eml"))
    died = rows[rows.error_stage.notna()]
    assert list(died.message) == [killer.name] and list(died.error_stage) == ["route"]
    assert "worker process routing it died" in died.error.iloc[0]
    assert (rows[rows.message != killer.name].source == "lambda").all()


@needs_dask
def test_jobs_and_a_client_exclude_each_other(cluster):
    with pytest.raises(ConfigurationError, match="mutually exclusive"):
        replay_folder(EMAILS, RULES / "basic.yaml", progress=False, jobs=2, client=cluster)


def test_dask_and_jobs_on_the_command_line_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["replay", str(EMAILS), "--rules", str(RULES / "basic.yaml"), "--jobs", "2",
                  "--dask", "tcp://127.0.0.1:1"])
    assert exit_info.value.code == 2 and "--dask excludes --jobs" in capsys.readouterr().err


def test_without_dask_the_package_imports_and_dask_names_the_extra(tmp_path):
    """dask and distributed made unimportable: the CLI works, and --dask says what to install."""
    code = (
        "import sys\n"
        "sys.modules.update(dask=None, distributed=None)\n"
        "import workmail_sandbox, workmail_sandbox.replay_dask\n"
        "from workmail_sandbox import cli\n"
        f"sys.exit(cli.main(['replay', {str(EMAILS)!r}, '--rules', {str(RULES / 'basic.yaml')!r}, '--no-progress',"
        " '--dask', 'tcp://127.0.0.1:1']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == cli.EXIT_INVALID, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "pip install 'workmail-sandbox[scale]'" in done.stderr


@needs_dask
def test_an_address_where_no_scheduler_answers_is_one_line(capsys):
    code = cli.main(["replay", str(EMAILS), "--rules", str(RULES / "basic.yaml"), "--no-progress",
                     "--dask", "tcp://127.0.0.1:9"])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_INVALID and out == ""
    assert err.count("\n") == 1 and "no Dask scheduler answered" in err
