"""What the lessons' outputs look like in a real page: JupyterLab 4 in Debian's Chromium.

The layout half of issue #15, checked where a learner sees it, at JupyterLab's
default layout (1280 x 800 window, file browser open):

* ``03_events``: the events table is no wider than its output area, its
  ``size_bytes`` column is in view and not cut, each row is one line, and a
  missing value shows ``—`` (never ``NaN``); the EventBuilder's *Add generated
  recipients* label is whole (``scrollWidth <= clientWidth``) and its Subject box
  is one line tall;
* ``04_email_flow_rules``: the rule table shows patterns as ``*`` and
  ``vendor.example.net``, never Python tuples; the RuleTester, given
  ``not an address`` as the sender, says so in one line and picks no rule;
* ``00_start_here``: the mermaid diagram's labels are big enough to read;
* ``01`` and ``02``: the template and the AccessDenied messages show a few lines, the whole
  text in a collapsed block that opens on a click; the "Skipped" notice appears once.

It reuses ``tests/test_browser.py``'s server and page helpers (a copy of
``notebooks/`` and ``data/`` served on loopback; the repository's notebooks are
never saved) and skips, never silently, without Chromium or playwright.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_browser import CHROMIUM, JPEG, ROOT, SCREENSHOTS, VIEWPORT, Lab, _require_browser, jupyter_lab

pytestmark = pytest.mark.browser

#: The smallest label height (px) a diagram may draw: about a 12 px font (the page's text is 13-14 px).
MIN_LABEL_PX = 12

#: JupyterLab draws a mermaid block as an <img> of an SVG: its labels are the SVG's font size
#: times the scale the image is drawn at (its width on the page over the SVG's viewBox width).
_MERMAID = r"""() => {
  const img = document.querySelector('.jp-RenderedMermaid img');
  if (!img) return null;
  const src = img.getAttribute('src');
  const text = decodeURIComponent(src.slice(src.indexOf(',') + 1));
  const svg = new DOMParser().parseFromString(text.replace(/<!DOCTYPE[^\]]*\]>/, ''), 'image/svg+xml')
    .documentElement;
  const box = svg.viewBox && svg.viewBox.baseVal;
  const font = /font-size:\s*([\d.]+)px/.exec(text);
  return {rendered: img.getBoundingClientRect().width, viewBox: box ? box.width : null,
          font: font ? parseFloat(font[1]) : null};
}"""

_EVENTS_TABLE = """() => {
  const table = document.querySelector('table.wms-events');
  const box = table.closest('.wms-scroll');
  const area = table.closest('.jp-OutputArea-output');
  const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
  const size = heads.indexOf('size_bytes');
  const b = box.getBoundingClientRect();
  const sizeTh = table.querySelectorAll('thead th')[size];
  const sizeHead = sizeTh.getBoundingClientRect();
  const rows = [...table.querySelectorAll('tbody tr')];
  const cells = rows.map(tr => tr.children[size]);
  return {
    tableWidth: table.getBoundingClientRect().width, boxWidth: box.clientWidth, areaWidth: area.clientWidth,
    boxScrollWidth: box.scrollWidth, boxRight: b.right, sizeLeft: sizeHead.left, sizeRight: sizeHead.right,
    headsCut: [...table.querySelectorAll('thead th')].filter(th => th.scrollWidth > th.clientWidth)
      .map(th => th.innerText),
    sizeCut: cells.filter(td => td.scrollWidth > td.clientWidth).map(td => td.innerText),
    sizeTexts: cells.slice(0, 3).map(td => td.innerText),
    rowHeights: rows.slice(0, 10).map(tr => tr.getBoundingClientRect().height),
    lineHeight: parseFloat(getComputedStyle(rows[0].children[1]).lineHeight) || 16,
    text: table.innerText,
  };
}"""


def _run(lab: Lab, page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/lab/tree/{name}")
    page.wait_for_function("() => window.jupyterapp !== undefined")
    lab.wait_idle(name, executed=False)
    lab.run_all(name)


def test_lesson_outputs_fit_the_page(tmp_path: Path) -> None:
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    from workmail_sandbox.rules import RuleSet

    shots = SCREENSHOTS if SCREENSHOTS.is_absolute() else ROOT / SCREENSHOTS
    shots.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    page_errors: list[str] = []
    with jupyter_lab(tmp_path) as base_url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(30_000)
            expect.set_options(timeout=30_000)
            page.on("pageerror", lambda e: page_errors.append(f"{e.name}: {e.message}"))
            lab = Lab(page)
            try:
                # ---- 00: the diagram (markdown only: no kernel needed)
                page.goto(f"{base_url}/lab/tree/00_start_here.ipynb")
                page.wait_for_function("() => window.jupyterapp !== undefined")
                diagram = page.locator(".jp-RenderedMermaid img").first
                diagram.scroll_into_view_if_needed()
                expect(diagram).to_be_visible()
                m = page.evaluate(_MERMAID)
                assert m and m["viewBox"] and m["font"], f"cannot read the diagram's SVG: {m}"
                label_px = m["font"] * m["rendered"] / m["viewBox"]
                assert label_px >= MIN_LABEL_PX, f"diagram labels are drawn {label_px:.1f} px tall: {m}"
                diagram.screenshot(path=shots / "layout-mermaid.jpg", **JPEG)

                # ---- 01: the template as an outline, the full text collapsed; one "Skipped" notice
                _run(lab, page, base_url, "01_deploy_hello_world.ipynb")
                outline = page.locator(".jp-OutputArea-output", has=page.locator("pre.wms-long-summary")).first
                outline.scroll_into_view_if_needed()
                expect(outline.locator("pre.wms-long-summary")).to_contain_text("Resources (5):")
                details = outline.locator("details.wms-long-details")
                assert details.evaluate("d => d.open") is False
                assert outline.bounding_box()["height"] < 400, outline.bounding_box()
                details.locator("summary").click()
                expect(details.locator("pre.wms-long-full")).to_contain_text("AWSTemplateFormatVersion")
                notices = page.locator(".jp-OutputArea-output", has_text="Skipped: the On real AWS cells")
                assert notices.count() == 1, f"{notices.count()} Skipped notices"

                # ---- 02: AccessDenied in two lines, the whole message one click away
                _run(lab, page, base_url, "02_grant_permissions.ipynb")
                denied = page.locator("pre.wms-long-summary", has_text="AccessDeniedException calling")
                assert denied.count() == 2
                for i in range(2):
                    text = denied.nth(i).inner_text().strip()
                    assert len(text.splitlines()) == 2 and text.splitlines()[1].startswith("Fix: "), text
                    assert len(text) < 600, len(text)
                whole = page.locator("details.wms-long-details", has_text="The whole message").first
                whole.locator("summary").click()
                expect(whole.locator("pre.wms-long-full")).to_contain_text("(Sandbox: ")

                # ---- 03: the events table and the EventBuilder
                _run(lab, page, base_url, "03_events.ipynb")
                table = page.locator("table.wms-events").first
                table.scroll_into_view_if_needed()
                m = page.evaluate(_EVENTS_TABLE)
                print("events table:", {k: m[k] for k in ("tableWidth", "areaWidth", "headsCut", "rowHeights")})
                assert m["tableWidth"] <= m["areaWidth"] + 1, f"events table wider than its output area: {m}"
                assert m["boxScrollWidth"] <= m["boxWidth"] + 1, f"the events table scrolls sideways: {m}"
                assert m["sizeRight"] <= m["boxRight"] + 1 and m["sizeRight"] - m["sizeLeft"] >= 40, m
                assert not m["sizeCut"], f"size_bytes values cut: {m['sizeCut']}"
                assert not m["headsCut"], f"column names cut: {m['headsCut']}"
                assert all(text.replace(",", "").isdigit() for text in m["sizeTexts"]), m["sizeTexts"]
                assert max(m["rowHeights"]) <= 2 * m["lineHeight"], f"rows wrap: {m['rowHeights']}"
                assert "NaN" not in m["text"] and "—" in m["text"]
                table.screenshot(path=shots / "layout-events-table.jpg", **JPEG)

                builder = page.locator(".wms-event-builder").first
                builder.scroll_into_view_if_needed()
                button = builder.locator("button.wms-generate-button")
                expect(button).to_be_visible()
                fits = button.evaluate("b => ({scroll: b.scrollWidth, client: b.clientWidth, text: b.innerText})")
                assert fits["scroll"] <= fits["client"], f"button label cut: {fits}"
                assert fits["text"].strip() == "Add generated recipients"
                subject = builder.locator(".wms-subject textarea")
                box = subject.evaluate(
                    "t => ({h: t.clientHeight, line: parseFloat(getComputedStyle(t).lineHeight) || 18, rows: t.rows})"
                )
                assert box["h"] < 2 * box["line"], f"the Subject box is more than one line tall: {box}"
                builder.screenshot(path=shots / "layout-event-builder.jpg", **JPEG)

                # ---- 04: the rule table and the RuleTester
                _run(lab, page, base_url, "04_email_flow_rules.ipynb")
                rules = RuleSet.from_file(tmp_path / "data" / "rules" / "precedence-demo.yaml")
                rule_table = page.locator(".jp-OutputArea-output table.dataframe", has_text="everyone-default").first
                rule_table.scroll_into_view_if_needed()
                text = rule_table.inner_text()
                assert "(*,)" not in text and "('" not in text, text
                cells = rule_table.locator("td").all_inner_texts()
                assert "*" in cells and "vendor.example.net" in cells and "*.vendor.example.net" in cells
                assert len(rule_table.locator("tbody tr").all()) == len(rules)

                tester = page.locator(".wms-rule-tester").first
                tester.scroll_into_view_if_needed()
                result = tester.locator(".wms-rule-result")
                expect(result).to_contain_text("Winning rule:")
                tester.locator(".wms-rule-sender input").fill("not an address")
                expect(result).to_contain_text("'not an address' is not an email address")
                expect(result).not_to_contain_text("Winning rule")
                expect(tester.locator(".wms-rule-table")).to_be_hidden()
                lines = [line for line in result.inner_text().splitlines() if line.strip()]
                assert len(lines) == 1, f"the error is not one line: {lines}"
                tester.screenshot(path=shots / "layout-rule-tester-error.jpg", **JPEG)
            except BaseException:
                page.screenshot(path=shots / "layout-failure.jpg", type="jpeg", quality=55)
                raise
        finally:
            browser.close()
    print(json.dumps({"seconds": round(time.monotonic() - start, 1)}))
    assert not page_errors, f"uncaught errors in the page: {page_errors}"
