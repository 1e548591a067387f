"""Install one of the kit's apps straight through the service APIs: the lessons' fast path.

:func:`workmail_sandbox.deploy.deploy_app` deploys an app as a learner does
(SAR change set, CloudFormation stack), and pays for it: importing moto's
CloudFormation brings in nearly every moto service (about 2 s here) and the
stack takes about 1.5 s more. Lessons after 01 only need what the stack
*creates*, so :func:`install_app` creates the same resources with the same
properties (bucket and its policy, role, function, permission) through
``s3``, ``iam`` and ``lambda`` calls, with names shaped like the ones
CloudFormation generates, in a few tens of milliseconds.

What differs from ``deploy_app``, on purpose: there is no CloudFormation stack
(``describe_stacks`` does not know it, and ``StackId`` is None), and the
resource-policy statement's ``Sid`` is the logical id instead of a random one.
``tests/test_deploy_direct.py`` compares the two resource by resource.

Only the resource types the kit's apps use are understood; any other makes
:func:`install_app` raise, and the caller should deploy the stack instead.
"""

from __future__ import annotations

import json
from typing import Any

from .._gc_pause import with_paused_gc
from .._internal_clients import require_sandbox, sandbox_account, sandbox_client
from ..apps import App, get_app
from ..emulators.cloudformation_fixups import apply_bucket_settings
from ..emulators.iam_managed_policies import ensure_aws_managed_policies
from ..emulators.serverlessrepo.changesets import SAR_STACK_PREFIX
from ..errors import SandboxError
from ..sam.packaging import MAX_FUNCTION_NAME, generated_name

__all__ = ["SUPPORTED_TYPES", "install_app"]

#: Resource types install_app creates, in the order it creates them (dependencies first).
SUPPORTED_TYPES = (
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Role",
    "AWS::Serverless::Function",
    "AWS::Lambda::Permission",
)
#: Function properties install_app passes on; any other makes it refuse (it would be ignored silently).
_FUNCTION_PROPERTIES = {"CodeUri", "Handler", "Runtime", "Timeout", "MemorySize", "Role", "Environment", "Description"}
MAX_ROLE_NAME = 64
MAX_BUCKET_NAME = 63


@with_paused_gc
def install_app(
    name: str = "hello_world",
    stack_name: str = "workmail-hello-world",
    parameters: dict[str, str] | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """Create the resources of app ``name`` without CloudFormation (sandbox only).

    Returns the keys :func:`~workmail_sandbox.deploy.deploy_app` returns
    (``FunctionName``, ``FunctionArn``, ``RoleName``, ``RoleArn``,
    ``BucketName``, ``Outputs``, ``StackName``, ``ApplicationId``,
    ``SemanticVersion``), with ``StackId`` and ``StackStatus`` None.
    """
    require_sandbox("installation")
    app = get_app(name)
    template = app.template()
    resources = template.get("Resources") or {}
    unknown = sorted({r.get("Type") for r in resources.values()} - set(SUPPORTED_TYPES))
    if unknown:
        raise SandboxError(
            f"install_app cannot create {', '.join(map(str, unknown))} (app {name!r}).",
            fix="deploy it through CloudFormation with workmail_sandbox.deploy.deploy_app",
        )
    full_name = SAR_STACK_PREFIX + stack_name
    import boto3

    region = region or boto3._get_default_session().region_name or "us-east-1"
    resolver = _Resolver(template, parameters or {}, region=region, account=sandbox_account())
    clients = {service: sandbox_client(service, region) for service in ("s3", "iam", "lambda")}
    for kind in SUPPORTED_TYPES:
        for logical_id, resource in resources.items():
            if resource.get("Type") == kind:
                _CREATE[kind](clients, app, full_name, logical_id, resource.get("Properties") or {}, resolver)

    summary: dict[str, Any] = {
        "StackName": full_name,
        "StackId": None,
        "StackStatus": None,
        "Outputs": {key: resolver.resolve(out["Value"]) for key, out in (template.get("Outputs") or {}).items()},
    }
    for kind, name_key, arn_key in (
        ("AWS::Serverless::Function", "FunctionName", "FunctionArn"),
        ("AWS::IAM::Role", "RoleName", "RoleArn"),
        ("AWS::S3::Bucket", "BucketName", None),
    ):
        created = [lid for lid, r in resources.items() if r.get("Type") == kind]
        if len(created) == 1:
            summary[name_key] = resolver.physical[created[0]]
            if arn_key:
                summary[arn_key] = resolver.arns[created[0]]
    summary["ApplicationId"] = app.application_id
    summary["SemanticVersion"] = app.metadata["SemanticVersion"]
    return summary


class _Resolver:
    """CloudFormation's intrinsics for the resources created so far: Ref, Fn::GetAtt (Arn), Fn::Sub."""

    def __init__(self, template: dict[str, Any], overrides: dict[str, str], *, region: str, account: str) -> None:
        self.values: dict[str, str] = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        for key, definition in (template.get("Parameters") or {}).items():
            if key in overrides:
                self.values[key] = str(overrides[key])
            elif "Default" in definition:
                self.values[key] = str(definition["Default"])
        unknown = sorted(set(overrides) - set(template.get("Parameters") or {}))
        if unknown:
            raise SandboxError(
                f"The app has no parameter {', '.join(unknown)}.",
                fix=f"use one of: {', '.join(template.get('Parameters') or {}) or '(none)'}",
            )
        self.physical: dict[str, str] = {}
        self.arns: dict[str, str] = {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            logical_id, attribute = target.split(".", 1) if isinstance(target, str) else target
            return self._get_att(logical_id, attribute)
        if set(value) == {"Fn::Sub"}:
            return self._sub(value["Fn::Sub"])
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        if name in self.values:
            return self.values[name]
        if name in self.physical:
            return self.physical[name]
        raise SandboxError(f"The template refers to {name!r}, which is not created yet.", fix="check the template")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if attribute != "Arn" or logical_id not in self.arns:
            raise SandboxError(
                f"install_app cannot resolve !GetAtt {logical_id}.{attribute}.",
                fix="deploy the app through CloudFormation with workmail_sandbox.deploy.deploy_app",
            )
        return self.arns[logical_id]

    def _sub(self, spec: Any) -> str:
        import re

        text, local = (spec, {}) if isinstance(spec, str) else (spec[0], self.resolve(spec[1]))

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if name.endswith(".Arn"):
                return self._get_att(name[:-4], "Arn")
            return self._ref(name)

        return re.sub(r"\$\{([^}!]+)\}", one, text)


def _bucket(
    clients: dict[str, Any], app: App, stack: str, logical_id: str, properties: dict[str, Any], resolver: _Resolver
) -> None:
    name = generated_name(stack, logical_id, MAX_BUCKET_NAME, lower=True)
    clients["s3"].create_bucket(Bucket=name)
    apply_bucket_settings(clients["s3"], name, resolver.resolve(properties))
    resolver.physical[logical_id] = name
    resolver.arns[logical_id] = f"arn:aws:s3:::{name}"


def _bucket_policy(
    clients: dict[str, Any], app: App, stack: str, logical_id: str, properties: dict[str, Any], resolver: _Resolver
) -> None:
    resolved = resolver.resolve(properties)
    clients["s3"].put_bucket_policy(Bucket=resolved["Bucket"], Policy=json.dumps(resolved["PolicyDocument"]))
    resolver.physical[logical_id] = resolved["Bucket"]


def _role(
    clients: dict[str, Any], app: App, stack: str, logical_id: str, properties: dict[str, Any], resolver: _Resolver
) -> None:
    resolved = resolver.resolve(properties)
    iam = clients["iam"]
    name = resolved.get("RoleName") or generated_name(stack, logical_id, MAX_ROLE_NAME)
    role = iam.create_role(
        RoleName=name,
        Path=resolved.get("Path", "/"),
        AssumeRolePolicyDocument=json.dumps(resolved["AssumeRolePolicyDocument"]),
        Description=resolved.get("Description", ""),
    )["Role"]
    arns = list(resolved.get("ManagedPolicyArns") or [])
    ensure_aws_managed_policies(arns, sandbox_account())
    for arn in arns:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for policy in resolved.get("Policies") or []:
        iam.put_role_policy(
            RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(policy["PolicyDocument"])
        )
    resolver.physical[logical_id] = name
    resolver.arns[logical_id] = role["Arn"]


def _function(
    clients: dict[str, Any], app: App, stack: str, logical_id: str, properties: dict[str, Any], resolver: _Resolver
) -> None:
    extra = sorted(set(properties) - _FUNCTION_PROPERTIES)
    if extra or "Role" not in properties:
        raise SandboxError(
            f"install_app cannot create function {logical_id} "
            + (f"with {', '.join(extra)}." if extra else "without an explicit Role."),
            fix="deploy the app through CloudFormation with workmail_sandbox.deploy.deploy_app",
        )
    resolved = resolver.resolve(properties)
    name = generated_name(stack, logical_id, MAX_FUNCTION_NAME)
    arguments: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": resolved["Runtime"],
        "Role": resolved["Role"],
        "Handler": resolved["Handler"],
        "Code": {"ZipFile": app.code_zip()},
        "Timeout": int(resolved.get("Timeout", 3)),
        "MemorySize": int(resolved.get("MemorySize", 128)),
        "Description": resolved.get("Description", ""),
    }
    if resolved.get("Environment"):
        arguments["Environment"] = {"Variables": {k: str(v) for k, v in resolved["Environment"]["Variables"].items()}}
    function = clients["lambda"].create_function(**arguments)
    resolver.physical[logical_id] = name
    resolver.arns[logical_id] = function["FunctionArn"]


def _permission(
    clients: dict[str, Any], app: App, stack: str, logical_id: str, properties: dict[str, Any], resolver: _Resolver
) -> None:
    resolved = resolver.resolve(properties)
    arguments = {
        "FunctionName": resolved["FunctionName"],
        "StatementId": logical_id,
        "Action": resolved["Action"],
        "Principal": resolved["Principal"],
    }
    for key in ("SourceArn", "SourceAccount"):
        if key in resolved:
            arguments[key] = resolved[key]
    clients["lambda"].add_permission(**arguments)
    resolver.physical[logical_id] = logical_id


_CREATE = {
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::IAM::Role": _role,
    "AWS::Serverless::Function": _function,
    "AWS::Lambda::Permission": _permission,
}
