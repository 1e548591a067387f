"""The event as compact UTF-8 JSON, the form its 128 KB limit is counted in; reading JSON with bounds."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..errors import WorkMailSandboxError
from ._dict_view import DictView

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_NUMBER_CHARS",
    "JSONLimitError",
    "load_json",
    "payload_size",
    "serialize_event",
]

MAX_JSON_BYTES = 4 * 1024 * 1024
"""Cap for an event or response read as JSON (4 MiB; the kit's choice).

Sixteen times the 256 KB response limit and thirty-two times the 128 KB event limit:
an input over WorkMail's limit is still read and reported as too big, one a hundred
times over it is refused before parsing.
"""
MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects :func:`load_json` accepts (the kit's choice).

A Run Lambda event nests four levels and a response three; 64 leaves room for
anything a person writes and stays far below Python's recursion limit (1,000
levels make ``json.loads`` raise ``RecursionError``).
"""
MAX_JSON_NUMBER_CHARS = 100
"""Longest number literal :func:`load_json` accepts (the kit's choice).

Neither the event nor the response holds numbers; 100 characters holds any int64 or
float. Python refuses to convert integers over 4,300 digits (``ValueError``) and is
quadratic below that.
"""

# A JSON string (skipped whole) or a bracket: the depth scan is one linear pass, no recursion.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class JSONLimitError(WorkMailSandboxError, ValueError):
    """JSON input that is too big, too deep, or holds a number too long or a non-standard constant."""


def _json_depth_over(text: str, limit: int) -> bool:
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def load_json(
    data: bytes | str,
    *,
    max_bytes: int | None = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    max_number_chars: int = MAX_JSON_NUMBER_CHARS,
) -> Any:
    """Parse JSON with bounds: size, nesting depth and number length; one-line errors.

    Raises :class:`JSONLimitError` for input over ``max_bytes`` (checked first), nested
    deeper than ``max_depth`` (checked by a linear scan before parsing, without
    recursion), a number literal over ``max_number_chars``, or ``NaN``/``Infinity``
    (not JSON). Syntax errors raise ``json.JSONDecodeError`` and bad UTF-8
    ``UnicodeDecodeError``, as ``json.loads`` does.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise JSONLimitError(
            f"The JSON is {len(data):,} bytes, over the {max_bytes:,}-byte limit.",
            fix="Check that this is the right file (an event is at most 128 KB, a response 256 KB).",
        )
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    text = text.removeprefix("\ufeff")
    if _json_depth_over(text, max_depth):
        raise JSONLimitError(
            f"The JSON nests arrays and objects more than {max_depth} levels deep.",
            fix="An event nests four levels and a response three; check how the file was made.",
        )

    def number(kind: type) -> Any:
        def parse(literal: str) -> Any:
            if len(literal) > max_number_chars:
                raise JSONLimitError(
                    f"The JSON holds a number of {len(literal):,} characters, "
                    f"over the {max_number_chars}-character limit.",
                    fix="Events and responses hold no numbers; remove it.",
                )
            return kind(literal)

        return parse

    def constant(name: str) -> Any:
        raise JSONLimitError(
            f"The JSON holds {name}, which is not standard JSON.", fix="Remove it, or write it as a string."
        )

    try:
        return json.loads(text, parse_int=number(int), parse_float=number(float), parse_constant=constant)
    except (RecursionError, MemoryError) as exc:  # last resort: the checks above should prevent these
        raise JSONLimitError(
            f"The JSON is too deeply nested or too large to read ({type(exc).__name__}).", fix="Check the file."
        ) from None


def serialize_event(event: Mapping[str, Any]) -> bytes:
    """The event as compact UTF-8 JSON, the form its size is counted in."""
    if isinstance(event, DictView):
        event = event.raw
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=_unwrap).encode("utf-8")


def _unwrap(value: Any) -> Any:
    if isinstance(value, DictView):
        return value.raw
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def payload_size(event: Mapping[str, Any]) -> int:
    """The event's size in bytes as compact UTF-8 JSON."""
    return len(serialize_event(event))
