"""A clock the sandbox and its tests can move, so a 24-hour window or a
240-minute rule timeout never makes anyone wait."""

from __future__ import annotations

import datetime as _dt
import threading

__all__ = ["SimulatedClock"]


class SimulatedClock:
    """Starts at the real time (UTC) and then moves only when told to.

    Time stands still between calls: two readings without ``advance`` are equal,
    which keeps notebooks and tests reproducible.
    """

    def __init__(self, start: _dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = self._aware(start) if start else _dt.datetime.now(_dt.UTC)

    @staticmethod
    def _aware(value: _dt.datetime) -> _dt.datetime:
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)

    def now(self) -> _dt.datetime:
        """The simulated current time (timezone-aware, UTC)."""
        with self._lock:
            return self._now

    def advance(self, delta: _dt.timedelta | None = None, **kwargs: float) -> _dt.datetime:
        """Move forward by ``delta`` or by ``timedelta`` keywords (``hours=25``)."""
        step = delta if delta is not None else _dt.timedelta(**kwargs)
        if step < _dt.timedelta(0):
            raise ValueError(f"the clock only moves forward; got {step}")
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: _dt.datetime) -> None:
        """Jump to a point in time (forward or back), e.g. to restore a snapshot."""
        with self._lock:
            self._now = self._aware(when)

    def __repr__(self) -> str:
        return f"SimulatedClock({self.now().isoformat()})"
