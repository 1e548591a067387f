"""deploy_project: a SAM project folder deployed as sam build + sam deploy would, with the kit's fill-ins."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import workmail_sandbox as wms
from tests.wheels import write_wheel
from workmail_sandbox.deploy.project import find_template
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.sam.parameters import resolve_parameters

HANDLER = """\
import json
import os


def lambda_handler(event, context):
    names = ("LIMIT", "MODE", "SECRET_ARN", "MACHINE_ARN", "ROLE_ARN")
    return {"env": {name: os.environ[name] for name in names if name in os.environ}}
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Limit:
    Type: Number
    Default: 5
    MinValue: 1
    MaxValue: 100
  Mode:
    Type: String
    Default: tag
    AllowedValues: [tag, bounce]
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.lambda_handler
      Role: !GetAtt FnRole.Arn
      Layers: [!Ref Shared]
      Environment:
        Variables:
          LIMIT: !Ref Limit
          MODE: !Ref Mode
          SECRET_ARN: !Ref Token
          MACHINE_ARN: !GetAtt Machine.Arn
          ROLE_ARN: !GetAtt FnRole.Arn
      Events:
        Hook:
          Type: Api
          Properties: {Path: /hook, Method: post}
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.12]
  FnRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: read-token
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: secretsmanager:GetSecretValue, Resource: !Ref Token}]
  Token:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: '{"user": "bot"}'
        GenerateStringKey: password
        PasswordLength: 24
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: Choose
        States:
          Choose:
            Type: Choice
            Choices: [{Variable: $.vip, BooleanEquals: true, Next: Escalate}]
            Default: Done
          Escalate: {Type: Pass, Result: {escalated: true}, End: true}
          Done: {Type: Pass, Result: {escalated: false}, End: true}
Outputs:
  FunctionArn:
    Value: !GetAtt Fn.Arn
  MachineArn:
    Value: !Ref Machine
"""


def write_project(root: Path, template: str = TEMPLATE, handler: str = HANDLER) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "app.py").write_text(handler)
    (root / "layer" / "python").mkdir(parents=True, exist_ok=True)
    (root / "layer" / "python" / "shared_words.py").write_text('GREETING = "hello from the layer"\n')
    (root / "template.yaml").write_text(template)
    return root


@pytest.fixture
def project_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("WORKMAIL_SANDBOX_CACHE", str(tmp_path / "cache"))
    return write_project(tmp_path / "mail-project")


def invoke(sb, name: str, payload: dict | None = None) -> dict:
    answer = sb.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
    return json.loads(answer["Payload"].read())


def test_a_project_deploys_with_its_stack_functions_outputs_and_resources(workmail_sandbox, project_dir):
    project = wms.deploy_project(project_dir)
    assert project.stack_name == "mail-project"  # the folder's name, as sam deploy --guided suggests
    function = project.function()
    assert function.logical_id == "Fn" and function.runtime == "python3.12"
    assert project.outputs["FunctionArn"] == function.arn
    kinds = {kind for kind, _ in project.resources.values()}
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::SecretsManager::Secret",
        "AWS::StepFunctions::StateMachine",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Stage",
    } <= kinds
    assert "Stack mail-project" in project.summary() and function.name in project.summary()


def test_parameters_reach_the_environment_as_strings_and_getatt_arn_resolves(workmail_sandbox, project_dir):
    project = wms.deploy_project(project_dir, {"Limit": 42})
    env = invoke(workmail_sandbox, project.function().name)["env"]
    assert env["LIMIT"] == "42" and env["MODE"] == "tag"  # a Number parameter is a string, as in Lambda
    assert env["ROLE_ARN"] == project.function().role_arn
    assert env["MACHINE_ARN"] == project.outputs["MachineArn"]
    assert env["MACHINE_ARN"].startswith("arn:aws:states:us-east-1:123456789012:stateMachine:")
    config = workmail_sandbox.client("lambda").get_function_configuration(FunctionName=project.function().name)
    assert config["Environment"]["Variables"]["LIMIT"] == "42"
    defaults = wms.deploy_project(project_dir, stack_name="with-defaults")
    assert invoke(workmail_sandbox, defaults.function().name)["env"]["LIMIT"] == "5"


def test_the_secret_exists_with_its_generated_value(workmail_sandbox, project_dir):
    project = wms.deploy_project(project_dir)
    secret_arn = project.resources["Token"][1]
    value = json.loads(workmail_sandbox.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])
    assert value["user"] == "bot" and len(value["password"]) == 24
    assert invoke(workmail_sandbox, project.function().name)["env"]["SECRET_ARN"] == secret_arn


def test_the_state_machine_really_executes(workmail_sandbox, project_dir):
    project = wms.deploy_project(project_dir)
    sfn = workmail_sandbox.client("stepfunctions")
    arn = project.outputs["MachineArn"]
    outputs = []
    for vip in (True, False):
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"vip": vip}))["executionArn"]
        for _ in range(100):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.02)
        assert described["status"] == "SUCCEEDED"
        outputs.append(json.loads(described["output"]))
    assert outputs == [{"escalated": True}, {"escalated": False}]  # the Choice state chose, not a canned answer


def test_a_layers_python_folder_is_importable_by_its_function(workmail_sandbox, project_dir):
    (project_dir / "src" / "app.py").write_text(
        "import shared_words\n\n\ndef lambda_handler(event, context):\n    return shared_words.GREETING\n"
    )
    project = wms.deploy_project(project_dir)
    assert len(project.function().layers) == 1
    assert invoke(workmail_sandbox, project.function().name) == "hello from the layer"


def test_deploying_again_updates_the_stack(workmail_sandbox, project_dir):
    first = wms.deploy_project(project_dir)
    (project_dir / "src" / "app.py").write_text("def lambda_handler(event, context):\n    return 'version two'\n")
    second = wms.deploy_project(project_dir, {"Mode": "bounce"})
    assert second.stack_id == first.stack_id
    assert invoke(workmail_sandbox, second.function().name) == "version two"
    assert second.parameters["Mode"] == "bounce"


def test_delete_removes_the_stack_and_its_resources(workmail_sandbox, project_dir):
    project = wms.deploy_project(project_dir)
    project.delete()
    status = workmail_sandbox.client("cloudformation").describe_stacks(StackName=project.stack_id)["Stacks"][0]
    assert status["StackStatus"] == "DELETE_COMPLETE"
    secrets = workmail_sandbox.client("secretsmanager").list_secrets()["SecretList"]
    assert not [s for s in secrets if s["ARN"] == project.resources["Token"][1]]
    functions = workmail_sandbox.client("lambda").list_functions()["Functions"]
    assert project.function().name not in {f["FunctionName"] for f in functions}


# Parameters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"Limti": "3"}, "no parameter Limti; it declares: Limit, Mode"),
        ({"Limit": "many"}, "Limit is a Number, and 'many' is not a number"),
        ({"Limit": "500"}, "Limit is 500, outside its MaxValue 100"),
        ({"Mode": "drop"}, "Mode is 'drop', not one of its AllowedValues (tag, bounce)"),
    ],
)
def test_a_parameter_cloudformation_would_refuse_is_named(given, message):
    from workmail_sandbox.sam.templates import load_template

    with pytest.raises(SandboxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_parameters(load_template(TEMPLATE), given)


def test_parameters_pattern_length_and_missing_values():
    template = {
        "Resources": {},
        "Parameters": {
            "OrganizationId": {"Type": "String", "AllowedPattern": "^m-[0-9a-f]{32}$"},
            "Name": {"Type": "String", "MinLength": 3, "Default": "abcd"},
            "Ids": {"Type": "List<Number>", "Default": "1,2"},
            "On": {"Type": "String", "Default": True},
        },
    }
    org = "m-" + "a" * 32
    values = resolve_parameters(template, {"OrganizationId": org})
    assert values == {"OrganizationId": org, "Name": "abcd", "Ids": "1,2", "On": "true"}
    with pytest.raises(SandboxError, match="OrganizationId has no default and no value was given"):
        resolve_parameters(template, {})
    with pytest.raises(SandboxError, match=r"OrganizationId is 'm-1': it must match"):
        resolve_parameters(template, {"OrganizationId": "m-1"})
    with pytest.raises(SandboxError, match="Name is 2 characters long, outside its MinLength 3"):
        resolve_parameters(template, {"OrganizationId": org, "Name": "ab"})
    with pytest.raises(SandboxError, match="Ids is a List<Number>, and 'x' is not a number"):
        resolve_parameters(template, {"OrganizationId": org, "Ids": "1,x"})


# What cannot be deployed: one line naming it -----------------------------------------------------


ALARM = """\
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      ComparisonOperator: GreaterThanThreshold
      EvaluationPeriods: 1
      MetricName: Errors
      Namespace: AWS/Lambda
      Period: 60
      Statistic: Sum
      Threshold: 1
      Dimensions: [{Name: FunctionName, Value: !Ref Fn}]
"""


USER_POOL = """\
  Users:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: mail-users
"""


def test_an_unsupported_resource_type_is_named_with_the_fix_and_skip_leaves_it_out(workmail_sandbox, project_dir):
    (project_dir / "template.yaml").write_text(TEMPLATE.replace("Outputs:", USER_POOL + "Outputs:"))
    with pytest.raises(SandboxError, match=r"Users \(AWS::Cognito::UserPool\) cannot be deployed") as info:
        wms.deploy_project(project_dir)
    assert "skip=['Users']" in str(info.value) and "\n" not in str(info.value)
    project = wms.deploy_project(project_dir, skip=["AWS::Cognito::UserPool"])  # a type works too
    assert project.skipped == ("Users",) and "Users" not in project.resources


def test_skip_refuses_a_resource_something_else_uses(workmail_sandbox, project_dir):
    with pytest.raises(SandboxError, match="FnRole refers to Token, which skip leaves out"):
        wms.deploy_project(project_dir, skip=["Token"])
    with pytest.raises(SandboxError, match="skip names Nothing, which is neither a resource"):
        wms.deploy_project(project_dir, skip=["Nothing"])


def test_a_custom_resource_is_refused_with_the_reason(workmail_sandbox, project_dir):
    template = TEMPLATE.replace(
        "Outputs:", "  Seed:\n    Type: Custom::Seed\n    Properties:\n      ServiceToken: !GetAtt Fn.Arn\nOutputs:"
    )
    (project_dir / "template.yaml").write_text(template)
    with pytest.raises(SandboxError, match=r"Seed \(Custom::Seed\) cannot be deployed.*custom resources"):
        wms.deploy_project(project_dir)


def test_a_missing_project_template_or_code_folder_is_one_line(workmail_sandbox, tmp_path, project_dir):
    with pytest.raises(SandboxError, match="neither a project folder nor a template file"):
        find_template(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SandboxError, match="has no template.yaml / template.yml / template.json"):
        wms.deploy_project(tmp_path / "empty")
    (project_dir / "template.yaml").write_text(TEMPLATE.replace("CodeUri: src/", "CodeUri: source/"))
    with pytest.raises(SandboxError, match=r"Fn \(AWS::Serverless::Function\) has CodeUri: source/, and .* not exist"):
        wms.deploy_project(project_dir)
    (project_dir / "template.yaml").write_text("Resources: [unclosed")
    with pytest.raises(SandboxError, match=r"is not valid YAML or JSON \(line 2, column 1: did not find expected ',' or '\]'\)"):
        wms.deploy_project(project_dir)
    (project_dir / "template.yaml").write_text(TEMPLATE)
    with pytest.raises(SandboxError, match="not a valid stack name"):
        wms.deploy_project(find_template(project_dir).parent, stack_name="1-bad_name")


def test_project_function_names_the_choices(workmail_sandbox, project_dir):
    project = wms.deploy_project(project_dir)
    with pytest.raises(SandboxError, match="no function 'Other'; its functions: Fn"):
        project.function("Other")
    project.functions["Second"] = project.functions["Fn"]
    with pytest.raises(SandboxError, match=r"has 2 functions \(Fn, Second\)"):
        project.function()


def test_deploy_project_needs_the_sandbox(project_dir):
    with pytest.raises(SandboxError, match="not running"):
        wms.deploy_project(project_dir)


# Dependencies: requirements.txt of a function and of a layer -------------------------------------


def test_requirements_of_a_function_and_a_layer_are_installed_for_that_function(
    workmail_sandbox, project_dir, tmp_path, monkeypatch
):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels, "mailwords", "1.0", {"mailwords/__init__.py": "WORD = 'from the function requirements'\n"})
    write_wheel(wheels, "layerwords", "2.0", {"layerwords/__init__.py": "WORD = 'from the layer requirements'\n"})
    write_wheel(wheels, "boto3", "1.0.0", {"boto3/__init__.py": "raise ImportError('the wrong boto3')\n"})
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # the user's pip configuration reaches pip
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    (project_dir / "src" / "requirements.txt").write_text("mailwords==1.0\nboto3==1.0.0\n")
    (project_dir / "src" / "app.py").write_text(
        "import boto3\nimport layerwords\nimport mailwords\n\n\n"
        "def lambda_handler(event, context):\n    return [mailwords.WORD, layerwords.WORD, boto3.__name__]\n"
    )
    (project_dir / "layer" / "requirements.txt").write_text("layerwords==2.0\n")
    template = TEMPLATE.replace(
        "      CompatibleRuntimes: [python3.12]\n",
        "      CompatibleRuntimes: [python3.12]\n    Metadata:\n      BuildMethod: python3.12\n",
    )
    (project_dir / "template.yaml").write_text(template)
    with pytest.warns(UserWarning, match="boto3"):
        project = wms.deploy_project(project_dir)
    assert any("boto3" in line for line in project.warnings)
    assert invoke(workmail_sandbox, project.function().name) == [
        "from the function requirements",
        "from the layer requirements",
        "boto3",  # the kit's boto3, as Lambda's runtime provides one; the pinned copy is left out
    ]
    import importlib.util

    assert importlib.util.find_spec("mailwords") is None, "the function's dependencies are its own"


def test_a_snapshot_keeps_a_deployed_project(workmail_sandbox, project_dir):
    project = wms.deploy_project(project_dir)
    snapshot = workmail_sandbox.snapshot()
    workmail_sandbox.reset()
    workmail_sandbox.restore(snapshot)
    assert invoke(workmail_sandbox, project.function().name)["env"]["LIMIT"] == "5"
    secret = workmail_sandbox.client("secretsmanager").get_secret_value(SecretId=project.resources["Token"][1])
    assert json.loads(secret["SecretString"])["user"] == "bot"
    apis = workmail_sandbox.client("apigateway").get_rest_apis()["items"]
    assert [api["id"] for api in apis] == [project.resources["ServerlessRestApi"][1]]


def test_alarms_topics_subscriptions_and_queue_policies_are_created(workmail_sandbox, project_dir):
    extra = """\
  Topic:
    Type: AWS::SNS::Topic
  TopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: events.amazonaws.com}, Action: sns:Publish, Resource: "*"}]
  Queue:
    Type: AWS::SQS::Queue
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage, Resource: "*"}]
  QueueSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Topic
      Protocol: sqs
      Endpoint: !GetAtt Queue.Arn
      RawMessageDelivery: true
"""
    (project_dir / "template.yaml").write_text(TEMPLATE.replace("Outputs:", ALARM + extra + "Outputs:"))
    project = wms.deploy_project(project_dir)
    alarms = workmail_sandbox.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert [(a["AlarmName"], a["Threshold"], a["Dimensions"]) for a in alarms] == [
        (project.resources["Alarm"][1], 1.0, [{"Name": "FunctionName", "Value": project.function().name}])
    ]
    sns = workmail_sandbox.client("sns")
    topic = project.resources["Topic"][1]
    assert "events.amazonaws.com" in sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subscriptions] == [project.resources["QueueSubscription"][1]]
    sqs = workmail_sandbox.client("sqs")
    policy = sqs.get_queue_attributes(QueueUrl=project.resources["Queue"][1], AttributeNames=["Policy"])
    assert "sqs:SendMessage" in policy["Attributes"]["Policy"]
    sns.publish(TopicArn=topic, Message="hello")  # the subscription delivers: the queue gets the raw message
    received = sqs.receive_message(QueueUrl=project.resources["Queue"][1])["Messages"]
    assert [m["Body"] for m in received] == ["hello"]


def test_docs_projects_md_lists_every_supported_resource_type():
    from workmail_sandbox.deploy.project import resource_types_markdown

    page = (Path(__file__).resolve().parent.parent / "docs" / "projects.md").read_text(encoding="utf-8")
    start, end = "<!-- resource-types:start -->\n", "<!-- resource-types:end -->"
    listed = page[page.index(start) + len(start) : page.index(end)]
    assert listed == resource_types_markdown(), "regenerate docs/projects.md's table with resource_types_markdown()"
    assert "| SecretsManager | `Secret` (kit) |" in listed


def test_a_nested_application_is_refused_with_the_reason(workmail_sandbox, project_dir):
    nested = """\
  Helper:
    Type: AWS::Serverless::Application
    Properties:
      Location: {ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x, SemanticVersion: 1.0.0}
"""
    (project_dir / "template.yaml").write_text(TEMPLATE.replace("Outputs:", nested + "Outputs:"))
    with pytest.raises(SandboxError, match=r"Helper \(AWS::Serverless::Application\) cannot be deployed.*nested"):
        wms.deploy_project(project_dir)
    assert wms.deploy_project(project_dir, skip=["Helper"]).skipped == ("Helper",)


def test_sam_policy_templates_give_the_role_its_statements(workmail_sandbox, project_dir):
    """SAM's policy templates (DynamoDBCrudPolicy, ...) make inline policies without a Version."""
    template = TEMPLATE.replace(
        "      Role: !GetAtt FnRole.Arn\n",
        "      Policies:\n        - DynamoDBCrudPolicy: {TableName: !Ref Table}\n"
        "        - AWSSecretsManagerGetSecretValuePolicy: {SecretArn: !Ref Token}\n",
    ).replace("Outputs:", "  Table:\n    Type: AWS::Serverless::SimpleTable\nOutputs:")
    template = template.replace("  FnRole:", "  OtherRole:").replace("ROLE_ARN: !GetAtt FnRole.Arn", "ROLE_ARN: x")
    template = template.replace("Resource: !Ref Token}]", "Resource: !Ref Token}]\n")
    (project_dir / "template.yaml").write_text(template)
    project = wms.deploy_project(project_dir)
    iam = workmail_sandbox.client("iam")
    role = project.function().role_arn.rsplit("/", 1)[1]
    documents = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    actions = {a for d in documents for s in d["Statement"] for a in s["Action"]}
    assert {"dynamodb:PutItem", "secretsmanager:GetSecretValue"} <= actions
