""":class:`PrecedenceSettings`: how the rules engine decides where the documentation says nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import RuleError
from ._messages import _suggest, _type_name
from .files import _check_keys

SPECIFICITY_MODES = ("sender-first", "recipient-first", "sum", "max")
RUN_LAMBDA_MODES = ("compete", "in-addition")
LAMBDA_RULES_MODES = ("winner", "all-matching")


@dataclass(frozen=True)
class PrecedenceSettings:
    """How the rules engine decides where the documentation says nothing.

    ``specificity``: how a rule's specificity is taken when it has both sender
    and recipient patterns. AWS only says "the most specific rule" and its
    example compares sender patterns (an address beats a domain).

    * ``"sender-first"`` (default): compare the matched sender pattern's
      specificity, then the matched recipient pattern's. The documentation's
      examples are about senders, and inbound rules matched only the sender
      until 2020, so the sender comes first.
    * ``"recipient-first"``: the recipient pattern first, then the sender's.
    * ``"sum"``: the two levels added (address 3, domain 2, wildcard 1, ``*`` 0),
      then the wildcard labels added.
    * ``"max"``: the more specific of the two patterns only.

    ``run_lambda``: whether a Run Lambda rule competes with the other actions.

    * ``"compete"`` (default): the literal reading. Run Lambda is the last row of
      both tables, so it is just the least restrictive action: it wins only when
      it is more specific than every other matching rule, or when nothing else
      of its specificity matches.
    * ``"in-addition"``: the winning non-Lambda rule decides the action and the
      winning Run Lambda rule runs as well (a common expectation, undocumented).

    ``lambda_rules``: what happens when several Run Lambda rules match one
    recipient (AWS does not say whether more than one can fire).

    * ``"winner"`` (default): only the single winning rule runs, the literal
      precedence reading ("the action of the most specific rule is applied").
    * ``"all-matching"``: every matching Run Lambda rule runs, in precedence
      order (in ``"compete"`` mode only when a Run Lambda rule wins).
    """

    specificity: str = "sender-first"
    run_lambda: str = "compete"
    lambda_rules: str = "winner"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("specificity", SPECIFICITY_MODES),
            ("run_lambda", RUN_LAMBDA_MODES),
            ("lambda_rules", LAMBDA_RULES_MODES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise RuleError(
                    f"settings.{name} must be one of {', '.join(allowed)}; got {value!r}.",
                    fix=f"use settings.{name}: {_suggest(value, allowed) or allowed[0]}",
                )

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "settings") -> PrecedenceSettings:
        """Settings from a mapping (the ``settings`` section of a rule file)."""
        if data is None:
            return cls()
        if isinstance(data, PrecedenceSettings):
            return data
        if not isinstance(data, Mapping):
            raise RuleError(
                f"{where} must be a mapping, got {_type_name(data)}.",
                fix="write settings as keys: specificity, run_lambda, lambda_rules",
            )
        known = ("specificity", "run_lambda", "lambda_rules")
        _check_keys(data, known, where)
        for key, value in data.items():
            if not isinstance(value, str):
                raise RuleError(
                    f"{where}.{key} must be text, got {_type_name(value)} {value!r}.",
                    fix=f"use one of {', '.join(_SETTING_VALUES[key])}",
                )
        try:
            return cls(**{k: data[k].strip().lower() for k in data})
        except RuleError as error:
            raise RuleError(error.problem.replace("settings.", f"{where}.", 1), fix=error.fix) from None

    def to_dict(self) -> dict[str, str]:
        """The settings as the rule file writes them."""
        return {"specificity": self.specificity, "run_lambda": self.run_lambda, "lambda_rules": self.lambda_rules}

    def describe(self) -> str:
        """One sentence for ``explain()``."""
        order = {
            "sender-first": "sender pattern first, then recipient pattern",
            "recipient-first": "recipient pattern first, then sender pattern",
            "sum": "sum of the sender and recipient pattern levels",
            "max": "the more specific of the sender and recipient patterns",
        }[self.specificity]
        return order


_SETTING_VALUES = {"specificity": SPECIFICITY_MODES, "run_lambda": RUN_LAMBDA_MODES, "lambda_rules": LAMBDA_RULES_MODES}
