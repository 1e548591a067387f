"""Requests, the evaluation of policies against them, and the decision.

Default deny; a matching ``Deny`` always wins; otherwise a matching ``Allow``
allows. Every policy passed in one call is pooled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigurationError
from ._text import _show
from ._wildcards import _action_matches, _resource_matches
from .conditions import ContextValue, _check_condition, _normalize_context
from .documents import Policy, Statement, parse_policy
from .errors import PolicyError
from .principals import Principal, _describe_principals, _principal_matches

__all__ = ["Decision", "Request", "StatementCheck", "evaluate"]


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


def _check_statement(st: Statement, policy: Policy, request: Request, ctx: dict, kind: str) -> StatementCheck:
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
