"""A function's log and tracebacks in the learner's terms: its own lines, and its cell's line numbers.

Lambda writes ``START``, ``END`` and ``REPORT`` lines around what the code
prints, and prefixes each ``logging`` record with its level, time and request
id; :func:`own_lines` keeps what the code itself wrote (``[INFO] message`` for
a logging record). A traceback names ``app.py``, the file
:func:`~workmail_sandbox.deploy.handler.deploy_handler` wrote; when that file
was made from functions defined in notebook cells (or a ``.py`` file),
deploy_handler registers a :class:`SourceMap` here, and :func:`in_your_terms`
rewrites ``File ".../app.py", line 28, in lambda_handler`` into
``File "your cell In [12]", line 24, in lambda_handler``.

Nothing here changes what Lambda reports (the payload's ``stackTrace`` and the
CloudWatch log keep ``app.py``, as on AWS): this is only how the kit shows them.
A frame is rewritten only when the line the traceback quotes is the line the map
expects, so a function redeployed by other means is never mislabelled.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Segment", "SourceMap", "in_your_terms", "own_lines", "register", "source_map", "tail"]

#: Lambda's own lines in a function's log (not the code's output).
_PLATFORM = re.compile(r"^(START|END|REPORT|INIT_START|EXTENSION|TELEMETRY) ")
#: A logging record as the Lambda Python runtime formats it: level, time, request id, message.
_RECORD = re.compile(r"^\[(?P<level>[A-Z]+)\]\t\S+Z\t[0-9a-fA-F-]{36}\t(?P<message>.*)$", re.DOTALL)
#: A traceback frame in the deployed module.
_FRAME = re.compile(
    r'File "(?:[^"]*/)?(?P<file>[\w.-]+\.py)", line (?P<line>\d+), in (?P<name>\S+)'
    r"(?P<code>\n[ \t]+(?P<text>[^\n]*))?"
)
#: How many maps are kept (one per deployed function; the oldest goes first).
MAX_MAPS = 256


@dataclass(frozen=True)
class Segment:
    """Lines ``start`` to ``start + count - 1`` of the deployed file come from ``origin``, from ``first_line`` on."""

    start: int
    count: int
    origin: str
    first_line: int


@dataclass(frozen=True)
class SourceMap:
    """Where each line of a deployed module (``module_file``, e.g. ``app.py``) came from."""

    module_file: str
    source: str
    segments: tuple[Segment, ...]

    def locate(self, line: int) -> tuple[str, int] | None:
        """``(origin, line in origin)`` for a line of the deployed file; None for lines the kit wrote (imports)."""
        for segment in self.segments:
            if segment.start <= line < segment.start + segment.count:
                return segment.origin, segment.first_line + (line - segment.start)
        return None

    def line_text(self, line: int) -> str | None:
        lines = self.source.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None


_MAPS: OrderedDict[str, SourceMap] = OrderedDict()


def _key(function_arn: str) -> str:
    """The unqualified function ARN (``...:function:name``), the key of the registry."""
    parts = function_arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else function_arn


def register(function_arn: str, source_map: SourceMap | None) -> None:
    """Remember (or, with None, forget) where the code of ``function_arn`` came from."""
    key = _key(function_arn)
    _MAPS.pop(key, None)
    if source_map is not None:
        _MAPS[key] = source_map
        while len(_MAPS) > MAX_MAPS:
            _MAPS.popitem(last=False)


def source_map(function_arn: str) -> SourceMap | None:
    """The map registered for ``function_arn`` (any qualifier), if any."""
    return _MAPS.get(_key(function_arn))


def in_your_terms(text: str, function_arn: str | None) -> str:
    """``text`` (a traceback, a log) with the deployed file's frames pointing at the learner's own lines."""
    found = source_map(function_arn) if function_arn else None
    if found is None:
        return text

    def rewrite(match: re.Match[str]) -> str:
        if match["file"] != found.module_file:
            return match[0]
        line = int(match["line"])
        place = found.locate(line)
        expected = found.line_text(line)
        if place is None or (match["text"] is not None and (expected or "").strip() != match["text"].strip()):
            return match[0]
        origin, origin_line = place
        return f'File "{origin}", line {origin_line}, in {match["name"]}' + (match["code"] or "")

    return _FRAME.sub(rewrite, text)


def own_lines(log_text: str) -> list[str]:
    """What the code wrote to its log: print lines, logging records as ``[LEVEL] message``, errors.

    Lambda's ``START``/``END``/``REPORT`` lines are left out; one entry per
    line (a traceback is several entries).
    """
    entries: list[str] = []
    for line in log_text.splitlines():
        if _PLATFORM.match(line):
            continue
        record = _RECORD.match(line)
        entries.append(f"[{record['level']}] {record['message']}" if record else line)
    return entries


def tail(lines: list[str], count: int = 5, width: int = 200) -> list[str]:
    """The last ``count`` lines, each cut at ``width`` characters, with a first line saying how many were left out."""
    kept = [line if len(line) <= width else line[: width - 1] + "…" for line in lines[-count:]]
    if len(lines) > count:
        kept.insert(0, f"... ({len(lines) - count} earlier line(s))")
    return kept
