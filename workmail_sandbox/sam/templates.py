"""Reading CloudFormation and SAM templates, and the capabilities they need.

:func:`load_template` reads JSON or YAML with CloudFormation's short forms
(``!Ref``, ``!Sub``, ``!GetAtt``...); :func:`required_capabilities_of` and
:func:`resource_capabilities` count the capabilities the Serverless Application
Repository asks for (SAR API reference, "Capabilities").
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import ConfigurationError, SandboxError

__all__ = ["CAPABILITY_ORDER", "load_template", "references", "required_capabilities_of", "resource_capabilities"]

#: The order SAR lists capabilities in (and the only values it accepts).
CAPABILITY_ORDER = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_RESOURCE_POLICY", "CAPABILITY_AUTO_EXPAND")

#: Resources that need CAPABILITY_IAM, or CAPABILITY_NAMED_IAM when given a custom name
#: (the property that names them). From the SAR API reference (Capabilities).
_IAM_RESOURCES = {
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::Policy": None,  # PolicyName is required, so it is not a "custom" name
    "AWS::IAM::Role": "RoleName",
}
#: Resources that need CAPABILITY_RESOURCE_POLICY (SAR API reference, Capabilities).
_RESOURCE_POLICY_RESOURCES = frozenset(
    {
        "AWS::Lambda::Permission",
        "AWS::IAM::Policy",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
    }
)


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # base chosen at run time
    """A safe YAML loader that reads CloudFormation's short forms (!Ref, !Sub, !GetAtt...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if suffix == "GetAtt" and isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node).split(".", 1)
    elif isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)  # YAML has no other kind of node
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(text: str) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (JSON or YAML with short-form intrinsics)."""
    template = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise SandboxError(
            "The template has no Resources section.",
            fix="give a CloudFormation or SAM template (a mapping with a Resources mapping)",
        )
    return template


def required_capabilities_of(template: dict[str, Any]) -> list[str]:
    """The capabilities SAR requires to deploy ``template``, in SAR's order.

    ``template`` is a CloudFormation template, normally *after* the SAM transform,
    so the roles and permissions SAM generates count (a function with ``Policies``
    gets a role). ``AWS::Serverless::Application`` (a nested application) is looked
    for too, because the transform turns it into a plain nested stack.
    """
    needed: set[str] = set()
    for resource in template.get("Resources", {}).values():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if kind in _IAM_RESOURCES:
            name_property = _IAM_RESOURCES[kind]
            needed.add("CAPABILITY_NAMED_IAM" if name_property and name_property in properties else "CAPABILITY_IAM")
        if kind in _RESOURCE_POLICY_RESOURCES:
            needed.add("CAPABILITY_RESOURCE_POLICY")
        if kind == "AWS::Serverless::Application":
            needed.add("CAPABILITY_AUTO_EXPAND")
    if "CAPABILITY_NAMED_IAM" in needed:
        needed.discard("CAPABILITY_IAM")
    return [c for c in CAPABILITY_ORDER if c in needed]


def references(value: Any) -> set[str]:
    """Names a template fragment refers to with ``Ref`` or ``Fn::Sub``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                if isinstance(text, str):
                    found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
                if isinstance(inner, list) and len(inner) > 1:
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def resource_capabilities(template: str | dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """``(logical id, resource type, capabilities it asks for)`` for each resource, in template order.

    ``template`` is the template text (YAML or JSON) or an already parsed dict.
    The rules are SAR's (see the SAR developer guide, "Application capabilities"):
    IAM roles, policies, groups and instance profiles need ``CAPABILITY_IAM``
    (``CAPABILITY_NAMED_IAM`` with a custom name); Lambda permissions, bucket,
    queue and topic policies, IAM policies and scaling policies need
    ``CAPABILITY_RESOURCE_POLICY``; nested applications ``CAPABILITY_AUTO_EXPAND``.
    SAR counts on the template *after* the SAM transform, so an
    ``AWS::Serverless::Function`` without ``Role`` is listed with
    ``CAPABILITY_IAM`` (the transform creates a role for it); other resources
    the transform may add (permissions for event sources) are not listed.
    """
    parsed = load_template(template) if isinstance(template, str) else template
    resources = parsed.get("Resources") if isinstance(parsed, dict) else None
    if not isinstance(resources, dict):
        raise ConfigurationError(
            "The template has no Resources section.",
            fix="pass the template text read_template() returned, or a dict with a Resources mapping",
        )
    rows = []
    for logical_id, resource in resources.items():
        kind = str((resource or {}).get("Type", ""))
        needs = required_capabilities_of({"Resources": {logical_id: resource or {}}})
        if kind == "AWS::Serverless::Function" and "Role" not in ((resource or {}).get("Properties") or {}):
            needs = sorted(set(needs) | {"CAPABILITY_IAM"}, key=_capability_order)
        rows.append((logical_id, kind, needs))
    return rows


def _capability_order(capability: str) -> int:
    return CAPABILITY_ORDER.index(capability) if capability in CAPABILITY_ORDER else len(CAPABILITY_ORDER)
