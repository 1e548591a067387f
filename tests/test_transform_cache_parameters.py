"""The SAM transform cache across parameter values (workmail_sandbox/sam/transform.py).

An entry is keyed by the values of the parameters samtranslator *read* while transforming; a
transform with other values for parameters it left to CloudFormation is a hit. Each test checks
a cached answer against a transform without the cache.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from workmail_sandbox.apps import get_app
from workmail_sandbox.sam import transform
from workmail_sandbox.sam.templates import load_template
from workmail_sandbox.sam.transform import CODE_PROPERTY, is_packaged, transform_template

ROOT = Path(__file__).resolve().parent.parent
ORG_A = "m-" + "a" * 32
ORG_B = "m-" + "b" * 32


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKMAIL_SANDBOX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "sam-transform"


def _no_samtranslator(monkeypatch):
    """From here on a transform that is not a cache hit fails (its import is refused)."""
    monkeypatch.setitem(sys.modules, "samtranslator.translator.translator", None)


def _run(template: dict[str, Any], parameters: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return transform_template(
        template, region="us-east-1", account="123456789012", parameter_values=parameters, **kwargs
    )


def _function(properties: dict[str, Any], parameters: tuple[str, ...]) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": {name: {"Type": "String"} for name in parameters},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Handler": "app.handler", "Runtime": "python3.12", "CodeUri": "s3://b/k.zip",
                               **properties},
            }
        },
    }


def _example_template() -> dict[str, Any]:
    return load_template((ROOT / "examples" / "my_workmail_function" / "template.yaml").read_text())


EXAMPLE_CODE = {"TagExternalFunction": {"Bucket": "b", "Key": "k.zip"}}


def test_a_new_organization_id_hits_the_entry_lesson_08_wrote(cache, monkeypatch):
    """OrganizationId is only in !Sub and !Ref, which samtranslator leaves to CloudFormation."""
    first = _run(_example_template(), {"OrganizationId": ORG_A}, code_locations=EXAMPLE_CODE)
    expected = _run(_example_template(), {"OrganizationId": ORG_B}, code_locations=EXAMPLE_CODE, cache=False)
    assert first == expected, "the output does not hold the organization id: CloudFormation resolves it"
    _no_samtranslator(monkeypatch)
    assert _run(_example_template(), {"OrganizationId": ORG_B}, code_locations=EXAMPLE_CODE) == expected
    assert len(list(cache.glob("*.json"))) == 1


@pytest.mark.parametrize(
    ("properties", "name", "values"),
    [
        # samtranslator resolves AutoPublishAlias (the alias's name) ...
        ({"AutoPublishAlias": {"Ref": "Alias"}}, "Alias", ("live", "prod")),
        # ... and a CodeUri holding a Ref when it publishes versions (the version's logical id hashes the code).
        ({"CodeUri": {"Bucket": {"Ref": "Bucket"}, "Key": "k.zip"}, "AutoPublishAlias": "live"}, "Bucket",
         ("bucket-a", "bucket-b")),
    ],
)
def test_a_parameter_samtranslator_resolves_keys_its_own_entries(cache, monkeypatch, properties, name, values):
    template = _function(properties, (name,))
    results = [_run(template, {name: value}) for value in values]
    assert results == [_run(template, {name: value}, cache=False) for value in values]
    assert results[0] != results[1]
    assert len(list(cache.glob("*.json"))) == 2
    _no_samtranslator(monkeypatch)
    assert [_run(template, {name: value}) for value in values] == results  # now both are hits
    with pytest.raises(ImportError):  # a third value is not in the cache: it needs samtranslator
        _run(template, {name: "a-third-value"})


@pytest.mark.parametrize(
    ("properties", "name"),
    [
        ({"Environment": {"Variables": {"SETTING": {"Ref": "Value"}}}}, "Value"),
        ({"Layers": [{"Ref": "Value"}]}, "Value"),
        ({"Policies": [{"S3ReadPolicy": {"BucketName": {"Ref": "Value"}}}]}, "Value"),
        ({"MemorySize": {"Ref": "Value"}}, "Value"),
    ],
)
def test_a_parameter_left_to_cloudformation_shares_one_entry(cache, monkeypatch, properties, name):
    template = _function(properties, (name,))
    first = _run(template, {name: "value-one"})
    other = {name: "value-two"}
    expected = _run(template, other, cache=False)
    assert first == expected and {"Ref": name} in _values(expected)
    _no_samtranslator(monkeypatch)
    assert _run(template, other) == expected


def _values(value: Any) -> list[Any]:
    """Every dict and list inside ``value`` (to find a Ref left in the output)."""
    found = [value]
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children:
        found.extend(_values(child))
    return found


def test_a_parameter_given_or_not_is_part_of_the_key(cache):
    template = _function({"AutoPublishAlias": {"Ref": "Alias"}}, ("Alias",))
    template["Parameters"]["Alias"]["Default"] = "live"
    assert _run(template, {}) == _run(template, {}, cache=False)
    assert _run(template, {"Alias": "prod"}) == _run(template, {"Alias": "prod"}, cache=False)
    assert _run(template, {}) != _run(template, {"Alias": "prod"})


def test_an_index_remembers_several_sets_of_read_names(cache):
    """Entries written by runs that read different names are all found again, each by its own values."""
    index = "0" * 64
    transform._write_cached_for(index, {"Alias": "live", "Other": "x"}, ["Alias"], {"a": 1})
    transform._write_cached_for(index, {"Alias": "live", "Other": "x"}, ["Alias", "Other"], {"b": 2})
    assert transform._read_index(index) == [["Alias", "Other"], ["Alias"]]
    assert transform._read_cached_for(index, {"Alias": "live", "Other": "x"}) == {"b": 2}
    assert transform._read_cached_for(index, {"Alias": "live", "Other": "y"}) == {"a": 1}
    assert transform._read_cached_for(index, {"Alias": "prod", "Other": "x"}) is None


def test_every_template_of_the_kit_transforms_the_same_with_the_read_log(cache):
    """The tracked parameter dict changes nothing samtranslator produces (kit apps and examples)."""
    paths = sorted(ROOT.glob("examples/**/template.yaml")) + [get_app("hello_world").template_path]
    assert len(paths) >= 9
    for path in paths:
        template = load_template(path.read_text())
        code = {}
        parameters = {}
        for logical_id, resource in template.get("Resources", {}).items():
            kind = resource.get("Type")
            value = (resource.get("Properties") or {}).get(CODE_PROPERTY.get(kind, ""))
            if kind in CODE_PROPERTY and value is not None and not is_packaged(kind, value):
                code[logical_id] = {"Bucket": "b", "Key": f"{logical_id}.zip"}
        for name, spec in (template.get("Parameters") or {}).items():
            if "Default" not in spec:
                parameters[name] = ORG_A if name == "OrganizationId" else "value"
        plain = _run(copy.deepcopy(template), parameters, code_locations=code, cache=False)
        tracked = _run(copy.deepcopy(template), parameters, code_locations=code)
        assert tracked == plain, path
        assert _run(copy.deepcopy(template), parameters, code_locations=code) == plain, path  # the hit
        for name in parameters:  # another value for each parameter: the cache answers what the transform gives
            changed = {**parameters, name: ORG_B if name == "OrganizationId" else "othervalue"}
            fresh = _run(copy.deepcopy(template), changed, code_locations=code, cache=False)
            assert _run(copy.deepcopy(template), changed, code_locations=code) == fresh, (path, name)


def test_the_read_log_sees_every_way_a_value_leaves_the_dict():
    def log_of(use) -> tuple[list[str], bool]:
        log = transform._ReadLog()
        use(transform._TrackedParameters({"A": "1", "B": "2"}, log))
        return sorted(log.names), log.everything

    def call(**kwargs: Any) -> Any:
        return kwargs

    assert log_of(lambda d: d["A"]) == (["A"], False)
    assert log_of(lambda d: d.get("B")) == (["B"], False)
    assert log_of(lambda d: d.setdefault("A", "0")) == (["A"], False)
    assert log_of(lambda d: d.pop("A")) == (["A"], False)
    assert log_of(lambda d: copy.deepcopy(d)["A"]) == (["A"], False)
    assert log_of(lambda d: copy.copy(d).copy()["B"]) == (["B"], False)
    for whole in (
        lambda d: list(d.items()),
        lambda d: list(d.values()),
        lambda d: dict(d),
        lambda d: {**d},
        lambda d: call(**d),
        lambda d: json.dumps(d),
    ):
        assert log_of(whole)[0] == ["A", "B"]
    for everything in (repr, str, lambda d: d == {}, lambda d: d | {}, lambda d: {} | d, lambda d: d.__reduce_ex__(2)):
        assert log_of(everything) == (["A", "B"], True)
    for names_only in (lambda d: "A" in d, len, list, lambda d: sorted(d.keys()), lambda d: d.keys() - {"A"}):
        assert log_of(names_only) == ([], False)
    assert not hasattr(transform._TrackedParameters({}, transform._ReadLog()).keys(), "mapping")


def test_an_output_holding_the_parameters_themselves_is_not_cached():
    tracked = transform._TrackedParameters({"A": "1"}, transform._ReadLog())
    assert transform._holds_tracked({"Resources": {"R": {"Properties": [tracked]}}})
    assert not transform._holds_tracked({"Resources": {"R": {"Properties": [{"A": "1"}]}}})


def test_a_template_samtranslator_refuses_gets_the_plain_transforms_error(cache):
    template = _function({"Events": {"E": {"Type": "NoSuchSource"}}}, ())
    with pytest.raises(transform.SandboxError, match="The SAM transform refused the template"):
        _run(template, {})
    assert not list(cache.glob("*.json"))
