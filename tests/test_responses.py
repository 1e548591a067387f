"""Tests of ``workmail_sandbox.responses`` against the documented facts.

Every test names the fact it checks and where the fact comes from:

* "AWS docs, response schema": "Configuring AWS Lambda for Amazon WorkMail", section
  *Synchronous Run Lambda response schema*
  (https://docs.aws.amazon.com/workmail/latest/adminguide/lambda.html#synchronous-schema).
  Facts sheet section 2.4.
* "AWS docs, limits and failures": the same page, *Synchronous Run Lambda action limits*
  and *action failures*. Facts sheet section 2.5.
* "AWS docs, example responses": the same page, *Example synchronous Run Lambda responses*.
* "AWS docs, synchronous rules": the same page, *Configuring synchronous Run Lambda rules*
  (the fallback action). Facts sheet 2.1; outbound rule actions, facts sheet 4.3.
* "hello-world template" / "workmail-update-email template": aws-samples/amazon-workmail-lambda-templates.
* "Kit choice": an assumption the module documents where AWS is silent
  (module docstring of ``responses.py``).
"""

from __future__ import annotations

import json

import pytest

from workmail_sandbox.errors import ResponseError, WorkMailSandboxError
from workmail_sandbox.responses import (
    FALLBACK_ACTION_TYPES,
    INBOUND_ACTION_TYPES,
    MAX_ACTIONS,
    MAX_OUTBOUND_RECIPIENTS,
    MAX_RESPONSE_BYTES,
    OUTBOUND_ACTION_TYPES,
    Action,
    Decision,
    Resolution,
    ResponseProblem,
    SyncResponse,
    check_response,
    resolve_response,
)

ORG = ["example.com", "sales.example.com"]
RECIPIENTS = ["alice@example.com", "bob@example.com", "drop-recipient@example.com"]

#: The three example responses of the AWS doc, as Python returns them.
DOC_REMOVE_RECIPIENTS = {
    "actions": [
        {"action": {"type": "DEFAULT"}, "allRecipients": True},
        {"action": {"type": "DROP"}, "recipients": ["drop-recipient@example.com"]},
    ]
}
DOC_BOUNCE_ALL = {
    "actions": [
        {
            "action": {"type": "BOUNCE", "parameters": {"bounceMessage": "Email in breach of company policy."}},
            "allRecipients": True,
        }
    ]
}
DOC_ADD_RECIPIENT = {
    "actions": [
        {"action": {"type": "DEFAULT"}, "recipients": ["new-recipient@example.com"]},
        {"action": {"type": "DEFAULT"}, "allRecipients": True},
    ]
}
#: What the hello-world template's handler returns.
HELLO_WORLD_RETURN = {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}


def resolve(data, direction="inbound", recipients=RECIPIENTS, fallback="DEFAULT", org_domains=ORG):
    return resolve_response(
        data, direction=direction, recipients=recipients, org_domains=org_domains, fallback=fallback
    )


def actions_of(resolution: Resolution) -> dict[str, str]:
    return {r: d.action for r, d in resolution.decisions.items()}


def compact_size(data) -> int:
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# ------------------------------------------------------------------------ action types


@pytest.mark.parametrize("action_type", ["DEFAULT", "BOUNCE", "DROP", "BYPASS_SPAM_CHECK", "MOVE_TO_JUNK"])
def test_inbound_allows_the_five_documented_types(action_type):
    """AWS docs, response schema: "Inbound rule action types include BOUNCE, DROP, DEFAULT,
    BYPASS_SPAM_CHECK, and MOVE_TO_JUNK"."""
    result = resolve(SyncResponse.for_all(action_type).to_dict())
    assert result.valid, result.report()
    assert set(actions_of(result).values()) == {action_type}
    assert result.problems == []


@pytest.mark.parametrize("action_type", ["DEFAULT", "BOUNCE", "DROP"])
def test_outbound_allows_the_three_documented_types(action_type):
    """AWS docs, response schema: "Outbound rule action types include BOUNCE, DROP, and DEFAULT"."""
    result = resolve(SyncResponse.for_all(action_type).to_dict(), direction="outbound")
    assert result.valid, result.report()
    assert set(actions_of(result).values()) == {action_type}


@pytest.mark.parametrize("action_type", ["MOVE_TO_JUNK", "BYPASS_SPAM_CHECK"])
def test_inbound_only_types_are_an_error_outbound_with_a_hint(action_type):
    """AWS docs, response schema: BYPASS_SPAM_CHECK and MOVE_TO_JUNK are inbound types only; an
    outbound response using one is invalid and the fix says why."""
    data = SyncResponse.for_all(action_type).to_dict()
    result = resolve(data, direction="outbound", fallback="DEFAULT")
    assert not result.valid
    [error] = result.errors
    assert error.field == "actions[0].action.type"
    assert "must be one of DEFAULT, BOUNCE, DROP for outbound mail" in error.message
    assert error.fix and "only for inbound" in error.fix
    assert set(actions_of(result).values()) == {"DEFAULT"}
    assert all(d.source == "fallback: invalid response" for d in result.decisions.values())
    with pytest.raises(ResponseError) as info:
        SyncResponse.from_dict(data, direction="outbound")
    assert "only for inbound" in str(info.value)


@pytest.mark.parametrize("action_type", ["ROUTE_TO_SMTP_GATEWAY", "RUN_LAMBDA", "QUARANTINE", ""])
def test_undocumented_types_are_invalid(action_type):
    """AWS docs, response schema: there is no route-to-SMTP-gateway (or any other) response type;
    only the listed types are valid."""
    for direction in ("inbound", "outbound"):
        result = resolve({"actions": [{"action": {"type": action_type}, "allRecipients": True}]}, direction=direction)
        assert not result.valid
        assert result.errors[0].field == "actions[0].action.type"


def test_documented_type_lists_are_exported():
    """AWS docs, response schema: the inbound and outbound type lists."""
    assert set(INBOUND_ACTION_TYPES) == {"DEFAULT", "BOUNCE", "DROP", "BYPASS_SPAM_CHECK", "MOVE_TO_JUNK"}
    assert set(OUTBOUND_ACTION_TYPES) == {"DEFAULT", "BOUNCE", "DROP"}


# ------------------------------------------------------------------------ parameters


def test_bounce_message_reaches_the_decision():
    """AWS docs, response schema: parameters is supported for BOUNCE as {"bounceMessage": string};
    the text is used to build the bounce email, so each bounced recipient's decision carries it."""
    result = resolve(DOC_BOUNCE_ALL)
    assert result.valid
    for decision in result.decisions.values():
        assert decision.action == "BOUNCE"
        assert decision.bounce_message == "Email in breach of company policy."
    named = resolve(
        {"actions": [
            {"action": {"type": "BOUNCE", "parameters": {"bounceMessage": "No."}}, "recipients": ["bob@example.com"]},
            {"action": {"type": "DEFAULT"}, "allRecipients": True},
        ]}
    )
    assert named.decisions["bob@example.com"].bounce_message == "No."
    assert named.decisions["alice@example.com"].bounce_message is None


@pytest.mark.parametrize("action_type", ["DROP", "DEFAULT", "MOVE_TO_JUNK", "BYPASS_SPAM_CHECK"])
def test_bounce_message_on_another_type_is_invalid(action_type):
    """AWS docs, response schema: bounceMessage is documented only for BOUNCE."""
    data = {"actions": [{"action": {"type": action_type, "parameters": {"bounceMessage": "x"}}, "allRecipients": True}]}
    result = resolve(data)
    assert not result.valid
    assert result.errors[0].field == "actions[0].action.parameters.bounceMessage"
    assert f"only for BOUNCE actions, not {action_type}" in result.errors[0].message


def test_bounce_message_must_be_a_string_and_parameters_an_object():
    """AWS docs, response schema: parameters is a JSON object, bounceMessage a string."""
    bad_message = {"actions": [{"action": {"type": "BOUNCE", "parameters": {"bounceMessage": 5}}, "allRecipients": True}]}
    assert resolve(bad_message).errors[0].field == "actions[0].action.parameters.bounceMessage"
    bad_parameters = {"actions": [{"action": {"type": "BOUNCE", "parameters": "text"}, "allRecipients": True}]}
    assert resolve(bad_parameters).errors[0].field == "actions[0].action.parameters"


def test_undocumented_parameter_is_a_warning():
    """AWS docs, response schema: only bounceMessage is documented; another key is ignored with a warning."""
    data = {"actions": [{"action": {"type": "DEFAULT", "parameters": {"folder": "x"}}, "allRecipients": True}]}
    result = resolve(data)
    assert result.valid
    assert [w.field for w in result.warnings] == ["actions[0].action.parameters.folder"]


# ------------------------------------------------------------- allRecipients, fallback


def test_all_recipients_covers_everyone_not_otherwise_named():
    """AWS docs, response schema: "allRecipients: When true, applies the action to all the
    recipients that are not subject to another specific action in the Lambda response"."""
    data = {"actions": [
        {"action": {"type": "MOVE_TO_JUNK"}, "recipients": ["alice@example.com"]},
        {"action": {"type": "BYPASS_SPAM_CHECK"}, "allRecipients": True},
    ]}
    result = resolve(data)
    assert actions_of(result) == {
        "alice@example.com": "MOVE_TO_JUNK",
        "bob@example.com": "BYPASS_SPAM_CHECK",
        "drop-recipient@example.com": "BYPASS_SPAM_CHECK",
    }
    assert result.decisions["bob@example.com"].source == "actions[1] (allRecipients)"


@pytest.mark.parametrize("fallback", ["DEFAULT", "BOUNCE", "DROP", "MOVE_TO_JUNK"])
def test_recipients_left_out_get_the_fallback_when_no_all_recipients(fallback):
    """AWS docs, synchronous rules: the Fallback action "also applies to any recipients that are
    omitted from the Lambda response if the allRecipients flag is not set"."""
    data = {"actions": [{"action": {"type": "DROP"}, "recipients": ["alice@example.com"]}]}
    result = resolve(data, fallback=fallback)
    assert result.valid
    assert result.decisions["alice@example.com"].action == "DROP"
    for address in ("bob@example.com", "drop-recipient@example.com"):
        assert result.decisions[address].action == fallback
        assert result.decisions[address].is_fallback
        assert result.decisions[address].source == "fallback: not named by the response"
    assert not result.decisions["alice@example.com"].is_fallback


def test_all_recipients_false_does_not_cover_anyone():
    """AWS docs, response schema: allRecipients applies only "when true"."""
    data = {"actions": [{"action": {"type": "DROP"}, "recipients": ["alice@example.com"], "allRecipients": False}]}
    result = resolve(data, fallback="BOUNCE")
    assert result.decisions["bob@example.com"].action == "BOUNCE"


def test_recipients_are_matched_case_insensitively():
    """Kit choice (events package docstring): WorkMail matches addresses without regard to case, so a
    response naming ALICE@EXAMPLE.COM names the original alice@example.com, not a new recipient."""
    data = {"actions": [{"action": {"type": "DROP"}, "recipients": ["ALICE@Example.COM"]}]}
    result = resolve(data, recipients=["Alice@example.com", "bob@example.com"])
    assert result.decisions["alice@example.com"].action == "DROP"
    assert result.decisions["alice@example.com"].added is False
    assert result.added_recipients == []


def test_first_action_naming_a_recipient_wins_with_a_warning():
    """Kit choice (responses.py docstring): a recipient named by two actions gets the first one,
    with a warning (AWS does not say)."""
    data = {"actions": [
        {"action": {"type": "DROP"}, "recipients": ["alice@example.com"]},
        {"action": {"type": "BOUNCE"}, "recipients": ["alice@example.com"]},
        {"action": {"type": "DEFAULT"}, "allRecipients": True},
        {"action": {"type": "DROP"}, "allRecipients": True},
    ]}
    result = resolve(data)
    assert result.valid
    assert result.decisions["alice@example.com"].action == "DROP"
    assert result.decisions["bob@example.com"].action == "DEFAULT"
    assert [w.field for w in result.warnings] == ["actions[1].recipients", "actions[3].allRecipients"]


def test_empty_actions_list_gives_everyone_the_fallback_with_a_warning():
    """Kit choice (responses.py docstring): an empty actions list is accepted with a warning and
    every recipient gets the fallback (AWS docs: left-out recipients get the fallback)."""
    result = resolve({"actions": []}, fallback="DROP")
    assert result.valid
    assert set(actions_of(result).values()) == {"DROP"}
    assert [w.field for w in result.warnings] == ["actions"]


def test_undocumented_top_level_key_is_a_warning():
    """AWS docs, response schema: the response has only 'actions'; other keys are ignored with a warning."""
    result = resolve({**HELLO_WORLD_RETURN, "statusCode": 200})
    assert result.valid
    assert [w.field for w in result.warnings] == ["statusCode"]


# -------------------------------------------------------------------- added recipients


def test_added_recipients_are_marked_added_and_delivered_as_bcc():
    """AWS docs, response schema: "You can add new recipients to the response even if they were
    not included in the original recipients list ... The new recipients are added to the response as BCC"."""
    result = resolve(DOC_ADD_RECIPIENT)
    assert result.valid
    new = result.decisions["new-recipient@example.com"]
    assert new.added is True and new.action == "DEFAULT"
    assert result.added_recipients == ["new-recipient@example.com"]
    assert not any(result.decisions[r].added for r in RECIPIENTS)
    assert list(result.decisions)[: len(RECIPIENTS)] == RECIPIENTS  # originals first, added after
    assert "(added, BCC)" in result.report()


def test_inbound_added_recipient_must_be_in_the_organization():
    """AWS docs, response schema: "When a Lambda action is called for inbound email, you can only
    add new recipients that are from your organization" (exact domains: an unlisted subdomain is outside)."""
    ok = resolve({"actions": [{"action": {"type": "DEFAULT"}, "recipients": ["audit@sales.example.com"]}]})
    assert ok.valid and ok.added_recipients == ["audit@sales.example.com"]
    for outsider in ("spy@example.net", "audit@eu.example.com"):
        result = resolve({"actions": [{"action": {"type": "DEFAULT"}, "recipients": [outsider]}]}, fallback="BOUNCE")
        assert not result.valid
        assert result.errors[0].field == "actions[0].recipients"
        assert "outside the organization" in result.errors[0].message
        assert set(actions_of(result).values()) == {"BOUNCE"}
        assert outsider not in result.decisions


def test_inbound_added_recipient_without_org_domains_is_invalid_with_a_hint():
    """AWS docs, response schema: inbound additions must be in the organization, which cannot be
    checked without the organization's domains; the problem says so."""
    result = resolve(DOC_ADD_RECIPIENT, org_domains=())
    assert not result.valid
    assert "no organization domains were given" in result.errors[0].message
    assert "org_domains" in result.errors[0].fix


def test_outbound_may_add_any_recipient():
    """AWS docs, response schema: the organization-only rule for additions is for inbound email."""
    data = {"actions": [
        {"action": {"type": "DEFAULT"}, "recipients": ["archive@example.net"]},
        {"action": {"type": "DEFAULT"}, "allRecipients": True},
    ]}
    result = resolve(data, direction="outbound")
    assert result.valid
    assert result.added_recipients == ["archive@example.net"]


# ---------------------------------------------------------------------------- limits


def test_actions_past_the_tenth_give_their_recipients_the_fallback():
    """AWS docs, limits and failures: "Up to 10 unique actions are allowed in the response.
    Actions greater than 10 are subject to the configured Fallback action" (with a warning)."""
    recipients = [f"user{i}@example.com" for i in range(12)]
    data = {"actions": [{"action": {"type": "DROP"}, "recipients": [r]} for r in recipients]}
    result = resolve(data, recipients=recipients, fallback="BOUNCE")
    assert result.valid
    assert MAX_ACTIONS == 10
    for i, r in enumerate(recipients):
        decision = result.decisions[r]
        if i < 10:
            assert (decision.action, decision.source) == ("DROP", f"actions[{i}]")
        else:
            assert (decision.action, decision.source) == ("BOUNCE", "fallback: action past the tenth")
    assert [w.field for w in result.warnings] == ["actions[10:]"]
    assert "2 action(s) past the tenth" in result.warnings[0].message


def test_exactly_ten_actions_are_all_applied():
    """AWS docs, limits and failures: up to 10 actions are allowed."""
    recipients = [f"user{i}@example.com" for i in range(10)]
    data = {"actions": [{"action": {"type": "DROP"}, "recipients": [r]} for r in recipients]}
    result = resolve(data, recipients=recipients, fallback="BOUNCE")
    assert set(actions_of(result).values()) == {"DROP"}
    assert result.warnings == []


def test_all_recipients_action_past_the_tenth_leaves_everyone_else_to_the_fallback():
    """AWS docs, limits and failures: an allRecipients action past the tenth is subject to the
    fallback, so recipients it would have covered get the fallback."""
    named = [f"user{i}@example.com" for i in range(10)]
    data = {"actions": [{"action": {"type": "DROP"}, "recipients": [r]} for r in named]}
    data["actions"].append({"action": {"type": "BYPASS_SPAM_CHECK"}, "allRecipients": True})
    result = resolve(data, recipients=[*named, "late@example.com"], fallback="MOVE_TO_JUNK")
    assert result.decisions["late@example.com"].action == "MOVE_TO_JUNK"
    assert result.decisions["late@example.com"].source == "fallback: action past the tenth"


def _bounce_response_of_size(size: int) -> dict:
    """A BOUNCE-all response of exactly ``size`` compact UTF-8 JSON bytes (computed here)."""
    data = {"actions": [{"action": {"type": "BOUNCE", "parameters": {"bounceMessage": ""}}, "allRecipients": True}]}
    data["actions"][0]["action"]["parameters"]["bounceMessage"] = "b" * (size - compact_size(data))
    assert compact_size(data) == size
    return data


def test_response_over_256_kb_is_invalid():
    """AWS docs, limits and failures: "Lambda function responses up to 256 KB are allowed" (kit
    choice: 262,144 bytes of compact UTF-8 JSON); a larger response is invalid, so everyone gets the fallback."""
    assert MAX_RESPONSE_BYTES == 262_144
    at_limit = resolve(_bounce_response_of_size(262_144))
    assert at_limit.valid
    over = resolve(_bounce_response_of_size(262_145), fallback="DROP")
    assert not over.valid
    assert over.errors[0].field == "(response)"
    assert "262,145 bytes, over WorkMail's 256 KB" in over.errors[0].message
    assert set(actions_of(over).values()) == {"DROP"}


def test_response_size_counts_utf8_bytes():
    """AWS docs, limits and failures: 256 KB is a size in bytes, so non-ASCII text counts its UTF-8 bytes."""
    data = {"actions": [{"action": {"type": "BOUNCE", "parameters": {"bounceMessage": "é" * 131_072}}, "allRecipients": True}]}
    assert len(json.dumps(data, ensure_ascii=False)) < 262_144 < compact_size(data)
    assert not resolve(data).valid


def test_outbound_naming_more_than_500_recipients_is_invalid():
    """AWS docs, limits and failures: "Up to 500 recipients are allowed for outbound Lambda
    functions" (kit choice: counting the distinct addresses the response names)."""
    assert MAX_OUTBOUND_RECIPIENTS == 500
    five_hundred = [f"user{i}@example.com" for i in range(500)]
    ok = resolve({"actions": [{"action": {"type": "DEFAULT"}, "recipients": five_hundred}]},
                 direction="outbound", recipients=five_hundred)
    assert ok.valid
    too_many = [*five_hundred, "one-more@example.com"]
    result = resolve({"actions": [{"action": {"type": "DEFAULT"}, "recipients": too_many}]},
                     direction="outbound", recipients=too_many, fallback="BOUNCE")
    assert not result.valid
    assert "name 501 recipients; outbound functions may name at most 500" in result.errors[0].message
    assert set(actions_of(result).values()) == {"BOUNCE"}
    # The limit is for outbound functions only.
    inbound = resolve({"actions": [{"action": {"type": "DEFAULT"}, "recipients": too_many}]},
                      direction="inbound", recipients=too_many)
    assert inbound.valid


# ------------------------------------------------------------ allRecipients as a string


@pytest.mark.parametrize("value, covers", [("true", True), ("True", True), ("false", False)])
def test_all_recipients_string_is_accepted_with_a_warning(value, covers):
    """workmail-update-email template: returns 'allRecipients': 'true' as a string; AWS docs,
    response schema: the documented type is boolean. Accepted, read as the boolean it spells, with a warning."""
    data = {"actions": [
        {"action": {"type": "DROP"}, "recipients": ["alice@example.com"]},
        {"action": {"type": "BOUNCE"}, "allRecipients": value, **({} if covers else {"recipients": ["bob@example.com"]})},
    ]}
    result = resolve(data, fallback="DEFAULT")
    assert result.valid
    [warning] = result.warnings
    assert warning.field == "actions[1].allRecipients"
    assert "not a boolean" in warning.message and "workmail-update-email" in warning.message
    assert warning.fix == f"return {value.lower()} (a JSON boolean)"
    expected = "BOUNCE" if covers else "DEFAULT"
    assert result.decisions["drop-recipient@example.com"].action == expected


@pytest.mark.parametrize("value", [1, "yes", None, []])
def test_all_recipients_of_another_type_is_invalid(value):
    """AWS docs, response schema: allRecipients is a boolean."""
    result = resolve({"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": value}]})
    assert not result.valid
    assert result.errors[0].field == "actions[0].allRecipients"


# ----------------------------------------------------------------- invalid responses


INVALID_RESPONSES = [
    pytest.param(None, "(response)", "returned nothing", id="None"),
    pytest.param(json.dumps(HELLO_WORLD_RETURN), "(response)", "returned a string", id="json-string-not-dict"),
    pytest.param(b"{}", "(response)", "returned a string", id="bytes"),
    pytest.param([HELLO_WORLD_RETURN], "(response)", "must be an object with 'actions'", id="list"),
    pytest.param({}, "actions", "is required and must be a list", id="missing-actions"),
    pytest.param({"actions": {"action": {"type": "DEFAULT"}}}, "actions", "must be a list", id="actions-not-list"),
    pytest.param({"actions": ["DEFAULT"]}, "actions[0]", "must be an object", id="entry-not-object"),
    pytest.param({"actions": [{"allRecipients": True}]}, "actions[0].action", "is required", id="entry-without-action"),
    pytest.param({"actions": [{"action": {}, "allRecipients": True}]}, "actions[0].action.type",
                 "must be one of", id="action-without-type"),
    pytest.param({"actions": [{"action": {"type": "default"}, "allRecipients": True}]}, "actions[0].action.type",
                 "got 'default'", id="lowercase-type"),
    pytest.param({"actions": [{"action": {"type": "DEFAULT"}}]}, "actions[0]",
                 "names no recipients and does not set allRecipients", id="no-recipients-no-allRecipients"),
    pytest.param({"actions": [{"action": {"type": "DEFAULT"}, "recipients": "a@example.com"}]},
                 "actions[0].recipients", "must be a list of address strings", id="recipients-not-list"),
    pytest.param({"actions": [{"action": {"type": "DEFAULT"}, "recipients": ["nobody"]}]},
                 "actions[0].recipients[0]", "is not an email address", id="recipient-not-address"),
    pytest.param({"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True, "x": {1, 2}}]},
                 "(response)", "cannot be serialised as JSON", id="not-JSON-serialisable"),
]


@pytest.mark.parametrize("data, field, message", INVALID_RESPONSES)
def test_invalid_response_gives_every_recipient_the_fallback_with_readable_problems(data, field, message):
    """AWS docs, limits and failures: "If Amazon WorkMail is unable to invoke your Lambda function
    due to an error, invalid response, or Lambda timeout ... the Fallback action is applied to all
    recipients of the email message"; AWS docs, response schema: the shape each case breaks."""
    result = resolve(data, fallback="BOUNCE")
    assert result.valid is False
    assert set(actions_of(result)) == set(RECIPIENTS)
    assert all(d.action == "BOUNCE" and d.source == "fallback: invalid response" for d in result.decisions.values())
    error = result.errors[0]
    assert isinstance(error, ResponseProblem)
    assert error.field == field
    assert message in error.message
    assert str(error).startswith(f"error: {field}: ")
    assert check_response(data, direction="inbound")[0].field == field
    with pytest.raises(ResponseError) as info:
        SyncResponse.from_dict(data, direction="inbound")
    assert isinstance(info.value, ValueError) and isinstance(info.value, WorkMailSandboxError)
    assert field in str(info.value)


def test_lowercase_type_hints_to_capitalize():
    """AWS docs, response schema: the types are written in capitals (DEFAULT); a lower-case type
    is invalid and the fix says to capitalize it."""
    [error] = check_response({"actions": [{"action": {"type": "drop"}, "allRecipients": True}]}, direction="inbound")
    assert error.fix == "write it in capitals: 'DROP'"


def test_none_and_string_responses_say_how_to_fix_them():
    """AWS docs, response schema: a synchronous function returns an object with 'actions'; the
    problems for the usual mistakes (returning nothing, returning json.dumps(...)) say what to return."""
    [none_error] = check_response(None, direction="inbound")
    assert "allRecipients" in none_error.fix
    [string_error] = check_response(json.dumps(HELLO_WORLD_RETURN), direction="inbound")
    assert "json.dumps" in string_error.fix


# ---------------------------------------------------------------------- fallback


@pytest.mark.parametrize("fallback", ["RUN_LAMBDA", "LAMBDA", "Run Lambda", "QUARANTINE", "ROUTE_TO_SMTP_GATEWAY"])
def test_inbound_fallback_must_be_an_ordinary_inbound_action(fallback):
    """AWS docs, synchronous rules: "The Fallback action cannot be another Lambda action"; it is
    one of the rule's ordinary actions (no SMTP gateway for inbound rules)."""
    with pytest.raises(ResponseError) as info:
        resolve(HELLO_WORLD_RETURN, fallback=fallback)
    assert "never Run Lambda" in str(info.value)


@pytest.mark.parametrize("fallback", ["RUN_LAMBDA", "MOVE_TO_JUNK", "BYPASS_SPAM_CHECK", "NOPE"])
def test_outbound_fallback_must_be_an_ordinary_outbound_action(fallback):
    """AWS docs, synchronous rules and outbound rule actions: the fallback is Default, Drop,
    Bounce or Route to SMTP gateway, never Lambda and never an inbound-only action."""
    with pytest.raises(ResponseError):
        resolve(HELLO_WORLD_RETURN, direction="outbound", fallback=fallback)


def test_outbound_fallback_may_route_to_the_smtp_gateway():
    """AWS docs, outbound rule actions: Route to SMTP gateway is an outbound rule action, so it can
    be the fallback; an invalid response then routes everyone through the gateway."""
    assert "ROUTE_TO_SMTP_GATEWAY" in FALLBACK_ACTION_TYPES["OUTBOUND"]
    result = resolve(None, direction="outbound", fallback="ROUTE_TO_SMTP_GATEWAY")
    assert set(actions_of(result).values()) == {"ROUTE_TO_SMTP_GATEWAY"}
    assert resolve(HELLO_WORLD_RETURN, direction="outbound", fallback="route_to_smtp_gateway").fallback == (
        "ROUTE_TO_SMTP_GATEWAY"
    )


def test_unknown_direction_is_rejected():
    """AWS docs, Lambda event data: the direction is INBOUND or OUTBOUND."""
    with pytest.raises(ValueError):
        resolve(HELLO_WORLD_RETURN, direction="sideways")


# ------------------------------------------------------------ SyncResponse round trip


def test_sync_response_to_dict_is_exactly_workmail_camel_case_json():
    """AWS docs, response schema: {"actions": [{"action": {"type", "parameters"}, "recipients",
    "allRecipients"}]} with camelCase keys; to_dict is what a handler returns."""
    response = SyncResponse((
        Action("DROP", recipients=("drop-recipient@example.com",)),
        Action("BOUNCE", all_recipients=True, parameters={"bounceMessage": "Email in breach of company policy."}),
    ))
    assert response.to_dict() == {"actions": [
        {"action": {"type": "DROP"}, "recipients": ["drop-recipient@example.com"]},
        {"action": {"type": "BOUNCE", "parameters": {"bounceMessage": "Email in breach of company policy."}},
         "allRecipients": True},
    ]}
    assert json.loads(response.to_json()) == response.to_dict()
    assert SyncResponse.for_all("BOUNCE", bounce_message="Email in breach of company policy.").to_dict() == DOC_BOUNCE_ALL
    assert SyncResponse.for_all("DEFAULT").to_dict() == HELLO_WORLD_RETURN
    assert Action("BOUNCE", parameters={"bounceMessage": "m"}).bounce_message == "m"


@pytest.mark.parametrize(
    "data, direction",
    [
        pytest.param(DOC_REMOVE_RECIPIENTS, "inbound", id="doc-remove-recipients"),
        pytest.param(DOC_BOUNCE_ALL, "inbound", id="doc-bounce-all"),
        pytest.param(DOC_ADD_RECIPIENT, "outbound", id="doc-add-recipient"),
        pytest.param(HELLO_WORLD_RETURN, "outbound", id="hello-world"),
    ],
)
def test_from_dict_round_trips_the_documented_responses(data, direction):
    """AWS docs, example responses (and the hello-world template's return value): parsing and
    serialising gives back the same JSON."""
    response = SyncResponse.from_dict(data, direction=direction)
    assert response.to_dict() == data
    assert SyncResponse.from_dict(response.to_dict(), direction=direction) == response


def test_from_dict_normalizes_the_string_all_recipients_quirk():
    """workmail-update-email template ('allRecipients': 'true'); AWS docs: the type is boolean, so
    the serialised form uses a real boolean."""
    response = SyncResponse.from_dict(
        {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": "true"}]}, direction="inbound"
    )
    assert response.to_dict() == HELLO_WORLD_RETURN


# --------------------------------------------------------------- documented patterns


def test_doc_pattern_remove_recipients():
    """AWS docs, example responses, "Remove specified recipients from an email message": DEFAULT
    for all plus DROP for the named address."""
    result = resolve(DOC_REMOVE_RECIPIENTS, fallback="BOUNCE")
    assert result.valid and result.problems == []
    assert actions_of(result) == {
        "alice@example.com": "DEFAULT",
        "bob@example.com": "DEFAULT",
        "drop-recipient@example.com": "DROP",
    }


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_doc_pattern_bounce_all_with_a_custom_message(direction):
    """AWS docs, example responses, "Bounce with a custom email message": every recipient bounced
    with the bounceMessage."""
    result = resolve(DOC_BOUNCE_ALL, direction=direction)
    assert result.valid
    assert {(d.action, d.bounce_message) for d in result.decisions.values()} == {
        ("BOUNCE", "Email in breach of company policy.")
    }


def test_doc_pattern_add_a_recipient():
    """AWS docs, example responses, "Add recipients to an email message": DEFAULT for the new
    address (added as BCC, To/CC unchanged) plus DEFAULT for all."""
    result = resolve(DOC_ADD_RECIPIENT)
    assert result.valid
    assert actions_of(result) == dict.fromkeys([*RECIPIENTS, "new-recipient@example.com"], "DEFAULT")
    assert result.added_recipients == ["new-recipient@example.com"]


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_hello_world_return_value_is_valid(direction):
    """hello-world template: the handler always returns DEFAULT for all recipients; that is a valid
    response in both directions with no warnings."""
    result = resolve(HELLO_WORLD_RETURN, direction=direction, fallback="DROP")
    assert result.valid and result.problems == []
    assert set(actions_of(result).values()) == {"DEFAULT"}
    assert not any(d.is_fallback for d in result.decisions.values())


# ------------------------------------------------------------------ report, dataframe


def test_report_is_readable():
    """Kit choice (Resolution.report docstring): a plain-text report a learner can read, with the
    validity, direction, fallback, problems and one line per recipient."""
    data = {"actions": [
        {"action": {"type": "BOUNCE", "parameters": {"bounceMessage": "Policy"}}, "recipients": ["bob@example.com"]},
        {"action": {"type": "DEFAULT"}, "recipients": ["audit@example.com"]},
        {"action": {"type": "DEFAULT"}, "allRecipients": "true"},
    ]}
    text = resolve(data, fallback="DROP").report()
    lines = text.splitlines()
    assert lines[0] == "valid INBOUND response, fallback DROP"
    assert any(line.strip().startswith("warning: actions[2].allRecipients") for line in lines)
    assert "  bob@example.com: BOUNCE <- actions[0] bounceMessage='Policy'" in lines
    assert "  audit@example.com: DEFAULT (added, BCC) <- actions[1]" in lines
    assert "  alice@example.com: DEFAULT <- actions[2] (allRecipients)" in lines
    invalid = resolve({"actions": [{"action": {"type": "default"}, "allRecipients": True}]}).report()
    assert invalid.startswith("INVALID INBOUND response, fallback DEFAULT")
    assert "write it in capitals" in invalid
    assert "fallback: invalid response" in invalid


def test_to_dataframe_has_one_row_per_recipient():
    """Kit choice (Resolution.to_dataframe docstring): one row per recipient, added ones included."""
    result = resolve(DOC_ADD_RECIPIENT)
    frame = result.to_dataframe()
    assert list(frame.columns) == ["recipient", "action", "source", "added", "bounce_message"]
    assert len(frame) == len(RECIPIENTS) + 1
    assert list(frame["recipient"]) == list(result.decisions)
    assert frame.set_index("recipient").loc["new-recipient@example.com", "added"]
    assert result.to_records()[0]["recipient"] == "alice@example.com"
    assert isinstance(next(iter(result.decisions.values())), Decision)
