"""ReplaySummary: a replay's outcomes per action and per rule, invocations, errors and timing, mergeable."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from workmail_sandbox.replay import REPLAY_COLUMNS, error_row
from workmail_sandbox.replay_folder import replay_folder
from workmail_sandbox.replay_summary import BINS_PER_DECADE, ReplaySummary

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
RULES = ROOT / "data" / "rules"
#: The histogram's bins are 10**(1/BINS_PER_DECADE) wide; its middle is within half of that of any value in it.
HALF_BIN = 10 ** (0.5 / BINS_PER_DECADE) - 1


def _row(message: str, time_ms: float, *, rule: str | None = "r", action: str = "DEFAULT", outcome: str = "inbox",
         recipient: str = "a@example.com", invocation: str | None = None, attempts: int = 0) -> tuple:
    return (message, "INBOUND", "s", recipient, rule, action, "rule", invocation, attempts, outcome, "why",
            time_ms, 0.0, None, None)


@pytest.fixture(scope="module")
def replayed():
    summary = ReplaySummary()
    frame = replay_folder(EMAILS, RULES / "basic.yaml", progress=False, summary=summary)
    return frame, summary


def test_the_tables_count_what_the_rows_say(replayed):
    frame, summary = replayed
    tables = summary.tables()
    by_rule = tables["outcomes by rule"]
    expected = pd.crosstab(frame.rule.fillna("(no rule)"), frame.outcome)
    for rule, row in expected.iterrows():
        for outcome, n in row.items():
            assert by_rule.loc[rule, outcome] == n, (rule, outcome)
    assert by_rule["total"].sum() == len(frame) == summary.rows
    by_action = tables["outcomes by action"]
    assert by_action.loc["DROP", "dropped"] == ((frame.action == "DROP") & (frame.outcome == "dropped")).sum()
    assert tables["messages"].loc["messages", "count"] == frame.message.nunique() == summary.messages
    assert summary.percentile_method == "exact"  # replay_folder kept the rows, so the times too
    times = frame.drop_duplicates("message").time_ms.sort_values().tolist()
    assert tables["timing"].loc["p50", "ms"] == times[math.ceil(0.5 * len(times)) - 1]
    assert ReplaySummary.from_frame(frame).tables()["outcomes by rule"].equals(by_rule)


def test_summaries_of_chunks_merge_into_the_summary_of_the_whole(replayed):
    frame, whole = replayed
    records = list(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))
    messages = list(dict.fromkeys(r[0] for r in records))
    thirds = [set(messages[i::3]) for i in range(3)]
    parts = [ReplaySummary.from_rows([r for r in records if r[0] in part]) for part in thirds]
    merged = parts[0] + parts[1] + parts[2]
    for name in ("messages", "failed", "rows", "invocations", "attempts", "by_action", "by_rule", "errors"):
        assert getattr(merged, name) == getattr(whole, name), name
    assert merged.percentile_method == "histogram"  # the parts kept no times
    exact = whole.percentiles()
    for key, value in merged.percentiles().items():
        assert value == pytest.approx(exact[key], rel=HALF_BIN * 1.01), key


def test_histogram_percentiles_are_within_half_a_bin_and_the_histogram_does_not_grow():
    summary = ReplaySummary()
    size = len(summary.histogram)
    for i in range(1, 20001):
        summary.add([_row(f"m{i}", i / 10)])  # 0.1 ms to 2,000 ms
    assert len(summary.histogram) == size and summary.times is None
    got = summary.percentiles()
    for q, exact in ((50, 1000.0), (90, 1800.0), (99, 1980.0)):
        assert got[f"p{q}"] == pytest.approx(exact, rel=HALF_BIN * 1.01)
    assert summary.max_ms == 2000.0 and summary.min_ms == 0.1


def test_exact_percentiles_are_nearest_rank():
    summary = ReplaySummary().keep_exact_times()
    for i, ms in enumerate([5.0, 1.0, 3.0, 2.0, 4.0]):
        summary.add([_row(f"m{i}", ms), _row(f"m{i}", ms, recipient="b@example.com")])  # one time per message
    assert summary.percentiles((50, 90, 99, 20)) == {"p50": 3.0, "p90": 5.0, "p99": 5.0, "p20": 1.0}


def test_errors_and_invocations():
    summary = ReplaySummary.from_rows([
        _row("a", 1.0, invocation="inv-1", attempts=3, action="BOUNCE", outcome="bounced"),
        _row("a", 1.0, invocation="inv-1", attempts=3, recipient="b@example.com"),
        _row("b", 2.0, rule=None),
        error_row("c.eml", "parse", "not mail"),
        error_row("d.eml", "read", "a FIFO"),
        error_row("e.eml", "parse", "not mail either"),
    ])
    assert (summary.messages, summary.routed, summary.failed, summary.rows) == (5, 2, 3, 6)
    assert (summary.invocations, summary.attempts) == (1, 3)  # one invocation decided both of a's recipients
    assert dict(summary.errors) == {"parse": 2, "read": 1}
    assert summary.by_action[("BOUNCE", "bounced")] == 1 and summary.by_rule[("(no rule)", "failed")] == 3
    frame = summary.frame
    assert list(frame.columns) == ["group", "name", "outcome", "rows"]
    assert frame[frame.group == "rule"].rows.sum() == frame[frame.group == "action"].rows.sum() == 6
    assert "errors:" in summary.text() and "parse" in summary.text()


def test_an_empty_summary_says_so():
    summary = ReplaySummary()
    assert all(math.isnan(v) for v in summary.percentiles().values())
    assert "(none)" in summary.text() and "0 messages" in repr(summary)


def test_plot_is_a_bar_chart_of_outcomes_per_rule(replayed):
    _, summary = replayed
    figure = summary.plot()
    ax = figure.axes[0]
    assert ax.get_title().startswith("Outcomes per rule")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert set(labels) == set(summary.tables()["outcomes by rule"].index)
    assert sum(p.get_width() for p in ax.patches) == summary.rows
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_a_frame_that_is_not_a_replay_is_refused_in_one_line():
    with pytest.raises(ValueError, match="not a replay DataFrame: no column .*recipient"):
        ReplaySummary.from_frame(pd.DataFrame({c: [] for c in REPLAY_COLUMNS if c != "recipient"}))
