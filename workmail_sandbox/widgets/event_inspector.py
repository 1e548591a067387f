"""EventInspector and events_table: many events side by side, one in full.

Events are read as they are, without checking them, so the invalid samples in
``data/events/`` can be inspected too; use ``check_event`` to list what is wrong.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd

from ..events import payload_size
from ._common import StaticView, abbreviated_json, json_html, style_widget

__all__ = ["EVENT_COLUMNS", "EventInspector", "events_table"]

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


def events_table(events: Any) -> pd.DataFrame:
    """One row per event: direction, mailFrom, sender, recipients (count), subject
    (shortened to 40 characters), size_bytes (compact UTF-8 JSON), truncated, messageId.

    ``events`` is one event, a list of events, a ``{name: event}`` dict or JSON
    file paths; events may be :class:`WorkMailEvent` objects or raw dicts.
    Missing fields (pre-2020 events) are missing values (``pd.isna``). The index is the position, the
    dict key or the file name without ``.json``.
    """
    return _frame(_named_events(events))


def _frame(pairs: list[tuple[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame([_row(raw) for _label, raw in pairs], columns=list(EVENT_COLUMNS))
    frame.index = pd.Index([label for label, _raw_event in pairs], name="event")
    return frame


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
        table = self.table.to_html(classes="wms-table wms-nowrap", border=0, na_rep="—", max_rows=200)
        return f'<div class="wms-scroll">{table}</div>'

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
        table = self.table.to_string(na_rep="—", max_rows=200)
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
