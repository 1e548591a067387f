"""ipywidgets for the lessons: build events, inspect events, read messages.

Widgets hold no logic of their own: they collect input, call the package and
render. Each one works live in JupyterLab 4 (ipywidgets 8) and, where widgets
cannot run (nbval, nbconvert, a notebook rendered on GitHub), shows a static
``text/plain`` and ``text/html`` rendering of its current state. Nothing here
prints into an ``Output`` widget: output goes into ``HTML`` widget values, so
nbval's output comparison stays meaningful.

One module per widget; import them from here::

    from workmail_sandbox.widgets import EventBuilder, EventInspector, MessageViewer, show_json
"""

from __future__ import annotations

from ._common import JsonView, show_json
from .event_builder import EventBuilder
from .event_inspector import EventInspector, events_table
from .message_viewer import MessageViewer

__all__ = [
    "EventBuilder",
    "EventInspector",
    "JsonView",
    "MessageViewer",
    "events_table",
    "show_json",
]

# ---------------------------------------------------------------------------
# RuleTester: the console's Test configuration box, with the reasons
# (widgets/rule_tester.py).
# ---------------------------------------------------------------------------
from .rule_tester import RuleTester  # noqa: E402 - after the section comment above, on purpose

__all__ += ["RuleTester"]
