"""The cheaper per-invocation pieces behave as the ones they replaced (issue #16, Run Lambda case)."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from tests.test_emulator_messageflow import (  # the Message Flow emulator's fixture and helpers
    ACCOUNT,
    ORG,
    OTHER_ORG,
    RAW,
    REGION,
    env,  # noqa: F401 - a fixture
    get_error,
    invocation,
)
from workmail_sandbox.emulators import _core
from workmail_sandbox.emulators.messageflow import models as flow_models
from workmail_sandbox.emulators.messageflow.models import _has_resent_field
from workmail_sandbox.iam import MESSAGE_FLOW_READ_ONLY_POLICY
from workmail_sandbox.lambda_runtime._guard import Hooks
from workmail_sandbox.lambda_runtime._workers import Flag
from workmail_sandbox.mail import parse_message

# ------------------------------------------------------------------ Flag (was threading.Event)


def test_flag_waits_until_set_from_another_thread() -> None:
    flag = Flag()
    assert not flag.is_set()
    threading.Timer(0.05, flag.set).start()
    assert flag.wait(5.0)
    assert flag.is_set()
    assert flag.wait(0.0) and flag.wait()  # later waits return at once, as an Event's do


def test_flag_wait_times_out_in_bounded_time() -> None:
    flag = Flag()
    started = time.perf_counter()
    assert flag.wait(0.05) is False
    assert flag.wait(0.0) is False
    assert flag.wait(-1.0) is False  # a negative timeout does not wait (a deadline already passed)
    assert time.perf_counter() - started < 2.0


def test_flag_set_twice_is_harmless() -> None:
    flag = Flag()
    flag.set()
    flag.set()  # the worker sets init_done again in its finally block
    assert flag.wait(0.0)


# ------------------------------------------------------------------ _keep_params: a copy, as deep as it needs


def test_keep_params_copies_flat_params(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core.STATE, "active", True)
    params = {"messageId": "abc", "n": 1}
    context: dict = {}
    _core._keep_params(params, context)
    kept = context[_core._PARAMS_KEY]
    assert kept == params and kept is not params
    params["messageId"] = "changed later"
    assert kept["messageId"] == "abc"


def test_keep_params_copies_nested_params_deeply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core.STATE, "active", True)
    params = {"messageId": "abc", "content": {"s3Reference": {"bucket": "b", "key": "k"}}}
    context: dict = {}
    _core._keep_params(params, context)
    params["content"]["s3Reference"]["key"] = "changed later"
    assert context[_core._PARAMS_KEY]["content"]["s3Reference"]["key"] == "k"


# ------------------------------------------------------------------ Resent-* from the field names

RESENT_CASES = [
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
    b"Resent-From: c@example.com\r\nFrom: a@example.com\r\nTo: b@example.com\r\n\r\nbody\r\n",
    b"From: a@example.com\r\nRESENT-DATE: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n",
    b"From: a@example.com\r\nX-Resent-From: c@example.com\r\nSubject: Resent-From: x\r\n\r\nbody\r\n",
]


@pytest.mark.parametrize("raw", RESENT_CASES)
def test_resent_field_check_agrees_with_parsed_message(raw: bytes) -> None:
    parsed = parse_message(raw, headers_only=True, max_bytes=None)
    fresh = parse_message(raw, headers_only=True, max_bytes=None)
    assert _has_resent_field(fresh) is parsed.resent


# ------------------------------------------------------------------ the hooks check still sees tampering


def test_hooks_restore_puts_back_a_replaced_socket_function(workmail_sandbox) -> None:
    assert workmail_sandbox.network.installed
    hooks = Hooks()
    assert hooks.restore() == []  # nothing changed: nothing reported
    before = socket.getaddrinfo
    socket.getaddrinfo = lambda *a, **k: []  # type: ignore[assignment]  # the tampering under test
    assert "network guard" in hooks.restore()
    assert socket.getaddrinfo is before


# ------------------------------------------------------------------ the execution role's allowed decision, remembered



def test_allowed_role_decision_is_remembered_until_the_role_changes(env) -> None:  # noqa: F811 - the fixture
    """docs/aws-behaviour.md §3.2: the role needs GetRawMessageContent on the message ARN; an allowed
    decision is reused only while the role's policies are the same."""
    first, second = env.add(), env.add()
    role = env.role("cached-reader", managed=["AmazonWorkMailMessageFlowReadOnlyAccess"])
    flow_models._ALLOWED_ROLE_CALLS.clear()
    with invocation(first, role_arn=role):
        assert env.get(first) == RAW
    assert len(flow_models._ALLOWED_ROLE_CALLS) == 1  # remembered
    with invocation(second, role_arn=role):
        assert env.get(second) == RAW  # from the remembered decision
    env.iam.detach_role_policy(RoleName="cached-reader",
                               PolicyArn="arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess")
    with invocation(second, role_arn=role):
        error = get_error(env, second, "AccessDeniedException", 403, modeled=False)
    assert "no identity-based policy allows" in error.response["Error"]["Message"]


def test_a_policy_that_tells_messages_apart_is_checked_for_each_message(env) -> None:  # noqa: F811 - the fixture
    """A policy scoped to one organization allows its messages and still refuses another's, in either order."""
    ours, theirs = env.add(), env.add(organization_id=OTHER_ORG)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "workmailmessageflow:GetRawMessageContent",
            "Resource": f"arn:aws:workmailmessageflow:{REGION}:{ACCOUNT}:message/{ORG}/*",
        }],
    }
    role = env.role("org-scoped", inline=policy)
    flow_models._ALLOWED_ROLE_CALLS.clear()
    with invocation(ours, role_arn=role):
        assert env.get(ours) == RAW
    assert not flow_models._ALLOWED_ROLE_CALLS  # not remembered: it depends on the message
    with invocation(theirs, role_arn=role):
        get_error(env, theirs, "AccessDeniedException", 403, modeled=False)


def test_which_policies_decide_alike_for_every_message() -> None:
    def same(statement: dict) -> bool:
        return flow_models._same_for_every_message("p", json.dumps({"Version": "2012-10-17", "Statement": [statement]}))

    allow = {"Effect": "Allow", "Action": "workmailmessageflow:GetRawMessageContent"}
    assert flow_models._same_for_every_message("ro", json.dumps(MESSAGE_FLOW_READ_ONLY_POLICY))
    assert same({**allow, "Resource": "*"})
    assert same({**allow, "Resource": "arn:aws:workmailmessageflow:*:*:message/*"})
    assert same({**allow, "Resource": f"arn:aws:workmailmessageflow:{REGION}:{ACCOUNT}:*"})
    assert same({"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::*:*:*:*"}) is False
    assert same({**allow, "Resource": f"arn:aws:workmailmessageflow:{REGION}:{ACCOUNT}:message/{ORG}/*"}) is False
    assert same({**allow, "Resource": "arn:aws:workmailmessageflow:us-*:*:message/*"}) is False
    assert same({**allow, "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}) is False
    assert flow_models._same_for_every_message("bad", "{not json") is False
