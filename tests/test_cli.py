"""The workmail-sandbox command: output, one-line errors on stderr, documented exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from loopback import LoopbackListener

from workmail_sandbox import cli

ON_BEHALF = (
    b"From: Alice <alice@example.com>\r\n"
    b"Sender: Bob <bob@example.com>\r\n"
    b"To: carol@example.com, dan@example.org\r\n"
    b"Cc: Carol <CAROL@example.com>, erin@sales.example.com\r\n"
    b"Subject: =?utf-8?b?w5xiZXJzaWNodA==?=\r\n"
    b"Message-ID: <1@example.com>\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
    b"\r\n"
    b"Body\r\n"
)


@pytest.fixture
def eml(tmp_path):
    path = tmp_path / "on-behalf.eml"
    path.write_bytes(ON_BEHALF)
    return path


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_event_prints_a_list_of_events(capsys, eml):
    code, out, err = run(capsys, "event", eml, "--org-domain", "example.com", "--org-domain", "sales.example.com")
    assert code == 0 and err == ""
    (event,) = json.loads(out)
    assert event["envelope"]["mailFrom"] == {"address": "alice@example.com"}
    assert event["sender"] == {"address": "bob@example.com"}
    assert [r["address"] for r in event["envelope"]["recipients"]] == [
        "carol@example.com",
        "erin@sales.example.com",
    ]
    assert event["subject"] == "Übersicht"
    assert event["summaryVersion"] == "2018-10-10"


def test_event_outbound_with_envelope(capsys, eml):
    code, out, _ = run(
        capsys, "event", eml, "--direction", "outbound", "--mail-from", "bounces@example.com",
        "--rcpt", "x@example.org", "--rcpt", "y@example.net", "--conversations", "per-domain",
    )
    assert code == 0
    events = json.loads(out)
    assert [e["envelope"]["recipients"] for e in events] == [[{"address": "x@example.org"}], [{"address": "y@example.net"}]]
    assert {e["envelope"]["mailFrom"]["address"] for e in events} == {"bounces@example.com"}
    assert {e["flowDirection"] for e in events} == {"OUTBOUND"}


def test_event_inbound_without_org_domain_is_a_usage_error(capsys, eml):
    with pytest.raises(SystemExit) as exc:
        cli.main(["event", str(eml)])
    assert exc.value.code == cli.EXIT_USAGE
    assert "--org-domain" in capsys.readouterr().err


def test_missing_file_is_one_line_on_stderr(capsys, tmp_path):
    code, out, err = run(capsys, "event", tmp_path / "nope.eml", "--org-domain", "example.com")
    assert code == cli.EXIT_INPUT and out == ""
    assert err.count("\n") == 1 and "no such file" in err


def test_not_an_email_is_an_input_error(capsys, tmp_path):
    path = tmp_path / "x.eml"
    path.write_bytes(b"%PDF-1.7\n\x00\x01binary")
    code, _, err = run(capsys, "event", path, "--org-domain", "example.com")
    assert code == cli.EXIT_INPUT
    assert err.startswith("workmail-sandbox: error:") and err.count("\n") == 1


def test_check_event_valid_and_invalid(capsys, tmp_path):
    good = {
        "summaryVersion": "2019-07-28",
        "envelope": {"mailFrom": {"address": "a@example.org"}, "recipients": [{"address": "b@example.com"}]},
        "subject": "hi",
        "messageId": "00000000-0000-0000-0000-000000000000",
        "invocationId": "0" * 40,
        "flowDirection": "INBOUND",
        "truncated": False,
    }
    path = tmp_path / "e.json"
    path.write_text(json.dumps(good))
    code, out, _ = run(capsys, "check-event", path)
    assert code == 0 and out.startswith("valid:")

    bad = dict(good, subject="x" * 300, flowDirection="SIDEWAYS")
    path.write_text(json.dumps(bad))
    code, out, _ = run(capsys, "check-event", path)
    assert code == cli.EXIT_INVALID
    assert "subject" in out and "flowDirection" in out and "256" in out


def test_check_event_lenient_accepts_legacy_events(capsys, tmp_path):
    legacy = {
        "summaryVersion": "2018-10-10",
        "envelope": {"mailFrom": {"address": "from@example.com"}, "recipients": [{"address": "r@example.com"}]},
        "sender": {"address": "sender@example.com"},
        "subject": "Hello From Amazon WorkMail!",
        "truncated": False,
    }
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps(legacy))
    assert run(capsys, "check-event", path)[0] == cli.EXIT_INVALID
    assert run(capsys, "check-event", path, "--lenient")[0] == 0


def test_check_event_bad_json(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    code, _, err = run(capsys, "check-event", path)
    assert code == cli.EXIT_INPUT and "not valid JSON" in err


def test_check_response_prints_decisions(capsys, tmp_path):
    response = {
        "actions": [
            {"action": {"type": "DEFAULT"}, "allRecipients": True},
            {"action": {"type": "BOUNCE", "parameters": {"bounceMessage": "No thanks"}}, "recipients": ["b@example.com"]},
        ]
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(response))
    code, out, _ = run(
        capsys, "check-response", path, "--direction", "inbound",
        "--recipient", "a@example.com", "--recipient", "b@example.com", "--fallback", "move_to_junk",
    )
    assert code == 0
    assert "a@example.com: DEFAULT" in out and "b@example.com: BOUNCE" in out and "No thanks" in out

    code, out, _ = run(
        capsys, "check-response", path, "--direction", "inbound", "--recipient", "a@example.com", "--json",
        "--org-domain", "example.com",
    )
    result = json.loads(out)
    assert code == 0 and result["valid"] is True
    assert {d["recipient"]: d["added"] for d in result["decisions"]} == {"a@example.com": False, "b@example.com": True}

    # Without the organization's domains, adding b@example.com inbound cannot be allowed.
    code, out, _ = run(capsys, "check-response", path, "--direction", "inbound", "--recipient", "a@example.com")
    assert code == cli.EXIT_INVALID and "outside the organization" in out


def test_check_response_invalid_exit_code(capsys, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"actions": [{"action": {"type": "MOVE_TO_JUNK"}, "allRecipients": True}]}))
    code, out, _ = run(capsys, "check-response", path, "--direction", "outbound", "--recipient", "x@example.org")
    assert code == cli.EXIT_INVALID
    assert "INVALID" in out and "inbound" in out


def test_check_response_bad_fallback_is_one_line(capsys, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"actions": []}))
    code, _, err = run(
        capsys, "check-response", path, "--direction", "inbound", "--recipient", "a@example.com", "--fallback", "RUN_LAMBDA",
    )
    assert code == cli.EXIT_INVALID and err.count("\n") == 1 and "fallback" in err


def test_stdin_is_accepted(monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ON_BEHALF)))
    code, out, _ = run(capsys, "event", "-", "--direction", "outbound")
    assert code == 0 and len(json.loads(out)) == 1


def test_help_documents_exit_codes():
    result = subprocess.run(
        [sys.executable, "-m", "workmail_sandbox.cli", "--help"], capture_output=True, text=True, check=True
    )
    for code in ("0", "1", "2", "3"):
        assert f"  {code}  " in result.stdout
    for command in ("event", "check-event", "check-response"):
        assert command in result.stdout


def test_console_script_is_installed():
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "workmail-sandbox"]
    assert ep.value == "workmail_sandbox.cli:main"


def test_coverage_table_in_docs_matches_the_code(capsys):
    """docs/coverage.md is generated from the emulators, so it cannot drift from them."""
    from pathlib import Path

    code, out, _ = run(capsys, "coverage")
    assert code == 0
    assert "| GetRawMessageContent | yes |" in out and "| CreateOrganization | yes |" in out
    doc = Path(__file__).resolve().parent.parent / "docs" / "coverage.md"
    assert doc.read_text() == out, "regenerate with: workmail-sandbox coverage > docs/coverage.md"


def test_doctor_reports_every_check(capsys):
    code, out, _ = run(capsys, "doctor")
    assert code == 0, out
    for name in ("python", "package boto3", "package moto", "package jupyterlab", "mode: sandbox", "sandbox start"):
        assert name in out
    assert "All required checks passed." in out


def test_doctor_names_the_fix_for_a_bad_mode(capsys, monkeypatch):
    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "prod")
    code, out, _ = run(capsys, "doctor", "--no-sandbox")
    assert code == cli.EXIT_INVALID
    assert "fix: set WORKMAIL_SANDBOX_MODE=sandbox or aws" in out


def test_test_rule_explains_the_winner(capsys):
    """The console's Test configuration box, from the command line."""
    code, out, _ = run(
        capsys, "test-rule", "--rules", "data/rules/basic.yaml",
        "--sender", "news@newsletter.example.net", "--recipient", "alice@example.com",
    )
    assert code == 0
    assert "Result: MOVE_TO_JUNK" in out and "junk-newsletter" in out


def test_test_rule_with_a_bad_rule_file_is_one_line(capsys):
    code, _, err = run(
        capsys, "test-rule", "--rules", "data/rules/invalid-plus-pattern.yaml",
        "--sender", "a@example.org", "--recipient", "alice@example.com",
    )
    assert code == cli.EXIT_INVALID and err.startswith("workmail-sandbox: error:") and "+" in err


def test_replay_writes_one_row_per_recipient(capsys, tmp_path):
    out_csv = tmp_path / "out.csv"
    code, out, _ = run(capsys, "replay", "data/emails", "--rules", "data/rules/basic.yaml", "--no-progress", "--csv", out_csv)
    assert code == 0 and "recipient rows written" in out
    import pandas as pd

    frame = pd.read_csv(out_csv)
    assert {"message", "direction", "rule", "action", "outcome"} <= set(frame.columns)
    assert len(frame) > 36


def test_doctor_says_how_to_get_the_widget_extension_when_jupyterlab_cannot_find_it(monkeypatch, tmp_path):
    from workmail_sandbox import doctor

    monkeypatch.setattr("jupyter_core.paths.jupyter_path", lambda *parts: [str(tmp_path)])
    check = doctor._widget_extension_check()
    assert not check.ok and not check.required
    assert "@jupyter-widgets/jupyterlab-manager not found" in check.detail and "[lab]" in check.fix
    (tmp_path / "@jupyter-widgets" / "jupyterlab-manager").mkdir(parents=True)
    (tmp_path / "@jupyter-widgets" / "jupyterlab-manager" / "package.json").write_text("{}")
    assert doctor._widget_extension_check().ok



# replay --no-network -----------------------------------------------------------------------------

_PROBE = '''
import json, os, subprocess, sys

def handle(event, context):
    code = "import socket; socket.create_connection(('127.0.0.1', %d), timeout=2); print('connected')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    with open(%r, "a") as out:
        out.write("connected\\n" if "connected" in done.stdout else "refused\\n")
    return {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}
'''


def _replay_with_probe(tmp_path, *extra):
    """Replay one message through a function whose subprocess connects to a loopback server of ours."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    listener = LoopbackListener()
    probe_out = tmp_path / "probe.txt"
    function = tmp_path / "probe.py"
    function.write_text(_PROBE % (listener.port, str(probe_out)))
    corpus = tmp_path / "mail"
    corpus.mkdir(exist_ok=True)
    (corpus / "one.eml").write_bytes((root / "data" / "emails" / "01-plain-inbound.eml").read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "workmail_sandbox.cli", "replay", str(corpus), "--rules",
         str(root / "data" / "rules" / "run-lambda-sync.json"), "--function", f"{function}:handle",
         "--no-progress", *extra],
        capture_output=True, text=True, timeout=300,
    )
    listener.close()
    return done, (probe_out.read_text() if probe_out.exists() else "")


def test_replay_no_network_cuts_off_even_a_functions_subprocesses(tmp_path):
    from workmail_sandbox.network import can_isolate_network

    if not can_isolate_network():
        done = subprocess.run(
            [sys.executable, "-m", "workmail_sandbox.cli", "replay", "data/emails", "--rules", "x", "--no-network"],
            capture_output=True, text=True, timeout=120,
        )
        assert done.returncode != 0 and "unshare -rn failed" in done.stderr
        assert "Traceback" not in done.stderr
        return
    # The in-process guard lets loopback through and cannot see a subprocess: it connects.
    done, probe = _replay_with_probe(tmp_path)
    assert done.returncode == 0, done.stderr
    assert probe == "connected\n"
    (tmp_path / "probe.txt").unlink()
    # In a network namespace of its own nothing connects, not even to this machine's loopback server.
    done, probe = _replay_with_probe(tmp_path, "--no-network")
    assert done.returncode == 0, done.stderr
    assert "1 routed, 0 failed" in done.stdout
    assert probe == "refused\n"
