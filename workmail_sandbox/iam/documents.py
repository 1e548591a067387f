"""Policy documents: parsing and validating them as strictly as IAM does.

Invalid JSON, a missing or misspelt ``Effect``, both ``Action`` and
``NotAction``, unknown statement elements (except ``FunctionName``, which moto
adds to statements it creates from CloudFormation) and duplicate ``Sid`` values
all raise :class:`~workmail_sandbox.iam.PolicyError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ._text import _did_you_mean
from .conditions import Condition, _parse_conditions
from .errors import PolicyError

__all__ = [
    "DEFAULT_MAX_POLICY_CHARS",
    "POLICY_SIZE_LIMITS",
    "Policy",
    "PolicyKind",
    "Statement",
    "parse_policy",
]


@dataclass(frozen=True)
class Statement:
    """One parsed statement. Lists are tuples; ``None`` means the element is absent."""

    index: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principals: tuple[tuple[str, str], ...] | None  # (type, value); ("*", "*") for "*"
    not_principals: tuple[tuple[str, str], ...] | None
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        """The Sid, or ``#<index>`` when the statement has none."""
        return self.sid if self.sid else f"#{self.index}"

    @property
    def names_principal(self) -> bool:
        return self.principals is not None or self.not_principals is not None


@dataclass(frozen=True)
class Policy:
    """A parsed policy document. ``document`` is a read-only view of the original."""

    statements: tuple[Statement, ...]
    version: str | None = None
    id: str | None = None
    name: str | None = None
    document: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


_STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
# Keys moto adds to statements that are not IAM grammar; ignored.
_MOTO_EXTRA_STATEMENT_KEYS = ("FunctionName",)
_DOCUMENT_KEYS = ("Version", "Id", "Statement")
_VERSIONS = ("2012-10-17", "2008-10-17")
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


PolicyKind = Literal["lambda", "s3-bucket", "inline-role", "managed"]

POLICY_SIZE_LIMITS: dict[str, tuple[int, str]] = {
    "lambda": (20 * 1024, "bytes"),
    "s3-bucket": (20 * 1024, "bytes"),
    "inline-role": (10_240, "characters"),
    "managed": (6_144, "characters"),
}
"""AWS's size limit for each kind of policy, and what it counts.

- ``lambda``: a function's resource-based policy, 20 KB; Lambda answers
  ``PolicyLengthExceededException``, "The final policy size is bigger than the limit"
  (Lambda quotas page; AWS Knowledge Center, *lambda-resource-based-policy-size-error*).
- ``s3-bucket``: "Bucket policies are limited to 20 KB in size" (Amazon S3 User Guide,
  *Bucket policies and user policies*). S3's error code for it is not checked here.
- ``inline-role``: "Role policy size cannot exceed 10,240 characters", all inline policies
  of the role together; IAM answers ``LimitExceeded``, "Maximum policy size of 10240
  bytes exceeded for role NAME" (IAM and AWS STS quotas page).
- ``managed``: "Managed policy size cannot exceed 6,144 characters"; IAM answers
  ``LimitExceeded``, "Cannot exceed quota for PolicySize: 6144" (same page).

IAM does not count white space in the character limits (same page). 20 KB is read
as 20,480 bytes of the document as given (UTF-8).
"""

DEFAULT_MAX_POLICY_CHARS = 20 * 1024
"""Without a ``kind``, :func:`parse_policy` refuses a document of more than 20,480
characters (white space not counted): larger than any policy Lambda, S3 or IAM accepts,
so no real policy is refused, and evaluation stays bounded (a 50,000-statement
document is refused before it is parsed)."""

_WHITESPACE = re.compile(r"\s+")


def _policy_size(document: str, unit: str) -> int:
    if unit == "bytes":
        return len(document.encode("utf-8", "surrogatepass"))
    return len(document) - sum(len(m) for m in _WHITESPACE.findall(document))


def _check_size(document: str, kind: PolicyKind | None, where: str, name: str | None) -> None:
    limit, unit = POLICY_SIZE_LIMITS[kind] if kind is not None else (DEFAULT_MAX_POLICY_CHARS, "characters")
    size = _policy_size(document, unit)
    if size <= limit:
        return
    counted = f"{size:,} {unit}" + (" without white space" if unit == "characters" else "")
    aws = {
        "lambda": " Lambda answers PolicyLengthExceededException: The final policy size is bigger than the limit.",
        "s3-bucket": " S3 refuses bucket policies over 20 KB.",
        "inline-role": (
            f" IAM answers LimitExceeded: Maximum policy size of 10240 bytes exceeded for role {name or 'ROLE'}."
        ),
        "managed": " IAM answers LimitExceeded: Cannot exceed quota for PolicySize: 6144.",
    }.get(kind or "", " No AWS service accepts a policy this large.")
    raise PolicyError(
        f"{where} is {counted}, over the {limit:,}-{unit[:-1]} limit for "
        f"{'a ' + kind + ' policy' if kind else 'any policy'}.{aws}",
        fix="Merge repeated statements (wildcards in Resource or SourceArn), or split the permissions.",
    )


def parse_policy(
    document: str | bytes | Mapping[str, Any] | Policy,
    *,
    name: str | None = None,
    kind: PolicyKind | None = None,
) -> Policy:
    """Parse a policy from JSON text or a dict; raise :class:`PolicyError` if IAM would refuse it.

    ``name`` (optional) labels the policy in reasons, e.g. the inline policy
    name or ``"AmazonWorkMailMessageFlowReadOnlyAccess"``. ``kind`` applies AWS's
    size limit for that kind of policy (:data:`POLICY_SIZE_LIMITS`); without it the
    limit is :data:`DEFAULT_MAX_POLICY_CHARS`. The size is checked before the JSON is
    parsed (a dict is measured as compact JSON).
    """
    if isinstance(document, Policy):
        if name is not None and name != document.name:
            return Policy(document.statements, document.version, document.id, name, document.document)
        return document
    where = f"policy {name!r}" if name else "the policy"
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(
                f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start}).",
                fix="Pass the policy as a str or a dict.",
            ) from None
    if not isinstance(document, (str, bytes)):
        try:
            measured = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
        except (RecursionError, ValueError, TypeError) as exc:
            raise PolicyError(
                f"{where} cannot be read as JSON ({type(exc).__name__}).",
                fix="Pass a JSON object of the policy grammar.",
            ) from None
        _check_size(measured, kind, where, name)
    if isinstance(document, str):
        _check_size(document, kind, where, name)
        if not document.strip():
            raise PolicyError(
                f"{where} is an empty string.",
                fix="Pass the policy JSON, e.g. lambda_client.get_policy(FunctionName=...)['Policy'].",
            )
        try:
            loaded = json.loads(document)
        except RecursionError:
            raise PolicyError(f"{where} nests too deeply to read.", fix="Check the policy document.") from None
        except json.JSONDecodeError as exc:
            raise PolicyError(
                f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
                fix="Correct the JSON at that position (double quotes around every key and string, "
                "no trailing commas), or pass the dict itself instead of text.",
            ) from None
        document = loaded
    document = _plain(document)
    if not isinstance(document, Mapping):
        raise PolicyError(
            f"{where} must be a JSON object, not {type(document).__name__}.",
            fix='Pass a document of the form {"Version": "2012-10-17", "Statement": [...]}.',
        )
    for key in document:
        if key not in _DOCUMENT_KEYS:
            if key in ("Policy", "RevisionId", "ResponseMetadata"):
                fix = "This looks like a whole API response: pass response['Policy'] instead."
            else:
                fix = _did_you_mean(key, _DOCUMENT_KEYS) + f"A policy document has only {', '.join(_DOCUMENT_KEYS)}."
            raise PolicyError(f"{where} has an unknown top-level element {key!r}.", fix=fix)
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyError(
            f"{where} has Version {version!r}, which IAM does not know.",
            fix='Use "Version": "2012-10-17" (the date of the policy language, not of your policy).',
        )
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyError(f"{where} has a non-string Id {policy_id!r}.", fix="Make Id a string or remove it.")
    if "Statement" not in document:
        raise PolicyError(f"{where} has no Statement element.", fix='Add "Statement": [ {...}, ... ].')
    raw = document["Statement"]
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise PolicyError(
            f"{where}'s Statement must be an object or a list of objects, not {type(raw).__name__}.",
            fix='Write "Statement": [{"Effect": "Allow", "Action": ..., "Resource": ...}].',
        )
    statements = tuple(_parse_statement(s, i, where) for i, s in enumerate(raw))
    seen: set[str] = set()
    for st in statements:
        if st.sid is not None:
            if st.sid in seen:
                raise PolicyError(
                    f"{where} has two statements with Sid {st.sid!r}.",
                    fix="Give every statement its own Sid (IAM requires them to be unique).",
                )
            seen.add(st.sid)
    frozen_doc = MappingProxyType(document)
    return Policy(statements, version, policy_id, name, frozen_doc)


def _plain(obj: Any) -> Any:
    """A deep copy with plain dicts and lists, so the parsed policy owns its document."""
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _parse_statement(raw: Any, index: int, where: str) -> Statement:
    at = f"statement #{index} of {where}"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{at} is a {type(raw).__name__}, not an object.", fix="Make every statement a JSON object.")
    sid = raw.get("Sid")
    if sid is not None:
        if not isinstance(sid, str):
            raise PolicyError(f"{at} has a non-string Sid {sid!r}.", fix="Make the Sid a string.")
        at = f"statement {sid!r} of {where}"
    for key in raw:
        if key not in _STATEMENT_KEYS and key not in _MOTO_EXTRA_STATEMENT_KEYS:
            raise PolicyError(
                f"{at} has an unknown element {key!r}.",
                fix=_did_you_mean(key, _STATEMENT_KEYS) + f"A statement may contain {', '.join(_STATEMENT_KEYS)}.",
            )
    if "Effect" not in raw:
        raise PolicyError(f"{at} has no Effect.", fix='Add "Effect": "Allow" (or "Deny").')
    effect = raw["Effect"]
    if effect not in ("Allow", "Deny"):
        raise PolicyError(
            f'{at} has Effect {effect!r}; IAM accepts only "Allow" or "Deny".',
            fix='Write "Effect": "Allow" or "Effect": "Deny", spelt exactly so.',
        )
    actions, not_actions = _pair(raw, "Action", "NotAction", at, required=True)
    for a in actions or not_actions or ():
        if a != "*" and (":" not in a or a.startswith(":")):
            raise PolicyError(
                f"{at} has action {a!r} without a service prefix.",
                fix='Write actions as service:Action, e.g. "lambda:InvokeFunction" or "s3:GetObject".',
            )
    resources, not_resources = _pair(raw, "Resource", "NotResource", at, required=True)
    principals = _parse_principal(raw["Principal"], at, "Principal") if "Principal" in raw else None
    not_principals = _parse_principal(raw["NotPrincipal"], at, "NotPrincipal") if "NotPrincipal" in raw else None
    if principals is not None and not_principals is not None:
        raise PolicyError(f"{at} has both Principal and NotPrincipal.", fix="Keep only one of them.")
    conditions = _parse_conditions(raw.get("Condition"), at) if "Condition" in raw else ()
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principals=principals,
        not_principals=not_principals,
        conditions=conditions,
    )


def _pair(raw: Mapping, name: str, not_name: str, at: str, *, required: bool):
    has, has_not = name in raw, not_name in raw
    if has and has_not:
        raise PolicyError(f"{at} has both {name} and {not_name}.", fix=f"Keep only one of {name} and {not_name}.")
    if required and not has and not has_not:
        raise PolicyError(f"{at} has neither {name} nor {not_name}.", fix=f'Add "{name}": [...] to the statement.')
    if has:
        return _string_list(raw[name], at, name), None
    if has_not:
        return None, _string_list(raw[not_name], at, not_name)
    return None, None


def _string_list(value: Any, at: str, element: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        raise PolicyError(
            f"{at}: {element} must be a non-empty string or a non-empty list of strings, not {value!r}.",
            fix=f'Write "{element}": "..." or "{element}": ["...", "..."].',
        )
    return tuple(items)


def _parse_principal(value: Any, at: str, element: str) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if isinstance(value, str) and value:
        # moto writes an account principal as a bare string; IAM reads it as {"AWS": ...}.
        return (("AWS", value),)
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(
            f'{at}: {element} must be "*" or an object such as '
            f'{{"Service": "workmail.us-east-1.amazonaws.com"}}, not {value!r}.',
            fix=f'Write "{element}": {{"Service": "workmail.<region>.amazonaws.com"}}.',
        )
    out: list[tuple[str, str]] = []
    for ptype, ids in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise PolicyError(
                f"{at}: {element} has an unknown principal type {ptype!r}.",
                fix=_did_you_mean(ptype, _PRINCIPAL_TYPES) + f"Principal types are {', '.join(_PRINCIPAL_TYPES)}.",
            )
        for pid in _string_list(ids, at, f"{element}.{ptype}"):
            out.append((ptype, pid))
    return tuple(out)
