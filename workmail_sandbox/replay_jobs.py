"""``workmail-sandbox replay --jobs N``: a corpus routed by N worker processes, its rows in the corpus's order.

The parent lists the corpus's entries (names and paths, or an mbox message's byte
offsets: never the messages) and hands them out in chunks of at most :data:`CHUNK` entries to a
:class:`~concurrent.futures.ProcessPoolExecutor` started with the ``spawn``
method (the sandbox holds process-wide state, so never ``fork``). Each worker
starts a sandbox of its own and sets up the organization with the same
function the one-process replay uses (``setup(*setup_args)``, a module-level
context manager), then reads, parses and routes the entries it is given, as
:func:`workmail_sandbox.replay.iter_replay` does. The parent takes the chunks
back in the order it handed them out (a chunk done early waits in its future),
so ``emit`` sees every entry's rows in the corpus's order, as they come.

A chunk whose worker process dies (the pool breaks: every chunk it held is
lost) is routed again one entry at a time by a worker of its own, so that the
entry that kills it is known: it gets an error row (``error_stage``
``route``), a new worker takes the next entry, and the run goes on. Workers ignore
Ctrl-C: the parent stops handing out work, waits for the chunks in progress and
leaves ``emit``'s rows as they are.

:mod:`workmail_sandbox.replay_dask` reuses the listing (:func:`corpus_entries`), the
worker's set-up (:func:`set_up_once`, for a process that serves many tasks and runs) and
the routing of a chunk (:func:`route_chunk`).
"""

from __future__ import annotations

import atexit
import mailbox
import math
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from multiprocessing import get_context
from multiprocessing.util import Finalize
from os import PathLike
from pathlib import Path
from typing import Any

from .errors import ConfigurationError
from .mail.corpus import PARSE, READ, eml_files, file_item, maildir_entries, parse_item
from .replay import ROUTE, ReplayCounts, checked_direction, checked_jobs, error_row, progress_bar, route_rows

__all__ = [
    "CHUNK", "WORKER_LOCK", "SetupFailed", "corpus_entries", "counting", "progress_bar", "replay_in_processes",
    "route_chunk", "set_up_once",
]

#: At most this many entries per task.
CHUNK = 50
_OPTS: dict[str, Any] = {"headers_only": True, "max_bytes": None}

#: One entry of the corpus: (name, "file" and its path, "mbox-at" and (path, start, stop) byte offsets,
#: or "mbox" and (path, key)).
Entry = tuple[str, str, Any]

# ------------------------------------------------------------------ in a worker process

_worker: dict[str, Any] = {}
#: Held while a task routes in a process that runs tasks in threads (a Dask worker).
WORKER_LOCK = threading.Lock()
_AT_EXIT: list[Any] = []  # set once _stop_worker is registered to run at exit


class SetupFailed(Exception):
    """A worker could not set up its sandbox and organization (raised by its tasks, in the parent)."""


def _start_worker(setup: Callable[..., Any], setup_args: tuple[Any, ...], direction: str) -> None:
    """A worker's initializer: its own sandbox and organization, kept until the process ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    Finalize(None, _stop_worker, exitpriority=10)
    _set_up(setup, setup_args, direction)


def _set_up(setup: Callable[..., Any], setup_args: tuple[Any, ...], direction: str) -> None:
    """This process's sandbox and organization (``setup(*setup_args)`` entered), or why it failed."""
    stack = ExitStack()
    _worker.update(stack=stack, mboxes={})
    try:
        org = stack.enter_context(setup(*setup_args))
    except Exception as exc:  # noqa: BLE001 - every task says so; a failing initializer would break the pool
        problem = str(getattr(exc, "problem", "") or "") or f"{type(exc).__name__}: {exc}"
        _worker["failed"] = problem
        return
    org.settings = org.settings.but(keep_content=False)
    # Nobody can read a worker's organization: no event log (in memory or in CloudWatch Logs), no delivered
    # copies, no function log lines in CloudWatch Logs (each row keeps its invocation's errors), so a worker's
    # memory stays flat however many messages it routes (docs/replay.md).
    org.log.keep = False
    org.log.write_logs = False
    org.keep_mail = False
    org.sandbox.runtime.logs.enabled = False
    _worker.update(org=org, direction=direction)


def _stop_worker() -> None:
    for box in _worker.get("mboxes", {}).values():
        box.close()
    stack = _worker.pop("stack", None)
    _worker.clear()
    if stack is not None:
        stack.close()


def set_up_once(token: str, setup: Callable[..., Any], setup_args: tuple[Any, ...], direction: str) -> None:
    """Make this process ready to route the replay ``token`` (a process that serves many runs: a Dask worker).

    The first call of a run sets up the sandbox and organization as a ``--jobs`` worker does (after
    closing those of an earlier run); later calls with the same ``token`` do nothing. Callers hold
    :data:`WORKER_LOCK`: the sandbox is process-wide, so one task at a time routes in a process.
    """
    if _worker.get("token") == token:
        return
    if not _AT_EXIT:
        _AT_EXIT.append(atexit.register(_stop_worker))
    _stop_worker()
    _set_up(setup, setup_args, direction)
    _worker["token"] = token


def _item_rows(entry: Entry) -> list[tuple[Any, ...]]:
    name, kind, ref = entry
    if kind == "mbox-at":  # the listing's offsets: no table of the whole mbox in every worker
        path, start, stop = ref
        handles = _worker["mboxes"]
        try:
            handle = handles.get(("at", path))
            if handle is None:
                handle = handles[("at", path)] = open(path, "rb")  # noqa: SIM115 - closed by _stop_worker
            handle.seek(start)
            handle.readline()  # the From_ line, as mailbox.mbox.get_bytes skips it
            data = handle.read(stop - handle.tell()).replace(mailbox.linesep, b"\n")  # as get_bytes does
        except Exception as exc:  # noqa: BLE001 - as iter_corpus: the entry's read error row
            return [error_row(name, READ, f"{name}: cannot be read ({type(exc).__name__}: {exc}).")]
        item = parse_item(name, data, _OPTS)
    elif kind == "mbox":
        path, key = ref
        boxes = _worker["mboxes"]
        if path not in boxes:
            boxes[path] = mailbox.mbox(path, create=False)
        try:
            data = boxes[path].get_bytes(key)
        except Exception as exc:  # noqa: BLE001 - as iter_corpus: the entry's read error row
            return [error_row(name, READ, f"{name}: cannot be read ({type(exc).__name__}: {exc}).")]
        item = parse_item(name, data, _OPTS)
    else:
        item = file_item(name, Path(ref), _OPTS)
    if item.message is None:
        return [error_row(item.name, item.stage or PARSE, item.error.problem if item.error else "unknown error")]
    return route_rows(_worker["org"], item.name, item.message, _worker["direction"], "single")


def route_chunk(entries: list[Entry]) -> list[list[tuple[Any, ...]]]:
    """Each entry's rows, in order (a task of a worker, once set up)."""
    if "failed" in _worker:
        raise SetupFailed(_worker["failed"])
    out = []
    for entry in entries:
        try:
            out.append(_item_rows(entry))
        except Exception as exc:  # noqa: BLE001 - one entry must not lose the chunk
            out.append([error_row(entry[0], ROUTE, f"{type(exc).__name__}: {exc}")])
    return out


# ------------------------------------------------------------------ in the parent


def corpus_entries(source: str | PathLike) -> tuple[list[Entry], list[tuple[Any, ...]] | None]:
    """The entries of ``source`` in :func:`~workmail_sandbox.mail.corpus.iter_corpus`' order.

    The second value is set (the one error row) when ``source`` is an mbox that cannot be listed.
    """
    root = Path(source)
    if root.is_dir():
        if (root / "cur").is_dir() and (root / "new").is_dir():
            return [(key, "file", str(path)) for key, path in maildir_entries(root)], None
        return [(name, "file", str(path)) for name, path in eml_files(root)], None
    is_mbox = False
    try:
        if root.is_file():  # never open a FIFO or a device to sniff it
            with open(root, "rb") as fh:
                is_mbox = fh.read(5) == b"From "
    except OSError:
        pass
    if not is_mbox:
        return [(root.name, "file", str(root))], None
    try:
        box = mailbox.mbox(root, create=False)
        try:
            keys = list(box.iterkeys())
            # The offsets mailbox.mbox found while listing (the stdlib's table of contents, stable since
            # Python 2): given to the workers, which then read each message without a table of their own.
            toc = getattr(box, "_toc", None)
        finally:
            box.close()
    except Exception as exc:  # noqa: BLE001 - one error row, as iter_corpus gives
        problem = f"{root}: cannot be read as an mbox ({type(exc).__name__}: {exc})."
        return [], [error_row(root.name, READ, problem)]
    path = str(root)  # one string shared by every entry
    if isinstance(toc, dict) and all(isinstance(toc.get(key), tuple) for key in keys):
        return [(f"{root.name}:{n}", "mbox-at", (path, *toc[key])) for n, key in enumerate(keys, 1)], None
    return [(f"{root.name}:{n}", "mbox", (path, key)) for n, key in enumerate(keys, 1)], None


def counting(emit: Callable[[list[tuple[Any, ...]]], None], counts: ReplayCounts
             ) -> Callable[[list[tuple[Any, ...]]], None]:
    """``emit`` that also counts each entry's rows in ``counts`` (routed, or failed when it has an error)."""

    def done(rows: list[tuple[Any, ...]]) -> None:
        if rows[0][-2] is None:
            counts.routed += 1
        else:
            counts.failed += 1
        counts.rows += len(rows)
        emit(rows)

    return done


def _chunks(entries: list[Entry], size: int) -> Iterator[list[Entry]]:
    for start in range(0, len(entries), size):
        yield entries[start:start + size]


def _result(future: Future[Any], chunk: list[Entry]) -> list[list[tuple[Any, ...]]]:
    """The rows of a task; BrokenProcessPool when its worker died."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise
    except SetupFailed as exc:
        raise ConfigurationError(
            f"a --jobs worker process could not set up the replay: {exc}",
            fix="run with --jobs 1 to see the whole error",
        ) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a result that could not be sent back
        return [[error_row(entry[0], ROUTE, f"{type(exc).__name__}: {exc}")] for entry in chunk]


def replay_in_processes(
    source: str | PathLike,
    jobs: int,
    setup: Callable[..., Any],
    setup_args: tuple[Any, ...],
    *,
    direction: str = "auto",
    progress: bool = True,
    counts: ReplayCounts | None = None,
    emit: Callable[[list[tuple[Any, ...]]], None],
) -> None:
    """Route ``source`` in ``jobs`` worker processes; ``emit(rows)`` once per entry, in the corpus's order.

    ``setup(*setup_args)`` (picklable: a module-level function and plain values) is a context manager
    giving the organization; every worker enters it once. ``counts`` is updated as the rows come.
    """
    checked_jobs(jobs)
    wanted = checked_direction(direction)
    counts = counts if counts is not None else ReplayCounts()
    entries, listing_error = corpus_entries(source)

    done = counting(emit, counts)

    if listing_error is not None:
        done(listing_error)
        return
    if not entries:
        return
    workers = min(jobs, len(entries))
    size = max(1, min(CHUNK, math.ceil(len(entries) / (workers * 4))))
    bar = progress_bar(len(entries), progress, f"replay {Path(source).name}")
    context = get_context("spawn")

    def new_pool(size: int = workers) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(size, mp_context=context, initializer=_start_worker,
                                   initargs=(setup, setup_args, wanted))

    pool = new_pool()
    solo: ProcessPoolExecutor | None = None  # one worker, one entry at a time: for a chunk whose worker died
    todo = _chunks(entries, size)
    # (future, its pool, its entries): in the corpus's order
    pending: deque[tuple[Future[Any], ProcessPoolExecutor, list[Entry]]] = deque()

    def fill() -> None:
        while len(pending) < workers * 2:
            chunk = next(todo, None)
            if chunk is None:
                return
            pending.append((pool.submit(route_chunk, chunk), pool, chunk))

    def alone(entry: Entry) -> list[tuple[Any, ...]]:
        """``entry`` routed by a worker doing nothing else, so that if it dies, this entry killed it."""
        nonlocal solo
        if solo is None:
            solo = new_pool(1)
        try:
            return _result(solo.submit(route_chunk, [entry]), [entry])[0]
        except BrokenProcessPool as exc:
            solo.shutdown(wait=False, cancel_futures=True)
            solo = None
            return [error_row(entry[0], ROUTE, f"the worker process routing it died ({exc})")]

    try:
        fill()
        while pending:
            future, owner, chunk = pending.popleft()
            try:
                results = _result(future, chunk)
            except BrokenProcessPool:
                if owner is pool:  # the first failure seen of this pool: a new one for the rest
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = new_pool()
                results = [alone(entry) for entry in chunk]
            for rows in results:
                done(rows)
                if bar is not None:
                    bar.update(1)
            fill()
    finally:
        for future, _, _ in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        if solo is not None:
            solo.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
