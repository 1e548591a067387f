"""Python's cyclic garbage collector held off while the kit builds a lot of long-lived state at once.

Starting the sandbox, a lesson's set-up and a CloudFormation deployment import
large parts of moto (CloudFormation imports nearly all of it) and create many
objects that live as long as the process. CPython runs a full collection each
time the objects that survived earlier collections grow by a quarter, and each
full collection walks every object in the process: on this kit's heap that was
half of a lesson 01 deployment (``benchmarks/bench_lessons.py``,
docs/performance.md §10). :func:`paused_gc` turns automatic collection off for
the duration of such a step and back on afterwards; nothing is collected less,
only later (the next automatic collection after the step).

It nests and is thread-safe: collection comes back on when the outermost pause
ends, and only if it was on when the first pause began (a program that turned
the collector off keeps it off).
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["paused_gc", "with_paused_gc"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def paused_gc() -> Iterator[None]:
    """``with paused_gc():`` runs a block with automatic garbage collection off."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def with_paused_gc(function: F) -> F:
    """Decorator: the function runs inside :func:`paused_gc`."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with paused_gc():
            return function(*args, **kwargs)

    return run  # type: ignore[return-value]  # same signature as function
