"""What the lessons' start-up paths import, and what a compare run builds once (issue #15).

Import checks run in a fresh interpreter: this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import workmail_sandbox.widgets as widgets


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_show_json_does_not_import_pandas_or_the_other_widgets():
    """Lessons 01, 02 and 05 use show_json; the events table's pandas (about 0.4 s) loads only for it."""
    loaded = _modules_after("from workmail_sandbox.widgets import show_json, JsonView")
    assert "pandas" not in loaded
    assert "workmail_sandbox.widgets.event_inspector" not in loaded
    assert "workmail_sandbox.widgets.rule_tester" not in loaded


def test_every_widget_name_loads_on_first_use():
    for name in widgets.__all__:
        value = getattr(widgets, name)
        assert getattr(value, "__name__", name) == name
    assert set(widgets.__all__) <= set(dir(widgets))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchWidget'"):
        widgets.NoSuchWidget  # noqa: B018 - the attribute access is the test


def test_star_import_gives_every_widget():
    loaded = _modules_after(
        "from workmail_sandbox.widgets import *\n"
        "assert all(name in globals() for name in __import__('workmail_sandbox.widgets').widgets.__all__)"
    )
    assert "workmail_sandbox.widgets.rule_tester" in loaded


def test_a_compare_run_makes_one_client_per_service(workmail_sandbox):
    """Inside a compare_port run, the module's own calls share one boto3 client per service."""
    from workmail_sandbox import migrate

    made: list[str] = []
    real = type(workmail_sandbox).client

    class Counting:
        def client(self, service: str):
            made.append(service)
            return real(workmail_sandbox, service)

    sb = Counting()
    assert migrate._client(sb, "s3") is not migrate._client(sb, "s3")  # outside a run: a new client each time
    token = migrate._RUN_CLIENTS.set({})
    try:
        first = migrate._client(sb, "s3")
        assert migrate._client(sb, "s3") is first
        assert migrate._client(sb, "ses") is not first
    finally:
        migrate._RUN_CLIENTS.reset(token)
    assert made == ["s3", "s3", "s3", "ses"]
    assert migrate._RUN_CLIENTS.get() is None


def test_deploying_a_project_for_another_organization_does_not_import_samtranslator(tmp_path):
    """Lesson 08 and `workmail-sandbox invoke` deploy examples/my_workmail_function with a new
    OrganizationId each time; samtranslator leaves it to CloudFormation, so the transform cached
    by the first process serves the second (samtranslator: 0.3-0.5 s of import and transform)."""
    project = Path(__file__).resolve().parent.parent / "examples" / "my_workmail_function"

    def deploy(organization_id: str) -> str:
        return (
            f"import os\nos.environ['WORKMAIL_SANDBOX_CACHE'] = {str(tmp_path)!r}\n"
            "import workmail_sandbox as wms\nwms.start()\n"
            f"wms.deploy_project({str(project)!r}, {{'OrganizationId': {organization_id!r}}})"
        )

    assert "samtranslator" in _modules_after(deploy("m-" + "a" * 32))
    assert "samtranslator" not in _modules_after(deploy("m-" + "b" * 32))
