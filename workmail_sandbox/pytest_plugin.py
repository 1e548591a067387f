"""pytest fixtures for testing your own WorkMail functions against the sandbox.

Installed with the kit and registered through the ``pytest11`` entry point, so
any project that installs workmail-sandbox can write::

    def test_my_function(workmail_org, workmail_sandbox):
        ...

``workmail_sandbox`` is a running sandbox, started for each test and stopped
after it (starting costs milliseconds once the first test has paid for the imports);
``workmail_org`` is an organization with a domain and a few users, created
through the real boto3 ``workmail`` API. Nothing here imports moto until a
fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass(frozen=True)
class OrganizationInfo:
    """The organization ``workmail_org`` created (ids as boto3 returned them)."""

    organization_id: str
    arn: str
    alias: str
    region: str
    account_id: str
    domains: tuple[str, ...]
    users: dict[str, str] = field(default_factory=dict)  # email -> user id
    groups: dict[str, str] = field(default_factory=dict)  # email -> group id


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "workmail_sandbox: the test uses the workmail-sandbox fixtures")


@pytest.fixture
def workmail_sandbox() -> Iterator[Any]:
    """A running sandbox for one test: started for it and stopped afterwards.

    If the test session already runs a sandbox (started by the user), the
    fixture uses it and resets it to empty afterwards instead.
    """
    from workmail_sandbox import sandbox as sandbox_module

    already = sandbox_module.current()
    sb = sandbox_module.start()
    try:
        yield sb
    finally:
        if already is None:
            sandbox_module.stop()
        elif sb.started:
            sb.reset()


@pytest.fixture
def workmail_org(workmail_sandbox: Any) -> OrganizationInfo:
    """An emulated WorkMail organization: domain example.com, users alice, bob, carol and group finance."""
    client = workmail_sandbox.client("workmail")
    org_id = client.create_organization(Alias="example-org")["OrganizationId"]
    client.register_mail_domain(OrganizationId=org_id, DomainName="example.com")
    client.update_default_mail_domain(OrganizationId=org_id, DomainName="example.com")
    users = {}
    for name in ("alice", "bob", "carol"):
        user_id = client.create_user(
            OrganizationId=org_id, Name=name, DisplayName=name.title(), Password="Sandbox-Passw0rd!"
        )["UserId"]
        client.register_to_work_mail(OrganizationId=org_id, EntityId=user_id, Email=f"{name}@example.com")
        users[f"{name}@example.com"] = user_id
    group_id = client.create_group(OrganizationId=org_id, Name="finance")["GroupId"]
    client.register_to_work_mail(OrganizationId=org_id, EntityId=group_id, Email="finance@example.com")
    client.associate_member_to_group(OrganizationId=org_id, GroupId=group_id, MemberId=users["alice@example.com"])
    described = client.describe_organization(OrganizationId=org_id)
    domains = tuple(d["DomainName"] for d in client.list_mail_domains(OrganizationId=org_id)["MailDomains"])
    return OrganizationInfo(
        organization_id=org_id,
        arn=described["ARN"],
        alias="example-org",
        region=workmail_sandbox.region,
        account_id=workmail_sandbox.account_id,
        domains=domains,
        users=users,
        groups={"finance@example.com": group_id},
    )
