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
    """An emulated WorkMail organization: example.com and sales.example.com, users alice, bob,
    carol (example.com) and dave (sales.example.com), group finance@example.com (alice)."""
    from workmail_sandbox.lessons import ORG_ALIAS, ORG_DOMAINS, create_example_organization

    org_id, arn, users = create_example_organization(workmail_sandbox)
    groups = workmail_sandbox.client("workmail").list_groups(OrganizationId=org_id)["Groups"]
    return OrganizationInfo(
        organization_id=org_id,
        arn=arn,
        alias=ORG_ALIAS,
        region=workmail_sandbox.region,
        account_id=workmail_sandbox.account_id,
        domains=ORG_DOMAINS,
        users=users,
        groups={g["Email"]: g["Id"] for g in groups if g.get("Email")},
    )
