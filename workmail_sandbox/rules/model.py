""":class:`Rule`: one email flow rule, checked when it is made, and the quotas it is checked against.

Sources: "Managing email flows" (``email-flows.md``) for the actions and
patterns, "Configuring AWS Lambda for Amazon WorkMail" (``lambda.md``) for the
Run Lambda fields, and "Amazon WorkMail quotas" (``workmail_limits.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import RuleError
from ..events import INBOUND, OUTBOUND
from ._messages import _located, _relocated, _short, _suggest, _type_name
from .actions import _FALLBACKS, _RANK, ACTION_LABELS, ACTIONS, RUN_LAMBDA
from .files import _MISSING_FIX, _RULE_KEYS, _check_keys
from .patterns import Pattern, parse_pattern

#: "Sender patterns per rule: 250" (Amazon WorkMail quotas, workmail_limits.md).
MAX_SENDER_PATTERNS_PER_RULE = 250
#: "Sender patterns per organization: 1,000" (same source).
MAX_SENDER_PATTERNS_PER_ORGANIZATION = 1000
#: The rule timeout of a synchronous Run Lambda rule is at most 240 minutes (lambda.md).
MAX_RULE_TIMEOUT_MINUTES = 240

_FUNCTION_ARN = re.compile(
    r"arn:aws:lambda:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?"
)
_EXAMPLE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-function"


@dataclass(frozen=True)
class Rule:
    """One email flow rule, checked when it is made (:class:`RuleError` otherwise).

    ``direction`` is INBOUND or OUTBOUND (any case). ``sender_patterns`` and
    ``recipient_patterns`` each hold at least one pattern (a single str is one
    pattern); they are stored lower-cased, without repeats. ``action`` is one of
    the direction's actions: a constant (``"DROP"``) or the console label
    (``"Drop email"``), any case. Run Lambda rules also take ``function_arn``,
    ``synchronous``, and for synchronous rules ``fallback_action`` and
    ``rule_timeout_minutes`` (0 to 240).
    """

    name: str
    direction: str
    sender_patterns: tuple[str, ...]
    recipient_patterns: tuple[str, ...]
    action: str
    function_arn: str | None = None
    synchronous: bool = False
    fallback_action: str | None = None
    rule_timeout_minutes: int | None = None
    description: str = ""
    senders: tuple[Pattern, ...] = field(init=False, repr=False, compare=False)
    recipients: tuple[Pattern, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name.strip():
            raise _located(
                "rule", "the rule name must be non-empty text", f"got {name!r}",
                "give the rule a name such as 'drop-spam'",
            )
        name = name.strip()
        where = f'rule "{name}"'
        set_ = lambda attr, value: object.__setattr__(self, attr, value)  # noqa: E731 - a one-line local alias
        set_("name", name)
        direction = str(self.direction).strip().upper() if isinstance(self.direction, str) else None
        if direction not in ACTIONS:
            raise _located(
                where, f"direction must be INBOUND or OUTBOUND, got {self.direction!r}", "",
                "use 'inbound' or 'outbound'",
            )
        set_("direction", direction)
        set_("action", _check_action(self.action, direction, "action", where, allow_lambda=True))
        senders = _check_patterns(self.sender_patterns, "sender", where)
        recipients = _check_patterns(self.recipient_patterns, "recipient", where)
        if len(senders) > MAX_SENDER_PATTERNS_PER_RULE:
            raise _located(
                where,
                f"{len(senders):,} sender patterns; WorkMail allows at most {MAX_SENDER_PATTERNS_PER_RULE} per rule "
                "(Amazon WorkMail quotas)",
                "",
                "split the patterns over several rules with the same action, or use domain and '*.domain' patterns",
            )
        set_("senders", senders)
        set_("recipients", recipients)
        set_("sender_patterns", tuple(p.text for p in senders))
        set_("recipient_patterns", tuple(p.text for p in recipients))
        if not isinstance(self.description, str):
            raise _located(where, "description must be text", f"got {_type_name(self.description)}", "quote it")
        self._check_lambda_fields(where)

    def _check_lambda_fields(self, where: str) -> None:
        lambda_fields = {
            "function_arn": self.function_arn is not None,
            "synchronous": self.synchronous is not False,
            "fallback_action": self.fallback_action is not None,
            "rule_timeout_minutes": self.rule_timeout_minutes is not None,
        }
        if self.action != RUN_LAMBDA:
            extra = [k for k, present in lambda_fields.items() if present]
            if extra:
                raise _located(
                    where,
                    f"{extra[0]} is set but the action is {self.action}; only Run Lambda rules take "
                    "function_arn, synchronous, fallback_action and rule_timeout_minutes",
                    "",
                    f"remove {extra[0]}, or set action: RUN_LAMBDA",
                )
            return
        arn = self.function_arn
        if arn is None:
            raise _located(where, "a Run Lambda rule needs function_arn", "", f"add function_arn: {_EXAMPLE_ARN}")
        if not isinstance(arn, str) or not _FUNCTION_ARN.fullmatch(arn.strip()):
            raise _located(
                where,
                f"function_arn {arn!r} is not a Lambda function ARN "
                "(arn:aws:lambda:<region>:<12-digit account>:function:<name>[:<version or alias>])",
                "",
                f"copy the function's ARN from the Lambda console or deployment output, e.g. {_EXAMPLE_ARN}",
            )
        object.__setattr__(self, "function_arn", arn.strip())
        if not isinstance(self.synchronous, bool):
            raise _located(
                where,
                f"synchronous must be true or false, got {_type_name(self.synchronous)} {self.synchronous!r}",
                "",
                "write synchronous: true (the function can change delivery) or false (it only observes)",
            )
        if not self.synchronous:
            for key in ("fallback_action", "rule_timeout_minutes"):
                if lambda_fields[key]:
                    raise _located(
                        where,
                        f"{key} is set on an asynchronous Run Lambda rule; only synchronous rules have one "
                        "(an asynchronous function never affects delivery)",
                        "",
                        f"remove {key}, or set synchronous: true",
                    )
            return
        if self.recipient_patterns != ("*",):
            others = [p for p in self.recipient_patterns if p != "*"]
            raise _located(
                where,
                f"recipient pattern {others[0]!r}: synchronous Run Lambda rules accept only '*' as recipient pattern "
                "(Configuring AWS Lambda for Amazon WorkMail)",
                "",
                "set recipients: ['*'] and let the function choose per recipient in its response, "
                "or make the rule asynchronous",
            )
        if self.fallback_action is None:
            raise _located(
                where,
                "a synchronous Run Lambda rule needs fallback_action, applied when the function cannot be run",
                "",
                f"add fallback_action: one of {', '.join(_FALLBACKS[self.direction])}",
            )
        fallback = _check_action(self.fallback_action, self.direction, "fallback_action", where, allow_lambda=False)
        object.__setattr__(self, "fallback_action", fallback)
        timeout = self.rule_timeout_minutes
        if timeout is None:
            raise _located(
                where,
                "a synchronous Run Lambda rule needs rule_timeout_minutes (how long WorkMail retries a failed call)",
                "",
                f"add rule_timeout_minutes: a whole number from 0 (no retry) to {MAX_RULE_TIMEOUT_MINUTES}",
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int):
            raise _located(
                where,
                f"rule_timeout_minutes must be a whole number of minutes, got {_type_name(timeout)} {timeout!r}",
                "",
                f"write a whole number from 0 to {MAX_RULE_TIMEOUT_MINUTES}",
            )
        if not 0 <= timeout <= MAX_RULE_TIMEOUT_MINUTES:
            raise _located(
                where,
                f"rule_timeout_minutes is {timeout}; it must be 0 to {MAX_RULE_TIMEOUT_MINUTES} minutes "
                "(Configuring AWS Lambda for Amazon WorkMail)",
                "",
                f"use at most {MAX_RULE_TIMEOUT_MINUTES} (4 hours); 0 applies the fallback at once, without retries",
            )

    # ------------------------------------------------------------ builders

    @classmethod
    def inbound(
        cls, name: str, action: str, *, senders: str | Iterable[str] = ("*",),
        recipients: str | Iterable[str] = ("*",), description: str = "",
    ) -> Rule:
        """An inbound rule; patterns default to ``*``."""
        return cls(name, INBOUND, _as_tuple(senders), _as_tuple(recipients), action, description=description)

    @classmethod
    def outbound(
        cls, name: str, action: str, *, senders: str | Iterable[str] = ("*",),
        recipients: str | Iterable[str] = ("*",), description: str = "",
    ) -> Rule:
        """An outbound rule; patterns default to ``*``."""
        return cls(name, OUTBOUND, _as_tuple(senders), _as_tuple(recipients), action, description=description)

    @classmethod
    def run_lambda(
        cls, name: str, direction: str, function_arn: str, *, synchronous: bool,
        fallback_action: str | None = None, rule_timeout_minutes: int | None = None,
        senders: str | Iterable[str] = ("*",), recipients: str | Iterable[str] = ("*",), description: str = "",
    ) -> Rule:
        """A Run Lambda rule; patterns default to ``*``. Synchronous rules need a fallback and a timeout."""
        return cls(
            name, direction, _as_tuple(senders), _as_tuple(recipients), RUN_LAMBDA,
            function_arn=function_arn, synchronous=synchronous, fallback_action=fallback_action,
            rule_timeout_minutes=rule_timeout_minutes, description=description,
        )

    # ------------------------------------------------------------ views

    @property
    def is_run_lambda(self) -> bool:
        """True for a Run Lambda rule."""
        return self.action == RUN_LAMBDA

    @property
    def label(self) -> str:
        """The action's console label (``"Drop email"``)."""
        return ACTION_LABELS[self.direction][self.action]

    @property
    def rank(self) -> int:
        """The action's place in the documentation's table (0 is the most restrictive)."""
        return _RANK[self.direction][self.action]

    def best_sender_match(self, address: str) -> Pattern | None:
        """The most specific sender pattern ``address`` matches, or None."""
        return _best(self.senders, address)

    def best_recipient_match(self, address: str) -> Pattern | None:
        """The most specific recipient pattern ``address`` matches, or None."""
        return _best(self.recipients, address)

    def to_dict(self) -> dict[str, Any]:
        """The rule as the rule file writes it (direction is the section it sits in)."""
        data: dict[str, Any] = {
            "name": self.name,
            "senders": list(self.sender_patterns),
            "recipients": list(self.recipient_patterns),
            "action": self.action,
        }
        if self.is_run_lambda:
            data["function_arn"] = self.function_arn
            data["synchronous"] = self.synchronous
            if self.synchronous:
                data["fallback_action"] = self.fallback_action
                data["rule_timeout_minutes"] = self.rule_timeout_minutes
        if self.description:
            data["description"] = self.description
        return data

    @classmethod
    def from_dict(cls, data: Any, direction: str, *, where: str | None = None) -> Rule:
        """A rule from one entry of a rule file's ``inbound`` or ``outbound`` list.

        ``where`` (``'inbound[2]'``) starts every error message; the rule's name
        is added to it when there is one.
        """
        where = where or f"{str(direction).lower()} rule"
        if not isinstance(data, Mapping):
            raise RuleError(
                f"{where}: a rule must be a mapping with name, senders, recipients and action; "
                f"got {_type_name(data)} {_short(data)}.",
                fix="write each rule as keys, for example {name: drop-spam, senders: ['spam.example.net'], "
                "recipients: ['*'], action: DROP}",
            )
        name = data.get("name")
        if isinstance(name, str) and name.strip():
            where = f'{where} "{name.strip()}"'
        _check_keys(data, _RULE_KEYS, where)
        for key in ("name", "senders", "recipients", "action"):
            if key not in data:
                raise RuleError(f"{where}: {key} is missing.", fix=_MISSING_FIX[key])
        try:
            return cls(
                data["name"],
                direction,
                _as_tuple(data["senders"], where=where, key="senders"),
                _as_tuple(data["recipients"], where=where, key="recipients"),
                data["action"],
                function_arn=data.get("function_arn"),
                synchronous=data.get("synchronous", False),
                fallback_action=data.get("fallback_action"),
                rule_timeout_minutes=data.get("rule_timeout_minutes"),
                description=data.get("description") or "",
            )
        except RuleError as error:
            raise _relocated(error, where) from None


def _best(patterns: Iterable[Pattern], address: str) -> Pattern | None:
    best = None
    for p in patterns:
        if p.matches(address) and (best is None or p.specificity > best.specificity):
            best = p
    return best


def _check_action(value: Any, direction: str, key: str, where: str, *, allow_lambda: bool) -> str:
    allowed = ACTIONS[direction] if allow_lambda else _FALLBACKS[direction]
    if not isinstance(value, str):
        raise _located(
            where, f"{key} must be text, got {_type_name(value)} {value!r}", "", f"use one of {', '.join(allowed)}"
        )
    text = value.strip()
    upper = text.upper().replace(" ", "_").replace("-", "_")
    by_label = {label.lower(): action for action, label in ACTION_LABELS[direction].items()}
    action = upper if upper in ACTIONS[direction] else by_label.get(text.lower())
    if action is None:
        other = OUTBOUND if direction == INBOUND else INBOUND
        if upper in ACTIONS[other] or text.lower() in {lbl.lower() for lbl in ACTION_LABELS[other].values()}:
            problem = f"{key} {value!r} exists only for {other.lower()} rules"
        else:
            problem = f"{key} {value!r} is not an {direction.lower()} action"
        suggestion = _suggest(upper, allowed)
        fix = f"use one of {', '.join(allowed)}" + (f" (did you mean {suggestion}?)" if suggestion else "")
        raise _located(where, problem, "", fix)
    if not allow_lambda and action == RUN_LAMBDA:
        raise _located(
            where,
            f"{key} cannot be RUN_LAMBDA: the fallback applies when the function cannot be run, "
            "so it cannot itself be a Lambda action (Configuring AWS Lambda for Amazon WorkMail)",
            "",
            f"use one of {', '.join(allowed)}",
        )
    return action


def _check_patterns(value: Any, side: str, where: str) -> tuple[Pattern, ...]:
    items = (value,) if isinstance(value, str) else value
    if isinstance(items, Mapping) or not isinstance(items, Iterable) or isinstance(items, bytes | bytearray):
        raise _located(
            where,
            f"{side} patterns must be a list of text, got {_type_name(value)}",
            "",
            f"write {side}s: ['*'] or a list of addresses and domains",
        )
    parsed: dict[str, Pattern] = {}
    for item in items:
        try:
            pattern = parse_pattern(item, what=f"{side} pattern")
        except RuleError as error:
            raise _relocated(error, where) from None
        parsed.setdefault(pattern.text, pattern)
    if not parsed:
        raise _located(
            where,
            f"no {side} pattern; every rule needs at least one (an empty list is not 'no condition')",
            "",
            f"write {side}s: ['*'] to match every {side}",
        )
    return tuple(parsed.values())


def _as_tuple(value: Any, *, where: str | None = None, key: str | None = None) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    if where is not None and (value is None or isinstance(value, Mapping) or not isinstance(value, Iterable)):
        raise RuleError(
            f"{where}: {key} must be a list of patterns, got {_type_name(value)} {_short(value)}.",
            fix=f"write {key}: ['*'] or a list of addresses and domains",
        )
    return tuple(value) if isinstance(value, Iterable) and not isinstance(value, Mapping) else value
