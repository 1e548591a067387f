"""The lessons in a real browser: JupyterLab, Debian's Chromium, Python Playwright.

One test starts JupyterLab from this Python on loopback, serving a temporary
copy of ``notebooks/`` and ``data/`` (the repository's notebooks are never
saved), and drives Debian's Chromium (never a Playwright browser download):

* ``03_events``: Run All, then through the page type a subject longer than
  256 characters into the EventBuilder, add recipients past 128 KB with its
  recipients box and its *Add generated recipients* button, and check the
  flags and the JSON preview against the event the kit builds;
* ``04_email_flow_rules``: Run All, type a sender and a recipient into the
  RuleTester and check its answer against ``RuleSet.test_configuration``.

It saves JPEG screenshots into ``build/screenshots/`` (or the folder named by
``WORKMAIL_SANDBOX_SCREENSHOTS``; ``make screenshots`` writes
``docs/images/``). Without Chromium or playwright it skips with the fix;
``WORKMAIL_SANDBOX_REQUIRE_BROWSER=1`` turns that skip into a failure and
``WORKMAIL_SANDBOX_CHROMIUM`` names another Chromium executable.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("WORKMAIL_SANDBOX_CHROMIUM", "/usr/lib/chromium/chromium")
SCREENSHOTS = Path(os.environ.get("WORKMAIL_SANDBOX_SCREENSHOTS", "build/screenshots"))
VIEWPORT = {"width": 1280, "height": 800}
JPEG = {"type": "jpeg", "quality": 60}  # widgets: 30-70 KB
JPEG_PAGE = {"type": "jpeg", "quality": 55}  # the whole 1280x800 lab: about 100 KB

#: Lab user settings: no news or update toasts over the screenshots,
#: and every cell kept in the page so that Playwright can scroll to any widget.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# Rule tester input (03's widget is driven with the values below; 04's rule set is
# data/rules/precedence-demo.yaml, as in the notebook).
RULE_SENDER, RULE_RECIPIENT = "news@mail.eu.vendor.example.net", "bob@sales.example.com"
SUBJECT = ("Quarterly report for the sales team, with every figure attached. " * 4)[:250] + "ABCDEFGHIJ" * 5
#: Typed key by key into the Recipients box. Chromium inserts long multi-line text slowly
#: (2,000 lines: 10-30 s), so the bulk comes from the widget's own "Add generated recipients".
TYPED_RECIPIENTS = ["carol@example.com", "dave@example.com"]
GENERATED = 5000  # about 180 KB of recipients: past 128 KB

pytestmark = pytest.mark.browser


# --------------------------------------------------------------------------- prerequisites


def _missing(reason: str) -> None:
    if os.environ.get("WORKMAIL_SANDBOX_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (WORKMAIL_SANDBOX_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _require_browser() -> None:
    """Skip (never silently) when Chromium, playwright or JupyterLab is missing."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _missing(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        _missing("Python playwright is not installed: pip install -e '.[browser]' (never `playwright install`)")
    try:
        for name in ("jupyterlab", "ipywidgets"):
            importlib.import_module(name)
    except ImportError:
        _missing("JupyterLab or ipywidgets is not installed: pip install -e '.[lab]'")


# --------------------------------------------------------------------------- the server


#: Straight to the loopback server, whatever *_proxy variables say.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process_tree(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of every live descendant of ``pid`` (Linux /proc): kernels run in
    their own session, so the server's process group does not reach them."""
    children: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        started[int(entry)] = fields[19]
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append((child, started[child]))
        todo += children.get(child, [])
    return found


def _alive(pid: int, start: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] == start and fields[0] != "Z"


def _stop(proc: subprocess.Popen, base_url: str) -> None:
    """Shut the kernels down, stop the server's process group, then any survivor, by PID."""
    tree = _process_tree(proc.pid)
    try:
        with _HTTP.open(f"{base_url}/api/kernels", timeout=5) as response:
            kernels = json.load(response)
        for kernel in kernels:
            request = urllib.request.Request(f"{base_url}/api/kernels/{kernel['id']}", method="DELETE")
            _HTTP.open(request, timeout=10).close()
    except (OSError, ValueError):
        pass  # the server is already gone or unresponsive: the signals below do it
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    for pid, start in tree:
        if _alive(pid, start):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=5)


@contextmanager
def jupyter_lab(workdir: Path) -> Iterator[str]:
    """JupyterLab on a copy of notebooks/ and data/; yields its base URL; always stopped."""
    for folder in ("notebooks", "data"):
        shutil.copytree(ROOT / folder, workdir / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = workdir / "lab-user-settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    for folder in ("workspaces", "jupyter-config", "jupyter-data", "jupyter-runtime"):
        (workdir / folder).mkdir()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False", f"--ServerApp.root_dir={workdir / 'notebooks'}",
        "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True",  # loopback, test only
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to read cell states
        f"--LabApp.workspaces_dir={workdir / 'workspaces'}",  # no restored layout
        f"--LabApp.user_settings_dir={settings}",
    ]
    if os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    env = dict(
        os.environ,
        WORKMAIL_SANDBOX_MODE="sandbox",
        JUPYTER_CONFIG_DIR=str(workdir / "jupyter-config"),  # no user config, no user kernels
        JUPYTER_DATA_DIR=str(workdir / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(workdir / "jupyter-runtime"),
    )
    log_path = workdir / "jupyterlab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, cwd=workdir / "notebooks", env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"JupyterLab exited with {proc.returncode}:\n{_tail(log_path)}")
            try:
                with _HTTP.open(f"{base_url}/api/status", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"JupyterLab did not answer in 60 s:\n{_tail(log_path)}") from None
                time.sleep(0.2)
        try:
            yield base_url
        except BaseException:
            print(f"--- JupyterLab log ({log_path}), last lines\n{_tail(log_path)}")
            raise
    finally:
        _stop(proc, base_url)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --------------------------------------------------------------------------- the page

_NOTEBOOK_STATE = """(name) => {
  const app = window.jupyterapp;
  if (!app) return null;
  const panel = [...app.shell.widgets('main')].find(w => w.context && w.context.path.split('/').pop() === name);
  if (!panel || !panel.sessionContext.isReady) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  for (const cell of cells) {
    for (const out of cell.model.outputs.toJSON()) {
      if (out.output_type === 'error') {
        return {error: `cell ${panel.content.widgets.indexOf(cell)}: ${out.ename}: ${out.evalue}`};
      }
    }
  }
  const pending = cells.filter(c => c.model.executionCount === null || c.model.executionState === 'running');
  return {kernel: kernel ? kernel.status : 'none', cells: cells.length, pending: pending.length};
}"""


class Lab:
    """The JupyterLab page, with the few moves the test makes."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def state(self, name: str) -> dict | None:
        return self.page.evaluate(_NOTEBOOK_STATE, name)

    def wait_idle(self, name: str, *, executed: bool, timeout: float = 120) -> dict:
        """Wait for the notebook's kernel to be idle (and, if ``executed``, every code cell run)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(name)
            if state and "error" in state:
                raise AssertionError(f"{name}: a cell failed in the browser: {state['error']}")
            if state and state["kernel"] == "idle" and (not executed or state["pending"] == 0):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"{name}: kernel not idle after {timeout:.0f} s: {state}")
            self.page.wait_for_timeout(100)

    def open(self, name: str) -> None:
        """Open a notebook by double-clicking it in the file browser, as a learner does."""
        item = self.page.locator(".jp-DirListing-item", has_text=name).first
        item.dblclick()
        self.page.locator(".jp-NotebookPanel .jp-Notebook").last.wait_for(state="visible")

    def run_all(self, name: str) -> dict:
        """Clear the outputs (so stale execution counts cannot pass for new ones) and Run All from the menu."""
        self.wait_idle(name, executed=False)
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        return self.wait_idle(name, executed=True)


# --------------------------------------------------------------------------- the test


def test_lessons_03_and_04_in_jupyterlab_with_chromium(tmp_path: Path) -> None:
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    from workmail_sandbox import PAYLOAD_LIMIT_BYTES, SUBJECT_LIMIT_CHARS, build_event
    from workmail_sandbox.mail import in_domains
    from workmail_sandbox.rules import RuleSet

    shots = SCREENSHOTS if SCREENSHOTS.is_absolute() else ROOT / SCREENSHOTS
    shots.mkdir(parents=True, exist_ok=True)
    (shots / "failure.jpg").unlink(missing_ok=True)
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 1)
        clock = now

    console_errors: list[str] = []
    page_errors: list[str] = []
    with jupyter_lab(tmp_path) as base_url, sync_playwright() as p:
        lap("server start")
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(30_000)
            expect.set_options(timeout=30_000)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page_errors.append(f"{e.name}: {e.message}"))
            lab = Lab(page)
            try:
                # ---- 03: the event builder
                page.goto(f"{base_url}/lab/tree/03_events.ipynb")
                page.wait_for_function("() => window.jupyterapp !== undefined")
                lab.wait_idle("03_events.ipynb", executed=False)
                lap("03 open, kernel idle")
                lab.run_all("03_events.ipynb")
                lap("03 run all")

                builder = page.locator(".wms-event-builder").first
                builder.scroll_into_view_if_needed()
                expect(builder.locator(".wms-direction button.mod-active")).to_have_text("Inbound")
                subject_box = builder.locator(".wms-subject textarea")
                subject_box.fill(SUBJECT)
                recipients_box = builder.locator(".wms-recipients textarea")
                recipients_box.press("Control+End")
                recipients_box.press_sequentially("".join("\n" + address for address in TYPED_RECIPIENTS))
                recipients_box.blur()  # Recipients syncs on change (continuous_update=False)
                count_box = builder.locator(".wms-generate-count input")
                count_box.fill(str(GENERATED))
                count_box.blur()
                builder.locator("button.wms-generate-button").click()

                truncated_flag = builder.locator(".wms-flag-truncated")
                expect(truncated_flag).to_contain_text("truncated: true")
                lines = [line.strip() for line in recipients_box.input_value().splitlines() if line.strip()]
                domains = re.split(r"[\s,;]+", builder.locator(".wms-org-domains input").input_value().strip())
                assert lines[-GENERATED:] == [f"user{i:05d}@{domains[0]}" for i in range(1, GENERATED + 1)]
                assert lines[-GENERATED - len(TYPED_RECIPIENTS) : -GENERATED] == TYPED_RECIPIENTS
                assert all(in_domains(line, domains) for line in lines)
                preview = builder.locator(".wms-event-preview")
                text = preview.inner_text()
                ids = {k: re.search(rf'"{k}": "([^"]+)"', text).group(1) for k in ("messageId", "invocationId")}
                expected = build_event(
                    mail_from=builder.locator(".wms-mail-from input").input_value(),
                    recipients=lines,
                    subject=SUBJECT,
                    direction="inbound",
                    message_id=ids["messageId"],
                    invocation_id=ids["invocationId"],
                )
                kept = len(expected.envelope.recipients)
                assert expected.truncated and kept < len(lines) and len(expected.subject) == SUBJECT_LIMIT_CHARS
                expect(truncated_flag).to_be_visible()
                expect(truncated_flag).to_contain_text(f"{kept:,} of {len(lines):,} recipients kept")
                expect(truncated_flag).to_contain_text(f"{expected.size:,} bytes of {PAYLOAD_LIMIT_BYTES:,}")
                cut_flag = builder.locator(".wms-flag-subject-cut")
                expect(cut_flag).to_be_visible()
                expect(cut_flag).to_contain_text(f"subject cut: {len(SUBJECT):,} → {SUBJECT_LIMIT_CHARS}")
                expect(preview).to_contain_text('"truncated": true')
                # the cut subject, closing quote included: the page shows 256 characters, not 300
                expect(preview).to_contain_text(f'"subject": {json.dumps(expected.subject, ensure_ascii=False)},')
                expect(builder.locator(".wms-flag-error")).to_be_hidden()
                lap("03 event builder checks")

                # pictures: the preview scrolled to its end, where "truncated": true is
                preview.locator("pre").evaluate("pre => { pre.scrollTop = pre.scrollHeight; }")
                builder.screenshot(path=shots / "event-builder.jpg", **JPEG)
                page.screenshot(path=shots / "lab-event-builder.jpg", **JPEG_PAGE)

                # ---- 04: the rule tester
                lab.open("04_email_flow_rules.ipynb")
                lab.wait_idle("04_email_flow_rules.ipynb", executed=False)
                lap("04 open, kernel idle")
                # room for the rule tester's table
                page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
                lab.run_all("04_email_flow_rules.ipynb")
                lap("04 run all")

                tester = page.locator(".wms-rule-tester").first
                tester.scroll_into_view_if_needed()
                result = tester.locator(".wms-rule-result")
                expect(result).to_contain_text("Winning rule:")
                before = result.inner_text()
                tester.locator(".wms-rule-sender input").fill(RULE_SENDER)
                tester.locator(".wms-rule-recipient input").fill(RULE_RECIPIENT)
                rules = RuleSet.from_file(tmp_path / "data" / "rules" / "precedence-demo.yaml")
                answer = rules.test_configuration(RULE_SENDER, RULE_RECIPIENT, "inbound")
                assert answer.winner is not None, f"pick a sender and recipient that some rule matches: {answer}"
                assert answer.winner.name not in before, f"the tester shows {answer.winner.name} already"
                expect(result).to_contain_text(f"Winning rule: {answer.winner.name}")
                expect(result).to_contain_text(f"Action: {answer.action} ({answer.label})")
                for loser in answer.losers:
                    expect(tester.locator(".wms-rule-table")).to_contain_text(loser.rule.name)
                lap("04 rule tester checks")
                tester.screenshot(path=shots / "rule-tester.jpg", **JPEG)
            except BaseException:
                page.screenshot(path=shots / "failure.jpg", **JPEG_PAGE)
                print("console errors:", *console_errors, sep="\n  ")
                raise
        finally:
            browser.close()
    lap("stop")
    print("timings (s):", json.dumps(timings), f"total {sum(timings.values()):.1f}")
    print("console errors:", console_errors or "none")
    print("screenshots:", *(f"{path} ({path.stat().st_size:,} bytes)" for path in sorted(shots.glob("*.jpg"))))
    assert not page_errors, f"uncaught errors in the page: {page_errors}"
