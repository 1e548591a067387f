"""src/app.py, run as a synchronous Run Lambda rule runs it, in the workmail-sandbox.

Each test puts a message in transit, sends the function the event WorkMail would send,
then checks what WorkMail would deliver (the message content) and what it would do
for each recipient (the function's response, resolved as WorkMail applies it).
"""

import email
import email.policy
from pathlib import Path

import pytest

from workmail_sandbox import events_from_message, resolve_response

MESSAGES = Path(__file__).parent / "messages"


def in_transit(sandbox, org, eml, *, direction="INBOUND", redirected=None):
    """Put a message in transit; return its messageId and the event WorkMail sends for it."""
    raw = (MESSAGES / eml).read_bytes()
    message_id = sandbox.put_message_in_transit(
        raw, organization_id=org.organization_id, direction=direction, redirected=redirected
    )
    [event] = events_from_message(raw, direction=direction, org_domains=org.domains)
    return message_id, {**event.to_dict(), "messageId": message_id}


def run_sync_rule(sandbox, function_name, event):
    """Invoke the function as a synchronous Run Lambda rule does; fail on an error."""
    result = sandbox.runtime.invoke(function_name, event, workmail_mode="sync", message_id=event["messageId"])
    assert result.ok, result.log_text
    return result


def subject_delivered(sandbox, message_id):
    """The Subject of the message WorkMail would deliver."""
    return email.message_from_bytes(sandbox.message_content(message_id), policy=email.policy.default)["Subject"]


def actions(result, event, org):
    """The action WorkMail takes for each recipient, from the function's response."""
    recipients = [r["address"] for r in event["envelope"]["recipients"]]
    resolution = resolve_response(
        result.payload, direction=event["flowDirection"], recipients=recipients, org_domains=org.domains
    )
    assert resolution.valid, resolution.report()
    return {recipient: decision.action for recipient, decision in resolution.decisions.items()}


def test_external_mail_is_tagged(workmail_sandbox, workmail_org, my_function):
    message_id, event = in_transit(workmail_sandbox, workmail_org, "external.eml")

    result = run_sync_rule(workmail_sandbox, my_function, event)

    assert subject_delivered(workmail_sandbox, message_id) == "[External] Price list for 2027"
    assert actions(result, event, workmail_org) == {"alice@example.com": "DEFAULT"}


@pytest.mark.parametrize("direction", ["INBOUND", "OUTBOUND"])
def test_internal_mail_is_left_alone(workmail_sandbox, workmail_org, my_function, direction):
    message_id, event = in_transit(workmail_sandbox, workmail_org, "internal.eml", direction=direction)

    result = run_sync_rule(workmail_sandbox, my_function, event)

    assert subject_delivered(workmail_sandbox, message_id) == "Lunch on Friday?"
    assert workmail_sandbox.message_history(message_id) == []  # no PutRawMessageContent at all
    assert actions(result, event, workmail_org) == {"alice@example.com": "DEFAULT"}


def test_a_retry_with_the_same_invocation_id_tags_once(workmail_sandbox, workmail_org, my_function):
    """WorkMail retries a failed invocation with the same event, invocationId included."""
    message_id, event = in_transit(workmail_sandbox, workmail_org, "external.eml")

    first = run_sync_rule(workmail_sandbox, my_function, event)
    retry = run_sync_rule(workmail_sandbox, my_function, dict(event))

    assert subject_delivered(workmail_sandbox, message_id) == "[External] Price list for 2027"
    assert len(workmail_sandbox.message_history(message_id)) == 1  # the retry did not replace it again
    assert first.payload == retry.payload


def test_redirected_mail_is_delivered_untagged(workmail_sandbox, workmail_org, my_function):
    """PutRawMessageContent answers MessageFrozen for redirected mail; the function carries on."""
    message_id, event = in_transit(workmail_sandbox, workmail_org, "external.eml", redirected=True)

    result = run_sync_rule(workmail_sandbox, my_function, event)

    assert subject_delivered(workmail_sandbox, message_id) == "Price list for 2027"
    assert "is frozen (redirected)" in result.log_text
    assert actions(result, event, workmail_org) == {"alice@example.com": "DEFAULT"}
