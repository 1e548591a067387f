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

**The garbage collector.** When ``workmail_sandbox`` first starts a sandbox in a
test session, it moves every object alive at that moment (pytest, the test
modules, boto3, moto and the kit, as imported) into the permanent generation
with :func:`gc.freeze`, and :func:`gc.unfreeze` gives them back when the session
ends. Python's cyclic collector then no longer walks those objects again and
again: each full collection during the tests, and the two collections pytest
makes at the end of a session, look only at what the tests made (lesson 08's ``pytest`` runs
take 0.2-0.3 s less, ``docs/performance.md`` §10). The price (*choice*: pytest
does nothing of the kind): an object that was alive then and later becomes
garbage inside a reference cycle is not freed before the session ends (memory
held is at most what existed at that moment), and its ``__del__`` runs after
pytest's last check for unraisable exceptions.
Set ``workmail_sandbox_freeze_gc = false`` in the pytest configuration to turn
this off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

#: The ini option that turns the freeze off (module docstring).
FREEZE_GC_OPTION = "workmail_sandbox_freeze_gc"
_froze = pytest.StashKey[bool]()


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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        FREEZE_GC_OPTION,
        type="bool",
        default=True,
        help="workmail-sandbox: move the objects alive at the first sandbox start out of the cyclic "
        "garbage collector's way until the session ends (gc.freeze); false turns it off",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "workmail_sandbox: the test uses the workmail-sandbox fixtures")
    config.stash[_froze] = False
    # Cleanups run last-in first-out and this hook runs before pytest's own plugins' (it was
    # registered after them): the unfreeze comes after pytest's final collections.
    config.add_cleanup(lambda: _unfreeze(config))


def _freeze_once(config: pytest.Config) -> None:
    """gc.freeze() at the session's first sandbox start (module docstring)."""
    if config.stash.get(_froze, True) or not config.getini(FREEZE_GC_OPTION):
        return
    config.stash[_froze] = True
    gc.freeze()


def _unfreeze(config: pytest.Config) -> None:
    if config.stash.get(_froze, False):
        config.stash[_froze] = False
        gc.unfreeze()


@pytest.fixture
def workmail_sandbox(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running sandbox for one test: started for it and stopped afterwards.

    If the test session already runs a sandbox (started by the user), the
    fixture uses it and resets it to empty afterwards instead.
    """
    from workmail_sandbox import sandbox as sandbox_module

    already = sandbox_module.current()
    sb = sandbox_module.start()
    _freeze_once(request.config)
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
