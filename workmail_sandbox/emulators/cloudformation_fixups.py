"""Closing the gaps moto's CloudFormation leaves, so a stack looks as CloudFormation leaves it.

moto's CloudFormation stores the resources of a template but leaves gaps
(docs/moto.md §3 and §8). The SAR emulator calls these after a change set runs
(through its botocore hooks on the ``cloudformation`` calls), so the learner's
boto3 code stays exactly what it would be on AWS:

* stack ``Outputs`` (moto leaves them ``None`` after ``ExecuteChangeSet``) are
  rebuilt from the template's Outputs by moto's own output resolver;
* ``AWS::S3::BucketPolicy`` (not supported by moto's CloudFormation) is applied
  with ``s3.put_bucket_policy`` (the document is JSON from the template, so it is
  valid) and shows up in the stack's resources;
* a bucket's ``VersioningConfiguration``, ``LifecycleConfiguration``,
  ``PublicAccessBlockConfiguration`` and ``BucketEncryption`` are applied with
  the S3 API (moto applies only the encryption);
* an ``AWS::IAM::Role``'s ``ManagedPolicyArns`` are attached (moto ignores
  them), after making sure the AWS managed policies exist in moto's IAM (the
  Message Flow ones from the kit, others from moto's bundled copy of AWS's);
* on an update, managed policies dropped from the template are detached;
* a function's ``Layers`` are set (moto's CloudFormation creates functions without them);
* a role's inline ``Policies`` are stored again as JSON (moto keeps them as
  Python dicts, so ``iam.get_role_policy`` answered their repr, not a document).

Before a stack is deleted, :func:`detach_stack_managed_policies` detaches the
managed policies first: moto refuses to delete a role that still has some
(CloudFormation detaches them itself). Every moto internal used here goes
through :mod:`workmail_sandbox._moto`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .. import _moto
from .._internal_clients import sandbox_account, sandbox_client
from .iam_managed_policies import ensure_aws_managed_policies

__all__ = [
    "AppliedBucketPolicy",
    "apply_bucket_settings",
    "apply_moto_fixups",
    "detach_stack_managed_policies",
]


class AppliedBucketPolicy:
    """Stands in moto's stack for an ``AWS::S3::BucketPolicy`` the kit applied itself.

    moto's CloudFormation has no model for bucket policies; with this object in the
    stack's resource map, ``list_stack_resources`` shows the resource and
    ``delete_stack`` removes the policy, as CloudFormation does.
    """

    cf_resource_type = "AWS::S3::BucketPolicy"

    def __init__(self, logical_id: str, bucket: str, account_id: str, partition: str = "aws") -> None:
        self.logical_resource_id = logical_id
        self.physical_resource_id = bucket
        self.bucket = bucket
        self.account_id = account_id
        self.partition = partition

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region: str) -> None:
        _moto.delete_bucket_policy(account_id, self.partition, self.bucket)


def _moto_stack(stack_id: str, region: str) -> Any:
    account = stack_id.split(":")[4] if stack_id.startswith("arn:") else sandbox_account()
    return _moto.cloudformation_stack(account, region, stack_id)


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation ``LifecycleConfiguration`` rule in the S3 API's form."""
    out: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
    if "Id" in rule:
        out["ID"] = rule["Id"]
    prefix = rule.get("Prefix")
    tags = rule.get("TagFilters")
    if tags:
        condition: dict[str, Any] = {"Tags": [{"Key": t["Key"], "Value": t["Value"]} for t in tags]}
        if prefix:
            condition["Prefix"] = prefix
        out["Filter"] = {"And": condition} if prefix or len(tags) > 1 else {"Tag": condition["Tags"][0]}
    else:
        out["Filter"] = {"Prefix": prefix or ""}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    elif "ExpirationDate" in rule:
        out["Expiration"] = {"Date": rule["ExpirationDate"]}
    elif rule.get("ExpiredObjectDeleteMarker") is not None:
        out["Expiration"] = {"ExpiredObjectDeleteMarker": bool(rule["ExpiredObjectDeleteMarker"])}
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
        if "NewerNoncurrentVersions" in noncurrent:
            out["NoncurrentVersionExpiration"]["NewerNoncurrentVersions"] = int(noncurrent["NewerNoncurrentVersions"])
    elif "NoncurrentVersionExpirationInDays" in rule:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    transitions = list(rule.get("Transitions") or [])
    if "Transition" in rule:
        transitions.append(rule["Transition"])
    if transitions:
        out["Transitions"] = [
            {k if k != "TransitionInDays" else "Days": (int(v) if k == "TransitionInDays" else v) for k, v in t.items()}
            for t in transitions
        ]
    return out


def apply_bucket_settings(s3: Any, bucket: str, properties: dict[str, Any]) -> list[str]:
    done = []
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": versioning["Status"]})
        done.append(f"{bucket}: versioning {versioning['Status']}")
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                k: bool(block.get(k, False))
                for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
            },
        )
        done.append(f"{bucket}: public access block")
    encryption = properties.get("BucketEncryption")
    if encryption:
        rules = []
        for rule in encryption.get("ServerSideEncryptionConfiguration", []):
            api_rule: dict[str, Any] = {}
            if "ServerSideEncryptionByDefault" in rule:
                api_rule["ApplyServerSideEncryptionByDefault"] = dict(rule["ServerSideEncryptionByDefault"])
            if "BucketKeyEnabled" in rule:
                api_rule["BucketKeyEnabled"] = bool(rule["BucketKeyEnabled"])
            rules.append(api_rule)
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
        done.append(f"{bucket}: encryption")
    lifecycle = properties.get("LifecycleConfiguration")
    if lifecycle:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle.get("Rules", [])]}
        )
        done.append(f"{bucket}: lifecycle ({len(lifecycle.get('Rules', []))} rules)")
    return done


def _managed_policy_arns(template: dict[str, Any] | None, resource_map: Any) -> dict[str, list[str]]:
    """Role logical id -> the managed policy ARNs its template lists (intrinsics resolved)."""
    out: dict[str, list[str]] = {}
    for logical_id, resource in ((template or {}).get("Resources") or {}).items():
        if resource.get("Type") == "AWS::IAM::Role":
            arns = (resource.get("Properties") or {}).get("ManagedPolicyArns") or []
            out[logical_id] = [str(a) for a in _moto.resolve_intrinsics(copy.deepcopy(arns), resource_map)]
    return out


def _fix_inline_policies(iam: Any, role: Any) -> list[str]:
    """moto's CloudFormation stores a role's inline ``Policies`` as Python dicts, and
    ``get_role_policy`` then answers their repr (not JSON). Put them again as JSON."""
    if role is None:
        return []
    done = []
    for name, document in list(getattr(role, "policies", {}).items()):
        if not isinstance(document, str):
            if isinstance(document, dict) and "Version" not in document:
                # IAM takes a document without a Version (SAM's policy templates make them) and reads it
                # as 2008-10-17; moto's PutRolePolicy refuses it. Stored with 2012-10-17: the statements
                # are the same, only ${aws:...} policy variables would read differently.
                document = {"Version": "2012-10-17", **document}
            iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
            done.append(f"{role.name}: inline policy {name} stored as JSON")
    return done


def _set_layers(region: str, function_name: str, resource: dict[str, Any], resource_map: Any) -> list[str]:
    """Give a function the ``Layers`` its template lists (moto's CloudFormation leaves them out)."""
    wanted = [str(a) for a in _moto.resolve_intrinsics(copy.deepcopy(resource["Properties"]["Layers"]), resource_map)]
    lam = sandbox_client("lambda", region)
    current = [layer["Arn"] for layer in lam.get_function_configuration(FunctionName=function_name).get("Layers") or []]
    if current == wanted:
        return []
    lam.update_function_configuration(FunctionName=function_name, Layers=wanted)
    return [f"{function_name}: layers {', '.join(wanted)}"]


def apply_moto_fixups(
    stack_id: str,
    template: dict[str, Any],
    *,
    region: str,
    previous_template: dict[str, Any] | None = None,
) -> list[str]:
    """Make a stack moto created from ``template`` look as CloudFormation leaves it.

    Call it after ``execute_change_set`` (or ``create_stack``/``update_stack``) has
    completed. Idempotent. Returns what it did, one line per fix.
    """
    done: list[str] = []
    stack = _moto_stack(stack_id, region)
    account = stack.account_id
    resource_map = stack.resource_map
    parsed = _moto.stack_resources(stack)  # moto's lazily filled map: read it without creating anything

    # Outputs: moto rebuilds them in create_stack/update_stack but not in execute_change_set.
    if template.get("Outputs"):
        _moto.rebuild_stack_outputs(stack, copy.deepcopy(template))
        done.append(f"outputs: {', '.join(template['Outputs'])}")
    _moto.refresh_stack_parameters(stack)

    s3 = sandbox_client("s3", region)
    iam = sandbox_client("iam", region)
    for logical_id, resource in template.get("Resources", {}).items():
        kind = resource.get("Type")
        if kind == "AWS::S3::Bucket":
            bucket = parsed.get(logical_id)
            if bucket is None:
                continue
            properties = _moto.resolve_intrinsics(copy.deepcopy(resource.get("Properties") or {}), resource_map)
            done += apply_bucket_settings(s3, bucket.physical_resource_id, properties)
        elif kind == "AWS::S3::BucketPolicy":
            properties = _moto.resolve_intrinsics(copy.deepcopy(resource.get("Properties") or {}), resource_map)
            bucket_name = properties["Bucket"]
            document = json.dumps(properties["PolicyDocument"])
            json.loads(document)  # moto accepts any text and then breaks the bucket: check it is JSON
            s3.put_bucket_policy(Bucket=bucket_name, Policy=document)
            parsed[logical_id] = AppliedBucketPolicy(logical_id, bucket_name, account)
            done.append(f"{bucket_name}: bucket policy from {logical_id}")

        elif kind == "AWS::IAM::Role":
            done += _fix_inline_policies(iam, parsed.get(logical_id))
        elif kind == "AWS::Lambda::Function" and (resource.get("Properties") or {}).get("Layers"):
            function = parsed.get(logical_id)
            if function is not None:
                done += _set_layers(region, function.physical_resource_id, resource, resource_map)

    wanted = _managed_policy_arns(template, resource_map)
    before = _managed_policy_arns(previous_template, resource_map) if previous_template else {}
    ensure_aws_managed_policies(sorted({a for arns in wanted.values() for a in arns}), account)
    for logical_id, arns in wanted.items():
        role = parsed.get(logical_id)
        if role is None:
            continue
        attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"]}
        for arn in arns:
            if arn not in attached:
                iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)
                done.append(f"{role.name}: attached {arn}")
        for arn in before.get(logical_id, []):
            if arn not in arns and arn in attached:
                iam.detach_role_policy(RoleName=role.name, PolicyArn=arn)
                done.append(f"{role.name}: detached {arn}")
    return done


def detach_stack_managed_policies(stack_name: str, *, region: str) -> list[str]:
    """Detach the managed policies a stack's template attached to its roles (before deleting it)."""
    try:
        stack = _moto_stack(stack_name, region)
    except Exception:  # noqa: BLE001 - unknown stack: CloudFormation itself will say so
        return []
    wanted = _managed_policy_arns(_moto.stack_template(stack), stack.resource_map)
    if not any(wanted.values()):
        return []
    iam = sandbox_client("iam", region)
    done = []
    for logical_id, arns in wanted.items():
        role = _moto.stack_resources(stack).get(logical_id)
        if role is None:
            continue
        attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"]}
        for arn in arns:
            if arn in attached:
                iam.detach_role_policy(RoleName=role.name, PolicyArn=arn)
                done.append(f"{role.name}: detached {arn}")
    return done
