"""The kit installs as documented: dependencies in step, public API pinned, wheel builds."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

import workmail_sandbox

ROOT = Path(__file__).resolve().parent.parent


def _name_and_bound(requirement: str) -> tuple[str, str]:
    """'moto[s3]>=5.2.5' -> ('moto', '>=5.2.5'); names normalised as PyPI and conda-forge do."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*?)\s*", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in ("lab", "test", "dev"):
        requirements += project["optional-dependencies"][extra]
    return dict(_name_and_bound(r) for r in requirements)


def _environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    return dict(_name_and_bound(d) for d in conda if not d.startswith(("python=", "pip")) and d != "pip")


def test_environment_yml_and_pyproject_name_the_same_dependencies():
    """environment.yml installs everything pyproject.toml declares, with the same lower bounds."""
    assert _environment_requirements() == _pyproject_requirements()


def test_environment_yml_pins_python_and_installs_the_kit_from_the_checkout():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert any(isinstance(d, str) and re.fullmatch(r"python=3\.1[1-9]", d) for d in env["dependencies"])
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(re.match(r'-e\s+"?\.', entry) for entry in pip)


def test_core_dependencies_are_enough_for_the_cli_and_lab_extras_are_separate():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_name_and_bound(r)[0] for r in project["dependencies"]}
    assert {"boto3", "moto", "aws-sam-translator", "pandas"} <= core
    assert not core & {"jupyterlab", "ipywidgets", "nbval", "pytest"}
    assert {"jupyterlab", "ipywidgets"} <= {_name_and_bound(r)[0] for r in project["optional-dependencies"]["lab"]}
    extras = {name: {_name_and_bound(r)[0] for r in reqs} for name, reqs in project["optional-dependencies"].items()}
    assert extras["test"] == {"pytest"}  # a function project's tests need nothing of the kit's own suite
    assert {"pytest", "nbval", "hypothesis", "nbstripout"} <= extras["dev"]


PUBLIC_API = {
    "END_OF_SUPPORT", "INBOUND", "OUTBOUND", "PAYLOAD_LIMIT_BYTES", "SUBJECT_LIMIT_CHARS", "WORKMAIL_REGIONS",
    "Action", "ConfigurationError", "EventError", "MessageParseError", "ParsedMessage", "Resolution",
    "ResponseError", "RuleError", "SandboxError", "SmtpEnvelope", "SyncResponse", "WorkMailEvent",
    "WorkMailSandboxError", "__version__", "build_event", "check_event", "check_response",
    "days_until_end_of_support", "events_from_message", "iter_messages", "parse_message", "read_eml",
    "resolve_response", "AwsAccount", "Sandbox", "connect", "start", "stop",
    "Organization", "FlowResult", "FlowSettings", "RetryPolicy",
    "InvokeCheck", "Rule", "RuleSet", "deploy_handler", "workmail_bucket_policy", "workmail_may_invoke",
    "Project", "deploy_project", "serve",
    "SesReceipt", "SesReceiving", "build_ses_event", "check_ses_event", "ses_receive", "Comparison", "compare_port",
}


def test_public_api_is_pinned():
    """Changing the public surface is a deliberate act: update this list and the CHANGELOG."""
    assert set(workmail_sandbox.__all__) == PUBLIC_API
    for name in PUBLIC_API:
        assert hasattr(workmail_sandbox, name), name


def test_every_kit_error_shares_one_base_class():
    for name in workmail_sandbox.__all__:
        obj = getattr(workmail_sandbox, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, workmail_sandbox.WorkMailSandboxError), name


def test_licence_changelog_and_readme_exist():
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()
    assert "make lab" in (ROOT / "README.md").read_text()


def test_readme_names_only_files_that_exist():
    """Every repository path the README mentions is there, so its examples work as written."""
    text = (ROOT / "README.md").read_text()
    paths = set(re.findall(r"\b((?:data|notebooks|tests|benchmarks|workmail_sandbox)/[\w./-]+\.\w+)", text))
    assert paths, "the README should point at real files"
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"README mentions missing files: {missing}"


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:", makefile, re.M) and re.search(r"^lab:", makefile, re.M)
    assert "127.0.0.1" in makefile  # the lab listens on loopback only


@pytest.mark.slow
def test_pip_builds_a_wheel_with_the_package_and_the_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("workmail_sandbox-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "workmail-sandbox = workmail_sandbox.cli:main" in zf.read(entry_points).decode()
    package = Path(workmail_sandbox.__file__).resolve().parent
    sources = {
        f"workmail_sandbox/{path.relative_to(package).as_posix()}"
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources - names == set()  # every module of the package, subpackages included
    assert "workmail_sandbox/py.typed" in names


def test_make_lab_starts_jupyterlab_on_loopback_in_sandbox_mode():
    """`make lab` (dry run): JupyterLab on notebooks/, 127.0.0.1 only, sandbox mode."""
    result = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True)
    line = result.stdout.replace("\\\n", " ")  # join the continued command line
    assert "WORKMAIL_SANDBOX_MODE=sandbox" in line
    assert "--ServerApp.ip=127.0.0.1" in line
    assert "--ServerApp.root_dir=notebooks" in line


def _readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    return [b for b in blocks if "def test_" not in b]


@pytest.mark.parametrize("index", range(len(_readme_python_blocks())))
def test_readme_python_examples_run(index, tmp_path):
    """The README's Python examples run as written, from the repository root."""
    code = _readme_python_blocks()[index]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
