"""Condition operators and keys: parsing a statement's ``Condition`` block, and testing it against a request.

Operators AND, keys under one operator AND, values of one key OR (NOR for
negated operators). Condition keys ignore case. See :mod:`workmail_sandbox.iam`
for the full rules on missing keys, ``...IfExists`` and the set prefixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ConfigurationError
from ._text import _did_you_mean, _show
from ._wildcards import _glob
from .errors import PolicyError

__all__ = ["SUPPORTED_OPERATORS", "Condition", "ContextValue"]

ContextValue = str | bool | int | list[str] | tuple[str, ...] | None

_SUPPORTED_BASES = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Bool",
    "Null",
)
SUPPORTED_OPERATORS: frozenset[str] = frozenset(_SUPPORTED_BASES)
"""The condition operators :func:`~workmail_sandbox.iam.evaluate` understands (before ``IfExists`` and set prefixes)."""

# Real IAM operators the evaluator does not model: named so the error can say so.
_UNMODELLED_BASES = frozenset(
    {
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
    }
)

# base operator -> (positive operator it negates or is, negated?)
_OPERATOR_LOGIC = {
    "StringEquals": ("StringEquals", False),
    "StringNotEquals": ("StringEquals", True),
    "StringEqualsIgnoreCase": ("StringEqualsIgnoreCase", False),
    "StringNotEqualsIgnoreCase": ("StringEqualsIgnoreCase", True),
    "StringLike": ("StringLike", False),
    "StringNotLike": ("StringLike", True),
    "ArnEquals": ("ArnLike", False),
    "ArnLike": ("ArnLike", False),
    "ArnNotEquals": ("ArnLike", True),
    "ArnNotLike": ("ArnLike", True),
    "Bool": ("Bool", False),
}

_QUALIFIERS = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` test of a statement's ``Condition`` block."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # e.g. "StringLike"
    qualifier: Literal["", "ForAnyValue", "ForAllValues"]
    if_exists: bool
    key: str  # as written, e.g. "AWS:SourceArn"
    values: tuple[str, ...]

    def describe(self) -> str:
        """``ArnLike AWS:SourceArn=arn:...``, as a learner would read it in the policy."""
        return f"{self.operator} {self.key}={_show(self.values)}"


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


def _parse_conditions(block: Any, at: str) -> tuple[Condition, ...]:
    if not isinstance(block, Mapping):
        raise PolicyError(
            f"{at}: Condition must be an object of operators, not {block!r}.",
            fix='Write "Condition": {"ArnLike": {"aws:SourceArn": "arn:..."}}.',
        )
    out: list[Condition] = []
    for operator, tests in block.items():
        base, qualifier, if_exists = _parse_operator(operator, at)
        if not isinstance(tests, Mapping) or not tests:
            raise PolicyError(
                f"{at}: condition operator {operator} must map keys to values, not {tests!r}.",
                fix=f'Write "{operator}": {{"aws:SourceAccount": "123456789012"}}.',
            )
        for key, raw_values in tests.items():
            if not isinstance(key, str) or not key:
                raise PolicyError(
                    f"{at}: {operator} has an empty condition key.", fix="Name the key, e.g. aws:SourceArn."
                )
            values = _condition_values(raw_values, at, operator, key)
            if base in ("Bool", "Null"):
                for v in values:
                    if v.lower() not in ("true", "false"):
                        raise PolicyError(
                            f"{at}: {operator} {key} has value {v!r}; {base} takes only true or false.",
                            fix=f'Write "{key}": "true" or "{key}": "false".',
                        )
            # _parse_operator returns only a qualifier from _QUALIFIERS (or "").
            out.append(Condition(operator, base, qualifier, if_exists, key, values))  # type: ignore[arg-type]  # see above
    return tuple(out)


def _parse_operator(operator: str, at: str) -> tuple[str, str, bool]:
    qualifier = ""
    rest = operator
    if ":" in operator:
        qualifier, _, rest = operator.partition(":")
        if qualifier not in _QUALIFIERS:
            raise PolicyError(
                f"{at}: condition operator {operator!r} has an unknown prefix {qualifier!r}.",
                fix=_did_you_mean(qualifier, _QUALIFIERS) + "The set prefixes are ForAnyValue: and ForAllValues:.",
            )
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base in _SUPPORTED_BASES:
        if base == "Null" and if_exists:
            raise PolicyError(
                f"{at}: IAM does not allow the IfExists suffix on Null ({operator!r}).",
                fix='Use "Null" on its own: {"Null": {"aws:SourceArn": "false"}} requires the key to be present.',
            )
        if base == "Null" and qualifier:
            raise PolicyError(
                f"{at}: {operator!r} puts a set prefix on Null, which tests presence, not values.",
                fix='Use "Null" without ForAnyValue:/ForAllValues:.',
            )
        return base, qualifier, if_exists
    if base in _UNMODELLED_BASES:
        raise PolicyError(
            f"{at}: condition operator {operator!r} is a real IAM operator, but this sandbox "
            "does not evaluate it, so it cannot judge the statement.",
            fix=f"Use one of {', '.join(_SUPPORTED_BASES)} in sandbox lessons, or check this policy on AWS.",
        )
    raise PolicyError(
        f"{at}: unknown condition operator {operator!r}.",
        fix=_did_you_mean(base, _SUPPORTED_BASES + tuple(sorted(_UNMODELLED_BASES)))
        + f"Supported operators: {', '.join(_SUPPORTED_BASES)} (each also with IfExists, except Null).",
    )


def _condition_values(raw: Any, at: str, operator: str, key: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError(f"{at}: {operator} {key} has an empty list of values.", fix="Give at least one value.")
    out = []
    for v in items:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, (int, float)):
            out.append(str(v))
        elif isinstance(v, str):
            out.append(v)
        else:
            raise PolicyError(
                f"{at}: {operator} {key} has a value of type {type(v).__name__} ({v!r}).",
                fix="Condition values are strings (or lists of strings).",
            )
    return tuple(out)


# --------------------------------------------------------------------------------------
# Testing a request
# --------------------------------------------------------------------------------------


def _arn_like(value: str, pattern: str) -> bool:
    """ArnLike/ArnEquals: the six components compared one by one, wildcards within each."""
    p_parts = pattern.split(":", 5)
    v_parts = value.split(":", 5)
    if len(p_parts) != 6:
        # Not an ARN pattern ("*" for instance): compare as a whole.
        return _glob(pattern, False).fullmatch(value) is not None
    if len(v_parts) != 6:
        return False
    return all(_glob(p, False).fullmatch(v) is not None for p, v in zip(p_parts, v_parts))


def _positive_match(op: str, value: str, pattern: str) -> bool:
    if op == "StringEquals":
        return value == pattern
    if op == "StringEqualsIgnoreCase":
        return value.casefold() == pattern.casefold()
    if op == "StringLike":
        return _glob(pattern, False).fullmatch(value) is not None
    if op == "ArnLike":
        return _arn_like(value, pattern)
    if op == "Bool":
        return value.lower() == pattern.lower()
    raise AssertionError(op)  # pragma: no cover - parse_policy only lets known operators through


def _normalize_context(context: Mapping[str, ContextValue]) -> dict[str, tuple[tuple[str, ...], bool]]:
    """lower-case key -> (values, multivalued?). Absent keys (None) are left out."""
    out: dict[str, tuple[tuple[str, ...], bool]] = {}
    originals: dict[str, str] = {}
    for key, value in context.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationError(
                f"Request context key {key!r} is not a non-empty string.",
                fix='Name condition keys as in the policy, e.g. "aws:SourceArn".',
            )
        low = key.lower()
        if low in originals:
            raise ConfigurationError(
                f"Request context has both {originals[low]!r} and {key!r}; condition keys ignore case, "
                "so they name the same key.",
                fix="Keep one of them.",
            )
        originals[low] = key
        if value is None:
            continue
        if isinstance(value, bool):
            out[low] = (("true" if value else "false",), False)
        elif isinstance(value, (str, int)):
            out[low] = ((str(value),), False)
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = []
            for v in value:
                if isinstance(v, bool):
                    items.append("true" if v else "false")
                elif isinstance(v, (str, int)):
                    items.append(str(v))
                else:
                    raise ConfigurationError(
                        f"Request context key {key!r} holds a {type(v).__name__} in its list.",
                        fix="List values must be strings.",
                    )
            out[low] = (tuple(items), True)
        else:
            raise ConfigurationError(
                f"Request context key {key!r} holds a {type(value).__name__}; "
                "expected a string, a bool or a list of strings.",
                fix='Pass e.g. {"aws:SecureTransport": True, "aws:SourceAccount": "123456789012"}.',
            )
    return out


def _check_condition(cond: Condition, ctx: dict[str, tuple[tuple[str, ...], bool]]) -> str | None:
    """None when the condition holds, else a sentence saying why it does not."""
    head = cond.describe()
    entry = ctx.get(cond.key.lower())
    values = entry[0] if entry is not None else ()
    present = len(values) > 0
    if cond.base == "Null":
        wants_absent = [v.lower() == "true" for v in cond.values]
        if any((not present) if w else present for w in wants_absent):
            return None
        if present:
            return f"{head} fails because the request has {cond.key}={_show(values)}"
        return f"{head} fails because the request has no {cond.key}"
    op, negated = _OPERATOR_LOGIC[cond.base]
    if not present:
        if cond.if_exists or cond.qualifier == "ForAllValues":
            return None
        if cond.qualifier == "ForAnyValue":
            return f"{head} fails because the request has no {cond.key} (ForAnyValue needs at least one value)"
        if negated:
            return None
        return f"{head} fails because the request has no {cond.key}"

    def hits(v: str) -> list[str]:
        return [p for p in cond.values if _positive_match(op, v, p)]

    if cond.qualifier == "ForAllValues":
        for v in values:
            h = hits(v)
            if negated and h:
                return f"{head} fails because the request value {v} matches {_show(h)}"
            if not negated and not h:
                return f"{head} fails because the request value {v} (of {_show(values)}) matches none of them"
        return None
    if cond.qualifier == "ForAnyValue" or not negated:
        if negated:
            if any(not hits(v) for v in values):
                return None
            return f"{head} fails because every request value ({_show(values)}) matches it"
        if any(hits(v) for v in values):
            return None
        return f"{head} does not match {_show(values)}"
    # negated, no set prefix: none of the request values may match
    for v in values:
        h = hits(v)
        if h:
            return f"{head} fails because the request has {cond.key}={v}, which it excludes"
    return None
