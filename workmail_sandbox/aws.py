"""aws mode: the same lessons against your own AWS account.

The kit never creates anything in a real account unless the call says
``confirm=True``, tags everything it creates with ``workmail-sandbox=kit``, and
:meth:`AwsAccount.cleanup` removes exactly what carries that tag, nothing else.

Safety rules:

* a process that has run the sandbox refuses aws mode (restart the kernel), so a
  boto3 client made inside the sandbox cannot be used against AWS by mistake;
* the sandbox's fake credentials (and moto's) are refused outright;
* the region must be one of WorkMail's three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .emulators._core import SANDBOX_ACCESS_KEYS, STATE
from .errors import ConfigurationError
from .sandbox import AWS, get_mode, start
from .workmail_service import check_region

__all__ = ["TAG_KEY", "TAG_VALUE", "AwsAccount", "CleanupItem", "connect"]

TAG_KEY = "workmail-sandbox"
TAG_VALUE = "kit"
_TEST_KEYS = {"testing", "AKIAIOSFODNN7EXAMPLE", *SANDBOX_ACCESS_KEYS}


@dataclass(frozen=True)
class CleanupItem:
    """One resource :meth:`AwsAccount.cleanup` found (and removed unless dry run)."""

    kind: str
    name: str
    removed: bool


class AwsAccount:
    """A real AWS account reached through your boto3 session."""

    mode = "aws"

    def __init__(self, region: str | None = None, *, session: Any = None, profile: str | None = None) -> None:
        if STATE.ever_started:
            raise ConfigurationError(
                "This Python process has run the offline sandbox; aws mode is refused here so that no client "
                "made inside the sandbox can be used against your account.",
                fix="restart the kernel (Kernel > Restart Kernel), then connect in aws mode first",
            )
        import boto3

        self.session = session or boto3.session.Session(profile_name=profile, region_name=region)
        self.region = check_region(region or self.session.region_name)
        credentials = self.session.get_credentials()
        if credentials is None:
            raise ConfigurationError(
                "aws mode found no AWS credentials.",
                fix="configure them as for the AWS CLI (aws configure, AWS_PROFILE or environment variables)",
            )
        access_key = credentials.get_frozen_credentials().access_key
        if access_key in _TEST_KEYS:
            raise ConfigurationError(
                f"aws mode would use the fake access key {access_key!r} of the sandbox or of a test set-up.",
                fix="unset AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or choose a real profile with AWS_PROFILE",
            )
        self._account_id: str | None = None

    @property
    def account_id(self) -> str:
        """Your account id (asked of STS once)."""
        if self._account_id is None:
            self._account_id = self.client("sts").get_caller_identity()["Account"]
        return self._account_id

    def client(self, service_name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("region_name", self.region)
        return self.session.client(service_name, **kwargs)

    # The tag every resource the kit creates carries, in each API's shape.
    @property
    def tags(self) -> dict[str, str]:
        return {TAG_KEY: TAG_VALUE}

    @property
    def tag_list(self) -> list[dict[str, str]]:
        return [{"Key": TAG_KEY, "Value": TAG_VALUE}]

    def require_confirmation(self, confirm: bool, what: str) -> None:
        """Refuse to create ``what`` unless the caller passed ``confirm=True``."""
        if confirm is not True:
            raise ConfigurationError(
                f"This would create {what} in AWS account {self.account_id} ({self.region}), which may cost money.",
                fix="pass confirm=True to go ahead; workmail_sandbox.connect().cleanup() removes it later",
            )

    def cleanup(self, *, confirm: bool = False) -> list[CleanupItem]:
        """Remove every resource tagged ``workmail-sandbox=kit`` (and nothing else).

        Without ``confirm=True`` it only lists what it would remove.
        """
        found: list[CleanupItem] = []
        cfn = self.client("cloudformation")
        for page in cfn.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                if stack.get("StackStatus") == "DELETE_COMPLETE":
                    continue
                if {TAG_KEY: TAG_VALUE}.items() <= {t["Key"]: t["Value"] for t in stack.get("Tags", [])}.items():
                    if confirm:
                        cfn.delete_stack(StackName=stack["StackName"])
                    found.append(CleanupItem("cloudformation stack", stack["StackName"], confirm))
        lam = self.client("lambda")
        for page in lam.get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                tags = lam.list_tags(Resource=function["FunctionArn"]).get("Tags", {})
                if tags.get(TAG_KEY) == TAG_VALUE:
                    if confirm:
                        lam.delete_function(FunctionName=function["FunctionName"])
                    found.append(CleanupItem("lambda function", function["FunctionName"], confirm))
        s3 = self.client("s3")
        for bucket in s3.list_buckets().get("Buckets", []):
            if self._bucket_is_tagged(s3, bucket["Name"]):
                if confirm:
                    _empty_and_delete_bucket(s3, bucket["Name"])
                found.append(CleanupItem("s3 bucket", bucket["Name"], confirm))
        iam = self.client("iam")
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"]).get("Tags", [])}
                if tags.get(TAG_KEY) != TAG_VALUE:
                    continue
                if confirm:
                    for attached in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]:
                        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=attached["PolicyArn"])
                    for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
                        iam.delete_role_policy(RoleName=role["RoleName"], PolicyName=name)
                    iam.delete_role(RoleName=role["RoleName"])
                found.append(CleanupItem("iam role", role["RoleName"], confirm))
        return found

    @staticmethod
    def _bucket_is_tagged(s3: Any, name: str) -> bool:
        try:
            tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
        except s3.exceptions.ClientError:  # NoSuchTagSet, or a bucket of another Region or owner
            return False
        return {"Key": TAG_KEY, "Value": TAG_VALUE} in tags

    def __repr__(self) -> str:
        return f"<AwsAccount region={self.region}>"


def connect(region: str | None = None, *, mode: str | None = None, session: Any = None) -> Any:
    """The environment the lessons run in: the sandbox (default) or your AWS account.

    Notebooks call this once at the top; every later cell works the same in both modes.
    """

    if get_mode(mode) == AWS:
        return AwsAccount(region, session=session)
    return start(region)


def _empty_and_delete_bucket(s3: Any, name: str) -> None:
    """S3 deletes only empty buckets: remove every object version and delete marker first."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in entries]
        if doomed:
            s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
    s3.delete_bucket(Bucket=name)
