"""How the rules package words its :class:`RuleError` messages.

Shared by every module of the package: where a problem is (``inbound[2]
"block-partner": ...``), what was received, and a close match to suggest.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from ..errors import RuleError


def _located(where: str, problem: str, detail: str, fix: str) -> RuleError:
    message = f"{where}: {problem}" + (f", {detail}" if detail else "") + "."
    error = RuleError(message, fix=fix)
    error.detail = message[len(where) + 2 :]
    return error


def _relocated(error: RuleError, where: str) -> RuleError:
    """The same error, said about ``where`` instead of wherever it was raised."""
    detail = error.detail or error.problem
    new = RuleError(f"{where}: {detail}", fix=error.fix)
    new.detail = detail
    return new


def _suggest(value: str, choices: Iterable[str]) -> str | None:
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def _type_name(value: Any) -> str:
    return {
        type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "text",
        list: "a list", tuple: "a list", dict: "a mapping",
    }.get(type(value), f"a {type(value).__name__}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
