"""The on-disk cache of SAM transforms (workmail_sandbox/sam/transform.py): a hit is what a transform gives."""

from __future__ import annotations

import json
import sys
import threading

import pytest

from workmail_sandbox.apps import get_app
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.sam import transform
from workmail_sandbox.sam.transform import transform_cache_dir, transform_template

CODE = {"WorkMailHelloWorldFunction": {"Bucket": "b", "Key": "k.zip"}}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKMAIL_SANDBOX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "sam-transform"


def _hello(**kwargs):
    arguments = {"region": "us-east-1", "account": "123456789012", "code_locations": CODE, **kwargs}
    return transform_template(get_app("hello_world").template(), **arguments)


def test_the_cache_lives_under_the_kits_cache_root(cache):
    assert transform_cache_dir() == cache


def test_a_cached_transform_equals_a_fresh_one_and_needs_no_samtranslator(cache, monkeypatch):
    fresh = _hello(cache=False)
    assert not cache.exists(), "cache=False neither reads nor writes"
    first = _hello()
    (entry,) = cache.glob("*.json")
    assert json.loads(entry.read_text())["template"] == fresh == first
    # a hit returns before samtranslator is imported: make that import fail
    monkeypatch.setitem(sys.modules, "samtranslator.translator.translator", None)
    hit = _hello()
    assert hit == fresh
    hit["Resources"].clear()  # each hit is a new copy: changing it changes neither the cache nor the next hit
    assert _hello() == fresh


def test_every_input_is_part_of_the_key(cache):
    _hello()
    _hello(region="eu-west-1")
    _hello(parameter_values={"UpdateMessage": "true"})  # the template's one parameter
    _hello(code_locations={"WorkMailHelloWorldFunction": {"Bucket": "b", "Key": "other.zip"}})
    assert len(list(cache.glob("*.json"))) == 4
    assert _hello(region="eu-west-1") == _hello(region="eu-west-1", cache=False)


def test_a_damaged_entry_is_transformed_again_and_replaced(cache):
    fresh = _hello(cache=False)
    _hello()
    (entry,) = cache.glob("*.json")
    for damage in ('{"key": "x", "templ', json.dumps({"key": "another", "template": {}}), "\x00"):
        entry.write_text(damage)
        assert _hello() == fresh
        assert json.loads(entry.read_text())["template"] == fresh


def test_kernels_writing_at_once_leave_whole_entries_only(cache):
    fresh = _hello(cache=False)
    results, errors = [], []

    def one():
        try:
            results.append(_hello())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and results == [fresh] * 6
    assert sorted(p.suffix for p in cache.iterdir()) == [".deps", ".json"], "no temporary file is left behind"


def test_the_folder_keeps_the_most_recent_entries(cache, monkeypatch):
    monkeypatch.setattr(transform, "TRANSFORM_CACHE_ENTRIES", 2)
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        _hello(region=region)
    assert len(list(cache.glob("*.json"))) == 2


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WORKMAIL_SANDBOX_CACHE", str(blocker))
    assert _hello() == _hello(cache=False)


def test_a_refused_template_is_not_cached(cache):
    template = get_app("hello_world").template()
    template["Resources"]["WorkMailHelloWorldFunction"]["Properties"]["Events"] = {"E": {"Type": "NoSuchSource"}}
    with pytest.raises(SandboxError, match="The SAM transform refused the template"):
        transform_template(template, region="us-east-1", account="123456789012", code_locations=CODE)
    assert not cache.exists() or not list(cache.glob("*.json"))
