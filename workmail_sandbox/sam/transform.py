"""The SAM transform (``AWS::Serverless-2016-10-31``), run on the client side with ``samtranslator``.

moto's CloudFormation cannot run the transform, so the kit turns a SAM template
into plain CloudFormation first, as AWS's transform does. ``samtranslator``
takes about half a second to import: it is imported on first use.

Results are cached on disk (``<cache_root()>/sam-transform/``, see
:func:`workmail_sandbox.sam.cache_root`), so a fresh kernel deploying the same
app again neither imports ``samtranslator`` nor runs it. An entry is keyed by
everything the result depends on: the template after code locations are
applied, the names of the parameters given (with ``AWS::Region``,
``AWS::AccountId``, ``AWS::Partition``), the managed policy ARNs samtranslator
may ask for, the versions of ``samtranslator`` and of the kit, this module's
own source, and the values of the parameters **samtranslator read**.

Which values it read: the transform gets the parameter values in a dict that
notes every value handed out (:class:`_TrackedParameters`; anything that could
hand out all of them at once notes them all). samtranslator resolves only a few
properties itself (``AutoPublishAlias``, a ``CodeUri`` when it publishes
versions, an application's ``Location``, ...) and leaves every other ``Ref`` and
``Sub`` to CloudFormation, so a template like ``examples/my_workmail_function``,
whose ``OrganizationId`` appears only in ``!Sub`` and ``!Ref``, is transformed
once for every organization id (``workmail-sandbox invoke`` makes a new one on
each run). Why this is sound: the transform is deterministic given its inputs,
and a run whose read parameters have the values an earlier run read follows the
same steps, reads the same parameters and gives the same result (dependencies
recorded while running, as build systems record them). A transform's result is
stored under the values it read, and an index file
(``<index key>.deps``) remembers the :data:`TRANSFORM_CACHE_READ_SETS` most recent
sets of names read for that template, which a lookup tries in turn. A template
samtranslator refuses is transformed again without the read log, so the error is
the plain transform's.

Entries are written to a temporary file and renamed into place (kernels running
at once never read half an entry), an unreadable entry counts as missing, only
successful transforms are stored, and the folder keeps the
:data:`TRANSFORM_CACHE_ENTRIES` most recent entries (and as many index files).
``transform_template(..., cache=False)`` skips it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import _moto
from ..errors import SandboxError
from .templates import load_template, required_capabilities_of

__all__ = [
    "CODE_PROPERTY",
    "TRANSFORM_CACHE_ENTRIES",
    "cfn_capabilities_needed",
    "is_packaged",
    "load",
    "transform_cache_dir",
    "transform_template",
]

#: samtranslator keeps the Region in a class attribute: one transform at a time.
_lock = threading.RLock()


def load(template: dict[str, Any] | str) -> dict[str, Any]:
    """A template as a fresh dict: parsed from text, or a deep copy of a dict."""
    if isinstance(template, str):
        return load_template(template)
    return copy.deepcopy(template)


def _aws_policy_arn(name: str, partition: str = "aws") -> str:
    """``arn:aws:iam::aws:policy/<path><name>`` for an AWS managed policy name."""
    data = _moto.bundled_aws_managed_policies().get(name) or {}
    return f"arn:{partition}:iam::aws:policy{data.get('Path', '/')}{name}"


class _ManagedPolicyLoader:
    """What samtranslator asks for: the ARNs of the AWS managed policies a template names."""

    def __init__(self, names: set[str], partition: str) -> None:
        self.names = names
        self.partition = partition

    def load(self) -> dict[str, str]:
        return {name: _aws_policy_arn(name, self.partition) for name in sorted(self.names)}


def _named_policies(template: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        policies = (resource.get("Properties") or {}).get("Policies")
        if isinstance(policies, str):
            policies = [policies]
        for policy in policies or []:
            if isinstance(policy, str) and not policy.startswith("arn:"):
                names.add(policy)
    return names


CODE_PROPERTY = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Lambda::Function": "Code",
    "AWS::Lambda::LayerVersion": "Content",
}


def is_packaged(kind: str, value: Any) -> bool:
    """Is a function's or layer's code property already an S3 location (not a local path)?"""
    if kind.startswith("AWS::Serverless::"):
        return isinstance(value, dict) or (isinstance(value, str) and value.startswith("s3://"))
    return isinstance(value, dict)


class _RegionOnly:
    """What samtranslator reads from its boto3 session: only ``region_name``.

    A real ``boto3.session.Session`` would load botocore's endpoint data (~0.1 s)
    on every transform; samtranslator uses nothing else of it.
    """

    def __init__(self, region_name: str) -> None:
        self.region_name = region_name


def transform_template(
    template: dict[str, Any] | str,
    *,
    region: str,
    account: str,
    code_locations: dict[str, dict[str, str]] | None = None,
    parameter_values: dict[str, Any] | None = None,
    partition: str = "aws",
    cache: bool = True,
) -> dict[str, Any]:
    """Turn a SAM template into plain CloudFormation, as the ``AWS::Serverless`` transform does.

    ``code_locations`` maps a function's (or layer's) logical id to where its code
    is, ``{"Bucket": ..., "Key": ...}``; it replaces a local ``CodeUri: src/``.
    Every function's code must end up in S3 (or be ``InlineCode``). A template
    without the transform is returned as it is (with the code locations applied).
    ``cache``: read and write the on-disk cache of transformed templates (module docstring).
    """
    sam = load(template)
    for logical_id, location in (code_locations or {}).items():
        resource = sam.get("Resources", {}).get(logical_id)
        if resource is None or resource.get("Type") not in CODE_PROPERTY:
            raise SandboxError(
                f"code_locations names {logical_id!r}, which is not a function or layer of the template.",
                fix="use the logical ids of the template's AWS::Serverless::Function resources",
            )
        kind = resource["Type"]
        properties = resource.setdefault("Properties", {})
        if kind.startswith("AWS::Serverless::"):
            properties[CODE_PROPERTY[kind]] = {"Bucket": location["Bucket"], "Key": location["Key"]}
        else:
            properties[CODE_PROPERTY[kind]] = {"S3Bucket": location["Bucket"], "S3Key": location["Key"]}
    for logical_id, resource in sam.get("Resources", {}).items():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if (
            kind in CODE_PROPERTY
            and "InlineCode" not in properties
            and "ZipFile" not in str(properties.get("Code", ""))
        ):
            if "ImageUri" in properties or (properties.get("PackageType") == "Image"):
                continue
            if not is_packaged(kind, properties.get(CODE_PROPERTY[kind])):
                raise SandboxError(
                    f"{logical_id} ({kind}) has its code at {properties.get(CODE_PROPERTY[kind])!r}, "
                    "a local path CloudFormation cannot read.",
                    fix=f"pass code_locations={{{logical_id!r}: {{'Bucket': ..., 'Key': ...}}}} (see stage_code)",
                )
    transforms = sam.get("Transform")
    transforms = [transforms] if isinstance(transforms, str) else list(transforms or [])
    if not any(str(t).startswith("AWS::Serverless") for t in transforms):
        return sam

    parameters = dict(parameter_values or {})
    parameters.update({"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": partition})
    loader = _ManagedPolicyLoader(_named_policies(sam), partition)
    index = _index_key(sam, parameters, loader.load(), region) if cache else None
    given = copy.deepcopy(parameters)  # as given: samtranslator's py27 conversion below changes the values' types
    if index is not None:
        cached = _read_cached_for(index, given)
        if cached is not None:
            return cached

    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.transform import to_py27_compatible_template, undo_mark_unicode_str_in_template
    from samtranslator.translator.translator import Translator

    with _lock:
        previous = ArnGenerator.BOTO_SESSION_REGION_NAME
        try:
            # samtranslator.translator.transform.transform() without its region lookup:
            # the region comes from the argument, not from AWS_DEFAULT_REGION.
            to_py27_compatible_template(sam, parameters)
            read = _ReadLog()
            metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
            translator = Translator(None, Parser(), boto_session=_RegionOnly(region), metrics=metrics)
            result = undo_mark_unicode_str_in_template(
                translator.translate(
                    sam,
                    parameter_values=_TrackedParameters(parameters, read) if index is not None else parameters,
                    get_managed_policy_map=loader.load,
                )
            )
            metrics.publish()  # to the dummy publisher: otherwise samtranslator logs "unpublished metrics"
        except Exception as error:  # samtranslator's InvalidDocumentException and friends
            if index is not None:
                # Say what the plain transform says: the parameters' read log must never change an outcome.
                return transform_template(
                    template, region=region, account=account, code_locations=code_locations,
                    parameter_values=parameter_values, partition=partition, cache=False,
                )
            raise SandboxError(
                f"The SAM transform refused the template: {error}",
                fix="fix the template as the message says (sam validate reports the same problems)",
            ) from error
        finally:
            ArnGenerator.BOTO_SESSION_REGION_NAME = previous
    if index is not None and not _holds_tracked(result):  # the parameters themselves in the output: not cached
        _write_cached_for(index, given, read.names_read(given), result)
    return result


# The on-disk cache of transformed templates ------------------------------------------------------

#: Bumped when the entries' layout changes: older entries are then not read.
TRANSFORM_CACHE_FORMAT = 2
#: The folder keeps this many entries (the most recently written); older ones are removed.
TRANSFORM_CACHE_ENTRIES = 256
#: An index file remembers this many sets of read parameter names (the most recent).
TRANSFORM_CACHE_READ_SETS = 8


def transform_cache_dir() -> Path:
    """Where transformed templates are cached: ``<cache_root()>/sam-transform``."""
    from .build import cache_root

    return Path(cache_root()) / "sam-transform"


@functools.lru_cache(maxsize=1)
def _cache_versions() -> dict[str, str]:
    """What the transform's result depends on besides its inputs: the code that computes it."""
    module = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    versions = {"format": str(TRANSFORM_CACHE_FORMAT), "module": module}
    for distribution in ("aws-sam-translator", "workmail-sandbox"):
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:  # pragma: no cover - a source tree; the module hash still counts
            versions[distribution] = "unknown"
    return versions


class _ReadLog:
    """Which parameter values a transform read (names), or that it may have read them all."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.everything = False

    def names_read(self, given: dict[str, Any]) -> list[str]:
        """The sorted names whose values the result may depend on (every given one after a whole read)."""
        names = set(self.names) | (set(given) if self.everything else set())
        return sorted(str(name) for name in names)


class _TrackedParameters(dict[str, Any]):
    """The parameter values as samtranslator gets them, noting every value it reads.

    A value can only leave a dict through a method of the dict: each one that hands out
    values notes their names (``[]``, ``get``, ``pop``, ``setdefault``, ``popitem``, and the
    ``items()`` / ``values()`` views, which read through ``[]``); each one that could hand
    out all of them at once without ``[]`` (``==``, ``repr``, ``|``, pickling) notes
    "everything". Copies (``copy``, ``copy.copy``, ``copy.deepcopy``, as samtranslator makes
    one) are tracked dicts writing to the same log. ``__iter__`` is overridden so that
    ``dict(d)``, ``{**d}`` and ``f(**d)`` take CPython's slow path through ``keys()`` and
    ``[]``. Names alone (``in``, ``len``, iteration, ``keys()``) are not noted: the cache
    key holds the set of names given.
    """

    __slots__ = ("_log",)

    def __init__(self, values: dict[str, Any], log: _ReadLog) -> None:
        super().__init__(values)
        self._log = log

    def _tracked(self, values: dict[str, Any]) -> _TrackedParameters:
        return _TrackedParameters(values, self._log)

    def _all(self) -> dict[str, Any]:
        self._log.everything = True
        self._log.names.update(str(name) for name in dict.keys(self))
        return dict(dict.items(self))

    def __getitem__(self, name: str) -> Any:
        self._log.names.add(str(name))
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self._log.names.add(str(name))
        return super().get(name, default)

    def pop(self, name: str, *default: Any) -> Any:
        self._log.names.add(str(name))
        return super().pop(name, *default)

    def popitem(self) -> tuple[str, Any]:
        name, value = super().popitem()
        self._log.names.add(str(name))
        return name, value

    def setdefault(self, name: str, default: Any = None) -> Any:
        self._log.names.add(str(name))
        return super().setdefault(name, default)

    def __iter__(self) -> Iterator[str]:
        return super().__iter__()

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        return KeysView(self)  # no ``.mapping`` (dict views hand out the dict itself)

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        return ItemsView(self)

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        return ValuesView(self)

    def copy(self) -> _TrackedParameters:
        return self._tracked(dict(dict.items(self)))

    def __copy__(self) -> _TrackedParameters:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> _TrackedParameters:
        return self._tracked({name: copy.deepcopy(value, memo) for name, value in dict.items(self)})

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (dict, (self._all(),))

    def __eq__(self, other: object) -> bool:
        return self._all() == other

    def __ne__(self, other: object) -> bool:
        return self._all() != other

    __hash__ = None

    def __repr__(self) -> str:
        return repr(self._all())

    def __or__(self, other: Any) -> Any:
        return self._all() | other

    def __ror__(self, other: Any) -> Any:
        return other | self._all()


def _holds_tracked(value: Any) -> bool:
    """Does ``value`` hold a :class:`_TrackedParameters` (whose later reads the key could not count)?"""
    if isinstance(value, _TrackedParameters):
        return True
    if isinstance(value, dict):
        return any(_holds_tracked(item) for item in dict.values(value))
    if isinstance(value, list):
        return any(_holds_tracked(item) for item in value)
    return False


def _digest(payload: Any) -> str | None:
    """Hex SHA-256 of ``payload`` as sorted JSON, or None when it holds a value JSON cannot spell exactly."""
    try:
        text = json.dumps(payload, sort_keys=True)
    except (TypeError, ValueError):  # a date or a tuple from YAML, say: transform it, but do not cache it
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _index_key(sam: dict[str, Any], parameters: dict[str, Any], policies: dict[str, str], region: str) -> str | None:
    """Everything but the parameter values: the template, the names given, policies, Region, versions."""
    return _digest(
        {"versions": _cache_versions(), "template": sam, "parameter_names": sorted(map(str, parameters)),
         "policies": policies, "region": region}
    )


def _entry_key(index: str, parameters: dict[str, Any], names: list[str]) -> str | None:
    """An entry's key: the index key, the names the transform read and their values (those given)."""
    values = {name: parameters[name] for name in names if name in parameters}
    return _digest({"index": index, "read": names, "values": values})


def _read_index(index: str) -> list[list[str]]:
    """The sets of names earlier transforms with this index key read (most recent first)."""
    try:
        entry = json.loads((transform_cache_dir() / f"{index}.deps").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(entry, dict) or entry.get("key") != index or not isinstance(entry.get("read"), list):
        return []
    return [names for names in entry["read"] if isinstance(names, list) and all(isinstance(n, str) for n in names)]


def _read_cached_for(index: str, parameters: dict[str, Any]) -> dict[str, Any] | None:
    """A stored transform whose read parameters all have the values given now, or None."""
    for names in _read_index(index):
        key = _entry_key(index, parameters, names)
        cached = _read_cached(key) if key is not None else None
        if cached is not None:
            return cached
    return None


def _write_cached_for(index: str, parameters: dict[str, Any], names: list[str], template: dict[str, Any]) -> None:
    """Store a transform under the values it read, and note the names in the index (best effort)."""
    key = _entry_key(index, parameters, names)
    if key is None or not _write_cached(key, template):
        return
    known = [n for n in _read_index(index) if n != names]
    _write_atomically(
        f"{index}.deps", json.dumps({"key": index, "read": [names, *known][:TRANSFORM_CACHE_READ_SETS]})
    )


def _read_cached(key: str) -> dict[str, Any] | None:
    try:
        entry = json.loads((transform_cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable or cut short: transform again
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("template"), dict):
        return None
    return entry["template"]


def _write_cached(key: str, template: dict[str, Any]) -> bool:
    """Store an entry (best effort: a cache that cannot be written only costs time). True when stored."""
    try:
        text = json.dumps({"key": key, "template": template}, sort_keys=True)
        if json.loads(text)["template"] != template:
            return False  # a value JSON does not keep as it is: never serve something else than a transform gives
    except (TypeError, ValueError):
        return False
    return _write_atomically(f"{key}.json", text)


def _write_atomically(name: str, text: str) -> bool:
    """Write ``<cache dir>/<name>`` through a temporary file and a rename; False when it cannot."""
    try:
        folder = transform_cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{name[:16]}-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, folder / name)  # atomic: readers see the whole file or none
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(folder, "*.json")
        _prune(folder, "*.deps")
    except (OSError, TypeError, ValueError):
        return False
    return True


def _prune(folder: Path, pattern: str) -> None:
    """Keep the :data:`TRANSFORM_CACHE_ENTRIES` most recently written files matching ``pattern``."""
    entries = []
    for path in folder.glob(pattern):
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:  # removed by another kernel meanwhile
            continue
    if len(entries) <= TRANSFORM_CACHE_ENTRIES:
        return
    for _, path in sorted(entries)[: len(entries) - TRANSFORM_CACHE_ENTRIES]:
        path.unlink(missing_ok=True)


def cfn_capabilities_needed(template: dict[str, Any]) -> list[str]:
    """The capabilities CloudFormation asks for (``CAPABILITY_IAM`` / ``_NAMED_IAM``) on ``template``."""
    return [c for c in required_capabilities_of(template) if c in ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")]

