"""The kit's own function apps: SAM templates and code, served by the emulated SAR.

Each folder under ``apps/`` that holds a ``metadata.json`` is one application:

``template.yaml``
    the SAM template (``Transform: AWS::Serverless-2016-10-31``), as an author
    publishes it;
``src/``
    the function code (``CodeUri: src/``), zipped by :meth:`App.code_zip`;
``metadata.json``
    what the Serverless Application Repository shows about the application
    (``ApplicationId``, ``Name``, ``Author``, ``SemanticVersion``, ...), with the
    ``RequiredCapabilities`` and ``ParameterDefinitions`` SAR derives from the
    template. A test checks those two against :meth:`App.required_capabilities` and
    :meth:`App.parameter_definitions`, so they cannot drift;
``README.md``
    for people.

``catalog()`` lists them; the SAR emulator (``emulators/serverlessrepo``) serves
them and ``workmail_sandbox.deploy`` deploys them.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SandboxError
from ..sam.templates import CAPABILITY_ORDER, load_template, references, required_capabilities_of
from ..sam.transform import transform_template

__all__ = [
    "App",
    "CAPABILITY_ORDER",
    "app_by_id",
    "catalog",
    "get_app",
    "load_template",
    "required_capabilities_of",
]

APPS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class App:
    """One application of the kit's catalog (a folder under ``workmail_sandbox/apps``)."""

    folder: Path
    metadata: dict[str, Any] = field(repr=False)

    # Identity ----------------------------------------------------------------

    @property
    def name(self) -> str:
        """The SAR application name, e.g. ``workmail-hello-world-python``."""
        return self.metadata["Name"]

    @property
    def key(self) -> str:
        """The folder name, e.g. ``hello_world`` (what ``deploy_app(name=...)`` takes)."""
        return self.folder.name

    @property
    def application_id(self) -> str:
        """The SAR application ARN."""
        return self.metadata["ApplicationId"]

    @property
    def version(self) -> str:
        """The semantic version the catalog serves."""
        return self.metadata["SemanticVersion"]

    # Contents ----------------------------------------------------------------

    @property
    def template_path(self) -> Path:
        return self.folder / "template.yaml"

    @property
    def template_text(self) -> str:
        """The SAM template as published (untransformed)."""
        return self.template_path.read_text(encoding="utf-8")

    def template(self) -> dict[str, Any]:
        """The SAM template, parsed."""
        return load_template(self.template_text)

    @property
    def code_dir(self) -> Path:
        """The folder ``CodeUri`` points at (``src/``)."""
        return self.folder / "src"

    def code_zip(self) -> bytes:
        """A deterministic zip of ``src/``: sorted names, fixed dates and modes, no caches."""
        return _zip_folder(self.code_dir)

    def code_sha256(self) -> str:
        return hashlib.sha256(self.code_zip()).hexdigest()

    # What SAR derives from the template ------------------------------------------

    def required_capabilities(self) -> list[str]:
        """Capabilities SAR requires, counted on the template after the SAM transform."""
        return list(_required_capabilities_cached(self.template_path, self.template_text))

    def parameter_definitions(self) -> list[dict[str, Any]]:
        """SAR's ``ParameterDefinitions`` for the template's Parameters."""
        template = self.template()
        resources = template.get("Resources", {})
        definitions = []
        keys = {
            "Type": "Type",
            "Default": "DefaultValue",
            "AllowedValues": "AllowedValues",
            "AllowedPattern": "AllowedPattern",
            "ConstraintDescription": "ConstraintDescription",
            "Description": "Description",
            "MaxLength": "MaxLength",
            "MinLength": "MinLength",
            "MaxValue": "MaxValue",
            "MinValue": "MinValue",
            "NoEcho": "NoEcho",
        }
        for name, spec in (template.get("Parameters") or {}).items():
            definition: dict[str, Any] = {"Name": name}
            for source, target in keys.items():
                if source in spec:
                    value = spec[source]
                    if target in ("DefaultValue",):
                        value = str(value)
                    elif target == "AllowedValues":
                        value = [str(v) for v in value]
                    elif target == "NoEcho":
                        value = str(value).lower() == "true"
                    elif target in ("MaxLength", "MinLength", "MaxValue", "MinValue"):
                        value = int(value)
                    definition[target] = value
            definition["ReferencedByResources"] = sorted(
                logical_id for logical_id, resource in resources.items() if name in references(resource)
            )
            definitions.append(definition)
        return definitions

    def served_required_capabilities(self) -> list[str]:
        """What ``GetApplication`` reports: metadata.json's value, else computed."""
        stored = self.metadata.get("RequiredCapabilities")
        return list(stored) if stored is not None else self.required_capabilities()

    def served_parameter_definitions(self) -> list[dict[str, Any]]:
        stored = self.metadata.get("ParameterDefinitions")
        return [dict(d) for d in stored] if stored is not None else self.parameter_definitions()


@functools.lru_cache(maxsize=32)
def _required_capabilities_cached(path: Path, text: str) -> tuple[str, ...]:
    sam = load_template(text)
    placeholders = {
        logical_id: {"Bucket": "placeholder", "Key": f"{logical_id}.zip"}
        for logical_id, resource in sam.get("Resources", {}).items()
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion")
    }
    transformed = transform_template(sam, region="us-east-1", account="123456789012", code_locations=placeholders)
    needed = set(required_capabilities_of(transformed)) | set(required_capabilities_of(sam))
    if "CAPABILITY_NAMED_IAM" in needed:
        needed.discard("CAPABILITY_IAM")
    return tuple(c for c in CAPABILITY_ORDER if c in needed)


_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _zip_folder(folder: Path) -> bytes:
    if not folder.is_dir():
        raise SandboxError(f"The app's code folder {folder} does not exist.", fix="put the function code under src/")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_dir() or "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo"):
                continue
            info = zipfile.ZipInfo(relative.as_posix(), date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


@functools.lru_cache(maxsize=1)
def _catalog_cached() -> tuple[App, ...]:
    apps = []
    for metadata_path in sorted(APPS_DIR.glob("*/metadata.json")):
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
        apps.append(App(folder=metadata_path.parent, metadata=metadata))
    return tuple(apps)


def catalog() -> dict[str, App]:
    """Every app of the kit, by folder name (``{"hello_world": App(...)}``)."""
    return {app.key: app for app in _catalog_cached()}


def get_app(name: str) -> App:
    """The app in folder ``name`` (``"hello_world"``); its SAR name works too."""
    apps = catalog()
    if name in apps:
        return apps[name]
    for app in apps.values():
        if name in (app.name, app.application_id):
            return app
    raise SandboxError(
        f"There is no app {name!r} in the kit's catalog; it has {', '.join(sorted(apps)) or 'none'}.",
        fix="pass one of those names (the folder names under workmail_sandbox/apps)",
    )


def app_by_id(application_id: str) -> App | None:
    """The app whose SAR ApplicationId is ``application_id``, if any."""
    for app in catalog().values():
        if app.application_id == application_id:
            return app
    return None
