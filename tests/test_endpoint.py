"""The local endpoint: the AWS CLI's documented commands, any SDK, the same answers as in-process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import workmail_sandbox as wms
from workmail_sandbox.endpoint import serve
from workmail_sandbox.errors import SandboxError

ROOT = Path(__file__).resolve().parent.parent
AWS = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
SCENARIO = ROOT / "tests" / "fixtures" / "endpoint_scenario.py"
HELLO_WORLD = "arn:aws:serverlessrepo:us-east-1:489970191081:applications/workmail-hello-world-python"

pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed (pip install awscli: the dev extra)")


def clean_environment(extra: dict[str, str]) -> dict[str, str]:
    """The parent's environment without any AWS variable or proxy, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_")) and "PROXY" not in k.upper()}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_PAGER="")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def endpoint():
    ep = serve(0, smtp_port=None)
    try:
        yield ep
    finally:
        ep.stop()


def aws(endpoint, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The real ``aws`` program, with the endpoint's environment only."""
    done = subprocess.run(
        [AWS, *args], env=clean_environment(endpoint.environment()), capture_output=True, text=True, timeout=120
    )
    if check and done.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


def aws_json(endpoint, *args: str):
    return json.loads(aws(endpoint, *args).stdout or "null")


def test_the_environment_names_the_endpoint_fake_keys_and_region(endpoint):
    env = endpoint.environment()
    assert env["AWS_ENDPOINT_URL"] == endpoint.url and endpoint.url.startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAWORKMAILSANDBOX0" and env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert f"export AWS_ENDPOINT_URL={endpoint.url}" in endpoint.exports()


def test_the_docs_commands_run_verbatim_with_the_aws_cli(endpoint, tmp_path):
    """Deploy the hello-world app through SAR and CloudFormation, grant WorkMail, read its policy and logs."""
    change = aws_json(
        endpoint, "serverlessrepo", "create-cloud-formation-change-set", "--application-id", HELLO_WORLD,
        "--stack-name", "cli-hello", "--capabilities", "CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY",
    )  # fmt: skip
    aws(endpoint, "cloudformation", "wait", "change-set-create-complete", "--change-set-name", change["ChangeSetId"])
    aws(endpoint, "cloudformation", "execute-change-set", "--change-set-name", change["ChangeSetId"])
    aws(endpoint, "cloudformation", "wait", "stack-create-complete", "--stack-name", "serverlessrepo-cli-hello")
    stack = aws_json(endpoint, "cloudformation", "describe-stacks", "--stack-name", "serverlessrepo-cli-hello")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0]["Outputs"]}
    assert outputs, "the kit's CloudFormation fix-ups ran for a change set executed over the wire"
    resources = aws_json(endpoint, "cloudformation", "list-stack-resources", "--stack-name", "serverlessrepo-cli-hello")
    function = next(
        r["PhysicalResourceId"] for r in resources["StackResourceSummaries"] if r["ResourceType"] == "AWS::Lambda::Function"
    )
    # The command from the WorkMail docs, verbatim but for the names.
    aws(
        endpoint, "--region", "us-east-1", "lambda", "add-permission", "--function-name", function,
        "--statement-id", "AllowWorkMailCli", "--action", "lambda:InvokeFunction",
        "--principal", "workmail.us-east-1.amazonaws.com",
    )  # fmt: skip
    policy = json.loads(aws_json(endpoint, "lambda", "get-policy", "--function-name", function)["Policy"])
    assert any(s["Sid"] == "AllowWorkMailCli" for s in policy["Statement"])
    out = tmp_path / "out.json"
    aws(
        endpoint, "lambda", "invoke", "--function-name", function,
        "--payload", json.dumps({"summaryVersion": "2019-07-28", "flowDirection": "INBOUND"}), str(out),
    )  # fmt: skip
    assert out.exists()
    events = aws_json(endpoint, "logs", "filter-log-events", "--log-group-name", f"/aws/lambda/{function}")
    assert any("START RequestId" in e["message"] for e in events["events"]), "the function ran and logged"


def test_workmail_and_message_flow_commands(endpoint, tmp_path):
    sb = endpoint.sandbox
    org = aws_json(endpoint, "workmail", "create-organization", "--alias", "cli-org")["OrganizationId"]
    described = aws_json(endpoint, "workmail", "describe-organization", "--organization-id", org)
    assert described["Alias"] == "cli-org" and described["State"] == "Active"
    raw = (ROOT / "data" / "emails" / "01-plain-inbound.eml").read_bytes()
    message_id = sb.put_message_in_transit(raw, organization_id=org)
    out = tmp_path / "out.eml"
    aws(endpoint, "workmailmessageflow", "get-raw-message-content", "--message-id", message_id, str(out))
    assert out.read_bytes() == raw
    s3 = sb.client("s3")
    s3.create_bucket(Bucket="cli-updated-mail")
    policy = wms.workmail_bucket_policy("cli-updated-mail", organization_id=org, account_id=sb.account_id,
                                       region=sb.region)  # fmt: skip
    s3.put_bucket_policy(Bucket="cli-updated-mail", Policy=json.dumps(policy))
    s3.put_object(Bucket="cli-updated-mail", Key="new.eml", Body=raw.replace(b"Subject: ", b"Subject: [CLI] ", 1))
    done = aws(
        endpoint, "workmailmessageflow", "put-raw-message-content", "--message-id", message_id,
        "--content", "s3Reference={bucket=cli-updated-mail,key=new.eml}", check=False,
    )  # fmt: skip
    # Outside a synchronous invocation the update is accepted and has no effect, as on WorkMail.
    assert done.returncode == 0, done.stderr
    assert [h.effective for h in sb.message_history(message_id)] == [False]
    missing = aws(endpoint, "workmail", "describe-organization", "--organization-id", "m-" + "0" * 32, check=False)
    assert missing.returncode != 0 and "(OrganizationNotFoundException)" in missing.stderr


def test_an_operation_nothing_emulates_is_not_implemented_over_the_wire(endpoint):
    done = aws(endpoint, "translate", "translate-text", "--text", "hi", "--source-language-code", "en",
               "--target-language-code", "fr", check=False)  # fmt: skip
    assert done.returncode != 0 and "(NotImplemented)" in done.stderr and "translate.TranslateText" in done.stderr


def test_s3_objects_round_trip_with_content_type_over_the_wire(endpoint, tmp_path):
    source = tmp_path / "note.txt"
    source.write_text("hello " * 20_000)  # one PUT, sent aws-chunked with a trailing checksum
    aws(endpoint, "s3", "mb", "s3://wire-bucket")
    aws(endpoint, "s3", "cp", str(source), "s3://wire-bucket/note.txt")
    aws(endpoint, "s3", "cp", str(source), "s3://wire-bucket/a folder/n%te+1.txt")  # quoted on the wire
    keys = [o["Key"] for o in endpoint.sandbox.client("s3").list_objects_v2(Bucket="wire-bucket")["Contents"]]
    assert sorted(keys) == ["a folder/n%te+1.txt", "note.txt"]
    head = aws_json(endpoint, "s3api", "head-object", "--bucket", "wire-bucket", "--key", "note.txt")
    assert head["ContentLength"] == source.stat().st_size and head["ContentType"] == "text/plain"
    copy = tmp_path / "copy.txt"
    aws(endpoint, "s3", "cp", "s3://wire-bucket/note.txt", str(copy))
    assert copy.read_bytes() == source.read_bytes()
    assert endpoint.sandbox.client("s3").get_object(Bucket="wire-bucket", Key="note.txt")["Body"].read() == (
        source.read_bytes()
    )


def test_an_sdk_in_another_process_gets_the_same_answers_as_in_process(endpoint):
    """One implementation, two transports: the same boto3 scenario in-process and over the endpoint."""
    endpoint.sandbox.reset()  # the in-process run starts from an empty sandbox too
    runs = {}
    for mode, extra in (("in-process", {}), ("endpoint", endpoint.environment())):
        done = subprocess.run(
            [sys.executable, str(SCENARIO), mode], env=clean_environment({**extra, "PYTHONPATH": str(ROOT)}),
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["endpoint"] == runs["in-process"]
    assert runs["endpoint"]["invoke"] == {"echo": {"hello": "wire"}, "region": "us-east-1", "organizations": ["both-ways"]}


def test_web_pages_and_rebound_host_names_are_refused(endpoint):
    import urllib.error
    import urllib.request

    health = f"{endpoint.url}/workmail-sandbox-api/health"
    assert json.loads(urllib.request.urlopen(health, timeout=10).read())["status"] == "running"
    for headers, reason in (
        ({"Origin": "https://evil.example"}, "web pages"),
        ({"Host": "rebound.example:80"}, "loopback host names only"),
    ):
        request = urllib.request.Request(health, headers=headers)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == 403 and reason in info.value.read().decode()


def test_an_answer_without_a_body_is_sent_without_one(endpoint):
    sb = endpoint.sandbox
    s3 = sb.client("s3")
    s3.create_bucket(Bucket="no-body-bucket")
    done = aws(endpoint, "s3api", "delete-bucket", "--bucket", "no-body-bucket")  # 204 No Content
    assert done.stdout == "" and "no-body-bucket" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_the_endpoint_never_binds_a_public_address_by_default():
    with pytest.raises(SandboxError, match="will not listen on 0.0.0.0.*no authentication"):
        serve(0, host="0.0.0.0", smtp_port=None)
    with pytest.raises(SandboxError, match="will not listen on 192.0.2.1"):
        serve(0, host="192.0.2.1", smtp_port=None)
    with pytest.raises(SandboxError, match="will not listen on every address"):
        serve(0, host="", smtp_port=None)  # every address


def test_workmail_sandbox_serve_prints_the_environment_and_stops_on_ctrl_c(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "workmail_sandbox.cli", "serve", "--port", "0", "--no-smtp"],
        env=clean_environment({"PYTHONPATH": str(ROOT)}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = []
        assert process.stdout is not None
        while not any(line.startswith("export AWS_REGION=") for line in lines):
            line = process.stdout.readline()
            assert line, f"serve ended early: {process.stderr.read() if process.stderr else ''}"
            lines.append(line.strip())
        url = next(line.split("=", 1)[1] for line in lines if line.startswith("export AWS_ENDPOINT_URL="))
        assert url.startswith("http://127.0.0.1:")
        env = dict(line[len("export ") :].split("=", 1) for line in lines if line.startswith("export "))
        done = subprocess.run([AWS, "sts", "get-caller-identity"], env=clean_environment(env), capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert json.loads(done.stdout)["Account"] == "123456789012", done.stderr
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
