"""ReplaySummary.plot(): the chart lesson 06 shows after replaying 10,000 messages."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.colors import to_hex

from workmail_sandbox.replay_summary import OUTCOME_COLOURS, ReplaySummary

matplotlib.use("Agg")


def _row(message: str, rule: str | None, outcome: str) -> tuple:
    return (message, "INBOUND", "s", "a@example.com", rule, "DEFAULT", "rule", None, 0, outcome, "why", 1.0, 0.0,
            None, None)


def _summary() -> ReplaySummary:
    return ReplaySummary.from_rows([
        _row("1", "r", "junk"), _row("2", "r", "inbox"), _row("3", None, "sent"), _row("4", "x", "bounced"),
        _row("5", "r", "inbox"),
    ])


def test_each_outcome_has_its_colour_and_the_bars_stack_in_a_fixed_order():
    figure = _summary().plot()
    try:
        ax = figure.axes[0]
        legend = ax.get_legend()
        names = [t.get_text() for t in legend.get_texts()]
        assert names == ["inbox", "junk", "sent", "bounced"]  # OUTCOME_COLOURS' order, not the table's
        for name, handle in zip(names, legend.legend_handles, strict=True):
            assert to_hex(handle.get_facecolor()) == OUTCOME_COLOURS[name]
        assert sum(p.get_width() for p in ax.patches) == 5  # one unit per recipient row
    finally:
        plt.close(figure)


def test_the_legend_sits_outside_the_bars_and_the_figure_renders_as_png():
    figure = _summary().plot()
    try:
        figure.canvas.draw()
        legend_box = figure.axes[0].get_legend().get_window_extent()
        axes_box = figure.axes[0].get_window_extent()
        assert legend_box.x0 >= axes_box.x1  # to the right of the plotting area: it hides no bar
        png = io.BytesIO()
        figure.savefig(png, format="png")
        assert png.getvalue().startswith(b"\x89PNG\r\n\x1a\n")
    finally:
        plt.close(figure)


def test_an_axes_given_is_drawn_on():
    figure, ax = plt.subplots()
    try:
        assert _summary().plot(ax=ax) is figure
        assert ax.get_title() == "Outcomes per rule (5 messages)"
    finally:
        plt.close(figure)
