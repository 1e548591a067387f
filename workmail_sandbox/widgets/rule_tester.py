"""RuleTester: the WorkMail console's **Test configuration** box, with the reasons.

The console's Organization settings page (Inbound rules / Outbound rules) has
a Test configuration box: enter a sender and a recipient and it shows the
action that would apply (AWS docs, "Testing an email flow rule":
https://docs.aws.amazon.com/workmail/latest/adminguide/test-email-flow-rule.html).
This widget does the same with a :class:`~workmail_sandbox.rules.RuleSet` and
also says which rule won and why every other matching rule lost.

It holds no logic of its own: it calls :meth:`RuleSet.test_configuration
<workmail_sandbox.rules.RuleSet.test_configuration>` (or
:meth:`RuleSet.evaluate` when only From is given) and renders
:meth:`Evaluation.explain` / :meth:`Evaluation.to_dataframe`.
"""

from __future__ import annotations

import html
from os import PathLike
from typing import Any

import ipywidgets as W

from ..errors import RuleError
from ..events import normalize_direction
from ..rules import Evaluation, RuleSet
from ._common import (
    StaticView,
    badge_html,
    classed,
    direction_toggle,
    esc,
    html_table,
    labelled,
    set_visible,
    style_widget,
)

__all__ = ["RuleTester"]

_FIELDS = ("direction", "sender", "recipient", "from_address")
#: Columns of the rules table (from ``Evaluation.to_dataframe()``).
TABLE_COLUMNS = ("rule", "position", "action", "sender_pattern", "recipient_pattern", "outcome", "reason")


class RuleTester(StaticView, W.VBox):
    """Try a rule set against one sender and one recipient, as the console's Test configuration box.

    ``rules``: a :class:`RuleSet` or the path of a rule file (``.yaml``/``.json``).
    ``sender``: the address typed in the console's box. Alone it is the
    message's From (as :meth:`RuleSet.test_configuration` reads it). With
    ``from_address`` as well, ``sender`` is the ``Sender`` header and
    ``from_address`` the ``From`` header: inbound, the rules are tried with
    Sender first, then From.

    :attr:`evaluation` is the current :class:`Evaluation` (None while the
    inputs make none; :attr:`error` says why). Drive it from code with :meth:`set`.
    """

    def __init__(
        self,
        rules: RuleSet | str | PathLike,
        *,
        direction: str = "inbound",
        sender: str = "",
        recipient: str = "",
        from_address: str | None = None,
    ) -> None:
        self.rules = rules if isinstance(rules, RuleSet) else RuleSet.from_file(rules)
        self._evaluation: Evaluation | None = None
        self._error: str | None = None
        self._holding = False

        self.direction_buttons = direction_toggle(
            direction, "wms-rule-direction",
            ["inbound rules: mail arriving from outside", "outbound rules: mail your users send"],
        )
        self.sender_input = labelled(W.Text, sender, "Sender", "wms-rule-sender", placeholder="someone@example.net")
        self.from_input = labelled(W.Text, from_address or "", "From", "wms-rule-from",
                                   placeholder="optional: a From unlike Sender")
        self.recipient_input = labelled(W.Text, recipient, "Recipient", "wms-rule-recipient",
                                        placeholder="alice@example.com")
        self.result = classed(W.HTML(), "wms-rule-result")
        self.table = classed(W.HTML(), "wms-rule-table")

        controls = W.VBox(
            [self.direction_buttons, self.sender_input, self.from_input, self.recipient_input],
            layout={"flex": "1 1 340px", "min_width": "300px"},
        )
        self.result.layout = W.Layout(flex="1 1 400px", min_width="320px", padding="0 0 0 12px")
        # The per-rule table gets the full width under the controls: beside them its seven columns are cut.
        top = W.HBox([controls, self.result], layout={"flex_flow": "row wrap"})
        super().__init__(children=[style_widget(), top, self.table])
        self.add_class("wms-rule-tester")
        for control in (self.direction_buttons, self.sender_input, self.from_input, self.recipient_input):
            control.observe(self._on_change, names="value")
        self._refresh()

    # -- public API ---------------------------------------------------------

    @property
    def evaluation(self) -> Evaluation | None:
        """The current evaluation, or None while the inputs make none (see :attr:`error`)."""
        return self._evaluation

    @property
    def error(self) -> str | None:
        """Why there is no evaluation (no recipient yet, or a RuleError), else None."""
        return self._error

    def set(self, **fields: Any) -> RuleTester:
        """Set several inputs at once (``direction``, ``sender``, ``recipient``, ``from_address``) and evaluate once."""
        unknown = sorted(set(fields) - set(_FIELDS))
        if unknown:
            raise TypeError(f"RuleTester.set() got unknown field(s) {', '.join(unknown)}; valid: {', '.join(_FIELDS)}")
        self._holding = True
        try:
            if "direction" in fields:
                self.direction_buttons.value = normalize_direction(fields["direction"])
            if "sender" in fields:
                self.sender_input.value = fields["sender"] or ""
            if "from_address" in fields:
                self.from_input.value = fields["from_address"] or ""
            if "recipient" in fields:
                self.recipient_input.value = fields["recipient"] or ""
        finally:
            self._holding = False
        self._refresh()
        return self

    # -- computing ----------------------------------------------------------

    def _on_change(self, _change: dict[str, Any]) -> None:
        if not self._holding:
            self._refresh()

    def _evaluate(self) -> Evaluation:
        direction = self.direction_buttons.value
        sender = self.sender_input.value.strip()
        from_address = self.from_input.value.strip()
        recipient = self.recipient_input.value.strip()
        if not recipient:
            raise RuleError("enter a recipient address to test")
        if not sender and not from_address:
            raise RuleError("enter a sender address to test")
        # test_configuration refuses a Sender or From that is not an address (one line, with the fix).
        if from_address and sender:
            return self.rules.test_configuration(sender, recipient, direction, from_address=from_address)
        return self.rules.test_configuration(sender or from_address, recipient, direction)

    def _refresh(self) -> None:
        try:
            self._evaluation, self._error = self._evaluate(), None
        except RuleError as exc:
            self._evaluation, self._error = None, str(exc)
        self.result.value = self._result_html()
        self.table.value = self._table_html()
        set_visible(self.table, self._evaluation is not None)

    # -- rendering ----------------------------------------------------------

    def _result_lines(self) -> list[str]:
        """The result panel as lines of text (shared by the live and static views)."""
        e = self._evaluation
        if e is None:
            return [f"no result: {self._error}"]
        lines = [f"Action: {e.action} ({e.label})"]
        win = e.winner_match
        if win is not None:
            lines.append(f"Winning rule: {win.rule.name} ({win.where.split(' ')[0]}): {win.reason}")
        elif e.lambda_rules:
            lines.append("Winning rule: none; Run Lambda rules run: " + ", ".join(r.name for r in e.lambda_rules))
        else:
            lines.append("Winning rule: none (no rule matches: WorkMail's default behaviour)")
        for rule in e.lambda_rules:
            mode = "synchronous" if rule.synchronous else "asynchronous"
            lines.append(f"Runs: {rule.name} ({mode}) {rule.function_arn}")
        if e.matched_header and not self.from_input.value.strip():
            lines.append("Matched with the sender address (read as From when no separate From is given)")
        elif e.matched_header:
            lines.append(f"Matched with the {e.matched_header} header")
        return lines

    def _rows(self) -> list[list[Any]]:
        """The matching rules (winner first, then those that lost), from ``Evaluation.to_dataframe()``."""
        e = self._evaluation
        if e is None or not e.matches:
            return []
        df = e.to_dataframe()
        df = df[df["matched"]]
        return [[("" if v is None else v) for v in row] for row in df[list(TABLE_COLUMNS)].itertuples(index=False)]

    def _result_html(self) -> str:
        lines = self._result_lines()
        if self._evaluation is None:
            typed = self.recipient_input.value.strip() and (
                self.sender_input.value.strip() or self.from_input.value.strip()
            )
            return badge_html(lines[0], "error" if typed else "info")
        head, rest = lines[0], lines[1:]
        body = "".join(f"<div>{esc(line)}</div>" for line in rest)
        return f'<div class="wms-rule-result-body"><strong>{esc(head)}</strong>{body}</div>'

    def _table_html(self) -> str:
        rows = self._rows()
        if not rows:
            return '<span class="wms-muted">No rule matches.</span>' if self._evaluation is not None else ""
        return '<div class="wms-scroll">' + html_table(TABLE_COLUMNS, rows) + "</div>"

    def _summary(self) -> str:
        sender = self.sender_input.value.strip() or "(none)"
        frm = self.from_input.value.strip()
        extra = f", From {frm}" if frm else ""
        return (
            f"{self.direction_buttons.value.lower()} rules, Sender {sender}{extra}, "
            f"recipient {self.recipient_input.value.strip() or '(none)'}"
        )

    def static_text(self) -> str:
        """The current state as plain text: inputs, result and the matching rules (deterministic)."""
        lines = ["WorkMail rule tester: " + self._summary()] + self._result_lines()
        rows = self._rows()
        if rows:
            lines.append("Matching rules:")
            lines += [f"  - {r[0]} [{r[1]}] {r[2]}: {r[5]}: {r[6]}" for r in rows]
        return "\n".join(lines)

    def static_html(self) -> str:
        return (
            f'<div class="wms-rule-tester-static"><strong>WorkMail rule tester</strong>'
            f'<div class="wms-muted">{html.escape(self._summary())}</div>'
            f'<div class="wms-rule-result">{self._result_html()}</div>{self._table_html()}</div>'
        )

    def __repr__(self) -> str:
        action = self._evaluation.action if self._evaluation else None
        return (
            f"RuleTester(direction={self.direction_buttons.value!r}, sender={self.sender_input.value!r}, "
            f"recipient={self.recipient_input.value!r}, action={action!r})"
        )
