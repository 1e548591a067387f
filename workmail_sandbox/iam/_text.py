"""How values and names are worded in the evaluator's reasons and fixes."""

from __future__ import annotations

from collections.abc import Iterable


def _show(values: tuple[str, ...] | list[str]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    low = str(word).lower()
    for c in choices:
        if c.lower() == low:
            return f"Did you mean {c!r}? Names are case-sensitive. "
    return ""
