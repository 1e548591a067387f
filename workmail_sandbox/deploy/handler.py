"""Deploy a handler written in a notebook cell as a real Lambda function, in one call.

::

    import json

    def lambda_handler(event, context):
        print(json.dumps(event))
        return {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}

    deploy_handler(lambda_handler, name="wm-hello")

:func:`deploy_handler` turns the function (or a source string) into ``app.py``,
zips it with any ``extra_files``, creates an execution role if none is given, and
calls the real boto3 ``lambda.create_function`` (or ``update_function_code`` and
``update_function_configuration`` when the function exists). It works the same
in the sandbox and against a real account.

How a function object becomes source (:func:`handler_source`)
-------------------------------------------------------------

The function's own source (``inspect.getsource``; IPython keeps each cell's
source, so notebook functions work) is written after what it uses from its
module, found from the names the code loads as globals:

* modules (``import json``, ``import boto3 as b``) become ``import`` lines;
* functions and classes from other modules (``from email import
  message_from_bytes``) become ``from ... import ...`` lines;
* functions and classes defined beside it (in the notebook or the same module)
  are copied too, with what *they* use;
* constants (strings, numbers, booleans, ``None``, and tuples, lists, dicts and
  sets of those) are copied as ``NAME = <repr>``.

Limits: anything else the function reads as a global (a boto3 client, an open
file, a DataFrame) cannot be copied and raises :class:`SandboxError`, so create
it inside the handler or at the top of a source string; decorators, closures and
lambdas are refused; a name rebound after the function was defined is copied
with its current value. Modules are imported, never copied: a module of your own
(``from mylib import helper``) must also go into ``extra_files``
(``{"mylib.py": Path("mylib.py").read_text()}``). When in doubt, pass the
module's source as a string.

Tracebacks in your terms: deploy_handler remembers where each copied
definition was written (:func:`handler_source_map`), so the kit's reports show
a crash at ``File "your cell In [12]", line 24`` instead of line 28 of
``app.py`` (:func:`workmail_sandbox.handler_logs.in_your_terms`); Lambda's own
payload and log keep ``app.py``, as on AWS.
"""

from __future__ import annotations

import builtins
import dis
import inspect
import io
import json
import os
import re
import sys
import textwrap
import time
import types
import zipfile
from collections.abc import Callable, Mapping
from typing import Any

from ..aws import TAG_KEY, TAG_VALUE
from ..emulators._core import STATE
from ..errors import ConfigurationError, SandboxError
from ..handler_logs import Segment, SourceMap, register
from ..sandbox import current

__all__ = [
    "BASIC_EXECUTION_POLICY_ARN",
    "LAMBDA_TRUST_POLICY",
    "deploy_handler",
    "handler_source",
    "handler_source_map",
    "zip_source",
]

#: The AWS managed policy that lets a function write its logs.
BASIC_EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

#: The trust policy of a Lambda execution role.
LAMBDA_TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}

# What AWSLambdaBasicExecutionRole allows, for accounts where the managed policy cannot be attached.
_BASIC_EXECUTION_INLINE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
}

_CONSTANT_TYPES = (str, bytes, int, float, complex, bool, type(None))
_MODULE_NAME = "app"
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------------------
# Source
# --------------------------------------------------------------------------------------


def _is_constant(value: Any, depth: int = 0) -> bool:
    if isinstance(value, _CONSTANT_TYPES):
        return True
    if depth > 8:
        return False
    if isinstance(value, (tuple, list, set, frozenset)):
        return all(_is_constant(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(_is_constant(k, depth + 1) and _is_constant(v, depth + 1) for k, v in value.items())
    return False


def _global_names(code: types.CodeType) -> list[str]:
    """Names the code (and code nested in it) reads or writes as globals, in order."""
    seen: dict[str, None] = {}
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"):
            seen[str(instruction.argval)] = None
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            for name in _global_names(const):
                seen[name] = None
    return list(seen)


def _source_of(obj: Any, what: str) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as error:
        raise SandboxError(
            f"The source of {what} cannot be found ({error}).",
            fix="define it in a notebook cell or a .py file, or pass the whole module source as a string",
        ) from None


def handler_source(func: Callable[..., Any]) -> str:
    """The ``app.py`` that :func:`deploy_handler` would write for ``func`` (see the module docstring)."""
    return handler_source_map(func).source


def handler_source_map(func: Callable[..., Any]) -> SourceMap:
    """:func:`handler_source`, with where each copied definition came from (a notebook cell, a file).

    Tracebacks shown by the kit use it to name the learner's own lines
    (:func:`workmail_sandbox.handler_logs.in_your_terms`).
    """
    if not inspect.isfunction(func):
        raise SandboxError(
            f"deploy_handler takes a function or a source string, not {type(func).__name__}.",
            fix="pass the handler function itself (deploy_handler(lambda_handler, name=...)) or its module source",
        )
    if func.__name__ == "<lambda>":
        raise SandboxError(
            "A lambda expression cannot be deployed: Lambda calls the handler by its name.",
            fix="write it with def, e.g. def lambda_handler(event, context): ...",
        )
    if func.__closure__:
        raise SandboxError(
            f"{func.__name__} is defined inside another function and uses its variables "
            f"({', '.join(func.__code__.co_freevars)}); it cannot run on its own in Lambda.",
            fix="define the handler at the top level of a cell or module",
        )
    module_name = func.__module__
    imports: dict[str, None] = {}
    constants: dict[str, str] = {}
    definitions: dict[str, str] = {}  # name -> source, dependencies first
    origins: dict[str, tuple[str, int] | None] = {}  # name -> (where it was written, its first line there)
    visiting: set[str] = set()

    def collect(obj: Any, name: str) -> None:
        if name in definitions or name in visiting:
            return
        visiting.add(name)
        source = _source_of(obj, name)
        if isinstance(obj, types.FunctionType):
            if obj.__closure__:
                raise SandboxError(
                    f"{name} is defined inside another function; it cannot be copied into the function's code.",
                    fix="define it at the top level of a cell or module",
                )
            codes = [obj.__code__]
        else:  # a class: the code of its methods
            codes = [
                member.__code__
                for member in vars(obj).values()
                if isinstance(member, types.FunctionType)
            ]
        if source.lstrip().startswith("@"):
            raise SandboxError(
                f"{name} has a decorator; the sandbox cannot copy decorated code reliably.",
                fix="remove the decorator, or pass the module's source as a string",
            )
        scope = obj.__globals__ if isinstance(obj, types.FunctionType) else vars(inspect.getmodule(obj) or builtins)
        for code in codes:
            for used in _global_names(code):
                resolve(used, scope, name)
        visiting.discard(name)
        definitions[name] = source
        origins[name] = _origin(obj)

    def resolve(used: str, scope: Mapping[str, Any], user: str) -> None:
        if used in scope:
            value = scope[used]
        elif hasattr(builtins, used):
            return
        else:
            return  # a name the code defines itself, or one that does not exist yet (a NameError in Lambda too)
        if isinstance(value, types.ModuleType):
            real = value.__name__
            imports[f"import {real}" if real == used else f"import {real} as {used}"] = None
            modules_used[used] = real
            return
        if isinstance(value, (types.FunctionType, type)) and getattr(value, "__module__", None) == module_name:
            if getattr(value, "__name__", used) != used:
                raise SandboxError(
                    f"{user} uses {used!r}, another name for {value.__name__}; the sandbox copies definitions by name.",
                    fix=f"call {value.__name__} by its own name, or pass the module's source as a string",
                )
            collect(value, used)
            return
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)) or callable(value):
            origin = getattr(value, "__module__", None)
            qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
            module = _import_module_quiet(origin)
            if (
                origin
                and qualname
                and "." not in qualname
                and module is not None
                and getattr(module, qualname, None) is value
            ):
                line = f"from {origin} import {qualname}" + (f" as {used}" if qualname != used else "")
                imports[line] = None
                return
        if _is_constant(value):
            constants[used] = f"{used} = {value!r}"
            return
        raise SandboxError(
            f"{user} uses the global {used!r} (a {type(value).__module__}.{type(value).__qualname__}), "
            "which cannot be copied into the function's code.",
            fix=f"create {used} inside the handler (or pass the module's source as a string, with {used} "
            "created at module level, as Lambda code usually does)",
        )

    modules_used: dict[str, str] = {}
    collect(func, func.__name__)
    # ``email.policy.default`` needs ``import email.policy``: ``import email`` alone
    # does not load the submodule in a fresh Lambda process.
    for used, real in modules_used.items():
        for source in definitions.values():
            for chain in re.findall(rf"\b{re.escape(used)}((?:\.\w+)+)", source):
                dotted = real
                for attribute in chain.strip(".").split("."):
                    dotted = f"{dotted}.{attribute}"
                    if dotted in sys.modules:
                        imports[f"import {dotted}"] = None
                    else:
                        break
    parts = [f"# app.py, written by workmail_sandbox.deploy_handler from {func.__qualname__}."]
    if imports:
        parts.append("\n".join(imports))
    if constants:
        parts.append("\n".join(constants.values()))
    first_definition = len(parts)
    parts.extend(source.rstrip("\n") for source in definitions.values())
    names = list(definitions)
    segments = []
    line = 1
    for index, part in enumerate(parts):
        count = part.count("\n") + 1
        origin = origins[names[index - first_definition]] if index >= first_definition else None
        if origin is not None:
            segments.append(Segment(line, count, origin[0], origin[1]))
        line += count + 2  # two blank lines between parts
    return SourceMap(f"{_MODULE_NAME}.py", "\n\n\n".join(parts) + "\n", tuple(segments))


def _origin(obj: Any) -> tuple[str, int] | None:
    """Where ``obj`` was written, as a learner names it ("your cell In [5]", "handlers.py"), and its first line."""
    try:
        filename = inspect.getsourcefile(obj) or inspect.getfile(obj)
        first = inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return None
    return _place_name(filename), max(first, 1)


def _place_name(filename: str) -> str:
    """A notebook cell as "your cell In [n]" (IPython's execution count), a file by its name."""
    classic = re.match(r"<ipython-input-(\d+)-", filename)
    if classic:
        return f"your cell In [{classic[1]}]"
    shell = None
    if "IPython" in sys.modules:
        try:
            shell = sys.modules["IPython"].get_ipython()
        except Exception:  # pragma: no cover - IPython half-imported
            shell = None
    numbers = getattr(getattr(shell, "compile", None), "_filename_map", None)
    if isinstance(numbers, dict) and filename in numbers:
        return f"your cell In [{numbers[filename]}]"
    if shell is not None and os.path.basename(os.path.dirname(filename)).startswith("ipykernel_"):
        return "your cell"
    return os.path.basename(filename)


def _import_module_quiet(name: str | None) -> types.ModuleType | None:
    return sys.modules.get(name) if name else None


def zip_source(
    source: str, extra_files: Mapping[str, str | bytes] | None = None, *, module: str = _MODULE_NAME
) -> bytes:
    """A deployment package: ``<module>.py`` plus ``extra_files`` (path -> text), reproducible byte for byte."""
    files: dict[str, str | bytes] = {f"{module}.py": source}
    for path, content in (extra_files or {}).items():
        clean = path.replace("\\", "/").lstrip("/")
        if not clean or ".." in clean.split("/"):
            raise SandboxError(f"extra_files path {path!r} is not a relative path inside the package.",
                               fix="use paths like 'utils.py' or 'templates/footer.txt'")
        if clean == f"{module}.py":
            raise SandboxError(f"extra_files must not contain {module}.py: that is the handler's own file.",
                               fix="put the handler's module source in the first argument")
        files[clean] = content
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            content = files[path]
            archive.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------
# Deploy
# --------------------------------------------------------------------------------------


def _execution_role(iam: Any, name: str, managed_policies: list[str]) -> str:
    role_name = f"{name}-role"[:64]
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY),
            Description=f"Execution role of the Lambda function {name} (workmail_sandbox.deploy_handler)",
            Tags=[{"Key": TAG_KEY, "Value": TAG_VALUE}],
        )["Role"]
    for arn in [BASIC_EXECUTION_POLICY_ARN, *managed_policies]:
        try:
            iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)
        except iam.exceptions.NoSuchEntityException:
            if arn != BASIC_EXECUTION_POLICY_ARN:
                raise SandboxError(
                    f"The managed policy {arn} does not exist in this account.",
                    fix="check the ARN, e.g. arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess",
                ) from None
            # moto loads AWS managed policies only when asked to: grant the same rights inline.
            iam.put_role_policy(
                RoleName=role_name,
                PolicyName="AWSLambdaBasicExecution",
                PolicyDocument=json.dumps(_BASIC_EXECUTION_INLINE),
            )
    return role["Arn"]


def deploy_handler(
    handler: Callable[..., Any] | str,
    *,
    name: str,
    role_arn: str | None = None,
    environment: Mapping[str, str] | None = None,
    timeout: int = 10,
    memory: int = 128,
    region: str | None = None,
    extra_files: Mapping[str, str] | None = None,
    handler_name: str | None = None,
    managed_policies: list[str] | tuple[str, ...] = (),
    description: str = "",
    runtime: str = "python3.12",
    confirm: bool = False,
) -> dict[str, Any]:
    """Create (or update) the Lambda function ``name`` from a handler function or source string.

    ``handler`` is a function (its source and what it uses are copied, see
    :func:`handler_source`) or the full source of ``app.py``; then the handler
    is ``handler_name`` (default ``lambda_handler``). The function gets Handler
    ``app.<handler name>``, Runtime ``python3.12``, ``timeout`` seconds (10, as
    the WorkMail templates) and ``memory`` MB. Without ``role_arn``, a role
    ``<name>-role`` trusting Lambda is created (or reused) with
    AWSLambdaBasicExecutionRole and ``managed_policies`` (for example
    ``arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess``).
    Returns the ``create_function`` or ``update_function_configuration`` response.
    """

    mapped: SourceMap | None = None  # a source string is app.py itself: its lines need no map
    if isinstance(handler, str):
        source = handler
        function_name = handler_name or "lambda_handler"
        try:
            compiled = compile(source, f"{_MODULE_NAME}.py", "exec")
        except SyntaxError as error:
            raise SandboxError(
                f"The handler source does not compile: {error}.", fix="fix the syntax error and deploy again"
            ) from None
        defined = {c.co_name for c in compiled.co_consts if isinstance(c, types.CodeType)} | set(compiled.co_names)
        if function_name not in defined:
            raise SandboxError(
                f"The handler source defines no {function_name!r}: Lambda would answer Runtime.HandlerNotFound.",
                fix=f"define def {function_name}(event, context): ... or pass handler_name='<your function>'",
            )
    elif callable(handler):
        mapped = handler_source_map(handler)
        source = mapped.source
        function_name = handler_name or handler.__name__
        if function_name != handler.__name__:
            raise SandboxError(
                f"handler_name={function_name!r} does not match the function {handler.__name__!r}.",
                fix="leave handler_name out when you pass a function",
            )
    else:
        raise SandboxError(
            f"deploy_handler takes a function or a source string, not {type(handler).__name__}.",
            fix="pass the handler function itself, or the source of app.py as a string",
        )
    if not isinstance(name, str) or not name:
        raise SandboxError(
            "deploy_handler needs a function name.", fix="pass name='wm-hello' (letters, digits, - and _)"
        )
    region = region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    if not STATE.active and confirm is not True:
        # Outside the sandbox this creates real resources (aws mode's rule: nothing without consent).
        raise ConfigurationError(
            f"deploy_handler would create the function {name!r} (and its role) in a real AWS account ({region}).",
            fix="pass confirm=True to go ahead; workmail_sandbox.connect().cleanup() removes what the kit tagged",
        )
    code = zip_source(source, extra_files)
    session = _session(region)
    lam = session.client("lambda")
    new_role = role_arn is None
    if role_arn is None:
        role_arn = _execution_role(session.client("iam"), name, list(managed_policies))
    config = {
        "Role": role_arn,
        "Handler": f"{_MODULE_NAME}.{function_name}",
        "Runtime": runtime,
        "Timeout": int(timeout),
        "MemorySize": int(memory),
        "Environment": {"Variables": {str(k): str(v) for k, v in (environment or {}).items()}},
        "Description": description,
    }
    try:
        lam.get_function_configuration(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        for attempt in range(10):
            try:
                response = lam.create_function(
                    FunctionName=name, Code={"ZipFile": code}, Tags={TAG_KEY: TAG_VALUE}, **config
                )
                break
            except lam.exceptions.InvalidParameterValueException as error:
                # On AWS a new role takes a few seconds to become usable by Lambda.
                if not new_role or "cannot be assumed" not in str(error) or attempt == 9:
                    raise
                time.sleep(2)
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        register(response["FunctionArn"], mapped)
        return response
    lam.update_function_code(FunctionName=name, ZipFile=code)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    response = lam.update_function_configuration(FunctionName=name, **config)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    register(response["FunctionArn"], mapped)
    return response


def _session(region: str) -> Any:
    """A boto3 session in ``region``; in the sandbox, one that reuses its parsed service models."""
    import boto3

    running = current()
    if STATE.active and running is not None and running.region == region:
        return running.session()
    return boto3.session.Session(region_name=region)
