"""A template's parameters, checked and resolved as CloudFormation does before it creates anything.

CloudFormation checks each value against the parameter's ``Type``,
``AllowedValues``, ``AllowedPattern``, ``MinLength``/``MaxLength`` and
``MinValue``/``MaxValue`` (CloudFormation User Guide, "Parameters"), and a ``Ref``
to a parameter gives a string, a ``Number`` one too.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import SandboxError

__all__ = ["parameters_as_strings", "resolve_parameters"]


def resolve_parameters(template: dict[str, Any], given: dict[str, Any] | None = None) -> dict[str, str]:
    """Each template parameter's value (given, else its default), checked as CloudFormation checks it.

    Returns strings, as CloudFormation passes parameters on. Raises :class:`SandboxError`
    naming the parameter for an unknown name, a missing value, or a value its
    ``Type``, ``AllowedValues``, ``AllowedPattern``, ``MinLength``/``MaxLength`` or
    ``MinValue``/``MaxValue`` refuses.
    """
    declared = template.get("Parameters") or {}
    given = dict(given or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise SandboxError(
            f"The template has no parameter {', '.join(unknown)}; it declares: {', '.join(declared) or 'none'}.",
            fix="use the names in the template's Parameters section",
        )
    values: dict[str, str] = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in given:
            raw = given[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise SandboxError(
                f"Parameter {name} has no default and no value was given.",
                fix=f"pass parameters={{{name!r}: ...}} (--parameter {name}=VALUE on the command line)",
            )
        value = ",".join(str(v) for v in raw) if isinstance(raw, list) else _text(raw)
        _check_parameter(name, spec, value)
        values[name] = value
    return values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_parameter(name: str, spec: dict[str, Any], value: str) -> None:
    kind = str(spec.get("Type", "String"))
    items = value.split(",") if kind.startswith("List<") or kind == "CommaDelimitedList" else [value]
    for item in items:
        if kind in ("Number", "List<Number>"):
            try:
                number = float(item)
            except ValueError:
                raise SandboxError(
                    f"Parameter {name} is a {kind}, and {item!r} is not a number.", fix=f"give {name} a number"
                ) from None
            low, high = spec.get("MinValue"), spec.get("MaxValue")
            for bound, limit, outside in (
                ("MinValue", low, low is not None and number < float(low)),
                ("MaxValue", high, high is not None and number > float(high)),
            ):
                if outside:
                    raise SandboxError(
                        f"Parameter {name} is {item}, outside its {bound} {limit}.",
                        fix=f"give {name} a value within the template's bounds",
                    )
        allowed = spec.get("AllowedValues")
        if allowed is not None and item not in [_text(a) for a in allowed]:
            raise SandboxError(
                f"Parameter {name} is {item!r}, not one of its AllowedValues ({', '.join(map(_text, allowed))}).",
                fix=f"give {name} one of the allowed values",
            )
        pattern = spec.get("AllowedPattern")
        if pattern is not None and re.fullmatch(str(pattern), item) is None:
            description = spec.get("ConstraintDescription") or f"it must match {pattern}"
            raise SandboxError(f"Parameter {name} is {item!r}: {description}.", fix=f"give {name} a matching value")
    shortest, longest = spec.get("MinLength"), spec.get("MaxLength")
    for bound, outside in (
        ("MinLength", shortest is not None and len(value) < int(shortest)),
        ("MaxLength", longest is not None and len(value) > int(longest)),
    ):
        if outside:
            raise SandboxError(
                f"Parameter {name} is {len(value)} characters long, outside its {bound} {spec[bound]}.",
                fix=f"give {name} a value of the right length",
            )


def parameters_as_strings(template: dict[str, Any]) -> None:
    """``Ref`` to a Number parameter gives a string in CloudFormation; moto would give an int."""
    for spec in (template.get("Parameters") or {}).values():
        kind = str((spec or {}).get("Type", "String"))
        if kind == "Number":
            spec["Type"] = "String"
        elif kind == "List<Number>":
            spec["Type"] = "CommaDelimitedList"
        if spec and "Default" in spec and not isinstance(spec["Default"], str):
            default = spec["Default"]
            spec["Default"] = ",".join(map(_text, default)) if isinstance(default, list) else _text(default)
