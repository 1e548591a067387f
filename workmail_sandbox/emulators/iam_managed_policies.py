"""AWS managed policies in moto's IAM, loaded when a call first names one.

moto can preload all ~1,500 AWS managed policies (``load_aws_managed_policies``)
but that costs one to two seconds each time the IAM backend is created, that
is at every sandbox start and reset. Instead, a ``before-parameter-build``
hook on the IAM operations that take a ``PolicyArn`` loads just the policy
named, from moto's bundled copy, before moto sees the call. So
``attach_role_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")``
works as on AWS.

Deviation: ``list_policies(Scope="AWS")`` lists only the AWS managed policies
used so far.
"""

from __future__ import annotations

from typing import Any

from botocore.handlers import BUILTIN_HANDLERS

from ._core import STATE

__all__ = ["install"]

_OPERATIONS = (
    "AttachRolePolicy",
    "AttachUserPolicy",
    "AttachGroupPolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "ListEntitiesForPolicy",
    "PutRolePermissionsBoundary",
    "PutUserPermissionsBoundary",
)


def _load_named_policy(params: dict[str, Any], **_: Any) -> None:
    if not STATE.active:
        return
    arn = params.get("PolicyArn") or params.get("PermissionsBoundary")
    if isinstance(arn, str) and arn.startswith("arn:") and arn.split(":")[4:5] == ["aws"]:
        from ..deploy import ensure_aws_managed_policies

        ensure_aws_managed_policies([arn], STATE.account_id, arn.split(":")[1])


def install() -> None:
    """Add the hook to botocore's built-in handlers (idempotent)."""
    for operation in _OPERATIONS:
        entry = (f"before-parameter-build.iam.{operation}", _load_named_policy)
        if entry not in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.append(entry)
