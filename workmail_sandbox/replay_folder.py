"""Replay a corpus against a rule file in a fresh sandbox: what ``workmail-sandbox replay`` runs.

:func:`replay_folder` checks where its output goes (before anything runs),
starts a sandbox (or uses the running one), creates an organization, deploys
``--function`` (or the SAM project of ``--project``) when given, and routes the corpus with
:func:`workmail_sandbox.replay.iter_replay`, writing the CSV rows as it goes.
With ``jobs`` the corpus is routed by worker processes (:mod:`workmail_sandbox.replay_jobs`),
with ``client`` by a Dask cluster (:mod:`workmail_sandbox.replay_dask`); either way every
message's rows come back here in the corpus's order and go to the CSV, the streamed Parquet file
(:class:`_ParquetRows`), a :class:`~workmail_sandbox.replay_summary.ReplaySummary` and, unless
``keep_rows=False``, the DataFrame returned. :func:`replay_frame_on_dask` gives the rows as a
lazy Dask DataFrame instead. See docs/replay.md.
"""

from __future__ import annotations

import csv as csv_module
import importlib.util
import io
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import IO, Any

from . import sandbox as sandbox_module
from .deploy.handler import deploy_handler
from .errors import ConfigurationError
from .flow import FlowSettings
from .organization import Organization
from .replay import (
    REPLAY_COLUMNS,
    SAMPLE_DOMAINS,
    WRITE,
    ReplayCounts,
    checked_jobs,
    error_row,
    escape_surrogates,
    iter_replay,
    rows_frame,
)
from .replay_summary import ReplaySummary
from .rules import Rule, RuleSet

__all__ = ["PARQUET_ROW_GROUP", "check_output_path", "replay_folder", "replay_frame_on_dask"]


def _function_spec(spec: str) -> tuple[Path, str]:
    path_text, colon, handler = spec.rpartition(":")
    if not colon or not path_text or not handler:
        raise ConfigurationError(
            f"--function takes PATH:HANDLER (a Python file and the handler's name), got {spec!r}.",
            fix="for example --function my_function.py:lambda_handler",
        )
    path = Path(path_text)
    if not path.is_file():
        raise ConfigurationError(f"{path}: no such Python file.", fix="give the path of the file defining the handler")
    if not handler.isidentifier():
        raise ConfigurationError(
            f"{handler!r} is not a Python function name.", fix="give the handler's name, e.g. lambda_handler"
        )
    return path, handler


def check_output_path(path: str | PathLike, option: str = "--csv") -> Path:
    """``path`` if a file can be written there: its folder exists and is writable, and it is not a folder.

    Raises :class:`ConfigurationError` (one line, with the fix) otherwise; called before a replay starts,
    so a bad path fails in a second, not after the whole run.
    """
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ConfigurationError(
            f"{option} {out}: is a folder, not a file.", fix=f"name a file in it, e.g. {option} {out / 'replay.csv'}"
        )
    if not parent.exists():
        raise ConfigurationError(
            f"{option} {out}: the folder {parent} does not exist.",
            fix=f"create it first (mkdir -p {parent}) or write somewhere else",
        )
    if not parent.is_dir():
        raise ConfigurationError(f"{option} {out}: {parent} is not a folder.", fix="write the file in a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ConfigurationError(
            f"{option} {out}: not writable (permission denied).", fix="write somewhere you may write, or fix its mode"
        )
    return out


def _require_pyarrow() -> None:
    if importlib.util.find_spec("pyarrow") is None:
        raise ConfigurationError(
            "--parquet needs pyarrow, which is not installed.", fix="pip install pyarrow, or write --csv instead"
        )


class _CsvRows:
    """The CSV file, written one message at a time and flushed, so an interrupted run keeps what was done.

    UTF-8 with ``errors="backslashreplace"``: what cannot be encoded (raw 8-bit bytes held as surrogate
    escapes) is written ``\\udce9``, never an error.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # open for the whole run, closed by replay_folder's finally
            self.file: IO[str] = open(path, "w", encoding="utf-8", errors="backslashreplace", newline="")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise ConfigurationError(
                f"--csv {path}: cannot be written ({exc.strerror or exc}).", fix="write somewhere else"
            ) from None
        self._write(self._format([REPLAY_COLUMNS]))

    @staticmethod
    def _format(rows: Any) -> str:
        buffer = io.StringIO()
        writer = csv_module.writer(buffer)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        return buffer.getvalue()

    def _write(self, text: str) -> None:
        try:
            self.file.write(text)
            self.file.flush()
        except OSError as exc:
            raise ConfigurationError(
                f"--csv {self.path}: writing failed ({exc.strerror or exc}); the rows before it are in the file.",
                fix="free some space or write somewhere else, then run again",
            ) from None

    def write(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Write one message's rows; a row that cannot be formatted becomes the message's ``write`` error row."""
        try:
            text = self._format(rows)
        except Exception as exc:  # noqa: BLE001 - one bad value must not stop the run
            rows = [error_row(str(rows[0][0]), WRITE, f"{type(exc).__name__}: {exc}")]
            text = self._format(rows)
        self._write(text)
        return rows

    def close(self) -> None:
        self.file.close()


#: Rows per row group of the streamed Parquet file (the writer holds at most this many rows).
PARQUET_ROW_GROUP = 10_000
_INTEGER_COLUMNS = ("attempts",)
_FLOAT_COLUMNS = ("time_ms", "waited_s")


class _ParquetRows:
    """The Parquet file, streamed: a pyarrow ``ParquetWriter`` taking a row group every ``row_group`` rows.

    Memory stays flat (at most one row group waits); closing writes the last group and the footer,
    so an interrupted run leaves a readable file with the rows done. Strings are written with
    :func:`escape_surrogates`; ``attempts`` is int64, ``time_ms`` and ``waited_s`` float64.
    """

    def __init__(self, path: Path, row_group: int | None = None) -> None:
        pa = importlib.import_module("pyarrow")  # optional: checked by _require_pyarrow before the run
        pq = importlib.import_module("pyarrow.parquet")

        self.path, self.row_group, self._pa = path, row_group or PARQUET_ROW_GROUP, pa
        self.schema = pa.schema([
            (c, pa.int64() if c in _INTEGER_COLUMNS else pa.float64() if c in _FLOAT_COLUMNS else pa.string())
            for c in REPLAY_COLUMNS
        ])
        self.buffer: list[tuple[Any, ...]] = []
        try:
            self.writer = pq.ParquetWriter(str(path), self.schema)
        except OSError as exc:
            raise ConfigurationError(
                f"--parquet {path}: cannot be written ({exc.strerror or exc}).", fix="write somewhere else"
            ) from None

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        self.buffer.extend(rows)
        while len(self.buffer) >= self.row_group:
            group, self.buffer = self.buffer[:self.row_group], self.buffer[self.row_group:]
            self._write_group(group)

    def flush(self) -> None:
        group, self.buffer = self.buffer, []
        if group:
            self._write_group(group)

    def _write_group(self, group: list[tuple[Any, ...]]) -> None:
        pa = self._pa
        columns = list(zip(*group, strict=True))
        arrays = []
        for name, values in zip(REPLAY_COLUMNS, columns, strict=True):
            kind = self.schema.field(name).type
            if kind == pa.string():
                values = tuple(None if v is None else str(escape_surrogates(v)) for v in values)
            arrays.append(pa.array(values, type=kind))
        try:
            self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        except OSError as exc:
            raise ConfigurationError(
                f"--parquet {self.path}: writing failed ({exc.strerror or exc}); the row groups before it are "
                "in the file.", fix="free some space or write somewhere else, then run again"
            ) from None

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.writer.close()


def replay_folder(
    source: str | PathLike,
    rules_path: str | PathLike,
    function: str | None = None,
    csv: str | PathLike | None = None,
    *,
    domains: tuple[str, ...] | list[str] = SAMPLE_DOMAINS,
    users: tuple[str, ...] | list[str] = (),
    direction: str = "auto",
    progress: bool = True,
    parquet: str | PathLike | None = None,
    counts: ReplayCounts | None = None,
    project: str | PathLike | None = None,
    parameters: Mapping[str, Any] | None = None,
    skip: Sequence[str] = (),
    stand_ins: str | PathLike | None = None,
    jobs: int = 1,
    client: Any = None,
    summary: ReplaySummary | None = None,
    keep_rows: bool = True,
):
    """Replay a corpus against a rule file in a fresh sandbox; returns the DataFrame (and writes ``csv``).

    ``csv`` is written as the run goes (one message's rows at a time, flushed:
    an interrupted run keeps the rows done); ``parquet`` (needs pyarrow) is
    streamed too, a row group every :data:`PARQUET_ROW_GROUP` rows, and closed
    (readable) when the run ends or is interrupted. Both paths are checked
    before the sandbox starts. ``counts`` (a :class:`ReplayCounts`) is updated
    as the run goes, so a caller still knows how far it got after Ctrl-C;
    ``summary`` (a :class:`~workmail_sandbox.replay_summary.ReplaySummary`) is
    filled the same way, message by message (exact percentiles when the rows
    are kept, else from its fixed-size histogram). ``keep_rows=False``: the
    rows go only to ``csv``, ``parquet`` and ``summary`` and the DataFrame
    returned is empty, so the rows do not pile up in memory (what the
    organization itself keeps per message still does: docs/replay.md §2).

    The organization (alias ``replay``) has ``domains`` (default: the sample
    organization's, example.com and sales.example.com) and ``users``; any
    other address of those domains gets a mailbox on first delivery
    (``unknown_recipients="create-mailbox"``), so your own exported mail
    replays without creating every user first.

    ``function`` (``"PATH:HANDLER"``): the Python file is deployed as a Lambda
    function (``app.py``, with AmazonWorkMailMessageFlowFullAccess on its
    role), the organization is allowed to invoke it (``lambda add-permission``
    with its ARN), and **every Run Lambda rule of the rule file runs it**
    instead of the function its ``function_arn`` names. Without ``function``,
    Run Lambda rules call the functions they name, which do not exist in a
    fresh sandbox: those invocations fail and the rules' fallbacks apply.

    ``project`` (a SAM project folder): deployed with
    :func:`~workmail_sandbox.deploy.project.deploy_project` (``parameters``, ``skip``;
    a parameter taking an organization id gets the organization's), WorkMail is allowed
    to invoke its function when the stack does not already allow it, and every Run
    Lambda rule runs that function; ``function`` then names it by its logical id
    (needed when the project has several). ``stand_ins``: a stand-in file (YAML or
    Python) loaded for the run.

    If a sandbox is already running in this process (a notebook), it is used
    and left running; otherwise one is started and stopped afterwards.

    ``jobs`` (default 1): route the corpus in that many worker processes
    (:mod:`workmail_sandbox.replay_jobs`), each with a sandbox of its own set up
    the same way; the rows come back in the corpus's order, as with one. The
    workers are spawned, so a script passing ``jobs`` calls it under
    ``if __name__ == "__main__":``.

    ``client`` (a ``dask.distributed.Client``, or a scheduler's address, which
    this call connects to and disconnects from): route the corpus on that Dask
    cluster instead (:mod:`workmail_sandbox.replay_dask`; each worker process
    a sandbox of its own set up the same way, reading the messages from the
    same path), the rows again in the corpus's order. Not with ``jobs``.
    Needs ``pip install 'workmail-sandbox[scale]'``.
    """
    checked_jobs(jobs)
    if client is not None and jobs != 1:
        raise ConfigurationError(f"jobs={jobs} and a Dask client are mutually exclusive.",
                                 fix="the cluster's workers do the work: leave jobs out (or start more workers)")
    rules, target = _prepare(rules_path, function, project, parameters, skip, stand_ins)
    csv_path = check_output_path(csv, "--csv") if csv is not None else None
    parquet_path = check_output_path(parquet, "--parquet") if parquet is not None else None
    if parquet_path is not None:
        _require_pyarrow()
    if not Path(source).exists():
        raise ConfigurationError(
            f"{source}: no such file or folder.", fix="pass a folder of .eml files, an mbox file or a Maildir folder"
        )
    if summary is not None and keep_rows:
        summary.keep_exact_times()  # the rows are in memory anyway: exact percentiles
    own_client = isinstance(client, str)
    if own_client:
        from .replay_dask import connect

        client = connect(client)
    sink: _CsvRows | None = None
    rows: list[tuple[Any, ...]] = []
    parquet_sink: _ParquetRows | None = None
    try:
        sink = _CsvRows(csv_path) if csv_path is not None else None
        parquet_sink = _ParquetRows(parquet_path) if parquet_path is not None else None

        def emit(chunk: list[tuple[Any, ...]]) -> None:
            written = sink.write(chunk) if sink is not None else chunk
            if parquet_sink is not None:
                parquet_sink.write(written)
            if summary is not None:
                summary.add(written)
            if keep_rows:
                rows.extend(written)

        _run(source, rules, target, domains, users, direction, progress, counts, emit, jobs, client)
    finally:
        try:
            if parquet_sink is not None:
                parquet_sink.close()
        finally:
            if sink is not None:
                sink.close()
            if own_client:
                client.close()
    return rows_frame(rows)


def replay_frame_on_dask(
    source: str | PathLike,
    rules_path: str | PathLike,
    function: str | None = None,
    *,
    domains: tuple[str, ...] | list[str] = SAMPLE_DOMAINS,
    users: tuple[str, ...] | list[str] = (),
    direction: str = "auto",
    project: str | PathLike | None = None,
    parameters: Mapping[str, Any] | None = None,
    skip: Sequence[str] = (),
    stand_ins: str | PathLike | None = None,
    partition_size: int = 1000,
) -> Any:
    """The replay of :func:`replay_folder` as a lazy Dask DataFrame (one partition per ``partition_size`` entries).

    Arguments as for :func:`replay_folder`; computed on the cluster of the current ``dask.distributed``
    client (each worker process a sandbox of its own). Write it with ``.to_parquet(folder)``, or reduce it
    with :func:`workmail_sandbox.replay_dask.summarize`. Needs ``pip install 'workmail-sandbox[scale]'``.
    """
    from .replay_dask import dask_frame, require_dask

    require_dask("replay_frame_on_dask")
    rules, target = _prepare(rules_path, function, project, parameters, skip, stand_ins)
    if not Path(source).exists():
        raise ConfigurationError(
            f"{source}: no such file or folder.", fix="pass a folder of .eml files, an mbox file or a Maildir folder"
        )
    return dask_frame(source, _organization, (rules, _absolute(target), tuple(domains), tuple(users)),
                      direction=direction, partition_size=partition_size)


def _prepare(rules_path: str | PathLike, function: str | None, project: str | PathLike | None,
             parameters: Mapping[str, Any] | None, skip: Sequence[str],
             stand_ins: str | PathLike | None) -> tuple[RuleSet, _Target]:
    """The rule set and what its Run Lambda rules run, checked before anything starts."""
    rules = RuleSet.from_file(rules_path)
    if project is not None and function is not None and (":" in function or function.endswith(".py")):
        raise ConfigurationError(
            f"function={function!r} (PATH:HANDLER) and project= are mutually exclusive.",
            fix="with a project, name its function by its logical id (e.g. function='TagExternalFunction')",
        )
    spec = _function_spec(function) if function and project is None else None
    if (spec is not None or project is not None) and not any(r.is_run_lambda for r in rules):
        option = "--project" if project is not None else "--function"
        raise ConfigurationError(
            f"{rules_path}: the rule set has no Run Lambda rule, so {option} would never run.",
            fix=f"add a rule with action RUN_LAMBDA (see data/rules/run-lambda-sync.json), or leave {option} out",
        )
    if project is not None and not Path(project).exists():
        raise ConfigurationError(
            f"--project {project}: no such project folder or template.",
            fix="give the folder that holds template.yaml (the one you run sam build in)",
        )
    if stand_ins is not None and not Path(stand_ins).is_file():
        raise ConfigurationError(f"--stand-ins {stand_ins}: no such file.", fix="give a .yaml or .py stand-in file")
    target = _Target(spec, project, function if project is not None else None, dict(parameters or {}), tuple(skip),
                     stand_ins)
    return rules, target


@dataclass(frozen=True)
class _Target:
    """What the Run Lambda rules run: a handler file (``spec``), a SAM project, or what they name."""

    spec: tuple[Path, str] | None
    project: str | PathLike | None
    logical_id: str | None
    parameters: dict[str, Any]
    skip: tuple[str, ...]
    stand_ins: str | PathLike | None


def _absolute(target: _Target) -> _Target:
    """``target`` with absolute paths, for workers that may run in another folder (a Dask cluster)."""
    spec = (target.spec[0].resolve(), target.spec[1]) if target.spec is not None else None
    project = os.path.abspath(target.project) if target.project is not None else None
    stand_ins = os.path.abspath(target.stand_ins) if target.stand_ins is not None else None
    return replace(target, spec=spec, project=project, stand_ins=stand_ins)


def _run(source: str | PathLike, rules: RuleSet, target: _Target, domains: Any, users: Any,
         direction: str, progress: bool, counts: ReplayCounts | None,
         emit: Callable[[list[tuple[Any, ...]]], None], jobs: int = 1, client: Any = None) -> None:
    if client is not None:
        from .replay_dask import replay_on_dask

        replay_on_dask(source, client, _organization, (rules, _absolute(target), tuple(domains), tuple(users)),
                       direction=direction, progress=progress, counts=counts, emit=emit)
        return
    if jobs != 1:
        from .replay_jobs import replay_in_processes

        replay_in_processes(source, jobs, _organization, (rules, target, domains, users), direction=direction,
                            progress=progress, counts=counts, emit=emit)
        return
    with _organization(rules, target, domains, users) as org:
        # Nobody reads this organization afterwards: it keeps nothing per message (flat memory, docs/replay.md).
        chunks = iter_replay(org, source, progress=progress, direction=direction, counts=counts, keep_log=False,
                             keep_mail=False, write_logs=False)
        try:
            for chunk in chunks:
                emit(chunk)
        finally:
            chunks.close()


@contextmanager
def _organization(rules: RuleSet, target: _Target, domains: Any, users: Any) -> Iterator[Organization]:
    """The replay's organization in a sandbox (started, or the running one), its function deployed.

    A module-level function, so that ``--jobs`` worker processes set up the same organization.
    """
    from .project_invoke import deploy_for_organization, using_stand_ins

    running = sandbox_module.current() is not None
    with sandbox_module.sandbox() as sb:
        alias = "replay"
        taken = {o["Alias"] for o in sb.client("workmail").list_organizations()["OrganizationSummaries"]}
        n = 1
        while alias in taken:
            n += 1
            alias = f"replay-{n}"
        settings = FlowSettings(unknown_recipients="create-mailbox")
        org = Organization.create(sb, alias, domains=list(domains), users=list(users), rules=rules, settings=settings)
        if target.spec is not None:
            path, handler = target.spec
            name = re.sub(r"[^A-Za-z0-9_-]", "-", f"replay-{path.stem}")[:64]
            deployed = deploy_handler(
                path.read_text(encoding="utf-8"),
                name=name,
                handler_name=handler,
                managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"],
                description=f"{path.name}:{handler}, deployed by workmail-sandbox replay",
            )
            org.rules = rules_running(rules, deployed["FunctionArn"])
            org.grant_invoke(name)
        elif target.project is not None:
            deployment = deploy_for_organization(
                target.project, org, function=target.logical_id, parameters=target.parameters, skip=target.skip
            )
            org.rules = rules_running(rules, deployment.function.arn)
        with using_stand_ins(target.stand_ins, sb, keep=not running):
            yield org


def rules_running(rules: RuleSet, arn: str) -> RuleSet:
    """``rules`` with every Run Lambda rule running the function ``arn``."""
    return RuleSet([_with_function(r, arn) for r in rules], settings=rules.settings, description=rules.description)


def _with_function(rule: Rule, arn: str) -> Rule:
    if not rule.is_run_lambda:
        return rule
    return Rule(
        rule.name, rule.direction, rule.sender_patterns, rule.recipient_patterns, rule.action,
        function_arn=arn, synchronous=rule.synchronous, fallback_action=rule.fallback_action,
        rule_timeout_minutes=rule.rule_timeout_minutes, description=rule.description,
    )

