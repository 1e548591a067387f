"""The one place the kit reaches into moto's and botocore's internals.

moto and botocore have public APIs (``mock_aws``, boto3 clients, botocore's
event hooks) and internals that change between releases, even between 5.2.x
releases. The kit needs some internals: to write logs without a request per
line, to copy and restore moto's state, to fill gaps in moto's CloudFormation,
to run Lambda functions. Every such use is a function here, and nowhere else.

Rules:

* each function names the internal it relies on in :data:`TOUCHPOINTS`, and
  ``tests/test_moto_adapter.py`` has a canary per touchpoint that fails with the
  touchpoint's name when the internal moves;
* no silent fallbacks: an internal that is not where it was expected raises
  :class:`MotoInternalsChanged` (never ``getattr(..., None)``), so a moto change
  cannot turn into a silently wrong restore;
* moto modules are imported inside the functions: importing moto's services
  costs up to two seconds (CloudFormation brings in nearly all of moto), and
  most sandbox runs need only a few.

The kit is tested with the versions ``pyproject.toml`` allows; docs/moto.md
explains what each touchpoint is for.

One concept: the adapter between the kit and moto's/botocore's internals. It
is one module on purpose, so that every internal the kit touches is in one
file (and one canary suite); its sections follow moto's services.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import json
import logging
import os
import re
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._gc_pause import paused_gc
from .errors import SandboxError

__all__ = [
    "TOUCHPOINTS",
    "TOUCHPOINT_FUNCTIONS",
    "MotoInternalsChanged",
    "add_aws_managed_policy",
    "backends",
    "bundled_aws_managed_policies",
    "cloudformation_stack",
    "copy_account_backend",
    "create_change_set",
    "delete_bucket_policy",
    "dispose_kept_s3_models",
    "fresh_default_session",
    "has_managed_policy",
    "is_mocking",
    "lazy_router_builders",
    "register_backends",
    "register_buckets",
    "quiet_unsupported_resource_warnings",
    "register_builtin_handler",
    "registered_builtin_handlers",
    "rebuild_stack_outputs",
    "refresh_stack_parameters",
    "reset_backends",
    "resolve_intrinsics",
    "share_loader_with_new_sessions",
    "share_model_loader",
    "stack_resources",
    "stack_template",
    "unregister_builtin_handlers",
    "write_log_events",
    "LAMBDA_FUNCTION_ATTRIBUTES",
    "get_lambda_function",
    "get_lambda_policy",
    "lambda_backend",
    "lambda_invoke_patched",
    "lambda_request_error",
    "patch_lambda_invoke",
    "unpatch_lambda_invoke",
]


class MotoInternalsChanged(SandboxError):
    """A moto or botocore internal the kit relies on is not where this version of the kit expects it."""


def _changed(touchpoint: str, detail: str) -> MotoInternalsChanged:
    import botocore
    import moto

    return MotoInternalsChanged(
        f"moto {moto.__version__} / botocore {botocore.__version__} changed an internal the sandbox uses "
        f"({touchpoint}: {detail}).",
        fix="install the moto and botocore versions pyproject.toml allows, or report it to workmail-sandbox",
    )


def _attribute(obj: Any, name: str, touchpoint: str) -> Any:
    """``getattr(obj, name)``, or :class:`MotoInternalsChanged` naming the touchpoint."""
    try:
        return getattr(obj, name)
    except AttributeError:
        raise _changed(touchpoint, f"{type(obj).__name__} has no attribute {name!r}") from None


#: Touchpoint name -> what the kit uses it for. The canary tests walk this table.
TOUCHPOINTS: dict[str, str] = {}


#: Touchpoint name -> the adapter function that uses it (each has a canary calling that function).
TOUCHPOINT_FUNCTIONS: dict[str, str] = {}


def _touchpoint(name: str, purpose: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        TOUCHPOINTS[name] = purpose
        TOUCHPOINT_FUNCTIONS[name] = function.__name__
        return function

    return mark


# botocore ------------------------------------------------------------------------------------

#: The entries the kit added to botocore's BUILTIN_HANDLERS, so stop() can take them out again.
_OUR_HANDLERS: list[tuple[str, Callable[..., Any]]] = []


@_touchpoint(
    "botocore.handlers.BUILTIN_HANDLERS",
    "the list every new botocore session copies its event handlers from: the emulators' "
    "before-parameter-build / before-call hooks and the fake-credential guard go there",
)
def register_builtin_handler(event: str, handler: Callable[..., Any]) -> None:
    """Add ``(event, handler)`` to botocore's built-in handlers (idempotent); new sessions get it."""
    from botocore.handlers import BUILTIN_HANDLERS

    entry = (event, handler)
    if entry not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(entry)
    if entry not in _OUR_HANDLERS:
        _OUR_HANDLERS.append(entry)


@_touchpoint(
    "botocore.handlers.BUILTIN_HANDLERS (entries kept across sandboxes)",
    "hooks that must reach every session made after the package is imported, sandbox or not (SES receiving's "
    "SendBounce answer and receipt-rule quotas); each hook does nothing unless a sandbox runs",
)
def register_lasting_handler(event: str, handler: Callable[..., Any]) -> None:
    """Add ``(event, handler)`` to botocore's built-in handlers for the process's life (idempotent).

    Unlike :func:`register_builtin_handler`, stop() leaves it in: sessions made before a
    sandbox starts (boto3's default one) get it too. The handler must return None outside
    the sandbox.
    """
    from botocore.handlers import BUILTIN_HANDLERS

    entry = (event, handler)
    if entry not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(entry)


def unregister_builtin_handlers() -> None:
    """Take out every handler :func:`register_builtin_handler` added (sessions made before keep theirs)."""
    from botocore.handlers import BUILTIN_HANDLERS

    for entry in _OUR_HANDLERS:
        while entry in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.remove(entry)
    _OUR_HANDLERS.clear()


def registered_builtin_handlers() -> list[tuple[str, Callable[..., Any]]]:
    """The kit's entries currently in botocore's built-in handlers."""
    from botocore.handlers import BUILTIN_HANDLERS

    return [entry for entry in BUILTIN_HANDLERS if entry in _OUR_HANDLERS]


@functools.lru_cache(maxsize=1)
def _shared_loader() -> Any:
    """One botocore model loader for every session the sandbox makes.

    moto gives each start a new default boto3 session (so no credentials
    cached before the start survive), and a new session would parse each
    service's JSON model again: about 0.1 s per service, per start.
    """
    import botocore.loaders
    import botocore.session

    # what a new session's own loader would be (AWS_DATA_PATH included), made without asking a session
    # for it, so that the factory installed by share_loader_with_new_sessions() cannot call back here.
    # With no config file (the sandbox points AWS_CONFIG_FILE at os.devnull) only the variable can set it.
    if os.environ.get("AWS_CONFIG_FILE") == os.devnull:
        data_path = os.environ.get("AWS_DATA_PATH")
    else:
        data_path = botocore.session.get_session().get_config_variable("data_path")
    loader = botocore.loaders.create_loader(data_path)
    _SHARED_DATA_PATH[:] = [data_path]
    paths = _attribute(loader, "_search_paths", "botocore.loaders.Loader._search_paths")
    if not isinstance(paths, list):
        raise _changed("botocore.loaders.Loader._search_paths", f"expected a list, found {type(paths).__name__}")
    loader._search_paths = _SearchPaths(paths)
    return loader


#: The AWS_DATA_PATH value the shared loader was made for (one item, once it exists).
_SHARED_DATA_PATH: list[Any] = []


class _SearchPaths(list[Any]):
    """A loader's search paths that take each folder once.

    Every ``boto3.session.Session`` appends boto3's data folder to its loader's
    paths; with one loader shared by every session the list would grow by one
    entry per session made.
    """

    def append(self, item: Any) -> None:
        if item not in self:
            super().append(item)


#: The factories as botocore and moto define them, while the kit's replace them (by owner).
_ORIGINAL_CREATE_LOADER: dict[str, Callable[..., Any]] = {}
#: moto's own loader (botocore's plus moto's model extras), one for the process once made.
_MOTO_LOADER: list[Any] = []


def _sharing_create_loader(search_path_string: Any = None) -> Any:
    shared = _shared_loader()
    if _SHARED_DATA_PATH and search_path_string == _SHARED_DATA_PATH[0]:
        return shared
    return _ORIGINAL_CREATE_LOADER["botocore"](search_path_string)  # another AWS_DATA_PATH: a loader of its own


def _sharing_moto_loader() -> Any:
    if not _MOTO_LOADER:
        _MOTO_LOADER.append(_ORIGINAL_CREATE_LOADER["moto"]())
    return _MOTO_LOADER[0]


@_touchpoint(
    "botocore.session.create_loader / moto.core.utils.create_loader / botocore.loaders.Loader._search_paths",
    "the factory a new botocore session calls (at first use) for its model loader, and the one moto calls for "
    "each service model it reads requests with: while the sandbox runs every session with the same data path "
    "gets the shared loader, so a boto3.Session() that moto makes on its own (moto.ec2 makes three when "
    "imported) does not parse botocore's endpoint data again; moto gets one loader of its own kind (its model "
    "extras) instead of a new one, which scans botocore's data folder again, per service",
)
def share_loader_with_new_sessions(on: bool = True) -> bool:
    """Make every botocore session created from now on, and moto, share loaders (``on=False``: undo).

    Returns whether the sharing factories are installed. A loader only reads the JSON
    files under its search paths and caches what it read, so sharing one changes no
    answer; it saves about 0.3 s and 150,000 objects of garbage per session that
    loads the endpoint data, and a scan of botocore's data folder per model moto reads.
    """
    import botocore.session
    from moto.core import utils as moto_utils

    owners: tuple[tuple[str, Any, Callable[..., Any]], ...] = (
        ("botocore", botocore.session, _sharing_create_loader),
        ("moto", moto_utils, _sharing_moto_loader),
    )
    for key, owner, ours in owners:
        current = _attribute(owner, "create_loader", f"{owner.__name__}.create_loader")
        if on and current is not ours:
            _ORIGINAL_CREATE_LOADER[key] = current
            owner.create_loader = ours  # replacing the factory is the point
        elif not on and current is ours:
            owner.create_loader = _ORIGINAL_CREATE_LOADER.pop(key)
    return botocore.session.create_loader is _sharing_create_loader


@_touchpoint(
    "boto3.session.Session._session",
    "the botocore session inside a boto3 session, to give it the process's one model loader",
)
def share_model_loader(session: Any) -> Any:
    """Let a boto3 session use the process's one botocore model loader (see :func:`_shared_loader`)."""
    inner = _attribute(session, "_session", "boto3.session.Session._session")
    inner.register_component("data_loader", _shared_loader())
    return session


@_touchpoint(
    "moto.core.base_backend.AccountSpecificBackend.get_session",
    "moto's own boto3 session (it lists each service's Regions when a backend is created): "
    "it gets the shared model loader too",
)
def fresh_default_session(region: str) -> None:
    """A new default boto3 session (and moto's own) sharing the process's model loader."""
    import boto3
    from moto.core.base_backend import AccountSpecificBackend

    boto3.setup_default_session(region_name=region)
    share_model_loader(boto3.DEFAULT_SESSION)
    get_session = _attribute(AccountSpecificBackend, "get_session", "AccountSpecificBackend.get_session")
    share_model_loader(get_session())


# moto's registry of backends ---------------------------------------------------------------


@_touchpoint("moto.core.models.botocore_stubber", "whether some moto mock (the kit's or a test's) is intercepting")
def is_mocking() -> bool:
    """True while some moto mock (ours or a test's own ``mock_aws``) intercepts requests."""
    module = sys.modules.get("moto.core.models")
    if module is None:
        return False
    stubber = _attribute(module, "botocore_stubber", "moto.core.models.botocore_stubber")
    return bool(_attribute(stubber, "enabled", "moto.core.models.botocore_stubber.enabled"))


def reset_backends() -> None:
    """Empty every moto service, in every account (moto's ``BackendDict.reset``)."""
    from moto.core.base_backend import BackendDict

    BackendDict.reset()


@_touchpoint(
    "moto.backends.ALT_SERVICE_NAMES / get_backend",
    "moto's service registry: find a service's BackendDict, and whether moto has imported it yet",
)
def backends(name: str, *, only_loaded: bool = False) -> Any:
    """moto's BackendDict for a service (``"lambda_simple"`` is Lambda without Docker).

    ``only_loaded``: None when moto has not imported that service yet (so it holds
    no state), instead of importing it: CloudFormation's import alone costs ~2 s.
    """
    if only_loaded:
        from moto.backends import ALT_SERVICE_NAMES

        module = "awslambda_simple" if name == "lambda_simple" else ALT_SERVICE_NAMES.get(name, name)
        if f"moto.{module}.models" not in sys.modules:
            return None
    if name == "lambda_simple":
        from moto.awslambda_simple.models import lambda_simple_backends

        return lambda_simple_backends
    from moto.backends import get_backend

    return get_backend(name)  # type: ignore[call-overload]  # moto types name as a Literal of service names


@_touchpoint(
    "moto.core.base_backend.BackendDict._instances",
    "the list BackendDict.reset() walks: a BackendDict given restored state must be on it",
)
def register_backends(backend_dict: Any) -> None:
    """Make sure moto's next reset() also empties ``backend_dict`` (moto registers a service on first use)."""
    from moto.core.base_backend import BackendDict

    instances = _attribute(BackendDict, "_instances", "BackendDict._instances")
    if backend_dict not in instances:
        instances.append(backend_dict)


def copy_account_backend(name: str, account_backend: Any, *, keep_for_later: bool = False) -> Any:
    """A deep copy of one moto service's state for an account.

    moto tracks every S3 object it ever made and closes them all on reset;
    a copy kept for later (a snapshot) is taken off that list so a reset cannot
    empty it. Object bodies travel through moto's own pickling support.
    """
    clone = copy.deepcopy(account_backend)
    if name in ("lambda", "lambda_simple"):
        _relink_lambda_arns(clone)
    if name == "s3" and keep_for_later:
        _untrack_s3_models(_s3_models(clone))
    return clone


# S3 objects held by snapshots; closed at exit while the interpreter can still do it
# (moto's own finaliser would otherwise run during shutdown and print an ImportError).
_kept_s3_models: list[Any] = []


@_touchpoint(
    "moto.s3.models.FakeKey.instances_tracked / FakeMultipart.instances_tracked",
    "moto closes every S3 object it ever made on reset; a snapshot's copies are taken off that list",
)
def _untrack_s3_models(models: list[Any]) -> None:
    from moto.s3.models import FakeKey, FakeMultipart

    kept = {id(obj) for obj in models}
    for model in (FakeKey, FakeMultipart):
        tracked = _attribute(model, "instances_tracked", f"{model.__name__}.instances_tracked")
        tracked[:] = [o for o in tracked if id(o) not in kept]
    _kept_s3_models.extend(models)


def dispose_kept_s3_models() -> None:
    """Close the S3 objects snapshots hold (called at exit)."""
    for model in _kept_s3_models:
        try:
            model.dispose()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
    _kept_s3_models.clear()


@_touchpoint(
    "moto.s3.models.S3Backend.buckets / FakeBucket.keys._iterlists / FakeBucket.multiparts",
    "every S3 object of an account's copied state",
)
def _s3_models(account_backend: Any) -> list[Any]:
    found = []
    for region_backend in account_backend.values():
        for bucket in _attribute(region_backend, "buckets", "S3Backend.buckets").values():
            for _, versions in _attribute(bucket.keys, "_iterlists", "FakeBucket.keys._iterlists")():
                found.extend(versions)
            found.extend(_attribute(bucket, "multiparts", "FakeBucket.multiparts").values())
    return found


@_touchpoint(
    "moto.awslambda.models.LambdaStorage._functions / _arns",
    "Lambda's ARN table (a WeakValueDictionary) must point at a restored copy's functions",
)
def _relink_lambda_arns(account_backend: Any) -> None:
    """Point Lambda's ARN table at the copied functions.

    moto keeps it in a WeakValueDictionary, whose deepcopy copies the keys but
    shares the values: a copy's table would name the original's functions, and
    after a restore ``delete_function`` and look-ups by ARN would fail.
    """
    for region_backend in account_backend.values():
        storage = _attribute(region_backend, "_lambdas", "LambdaBackend._lambdas")
        functions = _attribute(storage, "_functions", "LambdaStorage._functions")
        _attribute(storage, "_arns", "LambdaStorage._arns")
        arns: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
        for entry in functions.values():
            for function in [entry.get("latest"), *entry.get("versions", [])]:
                if function is not None:
                    arns[function.function_arn] = function
        storage._arns = arns


@_touchpoint(
    "moto.s3.models.s3_backends.bucket_accounts",
    "moto's global bucket-name table, which reset() clears: restored buckets are entered again",
)
def register_buckets(account_id: str, account_backend: Any) -> None:
    """Enter an account's buckets in moto's global name table: ``(partition, account)`` per name."""
    from moto.s3.models import s3_backends

    table = _attribute(s3_backends, "bucket_accounts", "s3_backends.bucket_accounts")
    for region_backend in account_backend.values():
        partition = _attribute(region_backend, "partition", "S3Backend.partition")
        for bucket_name in _attribute(region_backend, "buckets", "S3Backend.buckets"):
            table[bucket_name] = (partition, account_id)


# CloudWatch Logs -----------------------------------------------------------------------------


@_touchpoint(
    "moto.logs.models.logs_backends: groups / ensure_log_group / streams / create_log_stream / put_log_events",
    "the runtime and the flow engine write many log lines per message straight into moto's backend "
    "(through boto3 each line would cost a request)",
)
def write_log_events(account: str, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    """Append ``(timestamp ms, message)`` lines to ``group``/``stream``, creating both if needed."""
    from moto.logs.models import logs_backends

    logs = logs_backends[account][region]
    groups = _attribute(logs, "groups", "LogsBackend.groups")
    log_group = groups.get(group)
    if log_group is None:
        logs.ensure_log_group(group)
        log_group = groups[group]
    streams = _attribute(log_group, "streams", "LogGroup.streams")
    log_stream = streams.get(stream)
    if log_stream is None:
        log_group.create_log_stream(stream)
        log_stream = streams[stream]
    log_stream.put_log_events([{"timestamp": stamp, "message": text} for stamp, text in lines])


# IAM -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
@_touchpoint(
    "moto.iam.aws_managed_policies.aws_managed_policies_data",
    "moto's bundled copy of AWS's managed policies (names, paths, documents)",
)
def bundled_aws_managed_policies() -> Mapping[str, Any]:
    """AWS managed policies by name, from moto's bundled copy (read-only; each policy decoded on first use)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    if not isinstance(aws_managed_policies_data, str):
        raise _changed("aws_managed_policies_data", f"expected JSON text, found {type(aws_managed_policies_data)}")
    return _BundledPolicies(aws_managed_policies_data)


class _BundledPolicies(Mapping[str, Any]):
    """moto's bundled managed policies (4.7 MB of JSON, about 1,400 policies), decoded one policy at a time.

    A deployment needs two or three of them; decoding the whole text costs about 0.1 s, more on a
    large heap. moto writes the text with one top-level key per line (``\n "Name":{``), which
    nothing inside a policy can look like (JSON strings hold no raw newline), so a policy is
    found by its key and only its value is decoded. When the text is not laid out like that,
    the whole of it is decoded once instead: the answers are the same either way.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._decoded: dict[str, Any] = {}
        self._whole: dict[str, Any] | None = None if text.lstrip().startswith('{\n "') else json.loads(text)

    def _all(self) -> dict[str, Any]:
        if self._whole is None:
            self._whole = dict(json.loads(self._text))
        return self._whole

    def __getitem__(self, name: str) -> Any:
        if self._whole is not None or not isinstance(name, str):
            return self._all()[name]
        if name not in self._decoded:
            key = "\n " + json.dumps(name) + ":"
            at = self._text.rfind(key)  # the last one, as json.loads keeps the last of a repeated key
            if at < 0:
                raise KeyError(name)
            self._decoded[name], _ = json.JSONDecoder().raw_decode(self._text, at + len(key))
        return self._decoded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


@_touchpoint("moto.iam.models.IAMBackend.managed_policies", "which managed policies moto's IAM holds")
def has_managed_policy(account: str, partition: str, arn: str) -> bool:
    """Does moto's IAM (for ``account``) hold the managed policy ``arn``?"""
    from moto.iam.models import iam_backends

    return arn in _attribute(iam_backends[account][partition], "managed_policies", "IAMBackend.managed_policies")


@_touchpoint(
    "moto.iam.models.AWSManagedPolicy.from_data / IAMBackend.aws_managed_policies",
    "load one AWS managed policy into moto's IAM, as load_aws_managed_policies would",
)
def add_aws_managed_policy(account: str, partition: str, name: str, data: dict[str, Any]) -> str:
    """Create the AWS managed policy ``name`` (``data`` as in moto's bundled copy) in moto's IAM; its ARN."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[account][partition]
    policy = AWSManagedPolicy.from_data(name, account, "us-east-1", data)
    _attribute(backend, "aws_managed_policies", "IAMBackend.aws_managed_policies").append(policy)
    _attribute(backend, "managed_policies", "IAMBackend.managed_policies")[policy.arn] = policy
    return str(policy.arn)


# S3 ----------------------------------------------------------------------------------------------


def delete_bucket_policy(account: str, partition: str, bucket: str) -> None:
    """Remove ``bucket``'s policy in moto, if the bucket exists (what deleting a stack's BucketPolicy does)."""
    from moto.s3.models import s3_backends

    backend = s3_backends[account][partition]
    if bucket in backend.buckets:
        backend.delete_bucket_policy(bucket)


# CloudFormation ----------------------------------------------------------------------------------


def cloudformation_stack(account: str, region: str, stack_id: str) -> Any:
    """moto's stack object for a stack name or id."""
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[account][region].get_stack(stack_id)


@_touchpoint(
    "moto.cloudformation.parsing.ResourceMap._parsed_resources",
    "the resources moto created for a stack, read without making moto create any that are missing",
)
def stack_resources(stack: Any) -> dict[str, Any]:
    """Logical id -> moto's resource object, for what the stack created."""
    resource_map = _attribute(stack, "resource_map", "Stack.resource_map")
    parsed = _attribute(resource_map, "_parsed_resources", "ResourceMap._parsed_resources")
    if not isinstance(parsed, dict):
        raise _changed("ResourceMap._parsed_resources", f"expected a dict, found {type(parsed).__name__}")
    return parsed


@_touchpoint(
    "moto.cloudformation.models.Stack.template_dict / output_map / _create_output_map",
    "moto leaves a stack's Outputs empty after ExecuteChangeSet; its own resolver rebuilds them",
)
def rebuild_stack_outputs(stack: Any, template: dict[str, Any]) -> None:
    """Give a stack the outputs of ``template``, resolved by moto's own output resolver.

    moto's own parse of the stack's JSON goes through the pure-Python YAML loader
    (~0.1 s): the template is at hand, and ``stack.template`` is ``json.dumps`` of it.
    """
    _attribute(stack, "template_dict", "Stack.template_dict")
    create_output_map = _attribute(stack, "_create_output_map", "Stack._create_output_map")
    stack.template_dict = template
    stack.output_map = create_output_map()


@_touchpoint(
    "moto.cloudformation.parsing.ResourceMap.input_parameters / Stack.parameters",
    "the parameters a change set gave the stack (moto leaves the old ones after ExecuteChangeSet)",
)
def refresh_stack_parameters(stack: Any) -> None:
    """Set the stack's parameters from its resource map's input parameters."""
    resource_map = _attribute(stack, "resource_map", "Stack.resource_map")
    stack.parameters = dict(_attribute(resource_map, "input_parameters", "ResourceMap.input_parameters") or {})


@_touchpoint("moto.cloudformation.models.Stack._parse_template", "a stack's template as a dict")
def stack_template(stack: Any) -> dict[str, Any]:
    """The stack's current template, parsed."""
    _attribute(stack, "_parse_template", "Stack._parse_template")()
    return dict(_attribute(stack, "template_dict", "Stack.template_dict"))


@_touchpoint(
    "moto.cloudformation.parsing.clean_json",
    "resolve Ref / Fn::GetAtt / Fn::Sub in a template fragment against a stack's resources",
)
def resolve_intrinsics(value: Any, resource_map: Any) -> Any:
    """``value`` with its intrinsic functions resolved by moto's CloudFormation."""
    from moto.cloudformation.parsing import clean_json

    return clean_json(value, resource_map)


@_touchpoint(
    "moto.cloudformation.models.CloudFormationBackend.create_change_set",
    "the FAILED change set CloudFormation makes for an update that changes nothing "
    "(moto's CreateChangeSet answers a ValidationError instead)",
)
def create_change_set(account: str, region: str, **arguments: Any) -> tuple[str, str]:
    """``(change set id, stack id)`` from moto's backend method, bypassing its request checks."""
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[account][region]
    change_set_id, stack_id = backend.create_change_set(**arguments)
    return str(change_set_id), str(stack_id)


def iter_touchpoints() -> Iterator[tuple[str, str]]:
    """``(touchpoint, purpose)`` for every internal the kit uses."""
    yield from sorted(TOUCHPOINTS.items())


# moto's warnings -------------------------------------------------------------------------------

_QUIETED_TYPES: set[str] = set()


class _QuietAboutFilledInTypes(logging.Filter):
    """Drop moto's "No Moto CloudFormation support for <type>" for the types the kit fills in."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        return not (record.msg == _NO_SUPPORT_LOG and isinstance(args, tuple) and args and args[0] in _QUIETED_TYPES)


#: moto's wording, matched exactly: if it changes, the canary test for this touchpoint fails.
_NO_SUPPORT_LOG = "No Moto CloudFormation support for %s"
_NO_SUPPORT_WARNING = "Tried to parse {kind} but it's not supported by moto's CloudFormation implementation"
_QUIET = _QuietAboutFilledInTypes()


@_touchpoint(
    "moto.cloudformation.parsing: the 'No Moto CloudFormation support' log line and 'Tried to parse' warning",
    "silence moto's 'not supported' messages for the resource types the kit applies itself, so a learner's "
    "execute_change_set cell shows nothing misleading",
)
def quiet_unsupported_resource_warnings(kinds: tuple[str, ...]) -> None:
    """Silence moto's log line and warning about ``kinds`` (resource types the kit fills in itself)."""
    _QUIETED_TYPES.update(kinds)
    moto_logger = logging.getLogger("moto")  # moto.cloudformation.parsing logs on "moto"
    if _QUIET not in moto_logger.filters:
        moto_logger.addFilter(_QUIET)
    for kind in kinds:
        warnings.filterwarnings(
            "ignore", message=re.escape(_NO_SUPPORT_WARNING.format(kind=kind)), category=UserWarning
        )


# S3 objects and IAM roles, as the Message Flow emulator reads them -------------------------------


@_touchpoint(
    "moto.s3.models.s3_backends.bucket_accounts / S3Backend.buckets",
    "find a bucket by name in any account, as S3's global namespace does (PutRawMessageContent reads it)",
)
def find_s3_bucket(bucket_name: str) -> Any:
    """moto's bucket object for ``bucket_name`` in whatever account owns it, or None."""
    from moto.s3.models import s3_backends

    owner = _attribute(s3_backends, "bucket_accounts", "s3_backends.bucket_accounts").get(bucket_name)
    if owner is None:
        return None
    partition, account = owner
    return _attribute(s3_backends[account][partition], "buckets", "S3Backend.buckets").get(bucket_name)


@_touchpoint(
    "moto.s3.models.FakeBucket.keys.getlist / FakeKey",
    "every version of an object, oldest first; a version that is not a FakeKey is a delete marker",
)
def s3_object_versions(bucket: Any, key: str) -> list[tuple[str | None, bytes | None]]:
    """``(version id, body)`` for each version of ``key``, oldest first; body None for a delete marker."""
    from moto.s3.models import FakeKey

    getlist = _attribute(_attribute(bucket, "keys", "FakeBucket.keys"), "getlist", "FakeBucket.keys.getlist")
    versions = []
    for version in getlist(key, default=[]) or []:
        version_id = getattr(version, "version_id", None)  # noqa: B009 - delete markers may lack it; None is "null"
        versions.append((version_id, bytes(version.value) if isinstance(version, FakeKey) else None))
    return versions


@_touchpoint(
    "moto.iam.models.IAMBackend.roles / Role.policies / Role.managed_policies / ManagedPolicy.versions",
    "the documents of a role's inline and attached managed policies, which the Message Flow emulator evaluates",
)
def role_policy_documents(account: str, partition: str, role_arn: str) -> list[tuple[str, Any]] | None:
    """``(name, document)`` for each inline and attached managed policy of a role; None if no such role."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account][partition]
    roles = _attribute(backend, "roles", "IAMBackend.roles")
    role = next((r for r in roles.values() if r.arn == role_arn), None)
    if role is None:
        return None
    documents: list[tuple[str, Any]] = []
    for name, document in _attribute(role, "policies", "Role.policies").items():
        documents.append((f"{role.name}/{name}", document))
    for arn, managed in _attribute(role, "managed_policies", "Role.managed_policies").items():
        default = next((v for v in managed.versions if v.is_default), None)
        if default is not None and default.document:
            documents.append((arn.rsplit("/", 1)[-1], default.document))
    return documents


# Other services' state the WorkMail emulator consults ----------------------------------------


@_touchpoint("moto.logs.models.logs_backends: LogsBackend.groups", "does a CloudWatch Logs group exist")
def log_group_exists(account: str, region: str, name: str) -> bool:
    """Does moto's CloudWatch Logs hold the group ``name``?"""
    from moto.logs.models import logs_backends

    return name in _attribute(logs_backends[account][region], "groups", "LogsBackend.groups")


@_touchpoint(
    "moto.ds.models.ds_backends: DirectoryServiceBackend.directories / Directory.alias / Directory.directory_type",
    "a Directory Service directory by id: CreateOrganization checks its alias and type",
)
def ds_directory(account: str, region: str, directory_id: str) -> tuple[str, str] | None:
    """``(alias, directory type)`` of moto's Directory Service directory with this id, or None."""
    from moto.ds.models import ds_backends

    directories = _attribute(ds_backends[account][region], "directories", "DirectoryServiceBackend.directories")
    directory = directories.get(directory_id)
    if directory is None:
        return None
    alias = _attribute(directory, "alias", "Directory.alias")
    return str(alias), str(_attribute(directory, "directory_type", "Directory.directory_type"))


# Lambda ----------------------------------------------------------------------------------------

#: What the local Lambda runtime reads of moto's ``LambdaFunction`` (the canary checks each one).
LAMBDA_FUNCTION_ATTRIBUTES = (
    "function_name",
    "function_arn",
    "version",
    "handler",
    "run_time",
    "package_type",
    "memory_size",
    "timeout",
    "role",
    "environment_vars",
    "code_sha_256",
    "code_bytes",
    "logs_group_name",
    "layers",
)

#: The ``?Qualifier=`` of the Invoke request moto is answering (its LambdaResponse.invoke drops it).
_LAMBDA_QUALIFIER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "workmail_sandbox_lambda_qualifier", default=None
)
#: moto's own ``LambdaSimpleBackend.invoke`` and ``LambdaResponse.invoke`` while the kit's are in.
_LAMBDA_ORIGINALS: dict[str, Any] = {}


@_touchpoint(
    "moto.awslambda.utils.get_backend",
    "the Lambda backend of an account and Region (moto's Docker-less one when lambda_simple is in use): "
    "the runtime reads deployed functions and their resource policies there",
)
def lambda_backend(account: str, region: str) -> Any:
    """moto's Lambda backend for ``account`` in ``region``."""
    from moto.awslambda import utils

    return _attribute(utils, "get_backend", "moto.awslambda.utils.get_backend")(account, region)


_SES_LAMBDA_CHECK = (
    "moto.ses.models.SESBackend._validate_lambda_action / moto.ses.exceptions.InvalidLambdaFunctionException"
)


@_touchpoint(
    _SES_LAMBDA_CHECK,
    "SES's CreateReceiptRule checks a LambdaAction's function in moto's Docker Lambda backend, but the sandbox "
    "deploys to the one moto.awslambda.utils.get_backend picks (Docker-less): the check looks there instead",
)
def fix_ses_lambda_action_check() -> None:
    """Make moto's SES find the sandbox's functions when a receipt rule names one (idempotent)."""
    from moto.ses import exceptions, models

    backend_class = _attribute(models, "SESBackend", "moto.ses.models.SESBackend")
    _own_method(backend_class, "_validate_lambda_action", _SES_LAMBDA_CHECK)
    if getattr(backend_class, "_workmail_sandbox_lambda_check", False):
        return
    invalid = _attribute(exceptions, "InvalidLambdaFunctionException", _SES_LAMBDA_CHECK)

    def _validate_lambda_action(self: Any, lambda_action: dict[str, str]) -> None:
        try:
            lambda_backend(self.account_id, self.region_name).get_function(lambda_action["FunctionArn"])
        except Exception:
            raise invalid(f"Invalid Lambda function: {lambda_action['FunctionArn']}") from None
        self._validate_sns_topic(lambda_action.get("TopicArn"))

    backend_class._validate_lambda_action = _validate_lambda_action
    backend_class._workmail_sandbox_lambda_check = True


def _lambda_client_error() -> Any:
    from moto.awslambda import exceptions

    return _attribute(exceptions, "LambdaClientError", "moto.awslambda.exceptions.LambdaClientError")


@_touchpoint(
    "moto.awslambda.models.LambdaBackend.get_function / moto.awslambda.exceptions.LambdaClientError "
    "(error_type, message) / LambdaFunction attributes",
    "the deployed function (code, configuration) a name, ARN and qualifier name; moto's 'not found' "
    "becomes botocore's ClientError, as lambda.invoke raises it",
)
def get_lambda_function(
    account: str, region: str, name: str, qualifier: str | None = None, *, operation: str = "Invoke"
) -> Any:
    """moto's function object (attributes :data:`LAMBDA_FUNCTION_ATTRIBUTES`), or ``ClientError``.

    A function or qualifier moto does not know raises botocore's ``ClientError``
    with moto's error code (``ResourceNotFoundException``) for ``operation``.
    """
    from botocore.exceptions import ClientError

    backend = lambda_backend(account, region)
    get_function = _attribute(backend, "get_function", "LambdaBackend.get_function")
    try:
        return get_function(name, qualifier)
    except _lambda_client_error() as error:
        code = _attribute(error, "error_type", "LambdaClientError.error_type")
        message = _attribute(error, "message", "LambdaClientError.message")
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation) from None


@_touchpoint(
    "moto.awslambda.models.LambdaBackend.get_policy",
    "a function's resource-based policy (the JSON text GetPolicy returns under 'Policy'), for WorkMail's "
    "permission check",
)
def get_lambda_policy(account: str, region: str, name: str, qualifier: str | None = None) -> str | None:
    """The function's resource policy document (JSON text); None without a policy or without the function."""
    backend = lambda_backend(account, region)
    get_policy = _attribute(backend, "get_policy", "LambdaBackend.get_policy")
    try:
        answer = get_policy(name, qualifier)
    except _lambda_client_error():
        return None
    return str(json.loads(answer)["Policy"])


@_touchpoint(
    "moto.awslambda.models.LambdaBackend._lambdas.get_function_by_name_or_arn_with_qualifier / "
    "LambdaFunction.policy / Policy.revision / Policy.statements",
    "a function's resource-policy revision and statements, so WorkMail's permission decision is remembered "
    "per revision without building GetPolicy's JSON on every message",
)
def lambda_policy_revision(
    account: str, region: str, name: str, qualifier: str | None = None
) -> tuple[str, str] | None:
    """``(RevisionId, the statements' repr)`` of the function's resource policy; None without a policy or function.

    The statements are part of the answer because moto's RemovePermission leaves the RevisionId as it was;
    the pair changes whenever the policy does.
    """
    lambdas = _attribute(lambda_backend(account, region), "_lambdas", "LambdaBackend._lambdas")
    find = _attribute(
        lambdas, "get_function_by_name_or_arn_with_qualifier",
        "LambdaStorage.get_function_by_name_or_arn_with_qualifier",
    )
    try:
        fn = find(name, qualifier)
    except _lambda_client_error():
        return None
    policy = _attribute(fn, "policy", "LambdaFunction.policy")
    statements = _attribute(policy, "statements", "Policy.statements")
    if not statements:
        return None
    return str(_attribute(policy, "revision", "Policy.revision")), repr(statements)


@_touchpoint(
    "moto.core.exceptions.JsonRESTError",
    "the error moto's request layer turns into a Lambda error response (InvalidRequestContentException "
    "for a payload that is not JSON)",
)
def lambda_request_error(code: str, message: str) -> Exception:
    """An exception that moto answers as the Lambda error ``code`` (raise it inside an Invoke request)."""
    from moto.core import exceptions

    error_class = _attribute(exceptions, "JsonRESTError", "moto.core.exceptions.JsonRESTError")
    return error_class(code, message)


def _own_method(cls: Any, name: str, touchpoint: str) -> Any:
    """``cls.__dict__[name]`` (defined on the class itself, not inherited), or MotoInternalsChanged."""
    try:
        return vars(cls)[name]
    except KeyError:
        raise _changed(touchpoint, f"{cls.__name__} no longer defines {name!r}") from None


@_touchpoint(
    "moto.awslambda_simple.models.LambdaSimpleBackend.invoke(function_name, qualifier, body, headers, "
    "response_headers) / moto.awslambda.responses.LambdaResponse.invoke (querystring)",
    "moto's Lambda without Docker echoes the payload; the kit replaces its invoke so lambda.invoke runs "
    "the code, and keeps the request's ?Qualifier= that moto's response layer drops",
)
def patch_lambda_invoke(handler: Callable[..., bytes]) -> None:
    """Make ``lambda.invoke`` (moto, no Docker) call ``handler`` (idempotent; the last handler wins).

    ``handler(fn, account=, region=, function_name=, qualifier=, body=, headers=,
    response_headers=)`` gets moto's function object (``ResourceNotFoundException``
    is raised before, as Lambda does) and returns the response payload; it may set
    ``response_headers`` and raise :func:`lambda_request_error`.
    """
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda_simple.models import LambdaSimpleBackend

    _LAMBDA_ORIGINALS["handler"] = handler
    if "backend_invoke" in _LAMBDA_ORIGINALS:
        return
    backend_invoke = _own_method(LambdaSimpleBackend, "invoke", "LambdaSimpleBackend.invoke")
    response_invoke = _own_method(LambdaResponse, "invoke", "LambdaResponse.invoke")

    def invoke_response(self: Any) -> Any:
        querystring = _attribute(self, "querystring", "LambdaResponse.querystring")
        token = _LAMBDA_QUALIFIER.set(querystring.get("Qualifier", [None])[0])
        try:
            return response_invoke(self)
        finally:
            _LAMBDA_QUALIFIER.reset(token)

    def invoke_backend(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        run = _LAMBDA_ORIGINALS.get("handler")
        if run is None:  # pragma: no cover - unpatched mid-request
            return backend_invoke(self, function_name, qualifier, body, headers, response_headers)
        qualifier = qualifier or _LAMBDA_QUALIFIER.get()
        fn = _attribute(self, "get_function", "LambdaSimpleBackend.get_function")(function_name, qualifier)
        return run(
            fn,
            account=_attribute(self, "account_id", "LambdaSimpleBackend.account_id"),
            region=_attribute(self, "region_name", "LambdaSimpleBackend.region_name"),
            function_name=function_name,
            qualifier=qualifier,
            body=body,
            headers=headers,
            response_headers=response_headers,
        )

    _LAMBDA_ORIGINALS["backend_invoke"] = backend_invoke
    _LAMBDA_ORIGINALS["response_invoke"] = response_invoke
    LambdaSimpleBackend.invoke = invoke_backend  # type: ignore[method-assign]  # the patch: replacing a method is the point
    LambdaResponse.invoke = invoke_response  # type: ignore[method-assign]  # the patch: replacing a method is the point


def unpatch_lambda_invoke() -> None:
    """Put moto's own ``invoke`` methods back (a no-op when :func:`patch_lambda_invoke` did not run)."""
    _LAMBDA_ORIGINALS.pop("handler", None)
    if "backend_invoke" not in _LAMBDA_ORIGINALS:
        return
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda_simple.models import LambdaSimpleBackend

    LambdaSimpleBackend.invoke = _LAMBDA_ORIGINALS.pop("backend_invoke")  # type: ignore[method-assign]  # the patch: replacing a method is the point
    LambdaResponse.invoke = _LAMBDA_ORIGINALS.pop("response_invoke")  # type: ignore[method-assign]  # the patch: replacing a method is the point


def lambda_invoke_patched() -> bool:
    """Does ``lambda.invoke`` currently run the kit's handler?"""
    return "backend_invoke" in _LAMBDA_ORIGINALS


# S3 objects a snapshot holds: each snapshot releases its own (docs/safety.md) -----------------


def snapshot_s3_models(account_backend: Any) -> list[Any]:
    """The S3 objects (keys, multipart uploads) of a copy made with ``keep_for_later=True``."""
    return _s3_models(account_backend)


@_touchpoint(
    "moto.s3.models.FakeKey.dispose / FakeMultipart.dispose / FakeKey._value_buffer",
    "close the temporary file behind each S3 object a released snapshot held (it stays open until then)",
)
def release_kept_s3_models(models: list[Any]) -> None:
    """Close the S3 objects of one snapshot and forget them (the files go away at once)."""
    released = {id(model) for model in models}
    for model in models:
        _attribute(model, "dispose", f"{type(model).__name__}.dispose")()
    _kept_s3_models[:] = [model for model in _kept_s3_models if id(model) not in released]


def kept_s3_model_count() -> int:
    """How many S3 objects snapshots still hold open (for tests and the doctor)."""
    return len(_kept_s3_models)


# Hooks function code must not replace (the runtime checks them after each invocation) ---------

_ABSENT_HOOK = object()


@functools.lru_cache(maxsize=1)
def _client_hook_owners() -> tuple[tuple[str, Any, str], ...]:
    """(label, owner, attribute) of each hook; the owners (modules, classes) are looked up once."""
    import boto3
    import boto3.session
    import botocore.client
    import botocore.session

    return (
        ("boto3.client", boto3, "client"),
        ("boto3.resource", boto3, "resource"),
        ("boto3.Session", boto3, "Session"),
        ("boto3.session.Session.client", boto3.session.Session, "client"),
        ("boto3.session.Session.resource", boto3.session.Session, "resource"),
        ("botocore.session.Session.create_client", botocore.session.Session, "create_client"),
        ("botocore.client.BaseClient._make_api_call", botocore.client.BaseClient, "_make_api_call"),
    )


@_touchpoint(
    "boto3.client / boto3.session.Session.client / botocore.session.Session.create_client / "
    "botocore.client.BaseClient._make_api_call / botocore.handlers.BUILTIN_HANDLERS (whole list)",
    "the factories and the method every boto3 call goes through, and botocore's handler list: the "
    "runtime compares them before and after each invocation and puts back what function code replaced",
)
def client_hooks() -> dict[str, Any]:
    """What boto3 and botocore calls go through now, by name (identity matters), plus the
    handler lists (botocore's built-in handlers and the kit's own entries in them)."""
    from botocore.handlers import BUILTIN_HANDLERS

    hooks: dict[str, Any] = {}
    for label, owner, name in _client_hook_owners():
        value = vars(owner).get(name, _ABSENT_HOOK)
        if value is _ABSENT_HOOK and label.endswith("_make_api_call"):
            raise _changed(label, "BaseClient no longer defines '_make_api_call'")
        hooks[label] = value
    hooks["botocore.handlers.BUILTIN_HANDLERS"] = tuple(BUILTIN_HANDLERS)
    hooks["kit handlers"] = tuple(_OUR_HANDLERS)
    hooks["lambda.invoke handler"] = _LAMBDA_ORIGINALS.get("handler")
    return hooks


def restore_client_hooks(saved: dict[str, Any]) -> list[str]:
    """Put back what :func:`client_hooks` returned; returns the names that had changed."""
    from botocore.handlers import BUILTIN_HANDLERS

    now = client_hooks()
    if now == saved:  # the usual case, after every invocation: one comparison (identity first, item by item)
        return []
    changed = [label for label, value in saved.items() if now.get(label) is not value and now.get(label) != value]
    for label, owner, name in _client_hook_owners():
        if label in changed:
            value = saved[label]
            if value is _ABSENT_HOOK:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
    if "botocore.handlers.BUILTIN_HANDLERS" in changed:
        BUILTIN_HANDLERS[:] = saved["botocore.handlers.BUILTIN_HANDLERS"]
    if "kit handlers" in changed:
        _OUR_HANDLERS[:] = saved["kit handlers"]
    if "lambda.invoke handler" in changed:
        unpatch_lambda_invoke()
        if saved["lambda.invoke handler"] is not None:
            patch_lambda_invoke(saved["lambda.invoke handler"])
    return changed


@_touchpoint(
    "moto.awslambda_simple.models.LambdaSimpleBackend.invoke / moto.awslambda.responses.LambdaResponse.invoke "
    "(identity)",
    "the runtime checks after each invocation that function code did not replace the kit's lambda.invoke patch",
)
def lambda_invoke_methods() -> tuple[Any, Any]:
    """The ``invoke`` methods moto's Lambda runs now (the kit's replacements while patched)."""
    LambdaSimpleBackend, LambdaResponse = _lambda_invoke_classes()
    return (
        _own_method(LambdaSimpleBackend, "invoke", "LambdaSimpleBackend.invoke"),
        _own_method(LambdaResponse, "invoke", "LambdaResponse.invoke"),
    )


@functools.lru_cache(maxsize=1)
def _lambda_invoke_classes() -> tuple[Any, Any]:
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda_simple.models import LambdaSimpleBackend

    return LambdaSimpleBackend, LambdaResponse


def restore_lambda_invoke_methods(saved: tuple[Any, Any]) -> bool:
    """Put back what :func:`lambda_invoke_methods` returned; True when they had changed."""
    LambdaSimpleBackend, LambdaResponse = _lambda_invoke_classes()
    if lambda_invoke_methods() == saved:
        return False
    LambdaSimpleBackend.invoke = saved[0]
    LambdaResponse.invoke = saved[1]
    return True


# Operations moto does not implement ------------------------------------------------------------

#: The error the kit answers for an operation moto does not implement (S3 answers unsupported features so).
MOTO_GAP_CODE = "NotImplemented"
MOTO_GAP_STATUS = 501


def _moto_gap_error(operation: Any, what: str) -> Any:
    """botocore's ClientError for ``operation`` (an OperationModel), moto lacking ``what``."""
    import moto
    from botocore.exceptions import ClientError

    service = operation.service_model.service_name
    message = (
        f"{service}.{operation.name} cannot run offline: the sandbox's offline AWS (moto {moto.__version__}) "
        f"{what}. Fix: run this call against a real AWS account (aws mode), or keep it out of the code you "
        "run in the sandbox."
    )
    return ClientError(
        {
            "Error": {"Code": MOTO_GAP_CODE, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": MOTO_GAP_STATUS, "HTTPHeaders": {}, "RetryAttempts": 0},
        },
        operation.name,
    )


@_touchpoint(
    "moto.core.responses.BaseResponse.call_action (NotImplementedError) / "
    "moto.core.botocore_stubber.BotocoreStubber.process_request (404 'Not yet implemented')",
    "how moto answers an action of a mocked service it lacks, and a service it does not mock: a needs-retry "
    "hook turns both into botocore's ClientError NotImplemented (HTTP 501), which function code catches",
)
def moto_gap_as_client_error(
    response: Any = None, caught_exception: BaseException | None = None, operation: Any = None, **_: Any
) -> None:
    """A botocore ``needs-retry`` handler: raise ClientError NotImplemented where moto has no answer.

    moto raises a Python ``NotImplementedError`` from its before-send stubber for an
    action it lacks (botocore hands it to ``needs-retry`` as ``caught_exception``), and
    answers a service it does not mock with HTTP 404 and the body "Not yet
    implemented" (``response``). Anything else passes (returns None: no retry decided here).
    """
    if operation is None:
        return None
    if isinstance(caught_exception, NotImplementedError):
        raise _moto_gap_error(operation, "does not implement this operation") from caught_exception
    if caught_exception is None and isinstance(response, tuple) and response:
        http = response[0]
        if getattr(http, "status_code", None) == 404 and getattr(http, "content", b"") == b"Not yet implemented":
            service = operation.service_model.service_name
            raise _moto_gap_error(operation, f"does not emulate the {service} service at all")
    return None


# CloudFormation resource types the kit fills in ------------------------------------------------


@_touchpoint(
    "moto.core.common_models.CloudFormationModel",
    "the base class moto's CloudFormation creates resources from; the kit's models for the types moto "
    "lacks (Secrets Manager secrets, API Gateway stages) derive from it",
)
def cloudformation_model_base() -> Any:
    """moto's ``CloudFormationModel`` class."""
    from moto.core import common_models

    base = _attribute(common_models, "CloudFormationModel", "CloudFormationModel")
    for method in ("create_from_cloudformation_json", "cloudformation_type", "has_cfn_attr"):
        _attribute(base, method, f"CloudFormationModel.{method}")
    return base


@_touchpoint(
    "moto.cloudformation.parsing.get_model_map",
    "the resource type -> model class map moto's CloudFormation consults (one cached dict); the kit adds its "
    "models for the types moto lacks and replaces a few (state machines with an Arn, REST APIs from a Body)",
)
def register_cloudformation_models(models: dict[str, Any]) -> None:
    """Make moto's CloudFormation create ``models`` (resource type -> class)."""
    with paused_gc():  # the first time, this imports nearly all of moto (docs/performance.md §10)
        from moto.cloudformation import parsing

    get_model_map = _attribute(parsing, "get_model_map", "parsing.get_model_map")
    mapping = get_model_map()
    if not isinstance(mapping, dict) or get_model_map() is not mapping:
        raise _changed("parsing.get_model_map", "expected the same cached dict on every call")
    mapping.update(models)


@_touchpoint(
    "moto.core.config.default_user_config['stepfunctions']['execute_state_machine']",
    "whether moto's Step Functions runs executions (its ASL interpreter) or answers a canned history",
)
def step_functions_execute(on: bool | None = None) -> bool:
    """Read (and with ``on``, set) whether moto really executes state machines."""
    from moto.core import config

    user_config = _attribute(config, "default_user_config", "config.default_user_config")
    settings = user_config.get("stepfunctions")
    if not isinstance(settings, dict) or "execute_state_machine" not in settings:
        raise _changed("default_user_config", "no stepfunctions.execute_state_machine setting")
    if on is not None:
        settings["execute_state_machine"] = bool(on)
    return bool(settings["execute_state_machine"])


@_touchpoint(
    "moto.cloudformation.exceptions.UnformattedGetAttTemplateException",
    "the error moto's CloudFormation turns into 'resource X does not support attribute type Y in Fn::GetAtt'",
)
def unknown_attribute_error() -> Exception:
    """The exception a model raises for an ``Fn::GetAtt`` attribute it does not have."""
    from moto.cloudformation import exceptions

    return _attribute(exceptions, "UnformattedGetAttTemplateException", "UnformattedGetAttTemplateException")()


@_touchpoint(
    "moto.cloudformation.parsing.get_model_map (keys)",
    "which resource types moto's CloudFormation can create, so deploy_project names an unsupported one "
    "before moto skips it silently",
)
def cloudformation_model_types() -> set[str]:
    """The resource types moto's CloudFormation (with the kit's models registered) can create."""
    with paused_gc():
        from moto.cloudformation import parsing

    return set(_attribute(parsing, "get_model_map", "parsing.get_model_map")())


@_touchpoint(
    "moto.awslambda.models.LambdaBackend.layers_versions_by_arn / LayerVersion.code_bytes",
    "the content of a layer version a function uses (the Lambda API answers only an S3 location for it)",
)
def lambda_layer_content(account: str, region: str, arn: str) -> tuple[bytes, str]:
    """``(zip bytes, CodeSha256)`` of the layer version ``arn``, or ``ClientError`` when it is gone."""
    backend = lambda_backend(account, region)
    find = _attribute(backend, "layers_versions_by_arn", "LambdaBackend.layers_versions_by_arn")
    version = find(arn)
    if version is None:
        raise lambda_request_error("ResourceNotFoundException", f"Layer version {arn} does not exist.")
    return bytes(_attribute(version, "code_bytes", "LayerVersion.code_bytes")), str(
        _attribute(version, "code_sha_256", "LayerVersion.code_sha_256")
    )


# moto's request routing ------------------------------------------------------------------------

#: moto.core.routing._create_map as moto defines it, while the kit's replaces it.
_ORIGINAL_CREATE_MAP: list[Callable[..., Any]] = []
_RULE_PATCH_LOCK = threading.Lock()


def _create_map_with_lazy_builders(rules: list[Any]) -> Any:
    """moto's ``_create_map``, with each rule's URL builders compiled on first use rather than at once."""
    from werkzeug.routing.rules import Rule

    original = Rule.__dict__["_compile_builder"]

    def lazy(self: Any, append_unknown: bool = True) -> Callable[..., Any]:
        compiled: list[Callable[..., Any]] = []

        def build(rule: Any, *args: Any, **kwargs: Any) -> Any:
            if not compiled:
                compiled.append(original(rule, append_unknown).__get__(rule, None))
            return compiled[0](*args, **kwargs)

        return build

    with _RULE_PATCH_LOCK:
        Rule._compile_builder = lazy  # type: ignore[method-assign]  # only while moto binds its rules
        try:
            return _ORIGINAL_CREATE_MAP[0](rules)
        finally:
            Rule._compile_builder = original  # type: ignore[method-assign]


@_touchpoint(
    "moto.core.routing._create_map / werkzeug.routing.rules.Rule._compile_builder",
    "moto builds a werkzeug Map of a REST service's operations on its first request (89 rules for Lambda, "
    "about 0.25 s, most of it compiling each rule's URL builders, which moto's routing never calls: it only "
    "matches); while the sandbox runs the builders are compiled on first use instead",
)
def lazy_router_builders(on: bool = True) -> bool:
    """Let moto's routers compile their rules' URL builders on first use (``on=False``: undo).

    Matching a request is unchanged (the rules' patterns are compiled as before), and a
    builder, if anything ever calls one, is the one werkzeug would have made. Returns whether
    the kit's ``_create_map`` is installed.
    """
    from moto.core import routing
    from werkzeug.routing.rules import Rule

    current = _attribute(routing, "_create_map", "moto.core.routing._create_map")
    if not callable(Rule.__dict__.get("_compile_builder")):
        raise _changed("werkzeug.routing.rules.Rule._compile_builder", "Rule defines no _compile_builder")
    if on and current is not _create_map_with_lazy_builders:
        _ORIGINAL_CREATE_MAP[:] = [current]
        routing._create_map = _create_map_with_lazy_builders
    elif not on and current is _create_map_with_lazy_builders:
        routing._create_map = _ORIGINAL_CREATE_MAP.pop()
    return routing._create_map is _create_map_with_lazy_builders


# Stand-ins: the team's own answers, ahead of moto and the emulators (workmail_sandbox/stand_ins.py) --------


@_touchpoint(
    "botocore.client.BaseClient._make_api_call: before-parameter-build.*.* / before-call.*.* "
    "(a non-None (http, parsed) answer replaces the request; *.* runs before before-call.<service>)",
    "stand-ins answer any operation of any service, for every client made while the sandbox runs, ahead of "
    "moto (before-send) and the kit's emulators (before-call.<service>)",
)
def register_stand_in_hooks(keep_params: Callable[..., Any], answer: Callable[..., Any]) -> None:
    """Add the stand-ins' two handlers to botocore's built-in handlers (new sessions get them).

    ``keep_params(params, model, context)`` sees the caller's parameters before botocore
    builds the request; ``answer(model, params, context)`` returns ``(AWSResponse, parsed)``
    to answer the call, or None to let it go on. botocore's handler lookup puts a handler
    of ``before-call.*.*`` (two parts deep) before one of ``before-call.<service>`` (one
    part deep), so a stand-in is asked first.
    """
    register_builtin_handler("before-parameter-build.*.*", keep_params)
    register_builtin_handler("before-call.*.*", answer)


# The local endpoint: AWS wire requests in, AWS wire responses out --------------------------------


@_touchpoint(
    "moto.core.request.Request / moto.core.routing.get_service_router / moto.core.parse.PROTOCOL_PARSERS / "
    "moto.core.request.determine_request_protocol / moto.core.utils.get_service_model",
    "the local endpoint reads an HTTP request as the operation it calls and its parameters, with moto's "
    "router and request parsers (built on botocore's service models)",
)
def parse_wire_request(service_name: str, environ: dict[str, Any]) -> tuple[str, dict[str, Any], str] | None:
    """``(operation name, parameters, protocol)`` of a WSGI request to ``service_name``; None when no
    operation of the service matches the request."""
    from moto.core import parse, request, routing, utils

    wire = request.Request(environ)
    try:
        operation, uri_params = routing.get_service_router(service_name).match(wire)
    except routing.NotFound:
        return None
    model = utils.get_service_model(service_name)
    protocol = request.determine_request_protocol(model, wire.content_type)
    parser = parse.PROTOCOL_PARSERS[protocol](operation)
    params = parser.parse(
        {
            "method": wire.method,
            "values": wire.values,
            "headers": wire.headers,
            "body": wire.get_data(),
            "url_path": wire.path,
            "url_params": uri_params,
        }
    )
    return str(operation.name), dict(params or {}), protocol


@_touchpoint(
    "moto.core.serialize.get_serializer_class / ResponseSerializer.serialize / moto.core.utils.get_service_model",
    "the local endpoint writes an operation's result (or error) as the service's wire response, with moto's "
    "response serializers",
)
def serialize_wire_response(
    service_name: str, operation_name: str, protocol: str, result: Any
) -> tuple[int, dict[str, str], bytes]:
    """``(status, headers, body)`` for ``result`` (a response dict, or an exception with ``code``/``message``)."""
    from moto.core import serialize, utils

    model = utils.get_service_model(service_name)
    operation = model.operation_model(operation_name)
    serializer = serialize.get_serializer_class(service_name, protocol)(operation)
    with warnings.catch_warnings():  # "code X does not match an error shape": the kit's own codes are unmodelled
        warnings.simplefilter("ignore", UserWarning)
        answer = serializer.serialize(result)
    body = answer["body"]
    data = body if isinstance(body, bytes) else str(body or "").encode("utf-8")
    headers = {str(k): str(v) for k, v in answer["headers"].items()}
    content_type = result.get("ContentType") if isinstance(result, dict) else None
    if isinstance(content_type, str) and "Content-Type" in headers:
        headers["Content-Type"] = content_type  # a payload's own type (s3 GetObject), not the protocol's default
    return int(answer["status_code"]), headers, data
