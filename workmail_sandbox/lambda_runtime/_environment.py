"""Execution environments and the process state an invocation swaps in and out.

An :class:`Environment` is one warm execution environment (a function version's
unpacked and imported code); a :class:`Scope` sets ``os.environ``, ``sys.path``,
the working directory and the root logger's level for an invocation, in the
calling thread, and restores them afterwards.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

__all__ = ["ENVIRON_DATA", "INVOCATION_LOCK", "Environment", "Scope", "environment_signature", "stream_name"]

#: Held by the caller of each in-process invocation (not by nested ones, which run inside their
#: caller's): one invocation at a time has os.environ and the working directory.
INVOCATION_LOCK = threading.Lock()


@dataclass
class Environment:
    """One warm execution environment: a function version's imported code."""

    key: tuple[str, str, str, str]
    signature: tuple[Any, ...]
    fn_ref: Any
    code_dir: str
    top_names: frozenset[str]
    handler_spec: str
    env_vars: dict[str, str]
    log_group: str
    log_stream: str
    version: str
    run_time: str
    env_bytes: tuple[tuple[bytes, bytes], ...] = ()
    #: Where the function's imports look first: its code, then its layers' ``python`` folders.
    search_path: tuple[str, ...] = ()
    modules: dict[str, ModuleType] = field(default_factory=dict)
    handler: Callable[..., Any] | None = None
    root_level: int = logging.WARNING
    loaded: bool = False
    lock: Any = field(default_factory=threading.Lock)


def environment_signature(fn: Any) -> tuple[Any, ...]:
    """What makes Lambda start new environments when it changes: code and configuration."""
    env = fn.environment_vars or {}
    return (
        fn.code_sha_256,
        fn.handler,
        fn.run_time,
        fn.memory_size,
        fn.timeout,
        fn.role,
        tuple(sorted(env.items())) if env else (),
        tuple(str(layer.get("Arn")) for layer in fn.layers or ()),
    )


def stream_name(version: str) -> str:
    today = _dt.datetime.now(_dt.UTC)
    return f"{today:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


#: ``os.environ``'s underlying bytes mapping on POSIX (None elsewhere: use the public API).
ENVIRON_DATA: dict[bytes, bytes] | None = getattr(os.environ, "_data", None) if os.name == "posix" else None
if not isinstance(ENVIRON_DATA, dict):  # pragma: no cover - another Python implementation
    ENVIRON_DATA = None


def _host_is_utc() -> bool:
    return time.timezone == 0 and time.altzone == 0 and not time.daylight


class _Host:
    """The host's own state, recorded when the first invocation starts and put back
    when the last one ends (invocations may nest, or overlap in several threads)."""

    lock = threading.Lock()
    depth = 0
    environ: Any = None
    cwd: str | None = None
    root_level = logging.NOTSET
    tz_changed = False


class Scope:
    """The process state an invocation sets and restores, in the calling thread:
    ``os.environ``, ``sys.path``, the working directory and the root logger's level.

    Each scope restores what it found (so a nested invocation gives its caller's
    state back); the last one to end restores the host's state exactly.
    """

    __slots__ = ("env", "before", "expected", "root_level", "cwd")

    before: Any
    expected: Any

    def __init__(self, env: Environment) -> None:
        self.env = env

    def enter(self) -> None:
        env = self.env
        data = ENVIRON_DATA
        root = logging.getLogger()
        try:
            cwd: str | None = os.getcwd()
        except OSError:  # pragma: no cover - the current folder was deleted
            cwd = None
        with _Host.lock:
            if _Host.depth == 0:
                _Host.environ = data.copy() if data is not None else dict(os.environ)
                _Host.cwd = cwd
                _Host.root_level = root.level
                _Host.tz_changed = False
            _Host.depth += 1
            if data is not None:
                # Fast path (POSIX): os.environ's own bytes mapping plus putenv, no re-encoding.
                self.before = data.copy()
                for key, value in env.env_bytes:
                    data[key] = value
                    os.putenv(key, value)
                self.expected = data.copy()
            else:  # pragma: no cover - Windows
                self.before = dict(os.environ)
                os.environ.update(env.env_vars)
                self.expected = dict(os.environ)
            if not _Host.tz_changed and not _host_is_utc():
                _Host.tz_changed = True
                time.tzset()
            sys.path[0:0] = env.search_path
            self.root_level = root.level
            if root.level != env.root_level:
                root.setLevel(env.root_level)
            self.cwd = cwd
            os.chdir(env.code_dir)

    def exit(self) -> None:
        env = self.env
        root = logging.getLogger()
        with _Host.lock:
            _Host.depth -= 1
            last = _Host.depth == 0
            for folder in env.search_path:
                try:
                    sys.path.remove(folder)
                except ValueError:  # pragma: no cover - the handler removed it itself
                    pass
            env.root_level = root.level
            level = _Host.root_level if last else self.root_level
            if root.level != level:
                root.setLevel(level)
            cwd = _Host.cwd if last else self.cwd
            if cwd is not None:
                try:
                    os.chdir(cwd)
                except OSError:  # pragma: no cover
                    pass
            self._restore_environ()
            if last:
                if ENVIRON_DATA is not None and _Host.environ != ENVIRON_DATA:
                    _set_environ(_Host.environ)  # overlapping invocations: back to the host's exactly
                if _Host.tz_changed:
                    _Host.tz_changed = False
                    time.tzset()
                _Host.environ = None

    def _restore_environ(self) -> None:
        before = self.before
        data = ENVIRON_DATA
        if data is not None and data == self.expected:
            # The handler left os.environ alone: put back only what we set.
            for key, _ in self.env.env_bytes:
                previous = before.get(key)
                if previous is None:
                    data.pop(key, None)
                    os.unsetenv(key)
                else:
                    data[key] = previous
                    os.putenv(key, previous)
            return
        _set_environ(before)  # the handler changed os.environ itself: undo every difference


def _set_environ(wanted_raw: Any) -> None:
    """Make ``os.environ`` equal to a snapshot (bytes mapping on POSIX, else str)."""
    data = ENVIRON_DATA
    if data is not None:
        decode = os.fsdecode
        current = {decode(k): decode(v) for k, v in data.items()}
        wanted = {decode(k): decode(v) for k, v in wanted_raw.items()}
    else:  # pragma: no cover - Windows
        current, wanted = dict(os.environ), wanted_raw
    for key in current.keys() - wanted.keys():
        del os.environ[key]
    for key, value in wanted.items():
        if current.get(key) != value:
            os.environ[key] = value
