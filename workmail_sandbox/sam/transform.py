"""The SAM transform (``AWS::Serverless-2016-10-31``), run on the client side with ``samtranslator``.

moto's CloudFormation cannot run the transform, so the kit turns a SAM template
into plain CloudFormation first, as AWS's transform does. ``samtranslator``
takes about half a second to import: it is imported on first use.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from .. import _moto
from ..errors import SandboxError
from .templates import load_template, required_capabilities_of

__all__ = ["CODE_PROPERTY", "cfn_capabilities_needed", "is_packaged", "load", "transform_template"]

#: samtranslator keeps the Region in a class attribute: one transform at a time.
_lock = threading.RLock()


def load(template: dict[str, Any] | str) -> dict[str, Any]:
    """A template as a fresh dict: parsed from text, or a deep copy of a dict."""
    if isinstance(template, str):
        return load_template(template)
    return copy.deepcopy(template)


def _aws_policy_arn(name: str, partition: str = "aws") -> str:
    """``arn:aws:iam::aws:policy/<path><name>`` for an AWS managed policy name."""
    data = _moto.bundled_aws_managed_policies().get(name) or {}
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


CODE_PROPERTY = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Lambda::Function": "Code",
    "AWS::Lambda::LayerVersion": "Content",
}


def is_packaged(kind: str, value: Any) -> bool:
    """Is a function's or layer's code property already an S3 location (not a local path)?"""
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
    sam = load(template)
    for logical_id, location in (code_locations or {}).items():
        resource = sam.get("Resources", {}).get(logical_id)
        if resource is None or resource.get("Type") not in CODE_PROPERTY:
            raise SandboxError(
                f"code_locations names {logical_id!r}, which is not a function or layer of the template.",
                fix="use the logical ids of the template's AWS::Serverless::Function resources",
            )
        kind = resource["Type"]
        properties = resource.setdefault("Properties", {})
        if kind.startswith("AWS::Serverless::"):
            properties[CODE_PROPERTY[kind]] = {"Bucket": location["Bucket"], "Key": location["Key"]}
        else:
            properties[CODE_PROPERTY[kind]] = {"S3Bucket": location["Bucket"], "S3Key": location["Key"]}
    for logical_id, resource in sam.get("Resources", {}).items():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if (
            kind in CODE_PROPERTY
            and "InlineCode" not in properties
            and "ZipFile" not in str(properties.get("Code", ""))
        ):
            if "ImageUri" in properties or (properties.get("PackageType") == "Image"):
                continue
            if not is_packaged(kind, properties.get(CODE_PROPERTY[kind])):
                raise SandboxError(
                    f"{logical_id} ({kind}) has its code at {properties.get(CODE_PROPERTY[kind])!r}, "
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
    return [c for c in required_capabilities_of(template) if c in ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")]

