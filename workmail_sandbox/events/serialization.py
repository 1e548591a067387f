"""The event as compact UTF-8 JSON, the form its 128 KB limit is counted in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._dict_view import DictView

__all__ = ["payload_size", "serialize_event"]


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
