"""Test-wide set-up: no test, and no notebook kernel, can find real AWS credentials.

The kernels nbval starts inherit this process's environment, so setting it here
covers the notebooks too.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "WORKMAIL_SANDBOX_MODE": "sandbox",
}


def pytest_configure(config: pytest.Config) -> None:
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(FAKE_AWS_ENV)


def pytest_collectstart(collector: pytest.Collector) -> None:
    # pandas' HTML tables and stderr change between versions: compare text only.
    path = getattr(collector, "path", None)
    if path is not None and path.suffix == ".ipynb":
        collector.skip_compare += ("text/html", "stderr")


@pytest.fixture
def data_dir() -> Path:
    """The repository's data/ folder."""
    return ROOT / "data"


@contextmanager
def _emulators_running():
    """moto started and the kit's emulators answering, without the runtime or network guard."""
    from moto import mock_aws

    from workmail_sandbox import emulators
    from workmail_sandbox.emulators import _core

    emulators.install()  # every emulated service and the on-demand AWS managed policies
    with mock_aws(config={"lambda": {"use_docker": False}, "iam": {"load_aws_managed_policies": False}}):
        _core.STATE.active = True
        try:
            yield _core.STATE
        finally:
            _core.STATE.active = False
            for service in _core.registered_services().values():
                service.reset()


@pytest.fixture
def emulators_active():
    """The emulators for one test. For emulator unit tests; everything else uses the pytest
    plugin's ``workmail_sandbox`` fixture, the full sandbox."""
    with _emulators_running() as state:
        yield state


@pytest.fixture(scope="module")
def emulators_module():
    """The emulators once per test module, for modules that empty the back ends they use per test."""
    with _emulators_running() as state:
        yield state
