"""What ``sam package`` does, in the sandbox: code to a staging bucket, and CloudFormation's generated names.

moto cannot update a function whose code is an inline zip, while S3 code
updates work, so the kit stages each app's deterministic code zip in a bucket
of the sandbox account (``workmail-sandbox-artifacts-<account>-<region>``) and
points ``CodeUri`` at it.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from .._internal_clients import sandbox_account, sandbox_client
from .transform import CODE_PROPERTY, is_packaged

__all__ = [
    "ARTIFACT_BUCKET_PREFIX",
    "MAX_FUNCTION_NAME",
    "NAME_SUFFIX_LENGTH",
    "artifact_bucket",
    "cap_function_names",
    "generated_name",
    "package_template",
    "stage_code",
    "stage_zip",
]

#: The staging bucket for app code is ``<prefix>-<account>-<region>`` in the sandbox account.
ARTIFACT_BUCKET_PREFIX = "workmail-sandbox-artifacts"

# Code staging ---------------------------------------------------------------------------------


def artifact_bucket(account: str, region: str) -> str:
    return f"{ARTIFACT_BUCKET_PREFIX}-{account}-{region}"


def stage_zip(body: bytes, key_prefix: str, *, region: str, account: str | None = None) -> dict[str, str]:
    """Upload a code zip to the sandbox's staging bucket (``<prefix>/<sha256>.zip``); ``{"Bucket", "Key"}``."""
    account = account or sandbox_account()
    s3 = sandbox_client("s3", region)
    bucket = artifact_bucket(account, region)
    key = f"{key_prefix}/{hashlib.sha256(body).hexdigest()[:32]}.zip"
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:  # noqa: BLE001 - any "not there" answer
        arguments: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**arguments)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return {"Bucket": bucket, "Key": key}


def stage_code(app: Any, *, region: str, account: str | None = None) -> dict[str, str]:
    """Upload ``app``'s code zip to the sandbox's staging bucket; return ``{"Bucket", "Key"}``."""
    return stage_zip(app.code_zip(), f"{app.name}/{app.version}", region=region, account=account)


def package_template(app: Any, *, region: str, account: str | None = None) -> dict[str, Any]:
    """The app's SAM template with its code staged in S3 (what ``sam package`` makes)."""
    location = stage_code(app, region=region, account=account)
    sam = app.template()
    for resource in sam.get("Resources", {}).values():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if kind in CODE_PROPERTY and not is_packaged(kind, properties.get(CODE_PROPERTY[kind])):
            if kind.startswith("AWS::Serverless::"):
                properties[CODE_PROPERTY[kind]] = dict(location)
            else:
                properties[CODE_PROPERTY[kind]] = {"S3Bucket": location["Bucket"], "S3Key": location["Key"]}
    return sam


MAX_FUNCTION_NAME = 64


def cap_function_names(template: dict[str, Any], stack_name: str, previous: dict[str, Any] | None = None) -> None:
    """Give functions the short generated names CloudFormation gives them.

    Lambda names are at most 64 characters. CloudFormation shortens the name it
    generates (``<stack>-<logical id>-<suffix>``) to fit; moto does not, and
    ``serverlessrepo-workmail-hello-world-WorkMailHelloWorldFunction-XXXXXXXXXXXX``
    (75 characters) could then not be used in a Run Lambda rule. Functions
    without a ``FunctionName`` whose generated name would be too long get one
    shortened the same way (kept across updates). Deviation: the name shows in
    the stack's template as a property.
    """
    old_resources = (previous or {}).get("Resources", {})
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        properties = resource.setdefault("Properties", {})
        if "FunctionName" in properties:
            continue
        kept = (old_resources.get(logical_id, {}).get("Properties") or {}).get("FunctionName")
        if kept:
            properties["FunctionName"] = kept
            continue
        if len(stack_name) + len(logical_id) + NAME_SUFFIX_LENGTH + 2 <= MAX_FUNCTION_NAME:
            continue
        properties["FunctionName"] = generated_name(stack_name, logical_id, MAX_FUNCTION_NAME)


#: The random suffix CloudFormation appends to the names it generates.
NAME_SUFFIX_LENGTH = 12


def generated_name(stack_name: str, logical_id: str, limit: int, *, lower: bool = False) -> str:
    """``<stack>-<logical id>-<suffix>``, shortened to ``limit`` as CloudFormation does.

    ``lower`` for S3 buckets, whose names are lower case; other names get an upper-case suffix.
    """
    suffix = uuid.uuid4().hex[:NAME_SUFFIX_LENGTH]
    stack_part, logical_part = stack_name, logical_id
    if len(stack_part) + len(logical_part) + len(suffix) + 2 > limit:
        stack_part = stack_name[:25]
        logical_part = logical_id[: limit - len(stack_part) - len(suffix) - 2]
    name = f"{stack_part}-{logical_part}-{suffix if lower else suffix.upper()}"
    return name.lower() if lower else name
