"""deploy_handler: a handler written in a notebook cell becomes a real moto function, in one call."""

from __future__ import annotations

import io
import json
import time
import zipfile
from email.utils import parseaddr

import boto3
import pytest
from botocore.exceptions import ClientError

from workmail_sandbox.deploy.handler import (
    BASIC_EXECUTION_POLICY_ARN,
    LAMBDA_TRUST_POLICY,
    deploy_handler,
    handler_source,
    zip_source,
)
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.lambda_runtime import Runtime

REGION = "us-east-1"

# What the handlers below use from "their cell": a module, a function from another
# module, constants and a helper defined beside them.
GREETING = "Hello"
ACTIONS = {"type": "DEFAULT"}


def greet(address):
    return f"{GREETING}, {parseaddr(address)[1]}"


def lambda_handler(event, context):
    print(json.dumps(event))
    return {"text": greet(event["from"]), "actions": [{"allRecipients": True, "action": ACTIONS}]}


def other_handler(event, context):
    return "other"


class Widget:
    pass


WIDGET = Widget()


def uses_a_widget(event, context):
    return repr(WIDGET)


@pytest.fixture
def runtime(emulators_module):
    rt = Runtime().install()
    try:
        yield rt
    finally:
        rt.uninstall()
        client = boto3.client("lambda", region_name=REGION)
        for function in client.list_functions()["Functions"]:
            client.delete_function(FunctionName=function["FunctionName"])


@pytest.fixture
def lam(runtime):
    return boto3.client("lambda", region_name=REGION)


def test_handler_source_copies_what_the_function_uses():
    source = handler_source(lambda_handler)
    assert "import json\n" in source
    assert "from email.utils import parseaddr\n" in source
    assert "GREETING = 'Hello'\n" in source and "ACTIONS = {'type': 'DEFAULT'}\n" in source
    assert source.index("def greet(") < source.index("def lambda_handler(")
    assert "other_handler" not in source and "WIDGET" not in source
    compile(source, "app.py", "exec")


def test_deploy_a_function_object_and_invoke_it(lam):
    response = deploy_handler(lambda_handler, name="wm-hello")
    assert response["FunctionName"] == "wm-hello"
    assert response["Handler"] == "app.lambda_handler"
    assert response["Runtime"] == "python3.12"
    assert response["Timeout"] == 10 and response["MemorySize"] == 128
    result = lam.invoke(FunctionName="wm-hello", Payload=json.dumps({"from": "Alice <alice@example.org>"}))
    assert json.loads(result["Payload"].read()) == {
        "text": "Hello, alice@example.org",
        "actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}],
    }


def test_deploy_creates_an_execution_role(lam):
    response = deploy_handler(
        other_handler,
        name="wm-role",
        managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"],
    )
    iam = boto3.client("iam", region_name=REGION)
    role = iam.get_role(RoleName="wm-role-role")["Role"]
    assert response["Role"] == role["Arn"]
    assert role["AssumeRolePolicyDocument"] == LAMBDA_TRUST_POLICY
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="wm-role-role")["AttachedPolicies"]}
    assert attached == {BASIC_EXECUTION_POLICY_ARN, "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"}
    deploy_handler(other_handler, name="wm-role")  # deploying again reuses the role
    assert lam.get_function_configuration(FunctionName="wm-role")["Role"] == role["Arn"]


def test_deploy_with_a_given_role_environment_timeout_and_memory(lam):
    iam = boto3.client("iam", region_name=REGION)
    role_arn = iam.create_role(RoleName="given", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY))["Role"]["Arn"]
    source = "import os\ndef lambda_handler(event, context):\n    return os.environ['BUCKET']\n"
    deploy_handler(source, name="wm-env", role_arn=role_arn, environment={"BUCKET": "b1"}, timeout=3, memory=256)
    config = lam.get_function_configuration(FunctionName="wm-env")
    assert config["Role"] == role_arn
    assert config["Environment"]["Variables"] == {"BUCKET": "b1"}
    assert (config["Timeout"], config["MemorySize"]) == (3, 256)
    assert json.loads(lam.invoke(FunctionName="wm-env")["Payload"].read()) == "b1"


def test_deploy_a_source_string_with_extra_files(runtime):
    source = "import utils\n\ndef lambda_handler(event, context):\n    return utils.tag(event['subject'])\n"
    deploy_handler(source, name="wm-tag", extra_files={"utils.py": "def tag(s):\n    return '[External] ' + s\n"})
    assert runtime.invoke("wm-tag", {"subject": "Hi"}).payload == "[External] Hi"


def test_redeploy_updates_the_code_and_gives_a_cold_start(runtime):
    deploy_handler("def lambda_handler(e, c):\n    return 1\n", name="wm-redeploy")
    assert runtime.invoke("wm-redeploy", {}).payload == 1
    assert runtime.invoke("wm-redeploy", {}).cold_start is False
    response = deploy_handler("def lambda_handler(e, c):\n    return 2\n", name="wm-redeploy", timeout=5)
    assert response["Timeout"] == 5
    result = runtime.invoke("wm-redeploy", {})
    assert (result.payload, result.cold_start) == (2, True)


def test_a_role_that_does_not_exist_fails_at_once(lam):
    started = time.perf_counter()
    with pytest.raises(ClientError, match="cannot be assumed") as caught:
        deploy_handler("def lambda_handler(e, c):\n    return 1\n", name="wm-norole",
                       role_arn="arn:aws:iam::123456789012:role/not-there")
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert time.perf_counter() - started < 2


def test_custom_handler_name_in_a_source_string(lam):
    deploy_handler("def update_handler(e, c):\n    return 'ok'\n", name="wm-named", handler_name="update_handler")
    assert lam.get_function_configuration(FunctionName="wm-named")["Handler"] == "app.update_handler"


def test_zip_is_reproducible():
    assert zip_source("x = 1\n", {"b.py": "", "a.py": ""}) == zip_source("x = 1\n", {"a.py": "", "b.py": ""})
    names = zipfile.ZipFile(io.BytesIO(zip_source("x = 1\n", {"pkg/m.py": ""}))).namelist()
    assert names == ["app.py", "pkg/m.py"]


@pytest.mark.parametrize(
    ("handler", "kwargs", "match"),
    [
        (uses_a_widget, {}, "uses the global 'WIDGET'"),
        (lambda event, context: None, {}, "lambda expression cannot be deployed"),
        ("def handler(e, c):\n    return 1\n", {}, "defines no 'lambda_handler'"),
        ("def lambda_handler(e, c)\n    return 1\n", {}, "does not compile"),
        (42, {}, "takes a function or a source string"),
        ("def lambda_handler(e, c):\n    return 1\n", {"extra_files": {"../evil.py": ""}}, "not a relative path"),
        ("def lambda_handler(e, c):\n    return 1\n", {"extra_files": {"app.py": ""}}, "must not contain app.py"),
    ],
    ids=["unshippable-global", "lambda", "missing-handler", "syntax", "not-a-function", "path-escape", "app-py-twice"],
)
def test_clear_errors(emulators_module, handler, kwargs, match):
    with pytest.raises(SandboxError, match=match) as caught:
        deploy_handler(handler, name="wm-bad", **kwargs)
    assert caught.value.fix


def test_closures_are_refused():
    secret = "x"

    def inner(event, context):
        return secret

    with pytest.raises(SandboxError, match="defined inside another function") as caught:
        handler_source(inner)
    assert "secret" in str(caught.value)


def test_submodules_the_handler_uses_are_imported(tmp_path):
    """`email.policy.default` needs `import email.policy` in a fresh Lambda process, not just `import email`."""
    import importlib.util

    source = tmp_path / "cell.py"
    source.write_text(
        "import email\nimport email.policy\n\n"
        "def handler(event, context):\n"
        "    return email.message_from_bytes(b'a: b\\n\\n', policy=email.policy.default)['a']\n"
    )
    spec = importlib.util.spec_from_file_location("cell_for_test", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from workmail_sandbox.deploy.handler import handler_source

    text = handler_source(module.handler)
    assert "import email.policy" in text.splitlines()


def test_outside_the_sandbox_deploy_handler_needs_confirmation_and_tags_what_it_creates(monkeypatch):
    """aws mode's rule: nothing is created without confirm=True, and everything created is tagged."""
    import boto3
    from moto import mock_aws

    from workmail_sandbox.aws import TAG_KEY, TAG_VALUE
    from workmail_sandbox.deploy.handler import deploy_handler
    from workmail_sandbox.emulators import _core
    from workmail_sandbox.errors import ConfigurationError

    source = "def lambda_handler(event, context):\n    return {'actions': []}\n"
    monkeypatch.setattr(_core.STATE, "active", False)
    with mock_aws(config={"lambda": {"use_docker": False}, "iam": {"load_aws_managed_policies": True}}):
        with pytest.raises(ConfigurationError, match="confirm=True"):
            deploy_handler(source, name="real-looking", region="us-east-1")
        response = deploy_handler(source, name="real-looking", region="us-east-1", confirm=True)
        lam = boto3.client("lambda", region_name="us-east-1")
        assert lam.list_tags(Resource=response["FunctionArn"])["Tags"] == {TAG_KEY: TAG_VALUE}
        tags = boto3.client("iam").list_role_tags(RoleName="real-looking-role")["Tags"]
        assert {"Key": TAG_KEY, "Value": TAG_VALUE} in tags


# --------------------------------------------------------------------------- tracebacks in your terms

CELL = '''LIMIT = 3


def cell_handler(event, context):
    print("in the cell", LIMIT)
    return event["missing"]
'''


def test_a_handler_from_a_notebook_cell_maps_app_py_lines_back_to_your_cell(runtime):
    from IPython.core.interactiveshell import InteractiveShell

    from workmail_sandbox.deploy.handler import handler_source_map
    from workmail_sandbox.handler_logs import in_your_terms

    shell = InteractiveShell.instance()
    try:
        shell.run_cell("x = 1", store_history=True)
        shell.run_cell(CELL, store_history=True)
        number = shell.execution_count - 1  # In [2]: the second cell
        handler = shell.user_ns["cell_handler"]
        mapped = handler_source_map(handler)
        assert mapped.source == handler_source(handler)
        app_line = mapped.source.splitlines().index("def cell_handler(event, context):") + 1
        assert [(s.start, s.origin, s.first_line) for s in mapped.segments] == [
            (app_line, f"your cell In [{number}]", 4)
        ]
        function = deploy_handler(handler, name="from-a-cell")
        result = runtime.invoke("from-a-cell", {})
    finally:
        InteractiveShell.clear_instance()
    assert f'app.py", line {app_line + 2}, in cell_handler' in result.log_text  # Lambda's log: app.py
    shown = in_your_terms(result.log_text, function["FunctionArn"])
    assert f'File "your cell In [{number}]", line 6, in cell_handler\n    return event["missing"]' in shown


def test_a_source_string_needs_no_map_and_forgets_an_earlier_one(lam, runtime):
    from workmail_sandbox.handler_logs import source_map

    function = deploy_handler(other_handler, name="mapped-then-not")
    assert source_map(function["FunctionArn"]).segments[0].origin == "test_deploy_handler.py"
    deploy_handler("def lambda_handler(event, context):\n    return 1\n", name="mapped-then-not")
    assert source_map(function["FunctionArn"]) is None
