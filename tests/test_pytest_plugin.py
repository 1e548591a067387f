"""The fixtures other projects get from the kit's pytest plugin (pytest11 entry point)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_workmail_org_fixture(workmail_org, workmail_sandbox):
    assert workmail_org.organization_id.startswith("m-")
    assert workmail_org.arn.endswith(workmail_org.organization_id)
    assert set(workmail_org.domains) == {"example.com", "sales.example.com"}
    assert workmail_org.groups == {"finance@example.com": workmail_org.groups["finance@example.com"]}
    described = workmail_sandbox.client("workmail").describe_organization(OrganizationId=workmail_org.organization_id)
    assert described["DefaultMailDomain"] == "example.com"


def test_a_project_of_its_own_gets_the_fixtures(tmp_path):
    """`def test_my_function(workmail_org): ...` works in any project that installs the kit."""
    (tmp_path / "test_mine.py").write_text(textwrap.dedent('''
        import json

        def test_my_function(workmail_org, workmail_sandbox):
            users = workmail_sandbox.client("workmail").list_users(OrganizationId=workmail_org.organization_id)
            assert len(users["Users"]) == 4
            assert workmail_sandbox.client("sts").get_caller_identity()["Account"] == "123456789012"
    '''))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
