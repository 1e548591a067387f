"""The Serverless Application Repository operations the sandbox answers: parameters in, botocore-shaped dict out.

One method per operation, named as boto3 names it. Parameters arrive already
checked by botocore against the service model; the backend applies SAR's rules.
SAR's timestamps (``CreationTime``, ``ExpirationTime``) are strings in its model,
so they are ISO-8601 strings here too.
"""

from __future__ import annotations

from typing import Any

from .models import ServerlessRepoBackend

__all__ = ["ServerlessRepoResponses"]


class ServerlessRepoResponses:
    """ListApplications, GetApplication, CreateCloudFormationChangeSet,
    CreateCloudFormationTemplate and GetCloudFormationTemplate (API 2017-09-08)."""

    def list_applications(self, backend: ServerlessRepoBackend, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /applications`` -> ``{"Applications": [...], "NextToken"?}``."""
        applications, token = backend.list_applications(params.get("MaxItems"), params.get("NextToken"))
        answer: dict[str, Any] = {"Applications": applications}
        if token:
            answer["NextToken"] = token
        return answer

    def get_application(self, backend: ServerlessRepoBackend, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /applications/{applicationId}`` -> the application and its ``Version``."""
        return backend.get_application(params["ApplicationId"], params.get("SemanticVersion"))

    def create_cloud_formation_change_set(
        self, backend: ServerlessRepoBackend, params: dict[str, Any]
    ) -> dict[str, Any]:
        """``POST /applications/{applicationId}/changesets`` -> ApplicationId, ChangeSetId, SemanticVersion, StackId."""
        return backend.create_cloud_formation_change_set(params)

    def create_cloud_formation_template(self, backend: ServerlessRepoBackend, params: dict[str, Any]) -> dict[str, Any]:
        """``POST /applications/{applicationId}/templates`` -> the template, Status PREPARING."""
        return backend.create_cloud_formation_template(params["ApplicationId"], params.get("SemanticVersion"))

    def get_cloud_formation_template(self, backend: ServerlessRepoBackend, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /applications/{applicationId}/templates/{templateId}`` -> the template and its Status."""
        return backend.get_cloud_formation_template(params["ApplicationId"], params["TemplateId"])
