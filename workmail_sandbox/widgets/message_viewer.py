"""MessageViewer: one email's headers, MIME parts, attachments, bodies and defects.

Everything shown comes from :class:`workmail_sandbox.mail.ParsedMessage`. The
mail's HTML is never put into the notebook page: it is shown in an
``<iframe sandbox srcdoc="...">`` (scripts, forms and plugins disabled, a unique
origin), with the HTML escaped for the attribute and a Content-Security-Policy
that blocks remote content, so tracking pixels do not load either.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..mail import ParsedMessage, parse_message, read_eml
from ._common import StaticView, badge_html, esc, html_table, style_widget

__all__ = ["MessageViewer", "sandboxed_iframe"]

TAB_TITLES = ("Headers", "Parts", "Attachments", "Text body", "HTML preview", "Defects")
#: Bodies longer than this many characters are cut in the Text body tab.
MAX_TEXT_CHARS = 200_000
#: Blocks scripts, remote images, fonts and frames inside the preview; inline styles and data: images stay.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


def sandboxed_iframe(html_text: str, *, css_class: str = "wms-html-preview") -> str:
    """An ``<iframe sandbox>`` whose ``srcdoc`` is ``html_text``, escaped for the attribute.

    The empty ``sandbox`` attribute turns every permission off: no scripts, no
    forms, no popups, no same-origin access to the notebook.
    """
    document = f'<meta http-equiv="Content-Security-Policy" content="{PREVIEW_CSP}">{html_text}'
    return (
        f'<iframe class="{css_class}" sandbox="" referrerpolicy="no-referrer" '
        f'title="HTML body (sandboxed)" srcdoc="{esc(document)}"></iframe>'
    )


def _parse(message: Any) -> ParsedMessage:
    if isinstance(message, ParsedMessage):
        return parse_message(message.raw) if message.headers_only else message
    if isinstance(message, os.PathLike) or (isinstance(message, str) and "\n" not in message):
        return read_eml(Path(message))
    return parse_message(message)


def _size(n: int) -> str:
    return f"{n:,} bytes"


class MessageViewer(StaticView, W.VBox):
    """Tabs for one message: Headers, Parts, Attachments, Text body, HTML preview, Defects.

    ``message`` is a :class:`ParsedMessage`, the message bytes, or a path to an
    .eml file (a str without line breaks is taken as a path).
    """

    def __init__(self, message: ParsedMessage | bytes | str | os.PathLike[str]) -> None:
        self.message = _parse(message)
        panes = [
            self._pane(self._headers_html(), "wms-message-headers"),
            self._pane(self._parts_html(), "wms-message-parts"),
            self._pane(self._attachments_html(), "wms-message-attachments"),
            self._pane(self._text_html(), "wms-message-text"),
            self._pane(self._html_preview(), "wms-message-html"),
            self._pane(self._defects_html(), "wms-message-defects"),
        ]
        self.tabs = W.Tab(children=panes, titles=TAB_TITLES)
        self.tabs.add_class("wms-message-tabs")
        self.summary_view = W.HTML(value=self._summary_html())
        self.summary_view.add_class("wms-message-summary")
        super().__init__(children=[style_widget(), self.summary_view, self.tabs])
        self.add_class("wms-message-viewer")

    @staticmethod
    def _pane(value: str, css: str) -> W.HTML:
        pane = W.HTML(value=value)
        pane.add_class(css)
        return pane

    @property
    def panes(self) -> dict[str, W.HTML]:
        """Each tab's HTML widget by title."""
        return dict(zip(TAB_TITLES, self.tabs.children))

    # -- tab contents ---------------------------------------------------------

    def _headers_html(self) -> str:
        rows = [(i, name, value) for i, (name, value) in enumerate(self.message.header_items, 1)]
        return f'<div class="wms-scroll">{html_table(("#", "header", "value"), rows)}</div>'

    def _parts_html(self) -> str:
        rows = []
        for part in self.message.parts:
            depth = part.section.count(".")
            rows.append(
                (
                    part.section,
                    "\u00a0\u00a0" * depth + part.content_type,
                    _size(part.size),
                    part.filename or "",
                    "yes" if part.is_attachment else "no",
                    part.charset or "",
                )
            )
        table = html_table(("section", "content type", "size", "filename", "attachment", "charset"), rows)
        return f'<div class="wms-muted">Leaf MIME parts, depth first (IMAP section numbers).</div>{table}'

    def _attachments_html(self) -> str:
        attachments = self.message.attachments
        if not attachments:
            return '<p class="wms-muted">No attachments.</p>'
        rows = [(p.filename or "(no name)", p.content_type, _size(p.size), p.section) for p in attachments]
        return html_table(("name", "content type", "size", "section"), rows)

    def _text_html(self) -> str:
        text = self.message.text_body
        if text is None:
            return '<p class="wms-muted">No text/plain body.</p>'
        note = ""
        if len(text) > MAX_TEXT_CHARS:
            note = f'<p class="wms-muted">First {MAX_TEXT_CHARS:,} of {len(text):,} characters.</p>'
            text = text[:MAX_TEXT_CHARS]
        return f'{note}<pre class="wms-pre" style="white-space:pre-wrap">{esc(text)}</pre>'

    def _html_preview(self) -> str:
        body = self.message.html_body
        if body is None:
            return '<p class="wms-muted">No text/html body.</p>'
        note = (
            '<p class="wms-muted">Rendered in a sandboxed frame: scripts and remote content '
            "(images, fonts) are blocked.</p>"
        )
        return note + sandboxed_iframe(body)

    def _defects_html(self) -> str:
        defects = self.message.defects
        if not defects:
            return badge_html("no defects found", "ok")
        items = "".join(f"<li>{esc(d)}</li>" for d in defects)
        return badge_html(f"{len(defects)} defect(s)", "warn") + f"<ul>{items}</ul>"

    # -- summary (static view) ------------------------------------------------

    def _summary_lines(self) -> list[tuple[str, str]]:
        msg = self.message
        parts = msg.parts
        attachments = msg.attachments
        lines = [
            ("From", ", ".join(msg.from_addresses) or "(none)"),
            ("To", ", ".join(msg.to) or "(none)"),
        ]
        if msg.cc:
            lines.append(("Cc", ", ".join(msg.cc)))
        if msg.sender_address:
            lines.append(("Sender", msg.sender_address))
        lines += [
            ("Subject", msg.subject or "(none)"),
            ("Size", _size(len(msg.raw))),
            ("Parts", f"{len(parts)}: " + ", ".join(p.content_type for p in parts)),
            (
                "Attachments",
                "; ".join(f"{p.filename or '(no name)'} ({p.content_type}, {_size(p.size)})" for p in attachments)
                or "none",
            ),
            ("Defects", str(len(msg.defects)) if msg.defects else "none"),
        ]
        return lines

    def _summary_html(self) -> str:
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in self._summary_lines())
        return f'<table class="wms-table">{rows}</table>'

    def static_text(self) -> str:
        """A compact summary: from, to, subject, parts, attachments and defects."""
        lines = [f"{k}: {v}" for k, v in self._summary_lines()]
        lines += [f"  - {d}" for d in self.message.defects]
        return "\n".join(lines)

    def static_html(self) -> str:
        defects = "".join(f"<li>{esc(d)}</li>" for d in self.message.defects)
        return (
            f'<div class="wms-message-viewer-static"><strong>Message</strong>{self._summary_html()}'
            + (f"<ul>{defects}</ul>" if defects else "")
            + "</div>"
        )

    def __repr__(self) -> str:
        return f"MessageViewer({self.message!r})"
