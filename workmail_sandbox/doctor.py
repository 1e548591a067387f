"""``workmail-sandbox doctor``: check this machine can run the lessons, and say what to fix."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from . import sandbox
from .aws import AwsAccount
from .sandbox import AWS, get_mode

__all__ = ["Check", "run_checks"]


@dataclass(frozen=True)
class Check:
    """One check: what was looked at, whether it passed, and the fix when not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.required else "warn")
        text = f"[{mark}] {self.name}: {self.detail}"
        return text + (f"\n       fix: {self.fix}" if not self.ok and self.fix else "")


_CORE = {"boto3": "boto3", "moto": "moto", "aws-sam-translator": "samtranslator", "pandas": "pandas", "PyYAML": "yaml"}
_LAB = {"jupyterlab": "jupyterlab", "ipywidgets": "ipywidgets", "jupyterlab_widgets": "jupyterlab_widgets"}


def _package(dist: str, module: str, required: bool, extra: str) -> Check:
    try:
        found = version(dist)
        importlib.import_module(module)
    except (PackageNotFoundError, ImportError) as exc:
        return Check(f"package {dist}", False, f"not importable ({exc.__class__.__name__})",
                     f'pip install "workmail-sandbox{extra}"', required)
    return Check(f"package {dist}", True, found, required=required)


#: The JupyterLab extension that draws ipywidgets (shipped prebuilt in jupyterlab_widgets).
WIDGET_EXTENSION = "@jupyter-widgets/jupyterlab-manager"


def _widget_extension_check() -> Check:
    """Without the prebuilt extension, JupyterLab shows widgets as plain text ("VBox(children=...)")."""
    name = "JupyterLab widget extension"
    fix = 'pip install "workmail-sandbox[lab]" into the environment JupyterLab runs from, then restart JupyterLab'
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return Check(name, False, "jupyter_core is not installed", fix, required=False)
    for folder in jupyter_path("labextensions"):
        if os.path.isfile(os.path.join(folder, *WIDGET_EXTENSION.split("/"), "package.json")):
            return Check(name, True, f"{WIDGET_EXTENSION} in {folder}", required=False)
    return Check(name, False, f"{WIDGET_EXTENSION} not found in JupyterLab's extension folders", fix, required=False)


def run_checks(*, start_sandbox: bool = True) -> list[Check]:
    """Every check, in order; none raises."""
    checks = [
        Check("python", sys.version_info >= (3, 11), sys.version.split()[0],
              "install Python 3.11 or newer and recreate the virtual environment"),
    ]
    checks += [_package(d, m, True, "") for d, m in _CORE.items()]
    checks += [_package(d, m, False, "[lab]") for d, m in _LAB.items()]
    checks.append(_widget_extension_check())

    try:
        mode = get_mode()
    except Exception as exc:  # a bad WORKMAIL_SANDBOX_MODE
        checks.append(Check("mode", False, str(exc), "set WORKMAIL_SANDBOX_MODE=sandbox or aws"))
        return checks
    checks.append(Check("mode", True, mode))
    if mode == AWS:
        checks.append(_aws_check())
    elif start_sandbox:
        checks.append(_sandbox_check())
    return checks


def _sandbox_check() -> Check:
    already = sandbox.current()
    try:
        sb = sandbox.start()
        identity = sb.client("sts").get_caller_identity()["Account"]
        sb.client("workmail").list_organizations()
    except Exception as exc:
        return Check("sandbox start", False, f"{exc.__class__.__name__}: {exc}",
                     "reinstall the kit (make install) and run `workmail-sandbox doctor` again")
    finally:
        if already is None:
            sandbox.stop()
    return Check("sandbox start", True, f"moto and the emulators answer (account {identity})")


def _aws_check() -> Check:
    try:
        account = AwsAccount(os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
        return Check("aws credentials", True, f"account {account.account_id} in {account.region}")
    except Exception as exc:
        return Check("aws credentials", False, str(exc),
                     "configure credentials (aws configure) and a WorkMail region (us-east-1, us-west-2, eu-west-1)")
