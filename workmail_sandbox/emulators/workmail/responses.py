"""One method per emulated WorkMail operation: parameters in, botocore's output shape out.

Before a method runs, its parameters are checked against the constraints of
botocore's own model that botocore's client-side validation leaves out
(maximum lengths and sizes, regular expression patterns, enum values); a
violation is an ``InvalidParameterException`` worded like AWS's validation
messages (``1 validation error detected: Value 'x' at 'organizationId' failed
to satisfy constraint: ...``). Patterns are matched against the whole value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import botocore.session

from .exceptions import InvalidParameterException
from .models import Entity, WorkMailBackend, paginate

__all__ = ["WorkMailResponses", "validate_parameters"]

SERVICE_NAME = "workmail"


@functools.cache
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # pragma: no cover - a Java-only construct: leave it to AWS
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _problems(shape: Any, value: Any, path: str) -> list[str]:
    """AWS-style constraint violations of ``value`` against ``shape`` (type checks are botocore's)."""
    if value is None:
        return []
    kind = shape.type_name
    out: list[str] = []
    if kind == "structure" and isinstance(value, dict):
        for key, item in value.items():
            member = shape.members.get(key)
            if member is not None:
                out += _problems(member, item, f"{path}.{_camel(key)}" if path else _camel(key))
        return out
    shown = "Value" if shape.metadata.get("sensitive") else f"Value '{value}'"
    where = f"{shown} at '{path}' failed to satisfy constraint: Member must"
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if kind == "list" and isinstance(value, list):
        if high is not None and len(value) > high:
            out.append(f"{where} have length less than or equal to {high}")
        for i, item in enumerate(value, 1):
            out += _problems(shape.member, item, f"{path}.{i}.member")
    elif kind == "string" and isinstance(value, str):
        if low is not None and len(value) < low:
            out.append(f"{where} have length greater than or equal to {low}")
        if high is not None and len(value) > high:
            out.append(f"{where} have length less than or equal to {high}")
        pattern = shape.metadata.get("pattern")
        compiled = _pattern(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            out.append(f"{where} satisfy regular expression pattern: {pattern}")
        if shape.enum and value not in shape.enum:
            out.append(f"{where} satisfy enum value set: [{', '.join(shape.enum)}]")
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if low is not None and value < low:
            out.append(f"{where} have value greater than or equal to {low}")
        if high is not None and value > high:
            out.append(f"{where} have value less than or equal to {high}")
    return out


def validate_parameters(operation_name: str, params: dict[str, Any]) -> None:
    """Raise InvalidParameterException if ``params`` break the model's constraints."""
    shape = _service_model().operation_model(operation_name).input_shape
    problems = _problems(shape, params, "") if shape is not None else []
    if problems:
        count = len(problems)
        raise InvalidParameterException(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems)
        )


def _operation(method: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Check the caller's IAM permission, then the parameters of ``method``'s operation (named after it)."""
    operation_name = "".join(part.capitalize() for part in method.__name__.split("_"))

    @functools.wraps(method)
    def checked(self: Any, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        organization_id = params.get("OrganizationId")
        backend.authorize(operation_name, organization_id if isinstance(organization_id, str) else None)
        validate_parameters(operation_name, params)
        return method(self, backend, params)

    return checked


def _present(**values: Any) -> dict[str, Any]:
    """The output members that have a value (AWS omits the others)."""
    return {k: v for k, v in values.items() if v is not None}


def _user_summary(user: Entity) -> dict[str, Any]:
    return _present(
        Id=user.id,
        Email=user.email,
        Name=user.name,
        DisplayName=user.display_name,
        State=user.state,
        UserRole=user.role,
        EnabledDate=user.enabled_date,
        DisabledDate=user.disabled_date,
        IdentityProviderUserId=user.identity_provider_user_id,
    )


def _group_summary(group: Entity) -> dict[str, Any]:
    return _present(
        Id=group.id,
        Email=group.email,
        Name=group.name,
        State=group.state,
        EnabledDate=group.enabled_date,
        DisabledDate=group.disabled_date,
    )


def _member(entity: Entity) -> dict[str, Any]:
    return _present(
        Id=entity.id,
        Name=entity.name,
        Type=entity.kind,
        State=entity.state,
        EnabledDate=entity.enabled_date,
        DisabledDate=entity.disabled_date,
    )


def _page(items: list[Any], params: dict[str, Any], scope: str) -> tuple[list[Any], dict[str, Any]]:
    page, token = paginate(items, params.get("NextToken"), params.get("MaxResults"), scope)
    return page, _present(NextToken=token)


class WorkMailResponses:
    """The emulated operations of ``workmail`` (API 2017-10-01)."""

    # Organizations -----------------------------------------------------------------

    @_operation
    def create_organization(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        org = backend.create_organization(
            alias=params["Alias"],
            client_token=params.get("ClientToken"),
            domains=params.get("Domains"),
            directory_id=params.get("DirectoryId"),
            kms_key_arn=params.get("KmsKeyArn"),
            enable_interoperability=bool(params.get("EnableInteroperability", False)),
        )
        return {"OrganizationId": org.id}

    @_operation
    def describe_organization(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        org = backend.describe_organization(params["OrganizationId"])
        return _present(
            OrganizationId=org.id,
            Alias=org.alias,
            State=org.state,
            DirectoryId=org.directory_id,
            DirectoryType=org.directory_type,
            DefaultMailDomain=org.default_domain,
            CompletedDate=org.completed_date,
            ARN=org.arn,
            InteroperabilityEnabled=org.interoperability_enabled,
        )

    @_operation
    def list_organizations(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        page, token = _page(backend.list_organizations(), params, "ListOrganizations")
        summaries = [
            _present(OrganizationId=o.id, Alias=o.alias, DefaultMailDomain=o.default_domain, State=o.state)
            for o in page
        ]
        return {"OrganizationSummaries": summaries, **token}

    @_operation
    def delete_organization(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        org = backend.delete_organization(
            params["OrganizationId"],
            delete_directory=bool(params["DeleteDirectory"]),
            client_token=params.get("ClientToken"),
            force_delete=bool(params.get("ForceDelete", False)),
        )
        return {"OrganizationId": org.id, "State": org.state}

    # Mail domains --------------------------------------------------------------------

    @_operation
    def register_mail_domain(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.register_mail_domain(params["OrganizationId"], params["DomainName"], params.get("ClientToken"))
        return {}

    @_operation
    def list_mail_domains(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        org, domains = backend.list_mail_domains(params["OrganizationId"])
        page, token = _page(domains, params, f"ListMailDomains:{org.id}")
        items = [{"DomainName": d.name, "DefaultDomain": d.name == org.default_domain} for d in page]
        return {"MailDomains": items, **token}

    @_operation
    def get_mail_domain(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        org, domain = backend.get_mail_domain(params["OrganizationId"], params["DomainName"])
        return {
            "Records": [],
            "IsTestDomain": domain.is_test,
            "IsDefault": domain.name == org.default_domain,
            "OwnershipVerificationStatus": domain.ownership_status,
            "DkimVerificationStatus": domain.dkim_status,
        }

    @_operation
    def update_default_mail_domain(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.update_default_mail_domain(params["OrganizationId"], params["DomainName"])
        return {}

    @_operation
    def deregister_mail_domain(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.deregister_mail_domain(params["OrganizationId"], params["DomainName"])
        return {}

    # Users and groups -------------------------------------------------------------------

    @_operation
    def create_user(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        user = backend.create_user(
            params["OrganizationId"],
            params["Name"],
            params["DisplayName"],
            password=params.get("Password"),
            role=params.get("Role"),
            first_name=params.get("FirstName"),
            last_name=params.get("LastName"),
            hidden_from_global_address_list=bool(params.get("HiddenFromGlobalAddressList", False)),
            identity_provider_user_id=params.get("IdentityProviderUserId"),
        )
        return {"UserId": user.id}

    @_operation
    def describe_user(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        user = backend.describe_user(params["OrganizationId"], params["UserId"])
        return _present(
            UserId=user.id,
            Name=user.name,
            Email=user.email,
            DisplayName=user.display_name,
            State=user.state,
            UserRole=user.role,
            EnabledDate=user.enabled_date,
            DisabledDate=user.disabled_date,
            MailboxProvisionedDate=user.mailbox_provisioned_date,
            MailboxDeprovisionedDate=user.mailbox_deprovisioned_date,
            FirstName=user.first_name,
            LastName=user.last_name,
            HiddenFromGlobalAddressList=user.hidden,
            IdentityProviderUserId=user.identity_provider_user_id,
        )

    @_operation
    def list_users(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        org_id = params["OrganizationId"]
        users = backend.list_users(org_id, params.get("Filters"))
        page, token = _page(users, params, f"ListUsers:{org_id}")
        return {"Users": [_user_summary(u) for u in page], **token}

    @_operation
    def create_group(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        group = backend.create_group(
            params["OrganizationId"],
            params["Name"],
            hidden_from_global_address_list=bool(params.get("HiddenFromGlobalAddressList", False)),
        )
        return {"GroupId": group.id}

    @_operation
    def describe_group(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        group = backend.describe_group(params["OrganizationId"], params["GroupId"])
        return _present(
            GroupId=group.id,
            Name=group.name,
            Email=group.email,
            State=group.state,
            EnabledDate=group.enabled_date,
            DisabledDate=group.disabled_date,
            HiddenFromGlobalAddressList=group.hidden,
        )

    @_operation
    def list_groups(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        org_id = params["OrganizationId"]
        groups = backend.list_groups(org_id, params.get("Filters"))
        page, token = _page(groups, params, f"ListGroups:{org_id}")
        return {"Groups": [_group_summary(g) for g in page], **token}

    @_operation
    def register_to_work_mail(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.register_to_workmail(params["OrganizationId"], params["EntityId"], params["Email"])
        return {}

    @_operation
    def deregister_from_work_mail(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.deregister_from_workmail(params["OrganizationId"], params["EntityId"])
        return {}

    @_operation
    def associate_member_to_group(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.associate_member_to_group(params["OrganizationId"], params["GroupId"], params["MemberId"])
        return {}

    @_operation
    def disassociate_member_from_group(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.disassociate_member_from_group(params["OrganizationId"], params["GroupId"], params["MemberId"])
        return {}

    @_operation
    def list_group_members(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        org_id, group_id = params["OrganizationId"], params["GroupId"]
        members = backend.list_group_members(org_id, group_id)
        page, token = _page(members, params, f"ListGroupMembers:{org_id}:{group_id}")
        return {"Members": [_member(m) for m in page], **token}

    @_operation
    def delete_user(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.delete_user(params["OrganizationId"], params["UserId"])
        return {}

    @_operation
    def delete_group(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.delete_group(params["OrganizationId"], params["GroupId"])
        return {}

    # Email monitoring -------------------------------------------------------------------

    @_operation
    def put_email_monitoring_configuration(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.put_email_monitoring_configuration(
            params["OrganizationId"], params["LogGroupArn"], role_arn=params.get("RoleArn")
        )
        return {}

    @_operation
    def describe_email_monitoring_configuration(
        self, backend: WorkMailBackend, params: dict[str, Any]
    ) -> dict[str, Any]:
        config = backend.describe_email_monitoring_configuration(params["OrganizationId"])
        return {"RoleArn": config.role_arn, "LogGroupArn": config.log_group_arn}

    @_operation
    def delete_email_monitoring_configuration(self, backend: WorkMailBackend, params: dict[str, Any]) -> dict[str, Any]:
        backend.delete_email_monitoring_configuration(params["OrganizationId"])
        return {}
