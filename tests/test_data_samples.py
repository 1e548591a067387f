"""The sample events and responses in data/ say what their manifests say.

* ``data/events/manifest.json``: ``{"file", "valid", "strict" (default true), "field" (invalid
  files: the field the EventError names), "why"}``. Rules: AWS docs, "Configuring AWS Lambda for
  Amazon WorkMail", *Lambda event data*.
* ``data/responses/manifest.json``: ``{"file", "direction", "recipients", "org_domains",
  "fallback", "valid", "decisions", "why"}``. Rules: the same page, *Synchronous Run Lambda
  response schema*, *limits* and *failures*.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workmail_sandbox.errors import EventError
from workmail_sandbox.events import PAYLOAD_LIMIT_BYTES, WorkMailEvent
from workmail_sandbox.responses import resolve_response

DATA = Path(__file__).resolve().parent.parent / "data"
EVENTS = DATA / "events"
RESPONSES = DATA / "responses"
NOT_SAMPLES = {"manifest.json", "README.md"}


def _manifest(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _entries(folder: Path) -> list:
    if not (folder / "manifest.json").exists():
        return []
    return [pytest.param(entry, id=entry["file"]) for entry in _manifest(folder)]


def _compact_size(data) -> int:
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# ------------------------------------------------------------------- bookkeeping


@pytest.mark.parametrize("folder", [EVENTS, RESPONSES], ids=["events", "responses"])
def test_every_file_is_in_the_manifest_and_every_entry_is_a_file(folder):
    """Kit convention: each sample file has exactly one manifest entry, and the README lists it."""
    files = {p.name for p in folder.iterdir() if p.is_file() and p.name not in NOT_SAMPLES}
    entries = [e["file"] for e in _manifest(folder)]
    assert len(entries) == len(set(entries)), "duplicate manifest entries"
    assert set(entries) == files
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(files) if f"`{name}`" not in readme] == []


@pytest.mark.parametrize("folder", [EVENTS, RESPONSES], ids=["events", "responses"])
def test_file_names_say_whether_the_sample_is_valid(folder):
    """Kit convention: valid-*.json / invalid-*.json, matching the manifest's "valid"; each entry says why."""
    for entry in _manifest(folder):
        assert entry["file"].endswith(".json")
        assert entry["file"].startswith("valid-" if entry["valid"] else "invalid-"), entry["file"]
        assert entry["why"].strip()


def test_samples_use_example_domains_only():
    """Kit convention: samples are our own and use reserved example domains only (RFC 2606/6761)."""
    allowed = ("example.com", "example.net", "example.org", "domain.test")
    for folder in (EVENTS, RESPONSES):
        for path in folder.glob("*.json"):
            text = path.read_text(encoding="utf-8")
            for domain in {m.split("@", 1)[1] for m in _addresses(text)}:
                assert domain.lower().endswith(allowed), (path.name, domain)


def _addresses(text: str) -> set[str]:
    import re

    return set(re.findall(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+[A-Za-z]", text))


# ------------------------------------------------------------------------ events


@pytest.mark.parametrize("entry", _entries(EVENTS))
def test_event_sample_validates_as_the_manifest_says(entry):
    """AWS docs, Lambda event data: each valid sample passes (strictly unless the manifest says
    strict=false); each invalid one raises EventError naming the manifest's field."""
    text = (EVENTS / entry["file"]).read_bytes()
    strict = entry.get("strict", True)
    if entry["valid"]:
        assert "field" not in entry
        event = WorkMailEvent.from_json(text, strict=strict)
        assert event == json.loads(text)
    else:
        with pytest.raises(EventError) as info:
            WorkMailEvent.from_json(text, strict=strict)
        assert info.value.field == entry["field"]


@pytest.mark.parametrize("entry", [e for e in _entries(EVENTS) if e.values[0].get("strict", True) is False])
def test_non_strict_event_samples_fail_strict_checking(entry):
    """AWS docs history / Lambda event data: the samples marked strict=false (pre-2020 format,
    undocumented field) are exactly the ones strict checking refuses."""
    if not entry["valid"]:
        pytest.skip("only valid non-strict samples")
    with pytest.raises(EventError):
        WorkMailEvent.from_json((EVENTS / entry["file"]).read_bytes(), strict=True)


def test_truncated_event_samples_were_really_cut_near_128_kb():
    """AWS docs, Lambda event data: truncated=true means the payload exceeded 128 KB and the
    recipient list was cut to fit; a truncated sample is within 128 KB but too full for one more
    recipient of the kind it lists."""
    found = 0
    for entry in _manifest(EVENTS):
        if not entry["valid"]:
            continue
        data = json.loads((EVENTS / entry["file"]).read_text(encoding="utf-8"))
        if data.get("truncated") is not True:
            continue
        found += 1
        size = _compact_size(data)
        longest = max(_compact_size(r) for r in data["envelope"]["recipients"])
        assert size <= PAYLOAD_LIMIT_BYTES < size + longest + 1, entry["file"]
    assert found >= 1


def test_event_subjects_respect_256_characters():
    """AWS docs, Lambda event data: the valid samples' subjects are at most 256 characters, and
    the long-subject sample is cut exactly at 256."""
    for entry in _manifest(EVENTS):
        if not entry["valid"]:
            continue
        data = json.loads((EVENTS / entry["file"]).read_text(encoding="utf-8"))
        assert len(data["subject"]) <= 256
        if "long-subject" in entry["file"]:
            assert len(data["subject"]) == 256


# --------------------------------------------------------------------- responses


@pytest.mark.parametrize("entry", _entries(RESPONSES))
def test_response_sample_resolves_as_the_manifest_says(entry):
    """AWS docs, response schema, limits and failures: each response resolves to exactly the
    manifest's validity and per-recipient actions (an invalid one gives everyone the fallback)."""
    data = json.loads((RESPONSES / entry["file"]).read_text(encoding="utf-8"))
    result = resolve_response(
        data,
        direction=entry["direction"],
        recipients=entry["recipients"],
        org_domains=entry["org_domains"],
        fallback=entry.get("fallback", "DEFAULT"),
    )
    assert result.valid is entry["valid"], result.report()
    assert {r: d.action for r, d in result.decisions.items()} == entry["decisions"]
    if not entry["valid"]:
        assert result.errors
        assert set(entry["decisions"].values()) == {entry.get("fallback", "DEFAULT")}
        assert set(entry["decisions"]) == set(entry["recipients"])
