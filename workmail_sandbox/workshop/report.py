"""What a workshop check says: findings (expected, happened, hint), as text and as a green/red HTML list.

A report never shows a traceback: a function that raised is quoted from its
own CloudWatch log, one line, at the line of your cell that failed; a failure
about one message adds the last lines your function printed or logged on it.
Text and HTML hold no ids, times or paths of the kit's own, so a check cell's
output can be compared by nbval.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import WorkMailSandboxError

__all__ = ["ExerciseFailed", "Finding", "Report", "Scoreboard"]

PASS = "pass"
FAIL = "fail"
NOTE = "note"
_MARKS = {PASS: "✔", FAIL: "✖", NOTE: "ℹ"}
# Inline styles only: GitHub's notebook renderer drops <style> blocks.
_COLOURS = {
    PASS: ("#1a7f37", "#e6f4ea"),
    FAIL: ("#b42318", "#fdecea"),
    NOTE: ("#0c5460", "#e8f4f8"),
}


class ExerciseFailed(WorkMailSandboxError, AssertionError):
    """An exercise's check did not pass (raised by :meth:`Report.raise_for_failure`)."""


@dataclass
class Finding:
    """One thing a check looked at: ``status`` is ``"pass"``, ``"fail"`` or ``"note"`` (never fails a check).

    ``title`` says what was seen, in one line a learner can act on;
    ``expected``, ``happened`` and ``hint`` are set for failures (and may be for notes);
    ``log`` holds the last lines your function printed or logged on the message concerned, if any.
    """

    status: str
    title: str
    expected: str = ""
    happened: str = ""
    hint: str = ""
    log: str = ""

    @property
    def passed(self) -> bool:
        return self.status != FAIL

    def text(self) -> str:
        lines = [f"{_MARKS[self.status]} {self.title}"]
        for label, value in (("expected", self.expected), ("happened", self.happened), ("hint", self.hint),
                             ("log", self.log)):
            if value:
                first, *rest = value.splitlines()
                lines.append(f"    {label + ':':<9} {first}")
                lines.extend(f"              {line}" for line in rest)
        return "\n".join(lines)

    def html(self) -> str:
        colour, background = _COLOURS[self.status]
        rows = "".join(
            f'<div style="margin:2px 0 0 22px"><b>{label}:</b> '
            f'<span style="white-space:pre-wrap">{html.escape(value)}</span></div>'
            for label, value in (("expected", self.expected), ("happened", self.happened), ("hint", self.hint))
            if value
        )
        if self.log:
            rows += (
                '<div style="margin:2px 0 0 22px"><b>your function\'s log:</b>'
                '<pre class="wms-finding-log" style="margin:2px 0;padding:2px 4px;background:#f6f8fa">'
                f"{html.escape(self.log)}</pre></div>"
            )
        return (
            f'<li style="list-style:none;margin:4px 0;padding:4px 8px;border-left:4px solid {colour};'
            f'background:{background};color:#1f2328">'
            f'<span style="color:{colour};font-weight:bold">{_MARKS[self.status]}</span> '
            f"{html.escape(self.title)}{rows}</li>"
        )


@dataclass
class Report:
    """The outcome of one exercise's check.

    ``passed`` is True when no finding failed. ``findings`` are in the order
    they were checked; ``failures`` and ``notes`` filter them. ``organization``
    is the emulated organization the check routed mail through (its
    mailboxes and ``event_log()`` stay readable after the check restored your
    sandbox); ``results`` the :class:`~workmail_sandbox.FlowResult` of each
    message, by file name; ``seconds`` how long the check took.
    """

    number: int
    title: str
    setting: str = ""
    findings: list[Finding] = field(default_factory=list)
    organization: Any = None
    results: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    # -- building

    def add(
        self, status: str, title: str, expected: str = "", happened: str = "", hint: str = "", log: str = ""
    ) -> Finding:
        finding = Finding(status, title, expected, happened, hint, log)
        self.findings.append(finding)
        return finding

    def ok(self, title: str) -> Finding:
        return self.add(PASS, title)

    def fail(
        self, title: str, *, expected: str = "", happened: str = "", hint: str = "", log: Sequence[str] | str = ()
    ) -> Finding:
        """A failed finding; ``log``: the last lines the function printed or logged on that message."""
        return self.add(FAIL, title, expected, happened, hint, log if isinstance(log, str) else "\n".join(log))

    def note(self, title: str, *, happened: str = "", hint: str = "") -> Finding:
        return self.add(NOTE, title, happened=happened, hint=hint)

    # -- reading

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == FAIL]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.status == NOTE]

    @property
    def passed(self) -> bool:
        return bool(self.findings) and not self.failures

    def headline(self) -> str:
        checked = [f for f in self.findings if f.status != NOTE]
        if self.passed:
            verdict = f"passed ({len(checked)} of {len(checked)} checks)"
        else:
            verdict = f"not yet ({len(self.failures)} of {len(checked)} checks failed)"
        return f"Exercise {self.number} · {self.title}: {verdict}"

    def __str__(self) -> str:
        parts = [self.headline()]
        if self.setting:
            parts.append(f"({self.setting})")
        parts.append("")
        parts.extend(f.text() for f in self.findings)
        return "\n".join(parts)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = _COLOURS[PASS if self.passed else FAIL][0]
        setting = f'<div style="color:#57606a;font-size:90%">{html.escape(self.setting)}</div>' if self.setting else ""
        items = "".join(f.html() for f in self.findings)
        return (
            f'<div class="wms-workshop-report"><div style="font-weight:bold;color:{colour}">'
            f"{html.escape(self.headline())}</div>{setting}"
            f'<ul style="padding-left:0;margin:6px 0">{items}</ul></div>'
        )

    def raise_for_failure(self) -> Report:
        """Raise :class:`ExerciseFailed` unless the check passed (for solution notebooks and tests); else self."""
        if self.passed:
            return self
        titles = "; ".join(f.title for f in self.failures)
        first = self.failures[0] if self.failures else None
        raise ExerciseFailed(
            f"{self.headline()}: {titles or 'nothing was checked'}.",
            fix=(first.hint if first and first.hint else "read the report: print(report)"),
        )


@dataclass
class Scoreboard:
    """Every exercise's report (or why it was not checked), for a host or a learner's last cell."""

    rows: list[tuple[int, str, Report | None, str]] = field(default_factory=list)

    @property
    def reports(self) -> list[Report]:
        return [r for _, _, r, _ in self.rows if r is not None]

    @property
    def passed(self) -> int:
        return sum(1 for r in self.reports if r.passed)

    def _lines(self) -> Iterable[tuple[str, str]]:
        for number, title, report, why in self.rows:
            if report is None:
                yield NOTE, f"{number} · {title}: not checked ({why})"
            elif report.passed:
                yield PASS, f"{number} · {title}: passed"
            else:
                yield FAIL, f"{number} · {title}: {len(report.failures)} check(s) failed"

    def __str__(self) -> str:
        head = f"Workshop: {self.passed} of {len(self.rows)} exercises pass"
        return "\n".join([head, *(f"  {_MARKS[s]} {t}" for s, t in self._lines())])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = f"Workshop: {self.passed} of {len(self.rows)} exercises pass"
        items = "".join(Finding(s, t).html() for s, t in self._lines())
        return f'<div><b>{html.escape(head)}</b><ul style="padding-left:0;margin:6px 0">{items}</ul></div>'


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
