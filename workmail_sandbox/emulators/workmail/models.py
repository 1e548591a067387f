"""State and rules of the emulated WorkMail organizations (no HTTP here).

One :class:`WorkMailBackend` per (account, region) holds that region's
organizations; each :class:`Organization` holds its mail domains, its users and
groups (:class:`Entity`) and its email monitoring configuration. Everything is
plain data, so the framework can deep-copy a backend for snapshot/restore.

Methods named after a boto3 operation implement that operation's rules and
raise the AWS errors; the methods under "Sandbox-only helpers" are for the
kit's flow engine and lessons (AWS has no such operations).

One concept: the backend of one emulated service, in moto's ``models.py``
shape (its small data classes, then one backend class whose methods are the
service's operations). Splitting the operations over several files would hide
the service's rules from each other (an organization's domains, users and
groups are checked against each other), so it stays one file, as moto keeps
each service's ``models.py``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ... import _moto
from ...errors import SandboxError
from ...invocation import current_invocation
from ...permissions import workmail_role_decision
from ...workmail_service import organization_arn
from .. import _core
from .exceptions import (
    AccessDeniedException,
    DirectoryInUseException,
    DirectoryUnavailableException,
    EmailAddressInUseException,
    EntityAlreadyRegisteredException,
    EntityNotFoundException,
    EntityStateException,
    InvalidParameterException,
    InvalidPasswordException,
    MailDomainInUseException,
    MailDomainNotFoundException,
    NameAvailabilityException,
    OrganizationNotFoundException,
    OrganizationStateException,
    ResourceNotFoundException,
)

__all__ = [
    "ACTIVE",
    "DELETED",
    "DISABLED",
    "ENABLED",
    "GROUP",
    "TEST_DOMAIN_SUFFIX",
    "USER",
    "WORKMAIL_DIRECTORY_TYPE",
    "Entity",
    "MailDomain",
    "MonitoringConfiguration",
    "Organization",
    "WorkMailBackend",
    "paginate",
    "service_linked_role_arn",
]

#: Organization states (DescribeOrganization ``State``).
ACTIVE = "Active"
DELETED = "Deleted"
#: Entity states (the model's ``EntityState`` enum, minus DELETED: deleted entities are removed).
ENABLED = "ENABLED"
DISABLED = "DISABLED"
#: Member types (the model's ``MemberType`` enum).
USER = "USER"
GROUP = "GROUP"

#: Every organization gets the test domain ``<alias>.awsapps.com``.
TEST_DOMAIN_SUFFIX = "awsapps.com"
#: DescribeOrganization ``DirectoryType`` of the directory WorkMail creates itself
#: (the value in the AWS CLI reference's describe-organization example).
WORKMAIL_DIRECTORY_TYPE = "VpcDirectory"
#: Page size when MaxResults is not given (the model's maximum).
DEFAULT_PAGE_SIZE = 100

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_TLD = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]|[a-z]{2,}")
_LOG_GROUP_ARN = re.compile(
    r"arn:aws:logs:(?P<region>[a-z0-9-]*):(?P<account>[0-9]{12}):log-group:(?P<name>[.\-_/#A-Za-z0-9]+):\*"
)
_PASSWORD_CLASSES = (re.compile(r"[A-Z]"), re.compile(r"[a-z]"), re.compile(r"[0-9]"), re.compile(r"[^A-Za-z0-9]"))


def service_linked_role_arn(account_id: str) -> str:
    """The role email monitoring uses when PutEmailMonitoringConfiguration gets no RoleArn."""
    return (
        f"arn:aws:iam::{account_id}:role/aws-service-role/events.workmail.amazonaws.com/"
        "AWSServiceRoleForAmazonWorkMailEvents"
    )


def _now() -> _dt.datetime:
    return _core.STATE.clock.now()


@dataclass
class MailDomain:
    """A mail domain of an organization (always lower-case)."""

    name: str
    is_test: bool = False
    registered: _dt.datetime | None = None
    ownership_status: str = "VERIFIED"
    dkim_status: str = "VERIFIED"
    client_token: str | None = None


@dataclass
class Entity:
    """A user or a group of an organization."""

    id: str
    kind: str  # USER or GROUP
    name: str
    state: str = DISABLED
    email: str | None = None
    display_name: str | None = None
    role: str | None = None  # users only
    first_name: str | None = None
    last_name: str | None = None
    hidden: bool = False
    identity_provider_user_id: str | None = None
    enabled_date: _dt.datetime | None = None
    disabled_date: _dt.datetime | None = None
    mailbox_provisioned_date: _dt.datetime | None = None
    mailbox_deprovisioned_date: _dt.datetime | None = None
    #: Group members, by entity id, in the order they were added (groups only).
    members: list[str] = field(default_factory=list)

    @property
    def is_user(self) -> bool:
        return self.kind == USER

    @property
    def is_group(self) -> bool:
        return self.kind == GROUP


@dataclass
class MonitoringConfiguration:
    """Where WorkMail sends email event logs (PutEmailMonitoringConfiguration)."""

    role_arn: str
    log_group_arn: str

    @property
    def log_group_name(self) -> str:
        match = _LOG_GROUP_ARN.fullmatch(self.log_group_arn)
        return match.group("name") if match else self.log_group_arn


@dataclass
class Organization:
    """A WorkMail organization in one account and region."""

    id: str
    alias: str
    arn: str
    directory_id: str
    directory_type: str
    completed_date: _dt.datetime
    state: str = ACTIVE
    default_domain: str = ""
    #: Mail domains by lower-case name, the test domain first.
    domains: dict[str, MailDomain] = field(default_factory=dict)
    #: Users and groups by id, in creation order.
    entities: dict[str, Entity] = field(default_factory=dict)
    monitoring: MonitoringConfiguration | None = None
    interoperability_enabled: bool = False
    kms_key_arn: str | None = None
    client_token: str | None = None
    delete_client_token: str | None = None

    @property
    def test_domain(self) -> str:
        return f"{self.alias.lower()}.{TEST_DOMAIN_SUFFIX}"


# Pagination ----------------------------------------------------------------------


def _encode_token(scope: str, offset: int) -> str:
    return base64.b64encode(json.dumps({"scope": scope, "offset": offset}).encode()).decode()


def paginate(
    items: list[Any], next_token: str | None, max_results: int | None, scope: str
) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the NextToken of the next page (None on the last page).

    Tokens are opaque to callers and only valid for the listing (``scope``) that
    issued them; anything else is an InvalidParameterException, as on AWS.
    """
    start = 0
    if next_token is not None:
        try:
            data = json.loads(base64.b64decode(next_token.encode(), validate=True))
            start = int(data["offset"])
            valid = data.get("scope") == scope and start >= 0
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            valid = False
        if not valid:
            raise InvalidParameterException(f"The NextToken {next_token!r} is not valid for this request.")
    size = max_results or DEFAULT_PAGE_SIZE
    end = start + size
    return items[start:end], (_encode_token(scope, end) if end < len(items) else None)


# The backend ---------------------------------------------------------------------


class WorkMailBackend:
    """The WorkMail organizations of one account in one region."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        #: Organizations by id, in creation order (deleted ones stay, in state Deleted).
        self.organizations: dict[str, Organization] = {}

    def reset(self) -> None:
        self.__init__(self.account_id, self.region)  # type: ignore[misc]  # reset is __init__ again, as moto's

    # IAM: the calling function's execution role -----------------------------------

    def authorize(self, operation: str, organization_id: str | None) -> None:
        """Refuse ``operation`` unless the calling function's role allows ``workmail:<operation>``.

        Calls from outside function code (the sandbox's own user: a notebook, a
        test) are allowed, as for the Message Flow API.
        """
        invocation = current_invocation()
        if invocation is None or not invocation.role_arn:
            return
        check = workmail_role_decision(
            invocation.role_arn,
            function_name=invocation.function_name,
            operation=operation,
            organization_id=organization_id,
            account=self.account_id,
            region=self.region,
        )
        if not check.allowed:
            raise AccessDeniedException(check.reason)

    # Lookups ---------------------------------------------------------------------

    def _organization(self, organization_id: str) -> Organization:
        org = self.organizations.get(organization_id)
        if org is None:
            raise OrganizationNotFoundException(
                f"The organization {organization_id} does not exist in account {self.account_id}, region {self.region}."
            )
        return org

    def _active_organization(self, organization_id: str) -> Organization:
        org = self._organization(organization_id)
        if org.state != ACTIVE:
            raise OrganizationStateException(
                f"The organization {organization_id} is in state {org.state}; "
                "this operation needs an Active organization."
            )
        return org

    def _live_organizations(self) -> list[Organization]:
        return [o for o in self.organizations.values() if o.state != DELETED]

    @staticmethod
    def _find_entity(org: Organization, identifier: str, *, by_email: bool = True) -> Entity | None:
        if identifier in org.entities:
            return org.entities[identifier]
        wanted = identifier.lower()
        for entity in org.entities.values():
            if entity.name.lower() == wanted:
                return entity
        if by_email and "@" in identifier:
            for entity in org.entities.values():
                if entity.email and entity.email.lower() == wanted:
                    return entity
        return None

    def _entity(self, org: Organization, identifier: str, kind: str | None = None) -> Entity:
        entity = self._find_entity(org, identifier)
        if entity is None or (kind is not None and entity.kind != kind):
            what = {USER: "user", GROUP: "group"}.get(kind or "", "user, group or resource")
            raise EntityNotFoundException(f"The {what} {identifier} does not exist in organization {org.id}.")
        return entity

    @staticmethod
    def _check_name_free(org: Organization, name: str) -> None:
        wanted = name.lower()
        if any(e.name.lower() == wanted for e in org.entities.values()):
            raise NameAvailabilityException(
                f"The name {name} is already used by a user, group or resource in organization {org.id}."
            )

    @staticmethod
    def _check_not_test_domain(domain: str) -> None:
        if domain == TEST_DOMAIN_SUFFIX or domain.endswith("." + TEST_DOMAIN_SUFFIX):
            raise InvalidParameterException(
                f"The domain {domain} cannot be registered: {TEST_DOMAIN_SUFFIX} domains are WorkMail test domains."
            )

    def _domain_owner(self, domain: str) -> Organization | None:
        return next((o for o in self._live_organizations() if domain in o.domains), None)

    @staticmethod
    def _check_domain_name(domain_name: str) -> str:
        domain = domain_name.lower()
        labels = domain.split(".")
        if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels) or not _TLD.fullmatch(labels[-1]):
            raise InvalidParameterException(
                f"The domain name {domain_name!r} is not valid: use a fully qualified domain name such as example.com."
            )
        return domain

    # Organizations ---------------------------------------------------------------

    def create_organization(
        self,
        alias: str,
        client_token: str | None = None,
        domains: list[dict[str, Any]] | None = None,
        directory_id: str | None = None,
        kms_key_arn: str | None = None,
        enable_interoperability: bool = False,
    ) -> Organization:
        if client_token:
            for org in self.organizations.values():
                if org.client_token == client_token:
                    if org.alias != alias:
                        raise InvalidParameterException(
                            f"The ClientToken {client_token} was already used to create organization {org.id} "
                            f"with alias {org.alias}; use a new token for a different request."
                        )
                    return org
        if any(o.alias.lower() == alias.lower() for o in self._live_organizations()):
            raise NameAvailabilityException(f"The organization alias {alias} is not available.")
        directory_type = WORKMAIL_DIRECTORY_TYPE
        if directory_id:
            directory = self._directory(directory_id)
            if directory is None:
                raise DirectoryUnavailableException(
                    f"The directory {directory_id} is unavailable. It might be located in another Region or deleted."
                )
            if any(o.directory_id == directory_id for o in self._live_organizations()):
                raise DirectoryInUseException(
                    f"The directory {directory_id} is already in use by another WorkMail organization."
                )
            directory_alias, directory_type = directory
            if directory_alias.lower() != alias.lower():
                raise InvalidParameterException(
                    f"The organization alias {alias} must match the alias of directory {directory_id} "
                    f"({directory_alias})."
                )
        if enable_interoperability and directory_type != "ADConnector":
            raise InvalidParameterException(
                "EnableInteroperability requires the DirectoryId of an AD Connector directory."
            )
        names = [self._check_domain_name(d["DomainName"]) for d in domains or []]
        for name in names:
            if names.count(name) > 1:
                raise InvalidParameterException(f"The domain {name} is listed more than once in Domains.")
            self._check_not_test_domain(name)
            owner = self._domain_owner(name)
            if owner is not None:
                raise InvalidParameterException(f"The domain {name} is already in use by organization {owner.id}.")

        org_id = "m-" + uuid.uuid4().hex
        now = _now()
        org = Organization(
            id=org_id,
            alias=alias,
            arn=organization_arn(self.region, self.account_id, org_id),
            directory_id=directory_id or "d-" + uuid.uuid4().hex[:10],
            directory_type=directory_type,
            completed_date=now,
            interoperability_enabled=bool(enable_interoperability),
            kms_key_arn=kms_key_arn,
            client_token=client_token,
        )
        test = MailDomain(org.test_domain, is_test=True, registered=now)
        org.domains[test.name] = test
        org.default_domain = test.name
        for name in names:
            org.domains[name] = MailDomain(name, registered=now)
        self.organizations[org_id] = org
        return org

    def _directory(self, directory_id: str) -> tuple[str, str] | None:
        """``(alias, type)`` of the moto Directory Service directory with this id, if moto has one."""
        return _moto.ds_directory(self.account_id, self.region, directory_id)

    def describe_organization(self, organization_id: str) -> Organization:
        return self._organization(organization_id)

    def list_organizations(self) -> list[Organization]:
        return list(self.organizations.values())

    def delete_organization(
        self,
        organization_id: str,
        delete_directory: bool,
        client_token: str | None = None,
        force_delete: bool = False,
    ) -> Organization:
        org = self._organization(organization_id)
        if org.state == DELETED:
            if client_token and client_token == org.delete_client_token:
                return org
            raise OrganizationStateException(f"The organization {organization_id} is already Deleted.")
        enabled_users = [e.name for e in org.entities.values() if e.is_user and e.state == ENABLED]
        if enabled_users and not force_delete:
            raise OrganizationStateException(
                f"The organization {organization_id} has enabled users ({', '.join(enabled_users)}); "
                "deregister them first or pass ForceDelete=True."
            )
        org.state = DELETED
        org.delete_client_token = client_token
        return org

    # Mail domains ------------------------------------------------------------------

    def register_mail_domain(self, organization_id: str, domain_name: str, client_token: str | None = None) -> None:
        org = self._active_organization(organization_id)
        domain = self._check_domain_name(domain_name)
        self._check_not_test_domain(domain)
        existing = org.domains.get(domain)
        if existing is not None and client_token and existing.client_token == client_token:
            return  # a retry of the same request
        owner = self._domain_owner(domain)
        if owner is not None:
            where = "this organization" if owner is org else f"organization {owner.id}"
            raise MailDomainInUseException(f"The domain {domain} is already registered in {where}.")
        org.domains[domain] = MailDomain(domain, registered=_now(), client_token=client_token)

    def list_mail_domains(self, organization_id: str) -> tuple[Organization, list[MailDomain]]:
        org = self._active_organization(organization_id)
        return org, list(org.domains.values())

    def get_mail_domain(self, organization_id: str, domain_name: str) -> tuple[Organization, MailDomain]:
        org = self._active_organization(organization_id)
        domain = org.domains.get(domain_name.lower())
        if domain is None:
            raise MailDomainNotFoundException(
                f"The domain {domain_name} is not registered in organization {organization_id}."
            )
        return org, domain

    def update_default_mail_domain(self, organization_id: str, domain_name: str) -> None:
        org, domain = self.get_mail_domain(organization_id, domain_name)
        org.default_domain = domain.name

    def deregister_mail_domain(self, organization_id: str, domain_name: str) -> None:
        org = self._active_organization(organization_id)
        domain = org.domains.get(domain_name.lower())
        if domain is None:
            return  # nothing to remove (AWS lists no "not found" error for this operation)
        if domain.is_test:
            raise InvalidParameterException(f"The test domain {domain.name} cannot be deregistered.")
        if domain.name == org.default_domain:
            raise MailDomainInUseException(
                f"The domain {domain.name} is the default domain of organization {organization_id}; "
                "make another domain the default first (UpdateDefaultMailDomain)."
            )
        users = [e.name for e in org.entities.values() if e.email and e.email.lower().endswith("@" + domain.name)]
        if users:
            raise MailDomainInUseException(
                f"The domain {domain.name} is used by the email addresses of {', '.join(users)}; "
                "remove those addresses first."
            )
        del org.domains[domain.name]

    # Users and groups ---------------------------------------------------------------

    def create_user(
        self,
        organization_id: str,
        name: str,
        display_name: str,
        password: str | None = None,
        role: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        hidden_from_global_address_list: bool = False,
        identity_provider_user_id: str | None = None,
    ) -> Entity:
        org = self._active_organization(organization_id)
        self._check_name_free(org, name)
        if role == "RESOURCE":
            raise InvalidParameterException(
                "Role RESOURCE cannot be given to a user; resources are created with CreateResource."
            )
        if password is not None:
            classes = sum(1 for c in _PASSWORD_CLASSES if c.search(password))
            if not 8 <= len(password) <= 64 or classes < 3:
                raise InvalidPasswordException(
                    "The password does not meet the password policy: 8 to 64 characters, with characters from at least "
                    "three of: upper-case letters, lower-case letters, digits, symbols."
                )
        user = Entity(
            id=str(uuid.uuid4()),
            kind=USER,
            name=name,
            display_name=display_name,
            role=role or "USER",
            first_name=first_name,
            last_name=last_name,
            hidden=bool(hidden_from_global_address_list),
            identity_provider_user_id=identity_provider_user_id,
        )
        org.entities[user.id] = user
        return user

    def create_group(self, organization_id: str, name: str, hidden_from_global_address_list: bool = False) -> Entity:
        org = self._active_organization(organization_id)
        self._check_name_free(org, name)
        group = Entity(id=str(uuid.uuid4()), kind=GROUP, name=name, hidden=bool(hidden_from_global_address_list))
        org.entities[group.id] = group
        return group

    def describe_user(self, organization_id: str, user_id: str) -> Entity:
        return self._entity(self._active_organization(organization_id), user_id, USER)

    def describe_group(self, organization_id: str, group_id: str) -> Entity:
        return self._entity(self._active_organization(organization_id), group_id, GROUP)

    def list_users(self, organization_id: str, filters: dict[str, Any] | None = None) -> list[Entity]:
        org = self._active_organization(organization_id)
        users = [e for e in org.entities.values() if e.is_user]
        return self._filtered(users, filters or {}, {
            "UsernamePrefix": lambda e: e.name,
            "DisplayNamePrefix": lambda e: e.display_name,
            "PrimaryEmailPrefix": lambda e: e.email,
            "IdentityProviderUserIdPrefix": lambda e: e.identity_provider_user_id,
        })

    def list_groups(self, organization_id: str, filters: dict[str, Any] | None = None) -> list[Entity]:
        org = self._active_organization(organization_id)
        groups = [e for e in org.entities.values() if e.is_group]
        return self._filtered(groups, filters or {}, {
            "NamePrefix": lambda e: e.name,
            "PrimaryEmailPrefix": lambda e: e.email,
        })

    @staticmethod
    def _filtered(entities: list[Entity], filters: dict[str, Any], prefixes: dict[str, Any]) -> list[Entity]:
        given = {k: v for k, v in filters.items() if v is not None}
        if len(given) > 1:
            raise InvalidParameterException(
                f"Only one filter per request is supported; got {', '.join(sorted(given))}."
            )
        for key, value in given.items():
            if key == "State":
                entities = [e for e in entities if e.state == value]
            else:
                wanted = str(value).lower()
                entities = [e for e in entities if (prefixes[key](e) or "").lower().startswith(wanted)]
        return entities

    def register_to_workmail(self, organization_id: str, entity_id: str, email: str) -> None:
        org = self._active_organization(organization_id)
        entity = self._entity(org, entity_id)
        domain = email.rsplit("@", 1)[-1].lower()
        if domain not in org.domains:
            raise MailDomainNotFoundException(
                f"The domain {domain} of {email} is not a mail domain of organization {organization_id}; "
                "register it first (RegisterMailDomain)."
            )
        holder = next((e for e in org.entities.values() if e.email and e.email.lower() == email.lower()), None)
        if holder is not None and holder is not entity:
            raise EmailAddressInUseException(
                f"The email address {email} is already used by {holder.name} ({holder.id})."
            )
        if entity.state == ENABLED:
            if entity.email and entity.email.lower() == email.lower():
                return  # already registered with this address: no change
            raise EntityAlreadyRegisteredException(
                f"The {entity.kind.lower()} {entity.name} is already registered to WorkMail with {entity.email}."
            )
        now = _now()
        entity.state = ENABLED
        entity.email = email
        entity.enabled_date = now
        entity.disabled_date = None
        if entity.is_user:
            entity.mailbox_provisioned_date = now
            entity.mailbox_deprovisioned_date = None

    def deregister_from_workmail(self, organization_id: str, entity_id: str) -> None:
        org = self._active_organization(organization_id)
        entity = self._entity(org, entity_id)
        if entity.state == DISABLED:
            return  # already deregistered: no change
        now = _now()
        entity.state = DISABLED
        entity.email = None
        entity.disabled_date = now
        if entity.is_user:
            entity.mailbox_deprovisioned_date = now

    def _contains(self, org: Organization, group: Entity, target_id: str) -> bool:
        """True if ``target_id`` is ``group`` or a member of it, at any depth."""
        seen: set[str] = set()
        stack = [group.id]
        while stack:
            current = stack.pop()
            if current == target_id:
                return True
            if current in seen:
                continue
            seen.add(current)
            entity = org.entities.get(current)
            if entity is not None and entity.is_group:
                stack.extend(entity.members)
        return False

    def associate_member_to_group(self, organization_id: str, group_id: str, member_id: str) -> None:
        org = self._active_organization(organization_id)
        group = self._entity(org, group_id, GROUP)
        member = self._entity(org, member_id)
        if member.is_group and self._contains(org, member, group.id):
            raise InvalidParameterException(
                f"The group {member.name} cannot be a member of {group.name}: groups cannot contain themselves."
            )
        if member.id not in group.members:
            group.members.append(member.id)

    def disassociate_member_from_group(self, organization_id: str, group_id: str, member_id: str) -> None:
        org = self._active_organization(organization_id)
        group = self._entity(org, group_id, GROUP)
        member = self._entity(org, member_id)
        if member.id not in group.members:
            raise EntityNotFoundException(
                f"The {member.kind.lower()} {member_id} is not a member of group {group.name}."
            )
        group.members.remove(member.id)

    def list_group_members(self, organization_id: str, group_id: str) -> list[Entity]:
        org = self._active_organization(organization_id)
        group = self._entity(org, group_id, GROUP)
        return [org.entities[m] for m in group.members if m in org.entities]

    def _remove_entity(self, org: Organization, entity: Entity) -> None:
        del org.entities[entity.id]
        for other in org.entities.values():
            if entity.id in other.members:
                other.members.remove(entity.id)

    def delete_user(self, organization_id: str, user_id: str) -> None:
        org = self._active_organization(organization_id)
        user = self._find_entity(org, user_id, by_email=False)
        if user is None or not user.is_user:
            return  # nothing to delete (AWS lists no "not found" error for this operation)
        if user.state == ENABLED:
            raise EntityStateException(
                f"The user {user.name} is ENABLED; deregister it from WorkMail (DeregisterFromWorkMail) "
                "before deleting it."
            )
        self._remove_entity(org, user)

    def delete_group(self, organization_id: str, group_id: str) -> None:
        org = self._active_organization(organization_id)
        group = self._find_entity(org, group_id, by_email=False)
        if group is None or not group.is_group:
            return  # nothing to delete (AWS lists no "not found" error for this operation)
        self._remove_entity(org, group)

    # Email monitoring ---------------------------------------------------------------

    def put_email_monitoring_configuration(
        self, organization_id: str, log_group_arn: str, role_arn: str | None = None
    ) -> None:
        org = self._active_organization(organization_id)
        match = _LOG_GROUP_ARN.fullmatch(log_group_arn)
        if match is None:  # pragma: no cover - the model's pattern is checked first
            raise InvalidParameterException(f"The log group ARN {log_group_arn} is not valid.")
        if match.group("region") != self.region:
            raise InvalidParameterException(
                f"The log group {log_group_arn} must be in the organization's region, {self.region}."
            )
        if not self._log_group_exists(match.group("account"), match.group("region"), match.group("name")):
            raise ResourceNotFoundException(f"The log group {log_group_arn} does not exist.")
        org.monitoring = MonitoringConfiguration(
            role_arn=role_arn or service_linked_role_arn(self.account_id), log_group_arn=log_group_arn
        )

    @staticmethod
    def _log_group_exists(account_id: str, region: str, name: str) -> bool:
        return _moto.log_group_exists(account_id, region, name)

    def describe_email_monitoring_configuration(self, organization_id: str) -> MonitoringConfiguration:
        org = self._active_organization(organization_id)
        if org.monitoring is None:
            raise ResourceNotFoundException(f"Email monitoring is not configured for organization {organization_id}.")
        return org.monitoring

    def delete_email_monitoring_configuration(self, organization_id: str) -> None:
        self._active_organization(organization_id).monitoring = None

    # Sandbox-only helpers (not AWS operations) -----------------------------------------

    def _helper_organization(self, organization_id: str) -> Organization:
        org = self.organizations.get(organization_id)
        if org is None:
            known = ", ".join(self.organizations) or "none yet"
            raise SandboxError(
                f"There is no WorkMail organization {organization_id!r} in account {self.account_id}, "
                f"region {self.region} (organizations here: {known}).",
                fix="create it with boto3.client('workmail').create_organization(Alias=...) in this region, "
                "and pass its OrganizationId",
            )
        return org

    def organization_domains(self, organization_id: str) -> list[str]:
        """Sandbox-only: the organization's mail domains, lower-case, test domain first."""
        return list(self._helper_organization(organization_id).domains)

    def find_entity_by_email(self, organization_id: str, address: str) -> Entity | None:
        """Sandbox-only: the user or group whose primary email is ``address`` (any case), or None."""
        wanted = address.strip().lower()
        org = self._helper_organization(organization_id)
        return next((e for e in org.entities.values() if e.email and e.email.lower() == wanted), None)

    def group_member_emails(self, organization_id: str, group_id_or_email: str) -> list[str]:
        """Sandbox-only: the email addresses mail to a group reaches, through nested groups.

        ``group_id_or_email`` is the group's id, name or email address. Members
        without an address (not registered to WorkMail) are skipped; each address
        appears once, in membership order.
        """
        org = self._helper_organization(organization_id)
        group = self._find_entity(org, group_id_or_email)
        if group is None or not group.is_group:
            raise SandboxError(
                f"Organization {organization_id} has no group {group_id_or_email!r}.",
                fix="pass the group's id, name or email address (see list_groups)",
            )
        emails: list[str] = []
        seen: set[str] = set()

        def walk(g: Entity) -> None:
            if g.id in seen:
                return
            seen.add(g.id)
            for member_id in g.members:
                member = org.entities.get(member_id)
                if member is None:
                    continue
                if member.is_group:
                    walk(member)
                elif member.email and member.email.lower() not in (e.lower() for e in emails):
                    emails.append(member.email)

        walk(group)
        return emails

    def monitoring_log_group(self, organization_id: str) -> str | None:
        """Sandbox-only: the name of the CloudWatch log group email events go to, or None."""
        monitoring = self._helper_organization(organization_id).monitoring
        return monitoring.log_group_name if monitoring else None
