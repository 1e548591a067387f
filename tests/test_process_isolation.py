"""Functions in worker processes (isolation="process"): every way a function can fail, and the parent survives."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from workmail_sandbox.errors import SandboxError

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})  # fmt: skip


@pytest.fixture
def deploy(workmail_sandbox):
    sb = workmail_sandbox

    def deploy(name: str, source: str, *, policy: dict | None = None, **config) -> str:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", source)
        role = sb.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=TRUST)["Role"]
        if policy:
            sb.client("iam").put_role_policy(RoleName=f"{name}-role", PolicyName="p", PolicyDocument=json.dumps(policy))
        sb.client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role["Arn"],
                                            Handler="app.handler", Code={"ZipFile": buffer.getvalue()},
                                            **config)  # fmt: skip
        sb.runtime.set_isolation(name, "process")
        return name

    yield deploy
    sb.runtime.clear()  # the workers end with the test


def pid_of(result) -> int:
    return int(result.payload["pid"])


ECHO = """\
import os


def handler(event, context):
    print("handling", event)
    return {"event": event, "pid": os.getpid(), "request": context.aws_request_id,
            "left": context.get_remaining_time_in_millis()}
"""


def test_a_function_runs_in_a_warm_worker_of_its_own(workmail_sandbox, deploy):
    deploy("echo", ECHO)
    first = workmail_sandbox.runtime.invoke("echo", {"n": 1})
    second = workmail_sandbox.runtime.invoke("echo", {"n": 2})
    assert first.ok and second.ok
    assert first.payload["event"] == {"n": 1} and first.payload["request"] == first.request_id
    assert 0 < first.payload["left"] <= 3000
    assert pid_of(first) == pid_of(second) != os.getpid()
    assert first.cold_start and not second.cold_start and first.init_duration_ms is not None
    assert "handling {'n': 2}" in second.log_text and second.log_text.startswith("START RequestId:")
    assert "REPORT RequestId" in second.log_text
    events = workmail_sandbox.client("logs").filter_log_events(logGroupName="/aws/lambda/echo")["events"]
    assert any("handling {'n': 1}" in e["message"] for e in events)
    answer = workmail_sandbox.client("lambda").invoke(FunctionName="echo", Payload=b'{"n": 3}')
    assert json.loads(answer["Payload"].read())["pid"] == pid_of(first)  # lambda.invoke reaches the worker too


ENVIRONMENT = """\
import os
import tempfile


def handler(event, context):
    return {"env": dict(os.environ), "tmp": tempfile.gettempdir(), "cwd": os.getcwd()}
"""


def test_the_worker_sees_its_own_environment_only(workmail_sandbox, deploy, monkeypatch):
    monkeypatch.setenv("PARENT_ONLY_SECRET", "do-not-leak")
    deploy("env", ENVIRONMENT, Environment={"Variables": {"GREETING": "hi"}}, MemorySize=256)
    result = workmail_sandbox.runtime.invoke("env", {}).payload
    env = result["env"]
    assert "PARENT_ONLY_SECRET" not in env
    assert env["GREETING"] == "hi" and env["AWS_LAMBDA_FUNCTION_NAME"] == "env"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256" and env["AWS_REGION"] == "us-east-1"
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:") and env["AWS_LAMBDA_RUNTIME_API"].startswith(
        "127.0.0.1:"
    )
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIAWORKER") and env["AWS_ACCESS_KEY_ID"] != os.environ.get(
        "AWS_ACCESS_KEY_ID"
    )
    assert result["tmp"] == env["TMPDIR"] and "workmail-sandbox-worker-tmp" in result["tmp"]
    assert result["cwd"] == env["LAMBDA_TASK_ROOT"]


CALLS_AWS = """\
import boto3


def handler(event, context):
    s3 = boto3.client("s3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    try:
        organizations = boto3.client("workmail").list_organizations()["OrganizationSummaries"]
        workmail = [o["Alias"] for o in organizations]
    except Exception as error:  # the role decides
        workmail = type(error).__name__ + ": " + str(error)[:80]
    return {"buckets": names, "workmail": workmail}
"""


def test_the_workers_sdk_reaches_the_sandbox_as_the_functions_role(workmail_sandbox, deploy):
    workmail_sandbox.client("s3").create_bucket(Bucket="seen-from-the-worker")
    workmail_sandbox.client("workmail").create_organization(Alias="worker-org")
    deploy("denied", CALLS_AWS)
    allowed_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "workmail:ListOrganizations", "Resource": "*"}]}  # fmt: skip
    deploy("allowed", CALLS_AWS, policy=allowed_policy)
    denied = workmail_sandbox.runtime.invoke("denied", {}).payload
    allowed = workmail_sandbox.runtime.invoke("allowed", {}).payload
    assert denied["buckets"] == allowed["buckets"] == ["seen-from-the-worker"]
    assert denied["workmail"].startswith("ClientError") and "AccessDenied" in denied["workmail"]
    assert allowed["workmail"] == ["worker-org"]


NETWORK = """\
import socket
import urllib.request


def handler(event, context):
    try:
        urllib.request.urlopen("http://example.com", timeout=3)
        return "reached the internet"
    except Exception as error:
        outcome = str(error)
    try:
        socket.create_connection(("93.184.216.34", 80), timeout=3)
        return "reached an address"
    except Exception as error:
        return [outcome, str(error)]
"""


def test_the_network_guard_is_on_in_the_worker(workmail_sandbox, deploy):
    deploy("net", NETWORK)
    payload = workmail_sandbox.runtime.invoke("net", {}).payload
    assert isinstance(payload, list) and all("sandbox refused" in message for message in payload)


@pytest.mark.parametrize(
    ("source", "config", "error_type", "message"),
    [
        ("import os\ndef handler(event, context):\n    os._exit(3)\n", {}, "Runtime.ExitError",
         "Runtime exited with error: exit status 3"),
        ("import os, signal\ndef handler(event, context):\n    os.kill(os.getpid(), signal.SIGSEGV)\n", {},
         "Runtime.ExitError", "Runtime exited with error: signal: segmentation fault"),
        ("def handler(event, context):\n    return len(bytearray(400 * 1024 * 1024))\n", {"MemorySize": 128},
         "Runtime.OutOfMemory", "Runtime exited with error: signal: killed"),
        ("import sys\nsys.setrecursionlimit(10**7)\ndef deep(n):\n    return deep(n + 1)\n"
         "def handler(event, context):\n    return deep(0)\n", {"MemorySize": 512}, "Runtime.", "Runtime exited"),
    ],
    ids=["os._exit", "segfault", "out of memory", "endless recursion"],
)  # fmt: skip
def test_a_crash_is_reported_as_lambda_reports_it_and_the_next_call_starts_cold(
    workmail_sandbox, deploy, source, config, error_type, message
):
    deploy("crash", source, **config)
    deploy("echo", ECHO)
    result = workmail_sandbox.runtime.invoke("crash", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"].startswith(error_type) and message in result.payload["errorMessage"]
    assert result.request_id in result.payload["errorMessage"]
    again = workmail_sandbox.runtime.invoke("crash", {})
    assert again.cold_start, "a crashed worker is not reused"
    assert workmail_sandbox.runtime.invoke("echo", {}).ok, "the parent and other functions carry on"


def test_a_timeout_really_ends_the_worker(workmail_sandbox, deploy):
    deploy("slow", "import os, time\ndef handler(event, context):\n    time.sleep(30)\n", Timeout=1)
    deploy("pid", "import os\ndef handler(event, context):\n    return {'pid': os.getpid()}\n")
    result = workmail_sandbox.runtime.invoke("slow", {})
    assert result.timed_out and result.payload["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "Status: timeout" in result.log_text
    assert 1000 <= result.duration_ms < 3000
    assert workmail_sandbox.runtime.invoke("slow", {}).cold_start


def test_init_and_handler_errors(workmail_sandbox, deploy):
    deploy("missing", "import not_a_module_anywhere\ndef handler(event, context):\n    return 1\n")
    deploy("raises", "def handler(event, context):\n    raise ValueError('no good')\n")
    missing = workmail_sandbox.runtime.invoke("missing", {})
    assert missing.payload["errorType"] == "Runtime.ImportModuleError"
    assert "not_a_module_anywhere" in missing.payload["errorMessage"]
    raises = workmail_sandbox.runtime.invoke("raises", {})
    assert (raises.payload["errorType"], raises.payload["errorMessage"]) == ("ValueError", "no good")
    assert workmail_sandbox.runtime.invoke("raises", {}).cold_start is False, "a handled error keeps the worker warm"


def test_a_handler_from_a_notebook_cell_runs_under_both_isolations(workmail_sandbox):
    import workmail_sandbox as wms

    def lambda_handler(event, context):
        import os

        return {"doubled": event["n"] * 2, "pid": os.getpid()}

    wms.deploy_handler(lambda_handler, name="cell-handler")
    in_process = workmail_sandbox.runtime.invoke("cell-handler", {"n": 4})
    workmail_sandbox.runtime.set_isolation("cell-handler", "process")
    try:
        in_worker = workmail_sandbox.runtime.invoke("cell-handler", {"n": 4})
    finally:
        workmail_sandbox.runtime.set_isolation("cell-handler", None)
        workmail_sandbox.runtime.clear()
    assert in_process.payload["doubled"] == in_worker.payload["doubled"] == 8
    assert in_process.payload["pid"] == os.getpid() != in_worker.payload["pid"]


def test_an_unknown_isolation_is_refused(workmail_sandbox):
    with pytest.raises(SandboxError, match="isolation 'container' is not one the runtime knows"):
        workmail_sandbox.runtime.set_isolation("x", "container")


def test_the_kits_bootstrap_runs_python_functions_without_awslambdaric(workmail_sandbox, deploy, monkeypatch):
    import sys

    from workmail_sandbox.lambda_runtime import _isolated

    monkeypatch.setattr(_isolated, "worker_command",
                        lambda run_time, handler: [sys.executable, "-m", "workmail_sandbox.lambda_runtime._bootstrap"])  # fmt: skip
    deploy("echo", ECHO)
    deploy("raises", "def handler(event, context):\n    raise KeyError('missing')\n")
    deploy("missing", "import not_a_module_anywhere\ndef handler(event, context):\n    return 1\n")
    echo = workmail_sandbox.runtime.invoke("echo", {"n": 1})
    assert echo.payload["event"] == {"n": 1} and echo.payload["request"] == echo.request_id
    assert "handling {'n': 1}" in echo.log_text
    raises = workmail_sandbox.runtime.invoke("raises", {})
    assert raises.payload["errorType"] == "KeyError" and raises.payload["stackTrace"]
    missing = workmail_sandbox.runtime.invoke("missing", {})
    assert missing.payload["errorType"] == "Runtime.ImportModuleError"


def test_a_function_that_closes_its_output_does_not_take_the_parent_down(workmail_sandbox, deploy):
    deploy("mute", "import os\ndef handler(event, context):\n    print('before')\n    os.close(1)\n    os.close(2)\n"
                   "    return 'answered'\n")  # fmt: skip
    first = workmail_sandbox.runtime.invoke("mute", {})
    assert first.ok and first.payload == "answered" and "before" in first.log_text
    second = workmail_sandbox.runtime.invoke("mute", {})  # printing now fails inside the worker: its own error
    assert second.request_id != first.request_id and second.log_text.startswith("START RequestId:")
    assert workmail_sandbox.runtime.invoke("mute", {}).request_id  # and the parent goes on answering


def test_a_node_function_without_node_on_the_machine_is_one_clear_error(monkeypatch):
    from workmail_sandbox.lambda_runtime import process

    monkeypatch.setattr(process.shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(SandboxError, match="runtime is nodejs20.x, and Node.js is not installed") as info:
        process.worker_command("nodejs20.x", "index.handler")
    assert "apt-get install nodejs" in str(info.value)
    with pytest.raises(SandboxError, match="runs Python and Node.js functions; this one's runtime is java21"):
        process.worker_command("java21", "example.Handler")
