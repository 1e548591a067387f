"""Tests of the emulated WorkMail management API, through the real boto3 client.

Every successful call is checked against botocore's output shape for its
operation, and every error against the errors botocore lists for it
(``tests/botocore_shapes.py``). Facts come from botocore's ``workmail`` model
(API 2017-10-01), the WorkMail API reference, docs/aws-behaviour.md (§2.2, §6.2)
and AWS's ``workmail-restricted-mailboxes-python`` sample; "Kit choice" marks an
assumption listed in the package docstring's "Deviations and assumptions".
"""

from __future__ import annotations

import copy
import datetime as dt
import re

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore_shapes import assert_error_code_modeled, assert_matches_output_shape, modeled_error_codes

from workmail_sandbox.emulators._core import install_hooks, register
from workmail_sandbox.emulators.workmail import SERVICE, exceptions
from workmail_sandbox.emulators.workmail.models import service_linked_role_arn
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.workmail_service import WORKMAIL_REGIONS, organization_arn

register(SERVICE)
install_hooks([SERVICE.service_id])

ACCOUNT = "123456789012"
REGION = "us-east-1"
UNKNOWN_ORG = "m-" + "0" * 32
PASSWORD = "Corr3ct-Horse"

EMULATED = [
    "AssociateMemberToGroup",
    "CreateGroup",
    "CreateOrganization",
    "CreateUser",
    "DeleteEmailMonitoringConfiguration",
    "DeleteGroup",
    "DeleteOrganization",
    "DeleteUser",
    "DeregisterFromWorkMail",
    "DeregisterMailDomain",
    "DescribeEmailMonitoringConfiguration",
    "DescribeGroup",
    "DescribeOrganization",
    "DescribeUser",
    "DisassociateMemberFromGroup",
    "GetMailDomain",
    "ListGroupMembers",
    "ListGroups",
    "ListMailDomains",
    "ListOrganizations",
    "ListUsers",
    "PutEmailMonitoringConfiguration",
    "RegisterMailDomain",
    "RegisterToWorkMail",
    "UpdateDefaultMailDomain",
]


# Helpers ---------------------------------------------------------------------------


def call(client, method: str, **params):
    """Call ``client.<method>`` and check the answer against botocore's output shape."""
    response = getattr(client, method)(**params)
    assert_matches_output_shape("workmail", client.meta.method_to_api_mapping[method], response)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    return response


def fails(client, method: str, code: str, **params) -> ClientError:
    """Call ``client.<method>``, expect AWS error ``code``, and check botocore lists it."""
    operation = client.meta.method_to_api_mapping[method]
    assert_error_code_modeled("workmail", operation, code)
    with pytest.raises(ClientError) as info:
        getattr(client, method)(**params)
    error = info.value
    assert error.response["Error"]["Code"] == code, error.response["Error"]
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Message"] == error.response["Error"]["Message"]  # the modeled member
    return error


@pytest.fixture
def wm(emulators_active):
    return boto3.client("workmail", region_name=REGION)


@pytest.fixture
def org(wm) -> str:
    return call(wm, "create_organization", Alias="acme")["OrganizationId"]


@pytest.fixture
def domain_org(wm, org) -> str:
    """An organization with the mail domain example.com registered."""
    call(wm, "register_mail_domain", OrganizationId=org, DomainName="example.com")
    return org


def make_user(wm, org: str, name: str, email: str | None = None) -> str:
    params = {"OrganizationId": org, "Name": name, "DisplayName": name.title(), "Password": PASSWORD}
    user_id = call(wm, "create_user", **params)["UserId"]
    if email:
        call(wm, "register_to_work_mail", OrganizationId=org, EntityId=user_id, Email=email)
    return user_id


def make_group(wm, org: str, name: str, email: str | None = None) -> str:
    group_id = call(wm, "create_group", OrganizationId=org, Name=name)["GroupId"]
    if email:
        call(wm, "register_to_work_mail", OrganizationId=org, EntityId=group_id, Email=email)
    return group_id


def backend():
    return SERVICE.backend(ACCOUNT, REGION)


# The emulator's surface ----------------------------------------------------------------


def test_emulated_operations_are_the_documented_list_and_all_exist_in_botocore():
    model = boto3.session.Session().client("workmail", region_name=REGION).meta.service_model
    mapping = {op: op for op in model.operation_names}
    assert SERVICE.service_id == "workmail"
    assert SERVICE.regions == WORKMAIL_REGIONS
    from botocore import xform_name

    assert SERVICE.operations() == sorted(xform_name(op) for op in EMULATED)
    assert all(op in mapping for op in EMULATED)


def test_every_error_class_is_modeled_by_some_emulated_operation():
    """Each exception class is an error code botocore lists for an emulated operation.

    AccessDeniedException is IAM's: every service answers it and no model lists it."""
    modeled = {code for op in EMULATED for code in modeled_error_codes("workmail", op)}
    unmodeled = {"WorkMailError", "AccessDeniedException"}
    classes = [getattr(exceptions, name) for name in exceptions.__all__ if name not in unmodeled]
    assert classes
    for cls in classes:
        assert cls.code == cls.__name__
        assert cls.code in modeled, cls.code
        assert cls.status == 400


# Organizations -----------------------------------------------------------------------


def test_create_and_describe_organization(wm, emulators_active):
    created = call(wm, "create_organization", Alias="acme")
    org_id = created["OrganizationId"]
    assert re.fullmatch(r"m-[0-9a-f]{32}", org_id)
    described = call(wm, "describe_organization", OrganizationId=org_id)
    assert described["OrganizationId"] == org_id
    assert described["Alias"] == "acme"
    assert described["State"] == "Active"
    assert described["DefaultMailDomain"] == "acme.awsapps.com"
    assert described["DirectoryType"] == "VpcDirectory"
    assert re.fullmatch(r"d-[0-9a-f]{10}", described["DirectoryId"])
    assert described["ARN"] == organization_arn(REGION, ACCOUNT, org_id)
    assert described["ARN"] == f"arn:aws:workmail:{REGION}:{ACCOUNT}:organization/{org_id}"
    assert described["CompletedDate"] == emulators_active.clock.now()
    assert described["InteroperabilityEnabled"] is False


def test_completed_date_follows_the_sandbox_clock(wm, emulators_active):
    first = call(wm, "create_organization", Alias="first")["OrganizationId"]
    emulators_active.clock.advance(hours=3)
    second = call(wm, "create_organization", Alias="second")["OrganizationId"]
    a = wm.describe_organization(OrganizationId=first)["CompletedDate"]
    b = wm.describe_organization(OrganizationId=second)["CompletedDate"]
    assert b - a == dt.timedelta(hours=3)


def test_alias_is_unique_per_account_and_region(wm, org):
    error = fails(wm, "create_organization", "NameAvailabilityException", Alias="acme")
    assert "acme" in error.response["Error"]["Message"]
    fails(wm, "create_organization", "NameAvailabilityException", Alias="ACME")
    other_region = boto3.client("workmail", region_name="eu-west-1")
    call(other_region, "create_organization", Alias="acme")


def test_alias_must_match_the_model_pattern(wm):
    for alias in ["bad_alias", "d-1234", "-acme", "acme-", "a" * 63, "has space"]:
        error = fails(wm, "create_organization", "InvalidParameterException", Alias=alias)
        assert "at 'alias' failed to satisfy constraint" in error.response["Error"]["Message"], alias


def test_client_token_makes_create_organization_idempotent(wm):
    first = call(wm, "create_organization", Alias="acme", ClientToken="token-1")["OrganizationId"]
    again = call(wm, "create_organization", Alias="acme", ClientToken="token-1")["OrganizationId"]
    assert again == first
    assert len(wm.list_organizations()["OrganizationSummaries"]) == 1
    fails(wm, "create_organization", "InvalidParameterException", Alias="other", ClientToken="token-1")


def test_domains_given_at_creation_are_registered(wm):
    org_id = call(
        wm, "create_organization", Alias="acme", Domains=[{"DomainName": "Example.com"}, {"DomainName": "example.org"}]
    )["OrganizationId"]
    domains = call(wm, "list_mail_domains", OrganizationId=org_id)["MailDomains"]
    assert domains == [
        {"DomainName": "acme.awsapps.com", "DefaultDomain": True},
        {"DomainName": "example.com", "DefaultDomain": False},
        {"DomainName": "example.org", "DefaultDomain": False},
    ]
    fails(
        wm, "create_organization", "InvalidParameterException",
        Alias="other", Domains=[{"DomainName": "example.com"}],
    )
    fails(wm, "create_organization", "InvalidParameterException", Alias="third", Domains=[{"DomainName": "nodot"}])


def test_directory_id_must_exist_in_directory_service(wm):
    fails(wm, "create_organization", "DirectoryUnavailableException", Alias="acme", DirectoryId="d-0123456789")
    fails(wm, "create_organization", "InvalidParameterException", Alias="acme", EnableInteroperability=True)


def test_existing_directory_is_used_with_its_alias_and_type(wm):
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    ds = boto3.client("ds", region_name=REGION)
    directory = ds.create_directory(
        Name="corp.example.com", Password="Sup3r-Secret", Size="Small", VpcSettings={"VpcId": vpc, "SubnetIds": subnets}
    )["DirectoryId"]
    # The directory's alias is its id until one is set; the organization alias must match it.
    fails(wm, "create_organization", "InvalidParameterException", Alias="corp", DirectoryId=directory)
    ds.create_alias(DirectoryId=directory, Alias="corp")
    org_id = call(wm, "create_organization", Alias="corp", DirectoryId=directory)["OrganizationId"]
    described = wm.describe_organization(OrganizationId=org_id)
    assert described["DirectoryId"] == directory
    assert described["DirectoryType"] == "SimpleAD"
    fails(wm, "create_organization", "DirectoryInUseException", Alias="corp2", DirectoryId=directory)


def test_list_organizations_and_its_paginator(wm):
    ids = [call(wm, "create_organization", Alias=f"org{i}")["OrganizationId"] for i in range(7)]
    first = call(wm, "list_organizations", MaxResults=3)
    assert [s["OrganizationId"] for s in first["OrganizationSummaries"]] == ids[:3]
    assert "NextToken" in first
    assert first["OrganizationSummaries"][0] == {
        "OrganizationId": ids[0],
        "Alias": "org0",
        "DefaultMailDomain": "org0.awsapps.com",
        "State": "Active",
    }
    pages = list(wm.get_paginator("list_organizations").paginate(PaginationConfig={"PageSize": 3}))
    for page in pages:
        assert_matches_output_shape("workmail", "ListOrganizations", page)
    assert [len(p["OrganizationSummaries"]) for p in pages] == [3, 3, 1]
    assert "NextToken" not in pages[-1]
    everything = wm.get_paginator("list_organizations").paginate(PaginationConfig={"PageSize": 2}).build_full_result()
    assert [s["OrganizationId"] for s in everything["OrganizationSummaries"]] == ids
    assert "NextToken" not in call(wm, "list_organizations")


def test_list_organizations_rejects_bad_tokens_and_sizes(wm, org):
    fails(wm, "list_organizations", "InvalidParameterException", NextToken="not-a-token")
    fails(wm, "list_organizations", "InvalidParameterException", MaxResults=101)
    make_user(wm, org, "u1")
    make_user(wm, org, "u2")
    users_token = wm.list_users(OrganizationId=org, MaxResults=1)["NextToken"]
    fails(wm, "list_organizations", "InvalidParameterException", NextToken=users_token)


def test_delete_organization(wm, org):
    deleted = call(wm, "delete_organization", OrganizationId=org, DeleteDirectory=True)
    assert deleted == {**deleted, "OrganizationId": org, "State": "Deleted"}
    assert call(wm, "describe_organization", OrganizationId=org)["State"] == "Deleted"
    assert wm.list_organizations()["OrganizationSummaries"][0]["State"] == "Deleted"
    fails(wm, "delete_organization", "OrganizationStateException", OrganizationId=org, DeleteDirectory=True)
    fails(wm, "list_users", "OrganizationStateException", OrganizationId=org)
    fails(wm, "create_user", "OrganizationStateException", OrganizationId=org, Name="bob", DisplayName="Bob")
    # Kit choice: the alias is free again once the organization is deleted.
    call(wm, "create_organization", Alias="acme")


def test_delete_organization_with_enabled_users_needs_force_delete(wm, domain_org):
    make_user(wm, domain_org, "alice", "alice@example.com")
    fails(wm, "delete_organization", "OrganizationStateException", OrganizationId=domain_org, DeleteDirectory=False)
    deleted = call(wm, "delete_organization", OrganizationId=domain_org, DeleteDirectory=False, ForceDelete=True)
    assert deleted["State"] == "Deleted"


def test_delete_organization_client_token_retry(wm, org):
    call(wm, "delete_organization", OrganizationId=org, DeleteDirectory=True, ClientToken="del-1")
    again = call(wm, "delete_organization", OrganizationId=org, DeleteDirectory=True, ClientToken="del-1")
    assert again["State"] == "Deleted"


ORG_SCOPED_CALLS = [
    ("describe_organization", {}),
    ("delete_organization", {"DeleteDirectory": False}),
    ("register_mail_domain", {"DomainName": "example.com"}),
    ("list_mail_domains", {}),
    ("get_mail_domain", {"DomainName": "example.com"}),
    ("update_default_mail_domain", {"DomainName": "example.com"}),
    ("deregister_mail_domain", {"DomainName": "example.com"}),
    ("create_user", {"Name": "alice", "DisplayName": "Alice"}),
    ("describe_user", {"UserId": "alice"}),
    ("list_users", {}),
    ("delete_user", {"UserId": "alice"}),
    ("create_group", {"Name": "team"}),
    ("describe_group", {"GroupId": "team"}),
    ("list_groups", {}),
    ("delete_group", {"GroupId": "team"}),
    ("register_to_work_mail", {"EntityId": "alice", "Email": "alice@example.com"}),
    ("deregister_from_work_mail", {"EntityId": "alice"}),
    ("associate_member_to_group", {"GroupId": "team", "MemberId": "alice"}),
    ("disassociate_member_from_group", {"GroupId": "team", "MemberId": "alice"}),
    ("list_group_members", {"GroupId": "team"}),
    (
        "put_email_monitoring_configuration",
        {"LogGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/workmail/events:*"},
    ),
    ("describe_email_monitoring_configuration", {}),
    ("delete_email_monitoring_configuration", {}),
]


def test_unknown_organization(wm):
    """One loop rather than a parametrized test: each sandbox start costs about a second."""
    for method, params in ORG_SCOPED_CALLS:
        error = fails(wm, method, "OrganizationNotFoundException", OrganizationId=UNKNOWN_ORG, **params)
        assert UNKNOWN_ORG in error.response["Error"]["Message"], method


def test_organization_id_pattern_is_enforced(wm):
    """botocore checks only the length (34); the pattern ^m-[0-9a-f]{32}$ is the service's."""
    bad = "m-" + "Z" * 32
    for method, params in ORG_SCOPED_CALLS:
        error = fails(wm, method, "InvalidParameterException", OrganizationId=bad, **params)
        assert error.response["Error"]["Message"] == (
            f"1 validation error detected: Value '{bad}' at 'organizationId' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^m-[0-9a-f]{32}$"
        ), method


def test_validation_errors_are_counted_and_passwords_not_echoed(wm, org):
    error = fails(
        wm, "create_user", "InvalidParameterException",
        OrganizationId=org, Name="bad name!", DisplayName="x" * 257, Password="p\u0100ss",
    )
    message = error.response["Error"]["Message"]
    assert message.startswith("3 validation errors detected: ")
    assert "at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern" in message
    assert "at 'displayName' failed to satisfy constraint: Member must have length less than or equal to 256" in message
    assert "Value at 'password' failed" in message and "p\u0100ss" not in message


def test_regions_are_separate(wm, org):
    west = boto3.client("workmail", region_name="us-west-2")
    fails(west, "describe_organization", "OrganizationNotFoundException", OrganizationId=org)
    assert call(west, "list_organizations")["OrganizationSummaries"] == []


def test_region_outside_workmail_is_a_clear_sandbox_error(emulators_active):
    for region in ["eu-central-1", "ap-southeast-2", "us-east-2"]:
        client = boto3.client("workmail", region_name=region)
        with pytest.raises(SandboxError) as info:
            client.list_organizations()
        message = str(info.value)
        assert region in message and "us-east-1" in message and "Fix:" in message


def test_operation_not_emulated_is_a_client_error_naming_it(wm, org):
    with pytest.raises(ClientError) as info:
        wm.list_resources(OrganizationId=org)
    error = info.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    message = error["Error"]["Message"]
    assert "workmail.ListResources" in message and "docs/coverage.md" in message and "Fix:" in message


# Mail domains ------------------------------------------------------------------------


def test_test_domain_exists_from_creation(wm, org):
    assert call(wm, "list_mail_domains", OrganizationId=org)["MailDomains"] == [
        {"DomainName": "acme.awsapps.com", "DefaultDomain": True}
    ]
    got = call(wm, "get_mail_domain", OrganizationId=org, DomainName="acme.awsapps.com")
    got.pop("ResponseMetadata")
    assert got == {
        "Records": [],
        "IsTestDomain": True,
        "IsDefault": True,
        "OwnershipVerificationStatus": "VERIFIED",
        "DkimVerificationStatus": "VERIFIED",
    }


def test_register_update_default_and_deregister_domain(wm, org):
    assert call(wm, "register_mail_domain", OrganizationId=org, DomainName="Example.COM").keys() == {"ResponseMetadata"}
    got = call(wm, "get_mail_domain", OrganizationId=org, DomainName="example.com")
    assert (got["IsTestDomain"], got["IsDefault"], got["OwnershipVerificationStatus"]) == (False, False, "VERIFIED")
    call(wm, "update_default_mail_domain", OrganizationId=org, DomainName="EXAMPLE.com")
    assert wm.describe_organization(OrganizationId=org)["DefaultMailDomain"] == "example.com"
    assert call(wm, "list_mail_domains", OrganizationId=org)["MailDomains"] == [
        {"DomainName": "acme.awsapps.com", "DefaultDomain": False},
        {"DomainName": "example.com", "DefaultDomain": True},
    ]
    assert wm.list_organizations()["OrganizationSummaries"][0]["DefaultMailDomain"] == "example.com"
    fails(wm, "deregister_mail_domain", "MailDomainInUseException", OrganizationId=org, DomainName="example.com")
    call(wm, "update_default_mail_domain", OrganizationId=org, DomainName="acme.awsapps.com")
    call(wm, "deregister_mail_domain", OrganizationId=org, DomainName="example.com")
    fails(wm, "get_mail_domain", "MailDomainNotFoundException", OrganizationId=org, DomainName="example.com")
    call(wm, "deregister_mail_domain", OrganizationId=org, DomainName="example.com")  # Kit choice: already gone


def test_mail_domain_errors(wm, org):
    fails(wm, "get_mail_domain", "MailDomainNotFoundException", OrganizationId=org, DomainName="nowhere.example")
    fails(
        wm, "update_default_mail_domain", "MailDomainNotFoundException",
        OrganizationId=org, DomainName="nowhere.example",
    )
    fails(wm, "deregister_mail_domain", "InvalidParameterException", OrganizationId=org, DomainName="acme.awsapps.com")
    fails(wm, "register_mail_domain", "InvalidParameterException", OrganizationId=org, DomainName="other.awsapps.com")
    fails(wm, "register_mail_domain", "InvalidParameterException", OrganizationId=org, DomainName="localhost")
    fails(wm, "register_mail_domain", "InvalidParameterException", OrganizationId=org, DomainName="bad_domain.com")
    call(wm, "register_mail_domain", OrganizationId=org, DomainName="example.com")
    fails(wm, "register_mail_domain", "MailDomainInUseException", OrganizationId=org, DomainName="example.com")
    other = call(wm, "create_organization", Alias="other")["OrganizationId"]
    error = fails(
        wm, "register_mail_domain", "MailDomainInUseException",
        OrganizationId=other, DomainName="example.com",
    )
    assert org in error.response["Error"]["Message"]


def test_register_mail_domain_client_token_retry(wm, org):
    call(wm, "register_mail_domain", OrganizationId=org, DomainName="example.com", ClientToken="dom-1")
    call(wm, "register_mail_domain", OrganizationId=org, DomainName="example.com", ClientToken="dom-1")


def test_domain_used_by_an_address_cannot_be_deregistered(wm, domain_org):
    make_user(wm, domain_org, "alice", "alice@example.com")
    error = fails(
        wm, "deregister_mail_domain", "MailDomainInUseException",
        OrganizationId=domain_org, DomainName="example.com",
    )
    assert "alice" in error.response["Error"]["Message"]


def test_list_mail_domains_paginates(wm, org):
    for i in range(4):
        wm.register_mail_domain(OrganizationId=org, DomainName=f"d{i}.example.com")
    first = call(wm, "list_mail_domains", OrganizationId=org, MaxResults=2)
    second = call(wm, "list_mail_domains", OrganizationId=org, MaxResults=2, NextToken=first["NextToken"])
    third = call(wm, "list_mail_domains", OrganizationId=org, MaxResults=2, NextToken=second["NextToken"])
    names = [d["DomainName"] for page in (first, second, third) for d in page["MailDomains"]]
    assert names == ["acme.awsapps.com"] + [f"d{i}.example.com" for i in range(4)]
    assert "NextToken" not in third


# Users ----------------------------------------------------------------------------------


def test_create_describe_register_user(wm, domain_org, emulators_active):
    user_id = call(
        wm, "create_user", OrganizationId=domain_org, Name="alice", DisplayName="Alice Liddell",
        Password=PASSWORD, FirstName="Alice", LastName="Liddell",
    )["UserId"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", user_id)
    fresh = call(wm, "describe_user", OrganizationId=domain_org, UserId=user_id)
    assert fresh["State"] == "DISABLED" and "Email" not in fresh and "EnabledDate" not in fresh
    assert (fresh["UserRole"], fresh["FirstName"], fresh["LastName"]) == ("USER", "Alice", "Liddell")
    assert fresh["HiddenFromGlobalAddressList"] is False
    assert call(wm, "register_to_work_mail", OrganizationId=domain_org, EntityId=user_id, Email="alice@example.com")
    now = emulators_active.clock.now()
    user = call(wm, "describe_user", OrganizationId=domain_org, UserId=user_id)
    assert user["State"] == "ENABLED" and user["Email"] == "alice@example.com"
    assert user["EnabledDate"] == now and user["MailboxProvisionedDate"] == now
    # The identifier may be the id, the user name or the email address.
    assert call(wm, "describe_user", OrganizationId=domain_org, UserId="alice")["UserId"] == user_id
    assert call(wm, "describe_user", OrganizationId=domain_org, UserId="ALICE@example.com")["UserId"] == user_id
    fails(wm, "describe_user", "EntityNotFoundException", OrganizationId=domain_org, UserId="nobody")


def test_user_names_are_unique_across_users_and_groups(wm, org):
    make_user(wm, org, "alice")
    fails(wm, "create_user", "NameAvailabilityException", OrganizationId=org, Name="Alice", DisplayName="A")
    fails(wm, "create_group", "NameAvailabilityException", OrganizationId=org, Name="alice")
    make_group(wm, org, "team")
    fails(wm, "create_user", "NameAvailabilityException", OrganizationId=org, Name="team", DisplayName="T")


def test_weak_passwords_are_refused(wm, org):
    for password in ["short1A", "alllowercase", "ALLUPPER123", "x" * 65 + "A1"]:
        fails(
            wm, "create_user", "InvalidPasswordException",
            OrganizationId=org, Name="bob", DisplayName="Bob", Password=password,
        )


def test_user_role_and_name_constraints(wm, org):
    fails(
        wm, "create_user", "InvalidParameterException",
        OrganizationId=org, Name="bob", DisplayName="Bob", Role="ADMIN",
    )
    fails(
        wm, "create_user", "InvalidParameterException",
        OrganizationId=org, Name="bob", DisplayName="Bob", Role="RESOURCE",
    )
    fails(wm, "create_user", "InvalidParameterException", OrganizationId=org, Name="bob smith", DisplayName="Bob")
    fails(wm, "create_user", "InvalidParameterException", OrganizationId=org, Name="b" * 65, DisplayName="Bob")
    remote = call(wm, "create_user", OrganizationId=org, Name="rem", DisplayName="R", Role="REMOTE_USER")["UserId"]
    assert wm.describe_user(OrganizationId=org, UserId=remote)["UserRole"] == "REMOTE_USER"


def test_register_to_workmail_rules(wm, domain_org):
    alice = make_user(wm, domain_org, "alice")
    bob = make_user(wm, domain_org, "bob")
    error = fails(wm, "register_to_work_mail", "MailDomainNotFoundException",
                  OrganizationId=domain_org, EntityId=alice, Email="alice@elsewhere.com")
    assert "elsewhere.com" in error.response["Error"]["Message"]
    fails(
        wm, "register_to_work_mail", "InvalidParameterException",
        OrganizationId=domain_org, EntityId=alice, Email="not an email",
    )
    fails(
        wm, "register_to_work_mail", "EntityNotFoundException",
        OrganizationId=domain_org, EntityId="ghost", Email="g@example.com",
    )
    call(wm, "register_to_work_mail", OrganizationId=domain_org, EntityId=alice, Email="alice@example.com")
    fails(
        wm, "register_to_work_mail", "EmailAddressInUseException",
        OrganizationId=domain_org, EntityId=bob, Email="Alice@Example.com",
    )
    # Registering again with the same address changes nothing; another address is refused.
    call(wm, "register_to_work_mail", OrganizationId=domain_org, EntityId=alice, Email="alice@example.com")
    fails(
        wm, "register_to_work_mail", "EntityAlreadyRegisteredException",
        OrganizationId=domain_org, EntityId=alice, Email="al@example.com",
    )
    # The test domain works too.
    call(wm, "register_to_work_mail", OrganizationId=domain_org, EntityId="bob", Email="bob@acme.awsapps.com")


def test_deregister_from_workmail(wm, domain_org, emulators_active):
    alice = make_user(wm, domain_org, "alice", "alice@example.com")
    emulators_active.clock.advance(minutes=5)
    call(wm, "deregister_from_work_mail", OrganizationId=domain_org, EntityId="alice@example.com")
    user = wm.describe_user(OrganizationId=domain_org, UserId=alice)
    assert user["State"] == "DISABLED" and "Email" not in user
    assert user["DisabledDate"] == emulators_active.clock.now() == user["MailboxDeprovisionedDate"]
    call(wm, "deregister_from_work_mail", OrganizationId=domain_org, EntityId=alice)  # Kit choice: no change
    fails(wm, "deregister_from_work_mail", "EntityNotFoundException", OrganizationId=domain_org, EntityId="ghost")
    # The address is free again.
    make_user(wm, domain_org, "alice2", "alice@example.com")


def test_delete_user(wm, domain_org):
    alice = make_user(wm, domain_org, "alice", "alice@example.com")
    group = make_group(wm, domain_org, "team")
    wm.associate_member_to_group(OrganizationId=domain_org, GroupId=group, MemberId=alice)
    fails(wm, "delete_user", "EntityStateException", OrganizationId=domain_org, UserId=alice)
    wm.deregister_from_work_mail(OrganizationId=domain_org, EntityId=alice)
    call(wm, "delete_user", OrganizationId=domain_org, UserId="alice")
    fails(wm, "describe_user", "EntityNotFoundException", OrganizationId=domain_org, UserId=alice)
    assert wm.list_group_members(OrganizationId=domain_org, GroupId=group)["Members"] == []
    call(wm, "delete_user", OrganizationId=domain_org, UserId=alice)  # Kit choice: already gone
    make_user(wm, domain_org, "alice")  # the name is free again


def test_list_users_summaries_filters_and_paginator(wm, domain_org):
    ids = [make_user(wm, domain_org, f"user{i}", f"user{i}@example.com" if i % 2 == 0 else None) for i in range(5)]
    users = call(wm, "list_users", OrganizationId=domain_org)["Users"]
    assert [u["Id"] for u in users] == ids
    assert set(users[0]) == {"Id", "Email", "Name", "DisplayName", "State", "UserRole", "EnabledDate"}
    assert set(users[1]) == {"Id", "Name", "DisplayName", "State", "UserRole"}
    pages = list(wm.get_paginator("list_users").paginate(OrganizationId=domain_org, PaginationConfig={"PageSize": 2}))
    for page in pages:
        assert_matches_output_shape("workmail", "ListUsers", page)
    assert [len(p["Users"]) for p in pages] == [2, 2, 1]
    assert [u["Id"] for p in pages for u in p["Users"]] == ids
    enabled = call(wm, "list_users", OrganizationId=domain_org, Filters={"State": "ENABLED"})["Users"]
    assert [u["Name"] for u in enabled] == ["user0", "user2", "user4"]
    by_name = call(wm, "list_users", OrganizationId=domain_org, Filters={"UsernamePrefix": "USER1"})["Users"]
    assert [u["Name"] for u in by_name] == ["user1"]
    by_email = call(wm, "list_users", OrganizationId=domain_org, Filters={"PrimaryEmailPrefix": "user4@"})["Users"]
    assert [u["Name"] for u in by_email] == ["user4"]
    fails(wm, "list_users", "InvalidParameterException", OrganizationId=domain_org,
          Filters={"State": "ENABLED", "UsernamePrefix": "user"})
    fails(wm, "list_users", "InvalidParameterException", OrganizationId=domain_org, Filters={"State": "ACTIVE"})
    for i in range(3):
        make_group(wm, domain_org, f"g{i}")
    groups_token = wm.list_groups(OrganizationId=domain_org, MaxResults=1)["NextToken"]
    fails(wm, "list_users", "InvalidParameterException", OrganizationId=domain_org, NextToken=groups_token)


# Groups -------------------------------------------------------------------------------


def test_create_describe_register_group(wm, domain_org, emulators_active):
    group_id = call(wm, "create_group", OrganizationId=domain_org, Name="Sales Team")["GroupId"]
    fresh = call(wm, "describe_group", OrganizationId=domain_org, GroupId=group_id)
    assert (fresh["GroupId"], fresh["Name"], fresh["State"]) == (group_id, "Sales Team", "DISABLED")
    assert fresh["HiddenFromGlobalAddressList"] is False and "Email" not in fresh
    call(wm, "register_to_work_mail", OrganizationId=domain_org, EntityId=group_id, Email="sales@example.com")
    group = call(wm, "describe_group", OrganizationId=domain_org, GroupId="sales@example.com")
    assert group["State"] == "ENABLED" and group["Email"] == "sales@example.com"
    assert group["EnabledDate"] == emulators_active.clock.now()
    listed = call(wm, "list_groups", OrganizationId=domain_org)["Groups"]
    assert listed == [{"Id": group_id, "Email": "sales@example.com", "Name": "Sales Team", "State": "ENABLED",
                       "EnabledDate": group["EnabledDate"]}]
    user = make_user(wm, domain_org, "alice")
    fails(wm, "describe_group", "EntityNotFoundException", OrganizationId=domain_org, GroupId=user)


def test_list_groups_filters_and_paginator(wm, domain_org):
    ids = [make_group(wm, domain_org, f"group{i}", f"group{i}@example.com" if i < 2 else None) for i in range(5)]
    pages = list(wm.get_paginator("list_groups").paginate(OrganizationId=domain_org, PaginationConfig={"PageSize": 3}))
    for page in pages:
        assert_matches_output_shape("workmail", "ListGroups", page)
    assert [g["Id"] for p in pages for g in p["Groups"]] == ids
    disabled = call(wm, "list_groups", OrganizationId=domain_org, Filters={"State": "DISABLED"})["Groups"]
    assert [g["Name"] for g in disabled] == ["group2", "group3", "group4"]
    by_name = call(wm, "list_groups", OrganizationId=domain_org, Filters={"NamePrefix": "GROUP1"})["Groups"]
    assert [g["Name"] for g in by_name] == ["group1"]
    fails(
        wm, "list_groups", "InvalidParameterException",
        OrganizationId=domain_org, Filters={"NamePrefix": "g", "State": "ENABLED"},
    )


def test_group_membership(wm, domain_org):
    alice = make_user(wm, domain_org, "alice", "alice@example.com")
    bob = make_user(wm, domain_org, "bob")
    team = make_group(wm, domain_org, "team", "team@example.com")
    inner = make_group(wm, domain_org, "inner")
    for member in (alice, "bob", inner):
        call(wm, "associate_member_to_group", OrganizationId=domain_org, GroupId="team", MemberId=member)
    # Kit choice: adding a member twice changes nothing.
    call(wm, "associate_member_to_group", OrganizationId=domain_org, GroupId=team, MemberId=alice)
    members = call(wm, "list_group_members", OrganizationId=domain_org, GroupId="team@example.com")["Members"]
    assert [(m["Id"], m["Name"], m["Type"], m["State"]) for m in members] == [
        (alice, "alice", "USER", "ENABLED"),
        (bob, "bob", "USER", "DISABLED"),
        (inner, "inner", "GROUP", "DISABLED"),
    ]
    assert "EnabledDate" in members[0] and "EnabledDate" not in members[1]
    # No cycles.
    fails(
        wm, "associate_member_to_group", "InvalidParameterException",
        OrganizationId=domain_org, GroupId=inner, MemberId=team,
    )
    fails(
        wm, "associate_member_to_group", "InvalidParameterException",
        OrganizationId=domain_org, GroupId=team, MemberId=team,
    )
    fails(
        wm, "associate_member_to_group", "EntityNotFoundException",
        OrganizationId=domain_org, GroupId=alice, MemberId=bob,
    )
    fails(
        wm, "associate_member_to_group", "EntityNotFoundException",
        OrganizationId=domain_org, GroupId=team, MemberId="ghost",
    )
    call(wm, "disassociate_member_from_group", OrganizationId=domain_org, GroupId=team, MemberId="bob")
    fails(
        wm, "disassociate_member_from_group", "EntityNotFoundException",
        OrganizationId=domain_org, GroupId=team, MemberId=bob,
    )
    fails(wm, "list_group_members", "EntityNotFoundException", OrganizationId=domain_org, GroupId="ghost")
    page = call(wm, "list_group_members", OrganizationId=domain_org, GroupId=team, MaxResults=1)
    assert len(page["Members"]) == 1 and "NextToken" in page
    everything = wm.get_paginator("list_group_members").paginate(
        OrganizationId=domain_org, GroupId=team, PaginationConfig={"PageSize": 1}
    ).build_full_result()
    assert [m["Name"] for m in everything["Members"]] == ["alice", "inner"]


def test_delete_group(wm, domain_org):
    team = make_group(wm, domain_org, "team", "team@example.com")
    outer = make_group(wm, domain_org, "outer")
    wm.associate_member_to_group(OrganizationId=domain_org, GroupId=outer, MemberId=team)
    call(wm, "delete_group", OrganizationId=domain_org, GroupId="team")
    fails(wm, "describe_group", "EntityNotFoundException", OrganizationId=domain_org, GroupId=team)
    assert wm.list_group_members(OrganizationId=domain_org, GroupId=outer)["Members"] == []
    call(wm, "delete_group", OrganizationId=domain_org, GroupId=team)  # Kit choice: already gone
    make_group(wm, domain_org, "team2", "team@example.com")  # the address is free again


# Email monitoring -----------------------------------------------------------------------


def log_group_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}:*"


def test_email_monitoring_configuration(wm, org):
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/workmail/acme")
    fails(wm, "describe_email_monitoring_configuration", "ResourceNotFoundException", OrganizationId=org)
    call(wm, "put_email_monitoring_configuration", OrganizationId=org, LogGroupArn=log_group_arn("/aws/workmail/acme"))
    config = call(wm, "describe_email_monitoring_configuration", OrganizationId=org)
    assert config["LogGroupArn"] == log_group_arn("/aws/workmail/acme")
    assert config["RoleArn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/events.workmail.amazonaws.com/"
        "AWSServiceRoleForAmazonWorkMailEvents"
    ) == service_linked_role_arn(ACCOUNT)
    role = f"arn:aws:iam::{ACCOUNT}:role/workmail-monitoring"
    arn = log_group_arn("/aws/workmail/acme")
    call(wm, "put_email_monitoring_configuration", OrganizationId=org, RoleArn=role, LogGroupArn=arn)
    assert wm.describe_email_monitoring_configuration(OrganizationId=org)["RoleArn"] == role
    assert backend().monitoring_log_group(org) == "/aws/workmail/acme"
    call(wm, "delete_email_monitoring_configuration", OrganizationId=org)
    fails(wm, "describe_email_monitoring_configuration", "ResourceNotFoundException", OrganizationId=org)
    call(wm, "delete_email_monitoring_configuration", OrganizationId=org)
    assert backend().monitoring_log_group(org) is None


def test_email_monitoring_errors(wm, org):
    fails(wm, "put_email_monitoring_configuration", "ResourceNotFoundException",
          OrganizationId=org, LogGroupArn=log_group_arn("/aws/workmail/missing"))
    boto3.client("logs", region_name="us-west-2").create_log_group(logGroupName="/aws/workmail/west")
    fails(wm, "put_email_monitoring_configuration", "InvalidParameterException",
          OrganizationId=org, LogGroupArn=log_group_arn("/aws/workmail/west", "us-west-2"))
    fails(wm, "put_email_monitoring_configuration", "InvalidParameterException",
          OrganizationId=org, LogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/workmail/acme")
    fails(wm, "put_email_monitoring_configuration", "InvalidParameterException",
          OrganizationId=org, RoleArn="not-a-role-arn-at-all", LogGroupArn=log_group_arn("/aws/workmail/acme"))


# Sandbox-only helpers --------------------------------------------------------------------


def test_sandbox_helpers(wm, domain_org):
    alice = make_user(wm, domain_org, "alice", "Alice@Example.com")
    make_user(wm, domain_org, "bob", "bob@example.com")
    make_user(wm, domain_org, "carol")  # not registered: no address
    team = make_group(wm, domain_org, "team", "team@example.com")
    inner = make_group(wm, domain_org, "inner")
    for group, member in ((team, "alice"), (team, inner), (inner, "bob"), (inner, "carol"), (inner, "alice")):
        wm.associate_member_to_group(OrganizationId=domain_org, GroupId=group, MemberId=member)
    b = backend()
    assert b.organization_domains(domain_org) == ["acme.awsapps.com", "example.com"]
    assert b.find_entity_by_email(domain_org, "alice@EXAMPLE.com").id == alice
    assert b.find_entity_by_email(domain_org, "team@example.com").kind == "GROUP"
    assert b.find_entity_by_email(domain_org, "nobody@example.com") is None
    assert b.group_member_emails(domain_org, "team@example.com") == ["Alice@Example.com", "bob@example.com"]
    assert b.group_member_emails(domain_org, team) == b.group_member_emails(domain_org, "team")
    assert b.group_member_emails(domain_org, "inner") == ["bob@example.com", "Alice@Example.com"]
    with pytest.raises(SandboxError, match="no group"):
        b.group_member_emails(domain_org, "alice")
    with pytest.raises(SandboxError, match=UNKNOWN_ORG):
        b.organization_domains(UNKNOWN_ORG)
    assert b.monitoring_log_group(domain_org) is None


# Snapshot and restore ------------------------------------------------------------------------


def test_snapshot_and_restore(wm, domain_org):
    make_user(wm, domain_org, "alice", "alice@example.com")
    snapshot = SERVICE.snapshot()
    copy.deepcopy(snapshot)  # plain data all the way down
    make_user(wm, domain_org, "bob", "bob@example.com")
    wm.register_mail_domain(OrganizationId=domain_org, DomainName="example.org")
    other = wm.create_organization(Alias="other")["OrganizationId"]
    SERVICE.restore(snapshot)
    assert [u["Name"] for u in wm.list_users(OrganizationId=domain_org)["Users"]] == ["alice"]
    assert [d["DomainName"] for d in wm.list_mail_domains(OrganizationId=domain_org)["MailDomains"]] == [
        "acme.awsapps.com", "example.com",
    ]
    fails(wm, "describe_organization", "OrganizationNotFoundException", OrganizationId=other)
    # Changes after a restore do not leak into the snapshot.
    make_user(wm, domain_org, "carol")
    SERVICE.restore(snapshot)
    assert len(wm.list_users(OrganizationId=domain_org)["Users"]) == 1


# AWS's sample functions ------------------------------------------------------------------------


def test_restricted_mailboxes_sample_calls(wm, domain_org):
    """The calls ``workmail-restricted-mailboxes-python/src/utils.py`` makes, as it makes them."""
    make_user(wm, domain_org, "alice", "alice@example.com")
    make_user(wm, domain_org, "bob", "bob@example.com")
    restricted = make_group(wm, domain_org, "Restricted", "restricted@example.com")
    wm.associate_member_to_group(OrganizationId=domain_org, GroupId=restricted, MemberId="alice")
    wm.update_default_mail_domain(OrganizationId=domain_org, DomainName="example.com")

    workmail_client = boto3.client("workmail", region_name=REGION)  # as a function would create it
    default_domain = workmail_client.describe_organization(OrganizationId=domain_org)["DefaultMailDomain"]
    assert default_domain == "example.com"
    group_id = None
    for group in workmail_client.list_groups(OrganizationId=domain_org)["Groups"]:
        if group["Name"] == "Restricted":
            group_id = group["Id"]
    assert group_id == restricted
    all_members = workmail_client.list_group_members(OrganizationId=domain_org, GroupId=group_id)["Members"]
    assert [member["Name"].lower() for member in all_members] == ["alice"]
    users = workmail_client.list_users(OrganizationId=domain_org)["Users"]
    assert {u["Email"] for u in users} == {"alice@example.com", "bob@example.com"}
    external = [a for a in ("x@gmail.com", "bob@example.com") if a.lower().split("@")[1] not in [default_domain]]
    assert external == ["x@gmail.com"]


def test_client_exceptions_are_catchable_like_on_aws(wm):
    with pytest.raises(wm.exceptions.OrganizationNotFoundException):
        wm.describe_organization(OrganizationId=UNKNOWN_ORG)
