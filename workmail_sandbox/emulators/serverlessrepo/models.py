"""State and rules of the emulated Serverless Application Repository (no HTTP here).

One :class:`ServerlessRepoBackend` per (account, region). The applications come
from the kit's catalog (:mod:`workmail_sandbox.apps`), the same in every region.
The backend keeps plain data only (deep-copyable, so sandbox snapshots work):
the templates made by ``CreateCloudFormationTemplate`` and the change sets whose
stacks still need moto's gaps filled once they are executed.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import re
import uuid
from typing import Any

from ...apps import CAPABILITY_ORDER, App, app_by_id, catalog
from ...sam.packaging import package_template
from .._core import STATE
from .changesets import create_app_change_set
from .exceptions import BadRequestException, NotFoundException

__all__ = [
    "TEMPLATE_LIFETIME",
    "ServerlessRepoBackend",
    "iso",
    "template_host",
]

#: "The template expires 1 hour after creation" (CreateCloudFormationTemplate; devguide).
TEMPLATE_LIFETIME = _dt.timedelta(hours=1)

_APPLICATION_ARN = re.compile(r"arn:aws[a-z-]*:serverlessrepo:[a-z0-9-]+:\d{12}:applications/[A-Za-z0-9-]+")
_CHANGE_SET_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
_STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
_TEMPLATE_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MAX_ITEMS = 100


def iso(moment: _dt.datetime) -> str:
    """SAR's timestamps are strings: ``2026-11-25T17:23:23.000Z``."""
    moment = moment.astimezone(_dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def template_host(account: str, region: str) -> str:
    """The (fake) S3 host of this account's SAR templates: ``awsserverlessrepo-changesets-<13 chars>``."""
    digest = hashlib.sha256(f"{account}/{region}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    suffix = "".join(alphabet[b % 36] for b in digest[:13])
    return f"awsserverlessrepo-changesets-{suffix}.s3.amazonaws.com"


class ServerlessRepoBackend:
    """The SAR as one account sees it in one region."""

    def __init__(self, account_id: str, region_name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        #: TemplateId -> what CreateCloudFormationTemplate made (plain data).
        self.templates: dict[str, dict[str, Any]] = {}
        #: ChangeSetId -> what apply_moto_fixups needs once the change set is executed.
        self.pending_change_sets: dict[str, dict[str, Any]] = {}

    # Applications -------------------------------------------------------------------

    def _app(self, application_id: str, semantic_version: str | None, *, missing: type = NotFoundException) -> App:
        if not _APPLICATION_ARN.fullmatch(application_id or ""):
            raise BadRequestException(
                f"Invalid applicationId: {application_id!r} is not an application ARN "
                "(arn:aws:serverlessrepo:<region>:<account>:applications/<name>)."
            )
        app = app_by_id(application_id)
        if app is None:
            raise missing(f"Application with id {application_id} does not exist or you don't have access to it.")
        if semantic_version is not None and semantic_version != app.version:
            raise missing(f"Cannot find version {semantic_version} of application {application_id}.")
        return app

    def _template_url(self, app: App, suffix: str) -> str:
        host = template_host(self.account_id, self.region_name)
        return f"https://{host}/{self.account_id}/{app.name}/{app.version}/{suffix}"

    def _version(self, app: App) -> dict[str, Any]:
        metadata = app.metadata
        version = {
            "ApplicationId": app.application_id,
            "CreationTime": metadata["CreationTime"],
            "ParameterDefinitions": app.served_parameter_definitions(),
            "RequiredCapabilities": app.served_required_capabilities(),
            "ResourcesSupported": True,
            "SemanticVersion": app.version,
            "TemplateUrl": self._template_url(app, "template.yaml"),
        }
        if metadata.get("SourceCodeUrl"):
            version["SourceCodeUrl"] = metadata["SourceCodeUrl"]
        return version

    def list_applications(
        self, max_items: int | None, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        if max_items is not None and not 1 <= max_items <= _MAX_ITEMS:
            raise BadRequestException(f"Invalid maxItems: {max_items}; it must be between 1 and {_MAX_ITEMS}.")
        apps = sorted(catalog().values(), key=lambda a: a.name)
        start = 0
        if next_token:
            try:
                start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
            except (ValueError, UnicodeDecodeError):
                raise BadRequestException(f"Invalid nextToken: {next_token!r}.") from None
        end = start + (max_items or _MAX_ITEMS)
        summaries = []
        for app in apps[start:end]:
            summary = {
                "ApplicationId": app.application_id,
                "Author": app.metadata["Author"],
                "CreationTime": app.metadata["CreationTime"],
                "Description": app.metadata["Description"],
                "Name": app.name,
            }
            for key in ("HomePageUrl", "Labels", "SpdxLicenseId"):
                if key in app.metadata:
                    summary[key] = app.metadata[key]
            summaries.append(summary)
        token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(apps) else None
        return summaries, token

    def get_application(self, application_id: str, semantic_version: str | None) -> dict[str, Any]:
        app = self._app(application_id, semantic_version)
        metadata = app.metadata
        answer = {
            "ApplicationId": app.application_id,
            "Author": metadata["Author"],
            "CreationTime": metadata["CreationTime"],
            "Description": metadata["Description"],
            "Name": app.name,
            "Version": self._version(app),
        }
        for key in ("HomePageUrl", "Labels", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl"):
            if key in metadata:
                answer[key] = metadata[key]
        answer["IsVerifiedAuthor"] = bool(metadata.get("IsVerifiedAuthor", False))
        return answer

    # Templates ---------------------------------------------------------------------

    def create_cloud_formation_template(self, application_id: str, semantic_version: str | None) -> dict[str, Any]:
        app = self._app(application_id, semantic_version)
        packaged = package_template(app, region=self.region_name, account=self.account_id)
        template_id = str(uuid.uuid4())
        now = STATE.clock.now()
        record = {
            "TemplateId": template_id,
            "ApplicationId": app.application_id,
            "SemanticVersion": app.version,
            "CreationTime": now,
            "ExpirationTime": now + TEMPLATE_LIFETIME,
            "TemplateUrl": self._template_url(app, f"{template_id}.yaml"),
            "Ready": False,
            "Packaged": packaged,
        }
        self.templates[template_id] = record
        return self._template_answer(record, status="PREPARING")

    def get_cloud_formation_template(self, application_id: str, template_id: str) -> dict[str, Any]:
        self._app(application_id, None)
        if not _TEMPLATE_ID.fullmatch(template_id or ""):
            raise BadRequestException(f"Invalid templateId: {template_id!r} is not a UUID.")
        record = self.templates.get(template_id)
        if record is None or record["ApplicationId"] != application_id:
            raise NotFoundException(f"Template {template_id} of application {application_id} does not exist.")
        record["Ready"] = True  # PREPARING when created, ACTIVE from the next GetCloudFormationTemplate on
        return self._template_answer(record, status=self.template_status(record))

    @staticmethod
    def template_status(record: dict[str, Any]) -> str:
        """PREPARING until someone asks again, ACTIVE for an hour, then EXPIRED."""
        if STATE.clock.now() > record["ExpirationTime"]:
            return "EXPIRED"
        return "ACTIVE" if record["Ready"] else "PREPARING"

    @staticmethod
    def _template_answer(record: dict[str, Any], *, status: str) -> dict[str, Any]:
        return {
            "ApplicationId": record["ApplicationId"],
            "CreationTime": iso(record["CreationTime"]),
            "ExpirationTime": iso(record["ExpirationTime"]),
            "SemanticVersion": record["SemanticVersion"],
            "Status": status,
            "TemplateId": record["TemplateId"],
            "TemplateUrl": record["TemplateUrl"],
        }

    def template_for_url(self, url: str) -> dict[str, Any] | None:
        base = url.split("?", 1)[0]
        for record in self.templates.values():
            if record["TemplateUrl"] == base:
                return record
        return None

    # Change sets -------------------------------------------------------------------

    def create_cloud_formation_change_set(self, params: dict[str, Any]) -> dict[str, Any]:
        application_id = params["ApplicationId"]
        template_id = params.get("TemplateId")
        record = None
        if template_id:
            record = self.templates.get(template_id)
            if record is None or record["ApplicationId"] != application_id:
                raise BadRequestException(f"Template {template_id} of application {application_id} does not exist.")
            if self.template_status(record) == "EXPIRED":
                raise BadRequestException(
                    f"Template {template_id} expired at {iso(record['ExpirationTime'])}; "
                    "create a new one with CreateCloudFormationTemplate."
                )
        semantic_version = params.get("SemanticVersion") or (record["SemanticVersion"] if record else None)
        app = self._app(application_id, semantic_version, missing=BadRequestException)

        stack_name = params["StackName"]
        full_name = f"serverlessrepo-{stack_name}"
        if not _STACK_NAME.fullmatch(stack_name) or len(full_name) > 128:
            raise BadRequestException(
                f"Invalid stackName: {stack_name!r}. It must start with a letter and contain only letters, digits "
                "and hyphens, and serverlessrepo-<stackName> must be at most 128 characters."
            )
        change_set_name = params.get("ChangeSetName") or f"awsserverlessrepo-{uuid.uuid4().hex}"
        if not _CHANGE_SET_NAME.fullmatch(change_set_name) or len(change_set_name) > 128:
            raise BadRequestException(
                f"Invalid changeSetName: {change_set_name!r}. It must start with a letter and contain only "
                "letters, digits and hyphens (at most 128 characters)."
            )

        given = list(params.get("Capabilities") or [])
        unknown = [c for c in given if c not in CAPABILITY_ORDER]
        if unknown:
            raise BadRequestException(
                f"Invalid capabilities {unknown}: the only valid values are {', '.join(CAPABILITY_ORDER)}."
            )
        required = app.served_required_capabilities()
        missing = [
            c for c in required if c not in given and not (c == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in given)
        ]
        if missing:
            raise BadRequestException(f"Required capabilities [{', '.join(missing)}] were not provided.")

        parameters = self._parameters(app, params.get("ParameterOverrides") or [])
        tags = [
            {"Key": "serverlessrepo:applicationId", "Value": app.application_id},
            {"Key": "serverlessrepo:semanticVersion", "Value": app.version},
        ]
        tags += [{"Key": t["Key"], "Value": t["Value"]} for t in params.get("Tags") or []]
        rollback = params.get("RollbackConfiguration")

        created = create_app_change_set(
            app,
            stack_name=full_name,
            region=self.region_name,
            capabilities=given,
            parameters=parameters,
            change_set_name=change_set_name,
            tags=tags,
            description=params.get("Description"),
            notification_arns=params.get("NotificationArns"),
            rollback_configuration=rollback,
            resource_types=params.get("ResourceTypes"),
            packaged_template=record["Packaged"] if record else None,
        )
        self.pending_change_sets[created["ChangeSetId"]] = {
            "StackId": created["StackId"],
            "StackName": full_name,
            "ChangeSetName": change_set_name,
            "Template": created["Template"],
            "PreviousTemplate": created["PreviousTemplate"],
        }
        return {
            "ApplicationId": app.application_id,
            "ChangeSetId": created["ChangeSetId"],
            "SemanticVersion": app.version,
            "StackId": created["StackId"],
        }

    @staticmethod
    def _parameters(app: App, overrides: list[dict[str, str]]) -> dict[str, str]:
        definitions = {d["Name"]: d for d in app.served_parameter_definitions()}
        values: dict[str, str] = {}
        for override in overrides:
            name, value = override["Name"], override["Value"]
            definition = definitions.get(name)
            if definition is None:
                raise BadRequestException(
                    f"Invalid parameterOverrides: {name!r} is not a parameter of {app.name} "
                    f"(its parameters: {', '.join(definitions) or 'none'})."
                )
            allowed = definition.get("AllowedValues")
            if allowed and value not in allowed:
                raise BadRequestException(f"Parameter '{name}' must be one of AllowedValues {allowed}; got {value!r}.")
            values[name] = value
        return values

    def pending_for(self, change_set: str, stack_name: str | None = None) -> tuple[str, dict[str, Any]] | None:
        """The pending fix-ups of a change set given by id, or by name (+ stack name)."""
        if change_set in self.pending_change_sets:
            return change_set, self.pending_change_sets[change_set]
        for change_set_id, pending in self.pending_change_sets.items():
            if pending["ChangeSetName"] == change_set and stack_name in (
                None,
                pending["StackName"],
                pending["StackId"],
            ):
                return change_set_id, pending
        return None
