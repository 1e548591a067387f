"""A small, exact IAM policy evaluator for the three policies a Run Lambda set-up needs.

Pure Python, no AWS calls. It answers the questions AWS answers when WorkMail
runs a rule, so a lesson can fail for the same reason it would fail on AWS:

1. **The function's resource policy** (``lambda get_policy``): may
   ``workmail.<region>.amazonaws.com`` call ``lambda:InvokeFunction``, given the
   request context ``aws:SourceArn`` (the organization ARN) and
   ``aws:SourceAccount``? (fact sheet §2.2)
2. **The bucket policy** (``s3 get_bucket_policy``): may the same service
   principal do ``s3:GetObject`` / ``s3:GetObjectVersion`` on the re-uploaded
   message, with ``aws:SourceArn`` = the message ARN, ``aws:SourceAccount`` and
   ``aws:SecureTransport``? (§3.3)
3. **The execution role's identity policies** (inline and attached managed
   documents): may the role call ``workmailmessageflow:GetRawMessageContent`` or
   ``PutRawMessageContent`` on the message ARN? (§3.2)

Use::

    decision = evaluate([lambda_client.get_policy(FunctionName=name)["Policy"]],
                        Request("lambda:InvokeFunction", function_arn,
                                principal=Principal.service("workmail.us-east-1.amazonaws.com"),
                                context={"aws:SourceArn": org_arn,
                                         "aws:SourceAccount": account}),
                        kind="resource")
    decision.allowed, decision.reason

Semantics (the IAM policy evaluation logic, reduced to one account, no SCPs,
no permission boundaries, no session policies):

* Default deny. A matching ``Deny`` always wins. Otherwise a matching ``Allow``
  allows. Every policy passed in one call is pooled, as AWS pools the inline and
  attached policies of a role.
* ``kind="resource"``: every statement must name a ``Principal`` or
  ``NotPrincipal`` and the request must carry one. ``kind="identity"``: a
  statement that names a principal is an error (:class:`PolicyError`), because
  IAM refuses such a document (``MalformedPolicyDocument``) when you attach it.
* ``Action``/``NotAction``: case-insensitive, ``*`` and ``?`` wildcards.
* ``Resource``/``NotResource``: case-sensitive. ``*`` and ``?`` work inside an
  ARN segment; a ``*`` that ends a segment may run past the colons, as the IAM
  reference says. Lambda qualifiers are not modelled: ``...:function:name``
  matches only ``...:function:name``.
* ``Principal``: ``"*"`` and ``{"AWS": "*"}`` match everyone. ``{"Service": ...}``
  matches that service principal, ignoring case. ``{"AWS": "<account>"}`` or
  ``{"AWS": "arn:aws:iam::<account>:root"}`` matches every AWS principal of the
  account; any other ``AWS`` value must equal the principal ARN. moto writes an
  account principal as a bare string (``"Principal": "123456789012"``); that is
  read as ``{"AWS": "123456789012"}``.
* Conditions: operators AND, keys under one operator AND, values of one key OR
  (NOR for negated operators). Condition keys ignore case. A key missing from
  the request fails a positive operator and passes a negated one
  (``StringNotEquals``, ``ArnNotLike``, ...), except with ``...IfExists`` (passes)
  and ``Null`` (tests presence). ``ForAllValues:`` passes on a missing or empty
  key; ``ForAnyValue:`` fails on it. A list value in the request without a
  set prefix counts as matching when any of its values matches (positive
  operators) or when none of them does (negated operators).
* Supported operators: ``StringEquals``, ``StringNotEquals``,
  ``StringEqualsIgnoreCase``, ``StringNotEqualsIgnoreCase``, ``StringLike``,
  ``StringNotLike``, ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``,
  ``ArnNotLike``, ``Bool``, ``Null``, each with ``...IfExists`` (except
  ``Null``, as in IAM) and the ``ForAnyValue:``/``ForAllValues:`` prefixes.
  ``ArnEquals`` and ``ArnLike`` behave the same, as in IAM: the six ARN
  components are compared one by one, with wildcards inside each. Any other
  operator, including real IAM ones this evaluator does not model (Numeric,
  Date, IpAddress, Binary), raises :class:`PolicyError`: the evaluator fails
  closed rather than guess.
* Policy variables (``${aws:username}``) are not expanded; they are compared
  as literal text.

Parsing is strict where IAM is strict, so a lesson learns about a bad document
here rather than on AWS: invalid JSON, a missing or misspelt ``Effect``, both
``Action`` and ``NotAction``, unknown statement elements (except ``FunctionName``,
which moto adds to statements it creates from CloudFormation) and duplicate
``Sid`` values all raise :class:`PolicyError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal, Union

from .errors import ConfigurationError

__all__ = [
    "MESSAGE_FLOW_FULL_ACCESS_POLICY",
    "MESSAGE_FLOW_FULL_ACCESS_POLICY_ARN",
    "MESSAGE_FLOW_READ_ONLY_POLICY",
    "MESSAGE_FLOW_READ_ONLY_POLICY_ARN",
    "SUPPORTED_OPERATORS",
    "Condition",
    "Decision",
    "Policy",
    "PolicyError",
    "Principal",
    "Request",
    "Statement",
    "StatementCheck",
    "evaluate",
    "parse_policy",
]


class PolicyError(ConfigurationError):
    """A policy document the evaluator cannot judge: invalid, or using a feature it does not model."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message[:1].upper() + message[1:], fix=fix)


# --------------------------------------------------------------------------------------
# AWS managed policies
# --------------------------------------------------------------------------------------

# These mirror the AWS managed policies of the same names, version v1 (the default),
# as published in the AWS Managed Policy Reference:
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonWorkMailMessageFlowReadOnlyAccess.html
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonWorkMailMessageFlowFullAccess.html
# Note the published documents use "Resource": "*", not a message/* ARN.
# Do not mutate them; copy first (copy.deepcopy) if you need a variant.

MESSAGE_FLOW_READ_ONLY_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"
MESSAGE_FLOW_READ_ONLY_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": ["workmailmessageflow:Get*"],
            "Resource": "*",
            "Effect": "Allow",
        }
    ],
}

MESSAGE_FLOW_FULL_ACCESS_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"
MESSAGE_FLOW_FULL_ACCESS_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["workmailmessageflow:*"],
            "Resource": "*",
        }
    ],
}


# --------------------------------------------------------------------------------------
# Requests and decisions
# --------------------------------------------------------------------------------------

PrincipalKind = Literal["Service", "AWS", "Federated", "*"]
_PRINCIPAL_KINDS = ("Service", "AWS", "Federated", "*")

ContextValue = Union[str, bool, int, list[str], tuple[str, ...], None]


@dataclass(frozen=True)
class Principal:
    """Who makes the request: ``Principal("Service", "workmail.us-east-1.amazonaws.com")``.

    ``kind`` is ``"Service"``, ``"AWS"`` (an account ID or an IAM ARN),
    ``"Federated"`` or ``"*"`` (an anonymous caller).
    """

    kind: PrincipalKind
    id: str

    def __post_init__(self) -> None:
        if self.kind not in _PRINCIPAL_KINDS:
            raise ConfigurationError(
                f"Principal kind {self.kind!r} is not one of {', '.join(_PRINCIPAL_KINDS)}.",
                fix='Use Principal("Service", "workmail.us-east-1.amazonaws.com") for WorkMail.',
            )
        if not isinstance(self.id, str) or not self.id:
            raise ConfigurationError(
                f"Principal id must be a non-empty string, not {self.id!r}.",
                fix='Pass the principal name, e.g. "workmail.us-east-1.amazonaws.com".',
            )

    @classmethod
    def service(cls, name: str) -> Principal:
        """A service principal, e.g. ``Principal.service("workmail.us-east-1.amazonaws.com")``."""
        return cls("Service", name)

    def describe(self) -> str:
        return "an anonymous caller" if self.kind == "*" else self.id


@dataclass(frozen=True)
class Request:
    """What is being asked: ``action`` on ``resource`` by ``principal``, with ``context``.

    ``context`` holds the condition keys of the request (``aws:SourceArn``,
    ``aws:SourceAccount``, ``aws:SecureTransport``, ...). Key names ignore case.
    Values are strings, booleans, or lists of strings for multivalued keys;
    ``None`` means the key is absent.
    """

    action: str
    resource: str
    principal: Principal | None = None
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        service, colon, name = self.action.partition(":") if isinstance(self.action, str) else ("", "", "")
        if not (service and colon and name):
            raise ConfigurationError(
                f"Request action {self.action!r} is not of the form service:Action.",
                fix='Name the action with its service prefix, e.g. "lambda:InvokeFunction".',
            )
        if not isinstance(self.resource, str) or not self.resource:
            raise ConfigurationError(
                f"Request resource must be a non-empty ARN string, not {self.resource!r}.",
                fix='Pass the ARN, e.g. "arn:aws:lambda:us-east-1:123456789012:function:wm-rule".',
            )
        if self.principal is not None and not isinstance(self.principal, Principal):
            raise ConfigurationError(
                f"Request principal must be a Principal, not {type(self.principal).__name__}.",
                fix='Pass Principal("Service", "workmail.us-east-1.amazonaws.com").',
            )
        if not isinstance(self.context, Mapping):
            raise ConfigurationError(
                f"Request context must be a mapping of condition keys, not {type(self.context).__name__}.",
                fix='Pass a dict such as {"aws:SourceAccount": "123456789012"}.',
            )
        _normalize_context(self.context)  # validate early


@dataclass(frozen=True)
class StatementCheck:
    """How one statement fared against the request: material for a learner-facing message.

    ``failed`` is the first element that did not fit (``"principal"``,
    ``"action"``, ``"resource"`` or ``"condition"``), or ``None`` when the
    statement applies; ``detail`` says why in words.
    """

    label: str
    policy: str | None
    effect: Literal["Allow", "Deny"]
    applies: bool
    failed: Literal["principal", "action", "resource", "condition"] | None
    detail: str
    failed_conditions: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """``statement 'Sid'`` or ``statement '#0' in policy 'name'``."""
        text = f"statement {self.label!r}"
        return f"{text} in policy {self.policy!r}" if self.policy else text


@dataclass(frozen=True)
class Decision:
    """The verdict: ``allowed``, a ``reason`` a learner can read, and the material behind it.

    ``matched`` lists the Sids (``"#<index>"`` when a statement has none) of the
    statements that applied to the request; ``explicit_deny`` is true when a
    ``Deny`` statement applied; ``checks`` has one :class:`StatementCheck` per
    statement, so a caller can build its own advice.
    """

    allowed: bool
    reason: str
    matched: tuple[str, ...]
    explicit_deny: bool
    checks: tuple[StatementCheck, ...] = ()

    @property
    def near_misses(self) -> tuple[StatementCheck, ...]:
        """Allow statements that did not apply, closest first (condition, resource, action, principal)."""
        misses = [c for c in self.checks if c.effect == "Allow" and not c.applies]
        return tuple(sorted(misses, key=lambda c: _CLOSENESS[c.failed]))


_CLOSENESS = {"condition": 0, "resource": 1, "action": 2, "principal": 3, None: 4}


# --------------------------------------------------------------------------------------
# Parsed policies
# --------------------------------------------------------------------------------------

_SUPPORTED_BASES = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Bool",
    "Null",
)
SUPPORTED_OPERATORS: frozenset[str] = frozenset(_SUPPORTED_BASES)
"""The condition operators :func:`evaluate` understands (before ``IfExists`` and set prefixes)."""

# Real IAM operators the evaluator does not model: named so the error can say so.
_UNMODELLED_BASES = frozenset(
    {
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
    }
)

# base operator -> (positive operator it negates or is, negated?)
_OPERATOR_LOGIC = {
    "StringEquals": ("StringEquals", False),
    "StringNotEquals": ("StringEquals", True),
    "StringEqualsIgnoreCase": ("StringEqualsIgnoreCase", False),
    "StringNotEqualsIgnoreCase": ("StringEqualsIgnoreCase", True),
    "StringLike": ("StringLike", False),
    "StringNotLike": ("StringLike", True),
    "ArnEquals": ("ArnLike", False),
    "ArnLike": ("ArnLike", False),
    "ArnNotEquals": ("ArnLike", True),
    "ArnNotLike": ("ArnLike", True),
    "Bool": ("Bool", False),
}

_QUALIFIERS = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` test of a statement's ``Condition`` block."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # e.g. "StringLike"
    qualifier: Literal["", "ForAnyValue", "ForAllValues"]
    if_exists: bool
    key: str  # as written, e.g. "AWS:SourceArn"
    values: tuple[str, ...]

    def describe(self) -> str:
        """``ArnLike AWS:SourceArn=arn:...``, as a learner would read it in the policy."""
        return f"{self.operator} {self.key}={_show(self.values)}"


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


def parse_policy(document: str | bytes | Mapping[str, Any] | Policy, *, name: str | None = None) -> Policy:
    """Parse a policy from JSON text or a dict; raise :class:`PolicyError` if IAM would refuse it.

    ``name`` (optional) labels the policy in reasons, e.g. the inline policy
    name or ``"AmazonWorkMailMessageFlowReadOnlyAccess"``.
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
    if isinstance(document, str):
        if not document.strip():
            raise PolicyError(
                f"{where} is an empty string.",
                fix="Pass the policy JSON, e.g. lambda_client.get_policy(FunctionName=...)['Policy'].",
            )
        try:
            loaded = json.loads(document)
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
            f"{at} has Effect {effect!r}; IAM accepts only \"Allow\" or \"Deny\".",
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
            f"{at}: {element} must be \"*\" or an object such as "
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


def _parse_conditions(block: Any, at: str) -> tuple[Condition, ...]:
    if not isinstance(block, Mapping):
        raise PolicyError(
            f"{at}: Condition must be an object of operators, not {block!r}.",
            fix='Write "Condition": {"ArnLike": {"aws:SourceArn": "arn:..."}}.',
        )
    out: list[Condition] = []
    for operator, tests in block.items():
        base, qualifier, if_exists = _parse_operator(operator, at)
        if not isinstance(tests, Mapping) or not tests:
            raise PolicyError(
                f"{at}: condition operator {operator} must map keys to values, not {tests!r}.",
                fix=f'Write "{operator}": {{"aws:SourceAccount": "123456789012"}}.',
            )
        for key, raw_values in tests.items():
            if not isinstance(key, str) or not key:
                raise PolicyError(f"{at}: {operator} has an empty condition key.", fix="Name the key, e.g. aws:SourceArn.")
            values = _condition_values(raw_values, at, operator, key)
            if base in ("Bool", "Null"):
                for v in values:
                    if v.lower() not in ("true", "false"):
                        raise PolicyError(
                            f"{at}: {operator} {key} has value {v!r}; {base} takes only true or false.",
                            fix=f'Write "{key}": "true" or "{key}": "false".',
                        )
            out.append(Condition(operator, base, qualifier, if_exists, key, values))
    return tuple(out)


def _parse_operator(operator: str, at: str) -> tuple[str, str, bool]:
    qualifier = ""
    rest = operator
    if ":" in operator:
        qualifier, _, rest = operator.partition(":")
        if qualifier not in _QUALIFIERS:
            raise PolicyError(
                f"{at}: condition operator {operator!r} has an unknown prefix {qualifier!r}.",
                fix=_did_you_mean(qualifier, _QUALIFIERS) + "The set prefixes are ForAnyValue: and ForAllValues:.",
            )
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base in _SUPPORTED_BASES:
        if base == "Null" and if_exists:
            raise PolicyError(
                f"{at}: IAM does not allow the IfExists suffix on Null ({operator!r}).",
                fix='Use "Null" on its own: {"Null": {"aws:SourceArn": "false"}} requires the key to be present.',
            )
        if base == "Null" and qualifier:
            raise PolicyError(
                f"{at}: {operator!r} puts a set prefix on Null, which tests presence, not values.",
                fix='Use "Null" without ForAnyValue:/ForAllValues:.',
            )
        return base, qualifier, if_exists
    if base in _UNMODELLED_BASES:
        raise PolicyError(
            f"{at}: condition operator {operator!r} is a real IAM operator, but this sandbox "
            "does not evaluate it, so it cannot judge the statement.",
            fix=f"Use one of {', '.join(_SUPPORTED_BASES)} in sandbox lessons, or check this policy on AWS.",
        )
    raise PolicyError(
        f"{at}: unknown condition operator {operator!r}.",
        fix=_did_you_mean(base, _SUPPORTED_BASES + tuple(sorted(_UNMODELLED_BASES)))
        + f"Supported operators: {', '.join(_SUPPORTED_BASES)} (each also with IfExists, except Null).",
    )


def _condition_values(raw: Any, at: str, operator: str, key: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError(f"{at}: {operator} {key} has an empty list of values.", fix="Give at least one value.")
    out = []
    for v in items:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, (int, float)):
            out.append(str(v))
        elif isinstance(v, str):
            out.append(v)
        else:
            raise PolicyError(
                f"{at}: {operator} {key} has a value of type {type(v).__name__} ({v!r}).",
                fix="Condition values are strings (or lists of strings).",
            )
    return tuple(out)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    low = str(word).lower()
    for c in choices:
        if c.lower() == low:
            return f"Did you mean {c!r}? Names are case-sensitive. "
    return ""


# --------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------


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


def _arn_like(value: str, pattern: str) -> bool:
    """ArnLike/ArnEquals: the six components compared one by one, wildcards within each."""
    p_parts = pattern.split(":", 5)
    v_parts = value.split(":", 5)
    if len(p_parts) != 6:
        # Not an ARN pattern ("*" for instance): compare as a whole.
        return _glob(pattern, False).fullmatch(value) is not None
    if len(v_parts) != 6:
        return False
    return all(_glob(p, False).fullmatch(v) is not None for p, v in zip(p_parts, v_parts))


def _positive_match(op: str, value: str, pattern: str) -> bool:
    if op == "StringEquals":
        return value == pattern
    if op == "StringEqualsIgnoreCase":
        return value.casefold() == pattern.casefold()
    if op == "StringLike":
        return _glob(pattern, False).fullmatch(value) is not None
    if op == "ArnLike":
        return _arn_like(value, pattern)
    if op == "Bool":
        return value.lower() == pattern.lower()
    raise AssertionError(op)  # pragma: no cover - parse_policy only lets known operators through


def _principal_matches(entry: tuple[str, str], who: Principal) -> bool:
    ptype, pid = entry
    if ptype == "*" or (ptype == "AWS" and pid == "*"):
        return True
    if ptype == "Service":
        return who.kind == "Service" and pid.lower() == who.id.lower()
    if ptype == "AWS":
        if who.kind != "AWS":
            return False
        if pid == who.id:
            return True
        account = _account_of_principal_entry(pid)
        return account is not None and account == _account_of(who.id)
    if ptype == "Federated":
        return who.kind == "Federated" and pid == who.id
    return False  # CanonicalUser: never a request principal here


_ACCOUNT_RE = re.compile(r"\d{12}")
_ROOT_RE = re.compile(r"arn:[^:]+:iam::(\d{12}):root")


def _account_of_principal_entry(pid: str) -> str | None:
    if _ACCOUNT_RE.fullmatch(pid):
        return pid
    m = _ROOT_RE.fullmatch(pid)
    return m.group(1) if m else None


def _account_of(principal_id: str) -> str | None:
    if _ACCOUNT_RE.fullmatch(principal_id):
        return principal_id
    parts = principal_id.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and _ACCOUNT_RE.fullmatch(parts[4]):
        return parts[4]
    return None


def _describe_principals(entries: tuple[tuple[str, str], ...]) -> str:
    shown = ["everyone (*)" if t == "*" else f"{t} {v}" for t, v in entries]
    return ", ".join(shown)


# --------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------


def _normalize_context(context: Mapping[str, ContextValue]) -> dict[str, tuple[tuple[str, ...], bool]]:
    """lower-case key -> (values, multivalued?). Absent keys (None) are left out."""
    out: dict[str, tuple[tuple[str, ...], bool]] = {}
    originals: dict[str, str] = {}
    for key, value in context.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationError(
                f"Request context key {key!r} is not a non-empty string.",
                fix='Name condition keys as in the policy, e.g. "aws:SourceArn".',
            )
        low = key.lower()
        if low in originals:
            raise ConfigurationError(
                f"Request context has both {originals[low]!r} and {key!r}; condition keys ignore case, "
                "so they name the same key.",
                fix="Keep one of them.",
            )
        originals[low] = key
        if value is None:
            continue
        if isinstance(value, bool):
            out[low] = (("true" if value else "false",), False)
        elif isinstance(value, (str, int)):
            out[low] = ((str(value),), False)
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = []
            for v in value:
                if isinstance(v, bool):
                    items.append("true" if v else "false")
                elif isinstance(v, (str, int)):
                    items.append(str(v))
                else:
                    raise ConfigurationError(
                        f"Request context key {key!r} holds a {type(v).__name__} in its list.",
                        fix="List values must be strings.",
                    )
            out[low] = (tuple(items), True)
        else:
            raise ConfigurationError(
                f"Request context key {key!r} holds a {type(value).__name__}; "
                "expected a string, a bool or a list of strings.",
                fix='Pass e.g. {"aws:SecureTransport": True, "aws:SourceAccount": "123456789012"}.',
            )
    return out


def _show(values: tuple[str, ...] | list[str]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


def _check_condition(cond: Condition, ctx: dict[str, tuple[tuple[str, ...], bool]]) -> str | None:
    """None when the condition holds, else a sentence saying why it does not."""
    head = cond.describe()
    entry = ctx.get(cond.key.lower())
    present = entry is not None and len(entry[0]) > 0
    if cond.base == "Null":
        wants_absent = [v.lower() == "true" for v in cond.values]
        if any((not present) if w else present for w in wants_absent):
            return None
        if present:
            return f"{head} fails because the request has {cond.key}={_show(entry[0])}"
        return f"{head} fails because the request has no {cond.key}"
    op, negated = _OPERATOR_LOGIC[cond.base]
    if not present:
        if cond.if_exists or cond.qualifier == "ForAllValues":
            return None
        if cond.qualifier == "ForAnyValue":
            return f"{head} fails because the request has no {cond.key} (ForAnyValue needs at least one value)"
        if negated:
            return None
        return f"{head} fails because the request has no {cond.key}"
    values, _multi = entry

    def hits(v: str) -> list[str]:
        return [p for p in cond.values if _positive_match(op, v, p)]

    if cond.qualifier == "ForAllValues":
        for v in values:
            h = hits(v)
            if negated and h:
                return f"{head} fails because the request value {v} matches {_show(h)}"
            if not negated and not h:
                return f"{head} fails because the request value {v} (of {_show(values)}) matches none of them"
        return None
    if cond.qualifier == "ForAnyValue" or not negated:
        if negated:
            if any(not hits(v) for v in values):
                return None
            return f"{head} fails because every request value ({_show(values)}) matches it"
        if any(hits(v) for v in values):
            return None
        return f"{head} does not match {_show(values)}"
    # negated, no set prefix: none of the request values may match
    for v in values:
        h = hits(v)
        if h:
            return f"{head} fails because the request has {cond.key}={v}, which it excludes"
    return None


# --------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------


def _check_statement(
    st: Statement, policy: Policy, request: Request, ctx: dict, kind: str
) -> StatementCheck:
    label, pname = st.label, policy.name
    where = f"statement {label!r}" + (f" in policy {pname!r}" if pname else "")

    def miss(stage, detail, failed_conditions=()):
        return StatementCheck(label, pname, st.effect, False, stage, detail, tuple(failed_conditions))

    if kind == "resource":
        who = request.principal
        assert who is not None
        if st.principals is not None and not any(_principal_matches(e, who) for e in st.principals):
            return miss(
                "principal",
                f"{where} is for {_describe_principals(st.principals)}, not {who.describe()}",
            )
        if st.not_principals is not None and any(_principal_matches(e, who) for e in st.not_principals):
            return miss("principal", f"{where} excludes {who.describe()} through NotPrincipal")
    action = request.action
    if st.actions is not None and not any(_action_matches(p, action) for p in st.actions):
        return miss("action", f"{where} covers {_show(st.actions)}, not {action}")
    if st.not_actions is not None and any(_action_matches(p, action) for p in st.not_actions):
        return miss("action", f"{where} excludes {action} through NotAction {_show(st.not_actions)}")
    resource = request.resource
    if st.resources is not None and not any(_resource_matches(p, resource) for p in st.resources):
        detail = f"{where} covers {_show(st.resources)}, not {resource}"
        for p in st.resources:
            if resource.startswith(p.rstrip("/") + "/") and "*" not in p:
                detail += f" (to cover the objects under it, write {p.rstrip('/')}/*)"
                break
        return miss("resource", detail)
    if st.not_resources is not None and any(_resource_matches(p, resource) for p in st.not_resources):
        return miss("resource", f"{where} excludes {resource} through NotResource {_show(st.not_resources)}")
    failures = [f for f in (_check_condition(c, ctx) for c in st.conditions) if f is not None]
    if failures:
        detail = f"{where} matches but " + " and ".join(f"its condition {f}" for f in failures)
        return miss("condition", detail, failures)
    return StatementCheck(label, pname, st.effect, True, None, "")


def evaluate(
    policies: Iterable[Policy | str | bytes | Mapping[str, Any]] | Policy | str | Mapping[str, Any],
    request: Request,
    *,
    kind: Literal["resource", "identity"],
) -> Decision:
    """Decide ``request`` against ``policies`` the way IAM does for one account.

    ``kind="resource"`` for a Lambda function policy or a bucket policy (the
    request needs a ``principal``); ``kind="identity"`` for the policies of a
    role. Raises :class:`PolicyError` for a document it cannot judge and
    :class:`~workmail_sandbox.errors.ConfigurationError` for a bad call.
    """
    if kind not in ("resource", "identity"):
        raise ConfigurationError(
            f"kind must be 'resource' or 'identity', not {kind!r}.",
            fix="Use kind='resource' for function and bucket policies, kind='identity' for role policies.",
        )
    if not isinstance(request, Request):
        raise ConfigurationError(
            f"request must be a Request, not {type(request).__name__}.",
            fix='Build one with Request("lambda:InvokeFunction", function_arn, principal=..., context={...}).',
        )
    if kind == "resource" and request.principal is None:
        raise ConfigurationError(
            "A resource policy decides who may act, but the request names no principal.",
            fix='Pass principal=Principal("Service", "workmail.<region>.amazonaws.com") in the Request.',
        )
    if isinstance(policies, (Policy, str, bytes, Mapping)):
        policies = [policies]
    parsed = [parse_policy(p) for p in policies]
    for pol in parsed:
        for st in pol.statements:
            at = f"statement {st.label!r}" + (f" in policy {pol.name!r}" if pol.name else "")
            if kind == "identity" and st.names_principal:
                raise PolicyError(
                    f"{at} names a Principal, but it is evaluated as an identity policy; "
                    "IAM refuses identity policies with a Principal (MalformedPolicyDocument).",
                    fix="Remove Principal from role policies, or evaluate this document with kind='resource'.",
                )
            if kind == "resource" and not st.names_principal:
                raise PolicyError(
                    f"{at} has no Principal, but it is evaluated as a resource policy, "
                    "where every statement must say who it applies to.",
                    fix='Add "Principal": {"Service": "workmail.<region>.amazonaws.com"}, '
                    "or evaluate this document with kind='identity'.",
                )

    ctx = _normalize_context(request.context)
    checks = tuple(_check_statement(st, pol, request, ctx, kind) for pol in parsed for st in pol.statements)
    applied = [c for c in checks if c.applies]
    denies = [c for c in applied if c.effect == "Deny"]
    allows = [c for c in applied if c.effect == "Allow"]
    matched = tuple(c.label for c in applied)

    if request.principal is not None:
        who = request.principal.describe()
    else:
        who = "this identity"
    wanted = f"{who} to call {request.action} on {request.resource}"

    if denies:
        reason = "explicitly denied by " + ", ".join(c.where for c in denies)
        if allows:
            reason += " (an explicit Deny overrides the Allow in " + ", ".join(c.where for c in allows) + ")"
        return Decision(False, reason, matched, True, checks)
    if allows:
        return Decision(True, "allowed by " + ", ".join(c.where for c in allows), matched, False, checks)

    reason = f"no statement allows {wanted}"
    decision = Decision(False, reason, matched, False, checks)
    near = decision.near_misses
    if not parsed:
        reason += ": no policy was given"
    elif not checks:
        reason += ": the policy has no statements"
    elif not near:
        reason += ": the policy has only Deny statements"
    else:
        reason += ": " + "; ".join(c.detail for c in near)
    return Decision(False, reason, matched, False, checks)
