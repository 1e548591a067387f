"""The learner's first minutes in a real page: a handler typed into a new notebook, run with
``lessons.try_handler``, in JupyterLab 4 and Debian's Chromium.

The test creates a new notebook from JupyterLab's command (as File > New >
Notebook does), types a handler into its first cell, runs it with Shift+Enter
and checks, on the page, the block ``try_handler`` shows: the outcome of the
one recipient, in the learner's words, and the line the handler printed. A
second cell makes the handler fail and checks that its log names the line of
*that cell* (``your cell In [2]``), not of ``app.py``. It prints how long each
step took; the time from the page to the first outcome is the mechanical part
of "how long until my own handler runs".

It reuses ``tests/test_browser.py``'s server and page helpers (a copy of
``notebooks/`` and ``data/`` served on loopback; the repository's notebooks are
never saved) and skips, never silently, without Chromium or playwright.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_browser import CHROMIUM, JPEG_PAGE, ROOT, SCREENSHOTS, VIEWPORT, _require_browser, jupyter_lab

pytestmark = pytest.mark.browser

FIRST_CELL = '''from workmail_sandbox import lessons


def my_handler(event, context):
    print("hello from my cell:", event["subject"])
    return {"actions": [{"allRecipients": True, "action": {"type": "BOUNCE"}}]}


lessons.try_handler(my_handler, "01-plain-inbound.eml", synchronous=True)'''

SECOND_CELL = '''def my_handler(event, context):
    print("about to fail")
    return event["no-such-key"]


lessons.try_handler(my_handler)'''

#: The errors shown in the page's output areas (a cell that raised), if any.
_ERRORS = """() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"],'
  + ' .jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')].map(e => e.innerText)"""


def test_a_handler_typed_into_a_new_notebook_runs_with_try_handler_and_shows_its_print(tmp_path: Path) -> None:
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    shots = SCREENSHOTS if SCREENSHOTS.is_absolute() else ROOT / SCREENSHOTS
    shots.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 1)
        clock = now

    page_errors: list[str] = []
    with jupyter_lab(tmp_path) as base_url, sync_playwright() as p:
        lap("server start")
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)
            page.on("pageerror", lambda e: page_errors.append(f"{e.name}: {e.message}"))
            try:
                page.goto(f"{base_url}/lab")
                page.wait_for_function("() => window.jupyterapp !== undefined && window.jupyterapp.started")
                page.evaluate("window.jupyterapp.commands.execute('notebook:create-new', {kernelName: 'python3'})")
                cell = page.locator(".jp-NotebookPanel .jp-Cell.jp-CodeCell").first
                cell.wait_for(state="visible")
                page.wait_for_function(
                    """() => { const w = window.jupyterapp.shell.currentWidget;
                       return w && w.sessionContext && w.sessionContext.isReady
                         && w.sessionContext.session.kernel.status === 'idle'; }"""
                )
                lap("new notebook, kernel idle")

                # ---- type the handler (insert_text: what a paste does, without the editor's auto-indent)
                cell.locator(".cm-content").click()
                page.keyboard.insert_text(FIRST_CELL)
                page.keyboard.press("Shift+Enter")
                block = page.locator(".wms-try-handler").first
                expect(block).to_be_visible()
                lap("first run: outcome on the page")
                expect(block.locator(".wms-try-outcome")).to_contain_text(
                    "alice@example.com: bounced. Your function answered BOUNCE"
                )
                expect(block.locator(".wms-try-log")).to_have_text("hello from my cell: Delivery window for order 4471")
                expect(block).to_contain_text("Your function my-function (created) ran on 01-plain-inbound.eml")

                # ---- a second cell: the same function, now failing; its log points at this cell
                second = page.locator(".jp-NotebookPanel .jp-Cell.jp-CodeCell").nth(1)
                second.locator(".cm-content").click()
                page.keyboard.insert_text(SECOND_CELL)
                page.keyboard.press("Shift+Enter")
                failed = page.locator(".wms-try-handler").nth(1)
                expect(failed).to_be_visible()
                lap("second run: the crash on the page")
                log = failed.locator(".wms-try-log")
                expect(log).to_contain_text("about to fail")
                expect(log).to_contain_text('File "your cell In [2]", line 3, in my_handler')
                expect(log).not_to_contain_text("app.py")
                expect(failed).to_contain_text("(updated)")
                expect(failed.locator(".wms-try-outcome")).to_contain_text(
                    "Your function raised KeyError. The rule's fallback action DEFAULT applied"
                )
                assert not page.evaluate(_ERRORS), page.evaluate(_ERRORS)
                page.screenshot(path=shots / "try-handler.jpg", **JPEG_PAGE)
            except BaseException:
                page.screenshot(path=shots / "failure-quickpath.jpg", **JPEG_PAGE)
                raise
        finally:
            browser.close()
    lap("stop")
    print("timings (s):", json.dumps(timings))
    assert not page_errors, f"uncaught errors in the page: {page_errors}"
