"""CreateCloudFormationChangeSet's work: a CloudFormation change set (in moto) that deploys an app.

SAR names the stack of an application deployed with ``StackName=X``
``serverlessrepo-X``; the change set holds the app's template after packaging
(:mod:`workmail_sandbox.sam.packaging`) and the SAM transform
(:mod:`workmail_sandbox.sam.transform`).
"""

from __future__ import annotations

import json
from typing import Any

from ... import _moto
from ..._gc_pause import with_paused_gc
from ..._internal_clients import sandbox_account, sandbox_client
from ...sam.packaging import cap_function_names, package_template
from ...sam.transform import load, transform_template

__all__ = ["SAR_STACK_PREFIX", "create_app_change_set"]

#: SAR names the stack of an application deployed with StackName X ``serverlessrepo-X``.
SAR_STACK_PREFIX = "serverlessrepo-"


@with_paused_gc  # the first change set imports moto's CloudFormation, hence most of moto
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
    account = sandbox_account()
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
        previous = load(cfn.get_template(StackName=stack_name)["TemplateBody"])

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



def _unchanged_change_set(arguments: dict[str, Any], region: str) -> dict[str, str]:
    """A FAILED change set for an update that changes nothing, as CloudFormation makes one.

    CloudFormation creates the change set and marks it FAILED ("The submitted
    information didn't contain changes..."); moto's CreateChangeSet answers a
    ValidationError instead when parameters are given. moto's backend does make
    the FAILED change set, so it is called directly.
    """
    change_set_id, stack_id = _moto.create_change_set(
        sandbox_account(),
        region,
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
