"""Shared pieces of the widgets: the one style block, badges, JSON rendering, static views.

Every widget here shows two things when displayed: the live ipywidgets view
(JupyterLab 4, ipywidgets 8) and a static rendering of its current state as
``text/plain`` and ``text/html``. A front-end that can run widgets shows the
live view; nbval, nbconvert without widget state and GitHub's notebook renderer
fall back to the static text. The static text is deterministic: it holds no
model ids and no addresses, so a cell showing a widget built with fixed ids can
be checked with ``# NBVAL_CHECK_OUTPUT``.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ..events import INBOUND, OUTBOUND, normalize_direction

try:
    import ipywidgets as W
except ImportError as exc:  # pragma: no cover - the lab extra is not installed
    raise ImportError(
        "workmail_sandbox.widgets needs ipywidgets. "
        'Fix: pip install "workmail-sandbox[lab]" (JupyterLab, ipywidgets, matplotlib, tqdm).'
    ) from exc

__all__ = [
    "CSS",
    "JsonView",
    "StaticView",
    "abbreviated_json",
    "badge_html",
    "classed",
    "direction_toggle",
    "esc",
    "labelled",
    "html_table",
    "json_html",
    "set_visible",
    "show_json",
    "style_widget",
]

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"

#: The one style block. Colours come from JupyterLab's theme variables (so dark
#: themes work), with fallbacks for pages that lack them. Every class starts
#: with ``wms-`` so nothing clashes with JupyterLab's own styles.
CSS = """
.wms-badge{display:inline-block;padding:2px 8px;margin:2px 4px 2px 0;border-radius:10px;
 font-size:12px;line-height:18px;border:1px solid var(--jp-border-color1,#bbb);}
.wms-badge-warn{background:var(--jp-warn-color3,#fff3cd);color:var(--jp-ui-font-color0,#5c4400);
 border-color:var(--jp-warn-color1,#e0a800);}
.wms-badge-error{background:var(--jp-error-color3,#f8d7da);color:var(--jp-ui-font-color0,#721c24);
 border-color:var(--jp-error-color1,#d9534f);}
.wms-badge-info{background:var(--jp-info-color3,#d1ecf1);color:var(--jp-ui-font-color0,#0c5460);
 border-color:var(--jp-info-color1,#17a2b8);}
.wms-badge-ok{background:var(--jp-success-color3,#d4edda);color:var(--jp-ui-font-color0,#155724);
 border-color:var(--jp-success-color1,#28a745);}
pre.wms-pre,.jp-RenderedHTMLCommon pre.wms-pre{max-height:420px;overflow:auto;margin:4px 0;padding:6px 8px;font-size:12px;line-height:1.35;
 background:var(--jp-layout-color2,#f7f7f7);border:1px solid var(--jp-border-color2,#ddd);}
.wms-table{border-collapse:collapse;font-size:12px;line-height:1.35;}
.wms-table th,.wms-table td{padding:3px 8px;border-bottom:1px solid var(--jp-border-color2,#ddd);
 text-align:left;vertical-align:top;}
.wms-nowrap td,.wms-nowrap th{white-space:nowrap;}
.wms-scroll{max-height:420px;max-width:100%;overflow:auto;}
.wms-muted{color:var(--jp-ui-font-color2,#777);}
.wms-json-key{color:var(--jp-mirror-editor-property-color,#00f);}
.wms-json-str{color:var(--jp-mirror-editor-string-color,#a11);}
.wms-json-num{color:var(--jp-mirror-editor-number-color,#080);}
.wms-json-lit{color:var(--jp-mirror-editor-keyword-color,#708);font-weight:bold;}
.wms-json-more{color:var(--jp-ui-font-color2,#777);font-style:italic;}
.wms-html-preview{width:100%;height:360px;border:1px solid var(--jp-border-color2,#ddd);background:#fff;}
"""  # noqa: E501 - one rule is a long line: the lessons' checked outputs hold this text as it is

STYLE_TAG = f"<style>{CSS}</style>"

_style_singleton: W.HTML | None = None


def style_widget() -> W.HTML:
    """The one ``HTML`` widget holding the style block, created on first use.

    Each composite widget lists it among its children, so the CSS reaches the
    page whichever widget is shown first; one model serves every view.
    """
    global _style_singleton
    if _style_singleton is None:
        _style_singleton = W.HTML(value=STYLE_TAG, layout=W.Layout(display="none"))
        _style_singleton.add_class("wms-style")
    return _style_singleton


def esc(text: Any) -> str:
    """Escape text for HTML element content and attribute values."""
    return html.escape(str(text), quote=True)


def badge_html(text: str, kind: str = "warn", *, css_class: str = "") -> str:
    """One badge. Readable without the style block too (GitHub drops <style>)."""
    mark = {"warn": "⚠ ", "error": "✖ ", "info": "ℹ ", "ok": "✔ "}.get(kind, "")
    extra = f" {css_class}" if css_class else ""
    return f'<span class="wms-badge wms-badge-{kind}{extra}">{mark}{esc(text)}</span>'


#: The widgets' shared look: labels 8em wide, inputs the width of their column.
DESCRIPTION = {"description_width": "8em"}
WIDE = {"width": "98%"}


def classed(widget: W.DOMWidget, css: str) -> W.DOMWidget:
    """``widget`` with the CSS class ``css``: the stable hook tests and the browser test find it by."""
    widget.add_class(css)
    return widget


def labelled(cls: type, value: str, description: str, css: str, **kw: Any) -> W.DOMWidget:
    """A full-width text input (``W.Text``, ``W.Textarea``) with a label and a CSS class."""
    return classed(cls(value=value, description=description, style=DESCRIPTION, layout=WIDE, **kw), css)


def direction_toggle(direction: str, css: str, tooltips: Sequence[str]) -> W.ToggleButtons:
    """Inbound / Outbound buttons (values ``INBOUND`` / ``OUTBOUND``)."""

    buttons = W.ToggleButtons(
        options=[("Inbound", INBOUND), ("Outbound", OUTBOUND)],
        value=normalize_direction(direction),
        description="Direction",
        style=DESCRIPTION,
        tooltips=list(tooltips),
    )
    return classed(buttons, css)


def set_visible(widget: W.DOMWidget, visible: bool) -> None:
    """Show or hide a widget without removing it from its box."""
    widget.layout.display = None if visible else "none"


def html_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, css_class: str = "wms-table") -> str:
    """A small escaped HTML table (no pandas styling, so it is stable across versions)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ------------------------------------------------------------------------- JSON

_MORE = "\x00wms-more:"
_MORE_LINE = re.compile(r'"\\u0000wms-more:(\d+)"(,?)')
_STRING = r'"(?:[^"\\\n]|\\.)*"'
# An object with one key and a scalar value fits on one line: {"address": "a@example.com"}.
_ONE_KEY = re.compile(r"\{\n\s*(" + _STRING + r": (?:" + _STRING + r"|[^\n{}\[\]\"]+))\n\s*\}")


def _jsonable(value: Any) -> Any:
    """``json.dumps`` default: kit views, mappings, dataclasses and the like."""
    raw = getattr(value, "raw", None)
    if isinstance(raw, Mapping):
        return dict(raw)
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _shorten_lists(value: Any, max_items: int, head: int, tail: int) -> Any:
    if isinstance(value, Mapping):
        return {k: _shorten_lists(v, max_items, head, tail) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > max_items:
            hidden = len(value) - head - tail
            kept = value[:head] + [f"{_MORE}{hidden}"] + (value[-tail:] if tail else [])
        else:
            kept = value
        return [_shorten_lists(v, max_items, head, tail) for v in kept]
    return value


def _to_plain(obj: Any) -> Any:
    """JSON text is parsed (``get_policy`` returns the policy as a string); kit objects unwrapped."""
    if isinstance(obj, (str, bytes)):
        try:
            return json.loads(obj)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return obj if isinstance(obj, str) else obj.decode("utf-8", "replace")
    return json.loads(json.dumps(obj, default=_jsonable, ensure_ascii=False))


def abbreviated_json(obj: Any, *, max_items: int | None = 20, head: int = 10, tail: int = 5) -> str:
    """``obj`` as indented JSON; lists longer than ``max_items`` keep their head and
    tail around a ``… N more …`` line (not JSON, a preview). ``None`` shows all."""
    data = _to_plain(obj)
    if max_items is not None:
        head = min(head, max_items)
        tail = min(tail, max(0, max_items - head))
        data = _shorten_lists(data, max_items, head, tail)
    text = _ONE_KEY.sub(r"{\1}", json.dumps(data, indent=2, ensure_ascii=False))
    return _MORE_LINE.sub(lambda m: f"… {int(m.group(1)):,} more …", text)


_TOKEN = re.compile(
    r'(?P<str>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)?'
    r"|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)"
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<more>… [\d,]+ more …)"
)


def json_html(text: str) -> str:
    """Colour indented JSON text with ``wms-json-*`` spans, escaping everything."""
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(esc(text[pos : m.start()]))
        if m.group("str") is not None:
            kind = "key" if m.group("colon") else "str"
            out.append(f'<span class="wms-json-{kind}">{esc(m.group("str"))}</span>{esc(m.group("colon") or "")}')
        elif m.group("lit") is not None:
            out.append(f'<span class="wms-json-lit">{m.group("lit")}</span>')
        elif m.group("num") is not None:
            out.append(f'<span class="wms-json-num">{m.group("num")}</span>')
        else:
            out.append(f'<span class="wms-json-more">{esc(m.group("more"))}</span>')
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


class StaticView:
    """Mixin: display a widget as its live view plus a static text and HTML rendering.

    Subclasses implement :meth:`static_text` and :meth:`static_html`.
    """

    model_id: str  # set by the ipywidgets.Widget this is mixed into

    def static_text(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def static_html(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"text/plain": self.static_text(), "text/html": STYLE_TAG + self.static_html()}
        if getattr(self, "_view_name", None) is not None and getattr(self, "comm", None) is not None:
            data[WIDGET_VIEW_MIME] = {"version_major": 2, "version_minor": 0, "model_id": self.model_id}
        return data


class JsonView:
    """A JSON document shown with syntax colours in HTML and as plain indented text.

    ``max_items`` shortens long lists (an event's 10,000 recipients) to their
    head and tail; ``None`` shows everything.
    """

    def __init__(self, obj: Any, *, max_items: int | None = 50) -> None:
        self.text = abbreviated_json(obj, max_items=max_items)

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f'{STYLE_TAG}<pre class="wms-pre wms-json">{json_html(self.text)}</pre>'

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self._repr_html_()}


def show_json(obj: Any, *, max_items: int | None = 50) -> JsonView:
    """Pretty JSON with syntax colours in HTML and a plain-text fallback.

    ``obj`` may be a dict or list, an event (its raw dict is shown), an object
    with ``to_dict()``, or JSON text (``get_policy()["Policy"]`` is a string).
    Returns a :class:`JsonView`; as a cell's last line it displays itself. To
    show several in one cell, call ``display(show_json(x))``.
    """
    return JsonView(obj, max_items=max_items)
