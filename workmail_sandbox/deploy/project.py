"""Deploy a SAM project folder into the sandbox, as ``sam build`` and ``sam deploy`` would.

:func:`deploy_project` takes a folder with a ``template.yaml`` (the layout
``sam init`` makes), builds each function's and layer's code with its
``requirements.txt`` (:mod:`workmail_sandbox.sam.build`), stages the zips in the
sandbox's artifact bucket, runs the real SAM transform, and creates (or updates)
the stack through moto's CloudFormation with the kit's fill-ins
(:mod:`workmail_sandbox.emulators.cloudformation_models` and
:mod:`workmail_sandbox.emulators.cloudformation_fixups`). Nothing in the project
changes: the function runs as it would after ``sam deploy``.

Parameters follow CloudFormation: each value is checked against the
parameter's ``Type``, ``AllowedValues``, ``AllowedPattern``, lengths and
bounds, and a ``Ref`` to any parameter gives a string, as in CloudFormation (a
``Number`` parameter too, so a function's environment never holds a number).

A resource type neither moto nor the kit can create stops the deployment with
one line naming the resource and its type; ``skip=[...]`` leaves such resources
out when the functions do not use them.
"""

from __future__ import annotations

import copy
import json
import os
import re
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .. import _moto
from .._internal_clients import require_sandbox, sandbox_account, sandbox_client
from .._yaml_limits import yaml_error_text
from ..emulators.cloudformation_fixups import apply_moto_fixups, detach_stack_managed_policies
from ..emulators.cloudformation_models import FILLED_IN_TYPES, register_models
from ..errors import SandboxError
from ..sam.packaging import cap_function_names, stage_zip
from ..sam.parameters import parameters_as_strings, resolve_parameters
from ..sam.templates import load_template
from ..sam.transform import CODE_PROPERTY, is_packaged, transform_template

__all__ = [
    "DeployedFunction",
    "Project",
    "deploy_project",
    "find_template",
    "resource_types_markdown",
    "supported_resource_types",
]

#: The names ``sam`` looks for in a project folder, in its order.
TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
#: What ``sam deploy`` passes with ``--capabilities``: a project's template may need any of them.
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
#: Templates are at most 1 MB in CloudFormation (S3-hosted); the kit reads no more.
MAX_TEMPLATE_BYTES = 1_000_000
#: Resource types the kit applies after moto created the stack (cloudformation_fixups).
_APPLIED_AFTER = ("AWS::S3::BucketPolicy",)
_STACK_NAME = re.compile(r"^[A-Za-z][-A-Za-z0-9]{0,127}$")


@dataclass(frozen=True)
class DeployedFunction:
    """A function the project's stack created."""

    logical_id: str
    name: str
    arn: str
    role_arn: str
    runtime: str
    handler: str
    layers: tuple[str, ...] = ()


@dataclass
class Project:
    """A deployed project: its stack, functions (by logical id), outputs and resources."""

    path: Path
    stack_name: str
    stack_id: str
    region: str
    parameters: dict[str, str]
    functions: dict[str, DeployedFunction]
    outputs: dict[str, str]
    #: logical id -> (resource type, physical id)
    resources: dict[str, tuple[str, str]]
    skipped: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    #: The CloudFormation template the stack was created from (after the SAM transform).
    template: dict[str, Any] = field(default_factory=dict, repr=False)

    def function(self, logical_id: str | None = None) -> DeployedFunction:
        """The function ``logical_id``, or the project's only function."""
        if logical_id is None:
            if len(self.functions) == 1:
                return next(iter(self.functions.values()))
            raise SandboxError(
                f"The project has {len(self.functions)} functions ({', '.join(sorted(self.functions)) or 'none'}).",
                fix="name one by its logical id, e.g. project.function('MyFunction') (--function on the command line)",
            )
        try:
            return self.functions[logical_id]
        except KeyError:
            raise SandboxError(
                f"The project has no function {logical_id!r}; its functions: {', '.join(sorted(self.functions))}.",
                fix="use the logical id of an AWS::Serverless::Function in template.yaml",
            ) from None

    def delete(self) -> None:
        """Delete the stack (and with it every resource it created)."""
        delete_stack(self.stack_name, region=self.region)

    def summary(self) -> str:
        """A few lines: the stack, its functions and outputs."""
        lines = [f"Stack {self.stack_name} ({self.region}): {len(self.resources)} resources"]
        for function in self.functions.values():
            lines.append(f"  function {function.logical_id}: {function.name} ({function.runtime})")
        for key, value in self.outputs.items():
            lines.append(f"  output {key}: {value}")
        lines += [f"  skipped {name}" for name in self.skipped]
        lines += [f"  warning: {line}" for line in self.warnings]
        return "\n".join(lines)


# The template and its parameters ---------------------------------------------------------------


def find_template(path: str | os.PathLike[str]) -> Path:
    """The template of a project: ``path`` itself, or ``template.yaml`` (or .yml, .json) in it."""
    candidate = Path(path)
    if candidate.is_file():
        return candidate
    if not candidate.is_dir():
        raise SandboxError(
            f"{candidate} is neither a project folder nor a template file.",
            fix="give the folder that holds template.yaml (the one you run sam build in)",
        )
    for name in TEMPLATE_NAMES:
        if (candidate / name).is_file():
            return candidate / name
    raise SandboxError(
        f"{candidate} has no {' / '.join(TEMPLATE_NAMES)}.",
        fix="give the folder that holds the SAM template, or the template file itself",
    )


def _read_template(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    if size > MAX_TEMPLATE_BYTES:
        raise SandboxError(
            f"{path} is {size:,} bytes; CloudFormation takes templates up to {MAX_TEMPLATE_BYTES:,} bytes.",
            fix="split the project into nested stacks, or give the right file",
        )
    try:
        return load_template(path.read_text(encoding="utf-8"))
    except SandboxError as error:
        raise SandboxError(f"{path}: {error.problem}", fix=error.fix) from None
    except UnicodeDecodeError as error:
        raise SandboxError(f"{path} is not UTF-8 text: {error}", fix="save the template as UTF-8") from None
    except Exception as error:  # yaml.YAMLError and friends: one line, not a parser traceback
        raise SandboxError(
            f"{path} is not valid YAML or JSON ({yaml_error_text(error)}).", fix="fix the template (sam validate)"
        ) from None


# Building and staging the code ---------------------------------------------------------------


def _globals(template: dict[str, Any], kind: str) -> dict[str, Any]:
    section = (template.get("Globals") or {}).get(kind) or {}
    return section if isinstance(section, dict) else {}


def _build_code(
    template: dict[str, Any], root: Path, *, stack_name: str, region: str, account: str
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Build and stage every function's and layer's local code; ``(code_locations, warnings)``."""
    from ..sam.build import build_function, build_layer
    from ..sandbox import current

    running = current()
    # pip runs with the user's environment as it was before the sandbox started (proxies, PIP_*)
    saved = running.saved_environment() if running is not None else None
    function_globals = _globals(template, "Function")
    locations: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        kind = resource.get("Type", "") if isinstance(resource, dict) else ""
        if kind not in CODE_PROPERTY:
            continue
        properties = resource.get("Properties") or {}
        if "InlineCode" in properties or "ImageUri" in properties or properties.get("PackageType") == "Image":
            continue
        code = properties.get(CODE_PROPERTY[kind])
        if code is None and kind == "AWS::Serverless::Function":
            code = function_globals.get("CodeUri")
        if code is None or is_packaged(kind, code):
            continue
        if not isinstance(code, str):
            raise SandboxError(
                f"{logical_id} ({kind}) has {CODE_PROPERTY[kind]} {code!r}, neither a local path nor an S3 location.",
                fix=f"give {CODE_PROPERTY[kind]} a folder relative to the template, e.g. src/",
            )
        folder = (root / code).resolve()
        runtime = str(properties.get("Runtime") or function_globals.get("Runtime") or "python3.12")
        if folder.is_file() and zipfile.is_zipfile(folder):
            body = folder.read_bytes()  # a ready-made zip, staged as it is
        elif folder.is_dir():
            if "Layer" in kind:
                runtimes = properties.get("CompatibleRuntimes") or [runtime]
                build_method = (resource.get("Metadata") or {}).get("BuildMethod")
                build = build_layer(
                    folder, runtime=str(runtimes[0]), build_method=build_method, logical_id=logical_id,
                    saved_environ=saved,
                )
            else:
                build = build_function(folder, runtime=runtime, logical_id=logical_id, saved_environ=saved)
            body = build.zip_bytes
            notes += list(build.warnings)
        else:
            raise SandboxError(
                f"{logical_id} ({kind}) has {CODE_PROPERTY[kind]}: {code}, and {folder} does not exist.",
                fix=f"give {CODE_PROPERTY[kind]} the function's folder, relative to the template",
            )
        locations[logical_id] = stage_zip(body, f"{stack_name}/{logical_id}", region=region, account=account)
    return locations, notes


# Resource types ------------------------------------------------------------------------------------


def _references(value: Any) -> set[str]:
    """The logical ids ``value`` refers to (Ref, Fn::GetAtt, ${Name} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".", 1)[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(m.split(".", 1)[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", str(text)))
                if isinstance(inner, list) and len(inner) > 1:
                    found |= _references(inner[1])
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _leave_out(template: dict[str, Any], skip: Iterable[str]) -> tuple[str, ...]:
    """Remove the resources ``skip`` names (logical ids or types); refuse when something uses one."""
    resources = template.get("Resources") or {}
    wanted = set(skip)
    names = tuple(
        logical for logical, resource in resources.items() if logical in wanted or resource.get("Type") in wanted
    )
    unmatched = wanted - set(names) - {resources[n].get("Type") for n in names}
    if unmatched:
        raise SandboxError(
            f"skip names {', '.join(sorted(unmatched))}, which is neither a resource nor a resource type of the "
            "template (after the SAM transform).",
            fix=f"use logical ids or types from the template, e.g. {next(iter(resources), 'MyAlarm')}",
        )
    for name in names:
        del resources[name]
    for logical, resource in resources.items():
        used = _references({k: v for k, v in resource.items() if k != "DependsOn"}) & set(names)
        if used:
            raise SandboxError(
                f"{logical} refers to {', '.join(sorted(used))}, which skip leaves out.",
                fix="skip only resources nothing else in the template refers to",
            )
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in names:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in names]
    for key, output in list((template.get("Outputs") or {}).items()):
        if _references(output) & set(names):
            del template["Outputs"][key]
    return names


def supported_resource_types() -> dict[str, str]:
    """Every resource type ``deploy_project`` can create, with who creates it ("kit" or "moto")."""
    register_models()
    kinds = {kind: "moto" for kind in _moto.cloudformation_model_types() if kind.startswith("AWS::")}
    kinds.pop("AWS::SERVICE::RESOURCE", None)  # moto's placeholder in its model template
    kinds.pop("AWS::CloudFormation::Stack", None)  # nested stacks: their templates are not fetched
    kinds.update(dict.fromkeys((*FILLED_IN_TYPES, *_APPLIED_AFTER), "kit"))
    return dict(sorted(kinds.items()))


def resource_types_markdown() -> str:
    """The table of docs/projects.md: supported types by service ("(kit)": the kit creates it)."""
    by_service: dict[str, list[str]] = {}
    for kind, who in supported_resource_types().items():
        _, service, name = kind.split("::", 2)
        by_service.setdefault(service, []).append(f"`{name}`" + (" (kit)" if who == "kit" else ""))
    rows = [f"| {service} | {', '.join(names)} |" for service, names in sorted(by_service.items())]
    return "\n".join(["| service (`AWS::<service>::...`) | resource types |", "|---|---|", *rows]) + "\n"


def _check_types(template: dict[str, Any]) -> None:
    supported = set(supported_resource_types()) - {"AWS::CloudFormation::Stack"}
    for logical, resource in (template.get("Resources") or {}).items():
        kind = str(resource.get("Type", ""))
        if kind in supported:
            continue
        if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
            why = "custom resources (a function CloudFormation calls during deployment) are not run in the sandbox"
        elif kind == "AWS::CloudFormation::Stack":
            why = "nested stacks and nested applications (AWS::Serverless::Application) are not fetched"
        else:
            why = "neither moto's CloudFormation nor the kit can create it"
        raise SandboxError(
            f"{logical} ({kind}) cannot be deployed in the sandbox: {why}.",
            fix=f"pass skip=[{logical!r}] (--skip {logical}) if the functions do not use it, or remove it from the "
            "template; the functions' calls to its service can be answered with sb.stand_in(...)",
        )


# The stack ---------------------------------------------------------------------------------------------


def _stack_name_for(root: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9-]+", "-", root.resolve().name).strip("-")
    if not name or not name[0].isalpha():
        name = f"sam-app-{name}".rstrip("-")
    return name[:128]


def _existing_template(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    try:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cfn.exceptions.ClientError:
        return None
    if stack["StackStatus"] in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS"):
        return None
    body = cfn.get_template(StackName=stack_name)["TemplateBody"]
    return load_template(body) if isinstance(body, str) else dict(body)


def _create_or_update(
    cfn: Any, stack_name: str, template: dict[str, Any], parameters: dict[str, str], previous: dict[str, Any] | None
) -> str:
    arguments = {
        "StackName": stack_name,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": CAPABILITIES,
    }
    try:
        if previous is None:
            stack_id = cfn.create_stack(**arguments)["StackId"]
        else:
            try:
                stack_id = cfn.update_stack(**arguments)["StackId"]
            except cfn.exceptions.ClientError as error:
                if "No updates are to be performed" not in str(error):
                    raise
                stack_id = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]
    except cfn.exceptions.ClientError as error:
        raise SandboxError(
            f"CloudFormation refused stack {stack_name}: {error.response['Error'].get('Message', error)}",
            fix="fix the template as the message says (sam validate finds most of these), or skip the resource",
        ) from None
    except SandboxError:
        raise
    except Exception as error:  # moto's own model code failing on a resource: one line, not its traceback
        raise SandboxError(
            f"moto's CloudFormation failed creating stack {stack_name}: {type(error).__name__}: {error}",
            fix="skip=[...] the resource it names if the functions do not use it; otherwise report it to "
            "workmail-sandbox with the template",
        ) from error
    stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
        raise SandboxError(
            f"Stack {stack_name} ended {stack['StackStatus']}: {stack.get('StackStatusReason', 'no reason given')}",
            fix="fix the resource the reason names",
        )
    return str(stack_id)


def _describe(path: Path, stack_id: str, region: str, parameters: dict[str, str], template: dict[str, Any]) -> Project:
    cfn = sandbox_client("cloudformation", region)
    lam = sandbox_client("lambda", region)
    stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    resources: dict[str, tuple[str, str]] = {}
    functions: dict[str, DeployedFunction] = {}
    paginator = cfn.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_id):
        for item in page["StackResourceSummaries"]:
            resources[item["LogicalResourceId"]] = (item["ResourceType"], item.get("PhysicalResourceId", ""))
    for logical, (kind, physical) in resources.items():
        if kind != "AWS::Lambda::Function" or not physical:
            continue
        config = lam.get_function_configuration(FunctionName=physical)
        functions[logical] = DeployedFunction(
            logical_id=logical,
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            role_arn=config.get("Role", ""),
            runtime=config.get("Runtime", ""),
            handler=config.get("Handler", ""),
            layers=tuple(layer["Arn"] for layer in config.get("Layers") or []),
        )
    outputs = {o["OutputKey"]: str(o["OutputValue"]) for o in stack.get("Outputs") or []}
    return Project(
        path=path,
        stack_name=stack["StackName"],
        stack_id=stack_id,
        region=region,
        parameters=parameters,
        functions=functions,
        outputs=outputs,
        resources=resources,
        template=template,
    )


def deploy_project(
    path: str | os.PathLike[str],
    parameters: dict[str, Any] | None = None,
    *,
    stack_name: str | None = None,
    region: str | None = None,
    skip: Iterable[str] = (),
) -> Project:
    """Deploy the SAM project at ``path`` (its folder, or its template) into the sandbox.

    What ``sam build`` then ``sam deploy`` do: each function's ``CodeUri`` (and each
    layer's ``ContentUri``) is built with its ``requirements.txt`` and staged in S3,
    the SAM transform runs, and the stack ``stack_name`` (default: the folder's
    name) is created, or updated when it exists. ``parameters`` override the
    template's defaults. ``skip`` leaves out resources (logical ids or types)
    the sandbox cannot create and the functions do not use.

    Returns a :class:`Project`: ``project.function()`` (or ``.functions[id]``) names the
    deployed functions, ``.outputs`` and ``.resources`` what the stack made.
    """
    require_sandbox("deploy_project")
    template_path = find_template(path)
    root = template_path.parent
    sam = _read_template(template_path)
    values = resolve_parameters(sam, parameters)
    name = stack_name or _stack_name_for(root)
    if not _STACK_NAME.match(name):
        raise SandboxError(
            f"{name!r} is not a valid stack name.",
            fix="use letters, digits and dashes, starting with a letter (at most 128 characters)",
        )
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    account = sandbox_account()
    register_models()

    skip = list(skip)
    resources = sam.get("Resources") or {}
    applications = [n for n, r in resources.items() if r.get("Type") == "AWS::Serverless::Application"]
    skipped_first = _leave_out(sam, [n for n in skip if n in applications])  # before the transform fetches them
    for logical in applications:
        if logical not in skipped_first:
            raise SandboxError(
                f"{logical} (AWS::Serverless::Application) cannot be deployed in the sandbox: nested applications "
                "are not fetched.",
                fix=f"pass skip=[{logical!r}] (--skip {logical}) if the functions do not use it",
            )
    skip = [n for n in skip if n not in skipped_first]

    locations, notes = _build_code(sam, root, stack_name=name, region=region, account=account)
    template = transform_template(
        sam, region=region, account=account, code_locations=locations, parameter_values=values
    )
    parameters_as_strings(template)
    skipped = skipped_first + _leave_out(template, skip)
    _check_types(template)

    cfn = sandbox_client("cloudformation", region)
    previous = _existing_template(cfn, name)
    cap_function_names(template, name, previous)
    stack_id = _create_or_update(cfn, name, template, values, previous)
    try:
        apply_moto_fixups(stack_id, copy.deepcopy(template), region=region, previous_template=previous)
    except ClientError as error:
        raise SandboxError(
            f"Stack {name} was created, but the kit could not finish it as CloudFormation would: "
            f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message')}",
            fix="fix the resource the message names in the template; report it to workmail-sandbox if AWS accepts it",
        ) from None

    project = _describe(root, stack_id, region, values, template)
    project.skipped = skipped
    project.warnings = notes
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return project


def delete_stack(stack_name: str, *, region: str) -> None:
    """Delete a project's stack (detaching the managed policies moto would trip on first)."""
    require_sandbox("delete_stack")
    detach_stack_managed_policies(stack_name, region=region)
    sandbox_client("cloudformation", region).delete_stack(StackName=stack_name)
