"""``workmail-sandbox replay --dask ADDRESS``: the ``--jobs`` work on a Dask cluster.

The client lists the corpus as ``--jobs`` does (:func:`~workmail_sandbox.replay_jobs.corpus_entries`:
names and absolute paths, or mbox keys; never the messages) and submits it in chunks. Each task
runs on a worker, which reads the messages itself from the path it is given (so the corpus must be
on a file system the workers share, at the same path) and routes them with
:func:`~workmail_sandbox.replay_jobs.route_chunk`, in a sandbox of its own holding the same rules,
organization and function as ``--jobs`` workers (:func:`~workmail_sandbox.replay_jobs.set_up_once`:
set up by the first task of a run in that worker process, kept for the next ones). The sandbox is
process-wide, so a worker process routes one task at a time (:data:`~workmail_sandbox.replay_jobs.WORKER_LOCK`);
start workers with one thread each (``dask worker --nthreads 1``, ``LocalCluster(threads_per_worker=1)``)
and as many processes as cores.

Two ways to get the rows:

* :func:`replay_on_dask` (what ``replay_folder(..., client=...)`` and the CLI use): at most two
  tasks per worker thread in flight, taken back in the corpus's order, ``emit(rows)`` once per
  entry, as ``--jobs`` does; the client holds only the chunks in flight, so the CSV, the streamed
  Parquet file and the summary need no more memory at a million messages than at a thousand.
* :func:`dask_frame`: a lazy Dask DataFrame, one partition per chunk, for the Dask API
  (``.to_parquet(folder)``, ``.groupby(...)``); :func:`summarize` reduces it to a
  :class:`~workmail_sandbox.replay_summary.ReplaySummary` on the cluster, one summary per
  partition, merged.

A chunk whose worker dies (Dask gives up on it with ``KilledWorker``) is routed again one entry
per task, so that the entry that kills its worker gets its error row (``route``) and the rest are
routed. Dask is optional: ``pip install 'workmail-sandbox[scale]'``.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import uuid
from collections import deque
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import Any

from .errors import ConfigurationError
from .replay import REPLAY_COLUMNS, ROUTE, ReplayCounts, checked_direction, error_row, escape_surrogates
from .replay_jobs import (
    CHUNK,
    WORKER_LOCK,
    Entry,
    SetupFailed,
    corpus_entries,
    counting,
    progress_bar,
    route_chunk,
    set_up_once,
)
from .replay_summary import ReplaySummary

__all__ = ["INSTALL", "connect", "dask_frame", "replay_on_dask", "require_dask", "summarize"]

#: What to install for ``--dask``.
INSTALL = "pip install 'workmail-sandbox[scale]'"


def require_dask(option: str = "--dask") -> None:
    """Raise a one-line :class:`ConfigurationError` naming the extra when dask.distributed is missing."""
    if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
        raise ConfigurationError(f"{option} needs Dask (dask.distributed), which is not installed.", fix=INSTALL)


def connect(address: str, timeout: float = 10.0) -> Any:
    """A ``distributed.Client`` for the scheduler at ``address`` (e.g. ``tcp://127.0.0.1:8786``)."""
    require_dask()
    distributed = importlib.import_module("distributed")  # optional: the [scale] extra
    try:
        return distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigurationError(
            f"--dask {address}: no Dask scheduler answered ({type(exc).__name__}: {exc}).",
            fix="start one (dask scheduler; dask worker ADDRESS --nthreads 1) and pass its address, "
            "e.g. tcp://127.0.0.1:8786",
        ) from None


# ------------------------------------------------------------------ on a worker


def _route_task(token: str, setup: Callable[..., Any], setup_args: tuple[Any, ...], direction: str,
                entries: list[Entry]) -> list[list[tuple[Any, ...]]]:
    """A task: the entries' rows, routed in this worker process's sandbox."""
    with WORKER_LOCK:
        set_up_once(token, setup, setup_args, direction)
        return route_chunk(entries)


def _partition(entries: list[Entry], run: str, setup: Callable[..., Any], setup_args: tuple[Any, ...],
               direction: str) -> Any:
    """A partition of :func:`dask_frame`: the entries' rows as a pandas DataFrame."""
    import pandas as pd

    rows = [row for message in _route_task(run, setup, setup_args, direction, entries) for row in message]
    return _frame(rows, pd)


def _partition_summary(frame: Any) -> ReplaySummary:
    return ReplaySummary.from_frame(frame, exact=False)


def _merge(parts: list[ReplaySummary]) -> ReplaySummary:
    total = ReplaySummary()
    for part in parts:
        total = total.merge(part)
    return total


def _frame(rows: list[tuple[Any, ...]], pd: Any) -> Any:
    """A partition: strings escaped (:func:`escape_surrogates`), as Dask stores them in Arrow, like the Parquet file."""
    frame = pd.DataFrame.from_records(
        [tuple(escape_surrogates(v) for v in row) for row in rows], columns=list(REPLAY_COLUMNS)
    )
    frame["attempts"] = frame["attempts"].astype("int64")
    frame["time_ms"] = frame["time_ms"].astype("float64")
    frame["waited_s"] = frame["waited_s"].astype("float64")
    return frame


# ------------------------------------------------------------------ on the client


def _entries(source: str | PathLike, direction: str) -> tuple[list[Entry], list[tuple[Any, ...]] | None, str]:
    wanted = checked_direction(direction)
    entries, listing_error = corpus_entries(source)
    # the workers open the files themselves: absolute paths, whatever their working folder
    shared = [(name, kind, os.path.abspath(ref) if kind == "file" else (os.path.abspath(ref[0]), ref[1]))
              for name, kind, ref in entries]
    return shared, listing_error, wanted


def _threads(client: Any) -> int:
    return max(1, sum(client.nthreads().values()))


def dask_frame(source: str | PathLike, setup: Callable[..., Any], setup_args: tuple[Any, ...], *,
               direction: str = "auto", partition_size: int = 1000) -> Any:
    """The replay of ``source`` as a lazy Dask DataFrame (``REPLAY_COLUMNS``, one partition per chunk).

    ``setup(*setup_args)`` as for :func:`replay_on_dask`. Nothing runs until it is computed, by
    Dask's default scheduler: a ``distributed.Client``'s cluster when one was made (the intended
    use); without one, Dask's local threads, which then take turns in this process and its sandbox.
    The partitions keep the corpus's order.
    """
    require_dask("a Dask DataFrame")
    import pandas as pd

    dd = importlib.import_module("dask.dataframe")

    if isinstance(partition_size, bool) or not isinstance(partition_size, int) or partition_size < 1:
        raise ConfigurationError(f"partition_size must be a whole number of 1 or more, got {partition_size!r}.",
                                 fix="use e.g. partition_size=1000 (entries per partition)")
    entries, listing_error, wanted = _entries(source, direction)
    meta = _frame([], pd)
    if listing_error is not None or not entries:
        return dd.from_pandas(_frame(listing_error or [], pd), npartitions=1)
    parts = [entries[i:i + partition_size] for i in range(0, len(entries), partition_size)]
    task = functools.partial(_partition, run=uuid.uuid4().hex, setup=setup, setup_args=setup_args, direction=wanted)
    return dd.from_map(task, parts, meta=meta, enforce_metadata=False)


def summarize(frame: Any) -> ReplaySummary:
    """The :class:`ReplaySummary` of a replay Dask DataFrame: one per partition on the workers, merged."""
    dask = importlib.import_module("dask")
    parts = [dask.delayed(_partition_summary)(part) for part in frame.to_delayed()]
    return dask.delayed(_merge)(parts).compute()


def replay_on_dask(
    source: str | PathLike,
    client: Any,
    setup: Callable[..., Any],
    setup_args: tuple[Any, ...],
    *,
    direction: str = "auto",
    progress: bool = True,
    counts: ReplayCounts | None = None,
    emit: Callable[[list[tuple[Any, ...]]], None],
) -> None:
    """Route ``source`` on the cluster of ``client``; ``emit(rows)`` once per entry, in the corpus's order.

    ``setup(*setup_args)`` (picklable: a module-level function and plain values, paths absolute)
    is the context manager giving the organization, entered once per worker process and run.
    """
    killed_worker = importlib.import_module("distributed").KilledWorker
    counts = counts if counts is not None else ReplayCounts()
    entries, listing_error, wanted = _entries(source, direction)

    done = counting(emit, counts)

    if listing_error is not None:
        done(listing_error)
        return
    if not entries:
        return
    threads = _threads(client)
    size = max(1, min(CHUNK, math.ceil(len(entries) / (threads * 4))))
    token = uuid.uuid4().hex
    bar = progress_bar(len(entries), progress, f"replay {Path(source).name} on dask")

    def submit(chunk: list[Entry]) -> Any:
        return client.submit(_route_task, token, setup, setup_args, wanted, chunk, pure=False)

    def result(future: Any, chunk: list[Entry]) -> list[list[tuple[Any, ...]]]:
        try:
            return future.result()
        except SetupFailed as exc:
            raise ConfigurationError(
                f"a Dask worker could not set up the replay: {exc}", fix="run with --jobs 1 to see the whole error"
            ) from None
        except killed_worker:
            if len(chunk) == 1:
                return [[error_row(chunk[0][0], ROUTE, "the worker process routing it died (Dask: KilledWorker)")]]
            return [result(submit([entry]), [entry])[0] for entry in chunk]
        except Exception as exc:  # noqa: BLE001 - e.g. a result that could not be sent back
            return [[error_row(entry[0], ROUTE, f"{type(exc).__name__}: {exc}")] for entry in chunk]

    todo = (entries[i:i + size] for i in range(0, len(entries), size))
    pending: deque[tuple[Any, list[Entry]]] = deque()

    def fill() -> None:
        while len(pending) < threads * 2:
            chunk = next(todo, None)
            if chunk is None:
                return
            pending.append((submit(chunk), chunk))

    try:
        fill()
        while pending:
            future, chunk = pending.popleft()
            for rows in result(future, chunk):
                done(rows)
                if bar is not None:
                    bar.update(1)
            fill()
    finally:
        for future, _ in pending:
            future.cancel()
        if bar is not None:
            bar.close()
