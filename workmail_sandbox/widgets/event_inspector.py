"""EventInspector and events_table: many events side by side, one in full.

Events are read as they are, without checking them, so the invalid samples in
``data/events/`` can be inspected too; use ``check_event`` to list what is wrong.
"""

from __future__ import annotations

import html
import json
import numbers
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

from ..events import payload_size
from ._common import STYLE_TAG, StaticView, abbreviated_json, esc, json_html, style_widget

__all__ = ["EVENT_COLUMNS", "EventInspector", "EventsTable", "events_html", "events_table"]

EVENT_COLUMNS = ("direction", "mailFrom", "sender", "recipients", "subject", "size_bytes", "truncated", "messageId")
#: Subjects longer than this are shortened in the table (the JSON view shows them whole).
SUBJECT_WIDTH = 40


def _raw(event: Any) -> Any:
    raw = getattr(event, "raw", None)
    return raw if isinstance(raw, Mapping) else event


def _is_event(value: Any) -> bool:
    return isinstance(_raw(value), Mapping) and ("envelope" in _raw(value) or "summaryVersion" in _raw(value))


def _load(item: Any) -> Any:
    if isinstance(item, (str, os.PathLike)):
        return json.loads(Path(item).read_text(encoding="utf-8"))
    return _raw(item)


def _named_events(events: Any) -> list[tuple[str, Any]]:
    """(label, raw event) pairs from one event, a list, a {name: event} dict, or JSON file paths."""
    if _is_event(events) or isinstance(events, (str, os.PathLike)):
        events = [events]
    if isinstance(events, Mapping):
        return [(str(name), _load(value)) for name, value in events.items()]
    if isinstance(events, Iterable):
        pairs = []
        for i, item in enumerate(events):
            label = Path(item).stem if isinstance(item, (str, os.PathLike)) else str(i)
            pairs.append((label, _load(item)))
        return pairs
    raise TypeError(
        f"events must be an event, a list of events, a {{name: event}} dict or JSON file paths, "
        f"got {type(events).__name__}"
    )


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _shorten(text: Any, width: int = SUBJECT_WIDTH) -> Any:
    if isinstance(text, str) and len(text) > width:
        return text[: width - 1] + "…"
    return text


def _row(raw: Any) -> dict[str, Any]:
    recipients = _get(raw, "envelope", "recipients")
    try:
        size = payload_size(raw) if isinstance(raw, Mapping) else None
    except (TypeError, ValueError):
        size = None
    return {
        "direction": _get(raw, "flowDirection"),
        "mailFrom": _get(raw, "envelope", "mailFrom", "address"),
        "sender": _get(raw, "sender", "address"),
        "recipients": len(recipients) if isinstance(recipients, list) else None,
        "subject": _shorten(_get(raw, "subject")),
        "size_bytes": size,
        "truncated": _get(raw, "truncated"),
        "messageId": _get(raw, "messageId"),
    }


def events_table(events: Any) -> EventsTable:
    """One row per event: direction, mailFrom, sender, recipients (count), subject
    (shortened to 40 characters), size_bytes (compact UTF-8 JSON), truncated, messageId.

    ``events`` is one event, a list of events, a ``{name: event}`` dict or JSON
    file paths; events may be :class:`WorkMailEvent` objects or raw dicts.
    Missing fields (pre-2020 events) are missing values (``pd.isna``). The index is the position, the
    dict key or the file name without ``.json``.

    The result is a pandas DataFrame (an :class:`EventsTable`) that displays
    itself to fit a notebook page: see :class:`EventsTable`.
    """
    return _frame(_named_events(events))


def _frame(pairs: list[tuple[str, Any]]) -> EventsTable:
    frame = EventsTable([_row(raw) for _label, raw in pairs], columns=list(EVENT_COLUMNS))
    for column in ("recipients", "size_bytes"):  # whole numbers, with pd.NA where missing
        frame[column] = frame[column].astype("Int64")
    frame.index = pd.Index([label for label, _raw_event in pairs], name="event")
    return frame


#: Share of the table's width per column (the index first) in the HTML view: they add up to 100,
#: so the table is as wide as its output area and every column, size_bytes included, is visible.
_COLUMN_WIDTHS = {
    "event": 13, "direction": 11, "mailFrom": 13, "sender": 8, "recipients": 11, "subject": 13,
    "size_bytes": 10, "truncated": 11, "messageId": 10,
}
#: The table's own style: as wide as its output area, one line per row, long values end in "…".
#: (Beside the shared style block rather than in it: the lessons' checked outputs hold that block.)
FIT_CSS = (
    "<style>.wms-fit,.jp-RenderedHTMLCommon table.wms-fit{width:100%;table-layout:fixed;margin:0;}"
    ".wms-fit td,.wms-fit th,.jp-RenderedHTMLCommon .wms-fit td,.jp-RenderedHTMLCommon .wms-fit th{"
    "white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:0;text-align:left;padding:3px 4px;}"
    ".wms-fit thead th,.jp-RenderedHTMLCommon .wms-fit thead th{white-space:normal;vertical-align:bottom;}"
    ".wms-fit td.wms-num,.jp-RenderedHTMLCommon .wms-fit td.wms-num{text-align:right;}"
    ".wms-fit caption{caption-side:bottom;text-align:left;}</style>"
)
#: Rows shown by the plain-text view (the HTML view scrolls through all of them).
TEXT_ROWS = 20
MISSING = "—"


_BREAKS = re.compile(r"(?<=_)|(?<=[a-z])(?=[A-Z])")


def _cell_text(value: Any) -> str:
    if value is None or (not isinstance(value, (list, dict, tuple)) and pd.isna(value)):
        return MISSING
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return f"{int(value):,}"
    return str(value)


def events_html(frame: pd.DataFrame) -> str:
    """The events table as HTML that fits its output area (``EventsTable._repr_html_``).

    The table takes the area's width (``table-layout: fixed``, one share per
    column); a value too long for its column ends in an ellipsis and shows whole
    as the cell's tooltip; a missing value is ``—``, as in the inspector; the
    rows scroll inside a box 420 px high.
    """
    columns = [str(frame.index.name or "")] + [str(c) for c in frame.columns]
    widths = [_COLUMN_WIDTHS.get(c, 100 // max(1, len(columns))) for c in columns]
    cols = "".join(f'<col style="width:{w}%">' for w in widths)
    # Column names may break after "_" and before a capital (size_<wbr>bytes, message<wbr>Id):
    # a name is wrapped, never cut.
    head = "".join(f'<th title="{esc(c)}">{_BREAKS.sub("<wbr>", esc(c))}</th>' for c in columns)
    numeric = {
        c for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype)
    }
    body = []
    for label, row in zip(frame.index, frame.itertuples(index=False, name=None)):
        cells = [f'<th title="{esc(label)}">{esc(label)}</th>']
        for column, value in zip(frame.columns, row):
            text = _cell_text(value)
            css = ' class="wms-num"' if column in numeric else ""
            cells.append(f'<td{css} title="{esc(text)}">{esc(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    rows = len(frame)
    caption = f"{rows} event{'s' if rows != 1 else ''}"
    return (
        f'{FIT_CSS}<div class="wms-scroll wms-events-table-box"><table class="wms-table wms-fit wms-events">'
        f'<caption class="wms-muted">{caption}</caption><colgroup>{cols}</colgroup>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


class EventsTable(pd.DataFrame):
    """A pandas DataFrame of events that displays itself to fit a notebook page.

    Everything pandas does works as on any DataFrame (sorting, filtering and
    ``head`` keep this display). In a notebook the table is as wide as the
    output area: long values end in ``…`` (the full value is the cell's
    tooltip, and in the frame itself), missing values show as ``—``, and every
    column, ``size_bytes`` included, stays in view. The plain-text view shows
    the first 20 rows. ``pd.DataFrame(table)`` gives pandas' own display.
    """

    @property
    def _constructor(self) -> type[EventsTable]:
        return EventsTable

    def _repr_html_(self) -> str:
        return STYLE_TAG + events_html(self)

    def __repr__(self) -> str:
        return self.to_string(na_rep=MISSING, max_rows=TEXT_ROWS, max_colwidth=40)


class EventInspector(StaticView, W.VBox):
    """A table of events (:func:`events_table`) and a dropdown to read one in full."""

    def __init__(self, events: Any) -> None:
        self._pairs = _named_events(events)
        self.table = _frame(self._pairs)
        self.table_view = W.HTML(value=self._table_html(), layout={"width": "100%"})
        self.table_view.add_class("wms-events-table")
        self.select = W.Dropdown(
            options=[(self._label(i), i) for i in range(len(self._pairs))],
            description="Event",
            layout={"width": "98%"},
        )
        self.select.add_class("wms-event-select")
        self.json_view = W.HTML()
        self.json_view.add_class("wms-event-json")
        super().__init__(children=[style_widget(), self.table_view, self.select, self.json_view])
        self.add_class("wms-event-inspector")
        self.select.observe(lambda _change: self._refresh(), names="value")
        self._refresh()

    @property
    def events(self) -> list[Any]:
        """The events shown, as given (raw dicts for WorkMailEvent objects)."""
        return [raw for _label, raw in self._pairs]

    @property
    def selected(self) -> Any:
        """The raw event chosen in the dropdown, None when there are none."""
        return self._pairs[self.select.value][1] if self._pairs and self.select.value is not None else None

    def _label(self, i: int) -> str:
        label, raw = self._pairs[i]
        row = _row(raw)
        return f"{label}: {row['direction'] or '-'} from {row['mailFrom'] or '?'} — {_shorten(row['subject'], 30)!s}"

    def _table_html(self) -> str:
        return events_html(self.table.head(200))

    def _json_text(self) -> str:
        if self.selected is None:
            return "(no events)"
        return abbreviated_json(self.selected, max_items=15, head=10, tail=5)

    def _refresh(self) -> None:
        self.json_view.value = f'<pre class="wms-pre wms-json">{json_html(self._json_text())}</pre>'

    def static_text(self) -> str:
        """The table as text and the selected event's JSON (deterministic)."""
        count = len(self._pairs)
        head = f"EventInspector: {count} event{'s' if count != 1 else ''}"
        if not count:
            return head
        label = self._pairs[self.select.value][0]
        table = self.table.to_string(na_rep=MISSING, max_rows=TEXT_ROWS, max_colwidth=40)
        return f"{head}\n{table}\n\nevent {label}:\n{self._json_text()}"

    def static_html(self) -> str:
        label = html.escape(self._pairs[self.select.value][0]) if self._pairs else ""
        return (
            f'<div class="wms-event-inspector-static"><strong>EventInspector: {len(self._pairs)} event(s)</strong>'
            f"{self._table_html()}<div>event <code>{label}</code>:</div>"
            f'<pre class="wms-pre wms-json">{json_html(self._json_text())}</pre></div>'
        )

    def __repr__(self) -> str:
        return f"EventInspector({len(self._pairs)} events)"
