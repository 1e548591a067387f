"""Wildcards in ``Action`` and ``Resource``: ``*`` and ``?``, compiled once per pattern.

Actions ignore case. In a resource ARN a wildcard stays inside its segment,
except that a ``*`` ending a segment may run past the colons.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(rx, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@lru_cache(maxsize=1024)
def _resource_regex(pattern: str) -> re.Pattern[str]:
    # Wildcards stay inside an ARN segment, except that a "*" ending a segment may
    # run past the colons (IAM User Guide, "Using wildcards in resource ARNs").
    parts = pattern.split(":", 5)
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        rx = []
        for j, c in enumerate(part):
            if c == "*":
                rx.append(".*" if last or j == len(part) - 1 else "[^:]*")
            elif c == "?":
                rx.append("." if last else "[^:]")
            else:
                rx.append(re.escape(c))
        out.append("".join(rx))
    return re.compile(":".join(out), re.DOTALL)


def _action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern, True).fullmatch(action) is not None


def _resource_matches(pattern: str, resource: str) -> bool:
    return pattern == "*" or _resource_regex(pattern).fullmatch(resource) is not None
