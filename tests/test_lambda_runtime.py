"""The local Lambda runtime: moto functions really run, in-process, as Lambda runs them.

Every function here is created with the real boto3 ``lambda.create_function``
from a zip built in the test, and invoked through ``Runtime.invoke`` (the flow
engine's path) or ``boto3.client("lambda").invoke`` (the learner's path).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import sys
import threading
import time
import types
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore_shapes import assert_error_code_modeled, assert_matches_output_shape

from workmail_sandbox.errors import SandboxError
from workmail_sandbox.lambda_runtime import InvocationResult, Runtime, installed_runtime

REGION = "us-east-1"
ACCOUNT = "123456789012"
ORG_ID = "m-" + "0123456789abcdef" * 2
ORG_ARN = f"arn:aws:workmail:{REGION}:{ACCOUNT}:organization/{ORG_ID}"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
REQUEST_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
EVENT = {
    "summaryVersion": "2019-07-28",
    "envelope": {"mailFrom": {"address": "alice@example.org"}, "recipients": [{"address": "bob@example.com"}]},
    "sender": None,
    "subject": "Hello",
    "messageId": "00000000-0000-0000-0000-000000000000",
    "invocationId": "0" * 32,
    "flowDirection": "INBOUND",
    "truncated": False,
}


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


@pytest.fixture
def aws(emulators_module):
    """Each test starts with no functions, log groups or buckets (IAM roles stay).

    Resetting a moto back end also resets IAM (which then reloads its managed
    policies), so the resources are deleted one by one instead.
    """
    yield emulators_module
    for region in (REGION, "eu-west-1"):
        client = boto3.client("lambda", region_name=region)
        for function in client.list_functions()["Functions"]:
            client.delete_function(FunctionName=function["FunctionName"])
    logs = boto3.client("logs", region_name=REGION)
    for group in logs.describe_log_groups()["logGroups"]:
        logs.delete_log_group(logGroupName=group["logGroupName"])
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in s3.list_buckets()["Buckets"]:
        for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            s3.delete_object(Bucket=bucket["Name"], Key=item["Key"])
        s3.delete_bucket(Bucket=bucket["Name"])


@pytest.fixture
def runtime(aws):
    rt = Runtime().install()
    try:
        yield rt
    finally:
        rt.uninstall()


@pytest.fixture
def lam(aws):
    return boto3.client("lambda", region_name=REGION)


@pytest.fixture
def role_arn(aws):
    iam = boto3.client("iam", region_name=REGION)
    try:
        return iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


@pytest.fixture
def deploy(lam, role_arn):
    def _deploy(name, files, *, handler="app.handler", runtime="python3.12", timeout=3, env=None, memory=128):
        if isinstance(files, str):
            files = {"app.py": files}
        return lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": make_zip(files)},
            Timeout=timeout,
            MemorySize=memory,
            Environment={"Variables": env or {}},
        )

    return _deploy


ECHO = """
import json
def handler(event, context):
    print("got", json.dumps(event, sort_keys=True))
    return {"echo": event, "request": context.aws_request_id}
"""


# --------------------------------------------------------------------------------------
# Runtime.invoke
# --------------------------------------------------------------------------------------


def test_invoke_runs_the_handler_and_reports_like_lambda(runtime, deploy):
    deploy("echo", ECHO)
    result = runtime.invoke("echo", EVENT)
    assert isinstance(result, InvocationResult)
    assert result.payload == {"echo": EVENT, "request": result.request_id}
    assert result.function_error is None and result.ok
    assert REQUEST_ID.match(result.request_id)
    assert result.cold_start is True and result.init_duration_ms is not None
    assert result.timed_out is False
    assert result.duration_ms >= 0
    assert json.loads(result.payload_bytes) == result.payload
    lines = result.log_text.splitlines()
    assert lines[0] == f"START RequestId: {result.request_id} Version: $LATEST"
    assert f'got {json.dumps(EVENT, sort_keys=True)}' in lines
    assert lines[-2] == f"END RequestId: {result.request_id}"
    assert re.fullmatch(
        rf"REPORT RequestId: {result.request_id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: 128 MB\tInit Duration: \d+\.\d\d ms",
        lines[-1],
    )
    assert base64.b64decode(result.log_tail_base64).decode() == result.log_text


def test_new_request_id_every_call_and_warm_start_keeps_module_state(runtime, deploy):
    deploy(
        "counter",
        "COUNT = 0\ndef handler(event, context):\n    global COUNT\n    COUNT += 1\n    return COUNT\n",
    )
    first, second, third = (runtime.invoke("counter", {}) for _ in range(3))
    assert [first.payload, second.payload, third.payload] == [1, 2, 3]
    assert [first.cold_start, second.cold_start, third.cold_start] == [True, False, False]
    assert len({first.request_id, second.request_id, third.request_id}) == 3
    assert "Init Duration" in first.log_text and "Init Duration" not in second.log_text
    assert second.init_duration_ms is None


def test_update_function_code_gives_a_cold_start_with_the_new_code(runtime, deploy, lam):
    deploy("versioned", "N = 0\ndef handler(e, c):\n    global N\n    N += 1\n    return ['v1', N]\n")
    assert runtime.invoke("versioned", {}).payload == ["v1", 1]
    assert runtime.invoke("versioned", {}).payload == ["v1", 2]
    lam.update_function_code(FunctionName="versioned", ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    result = runtime.invoke("versioned", {})
    assert (result.payload, result.cold_start) == ("v2", True)
    assert runtime.invoke("versioned", {}).cold_start is False
    lam.update_function_configuration(FunctionName="versioned", Environment={"Variables": {"X": "1"}})
    assert runtime.invoke("versioned", {}).cold_start is True  # a configuration change also starts new environments


def test_context_object_has_lambdas_fields(runtime, deploy):
    deploy(
        "ctx",
        """
def handler(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": context.client_context,
    }
""",
        timeout=7,
        memory=256,
    )
    result = runtime.invoke("ctx", {})
    ctx = result.payload
    assert ctx["function_name"] == "ctx"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ctx"
    assert ctx["memory_limit_in_mb"] == "256"
    assert ctx["aws_request_id"] == result.request_id
    assert ctx["log_group_name"] == "/aws/lambda/ctx"
    assert STREAM_NAME.match(ctx["log_stream_name"])
    assert 6000 < ctx["remaining"] <= 7000
    assert ctx["identity"] == [None, None]
    assert ctx["client_context"] is None


def test_current_invocation_tells_emulators_who_is_calling(runtime, deploy, role_arn):
    deploy(
        "who",
        "from workmail_sandbox.invocation import current_invocation\n"
        "def handler(e, c):\n    i = current_invocation()\n"
        "    return [i.function_name, i.function_arn, i.role_arn, i.request_id == c.aws_request_id, i.region,\n"
        "            i.account, i.workmail_mode, i.message_id, i.abandoned, i.deadline is not None]\n",
    )
    result = runtime.invoke("who", {}, workmail_mode="async", message_id="msg-1")
    assert result.payload == [
        "who", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:who", role_arn, True, REGION, ACCOUNT, "async", "msg-1", False, True
    ]
    assert result.invocation.request_id == result.request_id
    from workmail_sandbox.invocation import current_invocation

    assert current_invocation() is None  # only inside the handler


def test_client_context_reaches_the_handler(runtime, deploy, lam):
    deploy("mobile", "def handler(e, c):\n    cc = c.client_context\n    return [cc.custom, cc.env, cc.client.app_title]\n")
    sent = {"custom": {"k": "v"}, "env": {"locale": "en"}, "client": {"app_title": "Mail"}}
    assert runtime.invoke("mobile", {}, client_context=sent).payload == [{"k": "v"}, {"locale": "en"}, "Mail"]
    encoded = base64.b64encode(json.dumps(sent).encode()).decode()
    response = lam.invoke(FunctionName="mobile", ClientContext=encoded)
    assert json.loads(response["Payload"].read()) == [{"k": "v"}, {"locale": "en"}, "Mail"]


def test_versions_and_aliases_run_the_published_code(runtime, deploy, lam):
    deploy("pub", "def handler(e, c):\n    return [c.function_version, c.invoked_function_arn, 'old']\n")
    lam.publish_version(FunctionName="pub")
    lam.create_alias(FunctionName="pub", Name="live", FunctionVersion="1")
    lam.update_function_code(FunctionName="pub", ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'new'\n"}))
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pub"
    assert runtime.invoke("pub", {}).payload == "new"
    assert runtime.invoke("pub", {}, qualifier="1").payload == ["1", f"{arn}:1", "old"]
    assert runtime.invoke(f"{arn}:live", {}).payload == ["1", f"{arn}:live", "old"]
    response = lam.invoke(FunctionName="pub", Qualifier="live")
    assert json.loads(response["Payload"].read()) == ["1", f"{arn}:live", "old"]
    assert response["ExecutedVersion"] == "1"
    assert lam.invoke(FunctionName="pub")["ExecutedVersion"] == "$LATEST"


# --------------------------------------------------------------------------------------
# Isolation: modules, environment, working directory
# --------------------------------------------------------------------------------------


def test_two_functions_with_app_py_and_utils_py_do_not_collide(runtime, deploy):
    host_utils = types.ModuleType("utils")
    host_utils.WHO = "host"
    sys.modules["utils"] = host_utils
    try:
        for who in ("one", "two"):
            deploy(
                f"fn-{who}",
                {
                    "app.py": "import utils\ndef handler(e, c):\n    import utils as lazy\n"
                    "    return [utils.who(), lazy.who(), __name__]\n",
                    "utils.py": f"def who():\n    return {who!r}\n",
                },
            )
        for _ in range(2):  # cold, then warm
            assert runtime.invoke("fn-one", {}).payload == ["one", "one", "app"]
            assert runtime.invoke("fn-two", {}).payload == ["two", "two", "app"]
        assert sys.modules["utils"] is host_utils  # the host's own module is back
        assert "app" not in sys.modules
    finally:
        sys.modules.pop("utils", None)


def test_functions_with_the_same_module_names_run_concurrently(runtime, deploy):
    for who in ("one", "two"):
        deploy(
            f"par-{who}",
            {
                "app.py": "import time\nimport utils\ntime.sleep(0.02)\n"
                "def handler(e, c):\n    time.sleep(0.005)\n    return [utils.who()]\n",
                "utils.py": f"def who():\n    return {who!r}\n",
            },
        )
    results: dict[str, list] = {"one": [], "two": []}
    environ, cwd = dict(os.environ), os.getcwd()

    def call(who):
        for _ in range(8):
            results[who].append(runtime.invoke(f"par-{who}", {}).payload)

    threads = [threading.Thread(target=call, args=(who,)) for who in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"one": [["one"]] * 8, "two": [["two"]] * 8}
    assert "utils" not in sys.modules and "app" not in sys.modules
    assert dict(os.environ) == environ and os.getcwd() == cwd  # overlapping calls leave the host as it was


def test_packages_and_lazy_imports_stay_in_the_functions_namespace(runtime, deploy):
    deploy(
        "pkg",
        {
            "app.py": "def handler(e, c):\n    from helpers.text import shout\n    return shout('hi')\n",
            "helpers/__init__.py": "",
            "helpers/text.py": "def shout(s):\n    return s.upper() + '!'\n",
        },
    )
    assert runtime.invoke("pkg", {}).payload == "HI!"
    assert runtime.invoke("pkg", {}).payload == "HI!"
    assert not any(name == "helpers" or name.startswith("helpers.") for name in sys.modules)


def test_environment_is_set_during_import_and_call_and_restored(runtime, deploy, monkeypatch):
    monkeypatch.setenv("HOST_ONLY", "kept")
    monkeypatch.delenv("TZ", raising=False)
    deploy(
        "envfn",
        """
import os
AT_IMPORT = {k: os.environ.get(k) for k in (
    "GREETING", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "_HANDLER", "TZ")}
CWD_AT_IMPORT = os.getcwd()
def handler(event, context):
    os.environ["SET_BY_HANDLER"] = "leak?"
    os.environ.pop("HOST_ONLY", None)
    return {"import": AT_IMPORT, "call_greeting": os.environ.get("GREETING"), "cwd": os.getcwd(),
            "cwd_at_import": CWD_AT_IMPORT, "stream_matches": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] == context.log_stream_name}
""",
        env={"GREETING": "hello"},
    )
    before = dict(os.environ)
    cwd = os.getcwd()
    result = runtime.invoke("envfn", {})
    assert dict(os.environ) == before
    assert os.getcwd() == cwd
    seen = result.payload["import"]
    assert seen["GREETING"] == "hello"
    assert seen["AWS_REGION"] == seen["AWS_DEFAULT_REGION"] == REGION
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "envfn"
    assert seen["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert seen["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/envfn"
    assert STREAM_NAME.match(seen["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert seen["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert seen["_HANDLER"] == "app.handler"
    assert seen["TZ"] == ":UTC"
    assert os.path.isfile(os.path.join(seen["LAMBDA_TASK_ROOT"], "app.py"))
    assert result.payload["cwd"] == result.payload["cwd_at_import"] == seen["LAMBDA_TASK_ROOT"]
    assert result.payload["call_greeting"] == "hello"
    assert result.payload["stream_matches"] is True
    assert runtime.invoke("envfn", {}).ok  # warm call: still restored afterwards
    assert dict(os.environ) == before


def test_module_level_client_without_region_works(runtime, deploy, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="sample-bucket")
    deploy(
        "regionless",
        """
import boto3
s3 = boto3.client("s3")
lam = boto3.client("lambda")
def handler(event, context):
    return [s3.meta.region_name, lam.meta.region_name, [b["Name"] for b in s3.list_buckets()["Buckets"]]]
""",
    )
    assert runtime.invoke("regionless", {}, region=REGION).payload == [REGION, REGION, ["sample-bucket"]]
    assert "AWS_DEFAULT_REGION" not in os.environ


def test_root_logger_level_is_the_functions_own(runtime, deploy):
    root = logging.getLogger()
    host_level = root.level
    deploy(
        "levels",
        "import logging\nlogger = logging.getLogger()\nlogger.setLevel(logging.INFO)\n"
        "def handler(e, c):\n    logger.info('visible')\n    logging.getLogger('x').debug('hidden')\n    return logger.level\n",
    )
    first = runtime.invoke("levels", {})
    assert root.level == host_level
    second = runtime.invoke("levels", {})  # warm: the level the module set is still in force
    assert first.payload == second.payload == logging.INFO
    assert "\tvisible\n" in second.log_text and "hidden" not in second.log_text
    assert re.search(rf"^\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{second.request_id}\tvisible$", second.log_text, re.M)


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def test_unhandled_exception_is_reported_as_lambda_does(runtime, deploy):
    deploy("boom", "def handler(event, context):\n    raise ValueError('bad event: ' + event['why'])\n")
    result = runtime.invoke("boom", {"why": "no subject"})
    assert result.function_error == "Unhandled"
    payload = result.payload
    assert payload["errorMessage"] == "bad event: no subject"
    assert payload["errorType"] == "ValueError"
    assert payload["requestId"] == result.request_id
    assert len(payload["stackTrace"]) == 1
    assert payload["stackTrace"][0].startswith('  File "') and 'app.py", line 2, in handler' in payload["stackTrace"][0]
    assert "runtime.py" not in "".join(payload["stackTrace"])
    assert "[ERROR] ValueError: bad event: no subject\nTraceback (most recent call last):\n" in result.log_text
    assert runtime.invoke("boom", {"why": "again"}).cold_start is False  # an exception does not reset the environment


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        (
            {"app.py": "import not_a_real_package\ndef handler(e, c):\n    return 1\n"},
            "app.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'not_a_real_package'",
        ),
        ({"other.py": "x = 1\n"}, "app.handler", "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'app'"),
        ({"app.py": "def handler(e, c):\n    return 1\n"}, "app.lambda_handler", "Runtime.HandlerNotFound",
         "Handler 'lambda_handler' missing on module 'app'"),
        ({"app.py": "def handler(e, c):\n    return 1\n"}, "app", "Runtime.MalformedHandlerName",
         "Bad handler 'app': not enough values to unpack (expected 2, got 1)"),
        ({"app.py": "def handler(e, c)\n    return 1\n"}, "app.handler", "Runtime.UserCodeSyntaxError", None),
        ({"app.py": "import os\nTABLE = os.environ['MISSING_TABLE']\ndef handler(e, c):\n    return 1\n"}, "app.handler",
         "KeyError", "'MISSING_TABLE'"),
    ],
    ids=["missing-package", "missing-module", "handler-not-found", "malformed-handler", "syntax-error", "init-exception"],
)
def test_init_errors(runtime, deploy, files, handler, error_type, message):
    deploy("broken", files, handler=handler)
    result = runtime.invoke("broken", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == error_type
    if message is not None:
        assert result.payload["errorMessage"] == message
    assert result.payload["requestId"] == ""
    assert f"[ERROR] {error_type}: " in result.log_text
    assert "app" not in sys.modules
    assert runtime.invoke("broken", {}).cold_start is True  # the next call tries the import again


def test_import_error_then_fixed_code_runs(runtime, deploy, lam):
    deploy("fixme", "import nope_nope\ndef handler(e, c):\n    return 1\n")
    assert runtime.invoke("fixme", {}).payload["errorType"] == "Runtime.ImportModuleError"
    lam.update_function_code(FunctionName="fixme", ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'fixed'\n"}))
    assert runtime.invoke("fixme", {}).payload == "fixed"


def test_result_that_is_not_json_is_a_marshal_error(runtime, deploy):
    deploy("marshal", "import datetime\ndef handler(e, c):\n    return {'when': datetime.datetime(2026, 1, 1)}\n")
    result = runtime.invoke("marshal", {})
    assert result.function_error == "Unhandled"
    assert result.payload == {
        "errorMessage": "Unable to marshal response: Object of type datetime is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": result.request_id,
        "stackTrace": [],
    }


def test_decimal_and_unicode_results(runtime, deploy):
    deploy("dec", "from decimal import Decimal\ndef handler(e, c):\n    return {'n': Decimal('2'), 'x': Decimal('1.5'), 's': 'Grüße'}\n")
    result = runtime.invoke("dec", {})
    assert result.payload == {"n": 2, "x": 1.5, "s": "Grüße"}
    assert "Grüße".encode() in result.payload_bytes  # python3.12's marshaller keeps non-ASCII as is


def test_sys_exit_is_a_runtime_exit_error_and_resets_the_environment(runtime, deploy):
    deploy("quitter", "import sys\ndef handler(e, c):\n    sys.exit(3)\n")
    result = runtime.invoke("quitter", {})
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert result.payload["errorMessage"] == f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 3"
    assert runtime.invoke("quitter", {}).cold_start is True


def test_nodejs_function_is_a_clear_kit_error(runtime, deploy, lam):
    deploy("storm", {"app.js": "exports.lambdaHandler = async () => ({});\n"}, handler="app.lambdaHandler", runtime="nodejs22.x")
    with pytest.raises(SandboxError, match="in the sandbox.s own process only Python functions run") as caught:
        runtime.invoke("storm", {})
    assert "nodejs22.x" in str(caught.value) and caught.value.fix
    with pytest.raises(SandboxError, match="in the sandbox.s own process only Python functions run"):
        lam.invoke(FunctionName="storm", Payload=b"{}")


def test_missing_function_is_resource_not_found(runtime, lam):
    with pytest.raises(ClientError) as caught:
        runtime.invoke("does-not-exist", {})
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "function:does-not-exist" in caught.value.response["Error"]["Message"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
        lam.invoke(FunctionName="does-not-exist", Payload=b"{}")
    assert_error_code_modeled("lambda", "Invoke", caught.value.response["Error"]["Code"])


def test_event_must_be_json(runtime, deploy):
    deploy("echo", ECHO)
    with pytest.raises(SandboxError, match="takes JSON"):
        runtime.invoke("echo", {"when": object()})


def test_invocation_types_of_runtime_invoke(runtime, deploy):
    deploy("counter", "COUNT = 0\ndef handler(e, c):\n    global COUNT\n    COUNT += 1\n    return COUNT\n")
    dry = runtime.invoke("counter", {}, invocation_type="DryRun")
    assert dry.payload is None and dry.log_text == "" and dry.function_error is None
    assert runtime.invoke("counter", {}, invocation_type="Event").payload == 1
    assert runtime.invoke("counter", {}).payload == 2
    with pytest.raises(SandboxError, match="RequestResponse, Event or DryRun"):
        runtime.invoke("counter", {}, invocation_type="Async")


# --------------------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------------------

SLEEPER = """
import time
from workmail_sandbox.invocation import current_invocation
def handler(event, context):
    print("sleeping")
    time.sleep(event["sleep"])
    invocation = current_invocation()
    invocation.extra["abandoned_after_sleep"] = invocation.abandoned
    print("woke up")
    return "done"
"""


def test_callers_limit_abandons_the_invocation(runtime, deploy):
    deploy("sleeper", SLEEPER, timeout=10)
    started = time.perf_counter()
    result = runtime.invoke("sleeper", {"sleep": 0.8}, limit_seconds=0.2, workmail_mode="sync", message_id="m-1")
    assert time.perf_counter() - started < 0.7  # it did not wait for the handler
    assert result.timed_out and result.function_error == "Unhandled"
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {result.request_id} Task timed out after 0\.20 seconds",
        result.payload["errorMessage"],
    )
    invocation = result.invocation
    assert invocation.abandoned is True
    assert (invocation.workmail_mode, invocation.message_id) == ("sync", "m-1")
    assert "Task timed out after 0.20 seconds\n" in result.log_text and "sleeping" in result.log_text
    assert "woke up" not in result.log_text
    deadline = time.monotonic() + 3
    while "abandoned_after_sleep" not in invocation.extra and time.monotonic() < deadline:
        time.sleep(0.02)
    assert invocation.extra["abandoned_after_sleep"] is True  # what the handler did later is flagged
    assert runtime.invoke("sleeper", {"sleep": 0}).cold_start is True  # Lambda resets a timed-out environment


def test_function_timeout(runtime, deploy, lam):
    deploy("slow", SLEEPER, timeout=1)
    result = runtime.invoke("slow", {"sleep": 1.4})
    assert result.timed_out
    assert result.payload["errorMessage"].endswith(f"{result.request_id} Task timed out after 1.00 seconds")
    assert re.search(r"REPORT RequestId: \S+\tDuration: 1000\.00 ms\tBilled Duration: 1000 ms", result.log_text)
    # within the limit it completes
    assert runtime.invoke("slow", {"sleep": 0}, limit_seconds=15).payload == "done"


# --------------------------------------------------------------------------------------
# boto3 lambda.invoke
# --------------------------------------------------------------------------------------


def test_boto3_request_response(runtime, deploy, lam):
    deploy("echo", ECHO)
    response = lam.invoke(FunctionName="echo", Payload=json.dumps(EVENT).encode())
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response and "LogResult" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    body = json.loads(response["Payload"].read())
    assert body["echo"] == EVENT and REQUEST_ID.match(body["request"])
    assert_matches_output_shape("lambda", "Invoke", response)


def test_boto3_log_type_tail(runtime, deploy, lam):
    deploy("echo", ECHO)
    response = lam.invoke(FunctionName="echo", Payload=b'{"a": 1}', LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request = json.loads(response["Payload"].read())["request"]
    assert log.startswith(f"START RequestId: {request} Version: $LATEST\n")
    assert 'got {"a": 1}\n' in log
    assert f"END RequestId: {request}\n" in log and f"REPORT RequestId: {request}\t" in log
    assert_matches_output_shape("lambda", "Invoke", response)


def test_boto3_tail_is_the_last_4_kb(runtime, deploy, lam):
    deploy("chatty", "def handler(e, c):\n    for i in range(400):\n        print('line %03d ' % i + 'é' * 20)\n")
    log = base64.b64decode(lam.invoke(FunctionName="chatty", LogType="Tail")["LogResult"])
    assert len(log) <= 4096 and log.decode("utf-8").rstrip().split("\n")[-1].startswith("REPORT RequestId:")


def test_boto3_function_error(runtime, deploy, lam):
    deploy("boom", "def handler(event, context):\n    raise RuntimeError('nope')\n")
    response = lam.invoke(FunctionName="boom", Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "RuntimeError" and error["errorMessage"] == "nope"
    assert REQUEST_ID.match(error["requestId"]) and error["stackTrace"]
    assert_matches_output_shape("lambda", "Invoke", response)


def test_boto3_event_runs_and_returns_202_with_an_empty_body(runtime, deploy, lam):
    deploy("counter", "COUNT = 0\ndef handler(e, c):\n    global COUNT\n    COUNT += 1\n    print('event', COUNT)\n    return COUNT\n")
    response = lam.invoke(FunctionName="counter", InvocationType="Event", Payload=b"{}")
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert_matches_output_shape("lambda", "Invoke", response)
    assert runtime.invoke("counter", {}).payload == 2  # the Event call really ran


def test_boto3_event_error_is_logged_not_returned(runtime, deploy, lam):
    deploy("boom", "def handler(event, context):\n    raise RuntimeError('async failure')\n")
    response = lam.invoke(FunctionName="boom", InvocationType="Event", Payload=b"{}")
    assert response["StatusCode"] == 202 and "FunctionError" not in response
    events = _log_events("boom")
    assert any(e.startswith("[ERROR] RuntimeError: async failure") for e in events)


def test_boto3_dry_run_checks_only(runtime, deploy, lam):
    deploy("counter", "COUNT = 0\ndef handler(e, c):\n    global COUNT\n    COUNT += 1\n    return COUNT\n")
    response = lam.invoke(FunctionName="counter", InvocationType="DryRun")
    assert response["StatusCode"] == 204 and response["Payload"].read() == b""
    assert runtime.invoke("counter", {}).payload == 1  # the dry run did not run it
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="nope", InvocationType="DryRun")


def test_boto3_invalid_json_payload(runtime, deploy, lam):
    deploy("echo", ECHO)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="echo", Payload=b"{not json")
    code = caught.value.response["Error"]["Code"]
    assert code == "InvalidRequestContentException"
    assert_error_code_modeled("lambda", "Invoke", code)


def test_nested_invocation_through_boto3(runtime, deploy):
    deploy("inner", "def handler(e, c):\n    print('inner ran')\n    return {'inner': e['n'] * 2}\n")
    deploy(
        "outer",
        "import boto3, json\nlam = boto3.client('lambda')\n"
        "def handler(e, c):\n    print('outer ran')\n"
        "    r = lam.invoke(FunctionName='inner', Payload=json.dumps({'n': 21}))\n"
        "    import os\n"
        "    return [json.loads(r['Payload'].read()), os.environ['AWS_LAMBDA_FUNCTION_NAME'],\n"
        "            os.getcwd() == os.environ['LAMBDA_TASK_ROOT']]\n",
    )
    environ = dict(os.environ)
    result = runtime.invoke("outer", {})
    assert result.payload == [{"inner": 42}, "outer", True]  # the caller's environment is back after the nested call
    assert dict(os.environ) == environ
    assert "outer ran" in result.log_text and "inner ran" not in result.log_text
    assert any("inner ran" in e for e in _log_events("inner"))


def test_uninstall_restores_moto_and_the_streams(aws, deploy, lam):
    stdout, stderr = sys.stdout, sys.stderr
    handlers = list(logging.getLogger().handlers)
    rt = Runtime().install()
    assert installed_runtime() is rt
    deploy("echo", ECHO)
    assert json.loads(lam.invoke(FunctionName="echo", Payload=b'{"a": 1}')["Payload"].read())["echo"] == {"a": 1}
    rt.uninstall()
    rt.uninstall()  # harmless twice
    assert installed_runtime() is None
    assert sys.stdout is stdout and sys.stderr is stderr
    assert logging.getLogger().handlers == handlers
    assert lam.invoke(FunctionName="echo", Payload=b'{"a": 1}')["Payload"].read() == b'{"a": 1}'  # moto echoes again


# --------------------------------------------------------------------------------------
# Logs and output capture
# --------------------------------------------------------------------------------------


def _log_events(name: str) -> list[str]:
    logs = boto3.client("logs", region_name=REGION)
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    out = []
    for stream in streams:
        assert STREAM_NAME.match(stream["logStreamName"]) or stream["logStreamName"].split("]")[0].endswith("[1")
        out += [e["message"] for e in logs.get_log_events(logGroupName=f"/aws/lambda/{name}",
                                                            logStreamName=stream["logStreamName"])["events"]]
    return out


def test_logs_in_cloudwatch(runtime, deploy):
    deploy(
        "logger",
        "import logging\nprint('init line')\nlogger = logging.getLogger()\nlogger.setLevel(logging.INFO)\n"
        "def handler(e, c):\n    print('from print')\n    logger.warning('from logging %s', 1)\n    return None\n",
    )
    first = runtime.invoke("logger", {})
    second = runtime.invoke("logger", {})
    logs = boto3.client("logs", region_name=REGION)
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/logger")["logStreams"]
    assert len(streams) == 1  # one stream per execution environment
    events = [e["message"] for e in logs.get_log_events(
        logGroupName="/aws/lambda/logger", logStreamName=streams[0]["logStreamName"])["events"]]
    assert events[0] == "init line\n"  # module-level output comes before START
    assert events[1] == f"START RequestId: {first.request_id} Version: $LATEST\n"
    assert events[2] == "from print\n"
    assert re.fullmatch(rf"\[WARNING\]\t\S+Z\t{first.request_id}\tfrom logging 1\n", events[3])
    assert events[4] == f"END RequestId: {first.request_id}\n"
    assert events[5].startswith(f"REPORT RequestId: {first.request_id}\t")
    assert events[6] == f"START RequestId: {second.request_id} Version: $LATEST\n"
    assert len(events) == 11


def test_a_runtime_told_not_to_write_logs_keeps_them_in_the_result_only(runtime, deploy):
    """A replay whose sandbox nobody reads turns CloudWatch writes off; each result still has its lines."""
    deploy("unlogged", "def handler(e, c):\n    print('from print')\n    return 1\n")
    runtime.logs.enabled = False
    result = runtime.invoke("unlogged", {})
    assert result.ok and "from print" in result.log_text
    assert result.log_text.splitlines()[0] == f"START RequestId: {result.request_id} Version: $LATEST"
    assert runtime.logs.unwritten == len(result.log_text.splitlines()) == 4  # START, print, END, REPORT
    logs = boto3.client("logs", region_name=REGION)
    assert not logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/unlogged")["logGroups"]
    runtime.logs.enabled = True
    runtime.invoke("unlogged", {})
    assert len(_log_events("unlogged")) == 4


def test_host_output_is_not_captured_and_cell_output_stays_clean(runtime, deploy, capsys):
    deploy("quiet", "import sys\ndef handler(e, c):\n    print('to the log')\n    print('err', file=sys.stderr)\n    return 1\n")
    print("host before")
    result = runtime.invoke("quiet", {})
    print("host after")
    out, err = capsys.readouterr()
    assert "host before" in out and "host after" in out
    assert "to the log" not in out and "err" not in err
    assert "to the log\n" in result.log_text and "err\n" in result.log_text


def test_host_logging_still_reaches_stderr_when_nothing_else_handles_it(runtime, capsys):
    from workmail_sandbox.lambda_runtime._capture import LambdaLogHandler as _LambdaLogHandler

    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [h for h in saved if isinstance(h, _LambdaLogHandler)]  # as in a fresh notebook
    assert root.handlers
    try:
        logging.getLogger("host.module").warning("host says hi")
        logging.getLogger("host.module").info("not shown")
    finally:
        root.handlers = saved
    err = capsys.readouterr().err
    assert "host says hi" in err and "not shown" not in err


def test_concurrent_invocations_capture_their_own_output(runtime, deploy):
    deploy(
        "talker",
        "import time\nprint('init')\ntime.sleep(0.05)\n"
        "def handler(e, c):\n    for i in range(5):\n        print(e['who'], i)\n        time.sleep(0.01)\n    return e['who']\n",
    )
    results = {}

    def call(who):
        results[who] = runtime.invoke("talker", {"who": who})

    threads = [threading.Thread(target=call, args=(who,)) for who in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for who, other in (("alpha", "beta"), ("beta", "alpha")):
        assert results[who].payload == who
        assert results[who].log_text.count(f"{who} ") == 5 and other not in results[who].log_text
    # two first calls at once: the code is imported once, by one of them
    assert sorted(r.cold_start for r in results.values()) == [False, True]
    assert sum(r.log_text.count("init\n") for r in results.values()) == 1


# --------------------------------------------------------------------------------------
# WorkMail's invocation checks
# --------------------------------------------------------------------------------------

def test_workmail_permission_allowed(runtime, deploy, lam):
    deploy("wm", ECHO)
    lam.add_permission(
        FunctionName="wm", StatementId="AllowWorkMail", Action="lambda:InvokeFunction",
        Principal=f"workmail.{REGION}.amazonaws.com", SourceArn=ORG_ARN, SourceAccount=ACCOUNT,
    )
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:wm"
    allowed, reason = runtime.check_workmail_permission(arn, organization_arn=ORG_ARN, region=REGION, account=ACCOUNT)
    assert allowed, reason
    assert "AllowWorkMail" in reason


def test_workmail_permission_with_the_templates_wildcard(runtime, deploy, lam):
    deploy("wm", ECHO)
    lam.add_permission(
        FunctionName="wm", StatementId="AllowWorkMail", Action="lambda:InvokeFunction",
        Principal=f"workmail.{REGION}.amazonaws.com", SourceArn=f"arn:aws:workmail:{REGION}:{ACCOUNT}:organization/*",
    )
    allowed, _ = runtime.check_workmail_permission("wm", organization_arn=ORG_ARN, region=REGION, account=ACCOUNT)
    assert allowed


def test_workmail_permission_denied_reasons(runtime, deploy, lam):
    deploy("wm", ECHO)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:wm"

    allowed, reason = runtime.check_workmail_permission(arn, organization_arn=ORG_ARN, region=REGION, account=ACCOUNT)
    assert not allowed and "no resource-based policy" in reason and "add-permission" in reason and "lesson 02" in reason

    lam.add_permission(FunctionName="wm", StatementId="S3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    allowed, reason = runtime.check_workmail_permission(arn, organization_arn=ORG_ARN, region=REGION, account=ACCOUNT)
    assert not allowed
    assert reason.startswith(f"the function's policy has no statement for workmail.{REGION}.amazonaws.com: run add-permission")

    other_org = f"arn:aws:workmail:{REGION}:{ACCOUNT}:organization/m-{'f' * 32}"
    lam.add_permission(FunctionName="wm", StatementId="OtherOrg", Action="lambda:InvokeFunction",
                       Principal=f"workmail.{REGION}.amazonaws.com", SourceArn=other_org)
    allowed, reason = runtime.check_workmail_permission(arn, organization_arn=ORG_ARN, region=REGION, account=ACCOUNT)
    assert not allowed and "does not let" in reason and "OtherOrg" in reason

    allowed, reason = runtime.check_workmail_permission(
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:wm", organization_arn=ORG_ARN, region=REGION, account=ACCOUNT
    )
    assert not allowed
    assert reason.startswith("the function is in eu-west-1 but the organization is in us-east-1")
    assert "same Region and account" in reason

    allowed, reason = runtime.check_workmail_permission(
        f"arn:aws:lambda:{REGION}:111122223333:function:wm", organization_arn=ORG_ARN, region=REGION, account=ACCOUNT
    )
    assert not allowed and "account 111122223333" in reason

    allowed, reason = runtime.check_workmail_permission(
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ghost", organization_arn=ORG_ARN, region=REGION, account=ACCOUNT
    )
    assert not allowed and "no function 'ghost'" in reason


# --------------------------------------------------------------------------------------
# An AWS-sample-style function runs unmodified
# --------------------------------------------------------------------------------------

SAMPLE_APP = '''
import json
import logging
import os
import uuid

import boto3

import utils

logger = logging.getLogger()
logger.setLevel(logging.INFO)

s3 = boto3.client("s3")
workmail_message_flow = boto3.client("workmailmessageflow")


def lambda_handler(event, context):
    """Sample-style WorkMail handler: module-level clients with no region, a utils.py helper."""
    logger.info("Received event: %s", json.dumps(event))
    summary = utils.summarize(event)
    bucket = os.environ["UPDATED_EMAIL_S3_BUCKET"]
    key = str(uuid.uuid4())
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(summary).encode())
    logger.info("Stored summary of %s in s3://%s/%s", event["messageId"], bucket, key)
    return {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}
'''

SAMPLE_UTILS = '''
def summarize(event):
    return {
        "from": event["envelope"]["mailFrom"]["address"],
        "to": [r["address"] for r in event["envelope"]["recipients"]],
        "subject": event["subject"],
        "direction": event["flowDirection"],
    }
'''


def test_aws_sample_style_handler_runs_unmodified(runtime, deploy, lam, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="updated-email-bucket")
    deploy(
        "hello-world",
        {"app.py": SAMPLE_APP, "utils.py": SAMPLE_UTILS},
        handler="app.lambda_handler",
        timeout=10,
        env={"UPDATED_EMAIL_S3_BUCKET": "updated-email-bucket"},
    )
    result = runtime.invoke("hello-world", EVENT, region=REGION, limit_seconds=15, workmail_mode="sync",
                            message_id=EVENT["messageId"])
    assert result.payload == {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}, result.payload
    objects = s3.list_objects_v2(Bucket="updated-email-bucket")["Contents"]
    stored = json.loads(s3.get_object(Bucket="updated-email-bucket", Key=objects[0]["Key"])["Body"].read())
    assert stored == {"from": "alice@example.org", "to": ["bob@example.com"], "subject": "Hello", "direction": "INBOUND"}
    assert "Received event: " in result.log_text and "Stored summary of" in result.log_text
    response = lam.invoke(FunctionName="hello-world", Payload=json.dumps(EVENT))
    assert json.loads(response["Payload"].read())["actions"][0]["action"]["type"] == "DEFAULT"


# --------------------------------------------------------------------------------------
# Function code cannot break the sandbox
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raise_it", "error_type"),
    [
        ("raise KeyboardInterrupt('stop it')", "KeyboardInterrupt"),
        ("raise GeneratorExit('gone')", "GeneratorExit"),
        ("class Odd(BaseException):\n        pass\n    raise Odd('odd')", "Odd"),
    ],
)
def test_base_exceptions_are_the_handlers_errors_not_success(runtime, deploy, raise_it, error_type):
    deploy("base", f"def handler(e, c):\n    {raise_it}\n")
    result = runtime.invoke("base", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == error_type
    assert result.payload["requestId"] == result.request_id
    assert result.payload["stackTrace"] and "app.py" in result.payload["stackTrace"][0]
    assert f"[ERROR] {error_type}" in result.log_text
    assert runtime.invoke("base", {}).cold_start is True  # the runtime process would not have survived it


def test_keyboard_interrupt_at_module_level_is_an_init_error(runtime, deploy):
    deploy("base-init", "raise KeyboardInterrupt('import')\ndef handler(e, c):\n    return 1\n")
    result = runtime.invoke("base-init", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "KeyboardInterrupt"
    assert result.payload["requestId"] == ""


def test_exception_whose_str_fails_is_still_reported(runtime, deploy):
    deploy("badstr", "class E(Exception):\n    def __str__(self):\n        raise KeyboardInterrupt\n"
                     "def handler(e, c):\n    raise E()\n")
    result = runtime.invoke("badstr", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "E"
    assert result.payload["errorMessage"] == "<unprintable E object>"


def test_a_result_nested_100000_deep_is_a_marshal_error(runtime, deploy):
    deploy("deep", "def handler(e, c):\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n")
    result = runtime.invoke("deep", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Runtime.MarshalError"
    assert result.payload["errorMessage"].startswith("Unable to marshal response: maximum recursion depth exceeded")
    assert result.payload["stackTrace"] == []


def test_deeply_nested_bytes_come_back_as_they_are(runtime, deploy):
    deploy("deepbytes", "def handler(e, c):\n    return b'[' * 100000 + b']' * 100000\n")
    result = runtime.invoke("deepbytes", {})
    assert result.function_error is None
    assert result.payload == result.payload_bytes == b"[" * 100000 + b"]" * 100000


def test_ctrl_c_while_waiting_interrupts_the_caller_not_the_handler(runtime, deploy):
    import signal

    deploy("sleepy", "import time\ndef handler(e, c):\n    time.sleep(1.5)\n    return 'late'\n", timeout=10)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.get_ident()
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    started = time.perf_counter()
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            runtime.invoke("sleepy", {})
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.perf_counter() - started < 1.2  # the caller stopped waiting at once
    deploy("quick", "def handler(e, c):\n    return 'ok'\n")
    assert runtime.invoke("quick", {}).payload == "ok"  # the environment lock was released


def test_concurrent_invocations_never_see_each_others_environment(runtime, deploy):
    code = (
        "import os, time\n"
        "def handler(e, c):\n"
        "    seen = [os.environ.get('WHO'), os.environ.get('ONLY_ONE'), os.environ.get('ONLY_TWO')]\n"
        "    time.sleep(0.001)\n"
        "    seen.append(os.environ.get('WHO'))\n"
        "    return seen\n"
    )
    deploy("env-one", code, env={"WHO": "one", "ONLY_ONE": "1"})
    deploy("env-two", code, env={"WHO": "two", "ONLY_TWO": "2"})
    expected = {"one": ["one", "1", None, "one"], "two": ["two", None, "2", "two"]}
    runtime.invoke("env-one", {}), runtime.invoke("env-two", {})  # warm both
    wrong: list = []
    barrier = threading.Barrier(50)

    def call(who):
        barrier.wait()
        payload = runtime.invoke(f"env-{who}", {}).payload
        if payload != expected[who]:
            wrong.append((who, payload))

    threads = [threading.Thread(target=call, args=("one" if i % 2 else "two",)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert "WHO" not in os.environ


def test_a_function_that_monkeypatches_boto3_is_undone_and_reported(runtime, deploy):
    import boto3.session
    import botocore.client

    originals = (boto3.client, boto3.session.Session.client, botocore.client.BaseClient._make_api_call)
    deploy(
        "patcher",
        "import boto3, boto3.session, botocore.client\n"
        "def handler(e, c):\n"
        "    boto3.client = lambda *a, **k: 'evil'\n"
        "    boto3.session.Session.client = lambda *a, **k: 'evil'\n"
        "    botocore.client.BaseClient._make_api_call = lambda *a, **k: {}\n"
        "    return 'done'\n",
    )
    with pytest.warns(RuntimeWarning, match="Function patcher changed the sandbox's"):
        result = runtime.invoke("patcher", {})
    assert result.payload == "done"
    assert set(result.tampered) == {
        "boto3.client (monkeypatched)",
        "boto3.session.Session.client (monkeypatched)",
        "botocore.client.BaseClient._make_api_call (monkeypatched)",
    }
    assert "[WARNING] workmail-sandbox: Function patcher changed the sandbox's" in result.log_text
    assert (boto3.client, boto3.session.Session.client, botocore.client.BaseClient._make_api_call) == originals
    assert "Buckets" in boto3.client("s3", region_name=REGION).list_buckets()


def test_a_function_that_removes_the_kits_hooks_gets_them_put_back(runtime, deploy):
    from workmail_sandbox import _moto
    from workmail_sandbox.emulators import _core

    handlers = _moto.registered_builtin_handlers()
    assert handlers and _moto.lambda_invoke_patched() and _core.STATE.active
    deploy(
        "unhooker",
        "from workmail_sandbox import _moto\n"
        "from workmail_sandbox.emulators import _core\n"
        "def handler(e, c):\n"
        "    _moto.unregister_builtin_handlers()\n"
        "    _moto.unpatch_lambda_invoke()\n"
        "    _core.STATE.active = False\n"
        "    return 'done'\n",
    )
    with pytest.warns(RuntimeWarning):
        result = runtime.invoke("unhooker", {})
    assert result.payload == "done"
    assert "botocore handlers (the kit's built-in handlers)" in result.tampered
    assert "lambda.invoke patch" in result.tampered
    assert "sandbox started (emulators switched off)" in result.tampered
    assert _moto.registered_builtin_handlers() == handlers
    assert _moto.lambda_invoke_patched() and _core.STATE.active
    deploy("after-unhook", "def handler(e, c):\n    return 'still runs'\n")
    lam = boto3.client("lambda", region_name=REGION)
    assert json.loads(lam.invoke(FunctionName="after-unhook")["Payload"].read()) == "still runs"


def test_a_function_that_replaces_the_invoke_methods_gets_them_put_back(runtime, deploy):
    from workmail_sandbox import _moto

    methods = _moto.lambda_invoke_methods()
    deploy(
        "invoke-swapper",
        "from moto.awslambda_simple.models import LambdaSimpleBackend\n"
        "def handler(e, c):\n"
        "    LambdaSimpleBackend.invoke = lambda *a, **k: b'\"evil\"'\n"
        "    return 'done'\n",
    )
    with pytest.warns(RuntimeWarning):
        result = runtime.invoke("invoke-swapper", {})
    assert result.tampered == ["lambda.invoke patch"]
    assert _moto.lambda_invoke_methods() == methods


def test_an_innocent_function_reports_nothing(runtime, deploy):
    deploy("innocent", ECHO)
    result = runtime.invoke("innocent", {"a": 1})
    assert result.tampered == []
    assert "workmail-sandbox" not in result.log_text


def test_function_code_cannot_uninstall_the_runtime(runtime, deploy):
    deploy(
        "uninstaller",
        "from workmail_sandbox.lambda_runtime import installed_runtime\n"
        "def handler(e, c):\n"
        "    installed_runtime().uninstall()\n",
    )
    result = runtime.invoke("uninstaller", {})
    assert result.payload["errorType"] == "SandboxError"
    assert "tried to uninstall the Lambda runtime it runs in" in result.payload["errorMessage"]
    assert runtime.installed and installed_runtime() is runtime


def test_threads_a_function_starts_are_tracked(runtime, deploy):
    deploy(
        "spawner",
        "import threading, time\n"
        "def handler(e, c):\n"
        "    threading.Thread(target=time.sleep, args=(0.3,), name='spawned-by-fn').start()\n"
        "    return 'ok'\n",
    )
    result = runtime.invoke("spawner", {})
    from workmail_sandbox.invocation import function_threads

    running = [(t.name, inv.function_name) for t, inv in function_threads()]
    assert ("spawned-by-fn", "spawner") in running
    assert result.invocation is not None and result.invocation.ended
    assert runtime.wait_for_function_threads(2.0) == []
    host = threading.Thread(target=time.sleep, args=(0.01,))
    host.start()
    assert all(t is not host for t, _ in function_threads())  # the host's own threads are not the function's
    host.join()
