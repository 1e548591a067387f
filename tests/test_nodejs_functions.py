"""Node.js functions run in worker processes, under the kit's Node.js runtime (bootstrap_node.mjs).

Each function is created from a zip built here with the real boto3 ``lambda.create_function``
(Runtime nodejs20.x), set to ``isolation="process"`` and invoked through ``Runtime.invoke`` or
``boto3 lambda.invoke``; what comes back is compared with what Lambda's Node.js runtime reports
(aws/aws-lambda-nodejs-runtime-interface-client). The example project
(examples/nodejs_subject_tagger) needs npm and its registry, once per run: those tests are slow.
"""

from __future__ import annotations

import base64
import email
import email.policy
import io
import json
import re
import shlex
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

import workmail_sandbox as wms
from workmail_sandbox import cli
from workmail_sandbox.flow import FlowSettings
from workmail_sandbox.organization import Organization

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js is not installed (the sandbox runs nodejs* functions with node)"
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "nodejs_subject_tagger"
PLAIN = ROOT / "data" / "emails" / "01-plain-inbound.eml"  # Subject: Delivery window for order 4471, to alice
INVOKE = "workmail-sandbox invoke examples/nodejs_subject_tagger --eml data/emails/01-plain-inbound.eml"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
#: Lambda's Node.js log line: ISO time, request id, level, message.
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t(?P<id>[^\t]+)\t(?P<level>[A-Z]+)\t(?P<message>.*)$")


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def deploy(sb: Any, name: str, files: dict[str, str], *, handler: str = "index.handler", timeout: int = 3) -> str:
    """A nodejs20.x function from ``files``, run in worker processes; returns its name."""
    iam = sb.client("iam")
    try:
        role = iam.get_role(RoleName="node-function-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="node-function-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    sb.client("lambda").create_function(
        FunctionName=name, Runtime="nodejs20.x", Role=role, Handler=handler, Code={"ZipFile": _zip(files)},
        Timeout=timeout,
    )  # fmt: skip
    sb.runtime.set_isolation(name, "process")
    return name


def log_lines(text: str) -> list[dict[str, str]]:
    """The function's own lines of a log (START, END and REPORT left out), parsed."""
    return [match.groupdict() for line in text.split("\n") if (match := LINE.match(line))]  # \r stays in a line


# What runs, and what it is given ---------------------------------------------------------------------


ECHO = """
export const handler = async (event, context) => ({
  event,
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  region: process.env.AWS_REGION,
  endpoint: process.env.AWS_ENDPOINT_URL,
  taskRoot: process.env.LAMBDA_TASK_ROOT === process.cwd(),
  pid: process.pid,
});
"""


def test_a_zip_deployed_node_function_returns_its_event_with_lambdas_context(workmail_sandbox):
    sb = workmail_sandbox
    deploy(sb, "node-echo", {"index.mjs": ECHO}, timeout=5)
    event = {"subject": "Hello", "flowDirection": "INBOUND", "nested": {"n": [1, 2.5, None, True]}}

    answer = sb.client("lambda").invoke(FunctionName="node-echo", Payload=json.dumps(event), LogType="Tail")
    body = json.loads(answer["Payload"].read())

    assert "FunctionError" not in answer
    assert body["event"] == event
    arn = f"arn:aws:lambda:{sb.region}:{sb.account_id}:function:node-echo"
    assert (body["functionName"], body["functionVersion"], body["invokedFunctionArn"]) == ("node-echo", "$LATEST", arn)
    assert (body["memoryLimitInMB"], body["logGroupName"]) == ("128", "/aws/lambda/node-echo")
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", body["logStreamName"])
    assert 0 < body["remaining"] <= 5000 and body["callbackWaitsForEmptyEventLoop"] is True
    assert body["region"] == sb.region and body["endpoint"].startswith("http://127.0.0.1:") and body["taskRoot"]
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert f"START RequestId: {body['awsRequestId']} Version: $LATEST" in tail and "Init Duration" in tail

    warm = sb.runtime.invoke("node-echo", {"again": True})
    assert not warm.cold_start and warm.payload["pid"] == body["pid"]  # the same worker process
    assert warm.payload["awsRequestId"] == warm.request_id != body["awsRequestId"]


def test_console_output_lands_in_the_log_in_lambdas_node_format(workmail_sandbox):
    sb = workmail_sandbox
    code = """
console.log('loading');
export const handler = async () => {
  console.log('hello %s', 'world', {a: 1});
  console.info('info');
  console.warn('careful');
  console.error('two\\nlines');
  console.debug('details');
  return 'done';
};
"""
    deploy(sb, "node-logs", {"index.mjs": code})

    result = sb.runtime.invoke("node-logs", {})

    assert result.payload == "done"
    assert log_lines(result.log_text) == [
        {"id": "undefined", "level": "INFO", "message": "loading"},  # the init phase has no request yet
        {"id": result.request_id, "level": "INFO", "message": "hello world { a: 1 }"},
        {"id": result.request_id, "level": "INFO", "message": "info"},
        {"id": result.request_id, "level": "WARN", "message": "careful"},
        {"id": result.request_id, "level": "ERROR", "message": "two\rlines"},  # one log event per call
        {"id": result.request_id, "level": "DEBUG", "message": "details"},
    ]
    events = sb.client("logs").filter_log_events(logGroupName="/aws/lambda/node-logs")["events"]
    assert any(e["message"].rstrip("\n").endswith(f"{result.request_id}\tWARN\tcareful") for e in events)


# Errors as Lambda's Node.js runtime reports them ----------------------------------------------------------


def test_an_async_throw_is_reported_as_lambdas_node_runtime_reports_it(workmail_sandbox):
    sb = workmail_sandbox
    code = "export const handler = async () => {\n  throw new TypeError('no subject');\n};\n"
    deploy(sb, "node-throws", {"index.mjs": code})

    answer = sb.client("lambda").invoke(FunctionName="node-throws", Payload=b"{}", LogType="Tail")
    payload = json.loads(answer["Payload"].read())

    assert answer["FunctionError"] == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("TypeError", "no subject")
    assert payload["trace"][0] == "TypeError: no subject"
    assert re.match(r"^    at handler \(file://.*/index\.mjs:2:9\)$", payload["trace"][1])
    [line] = log_lines(base64.b64decode(answer["LogResult"]).decode())
    assert line["level"] == "ERROR" and line["message"].startswith("Invoke Error \t{")
    logged = json.loads(line["message"].partition("\t")[2])
    assert (logged["errorType"], logged["errorMessage"], logged["stack"][0]) == (
        "TypeError", "no subject", "TypeError: no subject",
    )  # fmt: skip


def test_a_thrown_value_that_is_not_an_error_is_named_by_its_type(workmail_sandbox):
    deploy(workmail_sandbox, "node-throws-text", {"index.mjs": "export const handler = async () => { throw 'no'; };"})
    result = workmail_sandbox.runtime.invoke("node-throws-text", {})
    assert result.function_error == "Unhandled"
    assert {k: result.payload[k] for k in ("errorType", "errorMessage", "trace")} == {
        "errorType": "string", "errorMessage": "no", "trace": [],
    }  # fmt: skip


CALLBACK = """
exports.handler = function (event, context, callback) {
  setTimeout(() => console.log('the timer ran'), 500);
  if (event.fail) return callback(new Error('callback error'));
  context.callbackWaitsForEmptyEventLoop = event.wait;
  callback(null, {sum: event.a + event.b, waited: event.wait});
};
"""


def test_a_callback_handler_answers_when_the_event_loop_is_empty(workmail_sandbox):
    sb = workmail_sandbox
    deploy(sb, "node-callback", {"index.js": CALLBACK})

    waited = sb.runtime.invoke("node-callback", {"a": 2, "b": 3, "wait": True})
    assert waited.payload == {"sum": 5, "waited": True}
    assert "the timer ran" in waited.log_text  # the result waited for the timer

    at_once = sb.runtime.invoke("node-callback", {"a": 1, "b": 1, "wait": False})
    assert at_once.payload == {"sum": 2, "waited": False}
    assert "the timer ran" not in at_once.log_text  # callbackWaitsForEmptyEventLoop = false

    failed = sb.runtime.invoke("node-callback", {"fail": True})
    assert (failed.function_error, failed.payload["errorType"], failed.payload["errorMessage"]) == (
        "Unhandled", "Error", "callback error",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("files", "handler", "expected"),
    [
        (  # CommonJS: a .js file, no "type": "module"; require and module.exports
            {"src/app.js": "const path = require('node:path');\n"
                           "module.exports.handlers = {tag: async (e) => ({kind: typeof module, "
                           "folder: path.basename(__dirname), subject: '[x] ' + e.subject})};\n"},
            "src/app.handlers.tag",
            {"kind": "object", "folder": "src", "subject": "[x] Hi"},
        ),
        (  # a .js file in a "type": "module" package is an ES module
            {"package.json": '{"type": "module"}',
             "index.js": "export const handler = async (e) => ({esm: typeof import.meta.url, subject: e.subject});"},
            "index.handler",
            {"esm": "string", "subject": "Hi"},
        ),
        (  # .cjs is CommonJS whatever package.json says
            {"package.json": '{"type": "module"}', "lib.cjs": "exports.handler = async (e) => e.subject.length;"},
            "lib.handler",
            2,
        ),
    ],
    ids=["commonjs", "esm-js", "cjs"],
)  # fmt: skip
def test_modules_load_as_lambdas_node_runtime_loads_them(workmail_sandbox, files, handler, expected):
    deploy(workmail_sandbox, "node-module", files, handler=handler)
    result = workmail_sandbox.runtime.invoke("node-module", {"subject": "Hi"})
    assert (result.function_error, result.payload) == (None, expected)


@pytest.mark.parametrize(
    ("files", "error_type", "message"),
    [
        ({"index.mjs": "export const other = 1;\n"}, "Runtime.HandlerNotFound",
         "index.handler is undefined or not exported"),
        ({"index.mjs": "export const handler = 'text';\n"}, "Runtime.HandlerNotFound", "index.handler is not a function"),
        ({"index.mjs": "export const handler = async () => {\n  return 1;\n}}\n"}, "Runtime.UserCodeSyntaxError",
         "SyntaxError: Unexpected token '}'"),
        ({"other.mjs": ""}, "Runtime.ImportModuleError", "Error: Cannot find module 'index'"),
    ],
    ids=["not-exported", "not-a-function", "syntax-error", "no-module"],
)  # fmt: skip
def test_an_init_error_is_the_runtimes_error_and_the_next_call_starts_again(
    workmail_sandbox, files, error_type, message
):
    deploy(workmail_sandbox, "node-init", files)

    result = workmail_sandbox.runtime.invoke("node-init", {})

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == error_type
    assert result.payload["errorMessage"].startswith(message)
    assert result.payload["trace"][0].startswith(f"{error_type}: {message}")
    [line] = log_lines(result.log_text)
    assert (line["id"], line["level"]) == ("undefined", "ERROR")  # logged before any request
    assert line["message"].startswith(f'Uncaught Exception \t{{"errorType":"{error_type}"')
    again = workmail_sandbox.runtime.invoke("node-init", {})
    assert again.cold_start and again.payload["errorType"] == error_type


def test_process_exit_is_runtime_exit_error_and_the_next_call_is_cold(workmail_sandbox):
    code = "export const handler = async (event) => {\n  if (event.exit) process.exit(2);\n  return process.pid;\n};\n"
    deploy(workmail_sandbox, "node-exit", {"index.mjs": code})
    first = workmail_sandbox.runtime.invoke("node-exit", {})

    ended = workmail_sandbox.runtime.invoke("node-exit", {"exit": True})

    assert not ended.cold_start
    assert ended.payload["errorType"] == "Runtime.ExitError"
    assert ended.payload["errorMessage"] == (
        f"RequestId: {ended.request_id} Error: Runtime exited with error: exit status 2"
    )
    after = workmail_sandbox.runtime.invoke("node-exit", {})
    assert after.cold_start and after.function_error is None and after.payload != first.payload  # a new process


def test_a_function_over_its_timeout_is_stopped(workmail_sandbox):
    code = "export const handler = async () => {\n  await new Promise((r) => setTimeout(r, 10000));\n  return 1;\n};\n"
    deploy(workmail_sandbox, "node-slow", {"index.mjs": code}, timeout=1)

    result = workmail_sandbox.runtime.invoke("node-slow", {})

    assert result.timed_out and result.function_error == "Unhandled"
    assert result.payload["errorMessage"].endswith(f"{result.request_id} Task timed out after 1.00 seconds")
    assert result.duration_ms < 5000
    assert workmail_sandbox.runtime.invoke("node-slow", {}).cold_start  # the timed-out worker was ended


# The network guard ----------------------------------------------------------------------------------------


GUARDED = """
import net from 'node:net';
import dns from 'node:dns';

const refusal = (error) => `${error.name}: ${error.message}`;

export const handler = async () => {
  const seen = {};
  try {
    await fetch('http://example.com/');
    seen.fetch = 'reached';
  } catch (error) {
    seen.fetch = refusal(error);
  }
  try {
    net.connect(80, '93.184.216.34');
    seen.connect = 'reached';
  } catch (error) {
    seen.connect = refusal(error);
  }
  seen.lookup = await new Promise((done) => dns.lookup('example.com', (error) => done(error ? refusal(error) : 'resolved')));
  const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
  seen.loopback = await new Promise((done) => {
    const socket = net.connect(Number(port), host, () => { socket.destroy(); done('connected'); });
    socket.on('error', (error) => done(refusal(error)));
  });
  return seen;
};
"""


def test_the_network_guard_refuses_every_host_but_loopback(workmail_sandbox):
    deploy(workmail_sandbox, "node-guarded", {"index.mjs": GUARDED})

    seen = workmail_sandbox.runtime.invoke("node-guarded", {}).payload

    said = "in sandbox mode nothing may leave this machine"
    assert seen["fetch"].startswith("NetworkBlockedError: The sandbox refused a network connection to example.com:80: ")
    assert seen["connect"].startswith(
        "NetworkBlockedError: The sandbox refused a network connection to 93.184.216.34:80: "
    )
    assert seen["lookup"].startswith("NetworkBlockedError: The sandbox refused a network name lookup to example.com: ")
    assert all(said in seen[key] for key in ("fetch", "connect", "lookup"))
    assert seen["loopback"] == "connected"  # the Runtime API: loopback stays open


# The example project: the AWS SDK for JavaScript v3 and npm ----------------------------------------------------


@pytest.fixture(scope="module")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build cache for the module: npm installs the example's SDK clients once."""
    return tmp_path_factory.mktemp("sam-build-cache")


@pytest.fixture
def with_npm(monkeypatch: pytest.MonkeyPatch, build_cache: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (the example's dependencies come from npm)")
    monkeypatch.setenv("WORKMAIL_SANDBOX_CACHE", str(build_cache))


@pytest.mark.slow
def test_the_example_project_tags_the_subject_through_a_run_lambda_rule(with_npm, workmail_sandbox, workmail_org):
    """Needs npm's registry once per run (sam build's npm step: @aws-sdk/client-workmailmessageflow, client-s3)."""
    sb = workmail_sandbox
    project = wms.deploy_project(EXAMPLE, {"OrganizationId": workmail_org.organization_id})
    function = project.function()
    assert (function.runtime, function.handler) == ("nodejs20.x", "index.handler")
    sb.runtime.set_isolation(function.name, "process")
    rule = {
        "name": "tag-subject", "senders": ["*"], "recipients": ["*"], "action": "RUN_LAMBDA",
        "function_arn": function.arn, "synchronous": True, "fallback_action": "DEFAULT", "rule_timeout_minutes": 0,
    }  # fmt: skip
    org = Organization.attach(sb, workmail_org.organization_id, rules={"inbound": [rule]},
                              settings=FlowSettings(unknown_recipients="create-mailbox"))  # fmt: skip

    result = org.receive(PLAIN)

    assert result.outcomes == {"alice@example.com": "inbox"}
    item = org.mailbox("alice@example.com").folder("inbox")[-1]
    assert item.content is not None
    delivered = email.message_from_bytes(item.content, policy=email.policy.default)
    assert delivered["Subject"] == "[Checked] Delivery window for order 4471"
    assert item.content.replace(b"Subject: [Checked] ", b"Subject: ") == PLAIN.read_bytes()  # nothing else changed


@pytest.mark.slow
def test_the_example_readme_command(with_npm, capsys, monkeypatch):
    assert INVOKE in (EXAMPLE / "README.md").read_text(encoding="utf-8")
    monkeypatch.chdir(ROOT)
    status = cli.main([*shlex.split(INVOKE)[1:], "--json"])
    run = json.loads(capsys.readouterr().out)

    assert status == 0 and run["runtime"] == "nodejs20.x"
    assert run["response"] == {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}
    assert [(r["recipient"], r["outcome"], r["action"]) for r in run["recipients"]] == [
        ("alice@example.com", "inbox", "DEFAULT")
    ]
    assert (run["content"]["subject_before"], run["content"]["subject_after"]) == (
        "Delivery window for order 4471", "[Checked] Delivery window for order 4471",
    )  # fmt: skip
    assert [f"{c['service']}.{c['operation']}" for c in run["calls"] if not c["error_code"]] == [
        "workmailmessageflow.GetRawMessageContent", "s3.PutObject", "workmailmessageflow.PutRawMessageContent",
    ]  # fmt: skip
    assert any(line.endswith("subject tagged [Checked]") for line in run["logs"])
