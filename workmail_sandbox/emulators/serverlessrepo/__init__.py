"""The emulated AWS Serverless Application Repository (``serverlessrepo``).

Answers real boto3 calls in-process (see :mod:`workmail_sandbox.emulators._core`;
botocore's service id is ``serverlessapplicationrepository``)::

    sar = boto3.client("serverlessrepo", region_name="us-east-1")
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    app_id = "arn:aws:serverlessrepo:us-east-1:489970191081:applications/workmail-hello-world-python"
    version = sar.get_application(ApplicationId=app_id)["Version"]
    change = sar.create_cloud_formation_change_set(
        ApplicationId=app_id, StackName="workmail-hello-world",
        Capabilities=version["RequiredCapabilities"])
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change["ChangeSetId"])
    cfn.execute_change_set(ChangeSetName=change["ChangeSetId"])
    cfn.get_waiter("stack_create_complete").wait(StackName="serverlessrepo-workmail-hello-world")

Operations: ``ListApplications``, ``GetApplication``,
``CreateCloudFormationChangeSet``, ``CreateCloudFormationTemplate`` and
``GetCloudFormationTemplate`` -- what deploying an application takes. Publishing
(``CreateApplication``, ``CreateApplicationVersion``, ``UpdateApplication``,
``DeleteApplication``), policies, sharing and dependencies are not emulated and
fail loudly, naming the operation.

What it does, with its source (``docs/aws-behaviour.md`` §5.5 and the SAR API
reference in botocore's model):

- **Applications** are the kit's catalog (:mod:`workmail_sandbox.apps`), served
  under their real ARNs (hello world:
  ``arn:aws:serverlessrepo:us-east-1:489970191081:applications/workmail-hello-world-python``),
  so the same code deploys the public application on AWS.
- **RequiredCapabilities** are counted as SAR documents them, on the template
  after the SAM transform: IAM Group/InstanceProfile/Policy/Role ->
  ``CAPABILITY_IAM`` (``CAPABILITY_NAMED_IAM`` when a custom name is set);
  Lambda Permission, IAM Policy, S3 BucketPolicy, SQS QueuePolicy, SNS
  TopicPolicy, Application Auto Scaling ScalingPolicy ->
  ``CAPABILITY_RESOURCE_POLICY``; a nested application ->
  ``CAPABILITY_AUTO_EXPAND``. Hello world needs
  ``[CAPABILITY_IAM, CAPABILITY_RESOURCE_POLICY]``.
- **CreateCloudFormationChangeSet** refuses missing capabilities with
  ``BadRequestException: Required capabilities [CAPABILITY_IAM, CAPABILITY_RESOURCE_POLICY] were not provided.``
  (SAR's wording as seen in public reports), and values other than the four
  valid ones. It creates a real CloudFormation change set in moto (through
  boto3), on the stack ``serverlessrepo-<StackName>``: ``CREATE`` when the
  stack does not exist, ``UPDATE`` when it does. The stack is tagged
  ``serverlessrepo:applicationId`` and ``serverlessrepo:semanticVersion``.
  ``CAPABILITY_RESOURCE_POLICY`` is SAR's own and is not passed on to
  CloudFormation (its enum has only the other three).
- **After the change set is executed** (``cloudformation.execute_change_set``, by
  name or by id) the kit fills the gaps moto's CloudFormation leaves (stack
  Outputs, the bucket policy, bucket versioning/lifecycle/public access block,
  the role's managed policies; see :mod:`workmail_sandbox.deploy`). It happens
  in an ``after-call.cloudformation.ExecuteChangeSet`` hook in botocore's
  built-in handlers, only for change sets this emulator created, only while the
  sandbox is active.
- **CreateCloudFormationTemplate** answers ``Status: PREPARING``; the next
  ``GetCloudFormationTemplate`` answers ``ACTIVE``; an hour after creation
  (``STATE.clock``) it is ``EXPIRED``. ``ExpirationTime`` is creation + 1 hour.
- **The TemplateUrl** (``https://awsserverlessrepo-changesets-<13 chars>.s3.amazonaws.com/...``)
  is never fetched over the network. ``cloudformation.create_stack(TemplateURL=<it>,
  Capabilities=[...])`` works in the sandbox because a
  ``before-parameter-build.cloudformation.CreateStack`` hook replaces the URL
  with a ``TemplateBody``: the template transformed on the client side (moto
  cannot run the SAM transform). It first checks what CloudFormation checks:
  the template uses the SAM transform, so ``CAPABILITY_AUTO_EXPAND`` is
  required, and the transformed template has an IAM role, so
  ``CAPABILITY_IAM`` is required (``InsufficientCapabilitiesException:
  Requires capabilities : [...]``). An expired or still PREPARING template, or
  an unknown URL on that host, is a ``ValidationError``. ``UpdateStack`` and
  ``CreateChangeSet`` accept the URL the same way. :func:`read_template_url`
  gives the template text in-process.
- **Deleting the stack**: a ``before-parameter-build.cloudformation.DeleteStack``
  hook detaches the roles' managed policies first (moto refuses to delete a
  role that has them; CloudFormation detaches them itself).

Deviations and assumptions:

- ``ListApplications`` lists the kit's catalog. On AWS it lists only the
  applications the caller's account owns; public applications are found with
  the console's search, which has no API.
- The applications can be read and deployed from every region (AWS: public
  applications with a us-east-1 ARN can probably be deployed elsewhere,
  **UNCONFIRMED**). Only version ``SemanticVersion`` of metadata.json exists.
- The code of an application is staged in a bucket of the sandbox account,
  ``workmail-sandbox-artifacts-<account>-<region>``, visible in
  ``s3.list_buckets()``; on AWS it lives in SAR's own bucket.
- The TemplateUrl points at the packaged SAM template (untransformed) as AWS
  documents for ``Version.TemplateUrl``; whether SAR's templates are already
  transformed is **UNCONFIRMED**. The hooks transform them on the client side.
- Error messages other than the capabilities one are the kit's wording (SAR's
  are not documented); each names the offending value. Unknown applications
  are ``NotFoundException`` where botocore's model lists it (GetApplication,
  CreateCloudFormationTemplate, GetCloudFormationTemplate) and
  ``BadRequestException`` for CreateCloudFormationChangeSet, whose model lists
  no NotFoundException. ``ErrorCode`` in an error body carries the error code.
- Parameter overrides are checked against the template's parameters and their
  ``AllowedValues`` by the emulator (``BadRequestException``); on AWS an
  invalid value is refused by CloudFormation.
- A default change set name is ``awsserverlessrepo-<32 hex digits>``
  (AWS's naming is not documented).
- A successful CreateCloudFormationChangeSet / CreateCloudFormationTemplate
  reports HTTP 200 in ``ResponseMetadata`` (AWS: 201).
- ``ClientToken``, ``NotificationArns`` and ``RollbackConfiguration`` are passed
  to moto, which ignores most of them.
- moto puts an extra ``FunctionName`` key and a random ``Sid`` in the Lambda
  permission statement; moto does not update a permission whose SourceArn
  changes on a stack update (docs/moto.md §3). Not corrected.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from botocore.awsrequest import AWSResponse

from ... import _moto
from ..._gc_pause import with_paused_gc
from ..._internal_clients import sandbox_client
from ...apps import catalog
from ...errors import SandboxError
from ...sam.templates import load_template
from ...sam.transform import cfn_capabilities_needed, transform_template
from .._core import STATE, EmulatedService, ResponseBody
from ..cloudformation_fixups import apply_moto_fixups, detach_stack_managed_policies
from .models import ServerlessRepoBackend, iso
from .responses import ServerlessRepoResponses

__all__ = [
    "SERVICE",
    "ServerlessRepoBackend",
    "ServerlessRepoResponses",
    "discard_pending_fixups",
    "install_cloudformation_hooks",
    "read_template_url",
    "run_pending_fixups",
]

SERVICE = EmulatedService("serverlessapplicationrepository", ServerlessRepoBackend, ServerlessRepoResponses())

_CONTEXT_KEY = "workmail_sandbox_serverlessrepo"
_ERROR_KEY = "workmail_sandbox_serverlessrepo_error"
_OUR_URL = re.compile(r"https://awsserverlessrepo-changesets-[a-z0-9]{13}\.s3\.amazonaws\.com/.*")


# Pending fix-ups ------------------------------------------------------------------------


@with_paused_gc
def run_pending_fixups(change_set: str, region: str, *, stack_name: str | None = None) -> list[str]:
    """Fill moto's gaps for a change set this emulator created, once it has been executed.

    Runs at most once per change set; returns what was fixed (empty when there was
    nothing pending or the change set has not run).
    """
    if not STATE.active:
        return []
    backend = SERVICE.backend(STATE.account_id, region)
    found = backend.pending_for(change_set, stack_name)
    if found is None:
        return []
    change_set_id, pending = found
    cfn = sandbox_client("cloudformation", region)
    status = cfn.describe_change_set(ChangeSetName=change_set_id)
    if status.get("ExecutionStatus") != "EXECUTE_COMPLETE":
        return []
    backend.pending_change_sets.pop(change_set_id, None)
    return apply_moto_fixups(
        pending["StackId"], pending["Template"], region=region, previous_template=pending["PreviousTemplate"]
    )


def discard_pending_fixups(change_set_id: str, region: str) -> None:
    """Forget a change set that will never run (deleted, or FAILED with no changes)."""
    if STATE.active:
        SERVICE.backend(STATE.account_id, region).pending_change_sets.pop(change_set_id, None)


# Template URLs ------------------------------------------------------------------------------


def _find_template(url: str) -> dict[str, Any] | None:
    for backend in list(SERVICE.backends.values()):
        record = backend.template_for_url(url)
        if record is not None:
            return record
    return None


def read_template_url(url: str) -> str:
    """The text behind a SAR ``TemplateUrl`` of the sandbox, read in-process (never over the network)."""
    record = _find_template(url)
    if record is not None:
        return json.dumps(record["Packaged"], indent=2)
    base = url.split("?", 1)[0]
    for backend in list(SERVICE.backends.values()):
        for app in catalog().values():
            if base == backend._template_url(app, "template.yaml"):
                return app.template_text
    raise SandboxError(
        f"{url} is not a template URL the sandbox's Serverless Application Repository gave out.",
        fix="use the TemplateUrl of get_application or create_cloud_formation_template in this sandbox",
    )


def _refuse(context: dict[str, Any], code: str, message: str) -> None:
    context[_ERROR_KEY] = (code, message)


def _prepare_template_url(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """before-parameter-build.cloudformation.{CreateStack,UpdateStack,CreateChangeSet}."""
    if not STATE.active:
        return
    url = params.get("TemplateURL")
    if not isinstance(url, str) or not _OUR_URL.fullmatch(url):
        return
    region = context.get("client_region") or "us-east-1"
    record = _find_template(url)
    if record is None:
        _refuse(context, "ValidationError", f"TemplateURL {url} does not point at a template: S3 error: Access Denied.")
        return
    status = ServerlessRepoBackend.template_status(record)
    if status == "EXPIRED":
        _refuse(
            context,
            "ValidationError",
            f"TemplateURL {url} has expired (template {record['TemplateId']} expired at "
            f"{iso(record['ExpirationTime'])}, 1 hour after it was created): S3 error: Access Denied.",
        )
        return
    if status == "PREPARING":
        _refuse(
            context,
            "ValidationError",
            f"TemplateURL {url} is not ready: template {record['TemplateId']} is still PREPARING; "
            "call get_cloud_formation_template until its Status is ACTIVE.",
        )
        return
    capabilities = list(params.get("Capabilities") or [])
    if model.name != "CreateChangeSet" and "CAPABILITY_AUTO_EXPAND" not in capabilities:
        _refuse(context, "InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_AUTO_EXPAND]")
        return
    given = {
        p["ParameterKey"]: p.get("ParameterValue") for p in params.get("Parameters") or [] if "ParameterValue" in p
    }
    template = transform_template(record["Packaged"], region=region, account=STATE.account_id, parameter_values=given)
    needed = cfn_capabilities_needed(template)
    missing = [
        c
        for c in needed
        if c not in capabilities and not (c == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in capabilities)
    ]
    if missing:
        _refuse(context, "InsufficientCapabilitiesException", f"Requires capabilities : [{', '.join(missing)}]")
        return
    previous = None
    if model.name in ("UpdateStack", "CreateChangeSet"):
        cfn = sandbox_client("cloudformation", region)
        try:
            stack = cfn.describe_stacks(StackName=params["StackName"])["Stacks"][0]
            if stack["StackStatus"] != "REVIEW_IN_PROGRESS":
                previous = load_template(cfn.get_template(StackName=params["StackName"])["TemplateBody"])
        except cfn.exceptions.ClientError:
            previous = None
    del params["TemplateURL"]
    params["TemplateBody"] = json.dumps(template)
    context[_CONTEXT_KEY] = {
        "Template": template,
        "PreviousTemplate": previous,
        "StackName": params.get("StackName"),
        "ChangeSetName": params.get("ChangeSetName"),
    }


def _answer_refusal(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
    """before-call.cloudformation.*: answer a refusal prepared above, as CloudFormation would."""
    refusal = context.pop(_ERROR_KEY, None)
    if refusal is None:
        return None
    code, message = refusal
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-requestid": request_id, "content-type": "text/xml"}
    body = {
        "Error": {"Code": code, "Message": message, "Type": "Sender"},
        "ResponseMetadata": {
            "RequestId": request_id,
            "HTTPStatusCode": 400,
            "HTTPHeaders": headers,
            "RetryAttempts": 0,
        },
    }
    return AWSResponse(params.get("url", ""), 400, headers, ResponseBody(b"")), body


def _succeeded(http_response: Any, parsed: Any) -> bool:
    return getattr(http_response, "status_code", 500) < 300 and "Error" not in (parsed or {})


def _after_template_url_call(http_response: Any, parsed: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    """after-call.cloudformation.{CreateStack,UpdateStack,CreateChangeSet} for our template URLs."""
    plan = context.pop(_CONTEXT_KEY, None)
    if plan is None or not STATE.active or not _succeeded(http_response, parsed):
        return
    region = context.get("client_region") or "us-east-1"
    if model.name == "CreateChangeSet":
        backend = SERVICE.backend(STATE.account_id, region)
        backend.pending_change_sets[parsed["Id"]] = {
            "StackId": parsed["StackId"],
            "StackName": plan["StackName"],
            "ChangeSetName": plan["ChangeSetName"],
            "Template": plan["Template"],
            "PreviousTemplate": plan["PreviousTemplate"],
        }
        return
    apply_moto_fixups(parsed["StackId"], plan["Template"], region=region, previous_template=plan["PreviousTemplate"])


# Executing and deleting ---------------------------------------------------------------------


def _remember_execute(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """before-parameter-build.cloudformation.ExecuteChangeSet: keep which change set runs."""
    if STATE.active:
        context[_CONTEXT_KEY] = {"ChangeSetName": params.get("ChangeSetName"), "StackName": params.get("StackName")}


def _after_execute(http_response: Any, parsed: Any, context: dict[str, Any], **_: Any) -> None:
    """after-call.cloudformation.ExecuteChangeSet: fill moto's gaps for our change sets."""
    info = context.pop(_CONTEXT_KEY, None)
    if info is None or not STATE.active or not _succeeded(http_response, parsed):
        return
    region = context.get("client_region") or "us-east-1"
    run_pending_fixups(info["ChangeSetName"], region, stack_name=info["StackName"])


def _before_delete(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """before-parameter-build.cloudformation.DeleteStack: detach managed policies moto would trip on."""
    if not STATE.active or not params.get("StackName"):
        return
    detach_stack_managed_policies(params["StackName"], region=context.get("client_region") or "us-east-1")


_HOOKS = [
    *(
        (f"before-parameter-build.cloudformation.{op}", _prepare_template_url)
        for op in ("CreateStack", "UpdateStack", "CreateChangeSet")
    ),
    *(
        (f"before-call.cloudformation.{op}", _answer_refusal)
        for op in ("CreateStack", "UpdateStack", "CreateChangeSet")
    ),
    *(
        (f"after-call.cloudformation.{op}", _after_template_url_call)
        for op in ("CreateStack", "UpdateStack", "CreateChangeSet")
    ),
    ("before-parameter-build.cloudformation.ExecuteChangeSet", _remember_execute),
    ("after-call.cloudformation.ExecuteChangeSet", _after_execute),
    ("before-parameter-build.cloudformation.DeleteStack", _before_delete),
]


#: Resource types moto's CloudFormation skips and the kit applies itself (cloudformation_fixups).
_FILLED_IN_TYPES = ("AWS::S3::BucketPolicy",)


def install_cloudformation_hooks() -> None:
    """Add the cloudformation hooks to botocore's built-in handlers (idempotent; every new session gets them).

    Also silences moto's warnings about the resource types the kit applies itself,
    so a learner's ``execute_change_set`` cell shows no misleading "not supported".
    """
    for event, handler in _HOOKS:
        _moto.register_builtin_handler(event, handler)
    _moto.quiet_unsupported_resource_warnings(_FILLED_IN_TYPES)
