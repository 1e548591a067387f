"""The read-only mapping the event views are built on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["DictView"]


class DictView(Mapping[str, Any]):
    """A read-only mapping over a raw dict; the raw dict stays reachable."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DictView):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking mapping: unhashable, like dict

    @property
    def raw(self) -> Mapping[str, Any]:
        """The underlying dict, exactly as WorkMail (or the builder) made it."""
        return self._data
