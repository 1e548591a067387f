"""Canaries for the moto and botocore internals the kit uses (all of them live in ``workmail_sandbox._moto``).

Each test checks one touchpoint: that the internal is where this version of
the kit expects it, and that the adapter function still does its job. When a
moto or botocore release moves an internal, the failing test names it, instead
of a lesson or a restore going silently wrong. docs/moto.md §9 explains the table.
"""

from __future__ import annotations

import inspect
import json

import pytest

from workmail_sandbox import _moto
from workmail_sandbox.errors import SandboxError


def test_every_touchpoint_says_what_it_is_for():
    assert _moto.TOUCHPOINTS, "the adapter registers its touchpoints"
    for name, purpose in _moto.TOUCHPOINTS.items():
        assert name and len(purpose) > 20, f"touchpoint {name!r} needs a purpose"


def test_a_moved_internal_is_an_error_naming_the_touchpoint():
    class Stack:
        pass

    with pytest.raises(_moto.MotoInternalsChanged, match=r"ResourceMap\._parsed_resources|Stack\.resource_map"):
        _moto.stack_resources(Stack())
    assert issubclass(_moto.MotoInternalsChanged, SandboxError)


def test_botocore_builtin_handlers_are_added_once_and_removed_again():
    from botocore.handlers import BUILTIN_HANDLERS

    assert isinstance(BUILTIN_HANDLERS, list), "botocore.handlers.BUILTIN_HANDLERS is no longer a list"

    def handler(**_):
        return None

    _moto.register_builtin_handler("before-call.canary.Operation", handler)
    _moto.register_builtin_handler("before-call.canary.Operation", handler)
    assert BUILTIN_HANDLERS.count(("before-call.canary.Operation", handler)) == 1
    _moto.unregister_builtin_handlers()
    assert ("before-call.canary.Operation", handler) not in BUILTIN_HANDLERS


def test_stop_takes_the_kits_handlers_out_of_botocore(workmail_sandbox):
    assert _moto.registered_builtin_handlers(), "a running sandbox has its hooks in botocore"


def test_after_stop_no_kit_handler_is_left_in_botocore():
    from workmail_sandbox import sandbox

    sandbox.start()
    try:
        assert _moto.registered_builtin_handlers()
    finally:
        sandbox.stop()
    assert _moto.registered_builtin_handlers() == [], "boto3.session.Session._session / BUILTIN_HANDLERS"
    sb = sandbox.start()  # and a restart puts them back
    try:
        assert _moto.registered_builtin_handlers()
        assert sb.client("workmail").list_organizations()["OrganizationSummaries"] is not None
    finally:
        sandbox.stop()


def test_boto3_session_keeps_its_botocore_session_in__session():
    import boto3

    session = boto3.session.Session(region_name="us-east-1")
    assert hasattr(session, "_session"), "boto3.session.Session._session moved"
    assert _moto.share_model_loader(session) is session


def test_moto_knows_whether_it_is_mocking(workmail_sandbox):
    assert _moto.is_mocking(), "moto.core.models.botocore_stubber.enabled"


def test_backend_registry_and_reset(workmail_sandbox):
    lambdas = _moto.backends("lambda_simple")
    assert workmail_sandbox.account_id in lambdas or lambdas[workmail_sandbox.account_id] is not None
    assert _moto.backends("s3", only_loaded=True) is not None, "moto.backends.ALT_SERVICE_NAMES / get_backend"
    from moto.core.base_backend import BackendDict

    assert isinstance(BackendDict._instances, list), "moto.core.base_backend.BackendDict._instances"
    _moto.register_backends(lambdas)
    assert lambdas in BackendDict._instances


def test_copied_state_keeps_lambda_arns_and_s3_objects(workmail_sandbox):
    s3 = workmail_sandbox.client("s3")
    s3.create_bucket(Bucket="canary-bucket")
    s3.put_object(Bucket="canary-bucket", Key="k", Body=b"v")
    backends = _moto.backends("s3")
    copy = _moto.copy_account_backend("s3", backends[workmail_sandbox.account_id], keep_for_later=True)
    from moto.s3.models import FakeKey

    assert hasattr(FakeKey, "instances_tracked"), "moto.s3.models.FakeKey.instances_tracked"
    assert "canary-bucket" in copy["aws"].buckets
    _moto.register_buckets(workmail_sandbox.account_id, copy)
    from moto.s3.models import s3_backends

    assert s3_backends.bucket_accounts["canary-bucket"] == ("aws", workmail_sandbox.account_id)


def test_lambda_storage_keeps_functions_and_an_arn_table(workmail_sandbox):
    from workmail_sandbox import deploy_handler

    def handler(event, context):
        return {}

    arn = deploy_handler(handler, name="canary-fn")["FunctionArn"]
    account = _moto.backends("lambda_simple")[workmail_sandbox.account_id]
    storage = account[workmail_sandbox.region]._lambdas
    assert hasattr(storage, "_functions") and hasattr(storage, "_arns"), "LambdaStorage._functions / _arns"
    copy = _moto.copy_account_backend("lambda_simple", account)
    assert copy[workmail_sandbox.region]._lambdas._arns[arn] is not storage._arns[arn]


def test_logs_backend_takes_lines_directly(workmail_sandbox):
    _moto.write_log_events(
        workmail_sandbox.account_id, workmail_sandbox.region, "/canary", "s", [(1_700_000_000_000, "hi")]
    )
    logs = workmail_sandbox.client("logs")
    events = logs.get_log_events(logGroupName="/canary", logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["hi"], "moto.logs.models.logs_backends groups/streams"


def test_iam_managed_policies_load_on_demand(workmail_sandbox):
    bundled = _moto.bundled_aws_managed_policies()
    assert "AWSLambdaBasicExecutionRole" in bundled, "moto.iam.aws_managed_policies.aws_managed_policies_data"
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    if not _moto.has_managed_policy(workmail_sandbox.account_id, "aws", arn):
        assert (
            _moto.add_aws_managed_policy(
                workmail_sandbox.account_id, "aws", "ReadOnlyAccess", bundled["ReadOnlyAccess"]
            )
            == arn
        )
    assert _moto.has_managed_policy(workmail_sandbox.account_id, "aws", arn)
    iam = workmail_sandbox.client("iam")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"] == "ReadOnlyAccess"


def test_cloudformation_internals_the_fixups_use(workmail_sandbox):
    from moto.cloudformation.models import Stack
    from moto.cloudformation.parsing import ResourceMap

    assert hasattr(Stack, "_create_output_map"), "moto.cloudformation.models.Stack._create_output_map"
    assert hasattr(Stack, "_parse_template"), "moto.cloudformation.models.Stack._parse_template"
    assert "_parsed_resources" in inspect.getsource(ResourceMap.__init__), "ResourceMap._parsed_resources"
    parameters = inspect.signature(_backend_create_change_set()).parameters
    for name in ("stack_name", "change_set_name", "template", "parameters", "change_set_type", "tags"):
        assert name in parameters, f"CloudFormationBackend.create_change_set lost its {name!r} parameter"
    template = {
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"Name": {"Value": {"Ref": "Bucket"}}},
    }
    cfn = workmail_sandbox.client("cloudformation")
    stack_id = cfn.create_stack(StackName="canary", TemplateBody=json.dumps(template))["StackId"]
    stack = _moto.cloudformation_stack(workmail_sandbox.account_id, workmail_sandbox.region, stack_id)
    assert "Bucket" in _moto.stack_resources(stack)
    assert (
        _moto.resolve_intrinsics({"Ref": "Bucket"}, stack.resource_map)
        == _moto.stack_resources(stack)["Bucket"].physical_resource_id
    )
    _moto.rebuild_stack_outputs(stack, template)
    assert [o.key for o in stack.output_map.values()] == ["Name"] or "Name" in stack.output_map
    assert _moto.stack_template(stack)["Resources"]["Bucket"]["Type"] == "AWS::S3::Bucket"


def _backend_create_change_set():
    from moto.cloudformation.models import CloudFormationBackend

    return CloudFormationBackend.create_change_set


def test_moto_still_words_its_unsupported_resource_messages_as_the_kit_filters_them():
    import logging

    import moto.cloudformation.parsing as parsing

    source = inspect.getsource(parsing)
    assert parsing.logger is logging.getLogger("moto"), (
        "moto.cloudformation.parsing no longer logs on the 'moto' logger"
    )
    assert _moto._NO_SUPPORT_LOG in source, "moto's 'No Moto CloudFormation support for %s' log line changed"
    assert (
        "Tried to parse {resource_type} but it's not supported by moto's CloudFormation implementation" in source
        or "but it's not supported by moto's CloudFormation implementation" in source
    ), "moto's 'Tried to parse' warning changed"


# Lambda: the local runtime -------------------------------------------------------------------


def _canary_function(workmail_sandbox, name):
    from workmail_sandbox import deploy_handler

    def handler(event, context):
        return {"got": event}

    return deploy_handler(handler, name=name)["FunctionArn"]


def test_lambda_backend_is_found_through_moto_awslambda_utils(workmail_sandbox):
    from moto.awslambda import utils

    assert callable(getattr(utils, "get_backend", None)), "moto.awslambda.utils.get_backend"
    backend = _moto.lambda_backend(workmail_sandbox.account_id, workmail_sandbox.region)
    assert hasattr(backend, "get_function") and hasattr(backend, "get_policy"), (
        "moto.awslambda.utils.get_backend: the backend has get_function / get_policy"
    )


def test_lambda_get_function_and_its_not_found_error(workmail_sandbox):
    from botocore.exceptions import ClientError
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaBackend
    from moto.core.exceptions import JsonRESTError

    touchpoint = "moto.awslambda.models.LambdaBackend.get_function / LambdaClientError / LambdaFunction attributes"
    assert list(inspect.signature(LambdaBackend.get_function).parameters) == [
        "self",
        "function_name_or_arn",
        "qualifier",
    ], f"{touchpoint}: get_function(name, qualifier)"
    assert issubclass(LambdaClientError, JsonRESTError), touchpoint
    arn = _canary_function(workmail_sandbox, "canary-get-function")
    fn = _moto.get_lambda_function(workmail_sandbox.account_id, workmail_sandbox.region, "canary-get-function")
    assert fn.function_arn == arn, touchpoint
    missing = [name for name in _moto.LAMBDA_FUNCTION_ATTRIBUTES if not hasattr(fn, name)]
    assert not missing, f"{touchpoint}: LambdaFunction has no {missing}"
    with pytest.raises(ClientError) as caught:
        _moto.get_lambda_function(workmail_sandbox.account_id, workmail_sandbox.region, "canary-nothing-here")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException", touchpoint
    assert caught.value.operation_name == "Invoke", touchpoint


def test_lambda_get_policy_returns_the_policy_document(workmail_sandbox):
    from moto.awslambda.models import LambdaBackend

    touchpoint = "moto.awslambda.models.LambdaBackend.get_policy"
    assert list(inspect.signature(LambdaBackend.get_policy).parameters) == ["self", "function_name", "qualifier"], (
        f"{touchpoint}: get_policy(name, qualifier)"
    )
    account, region = workmail_sandbox.account_id, workmail_sandbox.region
    arn = _canary_function(workmail_sandbox, "canary-policy")
    assert _moto.get_lambda_policy(account, region, "canary-policy") is None, f"{touchpoint}: no policy yet"
    assert _moto.get_lambda_policy(account, region, "canary-no-function") is None, f"{touchpoint}: no function"
    workmail_sandbox.client("lambda").add_permission(
        FunctionName="canary-policy",
        StatementId="canary",
        Action="lambda:InvokeFunction",
        Principal=f"workmail.{region}.amazonaws.com",
    )
    document = json.loads(_moto.get_lambda_policy(account, region, "canary-policy"))
    assert document["Statement"][0]["Resource"] == arn, touchpoint
    assert document["Statement"][0]["Action"] == "lambda:InvokeFunction", touchpoint


def test_lambda_policy_revision_follows_every_policy_change(workmail_sandbox):
    touchpoint = (
        "moto.awslambda.models.LambdaBackend._lambdas.get_function_by_name_or_arn_with_qualifier / "
        "LambdaFunction.policy / Policy.revision / Policy.statements"
    )
    account, region = workmail_sandbox.account_id, workmail_sandbox.region
    lam = workmail_sandbox.client("lambda")
    _canary_function(workmail_sandbox, "canary-revision")
    assert _moto.lambda_policy_revision(account, region, "canary-revision") is None, f"{touchpoint}: no policy yet"
    assert _moto.lambda_policy_revision(account, region, "canary-none") is None, f"{touchpoint}: no function"
    seen = []
    for sid in ("one", "two"):
        lam.add_permission(FunctionName="canary-revision", StatementId=sid, Action="lambda:InvokeFunction",
                           Principal=f"workmail.{region}.amazonaws.com")
        seen.append(_moto.lambda_policy_revision(account, region, "canary-revision"))
    assert seen[1][0] == lam.get_policy(FunctionName="canary-revision")["RevisionId"], f"{touchpoint}: RevisionId"
    lam.remove_permission(FunctionName="canary-revision", StatementId="one")
    after = _moto.lambda_policy_revision(account, region, "canary-revision")
    assert len({seen[0], seen[1], after}) == 3, f"{touchpoint}: every change gives another answer"
    assert "'two'" in after[1] and "'one'" not in after[1], f"{touchpoint}: Policy.statements"


def test_lambda_request_error_is_a_moto_json_rest_error():
    from moto.core.exceptions import JsonRESTError

    error = _moto.lambda_request_error("InvalidRequestContentException", "not JSON")
    assert isinstance(error, JsonRESTError), "moto.core.exceptions.JsonRESTError"
    assert error.error_type == "InvalidRequestContentException", "moto.core.exceptions.JsonRESTError.error_type"
    assert error.code == 400, "moto.core.exceptions.JsonRESTError: a client error (400)"


def test_lambda_invoke_is_replaced_and_keeps_the_qualifier(workmail_sandbox):
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda_simple.models import LambdaSimpleBackend

    touchpoint = "moto.awslambda_simple.models.LambdaSimpleBackend.invoke / LambdaResponse.invoke (querystring)"
    assert "invoke" in vars(LambdaSimpleBackend) and "invoke" in vars(LambdaResponse), touchpoint
    assert _moto.lambda_invoke_patched(), f"{touchpoint}: a running sandbox runs the code on lambda.invoke"
    original = _moto._LAMBDA_ORIGINALS["backend_invoke"]
    assert list(inspect.signature(original).parameters) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ], f"{touchpoint}: moto's invoke takes other parameters"
    _canary_function(workmail_sandbox, "canary-invoke")
    lam = workmail_sandbox.client("lambda")
    version = lam.publish_version(FunctionName="canary-invoke")["Version"]
    answer = lam.invoke(FunctionName="canary-invoke", Qualifier=version, Payload=b'{"a": 1}')
    assert json.loads(answer["Payload"].read()) == {"got": {"a": 1}}, f"{touchpoint}: the code ran"
    assert answer["ExecutedVersion"] == version, f"{touchpoint}: ?Qualifier= reached the backend"
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="canary-invoke", Payload=b"{not json")


def test_lambda_invoke_patch_is_undone():
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from workmail_sandbox import sandbox

    sandbox.start()
    try:
        assert _moto.lambda_invoke_patched()
    finally:
        sandbox.stop()
    assert not _moto.lambda_invoke_patched(), "LambdaSimpleBackend.invoke: stop() puts moto's own back"
    assert vars(LambdaSimpleBackend)["invoke"].__qualname__.startswith("LambdaSimpleBackend."), (
        "LambdaSimpleBackend.invoke: moto's own method is back"
    )


def test_every_touchpoint_has_a_canary_here():
    """Each adapter function that touches an internal is exercised by a test in this file."""
    from pathlib import Path

    source = Path(__file__).read_text(encoding="utf-8")
    missing = [
        f"{touchpoint} ({function})"
        for touchpoint, function in _moto.TOUCHPOINT_FUNCTIONS.items()
        if f"_moto.{function}(" not in source and f"_moto.{function}\n" not in source
    ]
    assert not missing, "touchpoints without a canary: " + ", ".join(missing)


def test_s3_buckets_and_object_versions_as_the_message_flow_emulator_reads_them(workmail_sandbox):
    s3 = workmail_sandbox.client("s3")
    s3.create_bucket(Bucket="canary-versions")
    s3.put_bucket_versioning(Bucket="canary-versions", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="canary-versions", Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket="canary-versions", Key="k", Body=b"two")
    s3.delete_object(Bucket="canary-versions", Key="k")
    bucket = _moto.find_s3_bucket("canary-versions")
    assert bucket is not None, "moto.s3.models.s3_backends.bucket_accounts / S3Backend.buckets"
    assert (bucket.account_id, bucket.region_name) == (workmail_sandbox.account_id, workmail_sandbox.region)
    versions = _moto.s3_object_versions(bucket, "k")
    assert [body for _, body in versions] == [b"one", b"two", None], "FakeBucket.keys.getlist / FakeKey"
    assert versions[0][0] == first
    assert _moto.find_s3_bucket("no-such-canary-bucket") is None


def test_role_policy_documents_inline_and_managed(workmail_sandbox):
    iam = workmail_sandbox.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="canary-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    iam.put_role_policy(RoleName="canary-role", PolicyName="inline", PolicyDocument=json.dumps(inline))
    iam.attach_role_policy(
        RoleName="canary-role", PolicyArn="arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"
    )
    documents = dict(_moto.role_policy_documents(workmail_sandbox.account_id, "aws", role["Arn"]) or [])
    assert set(documents) == {"canary-role/inline", "AmazonWorkMailMessageFlowReadOnlyAccess"}, (
        "Role.policies / managed_policies"
    )
    assert _moto.role_policy_documents(workmail_sandbox.account_id, "aws", role["Arn"] + "-gone") is None


def test_log_groups_and_directories_the_workmail_emulator_consults(workmail_sandbox):
    workmail_sandbox.client("logs").create_log_group(logGroupName="/canary/group")
    assert _moto.log_group_exists(workmail_sandbox.account_id, workmail_sandbox.region, "/canary/group")
    assert not _moto.log_group_exists(workmail_sandbox.account_id, workmail_sandbox.region, "/canary/none")
    ds = workmail_sandbox.client("ds")
    ec2 = workmail_sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{workmail_sandbox.region}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for n, zone in ((1, "a"), (2, "b"))
    ]
    directory = ds.create_directory(
        Name="corp.example.com",
        Password="Passw0rd!Passw0rd",
        Size="Small",
        VpcSettings={"VpcId": vpc, "SubnetIds": subnets},
    )["DirectoryId"]
    alias, kind = _moto.ds_directory(workmail_sandbox.account_id, workmail_sandbox.region, directory) or ("", "")
    assert (alias, kind) == (directory, "SimpleAD"), "Directory.alias / Directory.directory_type"
    assert _moto.ds_directory(workmail_sandbox.account_id, workmail_sandbox.region, "d-0000000000") is None


def test_deleting_a_bucket_policy_and_moto_stack_parameters(workmail_sandbox):
    s3 = workmail_sandbox.client("s3")
    s3.create_bucket(Bucket="canary-policy")
    s3.put_bucket_policy(
        Bucket="canary-policy",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::canary-policy/*",
                    }
                ],
            }
        ),
    )
    _moto.delete_bucket_policy(workmail_sandbox.account_id, "aws", "canary-policy")
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="canary-policy")
    _moto.delete_bucket_policy(workmail_sandbox.account_id, "aws", "no-such-canary-bucket")  # no bucket: nothing to do
    template = {"Parameters": {"Name": {"Type": "String"}}, "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}
    cfn = workmail_sandbox.client("cloudformation")
    stack_id = cfn.create_stack(
        StackName="canary-params",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Name", "ParameterValue": "x"}],
    )["StackId"]
    stack = _moto.cloudformation_stack(workmail_sandbox.account_id, workmail_sandbox.region, stack_id)
    _moto.refresh_stack_parameters(stack)
    assert stack.parameters["Name"] == "x", "ResourceMap.input_parameters / Stack.parameters"
    change_set, same_stack = _moto.create_change_set(
        workmail_sandbox.account_id,
        workmail_sandbox.region,
        stack_name="canary-params",
        change_set_name="none",
        template=json.dumps(template),
        parameters={"Name": "x"},
        description=None,
        change_set_type="UPDATE",
        notification_arns=None,
        tags={},
    )
    assert change_set.startswith("arn:aws:cloudformation:") and same_stack == stack_id


def test_a_fresh_default_session_shares_the_model_loader(workmail_sandbox):
    import boto3
    from moto.core.base_backend import AccountSpecificBackend

    _moto.fresh_default_session(workmail_sandbox.region)
    loader = boto3.DEFAULT_SESSION._session.get_component("data_loader")
    assert loader is AccountSpecificBackend.get_session()._session.get_component("data_loader"), (
        "moto.core.base_backend.AccountSpecificBackend.get_session"
    )


def test_snapshot_helpers_walk_s3_objects_and_lambda_arns(workmail_sandbox):
    s3 = workmail_sandbox.client("s3")
    s3.create_bucket(Bucket="canary-walk")
    s3.put_object(Bucket="canary-walk", Key="a", Body=b"1")
    s3.create_multipart_upload(Bucket="canary-walk", Key="b")
    account = _moto.backends("s3")[workmail_sandbox.account_id]
    models = _moto._s3_models(account)
    assert {type(m).__name__ for m in models} >= {"FakeKey", "FakeMultipart"}, "FakeBucket.keys._iterlists / multiparts"
    from moto.s3.models import FakeKey

    copies = _moto._s3_models(_moto.copy_account_backend("s3", account))
    _moto._untrack_s3_models(copies)
    assert not any(m in FakeKey.instances_tracked for m in copies), "FakeKey.instances_tracked"
    lambdas = _moto.backends("lambda_simple")[workmail_sandbox.account_id]
    _moto._relink_lambda_arns(lambdas)  # walks LambdaStorage._functions / _arns without error


def test_moto_unsupported_resource_messages_are_quieted(workmail_sandbox, caplog):
    import logging
    import warnings

    _moto.quiet_unsupported_resource_warnings(("AWS::Canary::Thing",))
    with caplog.at_level(logging.WARNING, logger="moto"):
        logging.getLogger("moto").warning(_moto._NO_SUPPORT_LOG, "AWS::Canary::Thing")
        logging.getLogger("moto").warning(_moto._NO_SUPPORT_LOG, "AWS::Other::Thing")
    assert [r.getMessage() for r in caplog.records] == ["No Moto CloudFormation support for AWS::Other::Thing"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        _moto.quiet_unsupported_resource_warnings(("AWS::Canary::Thing",))
        warnings.warn(_moto._NO_SUPPORT_WARNING.format(kind="AWS::Canary::Thing"), UserWarning, stacklevel=1)
    assert seen == [] or all("AWS::Canary::Thing" not in str(w.message) for w in seen)


def test_the_invoke_patch_calls_the_handler_it_is_given(workmail_sandbox):
    runtime_handler = _moto._LAMBDA_ORIGINALS["handler"]
    _canary_function(workmail_sandbox, "canary-patched")
    calls = []

    def handler(fn, **kwargs):
        calls.append((fn.function_name, kwargs["qualifier"]))
        return b'{"from": "canary"}'

    _moto.patch_lambda_invoke(handler)
    try:
        answer = workmail_sandbox.client("lambda").invoke(FunctionName="canary-patched", Payload=b"{}")
        assert json.loads(answer["Payload"].read()) == {"from": "canary"}
        assert calls == [("canary-patched", None)], "LambdaSimpleBackend.invoke(function_name, qualifier, ...)"
    finally:
        _moto.patch_lambda_invoke(runtime_handler)


def test_docs_moto_md_lists_every_touchpoint():
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "moto.md").read_text(encoding="utf-8")
    table = page[page.index("## 9. Touchpoints") :]
    missing = [
        name for name in _moto.TOUCHPOINTS if f"| `{name}` | `{_moto.TOUCHPOINT_FUNCTIONS[name]}` |" not in table
    ]
    assert not missing, "add these rows to docs/moto.md §9: " + ", ".join(missing)
    listed = table.count("\n| `")
    assert listed == len(_moto.TOUCHPOINTS), "docs/moto.md §9 lists touchpoints the adapter no longer has"


def test_releasing_a_snapshots_s3_objects_closes_their_files(workmail_sandbox):
    s3 = workmail_sandbox.client("s3")
    s3.create_bucket(Bucket="canary-release")
    s3.put_object(Bucket="canary-release", Key="a", Body=b"1")
    s3.create_multipart_upload(Bucket="canary-release", Key="b")
    account = _moto.backends("s3")[workmail_sandbox.account_id]
    before = _moto.kept_s3_model_count()
    models = _moto.snapshot_s3_models(_moto.copy_account_backend("s3", account, keep_for_later=True))
    assert _moto.kept_s3_model_count() == before + len(models)
    keys = [m for m in models if type(m).__name__ == "FakeKey"]
    assert keys and all(not k._value_buffer.closed for k in keys), "FakeKey._value_buffer"
    _moto.release_kept_s3_models(models)
    assert all(k._value_buffer.closed and k.disposed for k in keys), "FakeKey.dispose"
    assert _moto.kept_s3_model_count() == before


def test_client_hooks_are_read_and_put_back():
    """The runtime compares boto3's and botocore's factories before and after each invocation."""
    import boto3
    import botocore.client

    saved = _moto.client_hooks()
    assert saved["boto3.client"] is vars(boto3)["client"]
    assert saved["botocore.client.BaseClient._make_api_call"] is vars(botocore.client.BaseClient)["_make_api_call"]
    original = boto3.client
    try:
        boto3.client = lambda *a, **k: None  # type: ignore[assignment]
        assert _moto.restore_client_hooks(saved) == ["boto3.client"]
        assert boto3.client is original
        assert _moto.restore_client_hooks(saved) == []
    finally:
        boto3.client = original


def test_lambda_invoke_methods_are_read_and_put_back():
    from moto.awslambda_simple.models import LambdaSimpleBackend

    saved = _moto.lambda_invoke_methods()
    assert saved[0] is vars(LambdaSimpleBackend)["invoke"]
    try:
        LambdaSimpleBackend.invoke = lambda *a, **k: b""  # type: ignore[method-assign]
        assert _moto.restore_lambda_invoke_methods(saved) is True
        assert _moto.lambda_invoke_methods() == saved
    finally:
        LambdaSimpleBackend.invoke = saved[0]  # type: ignore[method-assign]


def test_moto_gaps_become_client_error_not_implemented():
    """moto raises NotImplementedError for an action it lacks and answers 404 'Not yet implemented'
    for a service it does not mock; the needs-retry hook turns both into ClientError NotImplemented."""
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    assert _moto.moto_gap_as_client_error(response=None, caught_exception=None, operation=None) is None
    with mock_aws():
        comprehend = boto3.client("comprehend", region_name="us-east-1")
        translate = boto3.client("translate", region_name="us-east-1")
        with pytest.raises(NotImplementedError, match="has not been implemented"):
            comprehend.detect_dominant_language(Text="hello")  # BaseResponse.call_action
        with pytest.raises(ClientError, match=r"\(404\).*Not yet implemented"):
            translate.translate_text(Text="hi", SourceLanguageCode="en", TargetLanguageCode="fr")
        for client in (comprehend, translate):
            client.meta.events.register("needs-retry", _moto.moto_gap_as_client_error)
        for call, service, operation in [
            (lambda: comprehend.detect_dominant_language(Text="hello"), "comprehend", "DetectDominantLanguage"),
            (
                lambda: translate.translate_text(Text="hi", SourceLanguageCode="en", TargetLanguageCode="fr"),
                "translate",
                "TranslateText",
            ),
        ]:
            with pytest.raises(ClientError) as info:
                call()
            error = info.value.response
            assert error["Error"]["Code"] == "NotImplemented", "BotocoreStubber / call_action changed their answer"
            assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
            assert f"{service}.{operation}" in error["Error"]["Message"]


# CloudFormation models the kit adds (deploy_project) ------------------------------------------


def test_the_kits_cloudformation_models_are_what_moto_creates():
    from workmail_sandbox.emulators.cloudformation_models import FILLED_IN_TYPES, register_models

    base = _moto.cloudformation_model_base()
    assert base.__name__ == "CloudFormationModel"
    register_models()
    _moto.register_cloudformation_models({})  # the same cached dict each call: adding nothing is harmless
    types = _moto.cloudformation_model_types()
    assert set(FILLED_IN_TYPES) <= types, "get_model_map no longer holds the kit's models"
    assert {"AWS::Lambda::Function", "AWS::IAM::Role", "AWS::S3::Bucket"} <= types
    from moto.cloudformation.parsing import resource_class_from_type

    for kind in FILLED_IN_TYPES:
        model = resource_class_from_type(kind)
        assert issubclass(model, base) and model.__module__.startswith("workmail_sandbox"), kind


def test_an_unknown_getatt_attribute_is_motos_own_error():
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    assert isinstance(_moto.unknown_attribute_error(), UnformattedGetAttTemplateException)


def test_step_functions_executes_in_the_sandbox(workmail_sandbox):
    assert _moto.step_functions_execute() is True, "the sandbox starts moto with execute_state_machine on"
    from moto.stepfunctions.responses import get_backend

    assert type(get_backend(workmail_sandbox.account_id, "us-east-1")).__name__ == "StepFunctionsParserBackend"


def test_a_layers_content_is_read_from_moto(workmail_sandbox):
    import base64
    import hashlib
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/canary_layer.py", "VALUE = 1\n")
    body = buffer.getvalue()
    arn = workmail_sandbox.client("lambda").publish_layer_version(LayerName="canary", Content={"ZipFile": body})[
        "LayerVersionArn"
    ]
    content, sha = _moto.lambda_layer_content(workmail_sandbox.account_id, "us-east-1", arn)
    assert content == body
    assert sha == base64.b64encode(hashlib.sha256(body).digest()).decode()
    with pytest.raises(Exception, match="does not exist") as info:  # moto's request error: a Lambda error answer
        _moto.lambda_layer_content(workmail_sandbox.account_id, "us-east-1", arn[:-1] + "9")
    assert info.value.error_type == "ResourceNotFoundException"


def test_a_before_call_wildcard_handler_answers_ahead_of_the_emulators_and_moto(workmail_sandbox):
    """Stand-ins: botocore asks ``before-call.*.*`` before ``before-call.<service>`` (the emulators) and
    before sending (moto), and a non-None ``(http, parsed)`` answer replaces the request."""
    import io

    import boto3
    from botocore.awsrequest import AWSResponse

    touchpoint = "botocore.client.BaseClient._make_api_call: before-parameter-build.*.* / before-call.*.*"
    seen = []

    def keep(params, model, context, **_):
        context["canary-params"] = dict(params)

    def answer(model, params, context, **_):
        if model.name not in ("ListOrganizations", "GetCallerIdentity"):
            return None
        seen.append((model.service_model.service_name, model.name, context.get("canary-params")))
        parsed = {
            "OrganizationSummaries": [{"OrganizationId": "m-canary"}],
            "Account": "000000000000",
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return AWSResponse("", 200, {}, io.BytesIO(b"")), parsed

    _moto.register_stand_in_hooks(keep, answer)  # taken out again at stop with the kit's other handlers
    session = boto3.session.Session(region_name=workmail_sandbox.region)  # made after: it copies the handlers
    listed = session.client("workmail").list_organizations(MaxResults=5)["OrganizationSummaries"]
    assert listed == [{"OrganizationId": "m-canary"}], f"{touchpoint}: the emulator answered first"
    assert session.client("sts").get_caller_identity()["Account"] == "000000000000", f"{touchpoint}: moto answered"
    assert seen == [("workmail", "ListOrganizations", {"MaxResults": 5}), ("sts", "GetCallerIdentity", {})], (
        f"{touchpoint}: before-parameter-build.*.* saw the caller's parameters"
    )


# The local endpoint's wire format ------------------------------------------------------------------


def test_a_wire_request_is_read_as_its_operation_and_parameters():
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        method="POST", path="/2015-03-31/functions/my%2Dfn/invocations", query_string="Qualifier=live",
        data=b'{"a": 1}', headers={"X-Amz-Invocation-Type": "Event"},
    ).get_environ()  # fmt: skip
    operation, params, protocol = _moto.parse_wire_request("lambda", environ)
    assert (operation, protocol) == ("Invoke", "rest-json")
    assert params == {"FunctionName": "my-fn", "Qualifier": "live", "InvocationType": "Event", "Payload": b'{"a": 1}'}
    workmail = EnvironBuilder(
        method="POST", path="/", data=b'{"OrganizationId": "m-1"}',
        headers={"X-Amz-Target": "WorkMailService.DescribeOrganization", "Content-Type": "application/x-amz-json-1.1"},
    ).get_environ()  # fmt: skip
    assert _moto.parse_wire_request("workmail", workmail) == (
        "DescribeOrganization", {"OrganizationId": "m-1"}, "json"
    )
    nowhere = EnvironBuilder(method="GET", path="/no/such/route").get_environ()
    assert _moto.parse_wire_request("lambda", nowhere) is None


def test_a_result_and_an_error_are_written_in_the_services_wire_format():
    status, headers, body = _moto.serialize_wire_response(
        "workmail", "DescribeOrganization", "json", {"OrganizationId": "m-1", "State": "Active"}
    )
    assert status == 200 and json.loads(body) == {"OrganizationId": "m-1", "State": "Active"}

    class Refused(Exception):
        code = "OrganizationNotFoundException"
        message = "no such organization"

    status, headers, body = _moto.serialize_wire_response("workmail", "DescribeOrganization", "json", Refused())
    assert status == 400 and json.loads(body)["__type"].endswith("OrganizationNotFoundException")
    assert "no such organization" in body.decode()
    status, headers, body = _moto.serialize_wire_response(
        "s3", "GetObject", "rest-xml", {"Body": b"abc", "ContentType": "text/plain", "ContentLength": 3}
    )
    assert body == b"abc" and headers["Content-Type"] == "text/plain"


def test_lasting_handlers_stay_in_botocore_across_sandboxes():
    """register_lasting_handler: SES receiving's hooks are in BUILTIN_HANDLERS whether a sandbox runs or not."""
    from botocore.handlers import BUILTIN_HANDLERS

    from workmail_sandbox.ses import _hooks

    _hooks.install()
    _moto.register_lasting_handler("before-call.ses.SendBounce", _hooks._send_bounce)  # idempotent
    assert BUILTIN_HANDLERS.count(("before-call.ses.SendBounce", _hooks._send_bounce)) == 1
    assert ("before-call.ses.SendBounce", _hooks._send_bounce) not in _moto.registered_builtin_handlers()


def test_ses_checks_a_lambda_action_in_the_sandboxs_lambda_backend(workmail_sandbox):
    """moto.ses.models.SESBackend._validate_lambda_action: a receipt rule may name a function the sandbox deployed."""
    from moto.ses import models

    _moto.fix_ses_lambda_action_check()
    assert getattr(models.SESBackend, "_workmail_sandbox_lambda_check", False)
    ses = workmail_sandbox.client("ses")
    ses.create_receipt_rule_set(RuleSetName="canary")
    arn = f"arn:aws:lambda:{workmail_sandbox.region}:{workmail_sandbox.account_id}:function:absent"
    with pytest.raises(ses.exceptions.InvalidLambdaFunctionException, match="Invalid Lambda function"):
        ses.create_receipt_rule(RuleSetName="canary", Rule={"Name": "r", "Actions": [
            {"LambdaAction": {"FunctionArn": arn}}]})


def test_new_sessions_and_moto_share_loaders_while_the_sandbox_runs(workmail_sandbox):
    """botocore.session.create_loader / moto.core.utils.create_loader / Loader._search_paths."""
    import boto3
    import botocore.session
    from moto.core import utils as moto_utils

    assert _moto.share_loader_with_new_sessions(), "botocore.session.create_loader"
    loader = botocore.session.Session().get_component("data_loader")
    assert loader is botocore.session.Session().get_component("data_loader")
    for _ in range(3):  # each boto3 session appends boto3's data folder to its loader's paths
        boto3.session.Session(region_name=workmail_sandbox.region)
    assert len(loader.search_paths) == len(set(loader.search_paths)), "botocore.loaders.Loader._search_paths"
    moto_loader = moto_utils.create_loader()
    assert moto_loader is moto_utils.create_loader(), "moto.core.utils.create_loader"
    assert type(moto_loader).__module__ == "moto.core.loaders", "moto keeps its own kind of loader (model extras)"


def test_sessions_made_after_stop_get_loaders_of_their_own():
    import botocore.session
    from moto.core import utils as moto_utils

    from workmail_sandbox import sandbox

    sandbox.start()
    sandbox.stop()
    assert not _moto.share_loader_with_new_sessions(False)
    first = botocore.session.Session().get_component("data_loader")
    assert first is not botocore.session.Session().get_component("data_loader")
    assert moto_utils.create_loader() is not moto_utils.create_loader()


def test_bundled_managed_policies_decoded_one_at_a_time_equal_the_whole_text():
    """moto.iam.aws_managed_policies.aws_managed_policies_data: one top-level key per line, as read by name."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    whole = json.loads(aws_managed_policies_data)
    bundled = _moto.bundled_aws_managed_policies()
    names = sorted(whole)[::97] + ["AWSLambdaBasicExecutionRole", "AmazonWorkMailMessageFlowReadOnlyAccess"]
    fresh = type(bundled)(aws_managed_policies_data)  # nothing decoded yet: each name is found in the text
    assert all(fresh[name] == whole[name] for name in names)
    assert "NoSuchPolicy" not in fresh and fresh.get("NoSuchPolicy") is None
    assert len(fresh) == len(whole) and set(fresh) == set(whole)
    compact = type(bundled)(json.dumps(whole, separators=(",", ":")))  # laid out otherwise: decoded whole
    assert compact["AWSLambdaBasicExecutionRole"] == whole["AWSLambdaBasicExecutionRole"]


def test_moto_routers_compile_url_builders_on_first_use(workmail_sandbox):
    """moto.core.routing._create_map / werkzeug.routing.rules.Rule._compile_builder."""
    from moto.core import routing
    from werkzeug.routing import Rule

    assert _moto.lazy_router_builders(), "moto.core.routing._create_map"
    assert callable(Rule.__dict__["_compile_builder"]), "werkzeug.routing.rules.Rule._compile_builder"
    rules = [Rule("/2015-03-31/functions/<name>/invocations", endpoint="Invoke", methods=["POST"])]
    lazy = routing._create_map(rules).bind("lambda.us-east-1.amazonaws.com")
    eager = _moto._ORIGINAL_CREATE_MAP[0](
        [Rule("/2015-03-31/functions/<name>/invocations", endpoint="Invoke", methods=["POST"])]
    ).bind("lambda.us-east-1.amazonaws.com")
    assert "lazy" not in Rule._compile_builder.__qualname__, "werkzeug's own builder is back after the map is made"
    path = "/2015-03-31/functions/fn/invocations"
    assert lazy.match(path, method="POST") == eager.match(path, method="POST") == ("Invoke", {"name": "fn"})
    assert lazy.build("Invoke", {"name": "fn"}, method="POST") == eager.build("Invoke", {"name": "fn"}, method="POST")
    lam = workmail_sandbox.client("lambda")  # moto's own router for Lambda, built through the kit's _create_map
    assert lam.list_functions()["Functions"] == []
