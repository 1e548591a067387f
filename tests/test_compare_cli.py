"""``workmail-sandbox compare``: a WorkMail function and its SES port on a corpus, from the command line.

The example pair is examples/ses_ports/projects/ (SAM projects of the workshop's junk_newsletters and
its port); the rows it should give are those of tests/test_migrate.py.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from workmail_sandbox.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from workmail_sandbox.migrate import COLUMNS, REASONS

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
PROJECTS = ROOT / "examples" / "ses_ports" / "projects"
PORTS = ROOT / "examples" / "ses_ports"


def test_project_pair_on_the_sample_corpus(tmp_path, capsys):
    """The SAM project pair: one difference (WorkMail's virus check), outbound mail skipped; exit 1."""
    out = tmp_path / "compare.csv"
    code = main(["compare", str(EMAILS), "--workmail-project", str(PROJECTS / "junk_newsletters_workmail"),
                 "--ses-project", str(PROJECTS / "junk_newsletters_ses"), "--csv", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == EXIT_INVALID
    assert "61 messages, 109 rows: 80 agree, 1 differ, 28 skipped" in printed
    assert REASONS["virus"] in printed and REASONS["outbound"] in printed
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 109
    junk = [r for r in rows if r["message"] == "17-newsletter.eml"]
    assert junk and {(r["workmail"], r["ses"], r["verdict"]) for r in junk} == {("junk", "junk", "agree")}


def test_agreeing_pair_exits_zero_and_prints_no_table(capsys):
    code = main(["compare", str(EMAILS / "17-newsletter.eml"), "--no-progress",
                 "--workmail-function", f"{PORTS / 'workmail' / 'junk_newsletters.py'}:lambda_handler",
                 "--ses-function", f"{PORTS / 'ses' / 'junk_newsletters.py'}:lambda_handler"])
    printed = capsys.readouterr().out
    assert code == EXIT_OK, printed
    assert "1 messages, 1 rows: 1 agree" in printed


def test_differences_are_printed_without_csv(tmp_path, capsys):
    """A port that only continues: the newsletter lands in the inbox; the row and its reason are printed."""
    (tmp_path / "port.py").write_text("def lambda_handler(event, context):\n    return {'disposition': 'CONTINUE'}\n")
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "17.eml").write_bytes((EMAILS / "17-newsletter.eml").read_bytes())
    code = main(["compare", str(tmp_path / "mail"), "--no-progress",
                 "--workmail-function", f"{PORTS / 'workmail' / 'junk_newsletters.py'}:lambda_handler",
                 "--ses-function", f"{tmp_path / 'port.py'}:lambda_handler", "--junk-header", "X-Folder:Junk"])
    printed = capsys.readouterr().out
    assert code == EXIT_INVALID
    assert "17.eml" in printed and REASONS["junk"] in printed


@pytest.mark.parametrize("argv", [
    ["compare", "DIR", "--ses-function", "a.py:h"],                              # no WorkMail side
    ["compare", "DIR", "--workmail-function", "a.py:h"],                         # no SES side
    ["compare", "DIR", "--workmail-function", "a.py:h", "--workmail-project", "p", "--ses-function", "b.py:h"],
    ["compare", "DIR", "--workmail-function", "a.py:h", "--ses-function", "b.py:h", "--junk-header", "X-Spam"],
])
def test_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == EXIT_USAGE
    assert "error" in capsys.readouterr().err


def test_missing_folder_is_one_line(tmp_path, capsys):
    code = main(["compare", str(tmp_path / "none"), "--workmail-function", "a.py:h", "--ses-function", "b.py:h"])
    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert err.count("\n") == 1 and "no such file or folder" in err


def test_workmail_rule_file_and_event_invocation(capsys):
    """--rules: the rule file's Run Lambda rules run the function (here asynchronous, as exercise 4's)."""
    code = main(["compare", str(EMAILS / "01-plain-inbound.eml"), "--no-progress",
                 "--rules", str(ROOT / "data" / "rules" / "run-lambda-async.yaml"), "--invocation-type", "Event",
                 "--workmail-function", f"{PORTS / 'workmail' / 'count_messages.py'}:lambda_handler",
                 "--ses-function", f"{PORTS / 'ses' / 'count_messages.py'}:lambda_handler"])
    printed = capsys.readouterr().out
    assert code == EXIT_OK, printed
    assert "(Event)" in printed and "1 agree" in printed
