"""Reading many messages: a folder of .eml files, an mbox file or a Maildir.

Messages are read one at a time, so a large corpus never sits in memory.
:func:`iter_messages` stops at the first unreadable message; :func:`iter_corpus`
yields every entry, with the stage and the error of those it could not read.
"""

from __future__ import annotations

import errno
import mailbox
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workmail_sandbox.errors import MessageParseError

from .message import ParsedMessage
from .parsing import MAX_MESSAGE_BYTES, parse_message, read_eml

__all__ = [
    "CorpusItem", "corpus_size", "eml_files", "file_item", "iter_corpus", "iter_messages", "maildir_entries",
    "parse_item",
]  # fmt: skip


def iter_messages(
    source: str | os.PathLike[str],
    *,
    headers_only: bool = False,
    max_bytes: int | None = MAX_MESSAGE_BYTES,
) -> Iterator[tuple[str, ParsedMessage]]:
    """Yield ``(name, parsed)`` for each message in a folder, an mbox or a Maildir.

    - a Maildir (a folder with ``cur`` and ``new``): names are the message keys, sorted;
    - a folder: every ``*.eml`` below it, sorted by relative path, which is the name;
    - an mbox file (starts with ``From ``): names are ``file:1``, ``file:2``...;
    - a single .eml file: one message named after the file.

    Messages are read one at a time, so a large corpus never sits in memory.
    An unreadable message raises :class:`MessageParseError` naming it.
    """
    root = _existing(source)
    opts: dict[str, Any] = {"headers_only": headers_only, "max_bytes": max_bytes}
    if root.is_dir():
        if (root / "cur").is_dir() and (root / "new").is_dir():
            yield from _iter_maildir(root, opts)
        else:
            for name, path in eml_files(root):
                if path.is_file():
                    yield name, read_eml(path, **opts)
        return
    with root.open("rb") as fh:
        is_mbox = fh.read(5) == b"From "
    if not is_mbox:
        yield root.name, read_eml(root, **opts)
        return
    box = mailbox.mbox(root, create=False)
    try:
        for n, key in enumerate(box.iterkeys(), 1):
            name = f"{root.name}:{n}"
            yield name, _parse_named(name, box.get_bytes(key), opts)
    finally:
        box.close()


def _existing(source: str | os.PathLike[str]) -> Path:
    """``source`` as a Path, or :class:`MessageParseError` when nothing is there."""
    root = Path(source)
    if not root.exists():
        raise MessageParseError(
            f"{root}: no such file or folder.", fix="Pass a folder of .eml files, an mbox file or a Maildir folder."
        )
    return root


def eml_files(root: Path) -> list[tuple[str, Path]]:
    """``(name, path)`` of every ``*.eml`` below ``root``, sorted by the name (the relative path)."""
    return sorted((path.relative_to(root).as_posix(), path) for path in root.rglob("*.eml"))


def _iter_maildir(root: Path, opts: dict[str, Any]) -> Iterator[tuple[str, ParsedMessage]]:
    # mailbox.Maildir's keys and order, but a FIFO or a device in cur/ or new/ is refused, never opened.
    for key, path in maildir_entries(root):
        if path.is_dir():
            continue  # as mailbox.Maildir does
        try:
            data = _read_regular(path)
        except MessageParseError as exc:
            raise MessageParseError(f"{key}: {exc.problem}", fix=exc.fix) from None
        yield key, _parse_named(key, data, opts)


def _parse_named(name: str, data: bytes, opts: dict[str, Any]) -> ParsedMessage:
    try:
        return parse_message(data, **opts)
    except MessageParseError as exc:
        raise MessageParseError(f"{name}: {exc.problem}", fix=exc.fix) from exc


# ----------------------------------------------------------------- every entry, never raising

#: ``CorpusItem.stage`` for an entry that could not be read (not a regular file, a broken link, an I/O error).
READ = "read"
#: ``CorpusItem.stage`` for bytes that are not a message.
PARSE = "parse"


@dataclass(frozen=True)
class CorpusItem:
    """One entry of a corpus: its parse, or the stage (``"read"``/``"parse"``) and the error that stopped it."""

    name: str
    message: ParsedMessage | None = None
    stage: str | None = None
    error: MessageParseError | None = None


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _read_regular(path: Path) -> bytes:
    """The bytes of ``path``; never opens anything but a regular file. Raises MessageParseError (stage read)."""
    where = str(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise MessageParseError(
                f"{where}: a symbolic link loop.", fix="point the link at a message file, or remove it"
            ) from None
        if isinstance(exc, FileNotFoundError) and os.path.islink(path):
            raise MessageParseError(
                f"{where}: a broken symbolic link (its target {os.readlink(path)!r} does not exist).",
                fix="point the link at a message file, or remove it",
            ) from None
        raise MessageParseError(f"{where}: cannot be read ({exc.strerror or exc}).", fix="check the file") from None
    if not stat.S_ISREG(info.st_mode):
        raise MessageParseError(
            f"{where}: {_kind(info.st_mode)}, not a message file (not opened).",
            fix="keep only message files in the corpus, or rename this entry",
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise MessageParseError(
            f"{where}: cannot be read ({exc.strerror or exc}).", fix="check its permissions"
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the stat and the open
            raise MessageParseError(
                f"{where}: {_kind(mode)}, not a message file.", fix="keep only message files in the corpus"
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    except OSError as exc:
        raise MessageParseError(f"{where}: cannot be read ({exc.strerror or exc}).", fix="check the file") from None
    finally:
        os.close(fd)


def parse_item(name: str, data: bytes, opts: dict[str, Any]) -> CorpusItem:
    try:
        return CorpusItem(name, parse_message(data, **opts))
    except MessageParseError as exc:
        return CorpusItem(name, stage=PARSE, error=exc)
    except Exception as exc:  # noqa: BLE001 - a parser bug on odd bytes must not stop a corpus
        return CorpusItem(
            name,
            stage=PARSE,
            error=MessageParseError(
                f"not a readable message ({type(exc).__name__}: {exc}).", fix="check the file's headers"
            ),
        )


def file_item(name: str, path: Path, opts: dict[str, Any]) -> CorpusItem:
    try:
        data = _read_regular(path)
    except MessageParseError as exc:
        return CorpusItem(name, stage=READ, error=exc)
    return parse_item(name, data, opts)


def maildir_entries(root: Path) -> list[tuple[str, Path]]:
    """``(key, path)`` of every entry of ``cur`` and ``new``, as :class:`mailbox.Maildir` names them, by key.

    Unlike ``mailbox.Maildir``, folders are listed too (they become read errors), and nothing is opened.
    """
    found: dict[str, Path] = {}
    for sub in ("cur", "new"):
        for entry in os.listdir(root / sub):
            found[entry.split(":")[0]] = root / sub / entry
    return sorted(found.items())


def corpus_size(source: str | os.PathLike[str]) -> int | None:
    """How many entries :func:`iter_corpus` yields for a folder or Maildir (None for an mbox or a file)."""
    root = Path(source)
    if root.is_dir() and (root / "cur").is_dir() and (root / "new").is_dir():
        return len(maildir_entries(root))
    if root.is_dir():
        return sum(1 for _ in root.rglob("*.eml"))
    return None


def iter_corpus(
    source: str | os.PathLike[str],
    *,
    headers_only: bool = False,
    max_bytes: int | None = MAX_MESSAGE_BYTES,
) -> Iterator[CorpusItem]:
    """Every entry of a folder, an mbox or a Maildir, in :func:`iter_messages`' order, as a :class:`CorpusItem`.

    Unlike :func:`iter_messages` it never stops and never skips: an entry that
    cannot be read (a FIFO, a device, a folder named ``x.eml``, a broken or
    looping symbolic link: checked with ``os.stat`` and never opened) or
    parsed is yielded with its stage and error. Only a ``source`` that does
    not exist raises :class:`MessageParseError`.
    """
    root = _existing(source)
    opts: dict[str, Any] = {"headers_only": headers_only, "max_bytes": max_bytes}
    if root.is_dir():
        if (root / "cur").is_dir() and (root / "new").is_dir():
            for key, path in maildir_entries(root):
                yield file_item(key, path, opts)
            return
        for name, path in eml_files(root):
            yield file_item(name, path, opts)
        return
    is_mbox = False
    try:
        if stat.S_ISREG(os.stat(root).st_mode):  # never open a FIFO or a device to sniff it
            with open(root, "rb") as fh:
                is_mbox = fh.read(5) == b"From "
    except OSError:
        pass
    if not is_mbox:
        yield file_item(root.name, root, opts)
        return
    try:
        box = mailbox.mbox(root, create=False)
        keys = list(box.iterkeys())
    except Exception as exc:  # noqa: BLE001 - one error row, not a traceback
        yield CorpusItem(
            root.name,
            stage=READ,
            error=MessageParseError(
                f"{root}: cannot be read as an mbox ({type(exc).__name__}: {exc}).", fix="check the file"
            ),
        )
        return
    try:
        for n, key in enumerate(keys, 1):
            name = f"{root.name}:{n}"
            try:
                data = box.get_bytes(key)
            except Exception as exc:  # noqa: BLE001 - any reader failure becomes this entry's error row
                yield CorpusItem(
                    name,
                    stage=READ,
                    error=MessageParseError(
                        f"{name}: cannot be read ({type(exc).__name__}: {exc}).", fix="check the mbox file"
                    ),
                )
                continue
            yield parse_item(name, data, opts)
    finally:
        box.close()
