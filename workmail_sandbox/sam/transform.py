"""The SAM transform (``AWS::Serverless-2016-10-31``), run on the client side with ``samtranslator``.

moto's CloudFormation cannot run the transform, so the kit turns a SAM template
into plain CloudFormation first, as AWS's transform does. ``samtranslator``
takes about half a second to import: it is imported on first use.

Results are cached on disk (``<cache_root()>/sam-transform/``, see
:func:`workmail_sandbox.sam.cache_root`), so a fresh kernel deploying the same
app again neither imports ``samtranslator`` nor runs it. An entry is keyed by
everything the result depends on: the template after code locations are
applied, the parameter values with Region, account and partition, the managed
policy ARNs samtranslator may ask for, the versions of ``samtranslator`` and
of the kit, and this module's own source. Entries are written to a temporary
file and renamed into place (kernels running at once never read half an
entry), an unreadable entry counts as missing, only successful transforms are
stored, and the folder keeps the :data:`TRANSFORM_CACHE_ENTRIES` most recent
entries. ``transform_template(..., cache=False)`` skips it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import tempfile
import threading
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
    key = _cache_key(sam, parameters, loader.load(), region) if cache else None
    if key is not None:
        cached = _read_cached(key)
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
            metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
            translator = Translator(None, Parser(), boto_session=_RegionOnly(region), metrics=metrics)
            result = undo_mark_unicode_str_in_template(
                translator.translate(sam, parameter_values=parameters, get_managed_policy_map=loader.load)
            )
            metrics.publish()  # to the dummy publisher: otherwise samtranslator logs "unpublished metrics"
        except Exception as error:  # samtranslator's InvalidDocumentException and friends
            raise SandboxError(
                f"The SAM transform refused the template: {error}",
                fix="fix the template as the message says (sam validate reports the same problems)",
            ) from error
        finally:
            ArnGenerator.BOTO_SESSION_REGION_NAME = previous
    if key is not None:
        _write_cached(key, result)
    return result


# The on-disk cache of transformed templates ------------------------------------------------------

#: Bumped when the entries' layout changes: older entries are then not read.
TRANSFORM_CACHE_FORMAT = 1
#: The folder keeps this many entries (the most recently written); older ones are removed.
TRANSFORM_CACHE_ENTRIES = 256


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


def _cache_key(sam: dict[str, Any], parameters: dict[str, Any], policies: dict[str, str], region: str) -> str | None:
    """The entry's key (hex SHA-256), or None when the template holds a value JSON cannot spell exactly."""
    try:
        payload = json.dumps(
            {"versions": _cache_versions(), "template": sam, "parameters": parameters, "policies": policies,
             "region": region},
            sort_keys=True,
        )
    except (TypeError, ValueError):  # a date or a tuple from YAML, say: transform it, but do not cache it
        return None
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _read_cached(key: str) -> dict[str, Any] | None:
    try:
        entry = json.loads((transform_cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable or cut short: transform again
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("template"), dict):
        return None
    return entry["template"]


def _write_cached(key: str, template: dict[str, Any]) -> None:
    """Store an entry (best effort: a cache that cannot be written only costs time)."""
    try:
        text = json.dumps({"key": key, "template": template}, sort_keys=True)
        if json.loads(text)["template"] != template:
            return  # a value JSON does not keep as it is: never serve something else than a transform gives
        folder = transform_cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{key[:16]}-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, folder / f"{key}.json")  # atomic: readers see the whole entry or none
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(folder)
    except (OSError, TypeError, ValueError):
        return


def _prune(folder: Path) -> None:
    """Keep the :data:`TRANSFORM_CACHE_ENTRIES` most recently written entries."""
    entries = []
    for path in folder.glob("*.json"):
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

