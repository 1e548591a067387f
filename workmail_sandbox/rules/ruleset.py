""":class:`RuleSet`: an organization's email flow rules, both directions, in order.

It keeps the rules (names unique, the organization's sender-pattern quota),
evaluates recipients against them (:mod:`.evaluation`) and loads and saves rule
files (:mod:`.files`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import MessageParseError, RuleError
from ..events import INBOUND, OUTBOUND
from ..mail import normalize_address
from ._messages import _relocated, _short, _suggest, _type_name
from .actions import ACTIONS
from .evaluation import Evaluation
from .files import _check_keys, _read_rule_file, _write_rule_file
from .matching import _evaluate, _Index
from .model import MAX_SENDER_PATTERNS_PER_ORGANIZATION, Rule
from .settings import PrecedenceSettings


class RuleSet:
    """An organization's email flow rules, both directions, in order.

    Rule names are unique (compared without regard to case); the organization
    quota of 1,000 sender patterns is checked on every change. ``settings`` is a
    :class:`PrecedenceSettings` (a mapping is accepted too).
    """

    def __init__(
        self, rules: Iterable[Rule] = (), *, settings: PrecedenceSettings | Mapping[str, str] | None = None,
        description: str = "",
    ) -> None:
        self._rules: list[Rule] = []
        self._index: dict[str, _Index] = {}
        self.settings = settings
        self.description = description
        for rule in rules:
            self.add(rule)

    # ------------------------------------------------------------ contents

    @property
    def settings(self) -> PrecedenceSettings:
        """The :class:`PrecedenceSettings` in force."""
        return self._settings

    @settings.setter
    def settings(self, value: PrecedenceSettings | Mapping[str, str] | None) -> None:
        self._settings = PrecedenceSettings.from_dict(value)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, in order."""
        return tuple(self._rules)

    @property
    def inbound(self) -> tuple[Rule, ...]:
        """The inbound rules, in order."""
        return self.rules_for(INBOUND)

    @property
    def outbound(self) -> tuple[Rule, ...]:
        """The outbound rules, in order."""
        return self.rules_for(OUTBOUND)

    def rules_for(self, direction: str) -> tuple[Rule, ...]:
        """One direction's rules, in order."""
        d = _direction(direction)
        return tuple(r for r in self._rules if r.direction == d)

    @property
    def sender_pattern_count(self) -> int:
        """Sender patterns over all rules (WorkMail allows 1,000 per organization)."""
        return sum(len(r.sender_patterns) for r in self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(tuple(self._rules))

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Rule):
            return item in self._rules
        return isinstance(item, str) and self._find(item) is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleSet):
            return NotImplemented
        # Only the order within each direction matters for evaluation.
        return (self.inbound, self.outbound, self.settings) == (other.inbound, other.outbound, other.settings)

    def __repr__(self) -> str:
        return f"RuleSet({len(self.inbound)} inbound, {len(self.outbound)} outbound, settings={self.settings})"

    def get(self, name: str) -> Rule:
        """The rule called ``name`` (any case), or :class:`RuleError`."""
        rule = self._find(name)
        if rule is None:
            raise self._unknown(name)
        return rule

    def _find(self, name: str) -> Rule | None:
        wanted = name.strip().lower()
        return next((r for r in self._rules if r.name.lower() == wanted), None)

    def _unknown(self, name: str) -> RuleError:
        hint = _suggest(name, [r.name for r in self._rules])
        return RuleError(
            f"There is no rule called {name!r}" + (f" (did you mean {hint!r}?)" if hint else "") + ".",
            fix="use one of "
            + (", ".join(repr(r.name) for r in self._rules) or "the rules you added (there are none)"),
        )

    def _where(self, rule: Rule, index: int | None = None) -> str:
        if index is None:
            index = sum(1 for r in self._rules if r.direction == rule.direction)
        return f'{rule.direction.lower()}[{index}] "{rule.name}"'

    def add(self, rule: Rule, *, position: int | None = None) -> Rule:
        """Add ``rule`` (at the end, or at ``position`` in the whole list); returns it."""
        if not isinstance(rule, Rule):
            raise RuleError(
                f"RuleSet.add takes a Rule, got {_type_name(rule)}.",
                fix="build one with Rule.inbound(...), Rule.outbound(...) or Rule.run_lambda(...)",
            )
        self._check_new(rule, self._where(rule), self._rules)
        if position is None:
            self._rules.append(rule)
        else:
            self._rules.insert(position, rule)
        self._index.clear()
        return rule

    def remove(self, name: str | Rule) -> Rule:
        """Remove the rule called ``name`` (or that rule); returns it. Takes effect at once, as in WorkMail."""
        rule = self.get(name.name if isinstance(name, Rule) else name)
        self._rules.remove(rule)
        self._index.clear()
        return rule

    @staticmethod
    def _check_new(rule: Rule, where: str, existing: Sequence[Rule]) -> None:
        clash = next((r for r in existing if r.name.lower() == rule.name.lower()), None)
        if clash is not None:
            raise RuleError(
                f"{where}: the name {rule.name!r} is already used by the {clash.direction.lower()} rule "
                f"{clash.name!r}; rule names must be unique.",
                fix=f"give this rule another name, for example {rule.name + '-2'!r}",
            )
        total = sum(len(r.sender_patterns) for r in existing) + len(rule.sender_patterns)
        if total > MAX_SENDER_PATTERNS_PER_ORGANIZATION:
            raise RuleError(
                f"{where}: with this rule the rule set has {total:,} sender patterns; WorkMail allows at most "
                f"{MAX_SENDER_PATTERNS_PER_ORGANIZATION:,} per organization (Amazon WorkMail quotas).",
                fix="merge addresses into domain or '*.domain' patterns, or remove rules you no longer need",
            )

    def validate(self) -> RuleSet:
        """Check the whole set again (names unique, quotas, each rule); returns ``self``.

        Rules are checked when they are made, so this only finds problems
        introduced by going around the API.
        """
        seen: list[Rule] = []
        counts = {INBOUND: 0, OUTBOUND: 0}
        for rule in self._rules:
            where = f'{str(rule.direction).lower()}[{counts.get(rule.direction, 0)}] "{rule.name}"'
            try:
                again = Rule(
                    rule.name, rule.direction, rule.sender_patterns, rule.recipient_patterns, rule.action,
                    function_arn=rule.function_arn, synchronous=rule.synchronous,
                    fallback_action=rule.fallback_action, rule_timeout_minutes=rule.rule_timeout_minutes,
                    description=rule.description,
                )
            except RuleError as error:
                raise _relocated(error, where) from None
            self._check_new(again, where, seen)
            seen.append(again)
            counts[again.direction] += 1
        return self

    # ---------------------------------------------------------- evaluation

    def _compiled(self, direction: str) -> _Index:
        index = self._index.get(direction)
        if index is None:
            index = self._index[direction] = _Index(self.rules_for(direction))
        return index

    def evaluate(
        self, direction: str, recipient: str, *, sender_header: str | None = None, from_address: str | None,
    ) -> Evaluation:
        """Decide what happens to one recipient of a message.

        Inbound: the rules are tried with the ``Sender`` header first, then, if
        there is none or it matches no rule, with ``From``. Outbound: a rule
        needs the recipient and Sender or From to match. Returns an
        :class:`Evaluation`; DEFAULT when no rule matches.
        """
        d = _direction(direction)
        return _evaluate(self._compiled(d), self._settings, d, recipient, sender_header, from_address)

    def evaluate_recipients(
        self, direction: str, recipients: Iterable[str], *, sender_header: str | None = None,
        from_address: str | None,
    ) -> dict[str, Evaluation]:
        """One :class:`Evaluation` per recipient (each recipient gets its own rule), keyed by the lower-case address."""
        results: dict[str, Evaluation] = {}
        for recipient in recipients:
            evaluation = self.evaluate(direction, recipient, sender_header=sender_header, from_address=from_address)
            results.setdefault(evaluation.recipient, evaluation)
        return results

    def test_configuration(
        self, sender: str, recipient: str, direction: str = "inbound", from_address: str | None = None,
        *, check_addresses: bool = True,
    ) -> Evaluation:
        """The console's **Test configuration** box: a sender and a recipient in, the action out.

        ``sender`` is the message's From address; pass ``from_address`` as well
        to test a message whose Sender header (``sender``) and From differ.
        ``evaluation.explain()`` says what applies and why.

        A sender (or ``from_address``) that is not an email address is a
        :class:`RuleError` naming it, and no rule is picked. AWS does not say
        what its console box does with such input; refusing it is the kit's
        choice, because a box that tests one sender should test an address.
        ``check_addresses=False`` evaluates it as :meth:`evaluate` does (a
        sender that is not an address matches only ``*``, as for a null
        envelope sender). A recipient that is not an address is always refused.
        """
        if check_addresses:
            _check_sender(sender, "sender")
            if from_address is not None:
                _check_sender(from_address, "From address")
        if from_address is None:
            return self.evaluate(direction, recipient, from_address=sender)
        return self.evaluate(direction, recipient, sender_header=sender, from_address=from_address)

    def to_dataframe(self, direction: str | None = None):
        """The rules as a pandas DataFrame, one row per rule in order, patterns written as in the console.

        Columns: direction, position (``inbound[2]``), rule, senders, recipients
        (the patterns joined with ``", "``: ``*``, ``example.com``), action and label.
        ``direction`` keeps one direction's rules.
        """
        import pandas as pd

        rules = self.rules if direction is None else self.rules_for(direction)
        positions = {INBOUND: 0, OUTBOUND: 0}
        rows = []
        for rule in self.rules:
            index = positions[rule.direction]
            positions[rule.direction] += 1
            if any(rule is r for r in rules):
                rows.append({
                    "direction": rule.direction,
                    "position": f"{rule.direction.lower()}[{index}]",
                    "rule": rule.name,
                    "senders": ", ".join(rule.sender_patterns),
                    "recipients": ", ".join(rule.recipient_patterns),
                    "action": rule.action,
                    "label": rule.label,
                })
        columns = ["direction", "position", "rule", "senders", "recipients", "action", "label"]
        return pd.DataFrame(rows, columns=columns)

    # -------------------------------------------------------- load and save

    def to_dict(self) -> dict[str, Any]:
        """The rule set as the rule file writes it."""
        data: dict[str, Any] = {}
        if self.description:
            data["description"] = self.description
        data["settings"] = self.settings.to_dict()
        data["inbound"] = [r.to_dict() for r in self.inbound]
        data["outbound"] = [r.to_dict() for r in self.outbound]
        return data

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> RuleSet:
        """A rule set from the file format (see the :mod:`workmail_sandbox.rules` docstring).

        Errors name the rule by direction, index and name, and the field:
        ``inbound[2] "block-partner": sender pattern ...``; ``source`` (a file
        name) is put in front.
        """
        prefix = f"{source}: " if source else ""
        try:
            return cls._from_dict(data)
        except RuleError as error:
            if not prefix:
                raise
            raise RuleError(prefix + error.problem, fix=error.fix) from None

    @classmethod
    def _from_dict(cls, data: Any) -> RuleSet:
        if data is None:
            raise RuleError(
                "the rule set is empty.",
                fix="write at least one of inbound: [...] and outbound: [...] (see data/rules/README.md)",
            )
        if not isinstance(data, Mapping):
            raise RuleError(
                f"the rule set must be a mapping with inbound, outbound and settings; got {_type_name(data)}.",
                fix="start the file with 'inbound:' (YAML) or '{\"inbound\": [...]}' (JSON)",
            )
        _check_keys(data, ("description", "settings", "inbound", "outbound"), "the rule set")
        description = data.get("description") or ""
        if not isinstance(description, str):
            raise RuleError("description must be text.", fix="quote the description")
        ruleset = cls(settings=PrecedenceSettings.from_dict(data.get("settings")), description=description)
        for direction in (INBOUND, OUTBOUND):
            section = direction.lower()
            entries = data.get(section)
            if entries is None:
                continue
            if not isinstance(entries, list):
                raise RuleError(
                    f"{section} must be a list of rules, got {_type_name(entries)}.",
                    fix=f"write {section}: followed by rules, each starting with '- name: ...'",
                )
            for i, entry in enumerate(entries):
                rule = Rule.from_dict(entry, direction, where=f"{section}[{i}]")
                cls._check_new(rule, f'{section}[{i}] "{rule.name}"', ruleset._rules)
                ruleset._rules.append(rule)
        return ruleset

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> RuleSet:
        """Load a ``.json``, ``.yaml`` or ``.yml`` rule file; every problem is a :class:`RuleError`."""
        p = Path(path)
        return cls.from_dict(_read_rule_file(p), source=str(p))

    def to_file(self, path: str | os.PathLike[str]) -> Path:
        """Write the rule set as JSON or YAML (chosen by the extension); returns the path."""
        p = Path(path)
        _write_rule_file(self.to_dict(), p)
        return p


def _check_sender(value: Any, what: str) -> None:
    """A RuleError when ``value`` is not one email address (the Test configuration box's input)."""
    if not isinstance(value, str):
        raise RuleError(
            f"The {what} must be text, got {_type_name(value)}.",
            fix="enter one sender address, for example 'someone@example.net'",
        )
    if not value.strip():
        raise RuleError(
            f"The {what} is empty, so there is nothing to test.",
            fix="enter one sender address, for example 'someone@example.net'",
        )
    try:
        normalize_address(value)
    except MessageParseError:
        raise RuleError(
            f"The {what} {_short(value)} is not an email address, so no rule is tested.",
            fix="enter one address as local@domain, for example 'someone@example.net'",
        ) from None


_DIRECTIONS = {"inbound": INBOUND, "INBOUND": INBOUND, "outbound": OUTBOUND, "OUTBOUND": OUTBOUND}


def _direction(direction: Any) -> str:
    found = _DIRECTIONS.get(direction) if isinstance(direction, str) else None
    if found is not None:
        return found
    value = str(direction).strip().upper() if isinstance(direction, str) else None
    if value not in ACTIONS:
        raise RuleError(
            f"The direction must be inbound or outbound, got {direction!r}.",
            fix="pass direction='inbound' or direction='outbound'",
        )
    return value
