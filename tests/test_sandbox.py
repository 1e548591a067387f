"""Starting, stopping and isolating the sandbox; aws mode's safety rules."""

from __future__ import annotations

import gc
import os
import socket
import threading
from pathlib import Path

import boto3
import pytest
import requests

from workmail_sandbox import _moto
from workmail_sandbox import sandbox as sbx
from workmail_sandbox.aws import TAG_KEY, TAG_VALUE, AwsAccount, connect
from workmail_sandbox.emulators import _core
from workmail_sandbox.errors import ConfigurationError, SandboxError
from workmail_sandbox.network import NetworkBlockedError


@pytest.fixture
def fresh():
    """No sandbox before or after the test."""
    sbx.stop()
    yield
    sbx.stop()


def _mock_nesting() -> int:
    from moto.core.models import MockAWS

    return MockAWS._nested_count


# ----------------------------------------------------------------- start / stop


def test_start_twice_returns_the_running_sandbox_without_nesting_moto(fresh):
    """docs/moto.md §7: re-running a start cell must not nest the mock."""
    first = sbx.start()
    second = sbx.start()
    assert first is second and first.started
    assert _mock_nesting() == 1


def test_stop_twice_is_harmless_and_restores_the_environment(fresh, monkeypatch):
    """docs/moto.md §7: no fake credentials leak after stop, and a second stop does nothing."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-key")
    monkeypatch.setenv("AWS_PROFILE", "work")
    monkeypatch.delenv("AWS_REGION", raising=False)
    before = dict(os.environ)
    sb = sbx.start()
    assert os.environ["AWS_ACCESS_KEY_ID"] != "user-key"
    assert "AWS_PROFILE" not in os.environ
    assert os.environ["AWS_DEFAULT_REGION"] == os.environ["AWS_REGION"] == "us-east-1"
    sbx.stop()
    sbx.stop()
    assert dict(os.environ) == before
    assert not sb.started and sbx.current() is None
    assert _mock_nesting() == 0


def test_start_after_stop_mocks_again(fresh):
    """docs/moto.md §7: one stop too many must not silently switch mocking off."""
    sbx.start()
    sbx.stop()
    sbx.stop()
    sb = sbx.start()
    s3 = sb.client("s3")
    s3.create_bucket(Bucket="still-mocked")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["still-mocked"]


def test_sandbox_uses_fake_credentials_and_the_default_region(fresh):
    sb = sbx.start()
    credentials = boto3.session.Session().get_credentials().get_frozen_credentials()
    assert credentials.access_key in _core.SANDBOX_ACCESS_KEYS
    assert sb.region == "us-east-1"
    assert sb.client("sts").get_caller_identity()["Account"] == "123456789012"


@pytest.mark.parametrize("region", ["us-west-2", "eu-west-1"])
def test_the_other_workmail_regions(fresh, region):
    """workmail-facts section 1: us-east-1, us-west-2 and eu-west-1 are WorkMail regions."""
    assert sbx.start(region).client("lambda").meta.region_name == region


def test_a_region_without_workmail_is_a_clear_error(fresh):
    with pytest.raises(ConfigurationError) as info:
        sbx.start("eu-central-1")
    assert "us-east-1, us-west-2, eu-west-1" in str(info.value)
    assert sbx.current() is None


def test_another_region_while_running_is_refused(fresh):
    sbx.start("us-east-1")
    with pytest.raises(SandboxError, match="already running"):
        sbx.start("eu-west-1")


def test_context_manager_stops_what_it_started(fresh):
    with sbx.sandbox() as sb:
        assert sb.started and sbx.current() is sb
    assert sbx.current() is None


def test_account_id_can_be_chosen(fresh):
    sb = sbx.start(account_id="111122223333")
    assert sb.client("sts").get_caller_identity()["Account"] == "111122223333"


def test_bad_mode_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "production")
    with pytest.raises(ConfigurationError, match="'sandbox'.*'aws'"):
        sbx.get_mode()


# -------------------------------------------------------------------- isolation


def test_learner_code_cannot_reach_the_internet(fresh):
    sb = sbx.start()
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        requests.get("http://example.org/", timeout=2)
    assert "sandbox refused" in str(info.value)
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(("192.0.2.10", 443), timeout=2)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(NetworkBlockedError):
        raw.connect(("192.0.2.10", 443))
    raw.close()
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("aws.amazon.com", 443)
    assert {a.kind for a in sb.network.attempts} >= {"name lookup", "connection"}


def test_loopback_stays_open(fresh):
    """Jupyter and local test servers use loopback; the guard must not break them."""
    sbx.start()
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()))
    thread.start()
    client = socket.create_connection(("localhost", port), timeout=2)
    thread.join(2)
    client.close()
    server.close()
    assert accepted


def test_an_unemulated_aws_call_never_leaves_the_machine(fresh):
    """docs/moto.md §4: unknown services get moto's canned 404, not the network; the kit turns it
    into an AWS-shaped ClientError that names the operation."""
    from botocore.exceptions import ClientError

    sb = sbx.start()
    with pytest.raises(ClientError) as info:
        sb.client("appflow").list_flows()
    assert info.value.response["Error"]["Code"] == "NotImplemented"
    assert "appflow.ListFlows cannot run offline" in str(info.value)
    assert sb.network.attempts == []


def test_a_client_made_inside_the_sandbox_cannot_reach_aws_after_stop(fresh):
    sb = sbx.start()
    s3 = sb.client("s3")
    s3.list_buckets()
    sbx.stop()
    with pytest.raises(SandboxError, match="created inside the sandbox"):
        s3.list_buckets()


def test_the_network_guard_is_removed_on_stop(fresh):
    original = socket.socket.connect
    sbx.start()
    assert socket.socket.connect is not original
    sbx.stop()
    assert socket.socket.connect is original


# --------------------------------------------------------------- sandbox controls


def test_reset_empties_moto_and_the_emulators(fresh):
    sb = sbx.start()
    sb.client("s3").create_bucket(Bucket="bucket-one")
    org = sb.client("workmail").create_organization(Alias="reset-me")["OrganizationId"]
    assert org.startswith("m-")
    sb.reset()
    assert sb.client("s3").list_buckets()["Buckets"] == []
    assert sb.client("workmail").list_organizations()["OrganizationSummaries"] == []


def test_snapshot_and_restore(fresh):
    sb = sbx.start()
    s3 = sb.client("s3")
    s3.create_bucket(Bucket="kept")
    s3.put_object(Bucket="kept", Key="k", Body=b"before")
    org = sb.client("workmail").create_organization(Alias="kept-org")["OrganizationId"]
    clock_then = sb.clock.now()
    snap = sb.snapshot()

    s3.put_object(Bucket="kept", Key="k", Body=b"after")
    s3.create_bucket(Bucket="later")
    sb.client("workmail").create_organization(Alias="later-org")
    sb.advance_clock(hours=30)

    sb.restore(snap)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept"]
    assert s3.get_object(Bucket="kept", Key="k")["Body"].read() == b"before"
    orgs = sb.client("workmail").list_organizations()["OrganizationSummaries"]
    assert [o["OrganizationId"] for o in orgs] == [org]
    assert sb.clock.now() == clock_then


def test_the_clock_moves_only_when_told(fresh):
    sb = sbx.start()
    t0 = sb.clock.now()
    assert sb.clock.now() == t0
    assert (sb.advance_clock(hours=25) - t0).total_seconds() == 25 * 3600


def test_controls_need_a_running_sandbox(fresh):
    sb = sbx.Sandbox()
    with pytest.raises(SandboxError, match="not running"):
        sb.reset()


# ------------------------------------------------------------------- aws mode


def test_aws_mode_is_refused_after_the_sandbox_ran(fresh):
    sbx.start()
    sbx.stop()
    with pytest.raises(ConfigurationError, match="restart the kernel"):
        connect(mode="aws")


def test_start_refuses_when_the_mode_is_aws(fresh, monkeypatch):
    monkeypatch.setenv("WORKMAIL_SANDBOX_MODE", "aws")
    with pytest.raises(ConfigurationError, match="connect"):
        sbx.start()


@pytest.fixture
def real_looking_account(monkeypatch):
    """moto stands in for a real account; the process 'never ran' the sandbox."""
    from moto import mock_aws

    monkeypatch.setattr(_core.STATE, "ever_started", False)
    with mock_aws():
        session = boto3.session.Session(
            aws_access_key_id="AKIAREALLOOKINGKEY01",
            aws_secret_access_key="not-a-sandbox-secret",
            region_name="us-east-1",
        )
        yield session


def test_aws_mode_refuses_the_sandbox_fake_credentials(monkeypatch):
    monkeypatch.setattr(_core.STATE, "ever_started", False)
    session = boto3.session.Session(
        aws_access_key_id="AKIAWORKMAILSANDBOX0", aws_secret_access_key="x", region_name="us-east-1"
    )
    with pytest.raises(ConfigurationError, match="fake access key"):
        AwsAccount(session=session)


def test_aws_mode_checks_the_region(real_looking_account):
    real_looking_account = boto3.session.Session(
        aws_access_key_id="AKIAREALLOOKINGKEY01", aws_secret_access_key="x", region_name="ap-south-1"
    )
    with pytest.raises(ConfigurationError, match="not offered"):
        AwsAccount(session=real_looking_account)


def test_aws_mode_needs_confirmation_to_create(real_looking_account):
    account = AwsAccount(session=real_looking_account)
    with pytest.raises(ConfigurationError, match="confirm=True"):
        account.require_confirmation(False, "the hello-world stack")
    account.require_confirmation(True, "the hello-world stack")


def test_aws_cleanup_removes_only_what_the_kit_tagged(real_looking_account):
    account = AwsAccount(session=real_looking_account)
    iam = account.client("iam")
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    iam.create_role(RoleName="kit-role", AssumeRolePolicyDocument=trust, Tags=account.tag_list)
    iam.create_role(RoleName="users-own-role", AssumeRolePolicyDocument=trust)

    listed = account.cleanup()
    assert [(i.kind, i.name, i.removed) for i in listed] == [("iam role", "kit-role", False)]
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} >= {"kit-role", "users-own-role"}

    removed = account.cleanup(confirm=True)
    assert [(i.name, i.removed) for i in removed] == [("kit-role", True)]
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert "kit-role" not in names and "users-own-role" in names
    assert account.tags == {TAG_KEY: TAG_VALUE}


def test_aws_cleanup_empties_and_deletes_only_tagged_buckets(real_looking_account):
    account = AwsAccount(session=real_looking_account)
    s3 = account.client("s3")
    for name in ("kit-updated-emails", "users-own-bucket"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket=name, Key="copy.eml", Body=b"Subject: hi\r\n\r\nhello\r\n")
        s3.put_object(Bucket=name, Key="copy.eml", Body=b"Subject: hi again\r\n\r\nhello\r\n")
    s3.put_bucket_tagging(Bucket="kit-updated-emails", Tagging={"TagSet": account.tag_list})

    assert [(i.kind, i.name) for i in account.cleanup()] == [("s3 bucket", "kit-updated-emails")]
    account.cleanup(confirm=True)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["users-own-bucket"]


HANDLER = "def lambda_handler(event, context):\n    return {'actions': []}\n"


def test_a_restored_function_is_the_same_by_name_and_by_arn(fresh):
    from workmail_sandbox.deploy.handler import deploy_handler

    sb = sbx.start()
    function = deploy_handler(HANDLER, name="restored-fn")
    for timeout in (42, 43):  # restore twice: each restore is a new copy
        sb.restore(sb.snapshot())
        gc.collect()
        lam = sb.client("lambda")
        lam.update_function_configuration(FunctionName="restored-fn", Timeout=timeout)
        backend = _moto.backends("lambda_simple")[sb.account_id][sb.region]
        by_arn = backend.get_function_by_arn(function["FunctionArn"])  # what tagging and the runtime use
        assert by_arn is backend.get_function("restored-fn") and by_arn.timeout == timeout
    lam.delete_function(FunctionName="restored-fn")
    assert lam.list_functions()["Functions"] == []


def test_put_raw_message_content_reads_a_bucket_that_came_back_with_restore(fresh):
    import json

    from workmail_sandbox import lessons
    from workmail_sandbox.permissions import workmail_bucket_policy

    state = lessons.setup(3)
    sb = state.sandbox
    s3 = sb.client("s3")
    s3.create_bucket(Bucket="updated-copies")
    policy = workmail_bucket_policy(
        "updated-copies", organization_id=state.organization_id, account_id=sb.account_id, region=sb.region
    )
    s3.put_bucket_policy(Bucket="updated-copies", Policy=json.dumps(policy))
    sb.restore(sb.snapshot())
    raw = (Path(__file__).resolve().parent.parent / "data" / "emails" / "01-plain-inbound.eml").read_bytes()
    message_id = sb.put_message_in_transit(raw, organization_id=state.organization_id)
    s3.put_object(Bucket="updated-copies", Key="new.eml", Body=raw.replace(b"Subject: ", b"Subject: [tag] ", 1))
    flow = sb.client("workmailmessageflow")
    flow.put_raw_message_content(messageId=message_id, content={"s3Reference": {"bucket": "updated-copies", "key": "new.eml"}})
    assert b"Subject: [tag] " in flow.get_raw_message_content(messageId=message_id)["messageContent"].read()


def test_reset_after_restore_empties_the_restored_services_too(fresh):
    from workmail_sandbox.deploy.handler import deploy_handler

    sb = sbx.start()
    deploy_handler(HANDLER, name="restored-fn")
    sb.restore(sb.snapshot())
    sb.reset()
    assert sb.client("lambda").list_functions()["Functions"] == []
