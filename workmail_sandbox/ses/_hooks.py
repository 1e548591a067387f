"""SES receiving's botocore hooks: ``SendBounce`` answered, receipt-rule quotas enforced.

moto stores receipt rule sets but implements neither ``SendBounce`` nor SES's
quotas. These hooks answer, for every boto3 client while a sandbox runs
(function code included), as SES would:

* ``ses.send_bounce`` for a message SES receiving took in the sandbox answers
  ``{"MessageId": ...}`` and the bounce is recorded on that message's
  :class:`~workmail_sandbox.ses.receiving.SesReceipt`; for an unknown
  ``OriginalMessageId`` or an unverified ``BounceSender`` it answers
  ``MessageRejected`` (the one error SendBounce documents; the wording is the kit's);
* ``CreateReceiptRuleSet`` / ``CloneReceiptRuleSet`` past 40 rule sets,
  ``CreateReceiptRule`` past 200 rules in a set, and ``CreateReceiptRule`` /
  ``UpdateReceiptRule`` with more than 10 actions answer ``LimitExceeded``.

:func:`install` runs when ``workmail_sandbox`` is imported (before any session is
made); outside a sandbox each hook does nothing.
"""

from __future__ import annotations

import datetime as _dt
import threading
import uuid
from collections import OrderedDict
from typing import Any

from botocore.awsrequest import AWSResponse

from .. import _moto
from .._internal_clients import sandbox_client
from ..emulators._core import STATE, ResponseBody
from .bounces import SesBounce
from .event import new_ses_message_id
from .rules import MAX_ACTIONS_PER_RULE, MAX_RULE_SETS, MAX_RULES_PER_RULE_SET

__all__ = ["install", "remember", "take_bounces"]

_PARAMS_KEY = "workmail_sandbox_ses_params"
_LOCK = threading.Lock()
#: Messages SES receiving took: message id -> (account, region, sender, recipients, when); the newest 10 000.
_RECEIVED: OrderedDict[str, tuple[str, str, str, tuple[str, ...], _dt.datetime]] = OrderedDict()
#: SendBounce works on a message up to 24 hours after SES received it (on the sandbox's clock).
BOUNCE_WINDOW = _dt.timedelta(hours=24)
_BOUNCES: dict[str, list[dict[str, Any]]] = {}
_KEEP = 10_000


def remember(account: str, region: str, message_id: str, sender: str, recipients: list[str],
             when: _dt.datetime) -> None:
    """Note a message received at ``when`` (sandbox clock), so SendBounce may name it."""
    with _LOCK:
        _RECEIVED[message_id] = (account, region, sender, tuple(recipients), when)
        while len(_RECEIVED) > _KEEP:
            old, _ = _RECEIVED.popitem(last=False)
            _BOUNCES.pop(old, None)


def take_bounces(message_id: str) -> list[SesBounce]:
    """The SendBounce calls made for ``message_id`` so far, as SesBounce records (and forget them)."""
    with _LOCK:
        found = _BOUNCES.pop(message_id, [])
    return [SesBounce(**b) for b in found]


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if STATE.active:
        context[_PARAMS_KEY] = dict(params)


def _answer(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-requestid": request_id}
    body["ResponseMetadata"] = {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers,
                                "RetryAttempts": 0}
    return AWSResponse("", status, headers, ResponseBody(b"")), body


def _error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return _answer(400, {"Error": {"Code": code, "Message": message, "Type": "Sender"}})


def _send_bounce(model: Any, context: dict[str, Any], **_: Any) -> Any:
    """before-call.ses.SendBounce: accept a bounce of a message SES receiving took."""
    if not STATE.active:
        return None
    params = context.pop(_PARAMS_KEY, {})
    region = context.get("client_region") or "us-east-1"
    original = str(params.get("OriginalMessageId", ""))
    with _LOCK:
        known = _RECEIVED.get(original)
    if known is None:
        return _error("MessageRejected", f"OriginalMessageId {original!r} is not a message Amazon SES received "
                      "in this sandbox (use event['Records'][0]['ses']['mail']['messageId']).")
    if STATE.clock.now() - known[4] > BOUNCE_WINDOW:
        return _error("MessageRejected", f"Message {original} was received more than 24 hours ago; SendBounce "
                      "works on a message up to 24 hours after Amazon SES receives it.")
    bounce_sender = str(params.get("BounceSender", ""))
    domain = bounce_sender.rpartition("@")[2].lower()
    identities = sandbox_client("ses", region).list_identities().get("Identities", [])
    if bounce_sender.lower() not in {i.lower() for i in identities} and domain not in {i.lower() for i in identities}:
        return _error("MessageRejected", "Email address is not verified. The following identities failed the "
                      f"check in region {region.upper()}: {bounce_sender}")
    infos = params.get("BouncedRecipientInfoList") or []
    recipients = tuple(str(i.get("Recipient", "")).lower() for i in infos)
    types = sorted({str(i.get("BounceType")) for i in infos if i.get("BounceType")})
    with _LOCK:
        _BOUNCES.setdefault(original, []).append({
            "via": "SendBounce", "to": known[2], "sender": bounce_sender, "recipients": recipients,
            "smtp_reply_code": "550", "status_code": None,
            "message": str(params.get("Explanation") or ", ".join(types) or "bounced by the function"),
            "rule": None,
        })
    return _answer(200, {"MessageId": new_ses_message_id()})


def _count_sets(region: str) -> int:
    return len(sandbox_client("ses", region).list_receipt_rule_sets().get("RuleSets", []))


def _too_many_actions(rule: Any) -> Any:
    actions = rule.get("Actions") if isinstance(rule, dict) else None
    if isinstance(actions, list) and len(actions) > MAX_ACTIONS_PER_RULE:
        return _error("LimitExceeded", f"Rule {rule.get('Name')} has {len(actions)} actions; a receipt rule "
                      f"holds at most {MAX_ACTIONS_PER_RULE}.")
    return None


def _quota(model: Any, context: dict[str, Any], **_: Any) -> Any:
    """before-call.ses.<receipt rule operations>: SES's receipt-rule quotas, which moto does not enforce."""
    if not STATE.active:
        return None
    params = context.pop(_PARAMS_KEY, {})
    region = context.get("client_region") or "us-east-1"
    operation = model.name
    if operation in ("CreateReceiptRuleSet", "CloneReceiptRuleSet") and _count_sets(region) >= MAX_RULE_SETS:
        return _error("LimitExceeded", f"An account holds at most {MAX_RULE_SETS} receipt rule sets per Region.")
    if operation in ("CreateReceiptRule", "UpdateReceiptRule"):
        _moto.fix_ses_lambda_action_check()  # moto looks for the function in the wrong Lambda backend
        refused = _too_many_actions(params.get("Rule"))
        if refused is not None:
            return refused
    if operation == "CreateReceiptRule":
        ses = sandbox_client("ses", region)
        try:
            rules = ses.describe_receipt_rule_set(RuleSetName=params.get("RuleSetName", "")).get("Rules", [])
        except Exception:  # noqa: BLE001 - no such set: moto answers RuleSetDoesNotExist itself
            return None
        if len(rules) >= MAX_RULES_PER_RULE_SET:
            return _error("LimitExceeded", f"Rule set {params.get('RuleSetName')} already holds "
                          f"{MAX_RULES_PER_RULE_SET} receipt rules, the most a rule set may hold.")
    return None


_QUOTA_OPERATIONS = ("CreateReceiptRuleSet", "CloneReceiptRuleSet", "CreateReceiptRule", "UpdateReceiptRule")


def install() -> None:
    """Put the hooks into botocore's built-in handlers for the process's life (idempotent)."""
    for operation in (*_QUOTA_OPERATIONS, "SendBounce"):
        _moto.register_lasting_handler(f"before-parameter-build.ses.{operation}", _keep_params)
    for operation in _QUOTA_OPERATIONS:
        _moto.register_lasting_handler(f"before-call.ses.{operation}", _quota)
    _moto.register_lasting_handler("before-call.ses.SendBounce", _send_bounce)
