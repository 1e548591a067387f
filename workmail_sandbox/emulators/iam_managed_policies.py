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

from .. import _moto
from ._core import STATE
from .messageflow.models import ensure_managed_policies

__all__ = ["ensure_aws_managed_policies", "install"]

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
        ensure_aws_managed_policies([arn], STATE.account_id, arn.split(":")[1])


def install() -> None:
    """Add the hook to botocore's built-in handlers (idempotent)."""
    for operation in _OPERATIONS:
        _moto.register_builtin_handler(f"before-parameter-build.iam.{operation}", _load_named_policy)


def ensure_aws_managed_policies(arns: list[str], account: str, partition: str = "aws") -> None:
    """Make AWS managed policies exist in moto's IAM, as ``load_aws_managed_policies`` would."""
    missing = [
        arn for arn in arns if arn.split(":")[4] == "aws" and not _moto.has_managed_policy(account, partition, arn)
    ]
    if not missing:
        return
    if any("AmazonWorkMailMessageFlow" in arn for arn in missing):
        ensure_managed_policies(account, partition)
    bundled = _moto.bundled_aws_managed_policies()
    for arn in missing:
        name = arn.rsplit("/", 1)[-1]
        if name in bundled and not _moto.has_managed_policy(account, partition, arn):
            _moto.add_aws_managed_policy(account, partition, name, bundled[name])
