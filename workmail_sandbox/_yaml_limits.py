"""Reading YAML the kit did not write: no aliases, bounded nesting, one-line errors.

Aliases are what make a "billion laughs" file: nine anchors of nine aliases each
expand 400 bytes into gigabytes. Rule files and stand-in files have no use for
them, so the composed node graph (where an alias is the anchored node shared,
not copied) is checked for aliases and depth first, without recursion, and only
then constructed. libyaml (``CSafeLoader``) is used when PyYAML has it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["YAMLShapeError", "load_without_aliases", "yaml_error_text"]


class YAMLShapeError(ValueError):
    """A YAML document refused before it is built: ``kind`` is "alias" or "depth", ``where`` a line and column."""

    def __init__(self, kind: str, where: str) -> None:
        super().__init__(f"{kind} at {where}")
        self.kind = kind
        self.where = where


def load_without_aliases(text: str, *, max_depth: int) -> Any:
    """``yaml.safe_load(text)`` after refusing aliases and nesting deeper than ``max_depth``.

    Raises :class:`YAMLShapeError`, or ``yaml.YAMLError`` for text that is not YAML.
    An anchor nobody refers to is harmless and passes; the first alias is refused.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it
    root = yaml.compose(text, Loader=loader)
    if root is None:
        return None
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        mark = node.start_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        if id(node) in seen:  # an alias: the composer shares the anchored node
            raise YAMLShapeError("alias", where)
        seen.add(id(node))
        if depth > max_depth:
            raise YAMLShapeError("depth", where)
        if isinstance(node, yaml.MappingNode):
            stack.extend((part, depth + 1) for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
    return loader(text).construct_document(root)


def yaml_error_text(error: Exception) -> str:
    """``"line L, column C: problem"`` for PyYAML's error (its first line when it has no mark)."""
    mark = getattr(error, "problem_mark", None)
    at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(error, "problem", None) or (str(error).strip().splitlines() or [type(error).__name__])[0]
    return f"{at}{problem}"
