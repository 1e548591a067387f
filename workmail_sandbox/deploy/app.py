"""Deploy one of the kit's apps through the (emulated) Serverless Application Repository, in one call.

:func:`deploy_app` takes the steps a learner types in lesson 01 (``get_application``,
``create_cloud_formation_change_set``, the waiters, ``execute_change_set``), with
real boto3 calls into the sandbox; :func:`stack_summary` reads back what the
stack made. Sandbox only: on AWS, use the boto3 steps themselves.
"""

from __future__ import annotations

from typing import Any

from .._gc_pause import with_paused_gc
from .._internal_clients import require_sandbox
from ..apps import get_app
from ..emulators.serverlessrepo import discard_pending_fixups, run_pending_fixups
from ..emulators.serverlessrepo.changesets import SAR_STACK_PREFIX

__all__ = ["deploy_app", "stack_summary"]


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


@with_paused_gc  # the first deployment imports moto's CloudFormation, hence most of moto
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
    require_sandbox("deployment (deploy_app is the sandbox's fast path; on AWS use the boto3 steps)")
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
        discard_pending_fixups(change["ChangeSetId"], region)
    else:
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change["ChangeSetId"], WaiterConfig=fast)
        cfn.execute_change_set(ChangeSetName=change["ChangeSetId"])
        run_pending_fixups(change["ChangeSetId"], region)  # no-op when the kit's hook already did it
        waiter = "stack_update_complete" if stack_existed else "stack_create_complete"
        cfn.get_waiter(waiter).wait(StackName=full_name, WaiterConfig=fast)
    summary = stack_summary(full_name, cloudformation=cfn)
    summary["ApplicationId"] = app.application_id
    summary["SemanticVersion"] = change["SemanticVersion"]
    return summary
