"""Reading many messages: a folder of .eml files, an mbox file or a Maildir.

Messages are read one at a time, so a large corpus never sits in memory.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workmail_sandbox.errors import MessageParseError

from .message import ParsedMessage
from .parsing import MAX_MESSAGE_BYTES, parse_message, read_eml

__all__ = ["iter_messages"]


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
    root = Path(source)
    if not root.exists():
        raise MessageParseError(
            f"{root}: no such file or folder.", fix="Pass a folder of .eml files, an mbox file or a Maildir folder."
        )
    opts: dict[str, Any] = {"headers_only": headers_only, "max_bytes": max_bytes}
    if root.is_dir():
        if (root / "cur").is_dir() and (root / "new").is_dir():
            yield from _iter_maildir(root, opts)
        else:
            for path in sorted(root.rglob("*.eml"), key=lambda q: q.relative_to(root).as_posix()):
                if path.is_file():
                    yield path.relative_to(root).as_posix(), read_eml(path, **opts)
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


def _iter_maildir(root: Path, opts: dict[str, Any]) -> Iterator[tuple[str, ParsedMessage]]:
    box = mailbox.Maildir(root, factory=None, create=False)
    for key in sorted(box.iterkeys()):
        yield key, _parse_named(key, box.get_bytes(key), opts)


def _parse_named(name: str, data: bytes, opts: dict[str, Any]) -> ParsedMessage:
    try:
        return parse_message(data, **opts)
    except MessageParseError as exc:
        raise MessageParseError(f"{name}: {exc.problem}", fix=exc.fix) from exc
