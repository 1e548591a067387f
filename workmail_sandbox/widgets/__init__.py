"""ipywidgets for the lessons: build events, inspect events, read messages.

Widgets hold no logic of their own: they collect input, call the package and
render. Each one works live in JupyterLab 4 (ipywidgets 8) and, where widgets
cannot run (nbval, nbconvert, a notebook rendered on GitHub), shows a static
``text/plain`` and ``text/html`` rendering of its current state. Nothing here
prints into an ``Output`` widget: output goes into ``HTML`` widget values, so
nbval's output comparison stays meaningful.

One module per widget; import them from here::

    from workmail_sandbox.widgets import EventBuilder, EventInspector, MessageViewer, show_json

Long texts are shown short, with the whole text one call away:
``show_template`` (a template's outline), ``show_error`` (an AWS error in two
lines) and ``show_text`` return a :class:`LongText`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names
from ._common import JsonView, show_json

if TYPE_CHECKING:  # pragma: no cover - the lazy names below, for type checkers and IDEs
    from .event_builder import EventBuilder
    from .event_inspector import EventInspector, EventsTable, events_table
    from .long_text import LongText, show_error, show_template, show_text
    from .message_viewer import MessageViewer
    from .rule_tester import RuleTester

#: Names imported on first use (PEP 562): ``ipywidgets`` and, for the events table, pandas
#: take about half a second to import, which a lesson that only calls ``show_json`` never needs.
_LAZY = {
    "EventBuilder": ".event_builder",
    "EventInspector": ".event_inspector",
    "EventsTable": ".event_inspector",
    "events_table": ".event_inspector",
    "LongText": ".long_text",
    "show_error": ".long_text",
    "show_template": ".long_text",
    "show_text": ".long_text",
    "MessageViewer": ".message_viewer",
    "RuleTester": ".rule_tester",
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY)


__all__ = [
    "EventBuilder",
    "EventInspector",
    "EventsTable",
    "JsonView",
    "LongText",
    "MessageViewer",
    "events_table",
    "show_error",
    "show_json",
    "show_template",
    "show_text",
]

# RuleTester: the console's Test configuration box, with the reasons (widgets/rule_tester.py).
__all__ += ["RuleTester"]
