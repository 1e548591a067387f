"""CloudFormation resource types moto's CloudFormation lacks, or answers differently from AWS.

Function projects use a few resource types that moto 5.2 cannot create from a
template, or creates without what CloudFormation gives them (docs/moto.md §8):

========================================  ===================================================
``AWS::SecretsManager::Secret``           not supported: created with ``secretsmanager``;
                                          ``Ref`` and ``Fn::GetAtt Id`` give its ARN
``AWS::ApiGateway::Stage``                not supported (every SAM ``Api`` event has one)
``AWS::ApiGateway::RestApi``              moto requires ``Name``; SAM's implicit API has a
                                          ``Body`` (OpenAPI) and no name
``AWS::StepFunctions::StateMachine``      no ``Fn::GetAtt .Arn``; created in the backend that
                                          really executes when the sandbox runs executions
``AWS::Lambda::LayerVersion``             moto's ``Ref`` gives its model object, not the ARN,
                                          when a stack update changes the layer
``AWS::CloudWatch::Alarm``                not supported (``PutMetricAlarm``)
``AWS::SNS::Subscription``                not supported (``Subscribe``; SAM's ``SNS`` events)
``AWS::SNS::TopicPolicy``                 not supported (the topic's ``Policy`` attribute)
``AWS::SQS::QueuePolicy``                 not supported (the queue's ``Policy`` attribute)
========================================  ===================================================

Each model creates its resource through the service's own API (a boto3 client
of the sandbox), so the resource is exactly what a boto3 call would have made,
and deletes it the same way when the stack goes. :func:`install` registers them
with moto's CloudFormation (through :mod:`workmail_sandbox._moto`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from .. import _moto
from .._internal_clients import sandbox_client

__all__ = ["FILLED_IN_TYPES", "install", "register_models"]

#: The resource types this module creates (moto has no model for them, or the kit replaces moto's).
FILLED_IN_TYPES = (
    "AWS::SecretsManager::Secret",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::RestApi",
    "AWS::StepFunctions::StateMachine",
    "AWS::Lambda::LayerVersion",
    "AWS::CloudWatch::Alarm",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
)


class _Created:
    """What the kit's models have in common: a physical id, attributes, a way to delete."""

    cf_type = ""
    attributes: tuple[str, ...] = ()

    def __init__(self, physical_id: str, region: str, values: dict[str, Any]) -> None:
        self.physical_resource_id = physical_id
        self.region = region
        self.values = values

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.cf_type

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.attributes

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.attributes and attribute_name in self.values:
            return self.values[attribute_name]
        raise _moto.unknown_attribute_error()

    def is_created(self) -> bool:
        return True

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        """Replace the resource: delete the old one, create the new one (CloudFormation's replacement)."""
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # pragma: no cover - each model defines it
        raise NotImplementedError

    def delete(self, account_id: str, region: str) -> None:  # pragma: no cover - each model defines it
        raise NotImplementedError


def _tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in properties.get("Tags") or []]


def _stack_name(kwargs: dict[str, Any]) -> str:
    stack_id = str(kwargs.get("StackId") or "")
    return stack_id.split("/")[1] if stack_id.count("/") >= 2 else "stack"


class Secret(_Created):
    """``AWS::SecretsManager::Secret``: ``Ref`` and ``Fn::GetAtt Id`` are the secret's ARN."""

    cf_type = "AWS::SecretsManager::Secret"
    attributes = ("Id",)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Secret:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("secretsmanager", region_name)
        # CloudFormation names an unnamed secret <logical id>-<random> (the name is not the stack's).
        name = properties.get("Name") or f"{kwargs.get('LogicalId', 'Secret')}-{_suffix(resource_name)}"
        arguments: dict[str, Any] = {"Name": name}
        if "Description" in properties:
            arguments["Description"] = properties["Description"]
        if "KmsKeyId" in properties:
            arguments["KmsKeyId"] = properties["KmsKeyId"]
        if _tags(properties):
            arguments["Tags"] = _tags(properties)
        arguments["SecretString"] = _secret_string(client, properties)
        arn = client.create_secret(**arguments)["ARN"]
        return cls(arn, region_name, {"Id": arn})

    def delete(self, account_id: str, region: str) -> None:
        client = sandbox_client("secretsmanager", region)
        client.delete_secret(SecretId=self.physical_resource_id, ForceDeleteWithoutRecovery=True)


def _suffix(resource_name: str) -> str:
    """The random part moto generated for the resource's name (its last dash-separated part)."""
    tail = resource_name.rsplit("-", 1)[-1]
    return tail if tail.isalnum() else "SANDBOX"


def _secret_string(client: Any, properties: dict[str, Any]) -> str:
    """``SecretString``, or the JSON ``GenerateSecretString`` makes (as CloudFormation generates it)."""
    if "SecretString" in properties:
        return str(properties["SecretString"])
    generate = properties.get("GenerateSecretString") or {}
    options = {
        key: generate[key]
        for key in (
            "PasswordLength",
            "ExcludeCharacters",
            "ExcludeNumbers",
            "ExcludePunctuation",
            "ExcludeUppercase",
            "ExcludeLowercase",
            "IncludeSpace",
            "RequireEachIncludedType",
        )
        if key in generate
    }
    if "PasswordLength" in options:
        options["PasswordLength"] = int(options["PasswordLength"])
    password = client.get_random_password(**options)["RandomPassword"]
    key = generate.get("GenerateStringKey")
    if key:
        template = json.loads(generate.get("SecretStringTemplate") or "{}")
        template[key] = password
        return json.dumps(template)
    return str(password)


class Stage(_Created):
    """``AWS::ApiGateway::Stage``: ``Ref`` is the stage name."""

    cf_type = "AWS::ApiGateway::Stage"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Stage:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("apigateway", region_name)
        api_id = str(properties["RestApiId"])
        name = str(properties.get("StageName") or resource_name)
        arguments: dict[str, Any] = {
            "restApiId": api_id,
            "stageName": name,
            "deploymentId": str(properties.get("DeploymentId") or ""),
        }
        if properties.get("Description"):
            arguments["description"] = properties["Description"]
        if properties.get("Variables"):
            arguments["variables"] = {str(k): str(v) for k, v in properties["Variables"].items()}
        existing = {s["stageName"] for s in client.get_stages(restApiId=api_id).get("item", [])}
        if name not in existing:
            client.create_stage(**arguments)
        stage = cls(name, region_name, {})
        stage.api_id = api_id
        return stage

    api_id = ""

    def delete(self, account_id: str, region: str) -> None:
        client = sandbox_client("apigateway", region)
        try:
            client.delete_stage(restApiId=self.api_id, stageName=self.physical_resource_id)
        except client.exceptions.NotFoundException:
            pass  # the API went first


class RestApi(_Created):
    """``AWS::ApiGateway::RestApi`` with a ``Name``, or a ``Body`` (OpenAPI) as SAM's implicit API has."""

    cf_type = "AWS::ApiGateway::RestApi"
    attributes = ("RootResourceId", "RestApiId")

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> RestApi:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("apigateway", region_name)
        body = properties.get("Body")
        if isinstance(body, dict) and body.get("paths"):
            answer = client.import_rest_api(body=json.dumps(_as_openapi3(body, _stack_name(kwargs))).encode())
        else:
            # CloudFormation requires Name unless there is a Body; moto's own model needs it always.
            title = (body.get("info") or {}).get("title") if isinstance(body, dict) else None
            arguments: dict[str, Any] = {"name": str(properties.get("Name") or title or _stack_name(kwargs))}
            if properties.get("Description"):
                arguments["description"] = properties["Description"]
            if properties.get("EndpointConfiguration"):
                arguments["endpointConfiguration"] = properties["EndpointConfiguration"]
            answer = client.create_rest_api(**arguments)
        api_id = answer["id"]
        root = next(r["id"] for r in client.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
        return cls(api_id, region_name, {"RootResourceId": root, "RestApiId": api_id})

    def delete(self, account_id: str, region: str) -> None:
        sandbox_client("apigateway", region).delete_rest_api(restApiId=self.physical_resource_id)


def _as_openapi3(body: dict[str, Any], default_title: str) -> dict[str, Any]:
    """An API definition moto's ImportRestApi takes: OpenAPI 3 with ``info.title`` and ``info.description``.

    SAM writes Swagger 2.0; its paths, methods and ``x-amazon-apigateway-integration``
    read the same in both versions for what the import uses (methods and their
    integrations), so only the version marker changes.
    """
    body = {key: value for key, value in body.items() if key != "swagger"}
    body.setdefault("openapi", "3.0.1")
    body["info"] = {"title": default_title, "description": "", **(body.get("info") or {})}
    return body


class StateMachine(_Created):
    """``AWS::StepFunctions::StateMachine``: ``Ref`` and ``Fn::GetAtt Arn`` are its ARN.

    Created through the ``stepfunctions`` API, so that it lives where executions
    run: moto's interpreter when the sandbox executes state machines (the default,
    ``Sandbox(execute_state_machines=True)``), else moto's canned-history backend.
    """

    cf_type = "AWS::StepFunctions::StateMachine"
    attributes = ("Arn", "Name", "StateMachineRevisionId")

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> StateMachine:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("stepfunctions", region_name)
        name = str(properties.get("StateMachineName") or resource_name)[:80]
        if "Definition" in properties:
            definition = json.dumps(properties["Definition"])
        else:
            definition = str(properties.get("DefinitionString") or "")
        definition = _substitute(definition, properties.get("DefinitionSubstitutions") or {})
        arguments: dict[str, Any] = {"name": name, "definition": definition, "roleArn": str(properties["RoleArn"])}
        if properties.get("StateMachineType"):
            arguments["type"] = properties["StateMachineType"]
        tags = [{"key": t["Key"], "value": t["Value"]} for t in _tags(properties)]
        if tags:
            arguments["tags"] = tags
        arn = client.create_state_machine(**arguments)["stateMachineArn"]
        return cls(arn, region_name, {"Arn": arn, "Name": name, "StateMachineRevisionId": "INITIAL"})

    def delete(self, account_id: str, region: str) -> None:
        sandbox_client("stepfunctions", region).delete_state_machine(stateMachineArn=self.physical_resource_id)


class LayerVersion(_Created):
    """``AWS::Lambda::LayerVersion``: ``Ref`` is the layer version's ARN."""

    cf_type = "AWS::Lambda::LayerVersion"
    attributes = ("LayerVersionArn",)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> LayerVersion:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("lambda", region_name)
        content = {
            k: properties["Content"][k] for k in ("S3Bucket", "S3Key", "S3ObjectVersion") if k in properties["Content"]
        }
        arguments: dict[str, Any] = {
            "LayerName": str(properties.get("LayerName") or kwargs.get("LogicalId") or resource_name),
            "Content": content,
        }
        for key in ("Description", "LicenseInfo", "CompatibleRuntimes", "CompatibleArchitectures"):
            if properties.get(key):
                arguments[key] = properties[key]
        arn = client.publish_layer_version(**arguments)["LayerVersionArn"]
        return cls(arn, region_name, {"LayerVersionArn": arn})

    def delete(self, account_id: str, region: str) -> None:
        name, _, number = self.physical_resource_id.rpartition(":")
        client = sandbox_client("lambda", region)
        client.delete_layer_version(LayerName=name, VersionNumber=int(number))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        """A new layer version; the old one stays until the stack is deleted (CloudFormation keeps it
        when ``UpdateReplacePolicy`` is Retain, SAM's default)."""
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)


_ALARM_KEYS = (
    "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions", "MetricName",
    "Namespace", "Statistic", "ExtendedStatistic", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm",
    "Threshold", "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
    "ThresholdMetricId",
)


class Alarm(_Created):
    """``AWS::CloudWatch::Alarm``: ``Ref`` is the alarm's name, ``Fn::GetAtt Arn`` its ARN."""

    cf_type = "AWS::CloudWatch::Alarm"
    attributes = ("Arn",)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Alarm:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("cloudwatch", region_name)
        name = str(properties.get("AlarmName") or resource_name)
        arguments: dict[str, Any] = {"AlarmName": name}
        arguments.update({key: properties[key] for key in _ALARM_KEYS if key in properties})
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in arguments:
                arguments[key] = int(arguments[key])
        if "Threshold" in arguments:
            arguments["Threshold"] = float(arguments["Threshold"])
        if "Dimensions" in properties:
            arguments["Dimensions"] = [{"Name": d["Name"], "Value": str(d["Value"])} for d in properties["Dimensions"]]
        client.put_metric_alarm(**arguments)
        arn = f"arn:aws:cloudwatch:{region_name}:{account_id}:alarm:{name}"
        return cls(name, region_name, {"Arn": arn})

    def delete(self, account_id: str, region: str) -> None:
        sandbox_client("cloudwatch", region).delete_alarms(AlarmNames=[self.physical_resource_id])


class Subscription(_Created):
    """``AWS::SNS::Subscription``: ``Ref`` is the subscription's ARN."""

    cf_type = "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Subscription:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("sns", region_name)
        attributes = {
            key: value if isinstance(value, str) else json.dumps(value)
            for key in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")
            if (value := properties.get(key)) is not None
        }
        arguments: dict[str, Any] = {
            "TopicArn": str(properties["TopicArn"]),
            "Protocol": str(properties["Protocol"]),
            "Endpoint": str(properties.get("Endpoint") or ""),
            "ReturnSubscriptionArn": True,
        }
        if attributes:
            arguments["Attributes"] = attributes
        return cls(client.subscribe(**arguments)["SubscriptionArn"], region_name, {})

    def delete(self, account_id: str, region: str) -> None:
        sandbox_client("sns", region).unsubscribe(SubscriptionArn=self.physical_resource_id)


class TopicPolicy(_Created):
    """``AWS::SNS::TopicPolicy``: the ``PolicyDocument`` set on each of its ``Topics``."""

    cf_type = "AWS::SNS::TopicPolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> TopicPolicy:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("sns", region_name)
        for topic in [str(t) for t in properties.get("Topics") or []]:
            client.set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(properties["PolicyDocument"])
            )
        return cls(resource_name, region_name, {})

    def delete(self, account_id: str, region: str) -> None:
        return None  # the topics go with the stack; AWS restores the default policy


class QueuePolicy(_Created):
    """``AWS::SQS::QueuePolicy``: the ``PolicyDocument`` set on each of its ``Queues`` (URLs)."""

    cf_type = "AWS::SQS::QueuePolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> QueuePolicy:
        properties = cloudformation_json.get("Properties") or {}
        client = sandbox_client("sqs", region_name)
        for queue in properties.get("Queues") or []:
            client.set_queue_attributes(
                QueueUrl=str(queue), Attributes={"Policy": json.dumps(properties["PolicyDocument"])}
            )
        return cls(resource_name, region_name, {})

    def delete(self, account_id: str, region: str) -> None:
        return None  # the queues go with the stack


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")


def _substitute(definition: str, substitutions: dict[str, Any]) -> str:
    """``DefinitionSubstitutions``: each ``${name}`` in the definition replaced by its value."""
    if not substitutions:
        return definition
    values = {str(k): v for k, v in substitutions.items()}

    def replace(match: re.Match[str]) -> str:
        value = values.get(match[1])
        if value is None:
            return match[0]
        return value if isinstance(value, str) else json.dumps(value)

    return _PLACEHOLDER.sub(replace, definition)


_MODELS = (Secret, Stage, RestApi, StateMachine, LayerVersion, Alarm, Subscription, TopicPolicy, QueuePolicy)


@cache
def _model_classes() -> dict[str, Any]:
    """The kit's models as subclasses of moto's ``CloudFormationModel`` (built once, on first use)."""
    base = _moto.cloudformation_model_base()
    classes = {}
    for model in _MODELS:
        name = model.__name__
        classes[model.cf_type] = type(name, (model, base), {"__module__": __name__, "__qualname__": name})
    return classes


@cache
def register_models() -> None:
    """Register the models with moto's CloudFormation (once: the map is moto's, for the process)."""
    _moto.register_cloudformation_models(_model_classes())


def _before_cloudformation_call(**_: Any) -> None:
    """before-parameter-build.cloudformation: the models are registered before moto's CloudFormation
    first reads a template (importing it costs about a second, so not at sandbox start)."""
    register_models()


def install() -> None:
    """Register the models on the first ``cloudformation`` call of the process (idempotent)."""
    _moto.register_builtin_handler("before-parameter-build.cloudformation", _before_cloudformation_call)
