"""aws mode: the same lessons against your own AWS account.

The kit never creates anything in a real account unless the call says
``confirm=True``, tags everything it creates with ``workmail-sandbox=kit``, and
:meth:`AwsAccount.cleanup` removes exactly what carries that tag, nothing else.

Safety rules:

* a process that has run the sandbox refuses aws mode (restart the kernel), so a
  boto3 client made inside the sandbox cannot be used against AWS by mistake;
* the sandbox's fake credentials, moto's and the usual test keys are refused
  outright, whatever their case (access key, secret key or session token);
* the region must be one of WorkMail's three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._internal_clients import INTERNAL_ACCESS_KEY
from .emulators._core import SANDBOX_ACCESS_KEYS, STATE
from .errors import ConfigurationError
from .sandbox import AWS, FAKE_CREDENTIALS, get_mode, start
from .workmail_service import check_region

__all__ = ["TAG_KEY", "TAG_VALUE", "AwsAccount", "CleanupItem", "connect", "is_test_credential"]

TAG_KEY = "workmail-sandbox"
TAG_VALUE = "kit"
#: Access keys, secret keys and session tokens that are never a real account's, compared
#: case-insensitively: the sandbox's, moto's defaults, the AWS documentation's examples and
#: the values test set-ups use. aws mode refuses a session holding any of them.
_TEST_CREDENTIALS = frozenset(
    value.casefold()
    for value in (
        *SANDBOX_ACCESS_KEYS,
        *FAKE_CREDENTIALS.values(),
        INTERNAL_ACCESS_KEY,
        "workmail-sandbox",  # the kit's internal clients' secret
        "FOOBARKEY",  # moto's default access key
        "FOOBARSECRET",  # and secret
        "testing",
        "test",
        "AKIAIOSFODNN7EXAMPLE",  # the AWS documentation's example keys
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    )
)
#: Access keys starting with this (any case) are the sandbox's.
_SANDBOX_KEY_PREFIX = "akiaworkmailsandbox"


def is_test_credential(value: str | None) -> bool:
    """True for a credential of the sandbox, of moto or of a test set-up, in any case."""
    if not value:
        return False
    folded = value.strip().casefold()
    return folded in _TEST_CREDENTIALS or folded.startswith(_SANDBOX_KEY_PREFIX)


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
        frozen = credentials.get_frozen_credentials()
        for what, value in (
            ("access key", frozen.access_key),
            ("secret key", frozen.secret_key),
            ("session token", frozen.token),
        ):
            if is_test_credential(value):
                shown = repr(value) if what == "access key" else "(not shown)"
                raise ConfigurationError(
                    f"aws mode would use the fake {what} {shown} of the sandbox, of moto or of a test set-up.",
                    fix="unset AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or choose a real "
                    "profile with AWS_PROFILE",
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
