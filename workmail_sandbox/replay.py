"""Replay a whole mail corpus through an emulated organization, and the functions behind two CLI commands.

* :func:`replay` (also ``Organization.replay``): route every message of a
  folder of ``.eml`` files, an mbox file or a Maildir (read one at a time with
  :func:`workmail_sandbox.mail.corpus.iter_corpus`, so a large corpus never sits in
  memory) and return a DataFrame with one row per recipient.
* :func:`iter_replay`: the same, one entry's rows at a time (what the CLI
  streams to its CSV file).
* :func:`test_rule`: ``workmail-sandbox test-rule --rules FILE --sender A
  --recipient B [--direction ...]``, the console's Test configuration box.

Both work without a notebook. ``workmail-sandbox replay DIR --rules FILE
[--function PATH:HANDLER] [--csv OUT] [--parquet OUT]`` (a fresh sandbox, an
organization, optionally your function, the corpus replayed, a CSV written
row by row as the run goes) is :func:`workmail_sandbox.replay_folder.replay_folder`.

The replay DataFrame
--------------------

One row per recipient of every message (a message WorkMail would never
receive, such as inbound mail with no recipient in the organization's
domains, gets one row with ``outcome`` ``failed`` and the reason). Every entry
of the corpus gets at least one row: one that cannot be read (a FIFO, a device,
a folder named ``x.eml``, a broken or looping symbolic link: never opened),
parsed or routed gets one error row (``outcome`` ``failed``, ``error_stage``
and ``error`` set), and the run goes on:

=================  ================================================================
``message``        the message's name: its path in the folder, ``file.mbox:N`` or the Maildir key
``direction``      ``INBOUND`` or ``OUTBOUND``
``subject``        the subject
``recipient``      the recipient (lower case)
``rule``           the rule that decided (None: no rule matched)
``action``         the action applied (DEFAULT, DROP, BOUNCE, MOVE_TO_JUNK, ...)
``source``         where the action came from: rule, no rule, lambda, fallback, ses, delivery
``invocation``     the invocationId of the synchronous invocation that decided, if any
``attempts``       attempts of that invocation (retries + 1)
``outcome``        inbox, junk, dropped, bounced, sent or failed
``reason``         why, in words
``time_ms``        wall-clock milliseconds to route the whole message
``waited_s``       simulated seconds from receipt to delivery (retries move the clock)
``error_stage``    None for a routed message; else where it failed: ``read``, ``parse``, ``route``
                   or ``write`` (the CLI could not write its rows)
``error``          None for a routed message; else the problem, in words
=================  ================================================================

Strings keep the mail parser's surrogate escapes for raw 8-bit bytes (an
address with a raw 0xE9 reads ``al\\udce9x@...``); :func:`escape_surrogates`
writes them ``\\udce9`` for a strict encoder (the CLI's CSV and Parquet do).

Memory stays flat: by default the organization keeps only metadata of the
copies it delivers (``FlowSettings(keep_content=False)`` for the replay), and
each copy put in transit for a function is forgotten once delivered (its
``messageId`` cannot be fetched afterwards). Pass ``keep_content=True`` to keep
everything. The event log is kept (in memory and in CloudWatch Logs); pass
``keep_log=False`` to keep it in CloudWatch Logs only. For a run nobody looks
into afterwards, ``keep_mail=False`` keeps no delivered copy at all
(``Organization.keep_mail``) and ``write_logs=False`` writes nothing to CloudWatch
Logs for the run (moto keeps every line): no event log line and no function log line
(``runtime.logs``; each row still carries its invocation's errors, and the setting is
restored at the end): with ``keep_log=False`` as well, the
organization keeps nothing per message (what ``replay --jobs`` workers and the
CLI's one-process replay do; tests/test_replay_memory.py).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, WorkMailSandboxError
from .mail import ParsedMessage
from .mail.corpus import PARSE, READ, corpus_size, iter_corpus
from .rules import Evaluation, RuleSet

if TYPE_CHECKING:  # pragma: no cover - annotations only (organization imports this module)
    from .organization import Organization

__all__ = [
    "ERROR_STAGES",
    "REPLAY_COLUMNS",
    "SAMPLE_DOMAINS",
    "ReplayCounts",
    "checked_direction",
    "checked_jobs",
    "error_row",
    "escape_surrogates",
    "iter_replay",
    "replay",
    "route_rows",
    "rows_frame",
    "test_rule",
]

REPLAY_COLUMNS = (
    "message", "direction", "subject", "recipient", "rule", "action", "source", "invocation", "attempts",
    "outcome", "reason", "time_ms", "waited_s", "error_stage", "error",
)
#: ``error_stage`` of a row: the entry could not be read, parsed, routed, or its rows written.
ROUTE = "route"
WRITE = "write"
ERROR_STAGES = (READ, PARSE, ROUTE, WRITE)
#: The organization of the kit's sample mail (data/emails, data/generate_corpus.py, data/rules).
SAMPLE_DOMAINS = ("example.com", "sales.example.com")
DIRECTIONS = ("auto", "inbound", "outbound")


def checked_direction(direction: Any) -> str:
    """``direction`` as replay reads it (``auto``, ``inbound`` or ``outbound``), or a ConfigurationError."""
    wanted = str(direction).strip().lower()
    if wanted not in DIRECTIONS:
        raise ConfigurationError(
            f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}.",
            fix="use 'auto' (from the From domain), 'inbound' or 'outbound'",
        )
    return wanted


def checked_jobs(jobs: Any) -> int:
    """``jobs``, a whole number of worker processes from 1, or a ConfigurationError."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigurationError(f"jobs must be a whole number of 1 or more, got {jobs!r}.",
                                 fix="use jobs=1 (one process) or up to os.cpu_count()")
    return jobs


def progress_bar(total: int | None, enabled: bool, desc: str, iterable: Any = None) -> Any:
    """A tqdm bar of ``total`` messages (over ``iterable`` when given), or None (disabled, or no tqdm)."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm comes with the kit's "lab" extra; without it, no bar
        return None
    return tqdm(iterable, total=total, desc=desc, unit="msg")


def with_progress(iterable: Any, total: int | None, enabled: bool, desc: str) -> Any:
    """``iterable`` behind a progress bar, or as it is when there is no bar."""
    bar = progress_bar(total, enabled, desc, iterable)
    return iterable if bar is None else bar


def escape_surrogates(value: Any) -> Any:
    """``value`` with what UTF-8 cannot encode (surrogate escapes of raw 8-bit bytes) written ``\\udcXX``.

    Strings of the replay DataFrame keep the parser's surrogate escapes; use this (as the CLI's CSV, Parquet
    and printed table do) before handing them to something that encodes strictly.
    """
    if not isinstance(value, str):
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class ReplayCounts:
    """How a replay went so far: entries routed and failed, rows made (updated as the run goes)."""

    routed: int = 0
    failed: int = 0
    rows: int = 0

    def line(self) -> str:
        return (
            f"{self.routed + self.failed} messages: {self.routed} routed, {self.failed} failed; "
            f"{self.rows} rows"
        )


def error_row(name: str, stage: str, problem: str, time_ms: float = 0.0) -> tuple[Any, ...]:
    """The row of an entry that could not be read, parsed, routed or written (``stage``)."""
    reason = f"not a readable message: {problem}" if stage in (READ, PARSE) else f"{stage} failed: {problem}"
    return (name, None, "", None, None, None, "delivery", None, 0, "failed", reason, time_ms, 0.0, stage, problem)


def route_rows(org: Organization, name: str, parsed: ParsedMessage, direction: str, conversations: Any):
    started = time.perf_counter()
    try:
        result = org.route(parsed, direction=direction, conversations=conversations)
        d = result.direction
        deciders = {i.invocation_id: len(i.attempts) for i in result.invocations if i.synchronous}
        waited = (result.completed_at - result.received_at).total_seconds() if result.completed_at else 0.0
        total = result.timings.get("total", 0.0)
        if not result.recipients:
            return [(name, d, result.subject, None, None, None, "delivery", None, 0, "failed",
                     result.note, total, waited, None, None)]
        return [
            (name, d, result.subject, o.recipient, o.rule, o.action, o.source, o.invocation_id,
             deciders.get(o.invocation_id, 0) if o.invocation_id else 0, o.outcome, o.reason, total, waited,
             None, None)
            for o in result.recipients.values()
        ]
    except Exception as exc:  # noqa: BLE001 - one message that breaks routing must not stop the corpus
        problem = str(exc.problem) if isinstance(exc, WorkMailSandboxError) else f"{type(exc).__name__}: {exc}"
        return [error_row(name, ROUTE, problem, (time.perf_counter() - started) * 1000)]


def iter_replay(
    org: Organization,
    source: str | PathLike,
    *,
    progress: bool = True,
    direction: str = "auto",
    keep_content: bool = False,
    keep_log: bool = True,
    conversations: Any = "single",
    counts: ReplayCounts | None = None,
    keep_mail: bool = True,
    write_logs: bool = True,
) -> Generator[list[tuple[Any, ...]], None, None]:
    """:func:`replay` one entry at a time: yields each entry's rows (tuples in ``REPLAY_COLUMNS`` order).

    Arguments are checked at once (a :class:`ConfigurationError`); the
    organization's settings are restored when the iterator ends or is
    closed. ``counts`` is updated as the run goes.
    """
    wanted = checked_direction(direction)
    root = Path(source)
    if not root.exists():
        raise ConfigurationError(
            f"{root}: no such file or folder.", fix="pass a folder of .eml files, an mbox file or a Maildir folder"
        )
    return _iter_replay(org, root, progress, wanted, (keep_content, keep_log, keep_mail, write_logs), conversations,
                        counts if counts is not None else ReplayCounts())


def _iter_replay(org: Organization, root: Path, progress: bool, wanted: str, keeps: tuple[bool, bool, bool, bool],
                 conversations: Any, counts: ReplayCounts) -> Generator[list[tuple[Any, ...]], None, None]:
    keep_content, keep_log, keep_mail, write_logs = keeps
    saved_settings, saved_keep = org.settings, org.log.keep
    saved_mail, saved_write = org.keep_mail, org.log.write_logs
    function_logs = org.sandbox.runtime.logs if org.sandbox.runtime is not None else None
    saved_function_logs = function_logs.enabled if function_logs is not None else True
    org.settings = saved_settings.but(keep_content=keep_content)
    org.log.keep = keep_log
    org.keep_mail = keep_mail
    org.log.write_logs = write_logs
    if function_logs is not None and not write_logs:
        function_logs.enabled = False
    stream: Any = None
    try:
        stream = with_progress(
            iter_corpus(root, headers_only=True, max_bytes=None), corpus_size(root), progress, f"replay {root.name}"
        )
        for item in stream:
            if item.message is None:
                error = item.error
                rows = [error_row(item.name, item.stage or PARSE, error.problem if error else "unknown error")]
            else:
                rows = route_rows(org, item.name, item.message, wanted, conversations)
            if rows[0][-2] is None:
                counts.routed += 1
            else:
                counts.failed += 1
            counts.rows += len(rows)
            yield rows
    finally:
        org.settings = saved_settings
        org.log.keep = saved_keep
        org.keep_mail = saved_mail
        org.log.write_logs = saved_write
        if function_logs is not None:
            function_logs.enabled = saved_function_logs
        if hasattr(stream, "close"):
            stream.close()


def rows_frame(rows: list[tuple[Any, ...]]):
    """The replay DataFrame of ``rows`` (tuples in ``REPLAY_COLUMNS`` order).

    String columns are pandas strings kept in Python objects, as pandas makes them without pyarrow:
    with pyarrow installed pandas would store them in Arrow, which cannot hold the parser's surrogate
    escapes (a raw 0xE9 in an address).
    """
    import pandas as pd

    with pd.option_context("mode.string_storage", "python"):
        frame = pd.DataFrame.from_records(rows, columns=list(REPLAY_COLUMNS))
    frame.columns = pd.Index(REPLAY_COLUMNS)  # the labels as any other frame's
    return frame


def replay(
    org: Organization,
    source: str | PathLike,
    *,
    progress: bool = True,
    direction: str = "auto",
    keep_content: bool = False,
    keep_log: bool = True,
    conversations: Any = "single",
    keep_mail: bool = True,
    write_logs: bool = True,
):
    """Route every message of ``source`` through ``org``; one DataFrame row per recipient (see module doc).

    ``direction``: ``"auto"`` (inbound unless the From domain is one of the
    organization's), ``"inbound"`` or ``"outbound"``. ``progress``: a tqdm bar
    (notebook-aware; none when tqdm is not installed). An entry that cannot be
    read, parsed or routed gets one error row (``error_stage``, ``error``); the
    run goes on. ``keep_mail=False``, ``write_logs=False`` (with ``keep_log=False``): the
    organization keeps nothing per message (see module doc).
    """
    rows: list[tuple[Any, ...]] = []
    with closing(iter_replay(org, source, progress=progress, direction=direction, keep_content=keep_content,
                             keep_log=keep_log, conversations=conversations, keep_mail=keep_mail,
                             write_logs=write_logs)) as chunks:
        for chunk in chunks:
            rows.extend(chunk)
    return rows_frame(rows)


# ------------------------------------------------------------------ CLI functions


def test_rule(rules_path: str | PathLike, sender: str, recipient: str, direction: str = "inbound") -> Evaluation:
    """Which rule applies to mail from ``sender`` to ``recipient``, and why (``print(result.explain())``).

    The WorkMail console's Test configuration box (test-email-flow-rule.md),
    over a rule file (JSON or YAML). Raises :class:`~workmail_sandbox.errors.RuleError`
    for a bad file or address.
    """
    return RuleSet.from_file(rules_path).test_configuration(sender, recipient, direction)
