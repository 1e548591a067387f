"""What a replay came to, in a few tables: outcomes per action and per rule, invocations, errors, timing.

:class:`ReplaySummary` is built one message at a time (:meth:`ReplaySummary.add`, what
``replay_folder`` calls for every message it emits, with ``--jobs`` and ``--dask`` too), or from a
replay DataFrame (:meth:`ReplaySummary.from_frame`). Summaries of parts of a corpus merge
(:meth:`ReplaySummary.merge`, or ``a + b``): counts add up, so a summary never needs all the rows.

Timing percentiles (p50, p90, p99 of ``time_ms``, the wall-clock time to route a whole message:
one value per message) come from one of two places, named in :attr:`ReplaySummary.percentile_method`:

* ``"exact"``: the per-message times themselves, kept only when the rows are in memory anyway
  (:meth:`from_frame`, or ``replay_folder`` returning its DataFrame); the nearest-rank percentile.
* ``"histogram"``: otherwise, a fixed-size histogram (:data:`BINS_PER_DECADE` logarithmic bins per
  decade from :data:`LOWEST_MS` to :data:`HIGHEST_MS`, about 900 counters whatever the corpus size).
  The percentile is the geometric middle of the bin that holds the nearest-rank value, so it is
  within about 1.2 % of the exact one (times outside the range are clamped to the measured
  minimum and maximum, which are kept exactly).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from .replay import REPLAY_COLUMNS

__all__ = ["BINS_PER_DECADE", "HIGHEST_MS", "LOWEST_MS", "OUTCOME_COLOURS", "PERCENTILES", "ReplaySummary"]

#: Logarithmic bins per factor of ten of the timing histogram.
BINS_PER_DECADE = 100
#: The histogram's range in milliseconds; times outside it fall in the first or last bin.
LOWEST_MS = 1e-3
HIGHEST_MS = 1e6
#: The percentiles reported.
PERCENTILES = (50, 90, 99)

_LOG_LOW = math.log10(LOWEST_MS)
_NBINS = int(round((math.log10(HIGHEST_MS) - _LOG_LOW) * BINS_PER_DECADE))
_COL = {name: i for i, name in enumerate(REPLAY_COLUMNS)}
NO_RULE = "(no rule)"
#: The colour of each outcome in :meth:`ReplaySummary.plot`, in the order the bars stack.
OUTCOME_COLOURS = {
    "inbox": "#2ca02c", "junk": "#ff7f0e", "sent": "#1f77b4", "dropped": "#7f7f7f", "bounced": "#d62728",
    "failed": "#000000",
}
NO_ACTION = "(none)"


def _bin(ms: float) -> int:
    if not ms > LOWEST_MS:  # also NaN
        return 0
    return min(_NBINS - 1, int((math.log10(ms) - _LOG_LOW) * BINS_PER_DECADE))


def _bin_middle(index: int) -> float:
    return 10 ** (_LOG_LOW + (index + 0.5) / BINS_PER_DECADE)


class ReplaySummary:
    """Counts of a replay that merge; see the module docstring for how percentiles are computed."""

    def __init__(self) -> None:
        self.messages = 0
        self.failed = 0
        self.rows = 0
        self.invocations = 0  # synchronous invocations that decided a recipient's action, one per message
        self.attempts = 0  # their attempts (retries + 1)
        self.by_action: Counter[tuple[str, str]] = Counter()  # (action, outcome) -> rows
        self.by_rule: Counter[tuple[str, str]] = Counter()  # (rule, outcome) -> rows
        self.errors: Counter[str] = Counter()  # error_stage -> messages
        self.histogram = [0] * _NBINS
        self.min_ms = math.inf
        self.max_ms = -math.inf
        self.total_ms = 0.0
        self.times: list[float] | None = None  # per-message times, only when exact percentiles are wanted

    # ---------------------------------------------------------------- building

    def keep_exact_times(self) -> ReplaySummary:
        """Keep every message's time from now on, for exact percentiles (when the rows are kept anyway)."""
        if self.messages == 0:
            self.times = []
        return self

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        """Count one message's rows (tuples in ``REPLAY_COLUMNS`` order, as ``iter_replay`` yields them)."""
        if not rows:
            return
        first = rows[0]
        self.messages += 1
        self.rows += len(rows)
        stage = first[_COL["error_stage"]]
        if stage is not None and stage == stage:  # not None, not NaN
            self.failed += 1
            self.errors[str(stage)] += 1
        decided: dict[str, int] = {}
        for row in rows:
            outcome = str(row[_COL["outcome"]])
            self.by_action[(_name(row[_COL["action"]], NO_ACTION), outcome)] += 1
            self.by_rule[(_name(row[_COL["rule"]], NO_RULE), outcome)] += 1
            invocation = row[_COL["invocation"]]
            if isinstance(invocation, str) and invocation:
                decided[invocation] = int(row[_COL["attempts"]] or 0)
        self.invocations += len(decided)
        self.attempts += sum(decided.values())
        self._time(float(first[_COL["time_ms"]] or 0.0))

    def _time(self, ms: float) -> None:
        if ms != ms:  # NaN: nothing measured
            return
        self.histogram[_bin(ms)] += 1
        self.min_ms = min(self.min_ms, ms)
        self.max_ms = max(self.max_ms, ms)
        self.total_ms += ms
        if self.times is not None:
            self.times.append(ms)

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]], *, exact: bool = False) -> ReplaySummary:
        """The summary of rows in ``REPLAY_COLUMNS`` order (a message's rows next to each other)."""
        summary = cls()
        if exact:
            summary.keep_exact_times()
        group: list[Sequence[Any]] = []
        for row in rows:
            if group and row[0] != group[0][0]:
                summary.add(group)
                group = []
            group.append(row)
        summary.add(group)
        return summary

    @classmethod
    def from_frame(cls, frame: Any, *, exact: bool = True) -> ReplaySummary:
        """The summary of a replay DataFrame (exact percentiles unless ``exact=False``)."""
        missing = [c for c in REPLAY_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(
                f"not a replay DataFrame: no column {', '.join(missing)}; pass what replay() or replay_folder() returns"
            )
        records = frame[list(REPLAY_COLUMNS)].astype(object).where(frame[list(REPLAY_COLUMNS)].notna(), None)
        return cls.from_rows(records.itertuples(index=False, name=None), exact=exact)

    def merge(self, other: ReplaySummary) -> ReplaySummary:
        """A new summary of both parts. Exact percentiles only if both parts kept their times."""
        out = ReplaySummary()
        for name in ("messages", "failed", "rows", "invocations", "attempts", "total_ms"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        out.by_action = self.by_action + other.by_action
        out.by_rule = self.by_rule + other.by_rule
        out.errors = self.errors + other.errors
        out.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]
        out.min_ms = min(self.min_ms, other.min_ms)
        out.max_ms = max(self.max_ms, other.max_ms)
        if self.times is not None and other.times is not None:
            out.times = self.times + other.times
        return out

    __add__ = merge

    # ---------------------------------------------------------------- reading

    @property
    def routed(self) -> int:
        return self.messages - self.failed

    @property
    def percentile_method(self) -> str:
        """``"exact"`` (from every message's time) or ``"histogram"`` (from the fixed-size histogram)."""
        return "exact" if self.times is not None else "histogram"

    def percentiles(self, qs: Sequence[float] = PERCENTILES) -> dict[str, float]:
        """``{"p50": ms, ...}``: nearest-rank percentiles of the per-message times (NaN when none)."""
        timed = sum(self.histogram)
        out: dict[str, float] = {}
        for q in qs:
            key = f"p{q:g}"
            if not timed:
                out[key] = math.nan
                continue
            rank = max(1, math.ceil(q / 100 * timed))  # the nearest rank, 1-based
            if self.times is not None:
                out[key] = sorted(self.times)[rank - 1]
                continue
            seen = 0
            for index, count in enumerate(self.histogram):
                seen += count
                if seen >= rank:
                    out[key] = min(self.max_ms, max(self.min_ms, _bin_middle(index)))
                    break
        return out

    @property
    def frame(self) -> Any:
        """One row per (group, name, outcome): rows per action (group ``action``) and per rule (``rule``)."""
        import pandas as pd

        records = [("action", a, o, n) for (a, o), n in sorted(self.by_action.items())]
        records += [("rule", r, o, n) for (r, o), n in sorted(self.by_rule.items())]
        return pd.DataFrame.from_records(records, columns=["group", "name", "outcome", "rows"])

    def tables(self) -> dict[str, Any]:
        """The summary as DataFrames: ``outcomes by action``, ``outcomes by rule``, ``messages``, ``errors``,
        ``timing``."""
        import pandas as pd

        def crosstab(counter: Counter[tuple[str, str]], index: str) -> Any:
            if not counter:
                return pd.DataFrame(columns=pd.Index([], name="outcome"), index=pd.Index([], name=index))
            table = pd.Series(counter).unstack(fill_value=0).astype(int)
            table.index.name, table.columns.name = index, "outcome"
            table["total"] = table.sum(axis=1)
            return table.sort_values("total", ascending=False, kind="stable")

        pct = self.percentiles()
        timing = {**pct, "max": self.max_ms if self.messages else math.nan,
                  "mean": self.total_ms / sum(self.histogram) if sum(self.histogram) else math.nan}
        return {
            "outcomes by action": crosstab(self.by_action, "action"),
            "outcomes by rule": crosstab(self.by_rule, "rule"),
            "messages": pd.DataFrame(
                {"count": [self.messages, self.routed, self.failed, self.rows, self.invocations, self.attempts]},
                index=pd.Index(["messages", "routed", "failed", "rows", "invocations", "attempts"], name="what"),
            ),
            "errors": pd.DataFrame({"messages": pd.Series(dict(self.errors), dtype=int)}).rename_axis("stage"),
            "timing": pd.DataFrame(
                {"ms": pd.Series(timing, dtype=float)}
            ).rename_axis(f"time_ms per message ({self.percentile_method})"),
        }

    def text(self) -> str:
        """The tables as text, as ``workmail-sandbox replay`` prints them at the end."""
        parts = []
        for title, table in self.tables().items():
            if title == "errors" and not len(table):
                continue
            body = table.round(2).to_string() if len(table) else "(none)"
            parts.append(f"{title}:\n{body}")
        return "\n\n".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """A bar chart of outcomes per rule (stacked by outcome); returns the matplotlib Figure.

        Outcomes keep one colour and order in every chart (:data:`OUTCOME_COLOURS`); the legend sits
        to the right of the bars, so it never hides them. In a notebook, end the cell with
        ``summary.plot();`` (the figure shows once, as a PNG with the inline backend).
        """
        import matplotlib.pyplot as plt

        table = self.tables()["outcomes by rule"].drop(columns="total", errors="ignore")
        order = [o for o in OUTCOME_COLOURS if o in table.columns]
        table = table[order + [c for c in table.columns if c not in OUTCOME_COLOURS]]
        if ax is None:
            fig, ax = plt.subplots(figsize=(8, 1.4 + 0.4 * max(1, len(table))), layout="constrained")
        else:
            fig = ax.figure
        if len(table):
            colours = [OUTCOME_COLOURS.get(str(c), "#7f7f7f") for c in table.columns]
            table.iloc[::-1].plot.barh(stacked=True, ax=ax, color=colours, width=0.6)
            ax.legend(title="outcome", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.set_xlabel("recipient rows")
        ax.set_ylabel("rule")
        ax.set_title(f"Outcomes per rule ({self.messages:,} messages)")
        if fig.get_layout_engine() is None:
            fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        pct = ", ".join(f"{k} {v:.1f} ms" for k, v in self.percentiles().items())
        return (f"ReplaySummary({self.messages} messages: {self.routed} routed, {self.failed} failed; "
                f"{self.rows} rows; {self.invocations} invocations; {pct} [{self.percentile_method}])")


def _name(value: Any, empty: str) -> str:
    if value is None or value != value:  # None or NaN
        return empty
    return str(value)
