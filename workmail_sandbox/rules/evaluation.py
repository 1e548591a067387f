""":class:`Evaluation`: what the rules do with one recipient of one message, and why.

The outcome of :meth:`RuleSet.evaluate <workmail_sandbox.rules.RuleSet.evaluate>`
(decided in :mod:`.matching`): the action, the winning rule, the Run Lambda
rules that run, and a :class:`RuleMatch` per rule saying why it won, ran, lost
or did not match, as ``explain()`` text or a DataFrame.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..events import INBOUND
from .actions import ACTION_EFFECTS, ACTION_LABELS, ACTIONS, DEFAULT, RUN_LAMBDA
from .model import Rule
from .patterns import Pattern, Specificity
from .settings import PrecedenceSettings

SENDER_HEADER = "Sender"
FROM_HEADER = "From"


def _combine(mode: str, s: Specificity, r: Specificity) -> tuple[int, ...]:
    if mode == "sender-first":
        return (s.level, s.labels, r.level, r.labels)
    if mode == "recipient-first":
        return (r.level, r.labels, s.level, s.labels)
    if mode == "sum":
        return (s.level + r.level, s.labels + r.labels)
    return tuple(max(s, r))


@dataclass(frozen=True)
class RuleMatch:
    """One rule as the evaluation saw it: matched or not, and what became of it.

    ``outcome`` is ``"winner"`` (its action applies), ``"runs"`` (a Run Lambda
    rule that runs too, per the settings), ``"lost"`` or ``"no match"``;
    ``reason`` says why in words. For a matching rule, ``header`` is the header
    whose address matched its sender patterns, ``sender_pattern`` and
    ``recipient_pattern`` the most specific patterns that matched and
    ``specificity`` the combined key (larger is more specific).
    """

    rule: Rule
    index: int
    matched: bool
    outcome: str
    reason: str
    header: str | None = None
    sender_pattern: Pattern | None = None
    recipient_pattern: Pattern | None = None
    specificity: tuple[int, ...] = ()

    @property
    def where(self) -> str:
        """``inbound[2] "block-partner"``: the rule's place in the rule set."""
        return f'{self.rule.direction.lower()}[{self.index}] "{self.rule.name}"'

    def to_record(self) -> dict[str, Any]:
        """The row ``to_dataframe()`` shows."""
        rule = self.rule
        mode = ("sync" if rule.synchronous else "async") if rule.is_run_lambda else ""
        return {
            "rule": rule.name,
            "position": f"{rule.direction.lower()}[{self.index}]",
            "action": rule.action,
            "label": rule.label,
            "lambda": mode,
            "matched": self.matched,
            "header": self.header,
            "sender_pattern": self.sender_pattern.text if self.sender_pattern else None,
            "sender_kind": self.sender_pattern.kind if self.sender_pattern else None,
            "recipient_pattern": self.recipient_pattern.text if self.recipient_pattern else None,
            "recipient_kind": self.recipient_pattern.kind if self.recipient_pattern else None,
            "specificity": self.specificity or None,
            "rank": rule.rank,
            "outcome": self.outcome,
            "reason": self.reason,
        }


_RECORD_COLUMNS = (
    "rule", "position", "action", "label", "lambda", "matched", "header", "sender_pattern", "sender_kind",
    "recipient_pattern", "recipient_kind", "specificity", "rank", "outcome", "reason",
)


@dataclass(frozen=True)
class Evaluation:
    """What the rules do with one recipient of one message.

    ``action`` is the winning rule's action, or DEFAULT when no rule matches
    (WorkMail's default behaviour). ``winner`` is that rule (None for the
    default); ``lambda_rules`` the Run Lambda rules that run for this recipient,
    in precedence order; ``matched_header`` ``"Sender"`` or ``"From"`` (the
    header whose address matched the winner), None when nothing matched;
    ``matches`` every matching rule, in precedence order, each with its outcome
    and reason.

    When a synchronous function runs, its response decides delivery
    (:func:`workmail_sandbox.responses.resolve_response`, with the rule's
    fallback); ``delivery_action`` is then None. Asynchronous functions never
    change delivery.
    """

    direction: str
    recipient: str
    sender_header: str | None
    from_address: str | None
    action: str
    winner: Rule | None
    lambda_rules: tuple[Rule, ...]
    matched_header: str | None
    settings: PrecedenceSettings
    #: The direction's rules when the evaluation was made (for explanations).
    rules: tuple[Rule, ...] = field(repr=False, compare=False, default=())
    #: ``(order, index, header, sender pattern, recipient pattern)`` per matching rule.
    candidates: tuple[tuple[int, int, str, Pattern, Pattern], ...] = field(repr=False, compare=False, default=())
    winner_index: int | None = field(repr=False, compare=False, default=None)
    running_indices: tuple[int, ...] = field(repr=False, compare=False, default=())

    @cached_property
    def matches(self) -> tuple[RuleMatch, ...]:
        """Every matching rule, in precedence order, with its outcome and the reason (built on first use)."""
        settings = self.settings
        mode = settings.specificity
        ranked = [
            _Candidate(i, self.rules[i], h, s, r, _combine(mode, s.specificity, r.specificity), self.rules[i].rank)
            for _, i, h, s, r in sorted(self.candidates)
        ]
        by_index = {c.index: c for c in ranked}
        winner = by_index.get(self.winner_index) if self.winner_index is not None else None
        running = [by_index[i] for i in self.running_indices]
        out = []
        for c in ranked:
            if winner is not None and c.index == winner.index:
                rivals = ranked
                if settings.run_lambda == "in-addition":
                    rivals = [o for o in ranked if o.rule.action != RUN_LAMBDA]
                outcome, reason = "winner", _why_won(c, rivals, len(rivals) < len(ranked))
            elif c.index in self.running_indices:
                outcome = "runs"
                if settings.run_lambda == "in-addition" and c.index == running[0].index:
                    if winner is None:
                        reason = (
                            "runs: the most specific matching Run Lambda rule; no other rule matches, so the "
                            "action is DEFAULT (setting run_lambda: in-addition)"
                        )
                    else:
                        reason = "runs in addition to the winning rule (setting run_lambda: in-addition)"
                else:
                    reason = "also runs: every matching Run Lambda rule runs (setting lambda_rules: all-matching)"
            else:
                outcome = "lost"
                ref = winner
                if settings.run_lambda == "in-addition" and c.rule.action == RUN_LAMBDA:
                    ref = running[0]
                # A matching rule that neither wins nor runs lost to the winner (or to the running rule).
                assert ref is not None
                reason = _why_lost(c, ref, mode)
            out.append(RuleMatch(c.rule, c.index, True, outcome, reason, c.header, c.sender, c.recipient, c.key))
        return tuple(out)

    @property
    def is_default(self) -> bool:
        """True when no rule matched and WorkMail's default behaviour applies."""
        return self.winner is None and not self.lambda_rules

    @property
    def label(self) -> str:
        """The console label of ``action``."""
        return ACTION_LABELS[self.direction][self.action]

    @property
    def winner_match(self) -> RuleMatch | None:
        """The winner's :class:`RuleMatch`."""
        return next((m for m in self.matches if m.outcome == "winner"), None)

    @property
    def losers(self) -> tuple[RuleMatch, ...]:
        """Matching rules whose action does not apply (and, for Run Lambda, that do not run)."""
        return tuple(m for m in self.matches if m.outcome == "lost")

    @property
    def function_arns(self) -> tuple[str, ...]:
        """The ARNs of the functions that run, in order."""
        return tuple(r.function_arn for r in self.lambda_rules if r.function_arn)

    @cached_property
    def synchronous_rule(self) -> Rule | None:
        """The first synchronous Run Lambda rule that runs, if any (the flow asks per recipient and step)."""
        return next((r for r in self.lambda_rules if r.synchronous), None)

    @property
    def delivery_action(self) -> str | None:
        """What delivery does without asking a function, or None when a synchronous function decides.

        An asynchronous function does not affect delivery, so a recipient whose
        only rule is an asynchronous Run Lambda rule gets DEFAULT.
        """
        if self.synchronous_rule is not None:
            return None
        return DEFAULT if self.action == RUN_LAMBDA else self.action

    def considered(self) -> tuple[RuleMatch, ...]:
        """One :class:`RuleMatch` per rule of the direction: the matching ones in
        precedence order, then the others in list order, each saying why it did not match."""
        matched = {m.index for m in self.matches}
        rest = [self._no_match(i, r) for i, r in enumerate(self.rules) if i not in matched]
        return self.matches + tuple(rest)

    def _no_match(self, index: int, rule: Rule) -> RuleMatch:
        if rule.best_recipient_match(self.recipient) is None:
            reason = (
                f"recipient {self.recipient!r} matches none of its recipient patterns {list(rule.recipient_patterns)}"
            )
        else:
            patterns = list(rule.sender_patterns)
            from_match = self.from_address is not None and rule.best_sender_match(self.from_address) is not None
            if self.direction == INBOUND and self.matched_header == SENDER_HEADER and from_match:
                reason = (
                    f"From {self.from_address!r} would match, but the Sender header matched other rules, "
                    "so From is not tried (Sender first)"
                )
            elif self.sender_header is not None and self.from_address is not None:
                reason = (
                    f"neither Sender {self.sender_header!r} nor From {self.from_address!r} "
                    f"matches its sender patterns {patterns}"
                )
            elif self.sender_header is not None:
                reason = f"Sender {self.sender_header!r} matches none of its sender patterns {patterns}"
            elif self.from_address is not None:
                reason = f"From {self.from_address!r} matches none of its sender patterns {patterns}"
            else:
                reason = "there is no Sender or From address to match its sender patterns"
        return RuleMatch(rule, index, False, "no match", reason)

    def explain(self, full: bool = False) -> str:
        """Readable text: the result, the winning rule and why, in a few lines.

        The short text names the other matching rules and counts the rules that
        did not match; ``full=True`` adds why each one lost or did not match,
        the patterns of the winner and how WorkMail decides (the precedence order).
        """
        d = self.direction
        lines = [f"{d.capitalize()} rules for recipient {self.recipient}"]
        if full:
            lines.append(
                f"  Sender header: {self.sender_header or '(none)'}    From: {self.from_address or '(none)'}"
            )
        else:
            lines[0] += (f", Sender header {self.sender_header}" if self.sender_header else "") + (
                f", From {self.from_address}" if self.from_address else ""
            )
        if self.matched_header == SENDER_HEADER:
            lines.append("  Matched with the Sender header (it is tried first).")
        elif self.matched_header == FROM_HEADER:
            if d == INBOUND and self.sender_header:
                lines.append("  Matched with From: the Sender header matched no rule.")
            elif d == INBOUND:
                lines.append("  Matched with From: there is no Sender header.")
            else:
                lines.append("  Matched with From.")
        lines.append(f"Result: {self.action} ({self.label}): {ACTION_EFFECTS[d][self.action]}.")
        win = self.winner_match
        if win is None and not self.lambda_rules:
            lines.append("  No rule matches, so WorkMail's default behaviour applies.")
        if win is not None:
            if full:
                lines.append(f"Winning rule: {win.where}: {_patterns_text(win)}")
            else:
                assert win.sender_pattern is not None and win.recipient_pattern is not None
                lines.append(
                    f"Winning rule: {win.where}: sender '{win.sender_pattern.text}', "
                    f"recipient '{win.recipient_pattern.text}'"
                )
            lines.append(f"  why: {win.reason}")
        for rule in self.lambda_rules:
            match = next(m for m in self.matches if m.rule is rule)
            if rule.synchronous:
                minutes = rule.rule_timeout_minutes
                if minutes == 0:
                    when = "if a call fails, at once (rule timeout 0: no retries)"
                else:
                    when = f"if it still fails after {minutes} minute{'s' if minutes != 1 else ''} of retries"
                what = (
                    f"synchronous: {rule.function_arn} runs before delivery and its response decides; "
                    f"{when}, the fallback {rule.fallback_action} applies"
                )
            else:
                what = (
                    f"asynchronous: {rule.function_arn} runs while the message is handled "
                    "and does not change delivery"
                )
            if match.outcome == "runs":
                lines.append(f"{'Also runs' if win is not None else 'Runs'}: {match.where}: {match.reason}")
            lines.append(f"  Run Lambda, {what}.")
        if self.action == RUN_LAMBDA and self.delivery_action == DEFAULT:
            lines.append(f"  Delivery: {DEFAULT} ({ACTION_EFFECTS[d][DEFAULT]}).")
        losers = self.losers
        others = self.considered()[len(self.matches):]
        if not full:
            if losers:
                lines.append("Also matched, and lost: " + ", ".join(f"{m.rule.name} ({m.rule.action})" for m in losers))
            if others:
                count = len(others)
                lines.append(f"{count} other rule{'s' if count != 1 else ''} did not match.")
            if losers or others:
                lines.append("Why each rule lost or did not match, and the precedence order: explain(full=True).")
            return "\n".join(lines)
        if losers:
            lines.append("Other matching rules:")
            lines += [f"  - {m.where} ({m.rule.action}): lost: {m.reason}" for m in losers]
        if others:
            lines.append("Rules that did not match:")
            lines += [f"  - {m.where} ({m.rule.action}): {m.reason}" for m in others]
        lines.append(
            "How WorkMail decides: the most specific rule wins (address > domain > wildcard domain > '*'; "
            f"{self.settings.describe()}); at equal specificity the action listed first wins, in "
            f"{_table_order_text(d)}."
        )
        changed = {k: v for k, v in self.settings.to_dict().items() if v != getattr(PrecedenceSettings(), k)}
        if changed:
            listed = ", ".join(f"{k}: {v}" for k, v in changed.items())
            lines.append(f"Settings changed from the defaults: {listed}.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The short explanation, with the full one in a collapsible ``<details>`` block below it."""
        return (
            f'<pre class="wms-explain">{html.escape(self.explain())}</pre>'
            "<details><summary>Full explanation: every rule and the precedence order</summary>"
            f'<pre class="wms-explain-full">{html.escape(self.explain(full=True))}</pre></details>'
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text view: the short explanation (``explain(full=True)`` for everything)."""
        printer.text(self.explain())

    def __str__(self) -> str:
        return self.explain()

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per rule considered (see :meth:`considered`)."""
        return [m.to_record() for m in self.considered()]

    def to_dataframe(self):
        """The rules considered as a pandas DataFrame, one row per rule."""
        import pandas as pd

        return pd.DataFrame(self.to_records(), columns=list(_RECORD_COLUMNS))


def _table_order_text(direction: str, *, literal: bool = True) -> str:
    """The order of the guide's action table for ``direction``, quoted as the order of precedence.

    "Managing email flows" says that at equal specificity the most restrictive
    action applies, and that the order of precedence is the order in which its
    action tables list the actions (docs/aws-behaviour.md §4.4a). The outbound
    table starts with Default, so read literally Default outranks Drop; with
    ``literal`` the outbound text says so.
    """
    text = (
        f"the order of the {direction.lower()} actions table of AWS's guide (Managing email flows), "
        f"which the guide makes the order of precedence: {' > '.join(ACTIONS[direction])}"
    )
    if direction != INBOUND and literal:
        text += " (the table lists Default first, so taken literally Default outranks Drop)"
    return text


def _patterns_text(m: RuleMatch) -> str:
    s, r = m.sender_pattern, m.recipient_pattern
    assert s is not None and r is not None, "only a matching rule has patterns"
    return (
        f"sender pattern {s.text!r} ({s.kind}, matched {m.header}), "
        f"recipient pattern {r.text!r} ({r.kind}), action {m.rule.action} ({m.rule.label})"
    )


@dataclass(frozen=True)
class _Candidate:
    index: int
    rule: Rule
    header: str
    sender: Pattern
    recipient: Pattern
    key: tuple[int, ...]
    rank: int


def _why_lost(c: _Candidate, ref: _Candidate, mode: str) -> str:
    if c.key < ref.key:
        return "less specific: " + _specificity_gap(c, ref, mode)
    if c.rank > ref.rank:
        return f"same specificity, less restrictive: {c.rule.action} ranks below {ref.rule.action}"
    return f'same specificity and action as "{ref.rule.name}", which comes earlier in the rule list'


def _specificity_gap(c: _Candidate, ref: _Candidate, mode: str) -> str:
    if mode in ("sum", "max"):
        return (
            f"{mode} of sender and recipient specificity {c.key} vs {ref.key} in \"{ref.rule.name}\" "
            f"(sender '{c.sender.text}' + recipient '{c.recipient.text}' vs "
            f"'{ref.sender.text}' + '{ref.recipient.text}')"
        )
    sides = [("sender", c.sender, ref.sender), ("recipient", c.recipient, ref.recipient)]
    if mode == "recipient-first":
        sides.reverse()
    for side, mine, theirs in sides:
        if mine.specificity != theirs.specificity:
            if mine.kind != theirs.kind:
                head = f"{mine.kind} rule vs {theirs.kind} rule"
            else:
                head = (
                    f"shorter wildcard domain ({mine.specificity.labels} vs {theirs.specificity.labels} labels)"
                )
            return f"{head} (\"{ref.rule.name}\"): {side} pattern '{mine.text}' vs '{theirs.text}'"
    return f"specificity {c.key} vs {ref.key}"  # pragma: no cover - unreachable when keys differ


def _why_won(c: _Candidate, ranked: list[_Candidate], lambdas_aside: bool = False) -> str:
    rivals = [o for o in ranked if o.index != c.index]
    if not rivals:
        return "the only matching rule" + (" besides Run Lambda rules, which run in addition" if lambdas_aside else "")
    tied = [o for o in rivals if o.key == c.key]
    if not tied:
        return "the most specific matching rule"
    worse = [o for o in tied if o.rank > c.rank]
    if worse:
        return (
            f"same specificity as {', '.join(repr(o.rule.name) for o in tied)}; {c.rule.action} ranks above "
            f"{worse[0].rule.action} in {_table_order_text(c.rule.direction, literal=c.rule.action == DEFAULT)}"
        )
    return "same specificity and action as another rule; it comes first in the rule list"
