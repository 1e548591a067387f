"""Helpers for lessons 01 (deploy hello world) and 02 (grant permissions).

Three small things the lessons need and the kit's public surface did not have:

* :func:`read_template` -- the text behind a Serverless Application Repository
  ``TemplateUrl``. In the sandbox the URL points at the emulated SAR and is read
  in-process (never over the network); in aws mode it is a pre-signed S3 URL and
  is fetched over HTTPS.
* :func:`resource_capabilities` -- which capability each resource of a template
  asks SAR for (``CAPABILITY_IAM``, ``CAPABILITY_RESOURCE_POLICY``, ...), using
  the kit's own counting rules (:func:`workmail_sandbox.apps.required_capabilities_of`),
  so a lesson can show *why* ``RequiredCapabilities`` holds what it holds.
* :func:`workmail_may_invoke` -- may WorkMail, acting for one organization,
  invoke a function? The organization's Region and account are read from its
  ARN (``arn:aws:workmail:<region>:<account>:organization/<id>``), as WorkMail
  knows them, and the question goes to the sandbox runtime's
  :meth:`~workmail_sandbox.runtime.Runtime.check_workmail_permission`.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .errors import ConfigurationError, SandboxError

__all__ = ["InvokeCheck", "read_template", "resource_capabilities", "workmail_may_invoke"]

_ORGANIZATION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):workmail:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"organization/(?P<id>m-[0-9a-f]{32})"
)


# --------------------------------------------------------------------------------------
# Lesson 01: the template and its capabilities
# --------------------------------------------------------------------------------------


def _sandbox_side() -> bool:
    """True when template URLs must be read from the emulated SAR (never from the network)."""
    from .emulators._core import STATE
    from .sandbox import SANDBOX, get_mode

    return STATE.active or STATE.ever_started or get_mode() == SANDBOX


def read_template(template_url: str, *, timeout: float = 30.0) -> str:
    """The template text behind a SAR ``TemplateUrl`` (``get_application()["Version"]["TemplateUrl"]``).

    Sandbox mode: read in-process from the emulated SAR; an URL the sandbox did
    not give out is a :class:`~workmail_sandbox.errors.SandboxError`, and nothing
    is fetched. aws mode: fetched over HTTPS (SAR's URLs are pre-signed S3 URLs
    that expire, so fetch it soon after ``get_application``).
    """
    if not isinstance(template_url, str) or not template_url:
        raise ConfigurationError(
            f"read_template needs the TemplateUrl string, not {template_url!r}.",
            fix='pass sar.get_application(ApplicationId=...)["Version"]["TemplateUrl"]',
        )
    if _sandbox_side():
        from .emulators._core import STATE

        if not STATE.active:
            raise SandboxError(
                "The sandbox is not running, so its Serverless Application Repository cannot be read.",
                fix="start it first (workmail_sandbox.sandbox.start()), then call get_application again",
            )
        from .emulators.serverlessrepo import read_template_url

        return read_template_url(template_url)
    if not template_url.startswith("https://"):
        raise ConfigurationError(
            f"{template_url} is not an https:// URL; SAR's TemplateUrl always is.",
            fix='pass sar.get_application(ApplicationId=...)["Version"]["TemplateUrl"] unchanged',
        )
    import urllib.request

    with urllib.request.urlopen(template_url, timeout=timeout) as answer:  # noqa: S310 - https only, checked above
        data = answer.read()
    return data.decode("utf-8")


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
    from .apps import load_template, required_capabilities_of

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
    from .apps import CAPABILITY_ORDER

    return CAPABILITY_ORDER.index(capability) if capability in CAPABILITY_ORDER else len(CAPABILITY_ORDER)


# --------------------------------------------------------------------------------------
# Lesson 02: may WorkMail invoke the function?
# --------------------------------------------------------------------------------------


class InvokeCheck(NamedTuple):
    """The answer to "may WorkMail invoke this function for this organization?"."""

    allowed: bool
    reason: str

    def __str__(self) -> str:
        return f"{'allowed' if self.allowed else 'refused'}: {self.reason}"


def workmail_may_invoke(function_arn: str, organization_arn: str) -> InvokeCheck:
    """Would Lambda let WorkMail invoke ``function_arn`` for the organization ``organization_arn``?

    Sandbox only. The organization's Region and account come from its ARN; the
    check is the one the sandbox runtime applies (same Region, same account,
    then the function's resource-based policy for
    ``workmail.<region>.amazonaws.com`` with ``aws:SourceArn`` = the organization
    ARN and ``aws:SourceAccount`` = its account).
    """
    match = _ORGANIZATION_ARN.fullmatch(organization_arn or "") if isinstance(organization_arn, str) else None
    if match is None:
        raise ConfigurationError(
            f"{organization_arn!r} is not a WorkMail organization ARN.",
            fix="use describe_organization(OrganizationId=...)['ARN'], "
            "e.g. arn:aws:workmail:us-east-1:123456789012:organization/m-<32 hex digits>",
        )
    from .sandbox import current

    sb = current()
    if sb is None or getattr(sb, "runtime", None) is None:
        raise SandboxError(
            "workmail_may_invoke asks the sandbox's Lambda runtime, and the sandbox is not running.",
            fix="start it first (lessons.setup(2) or workmail_sandbox.sandbox.start())",
        )
    allowed, reason = sb.runtime.check_workmail_permission(
        function_arn, organization_arn=organization_arn, region=match["region"], account=match["account"]
    )
    return InvokeCheck(bool(allowed), reason)
