"""Tests of ``workmail_sandbox.events`` against the documented facts.

Every test names the fact it checks and where the fact comes from:

* "AWS docs, Lambda event data": "Configuring AWS Lambda for Amazon WorkMail",
  section *Lambda event data* (https://docs.aws.amazon.com/workmail/latest/adminguide/lambda.html#lambda-data;
  the archived source text is awsdocs/amazon-workmail-administration-guide
  ``doc_source/lambda.md``). Facts sheet section 2.3.
* "AWS docs history": the same page at older commits (facts sheet 2.3, 2.6).
* "Message Flow API model": botocore ``workmailmessageflow`` 2019-05-01, the
  ``messageId`` shape (length 1-120, pattern ``[a-z0-9\\-]*``). Facts sheet 6.1.
* "hello-world template": aws-samples/amazon-workmail-lambda-templates,
  ``workmail-hello-world-python`` (docstring and ``tst/event.json``).
* "SAM CLI": ``sam local generate-event workmail email``
  (aws/aws-sam-cli ``samcli/lib/generated_sample_events/events/workmail/WorkMail.json``).
* "Kit choice": an assumption the module documents where AWS is silent
  (the events package docstrings); tested so that it stays as documented.
"""

from __future__ import annotations

import base64
import copy
import inspect
import json
import re
import uuid

import pytest

from workmail_sandbox import events as events_module
from workmail_sandbox.errors import EventError, WorkMailSandboxError
from workmail_sandbox.events import (
    DEFAULT_SUMMARY_VERSION,
    PAYLOAD_LIMIT_BYTES,
    SUBJECT_LIMIT_CHARS,
    Envelope,
    SmtpEnvelope,
    WorkMailEvent,
    build_event,
    check_event,
    events_from_message,
    normalize_direction,
    payload_size,
    serialize_event,
)

# ----------------------------------------------------------------------------- samples

#: The example event of the current AWS doc (lambda.md, Lambda event data), verbatim.
AWS_DOC_EVENT = {
    "summaryVersion": "2018-10-10",
    "envelope": {
        "mailFrom": {"address": "from@example.com"},
        "recipients": [{"address": "recipient1@example.com"}, {"address": "recipient2@example.com"}],
    },
    "sender": {"address": "sender@example.com"},
    "subject": "Hello From Amazon WorkMail!",
    "messageId": "00000000-0000-0000-0000-000000000000",
    "invocationId": "00000000000000000000000000000000",
    "flowDirection": "INBOUND",
    "truncated": False,
}

#: The hello-world template's ``tst/event.json`` shape: 2019-07-28, 40-character
#: invocationId, OUTBOUND.
HELLO_WORLD_EVENT = {
    "summaryVersion": "2019-07-28",
    "envelope": {
        "mailFrom": {"address": "from@example.com"},
        "recipients": [{"address": "recipient1@example.com"}, {"address": "recipient2@example.com"}],
    },
    "sender": {"address": "sender@example.com"},
    "subject": "Hello From Amazon WorkMail!",
    "messageId": "00000000-0000-0000-0000-000000000000",
    "invocationId": "0000000000000000000000000000000000000000",
    "flowDirection": "OUTBOUND",
    "truncated": False,
}

#: ``sam local generate-event workmail email`` (placeholders filled in).
SAM_CLI_EVENT = {
    "summaryVersion": "2018-10-10",
    "envelope": {
        "mailFrom": {"address": "from@example.com"},
        "recipients": [{"address": "recipient1@example.com"}, {"address": "recipient2@example.com"}],
    },
    "sender": {"address": "sender@example.com"},
    "subject": "Hello From Amazon WorkMail!",
    "messageId": "00000000-0000-0000-0000-000000000000",
    "invocationId": "00000000000000000000000000000000",
    "flowDirection": "INBOUND",
    "truncated": False,
}

#: The event of the November 2018 doc (GH-OLD 6e8549d): no messageId,
#: invocationId or flowDirection yet.
PRE_2020_EVENT = {
    "summaryVersion": "2018-10-10",
    "envelope": {
        "mailFrom": {"address": "from@domain.test"},
        "recipients": [{"address": "recipient1@domain.test"}, {"address": "recipient2@domain.test"}],
    },
    "sender": {"address": "sender@domain.test"},
    "subject": "Hello From Amazon WorkMail!",
    "truncated": False,
}

MESSAGE_ID_RE = re.compile(r"[a-z0-9-]{1,120}")
ORG = ["example.com", "sales.example.com"]


def compact_size(data) -> int:
    """The size of ``data`` as compact UTF-8 JSON, computed without the module."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def full_event(
    *,
    mail_from: str,
    recipients: list[str],
    subject: str,
    message_id: str,
    invocation_id: str,
    sender: str | None = None,
    direction: str = "INBOUND",
    summary_version: str = "2018-10-10",
) -> dict:
    """The untruncated event, built independently of the module."""
    event = {
        "summaryVersion": summary_version,
        "envelope": {"mailFrom": {"address": mail_from}, "recipients": [{"address": r} for r in recipients]},
        "subject": subject,
        "messageId": message_id,
        "invocationId": invocation_id,
        "flowDirection": direction,
        "truncated": False,
    }
    if sender is not None:
        event["sender"] = {"address": sender}
    return event


def entry_size(address: str) -> int:
    return compact_size({"address": address})


# --------------------------------------------------------------- accessors and views


def test_accessors_read_every_documented_field_of_the_aws_doc_example():
    """AWS docs, Lambda event data: the example event's fields (summaryVersion, envelope.mailFrom,
    envelope.recipients, sender, subject, messageId, invocationId, flowDirection, truncated)
    are all readable through typed accessors."""
    event = WorkMailEvent.from_dict(AWS_DOC_EVENT)
    assert event.summary_version == "2018-10-10"
    assert isinstance(event.envelope, Envelope)
    assert event.envelope.mail_from == "from@example.com"
    assert event.envelope.recipients == ["recipient1@example.com", "recipient2@example.com"]
    assert event.sender == "sender@example.com"
    assert event.subject == "Hello From Amazon WorkMail!"
    assert event.message_id == "00000000-0000-0000-0000-000000000000"
    assert event.invocation_id == "00000000000000000000000000000000"
    assert event.flow_direction == "INBOUND"
    assert event.truncated is False


def test_event_still_behaves_as_the_raw_dict():
    """Kit choice (events package docstring, Powertools style): the typed event is still the raw
    mapping WorkMail sends, so handler code written for the dict keeps working."""
    event = WorkMailEvent.from_dict(AWS_DOC_EVENT)
    assert event["envelope"]["mailFrom"]["address"] == "from@example.com"
    assert event["envelope"]["recipients"][1]["address"] == "recipient2@example.com"
    assert dict(event) == AWS_DOC_EVENT
    assert json.loads(json.dumps(dict(event))) == AWS_DOC_EVENT
    assert event == AWS_DOC_EVENT
    assert event == AWS_DOC_EVENT
    assert event == WorkMailEvent(copy.deepcopy(AWS_DOC_EVENT))
    assert event != {**AWS_DOC_EVENT, "subject": "other"}
    assert set(event) == set(AWS_DOC_EVENT)
    assert len(event) == len(AWS_DOC_EVENT)
    assert "messageId" in event
    assert event.get("nope") is None
    assert event.raw == AWS_DOC_EVENT
    assert event.raw_event is event.raw
    assert event.envelope["mailFrom"] == {"address": "from@example.com"}
    assert dict(event.envelope) == AWS_DOC_EVENT["envelope"]
    assert event.size == compact_size(AWS_DOC_EVENT)
    with pytest.raises(TypeError):
        event["subject"] = "changed"  # type: ignore[index]
    assert "WorkMailEvent(" in repr(event)


def test_sender_accessor_is_none_when_not_sent_on_behalf():
    """AWS docs, Lambda event data: sender "is set only when an email message is sent on
    behalf of another user"; without it the accessor gives None."""
    raw = copy.deepcopy(AWS_DOC_EVENT)
    del raw["sender"]
    event = WorkMailEvent.from_dict(raw)
    assert event.sender is None
    assert "sender" not in event


@pytest.mark.parametrize("cls", [WorkMailEvent, Envelope])
def test_every_property_has_a_docstring(cls):
    """Kit convention (brief): every accessor documents the WorkMail field it reads, so help()
    in a notebook explains the event."""
    props = {name: obj for name, obj in inspect.getmembers(cls) if isinstance(obj, property)}
    assert props, cls
    missing = [name for name, obj in props.items() if not (obj.__doc__ or "").strip()]
    assert missing == []


def test_accessor_docstrings_carry_the_documented_meaning():
    """AWS docs, Lambda event data: the accessor docstrings repeat the documented meaning
    (subject 256 characters, truncated is about payload size 128 KB, invocationId same across retries)."""
    assert "256" in WorkMailEvent.subject.__doc__
    assert "128 KB" in WorkMailEvent.truncated.__doc__
    assert "not the subject" in WorkMailEvent.truncated.__doc__
    assert "retr" in WorkMailEvent.invocation_id.__doc__
    assert "behalf" in WorkMailEvent.sender.__doc__
    assert "behalf" in Envelope.mail_from.__doc__
    assert "BCC" in Envelope.recipients.__doc__


# -------------------------------------------------------------------- summary versions


@pytest.mark.parametrize(
    "raw, version, direction, invocation_len",
    [
        pytest.param(AWS_DOC_EVENT, "2018-10-10", "INBOUND", 32, id="AWS-docs-Lambda-event-data-example-2018-10-10"),
        pytest.param(HELLO_WORLD_EVENT, "2019-07-28", "OUTBOUND", 40, id="hello-world-tst-event-json-2019-07-28"),
        pytest.param(SAM_CLI_EVENT, "2018-10-10", "INBOUND", 32, id="SAM-CLI-generate-event-workmail-email"),
    ],
)
def test_both_documented_summary_versions_parse(raw, version, direction, invocation_len):
    """AWS docs, Lambda event data (summaryVersion 2018-10-10), hello-world template (2019-07-28)
    and SAM CLI (2018-10-10, all-zero ids): every event shape AWS publishes passes strict checking."""
    event = WorkMailEvent.from_dict(raw)
    assert event.summary_version == version
    assert event.flow_direction == direction
    assert len(event.invocation_id) == invocation_len
    assert event.message_id == "00000000-0000-0000-0000-000000000000"
    assert check_event(raw) == []


def test_pre_2020_event_fails_strict_and_passes_non_strict():
    """AWS docs history: the Nov 2018 event had no messageId (added 2019-09-30), invocationId
    or flowDirection (added 2020-05-11); strict checking asks for them, strict=False accepts
    the legacy shape."""
    with pytest.raises(EventError) as info:
        WorkMailEvent.from_dict(PRE_2020_EVENT)
    assert info.value.field == "messageId"
    assert "required in current WorkMail events" in str(info.value)
    assert "strict=False" in str(info.value)
    assert [p.field for p in info.value.problems] == ["messageId", "invocationId", "flowDirection"]

    event = WorkMailEvent.from_dict(PRE_2020_EVENT, strict=False)
    assert event.message_id is None
    assert event.invocation_id is None
    assert event.flow_direction is None
    assert event.envelope.mail_from == "from@domain.test"
    assert event.sender == "sender@domain.test"


# ------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("raw", [AWS_DOC_EVENT, HELLO_WORLD_EVENT, SAM_CLI_EVENT], ids=["aws-doc", "hello-world", "sam-cli"])
def test_from_dict_to_dict_from_json_to_json_round_trip(raw):
    """AWS docs, Lambda event data: the event is JSON; from_dict/to_dict and from_json/to_json
    give back exactly the documented object."""
    event = WorkMailEvent.from_dict(raw)
    assert event.to_dict() == raw
    text = event.to_json()
    assert json.loads(text) == raw
    assert text == json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    assert WorkMailEvent.from_json(text) == event
    assert WorkMailEvent.from_json(text.encode("utf-8")) == event
    assert json.loads(event.to_json(indent=2)) == raw
    assert serialize_event(dict(event)) == text.encode("utf-8")
    assert payload_size(dict(event)) == compact_size(raw)


def test_module_functions_accept_a_workmail_event_as_the_mapping_they_are_typed_for():
    """Kit contract (events signatures take Mapping; WorkMailEvent is a Mapping): checking,
    measuring or re-wrapping an event the kit itself built must work."""
    event = build_event(mail_from="a@example.com", recipients=["b@example.com"])
    assert payload_size(event) == compact_size(dict(event))
    assert serialize_event(event) == serialize_event(dict(event))
    assert check_event(event) == []
    assert WorkMailEvent.from_dict(event) == event


def test_from_dict_and_to_dict_copy_so_the_event_cannot_be_changed_behind_its_back():
    """Kit choice (WorkMailEvent.from_dict/to_dict docstrings): from_dict keeps its own copy and
    to_dict returns a deep copy that is safe to change."""
    raw = copy.deepcopy(AWS_DOC_EVENT)
    event = WorkMailEvent.from_dict(raw)
    raw["envelope"]["recipients"].append({"address": "late@example.com"})
    assert len(event.envelope.recipients) == 2
    out = event.to_dict()
    out["envelope"]["recipients"].clear()
    assert len(event.envelope.recipients) == 2


# ------------------------------------------------------------------------ bad events


def _mutated(change):
    raw = copy.deepcopy(AWS_DOC_EVENT)
    change(raw)
    return raw


def _set(path, value):
    def change(raw):
        target = raw
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(key):
    return lambda raw: raw.pop(key)


BAD_EVENTS = [
    # (raw event, field the EventError names, text the rule states)
    pytest.param(
        _mutated(_delete("summaryVersion")), "summaryVersion", "is required",
        id="AWS-docs-event-data:summaryVersion-required",
    ),
    pytest.param(
        _mutated(_set(["summaryVersion"], "2020-01-01")), "summaryVersion", "must be one of 2018-10-10, 2019-07-28",
        id="AWS-docs+hello-world:summaryVersion-unknown",
    ),
    pytest.param(
        _mutated(_delete("envelope")), "envelope", "must be an object with mailFrom and recipients",
        id="AWS-docs-event-data:envelope-required",
    ),
    pytest.param(
        _mutated(lambda r: r["envelope"].pop("mailFrom")), "envelope.mailFrom", "is required",
        id="AWS-docs-event-data:envelope.mailFrom-required",
    ),
    pytest.param(
        _mutated(_set(["envelope", "mailFrom", "address"], "not-an-address")), "envelope.mailFrom.address",
        "must be an email address", id="AWS-docs-event-data:mailFrom-is-an-address",
    ),
    pytest.param(
        _mutated(_set(["envelope", "recipients"], {"address": "a@example.com"})), "envelope.recipients",
        "must be a list", id="AWS-docs-event-data:recipients-is-a-list",
    ),
    pytest.param(
        _mutated(_set(["envelope", "recipients"], ["a@example.com"])), "envelope.recipients[0]",
        'must be an object {"address": "..."}', id="AWS-docs-event-data:recipient-is-an-address-object",
    ),
    pytest.param(
        _mutated(_set(["envelope", "recipients", 1], {"address": "recipient2"})), "envelope.recipients[1].address",
        "must be an email address", id="AWS-docs-event-data:recipient-address-needs-an-at-sign",
    ),
    pytest.param(
        _mutated(_set(["envelope", "recipients", 1], {"address": 42})), "envelope.recipients[1].address",
        "must be a string", id="AWS-docs-event-data:recipient-address-is-a-string",
    ),
    pytest.param(
        _mutated(_set(["envelope", "recipients", 1], {"address": "RECIPIENT1@example.com"})),
        "envelope.recipients[1].address", "is listed twice",
        id="AWS-docs-event-data:recipients-listed-once-case-insensitive",
    ),
    pytest.param(
        _mutated(_set(["sender"], {"address": "nobody"})), "sender.address", "must be an email address",
        id="AWS-docs-event-data:sender-is-an-address",
    ),
    pytest.param(
        _mutated(_set(["subject"], "x" * 257)), "subject", "has 257 characters; WorkMail cuts subjects at 256",
        id="AWS-docs-event-data:subject-cut-at-256-characters",
    ),
    pytest.param(
        _mutated(_set(["subject"], "\U0001f600" * 257)), "subject", "has 257 characters",
        id="AWS-docs-event-data:subject-256-counts-characters-not-bytes",
    ),
    pytest.param(
        _mutated(_delete("subject")), "subject", "is required and must be a string",
        id="AWS-docs-event-data:subject-is-a-string",
    ),
    pytest.param(
        _mutated(_set(["flowDirection"], "inbound")), "flowDirection", "must be INBOUND or OUTBOUND",
        id="AWS-docs-event-data:flowDirection-INBOUND-or-OUTBOUND",
    ),
    pytest.param(
        _mutated(_set(["flowDirection"], "SIDEWAYS")), "flowDirection", "must be INBOUND or OUTBOUND",
        id="AWS-docs-event-data:flowDirection-unknown",
    ),
    pytest.param(
        _mutated(_set(["truncated"], "false")), "truncated", "must be true or false",
        id="AWS-docs-event-data:truncated-is-a-boolean",
    ),
    pytest.param(
        _mutated(_set(["truncated"], 0)), "truncated", "must be true or false",
        id="AWS-docs-event-data:truncated-0-is-not-a-boolean",
    ),
    pytest.param(
        _mutated(_delete("truncated")), "truncated", "is required",
        id="AWS-docs-event-data:truncated-required",
    ),
    pytest.param(
        _mutated(_set(["messageId"], "ABC_123")), "messageId", "1-120 characters of a-z, 0-9 and '-'",
        id="Message-Flow-API-model:messageId-pattern",
    ),
    pytest.param(
        _mutated(_set(["messageId"], "a" * 121)), "messageId", "1-120 characters",
        id="Message-Flow-API-model:messageId-max-120",
    ),
    pytest.param(
        _mutated(_set(["messageId"], "")), "messageId", "1-120 characters",
        id="Message-Flow-API-model:messageId-min-1",
    ),
    pytest.param(
        _mutated(_delete("messageId")), "messageId", "is required in current WorkMail events",
        id="AWS-docs-history:messageId-required-since-2019",
    ),
    pytest.param(
        _mutated(_delete("invocationId")), "invocationId", "is required in current WorkMail events",
        id="AWS-docs-history:invocationId-required-since-2020",
    ),
    pytest.param(
        _mutated(_set(["invocationId"], "")), "invocationId", "must be a non-empty string",
        id="AWS-docs-event-data:invocationId-non-empty",
    ),
    pytest.param(
        _mutated(_delete("flowDirection")), "flowDirection", "is required in current WorkMail events",
        id="AWS-docs-history:flowDirection-required-since-2020",
    ),
    pytest.param(
        _mutated(_set(["orgId"], "m-" + "0" * 32)), "orgId", "is not a documented event field",
        id="AWS-docs-event-data:no-orgId-field-documented",
    ),
    pytest.param(
        _mutated(
            _set(["envelope", "recipients"], [{"address": f"user{i:05d}@example.com"} for i in range(5000)])
        ),
        "envelope.recipients",
        "over the 131,072-byte (128 KB) limit",
        id="AWS-docs-event-data:over-128KB-must-be-truncated",
    ),
]


@pytest.mark.parametrize("raw, field, rule", BAD_EVENTS)
def test_each_broken_rule_raises_event_error_naming_field_and_rule(raw, field, rule):
    """AWS docs, Lambda event data (and the sources in each case id): an event that breaks a
    documented rule raises EventError whose .field is the JSON path and whose message states the rule."""
    with pytest.raises(EventError) as info:
        WorkMailEvent.from_dict(raw)
    error = info.value
    assert isinstance(error, ValueError) and isinstance(error, WorkMailSandboxError)
    assert error.field == field
    assert rule in str(error)
    assert str(error).startswith(f"{field}: ")
    assert error.problems[0].field == field
    assert [p.field for p in check_event(raw)][0] == field
    # from_json gives the same answer for the same text.
    with pytest.raises(EventError) as again:
        WorkMailEvent.from_json(json.dumps(raw))
    assert again.value.field == field


@pytest.mark.parametrize(
    "text, rule",
    [
        pytest.param("{not json", "is not valid JSON", id="bad-JSON"),
        pytest.param(b"\xff\xfe{", "is not valid JSON", id="bad-UTF-8"),
        pytest.param("[]", "must be a JSON object, got list", id="not-an-object-list"),
        pytest.param('"event"', "must be a JSON object, got str", id="not-an-object-string"),
        pytest.param("null", "must be a JSON object, got NoneType", id="not-an-object-null"),
    ],
)
def test_document_that_is_not_a_json_object_raises_event_error(text, rule):
    """AWS docs, Lambda event data: the event is a JSON object; anything else is an EventError
    naming the whole document."""
    with pytest.raises(EventError) as info:
        WorkMailEvent.from_json(text)
    assert info.value.field == "(document)"
    assert rule in str(info.value)


def test_error_lists_every_problem_and_the_fix():
    """Kit choice (from_dict docstring): the error names the first broken rule and keeps every
    problem in .problems; the message carries the fix when there is one."""
    raw = _mutated(lambda r: (r.update(subject="s" * 300, flowDirection="UP", truncated="no")))
    with pytest.raises(EventError) as info:
        WorkMailEvent.from_dict(raw)
    fields = [p.field for p in info.value.problems]
    assert fields == ["subject", "flowDirection", "truncated"]
    assert "2 more problem(s)" in str(info.value)
    assert "Fix: build the event with build_event()" in str(info.value)
    assert all(str(p).startswith(p.field) for p in info.value.problems)


def test_subject_of_exactly_256_characters_is_valid():
    """AWS docs, Lambda event data: the subject is truncated when it *exceeds* 256 characters,
    so exactly 256 (even 256 emoji, 1,024 bytes) is valid."""
    WorkMailEvent.from_dict(_mutated(_set(["subject"], "x" * 256)))
    WorkMailEvent.from_dict(_mutated(_set(["subject"], "\U0001f600" * 256)))


def test_message_id_of_120_characters_is_valid():
    """Message Flow API model: messageId may be up to 120 characters of [a-z0-9-]."""
    WorkMailEvent.from_dict(_mutated(_set(["messageId"], "a-9" * 40)))


def test_undocumented_field_is_kept_when_not_strict():
    """AWS docs, Lambda event data: orgId is not documented (strict mode rejects it);
    strict=False keeps undocumented fields so a real event that carries one still loads."""
    raw = _mutated(_set(["orgId"], "m-" + "0" * 32))
    event = WorkMailEvent.from_dict(raw, strict=False)
    assert event["orgId"] == "m-" + "0" * 32


def test_truncated_event_at_the_limit_is_valid_and_payload_limit_is_configurable():
    """AWS docs, Lambda event data: the payload limit is 128 KB (kit choice: 131,072 bytes of
    compact UTF-8 JSON); payload_limit= changes it."""
    raw = copy.deepcopy(AWS_DOC_EVENT)
    size = compact_size(raw)
    WorkMailEvent.from_dict(raw, payload_limit=size)
    with pytest.raises(EventError) as info:
        WorkMailEvent.from_dict(raw, payload_limit=size - 1)
    assert info.value.field == "envelope.recipients"
    assert f"the event is {size:,} bytes, over the {size - 1:,}-byte" in str(info.value)


@pytest.mark.parametrize("name", ["messageId", "invocationId", "flowDirection"])
def test_null_later_fields_fail_strict(name):
    """AWS docs, Lambda event data: flowDirection is INBOUND or OUTBOUND, messageId and
    invocationId are strings; a JSON null is none of these and strict checking must reject it."""
    with pytest.raises(EventError) as info:
        WorkMailEvent.from_dict(_mutated(_set([name], None)))
    assert info.value.field == name


def test_lone_surrogate_in_json_event_is_an_event_error():
    """Kit contract (errors.py, from_dict docstring): a bad event raises EventError naming the field;
    '\\ud800' in JSON text decodes to a lone surrogate that cannot be UTF-8, so the subject is bad."""
    text = json.dumps(_mutated(_set(["subject"], "bad \ud800 subject")))
    with pytest.raises(EventError) as info:
        WorkMailEvent.from_json(text)
    assert info.value.field == "subject"


# ------------------------------------------------------------------------ build_event


def test_build_event_defaults_and_documented_shape():
    """AWS docs, Lambda event data: a built event has every documented field, passes strict
    checking; kit choice: default summaryVersion is 2018-10-10 (the doc example's)."""
    event = build_event(mail_from="from@example.com", recipients=["to@example.com"], subject="Hi")
    assert DEFAULT_SUMMARY_VERSION == "2018-10-10"
    assert event.summary_version == "2018-10-10"
    assert event.flow_direction == "INBOUND"
    assert event.truncated is False
    assert "sender" not in event
    assert list(event) == [
        "summaryVersion", "envelope", "subject", "messageId", "invocationId", "flowDirection", "truncated",
    ]
    assert check_event(dict(event)) == []
    assert WorkMailEvent.from_dict(dict(event)) == event


def test_build_event_explicit_2019_summary_version_and_unknown_rejected():
    """hello-world template: summaryVersion 2019-07-28 can be asked for; an unknown version is an
    EventError naming summaryVersion."""
    assert build_event(mail_from="a@example.com", summary_version="2019-07-28").summary_version == "2019-07-28"
    with pytest.raises(EventError) as info:
        build_event(mail_from="a@example.com", summary_version="2021-01-01")
    assert info.value.field == "summaryVersion"


def test_build_event_ids_have_the_documented_formats():
    """Message Flow API model: messageId is 1-120 of [a-z0-9-] (the kit uses a lower-case uuid);
    AWS docs, Lambda event data: invocationId is unique per invocation (32 hex digits like the doc example)."""
    a = build_event(mail_from="a@example.com", recipients=["b@example.com"])
    b = build_event(mail_from="a@example.com", recipients=["b@example.com"])
    for event in (a, b):
        assert MESSAGE_ID_RE.fullmatch(event.message_id)
        assert str(uuid.UUID(event.message_id)) == event.message_id
        assert re.fullmatch(r"[0-9a-f]{32}", event.invocation_id)
    assert a.message_id != b.message_id
    assert a.invocation_id != b.invocation_id


def test_build_event_keeps_given_ids_and_rejects_a_bad_message_id():
    """Message Flow API model: a given messageId must match [a-z0-9-]{1,120}; AWS docs: invocationId
    stays the same across retries, so a given one is kept as is."""
    event = build_event(
        mail_from="a@example.com", message_id="0123-abcd", invocation_id="0" * 40, direction="outbound"
    )
    assert event.message_id == "0123-abcd"
    assert event.invocation_id == "0" * 40
    assert event.flow_direction == "OUTBOUND"
    with pytest.raises(EventError) as info:
        build_event(mail_from="a@example.com", message_id="Not_Valid")
    assert info.value.field == "messageId"


@pytest.mark.parametrize("direction", ["sideways", "", "IN"])
def test_build_event_rejects_an_unknown_direction(direction):
    """AWS docs, Lambda event data: flowDirection is INBOUND or OUTBOUND (any case accepted as input)."""
    with pytest.raises(EventError) as info:
        build_event(mail_from="a@example.com", direction=direction)
    assert info.value.field == "flowDirection"
    assert normalize_direction(" Inbound ") == "INBOUND"


@pytest.mark.parametrize(
    "subject, expected",
    [
        pytest.param("x" * 300, "x" * 256, id="ascii"),
        pytest.param("\U0001f600" * 300, "\U0001f600" * 256, id="emoji-4-bytes-each"),
        pytest.param("漢字" * 150, ("漢字" * 150)[:256], id="CJK"),
        # 1 + 2*200 code points: the cut at 256 leaves a bare "e" (its combining accent is cut off):
        # the limit counts code points, not user-perceived characters.
        pytest.param("a" + "e\u0301" * 200, ("a" + "e\u0301" * 200)[:256], id="combining-marks"),
        pytest.param("y" * 256, "y" * 256, id="exactly-256-untouched"),
        pytest.param("", "", id="empty"),
    ],
)
def test_build_event_cuts_subject_at_256_code_points(subject, expected):
    """AWS docs, Lambda event data: "The email subject line. Truncated when it exceeds the
    256 character limit" (kit choice: characters are code points); the event stays valid UTF-8 JSON."""
    event = build_event(mail_from="a@example.com", recipients=["b@example.com"], subject=subject)
    assert event.subject == expected
    assert len(event.subject) == min(len(subject), SUBJECT_LIMIT_CHARS)
    data = serialize_event(dict(event))
    assert json.loads(data.decode("utf-8"))["subject"] == expected
    assert event.truncated is False  # truncated is about the payload, not the subject
    WorkMailEvent.from_json(data)


def test_build_event_combining_cut_ends_on_a_bare_base_letter():
    """AWS docs, Lambda event data (256 characters) with the kit's code-point reading: the cut can
    split an accented letter; the result is still valid text."""
    event = build_event(mail_from="a@example.com", subject="a" + "e\u0301" * 200)
    assert event.subject[-1] == "e"
    assert event.subject[-2] == "\u0301"


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param("ok \udc80 done", id="lone-low-surrogate"),
        pytest.param("\ud83d half an emoji", id="lone-high-surrogate"),
        pytest.param("\udcff" * 300, id="300-surrogates-then-cut"),
    ],
)
def test_build_event_replaces_lone_surrogates_so_json_is_utf8(subject):
    """Kit choice (events/building.py _clean_text): undecodable bytes arrive as lone surrogates; they are
    replaced so the event is valid UTF-8 JSON (AWS docs: the event is JSON)."""
    event = build_event(mail_from="a@example.com", subject=subject)
    event.subject.encode("utf-8")  # does not raise
    assert len(event.subject) <= 256
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in event.subject)
    json.loads(serialize_event(dict(event)).decode("utf-8"))


def test_build_event_lowercases_and_deduplicates_recipients():
    """AWS docs, Lambda event data (recipients list each recipient, no To/CC/BCC distinction);
    kit choice: addresses are lower-cased and de-duplicated as WorkMail matches them case-insensitively."""
    event = build_event(
        mail_from="From@Example.COM",
        recipients=["A@Example.com", "a@example.com", " b@example.com ", "<C@Example.com>", "B@EXAMPLE.COM"],
    )
    assert event.envelope.mail_from == "from@example.com"
    assert event.envelope.recipients == ["a@example.com", "b@example.com", "c@example.com"]
    assert check_event(dict(event)) == []


@pytest.mark.parametrize("bad", ["no-at-sign", 42, None])
def test_build_event_rejects_a_recipient_that_is_not_an_address(bad):
    """AWS docs, Lambda event data: recipients are email addresses; anything else is an EventError
    naming the recipient's index."""
    with pytest.raises(EventError) as info:
        build_event(mail_from="a@example.com", recipients=["ok@example.com", bad])
    assert info.value.field == "envelope.recipients[1].address"


def test_build_event_recipient_with_lone_surrogate_is_an_event_error():
    """Kit contract (errors.py: bad input raises a kit error naming the field): an address decoded
    from broken bytes cannot be put in UTF-8 JSON, so it is an EventError, not a crash."""
    with pytest.raises(EventError) as info:
        build_event(mail_from="a@example.com", recipients=["ok@example.com", "b\udc80@example.com"])
    assert info.value.field == "envelope.recipients[1].address"


@pytest.mark.parametrize("where", ["build_event", "SmtpEnvelope"])
def test_display_name_address_is_normalized_or_rejected(where):
    """AWS docs, Lambda event data: envelope.mailFrom.address and recipients[].address hold email
    addresses; a display-name form must become the bare address (or be refused), never be kept verbatim."""
    try:
        if where == "build_event":
            event = build_event(mail_from="Jane <Jane@example.com>", recipients=["Bob <bob@example.net>"])
        else:
            [event] = events_from_message(
                SEND_AS, direction="outbound",
                envelope=SmtpEnvelope(mail_from="Jane <Jane@example.com>", recipients=["Bob <bob@example.net>"]),
            )
    except EventError:
        return
    assert event.envelope.mail_from == "jane@example.com"
    assert event.envelope.recipients == ["bob@example.net"]


def test_build_event_sender_comes_after_envelope_as_documented():
    """AWS docs, Lambda event data: sender is set only for on-behalf sending; the doc example
    places it after envelope."""
    event = build_event(mail_from="boss@example.com", sender="Assistant@Example.com", recipients=["x@example.net"])
    assert event.sender == "assistant@example.com"
    assert list(event)[:3] == ["summaryVersion", "envelope", "sender"]
    with pytest.raises(EventError) as info:
        build_event(mail_from="boss@example.com", sender="nobody")
    assert info.value.field == "sender.address"


# --------------------------------------------------------------- 128 KB truncation


IDS = {"message_id": "00000000-0000-0000-0000-000000000000", "invocation_id": "0" * 32}

BOUNDARY_CASES = [
    pytest.param(
        {"mail_from": "from@example.com", "subject": "Boundary", "sender": None, "limit": PAYLOAD_LIMIT_BYTES,
         "make": lambda i: f"user{i}@example.com", "domain": "example.com"},
        id="ascii-131072",
    ),
    pytest.param(
        {"mail_from": "from@example.com", "subject": "Grüße \U0001f600 漢字", "sender": "assistant@example.com",
         "limit": PAYLOAD_LIMIT_BYTES, "make": lambda i: f"用户{i}@例子.example.com", "domain": "例子.example.com"},
        id="non-ascii-cjk-2-3-byte-utf8-131072",
    ),
    pytest.param(
        {"mail_from": "from@example.com", "subject": "Escapes", "sender": None, "limit": PAYLOAD_LIMIT_BYTES,
         "make": lambda i: f'"q\\"{i}\\\\"@example.com', "domain": "example.com"},
        id="json-escaped-quotes-and-backslashes-131072",
    ),
    pytest.param(
        {"mail_from": "from@example.com", "subject": "Small", "sender": None, "limit": 2_000,
         "make": lambda i: f"ü{i}@exämple.com", "domain": "exämple.com"},
        id="payload_limit-2000-non-ascii",
    ),
]


def _recipients_of_full_size(case: dict, target: int) -> list[str]:
    """Recipients whose *full* (untruncated) event is exactly ``target`` bytes, computed without
    the module: regular recipients, then one filler whose local part is sized to hit the target."""
    base = full_event(recipients=[], mail_from=case["mail_from"], subject=case["subject"], sender=case["sender"], **IDS)
    size = compact_size(base)
    filler_min = entry_size("z@" + case["domain"]) + 1
    recipients: list[str] = []
    i = 0
    while True:
        address = case["make"](i)
        step = entry_size(address) + (1 if recipients else 0)
        if size + step + filler_min > target:
            break
        recipients.append(address)
        size += step
        i += 1
    filler_base = size + entry_size("z@" + case["domain"]) + (1 if recipients else 0)
    filler = "z" + "x" * (target - filler_base) + "@" + case["domain"]
    recipients.append(filler)
    full = full_event(recipients=recipients, mail_from=case["mail_from"], subject=case["subject"], sender=case["sender"], **IDS)
    assert compact_size(full) == target, "test helper must hit the target exactly"
    return recipients


def _build(case: dict, recipients):
    return build_event(
        mail_from=case["mail_from"], subject=case["subject"], sender=case["sender"], recipients=recipients,
        payload_limit=case["limit"], **IDS,
    )


@pytest.mark.parametrize("case", BOUNDARY_CASES)
def test_full_event_of_exactly_the_limit_is_not_truncated(case):
    """AWS docs, Lambda event data: truncated is true only when "the payload size exceeds the
    128 KB limit" (kit choice: 131,072 bytes of compact UTF-8 JSON, non-ASCII counted in UTF-8 bytes);
    an event of exactly the limit keeps every recipient."""
    limit = case["limit"]
    recipients = _recipients_of_full_size(case, limit)
    event = _build(case, recipients)
    assert event.truncated is False
    assert event.envelope.recipients == recipients
    assert compact_size(dict(event)) == limit
    assert payload_size(dict(event)) == limit
    WorkMailEvent.from_dict(dict(event), payload_limit=limit)


@pytest.mark.parametrize("case", BOUNDARY_CASES)
def test_full_event_one_byte_over_the_limit_is_truncated(case):
    """AWS docs, Lambda event data: when the payload exceeds 128 KB, truncated is true and the
    recipient list is cut to fit; a full event of limit+1 bytes is truncated and the result fits."""
    limit = case["limit"]
    recipients = _recipients_of_full_size(case, limit + 1)
    full = full_event(recipients=recipients, mail_from=case["mail_from"], subject=case["subject"], sender=case["sender"], **IDS)
    assert compact_size(full) == limit + 1
    event = _build(case, recipients)
    assert event.truncated is True
    kept = event.envelope.recipients
    assert kept == recipients[: len(kept)]
    assert compact_size(dict(event)) <= limit
    WorkMailEvent.from_dict(dict(event), payload_limit=limit)


@pytest.mark.parametrize("case", BOUNDARY_CASES)
def test_truncated_event_keeps_the_longest_prefix_that_fits(case):
    """AWS docs, Lambda event data: "the list of recipients is truncated in order to meet the
    limit"; kit choice (build_event docstring): the kept list is the longest prefix that fits,
    so adding the next recipient would go over."""
    limit = case["limit"]
    exact = _recipients_of_full_size(case, limit)
    extra = [case["make"](10**6 + j) for j in range(3)]
    event = _build(case, exact + extra)
    assert event.truncated is True
    assert event.envelope.recipients == exact
    with_next = dict(event.to_dict())
    with_next["envelope"]["recipients"].append({"address": extra[0]})
    assert compact_size(dict(event)) <= limit < compact_size(with_next)


def test_truncated_at_one_byte_over_keeps_every_recipient():
    """Kit choice (build_event docstring, issue #2's definition): truncated is true exactly when
    the full event exceeds 128 KB, and the recipients are the longest prefix that fits; a full
    event one byte over fits once false becomes true, so it keeps every recipient."""
    case = BOUNDARY_CASES[0].values[0]
    recipients = _recipients_of_full_size(case, PAYLOAD_LIMIT_BYTES + 1)
    event = _build(case, recipients)
    assert event.truncated is True
    assert len(event.envelope.recipients) == len(recipients)
    assert event.size == PAYLOAD_LIMIT_BYTES


def test_longest_prefix_is_a_prefix_even_when_a_later_short_recipient_would_fit():
    """Kit choice (build_event docstring): the kept recipients are a prefix of the list; a shorter
    recipient after the first one that does not fit is not squeezed in."""
    case = BOUNDARY_CASES[0].values[0]
    # Full event of limit-25 bytes: in the truncated form 26 bytes are left, enough for
    # "a@b" (18 bytes with its comma) but not for the long address before it.
    exact = _recipients_of_full_size(case, PAYLOAD_LIMIT_BYTES - 25)
    assert entry_size("a@b") + 1 <= 26
    long_one = "l" * 60 + "@example.com"
    event = _build(case, exact + [long_one, "a@b"])
    assert event.truncated is True
    assert event.envelope.recipients == exact
    assert "a@b" not in event.envelope.recipients


def test_duplicates_do_not_use_up_the_payload_budget():
    """Kit choice (events package docstring): recipients are de-duplicated before the 128 KB budget is
    applied, so repeats cost nothing."""
    case = BOUNDARY_CASES[0].values[0]
    exact = _recipients_of_full_size(case, PAYLOAD_LIMIT_BYTES)
    event = _build(case, exact + [exact[0].upper(), exact[1], exact[0]])
    assert event.truncated is False
    assert event.envelope.recipients == exact


@pytest.mark.parametrize(
    "count, kind",
    [(100_000, "list"), (100_000, "generator"), (1_000_000, "generator")],
    ids=["100k-list", "100k-generator", "1M-generator"],
)
def test_huge_recipient_lists_are_truncated_correctly(count, kind):
    """AWS docs, Lambda event data: any recipient count is cut to fit 128 KB with truncated=true
    (correctness only; timing lives in benchmarks/)."""
    make = (f"user{i}@example.com" for i in range(count))
    recipients = make if kind == "generator" else list(make)
    event = build_event(mail_from="from@example.com", recipients=recipients, subject="Big", **IDS)
    assert event.truncated is True
    kept = event.envelope.recipients
    assert 1_000 < len(kept) < count
    assert kept == [f"user{i}@example.com" for i in range(len(kept))]
    assert compact_size(dict(event)) <= PAYLOAD_LIMIT_BYTES
    with_next = event.to_dict()
    with_next["envelope"]["recipients"].append({"address": f"user{len(kept)}@example.com"})
    assert compact_size(with_next) > PAYLOAD_LIMIT_BYTES
    WorkMailEvent.from_dict(dict(event))


# ------------------------------------------------------------------ events_from_message


def msg(*headers: str, body: str = "Body text.") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


ON_BEHALF = msg(
    "From: Boss <Boss@Example.com>",
    "Sender: Assistant <assistant@example.com>",
    "To: client@example.net",
    "Subject: Quarterly numbers",
)
SEND_AS = msg("From: Shared <shared@example.com>", "To: client@example.net", "Subject: From the team")
MIXED = msg(
    "From: Outsider <outsider@example.org>",
    "To: Alice <Alice@Example.com>, bob@example.com, ext@example.net",
    "Cc: ALICE@example.com, carol@sales.example.com, dave@eu.example.com",
    "Bcc: erin@example.com, bob@EXAMPLE.com",
    "Subject: Mixed recipients",
)


def test_on_behalf_sets_mail_from_to_the_represented_user_and_sender_to_the_actual_sender():
    """AWS docs, Lambda event data: mailFrom holds the represented user when someone sends on
    behalf of another; sender is the actual sender, set only for on-behalf sending."""
    [event] = events_from_message(ON_BEHALF, direction="outbound")
    assert event.envelope.mail_from == "boss@example.com"
    assert event.sender == "assistant@example.com"
    assert event["sender"] == {"address": "assistant@example.com"}


def test_send_as_has_no_sender_key():
    """AWS docs, Lambda event data: sender "is set only when an email message is sent on behalf
    of another user"; send-as (no Sender header) gives no sender key."""
    [event] = events_from_message(SEND_AS, direction="outbound")
    assert event.envelope.mail_from == "shared@example.com"
    assert "sender" not in event
    assert event.sender is None


def test_sender_equal_to_from_is_not_on_behalf():
    """AWS docs, Lambda event data: sender is only for on-behalf sending; a Sender header that
    repeats From is not on behalf of anyone."""
    data = msg("From: me@example.com", "Sender: ME@example.com", "To: you@example.net", "Subject: s")
    [event] = events_from_message(data, direction="outbound")
    assert "sender" not in event


def test_sender_only_message_is_not_on_behalf():
    """AWS docs, Lambda event data: sender is "The email address of the user who sent the email
    message on behalf of another user"; when mailFrom is the sender itself there is no other user."""
    data = msg("Sender: a@example.com", "To: b@example.net", "Subject: s")
    [event] = events_from_message(data, direction="outbound")
    assert event.envelope.mail_from == "a@example.com"
    assert "sender" not in event


def test_explicit_envelope_mail_from_wins():
    """Kit choice (SmtpEnvelope docstring): an explicit SMTP MAIL FROM wins over the headers."""
    [event] = events_from_message(
        SEND_AS, direction="outbound", envelope=SmtpEnvelope(mail_from="Bounces@Example.com")
    )
    assert event.envelope.mail_from == "bounces@example.com"


def test_envelope_recipients_replace_header_recipients():
    """AWS docs, Lambda event data: recipients are the SMTP envelope's (RCPT TO); given explicitly
    they replace To, Cc and Bcc (normalized and de-duplicated)."""
    [event] = events_from_message(
        MIXED, direction="outbound",
        envelope=SmtpEnvelope(recipients=["Only@Example.com", "<only@example.com>", "two@example.net"]),
    )
    assert event.envelope.recipients == ["only@example.com", "two@example.net"]


def test_to_cc_bcc_are_merged_without_duplicates():
    """AWS docs, Lambda event data: "There is no distinction between To, CC, or BCC"; each
    recipient is listed once."""
    [event] = events_from_message(MIXED, direction="outbound")
    assert event.envelope.recipients == [
        "alice@example.com", "bob@example.com", "ext@example.net",
        "carol@sales.example.com", "dave@eu.example.com", "erin@example.com",
    ]


def test_inbound_keeps_only_recipients_in_the_organization_domains():
    """AWS docs, Lambda event data: for inbound rules the list includes recipients in the
    organization's domains; "Recipients with external domains are not included" (exact domains:
    a subdomain the organization does not list is external)."""
    [event] = events_from_message(MIXED, direction="inbound", org_domains=ORG)
    assert event.envelope.recipients == [
        "alice@example.com", "bob@example.com", "carol@sales.example.com", "erin@example.com",
    ]
    assert event.flow_direction == "INBOUND"


def test_inbound_without_org_domains_is_an_error_naming_the_fix():
    """AWS docs, Lambda event data: inbound recipients are filtered to the organization's domains,
    so the domains must be known; the error says to pass org_domains."""
    with pytest.raises(EventError) as info:
        events_from_message(MIXED, direction="inbound")
    assert info.value.field == "envelope.recipients"
    assert "org_domains=" in str(info.value)


def test_outbound_keeps_every_recipient():
    """AWS docs, Lambda event data: only the inbound list leaves out external recipients."""
    [event] = events_from_message(MIXED, direction="outbound", org_domains=ORG)
    assert "ext@example.net" in event.envelope.recipients
    assert "dave@eu.example.com" in event.envelope.recipients


def test_single_conversation_is_the_default():
    """Kit choice (events package docstring): without conversations the whole message is one SMTP
    conversation, so one event (AWS docs: one invocation per SMTP conversation)."""
    result = events_from_message(MIXED, direction="inbound", org_domains=ORG)
    assert len(result) == 1


def test_per_domain_conversations_give_one_event_per_domain():
    """AWS docs, Lambda event data: "The Lambda function is invoked separately for each SMTP
    conversation"; conversations='per-domain' models one conversation per recipient domain."""
    result = events_from_message(MIXED, direction="outbound", conversations="per-domain")
    assert [e.envelope.recipients for e in result] == [
        ["alice@example.com", "bob@example.com", "erin@example.com"],
        ["ext@example.net"],
        ["carol@sales.example.com"],
        ["dave@eu.example.com"],
    ]
    inbound = events_from_message(MIXED, direction="inbound", org_domains=ORG, conversations="per-domain")
    assert [e.envelope.recipients for e in inbound] == [
        ["alice@example.com", "bob@example.com", "erin@example.com"],
        ["carol@sales.example.com"],
    ]


def test_explicit_conversations_give_one_event_per_list_and_skip_lists_without_org_recipients():
    """AWS docs, Lambda event data: one invocation per SMTP conversation, listing that
    conversation's recipients; inbound, a conversation with no organization recipient invokes nothing."""
    result = events_from_message(
        MIXED, direction="inbound", org_domains=ORG,
        conversations=[["Alice@example.com", "ext@example.net"], ["ext2@example.org"], ["carol@sales.example.com"]],
    )
    assert [e.envelope.recipients for e in result] == [["alice@example.com"], ["carol@sales.example.com"]]
    outbound = events_from_message(MIXED, direction="outbound", conversations=[["a@example.com"], ["b@example.net"]])
    assert [e.envelope.recipients for e in outbound] == [["a@example.com"], ["b@example.net"]]


def test_inbound_message_with_no_org_recipient_yields_no_event():
    """AWS docs, Lambda event data: external recipients are not included, so mail for nobody in
    the organization invokes nothing."""
    data = msg("From: a@example.org", "To: b@example.net", "Subject: s")
    assert events_from_message(data, direction="inbound", org_domains=ORG) == []


def test_each_conversation_event_has_its_own_message_id_and_invocation_id():
    """AWS docs, Lambda event data: invocationId is unique per invocation; kit choice: each
    conversation is its own message in transit with its own messageId (Message Flow API format)."""
    result = events_from_message(MIXED, direction="outbound", conversations="per-domain")
    assert len({e.message_id for e in result}) == len(result)
    assert len({e.invocation_id for e in result}) == len(result)
    for event in result:
        assert MESSAGE_ID_RE.fullmatch(event.message_id)
        assert check_event(dict(event)) == []


@pytest.mark.parametrize(
    "header, expected",
    [
        pytest.param(
            "Subject: =?UTF-8?B?" + base64.b64encode("Grüße \U0001f600".encode()).decode() + "?=",
            "Grüße \U0001f600", id="RFC2047-B-UTF-8",
        ),
        pytest.param("Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème", id="RFC2047-Q-latin1"),
    ],
)
def test_encoded_subject_is_decoded(header, expected):
    """AWS docs, Lambda event data: subject is "The email subject line" (the decoded text, as the
    AWS doc example shows plain text); RFC 2047 encoded-words are decoded."""
    [event] = events_from_message(msg("From: a@example.com", "To: b@example.com", header), org_domains=ORG)
    assert event.subject == expected


def test_long_subject_from_a_message_is_cut_at_256():
    """AWS docs, Lambda event data: the subject is truncated at 256 characters."""
    [event] = events_from_message(msg("From: a@example.com", "To: b@example.com", "Subject: " + "s" * 400), org_domains=ORG)
    assert event.subject == "s" * 256


def test_no_from_and_no_envelope_mail_from_is_an_error():
    """AWS docs, Lambda event data: envelope.mailFrom is always present; without a From header and
    without an SMTP MAIL FROM there is nothing to put there."""
    data = msg("To: b@example.com", "Subject: nobody sent this")
    with pytest.raises(EventError) as info:
        events_from_message(data, org_domains=ORG)
    assert info.value.field == "envelope.mailFrom.address"
    assert "SmtpEnvelope(mail_from=" in str(info.value)
    [event] = events_from_message(data, org_domains=ORG, envelope=SmtpEnvelope(mail_from="x@example.org"))
    assert event.envelope.mail_from == "x@example.org"


def test_summary_version_and_payload_limit_pass_through():
    """hello-world template (2019-07-28) and AWS docs, Lambda event data (128 KB, configurable
    in the kit): events_from_message forwards summary_version and payload_limit."""
    [event] = events_from_message(
        MIXED, direction="outbound", summary_version="2019-07-28", payload_limit=400
    )
    assert event.summary_version == "2019-07-28"
    assert event.truncated is True
    assert compact_size(dict(event)) <= 400


def test_module_exports_match_the_documented_constants():
    """AWS docs, Lambda event data: 256-character subject, 128 KB payload; AWS docs: INBOUND/OUTBOUND."""
    assert SUBJECT_LIMIT_CHARS == 256
    assert PAYLOAD_LIMIT_BYTES == 131_072
    assert events_module.FLOW_DIRECTIONS == ("INBOUND", "OUTBOUND")
    assert events_module.KNOWN_SUMMARY_VERSIONS == ("2018-10-10", "2019-07-28")


def test_message_id_ties_the_event_to_a_message_in_transit():
    """Kit API: events_from_message(message_id=...) for a message already in transit (one conversation)."""
    data = msg("From: a@example.org", "To: b@example.com, c@example.net", "Subject: s")
    [event] = events_from_message(data, direction="outbound", message_id="fixed-id-1")
    assert event.message_id == "fixed-id-1"
    with pytest.raises(EventError) as info:
        events_from_message(data, direction="outbound", message_id="fixed-id-1", conversations="per-domain")
    assert info.value.field == "messageId"
