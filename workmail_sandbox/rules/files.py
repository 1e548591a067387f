"""The rule file format: its keys, reading and writing JSON and YAML.

The format itself is described in the :mod:`workmail_sandbox.rules` docstring;
each class reads and writes its own part (``RuleSet.from_dict``,
``Rule.from_dict``, ``PrecedenceSettings.from_dict`` and their ``to_dict``).
This module holds what they share: the keys a rule takes (with the near misses
people write, for suggestions), the check for unknown keys, and the file
handling behind ``RuleSet.from_file`` and ``RuleSet.to_file``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._text_files import read_small_text_file
from .._yaml_limits import YAMLShapeError, load_without_aliases, yaml_error_text
from ..errors import RuleError
from ._messages import _suggest

MAX_RULE_FILE_BYTES = 256 * 1024
"""Largest rule file read (256 KiB; the kit's choice), checked with ``stat`` before reading.

WorkMail allows 250 sender patterns per rule and 1,000 per organization
(docs/aws-behaviour.md §4.4); a rule set at those quotas is well under 100 KB of YAML
or JSON. Reading YAML costs about 3 s per MB with libyaml and 11 s per MB without, so
the cap keeps ``test-rule`` under a second or two.
"""
MAX_RULE_FILE_DEPTH = 32
"""Deepest nesting of lists and mappings in a rule file (the kit's choice; the format nests four)."""

_RULE_KEYS = (
    "name", "senders", "recipients", "action", "function_arn", "synchronous",
    "fallback_action", "rule_timeout_minutes", "description",
)
_KEY_ALIASES = {
    "sender": "senders", "sender_patterns": "senders", "from": "senders",
    "recipient": "recipients", "recipient_patterns": "recipients", "to": "recipients", "destination": "recipients",
    "timeout": "rule_timeout_minutes", "rule_timeout": "rule_timeout_minutes",
    "timeout_minutes": "rule_timeout_minutes",
    "fallback": "fallback_action", "arn": "function_arn", "lambda_arn": "function_arn", "function": "function_arn",
    "sync": "synchronous", "run_synchronously": "synchronous", "type": "action",
}
_MISSING_FIX = {
    "name": "add name: a short unique name such as 'drop-spam'",
    "senders": "add senders: ['*'] to match every sender, or list addresses and domains",
    "recipients": "add recipients: ['*'] to match every recipient, or list addresses and domains",
    "action": "add action: one of the direction's actions, for example DEFAULT",
}


def _check_keys(data: Mapping, known: Sequence[str], where: str) -> None:
    for key in data:
        if key in known:
            continue
        hint = _KEY_ALIASES.get(str(key).lower()) if known is _RULE_KEYS else None
        hint = hint or _suggest(str(key), known)
        raise RuleError(
            f"{where}: unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else "") + ".",
            fix=f"use only {', '.join(known)}",
        )


def _read_rule_file(p: Path) -> Any:
    """The parsed content of a ``.json``, ``.yaml`` or ``.yml`` rule file (``RuleSet.from_file``)."""
    suffix = p.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise RuleError(
            f"{p}: rule files are .json, .yaml or .yml, got {suffix or 'no extension'!r}.",
            fix="rename the file with one of those extensions, matching its content",
        )
    text = read_small_text_file(
        p,
        MAX_RULE_FILE_BYTES,
        RuleError,
        kind="a rule file",
        fix_missing="check the path (data/rules/ holds the examples)",
        fix_not_regular="name a .json or .yaml file",
        fix_too_large="check that this is the right file; a rule set of the organization's full quota is far smaller",
    )
    return _parse_json(text, p) if suffix == ".json" else _parse_yaml(text, p)


def _write_rule_file(data: dict[str, Any], p: Path) -> None:
    """Write ``data`` as JSON or YAML, chosen by the extension of ``p`` (``RuleSet.to_file``)."""
    suffix = p.suffix.lower()
    if suffix == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    else:
        raise RuleError(
            f"{p}: rule files are .json, .yaml or .yml, got {suffix or 'no extension'!r}.",
            fix="pick a file name ending in .json, .yaml or .yml",
        )
    p.write_text(text, encoding="utf-8")


def _parse_json(text: str, path: Path) -> Any:
    from ..events.serialization import JSONLimitError, load_json

    try:
        return load_json(text, max_bytes=None, max_depth=MAX_RULE_FILE_DEPTH)
    except JSONLimitError as error:
        raise RuleError(f"{path}: {error.problem}", fix=error.fix) from None
    except json.JSONDecodeError as error:
        raise RuleError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}).",
            fix="fix the JSON syntax there (a missing comma or quote is the usual cause), or write the rules as YAML",
        ) from None


def _parse_yaml(text: str, path: Path) -> Any:
    """``yaml.safe_load`` without aliases, and with bounded nesting (:mod:`workmail_sandbox._yaml_limits`).

    Also, ``*`` at the start of an unquoted pattern is an alias in YAML, which the
    error explains.
    """
    import yaml

    try:
        return load_without_aliases(text, max_depth=MAX_RULE_FILE_DEPTH)
    except YAMLShapeError as error:
        if error.kind == "alias":
            raise RuleError(
                f"{path}: YAML anchors and aliases (&name, *name) are not allowed in rule files ({error.where}).",
                fix="write each value out; a pattern that starts with '*' must be quoted: \"*\" or \"*.example.com\"",
            ) from None
        raise RuleError(
            f"{path}: the YAML nests more than {MAX_RULE_FILE_DEPTH} levels deep ({error.where}).",
            fix="a rule file nests four levels; check the file",
        ) from None
    except yaml.YAMLError as error:
        if "alias" in str(error):
            fix = "quote patterns that start with '*' (YAML reads * as an alias): write \"*\" or \"*.example.com\""
        else:
            fix = "fix the YAML there (indentation and ':' after each key are the usual causes)"
        raise RuleError(f"{path}: not valid YAML ({yaml_error_text(error)}).", fix=fix) from None
    except RecursionError:
        raise RuleError(
            f"{path}: the YAML nests too deeply to read.", fix="a rule file nests four levels; check the file"
        ) from None
