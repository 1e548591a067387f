"""examples/my_workmail_function: a project of its own passes its tests with the kit's pytest plugin.

The example's tests run in a separate pytest process, from the repository root, the
way CI would run them after ``pip install workmail-sandbox[test]``: the plugin's
fixtures come from the installed entry point, and the example's own pyproject.toml
is its pytest configuration (rootdir).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_example(target: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # -p no:nbval: the kit's notebook plugin is not needed here and costs seconds to import.
    return subprocess.run(
        [sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-p", "no:nbval",
         *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
    )


def test_the_example_projects_tests_pass():
    result = _run_example("examples/my_workmail_function", "-rA")
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    # test_utils.py imports src/utils.py through the example's own `pythonpath = ["src"]`:
    # its passing shows pytest used the example's pyproject.toml, not the kit's.
    passed = {
        line.split()[-1].split("tests/", 1)[-1] for line in result.stdout.splitlines() if line.startswith("PASSED ")
    }
    for test in (
        "test_app.py::test_external_mail_is_tagged",
        "test_app.py::test_internal_mail_is_left_alone[INBOUND]",
        "test_app.py::test_a_retry_with_the_same_invocation_id_tags_once",
        "test_app.py::test_redirected_mail_is_delivered_untagged",
        "test_deployed.py::test_workmail_may_invoke_the_function",
        "test_deployed.py::test_external_mail_reaches_the_message_flow_api",
        "test_utils.py::test_tag_subject_tags_once",
    ):
        assert test in passed, output
    assert "11 passed" in result.stdout, output


def test_the_smoke_tests_skip_in_aws_mode_without_a_deployed_function():
    """In aws mode they never touch the sandbox; without a function to test they skip, saying why."""
    result = _run_example(
        "examples/my_workmail_function/tests/test_deployed.py", "-rs",
        env={"WORKMAIL_SANDBOX_MODE": "aws", "MY_FUNCTION_NAME": "", "WORKMAIL_ORGANIZATION_ID": ""},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 skipped" in result.stdout
    assert "set MY_FUNCTION_NAME and WORKMAIL_ORGANIZATION_ID" in result.stdout
