"""Deploying SAM apps in the sandbox: the SAM transform, moto CloudFormation, and moto's gaps.

The emulated Serverless Application Repository (``emulators/serverlessrepo``)
deploys the kit's apps the way SAR does: it creates a CloudFormation change set
on a stack named ``serverlessrepo-<StackName>``, which the caller then executes
with real boto3 ``cloudformation`` calls. moto answers those calls, but moto's
CloudFormation cannot run the SAM transform and leaves gaps (measured in
``moto-notes.md`` sections 3 and 8). This module closes them, so the learner's
boto3 code stays exactly what it would be on AWS:

* **SAM transform** -- :func:`transform_template` runs ``samtranslator`` (the
  library AWS's own transform is built on) on the client side.
* **Code** -- :func:`stage_code` uploads the app's deterministic code zip to a
  staging bucket in the sandbox account (``workmail-sandbox-artifacts-<account>-<region>``)
  and ``CodeUri`` points at it, because moto cannot update a function whose
  code is an inline zip, while S3 code updates work.
* **After a change set runs** -- :func:`apply_moto_fixups`:

  - stack ``Outputs`` (moto leaves them ``None`` after ``ExecuteChangeSet``) are
    rebuilt from the template's Outputs by moto's own output resolver;
  - ``AWS::S3::BucketPolicy`` (not supported by moto's CloudFormation) is applied
    with ``s3.put_bucket_policy`` (the document is JSON from the template, so it is
    valid) and shows up in the stack's resources;
  - a bucket's ``VersioningConfiguration``, ``LifecycleConfiguration``,
    ``PublicAccessBlockConfiguration`` and ``BucketEncryption`` are applied with
    the S3 API (moto applies only the encryption);
  - an ``AWS::IAM::Role``'s ``ManagedPolicyArns`` are attached (moto ignores
    them), after making sure the AWS managed policies exist in moto's IAM
    (the Message Flow ones through
    ``emulators.messageflow.models.ensure_managed_policies``, others from moto's
    bundled copy of AWS's policies);
  - on an update, managed policies dropped from the template are detached;
  - a role's inline ``Policies`` are stored again as JSON (moto keeps them as
    Python dicts, so ``iam.get_role_policy`` answered their repr, not a document).

* **Before a stack is deleted** -- :func:`detach_stack_managed_policies`: moto
  refuses to delete a role that still has managed policies attached, so they are
  detached first (CloudFormation does the same on AWS).

The serverlessrepo emulator calls these through botocore hooks on the
``cloudformation`` calls (see its package docstring); nothing here is needed in
a notebook. :func:`deploy_app` is the sandbox's one-call fast path for lessons.

Importing ``moto.cloudformation`` takes seconds here, and ``samtranslator`` about
half a second: both are imported only when first needed.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from typing import Any

from .errors import SandboxError

__all__ = [
    "ARTIFACT_BUCKET_PREFIX",
    "SAR_STACK_PREFIX",
    "apply_moto_fixups",
    "cfn_capabilities_needed",
    "create_app_change_set",
    "deploy_app",
    "detach_stack_managed_policies",
    "package_template",
    "stack_summary",
    "stage_code",
    "transform_template",
]

#: SAR names the stack of an application deployed with StackName X ``serverlessrepo-X``.
SAR_STACK_PREFIX = "serverlessrepo-"
#: The staging bucket for app code is ``<prefix>-<account>-<region>`` in the sandbox account.
ARTIFACT_BUCKET_PREFIX = "workmail-sandbox-artifacts"
#: The access key the kit's internal clients use; ``_core`` refuses it outside the sandbox.
_INTERNAL_ACCESS_KEY = "AKIAWORKMAILSANDBOX0"

_lock = threading.RLock()
_clients: dict[tuple[str, str], Any] = {}
_session: Any = None


# Internal boto3 clients --------------------------------------------------------------


def sandbox_client(service: str, region: str) -> Any:
    """A boto3 client for the kit's own calls into moto (fake keys: never reaches AWS)."""
    _require_sandbox(f"{service} call")
    global _session
    with _lock:
        key = (service, region)
        if key not in _clients:
            if _session is None:
                import boto3.session

                from .sandbox import share_model_loader

                _session = boto3.session.Session(
                    aws_access_key_id=_INTERNAL_ACCESS_KEY, aws_secret_access_key="workmail-sandbox", region_name=region
                )
                share_model_loader(_session)
            _clients[key] = _session.client(service, region_name=region)
        return _clients[key]


def _require_sandbox(what: str) -> None:
    from .emulators._core import STATE

    if not STATE.active:
        raise SandboxError(
            f"The sandbox is not running, so the kit will not make its {what}.",
            fix="start it first (workmail_sandbox.sandbox.start()), or use boto3 directly against AWS in aws mode",
        )


def _account() -> str:
    from .emulators._core import STATE

    return STATE.account_id


# The SAM transform ---------------------------------------------------------------------------


def _load(template: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(template, str):
        from .apps import load_template

        return load_template(template)
    return copy.deepcopy(template)


@functools.lru_cache(maxsize=1)
def _bundled_aws_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def _aws_policy_arn(name: str, partition: str = "aws") -> str:
    """``arn:aws:iam::aws:policy/<path><name>`` for an AWS managed policy name."""
    data = _bundled_aws_policies().get(name) or {}
    return f"arn:{partition}:iam::aws:policy{data.get('Path', '/')}{name}"


class _ManagedPolicyLoader:
    """What samtranslator asks for: the ARNs of the AWS managed policies a template names."""

    def __init__(self, names: set[str], partition: str) -> None:
        self.names = names
        self.partition = partition

    def load(self) -> dict[str, str]:
        return {name: _aws_policy_arn(name, self.partition) for name in sorted(self.names)}


def _named_policies(template: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        policies = (resource.get("Properties") or {}).get("Policies")
        if isinstance(policies, str):
            policies = [policies]
        for policy in policies or []:
            if isinstance(policy, str) and not policy.startswith("arn:"):
                names.add(policy)
    return names


_CODE_PROPERTY = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Lambda::Function": "Code",
    "AWS::Lambda::LayerVersion": "Content",
}


def _is_packaged(kind: str, value: Any) -> bool:
    if kind.startswith("AWS::Serverless::"):
        return isinstance(value, dict) or (isinstance(value, str) and value.startswith("s3://"))
    return isinstance(value, dict)


class _RegionOnly:
    """What samtranslator reads from its boto3 session: only ``region_name``.

    A real ``boto3.session.Session`` would load botocore's endpoint data (~0.1 s)
    on every transform; samtranslator uses nothing else of it.
    """

    def __init__(self, region_name: str) -> None:
        self.region_name = region_name


def transform_template(
    template: dict[str, Any] | str,
    *,
    region: str,
    account: str,
    code_locations: dict[str, dict[str, str]] | None = None,
    parameter_values: dict[str, Any] | None = None,
    partition: str = "aws",
) -> dict[str, Any]:
    """Turn a SAM template into plain CloudFormation, as the ``AWS::Serverless`` transform does.

    ``code_locations`` maps a function's (or layer's) logical id to where its code
    is, ``{"Bucket": ..., "Key": ...}``; it replaces a local ``CodeUri: src/``.
    Every function's code must end up in S3 (or be ``InlineCode``). A template
    without the transform is returned as it is (with the code locations applied).
    """
    sam = _load(template)
    for logical_id, location in (code_locations or {}).items():
        resource = sam.get("Resources", {}).get(logical_id)
        if resource is None or resource.get("Type") not in _CODE_PROPERTY:
            raise SandboxError(
                f"code_locations names {logical_id!r}, which is not a function or layer of the template.",
                fix="use the logical ids of the template's AWS::Serverless::Function resources",
            )
        kind = resource["Type"]
        properties = resource.setdefault("Properties", {})
        if kind.startswith("AWS::Serverless::"):
            properties[_CODE_PROPERTY[kind]] = {"Bucket": location["Bucket"], "Key": location["Key"]}
        else:
            properties[_CODE_PROPERTY[kind]] = {"S3Bucket": location["Bucket"], "S3Key": location["Key"]}
    for logical_id, resource in sam.get("Resources", {}).items():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if (
            kind in _CODE_PROPERTY
            and "InlineCode" not in properties
            and "ZipFile" not in str(properties.get("Code", ""))
        ):
            if "ImageUri" in properties or (properties.get("PackageType") == "Image"):
                continue
            if not _is_packaged(kind, properties.get(_CODE_PROPERTY[kind])):
                raise SandboxError(
                    f"{logical_id} ({kind}) has its code at {properties.get(_CODE_PROPERTY[kind])!r}, "
                    "a local path CloudFormation cannot read.",
                    fix=f"pass code_locations={{{logical_id!r}: {{'Bucket': ..., 'Key': ...}}}} (see stage_code)",
                )
    transforms = sam.get("Transform")
    transforms = [transforms] if isinstance(transforms, str) else list(transforms or [])
    if not any(str(t).startswith("AWS::Serverless") for t in transforms):
        return sam

    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.transform import to_py27_compatible_template, undo_mark_unicode_str_in_template
    from samtranslator.translator.translator import Translator

    parameters = dict(parameter_values or {})
    parameters.update({"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": partition})
    loader = _ManagedPolicyLoader(_named_policies(sam), partition)
    with _lock:
        previous = ArnGenerator.BOTO_SESSION_REGION_NAME
        try:
            # samtranslator.translator.transform.transform() without its region lookup:
            # the region comes from the argument, not from AWS_DEFAULT_REGION.
            to_py27_compatible_template(sam, parameters)
            metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
            translator = Translator(None, Parser(), boto_session=_RegionOnly(region), metrics=metrics)
            result = undo_mark_unicode_str_in_template(
                translator.translate(sam, parameter_values=parameters, get_managed_policy_map=loader.load)
            )
            metrics.publish()  # to the dummy publisher: otherwise samtranslator logs "unpublished metrics"
        except Exception as error:  # samtranslator's InvalidDocumentException and friends
            raise SandboxError(
                f"The SAM transform refused the template: {error}",
                fix="fix the template as the message says (sam validate reports the same problems)",
            ) from error
        finally:
            ArnGenerator.BOTO_SESSION_REGION_NAME = previous
    return result


def cfn_capabilities_needed(template: dict[str, Any]) -> list[str]:
    """The capabilities CloudFormation asks for (``CAPABILITY_IAM`` / ``_NAMED_IAM``) on ``template``."""
    from .apps import required_capabilities_of

    return [c for c in required_capabilities_of(template) if c in ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")]


# Code staging ---------------------------------------------------------------------------------


def artifact_bucket(account: str, region: str) -> str:
    return f"{ARTIFACT_BUCKET_PREFIX}-{account}-{region}"


def stage_code(app: Any, *, region: str, account: str | None = None) -> dict[str, str]:
    """Upload ``app``'s code zip to the sandbox's staging bucket; return ``{"Bucket", "Key"}``."""
    account = account or _account()
    s3 = sandbox_client("s3", region)
    bucket = artifact_bucket(account, region)
    body = app.code_zip()
    import hashlib

    key = f"{app.name}/{app.version}/{hashlib.sha256(body).hexdigest()[:32]}.zip"
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:  # noqa: BLE001 - any "not there" answer
        arguments: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**arguments)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return {"Bucket": bucket, "Key": key}


def package_template(app: Any, *, region: str, account: str | None = None) -> dict[str, Any]:
    """The app's SAM template with its code staged in S3 (what ``sam package`` makes)."""
    location = stage_code(app, region=region, account=account)
    sam = app.template()
    for resource in sam.get("Resources", {}).values():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if kind in _CODE_PROPERTY and not _is_packaged(kind, properties.get(_CODE_PROPERTY[kind])):
            if kind.startswith("AWS::Serverless::"):
                properties[_CODE_PROPERTY[kind]] = dict(location)
            else:
                properties[_CODE_PROPERTY[kind]] = {"S3Bucket": location["Bucket"], "S3Key": location["Key"]}
    return sam


# Change sets -----------------------------------------------------------------------------------


def create_app_change_set(
    app: Any,
    *,
    stack_name: str,
    region: str,
    capabilities: list[str],
    parameters: dict[str, str] | None = None,
    change_set_name: str,
    tags: list[dict[str, str]] | None = None,
    description: str | None = None,
    notification_arns: list[str] | None = None,
    rollback_configuration: dict[str, Any] | None = None,
    resource_types: list[str] | None = None,
    packaged_template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create a CloudFormation change set (through boto3, in moto) that deploys ``app``.

    CREATE when no stack ``stack_name`` exists, else UPDATE. Returns ``ChangeSetId``,
    ``StackId``, ``ChangeSetType``, the transformed ``Template`` and, for an
    update, the ``PreviousTemplate``: what :func:`apply_moto_fixups` needs later.
    """
    account = _account()
    cfn = sandbox_client("cloudformation", region)
    sam = packaged_template if packaged_template is not None else package_template(app, region=region, account=account)
    template = transform_template(sam, region=region, account=account, parameter_values=parameters)

    change_set_type, previous = "CREATE", None
    try:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cfn.exceptions.ClientError:
        stack = None
    if stack is not None and stack["StackStatus"] != "REVIEW_IN_PROGRESS":
        change_set_type = "UPDATE"
        previous = _load(cfn.get_template(StackName=stack_name)["TemplateBody"])

    cap_function_names(template, stack_name, previous)
    arguments: dict[str, Any] = {
        "StackName": stack_name,
        "ChangeSetName": change_set_name,
        "ChangeSetType": change_set_type,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        "Capabilities": [
            c for c in capabilities if c in ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")
        ],
    }
    if tags:
        arguments["Tags"] = tags
    if description:
        arguments["Description"] = description
    if notification_arns:
        arguments["NotificationARNs"] = notification_arns
    if rollback_configuration:
        arguments["RollbackConfiguration"] = rollback_configuration
    if resource_types:
        arguments["ResourceTypes"] = resource_types
    try:
        answer = cfn.create_change_set(**arguments)
    except cfn.exceptions.ClientError as error:
        if "No updates are to be performed" not in str(error):
            raise
        answer = _unchanged_change_set(arguments, region)
    return {
        "ChangeSetId": answer["Id"],
        "StackId": answer["StackId"],
        "ChangeSetType": change_set_type,
        "Template": template,
        "PreviousTemplate": previous,
    }


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
    import uuid

    suffix = uuid.uuid4().hex[:NAME_SUFFIX_LENGTH]
    stack_part, logical_part = stack_name, logical_id
    if len(stack_part) + len(logical_part) + len(suffix) + 2 > limit:
        stack_part = stack_name[:25]
        logical_part = logical_id[: limit - len(stack_part) - len(suffix) - 2]
    name = f"{stack_part}-{logical_part}-{suffix if lower else suffix.upper()}"
    return name.lower() if lower else name


def _unchanged_change_set(arguments: dict[str, Any], region: str) -> dict[str, str]:
    """A FAILED change set for an update that changes nothing, as CloudFormation makes one.

    CloudFormation creates the change set and marks it FAILED ("The submitted
    information didn't contain changes..."); moto's CreateChangeSet answers a
    ValidationError instead when parameters are given. moto's backend does make
    the FAILED change set, so it is called directly.
    """
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[_account()][region]
    change_set_id, stack_id = backend.create_change_set(
        stack_name=arguments["StackName"],
        change_set_name=arguments["ChangeSetName"],
        template=arguments["TemplateBody"],
        parameters={p["ParameterKey"]: p["ParameterValue"] for p in arguments["Parameters"]},
        description=arguments.get("Description"),
        change_set_type=arguments["ChangeSetType"],
        notification_arns=arguments.get("NotificationARNs"),
        tags={t["Key"]: t["Value"] for t in arguments.get("Tags") or []},
    )
    return {"Id": change_set_id, "StackId": stack_id}


# Filling moto's gaps ----------------------------------------------------------------------------


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
        from moto.s3.models import s3_backends

        backend = s3_backends[account_id][self.partition]
        if self.bucket in backend.buckets:
            backend.delete_bucket_policy(self.bucket)


def _moto_stack(stack_id: str, region: str) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    account = stack_id.split(":")[4] if stack_id.startswith("arn:") else _account()
    return cloudformation_backends[account][region].get_stack(stack_id)


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


def _apply_bucket_settings(s3: Any, bucket: str, properties: dict[str, Any]) -> list[str]:
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


def ensure_aws_managed_policies(arns: list[str], account: str, partition: str = "aws") -> None:
    """Make AWS managed policies exist in moto's IAM, as ``load_aws_managed_policies`` would."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[account][partition]
    missing = [arn for arn in arns if arn.split(":")[4] == "aws" and arn not in backend.managed_policies]
    if not missing:
        return
    if any("AmazonWorkMailMessageFlow" in arn for arn in missing):
        try:
            from .emulators.messageflow.models import ensure_managed_policies
        except ImportError:  # pragma: no cover - the messageflow emulator ships with the kit
            pass
        else:
            ensure_managed_policies(account, partition)
    bundled = _bundled_aws_policies()
    for arn in missing:
        if arn in backend.managed_policies:
            continue
        name = arn.rsplit("/", 1)[-1]
        if name in bundled:
            policy = AWSManagedPolicy.from_data(name, account, "us-east-1", bundled[name])
            backend.aws_managed_policies.append(policy)
            backend.managed_policies[policy.arn] = policy


def _managed_policy_arns(template: dict[str, Any] | None, resource_map: Any) -> dict[str, list[str]]:
    """Role logical id -> the managed policy ARNs its template lists (intrinsics resolved)."""
    from moto.cloudformation.parsing import clean_json

    out: dict[str, list[str]] = {}
    for logical_id, resource in ((template or {}).get("Resources") or {}).items():
        if resource.get("Type") == "AWS::IAM::Role":
            arns = (resource.get("Properties") or {}).get("ManagedPolicyArns") or []
            out[logical_id] = [str(a) for a in clean_json(copy.deepcopy(arns), resource_map)]
    return out


def _fix_inline_policies(iam: Any, role: Any) -> list[str]:
    """moto's CloudFormation stores a role's inline ``Policies`` as Python dicts, and
    ``get_role_policy`` then answers their repr (not JSON). Put them again as JSON."""
    if role is None:
        return []
    done = []
    for name, document in list(getattr(role, "policies", {}).items()):
        if not isinstance(document, str):
            iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
            done.append(f"{role.name}: inline policy {name} stored as JSON")
    return done


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
    from moto.cloudformation.parsing import clean_json

    done: list[str] = []
    stack = _moto_stack(stack_id, region)
    account = stack.account_id
    resource_map = stack.resource_map
    parsed = resource_map._parsed_resources  # moto's lazily filled map: read it without creating anything

    # Outputs: moto rebuilds them in create_stack/update_stack but not in execute_change_set.
    if template.get("Outputs"):
        # moto's own parse of the stack's JSON goes through the pure-Python YAML loader (~0.1 s):
        # the template is at hand, and stack.template is json.dumps of it.
        stack.template_dict = copy.deepcopy(template)
        stack.output_map = stack._create_output_map()
        done.append(f"outputs: {', '.join(template['Outputs'])}")
    stack.parameters = dict(resource_map.input_parameters or {})

    s3 = sandbox_client("s3", region)
    iam = sandbox_client("iam", region)
    for logical_id, resource in template.get("Resources", {}).items():
        kind = resource.get("Type")
        if kind == "AWS::S3::Bucket":
            bucket = parsed.get(logical_id)
            if bucket is None:
                continue
            properties = clean_json(copy.deepcopy(resource.get("Properties") or {}), resource_map)
            done += _apply_bucket_settings(s3, bucket.physical_resource_id, properties)
        elif kind == "AWS::S3::BucketPolicy":
            properties = clean_json(copy.deepcopy(resource.get("Properties") or {}), resource_map)
            bucket_name = properties["Bucket"]
            document = json.dumps(properties["PolicyDocument"])
            json.loads(document)  # moto accepts any text and then breaks the bucket: check it is JSON
            s3.put_bucket_policy(Bucket=bucket_name, Policy=document)
            parsed[logical_id] = AppliedBucketPolicy(logical_id, bucket_name, account)
            done.append(f"{bucket_name}: bucket policy from {logical_id}")

        elif kind == "AWS::IAM::Role":
            done += _fix_inline_policies(iam, parsed.get(logical_id))

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
    stack._parse_template()
    wanted = _managed_policy_arns(stack.template_dict, stack.resource_map)
    if not any(wanted.values()):
        return []
    iam = sandbox_client("iam", region)
    done = []
    for logical_id, arns in wanted.items():
        role = stack.resource_map._parsed_resources.get(logical_id)
        if role is None:
            continue
        attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"]}
        for arn in arns:
            if arn in attached:
                iam.detach_role_policy(RoleName=role.name, PolicyArn=arn)
                done.append(f"{role.name}: detached {arn}")
    return done


# The lessons' fast path ----------------------------------------------------------------------------


def stack_summary(stack_name: str, *, cloudformation: Any) -> dict[str, Any]:
    """Outputs and the main physical resources of a deployed stack, from CloudFormation's answers."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    resources = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    by_type: dict[str, list[str]] = {}
    for resource in resources:
        by_type.setdefault(resource.get("ResourceType", ""), []).append(resource.get("PhysicalResourceId", ""))
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    function_names = by_type.get("AWS::Lambda::Function", [])
    role_names = by_type.get("AWS::IAM::Role", [])
    buckets = by_type.get("AWS::S3::Bucket", [])
    summary: dict[str, Any] = {
        "StackName": stack["StackName"],
        "StackId": stack["StackId"],
        "StackStatus": stack["StackStatus"],
        "Outputs": outputs,
        "FunctionName": function_names[0] if function_names else None,
        "RoleName": role_names[0] if role_names else None,
        "BucketName": buckets[0] if buckets else None,
    }
    arn_prefix = stack["StackId"].split(":")
    partition, region, account = arn_prefix[1], arn_prefix[3], arn_prefix[4]
    if summary["FunctionName"]:
        summary["FunctionArn"] = f"arn:{partition}:lambda:{region}:{account}:function:{summary['FunctionName']}"
    if summary["RoleName"]:
        summary["RoleArn"] = f"arn:{partition}:iam::{account}:role/{summary['RoleName']}"
    return summary


def deploy_app(
    name: str = "hello_world",
    stack_name: str = "workmail-hello-world",
    parameters: dict[str, str] | None = None,
    region: str | None = None,
    session: Any = None,
) -> dict[str, Any]:
    """Deploy one of the kit's apps through the (emulated) SAR, with real boto3 calls. Sandbox only.

    The same steps a learner types: ``serverlessrepo.get_application``,
    ``create_cloud_formation_change_set`` with the app's required capabilities,
    the ``change_set_create_complete`` waiter, ``execute_change_set`` and the
    ``stack_create_complete`` (or ``stack_update_complete``) waiter on
    ``serverlessrepo-<stack_name>``. Deploying again updates the stack; with
    nothing changed it leaves the stack as it is.

    Returns the stack's ``Outputs`` (a dict) and ``StackName``, ``StackId``,
    ``FunctionName``, ``FunctionArn``, ``RoleName``, ``RoleArn``, ``BucketName``,
    ``ApplicationId`` and ``SemanticVersion``.
    """
    _require_sandbox("deployment (deploy_app is the sandbox's fast path; on AWS use the boto3 steps)")
    from .apps import get_app

    app = get_app(name)
    if session is None:
        import boto3

        session = boto3._get_default_session()
    region = region or session.region_name or "us-east-1"
    sar = session.client("serverlessrepo", region_name=region)
    cfn = session.client("cloudformation", region_name=region)

    version = sar.get_application(ApplicationId=app.application_id)["Version"]
    overrides = [{"Name": k, "Value": str(v)} for k, v in (parameters or {}).items()]
    change = sar.create_cloud_formation_change_set(
        ApplicationId=app.application_id,
        SemanticVersion=version["SemanticVersion"],
        StackName=stack_name,
        Capabilities=version["RequiredCapabilities"],
        ParameterOverrides=overrides,
    )
    full_name = SAR_STACK_PREFIX + stack_name
    fast = {"Delay": 1, "MaxAttempts": 60}
    stack_existed = cfn.describe_stacks(StackName=full_name)["Stacks"][0]["StackStatus"] != "REVIEW_IN_PROGRESS"
    description = cfn.describe_change_set(ChangeSetName=change["ChangeSetId"])
    if description["Status"] == "FAILED" and "didn't contain changes" in description.get("StatusReason", ""):
        cfn.delete_change_set(ChangeSetName=change["ChangeSetId"])  # nothing to do: the stack stays as it is
        from .emulators.serverlessrepo import discard_pending_fixups

        discard_pending_fixups(change["ChangeSetId"], region)
    else:
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change["ChangeSetId"], WaiterConfig=fast)
        cfn.execute_change_set(ChangeSetName=change["ChangeSetId"])
        from .emulators.serverlessrepo import run_pending_fixups

        run_pending_fixups(change["ChangeSetId"], region)  # no-op when the kit's hook already did it
        waiter = "stack_update_complete" if stack_existed else "stack_create_complete"
        cfn.get_waiter(waiter).wait(StackName=full_name, WaiterConfig=fast)
    summary = stack_summary(full_name, cloudformation=cfn)
    summary["ApplicationId"] = app.application_id
    summary["SemanticVersion"] = change["SemanticVersion"]
    return summary
