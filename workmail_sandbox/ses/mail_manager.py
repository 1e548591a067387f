"""An Amazon SES Mail Manager rule set checked against its documented limits (pure; no mail flows through it).

Mail Manager is the other route AWS offers after WorkMail (docs/migrating.md). The kit does not
emulate it: no ingress endpoint, no traffic policy, no rule is ever run on a message, and the event
its InvokeLambda action sends to a function is not published, so none is built here. What *is*
published is the shape of a rule set (the Mail Manager API Reference's ``CreateRuleSet``, ``Rule``,
``RuleAction`` and ``InvokeLambdaAction``; docs/aws-behaviour.md §9), and
:func:`check_mail_manager_rule_set` checks a rule set you are about to create against it, one line
per problem::

    problems = check_mail_manager_rule_set({"RuleSetName": "inbound", "Rules": [...]})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ACTION_TYPES",
    "MAX_ACTIONS",
    "MAX_CONDITIONS",
    "MAX_RULES",
    "MAX_UNLESS",
    "check_mail_manager_rule_set",
]

#: CreateRuleSet: at most 40 rules; a rule: 1 to 10 actions, up to 10 conditions and 10 "unless" conditions.
MAX_RULES = 40
MAX_ACTIONS = 10
MAX_CONDITIONS = 10
MAX_UNLESS = 10
#: The members of the RuleAction union: exactly one per action.
ACTION_TYPES = ("Drop", "Relay", "Archive", "WriteToS3", "Send", "AddHeader", "ReplaceRecipient",
                "DeliverToMailbox", "DeliverToQBusiness", "PublishToSns", "Bounce", "InvokeLambda")
INVOCATION_TYPES = ("EVENT", "REQUEST_RESPONSE")
FAILURE_POLICIES = ("CONTINUE", "DROP")
MAX_RETRY_MINUTES = 2160
_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_ARN = re.compile(r"[a-zA-Z0-9:_/+=,@.#-]+")


def _arn_problem(where: str, field: str, value: Any) -> str | None:
    if value is None:
        return f"{where}: {field} is required"
    if not isinstance(value, str) or not 20 <= len(value) <= 2048 or not _ARN.fullmatch(value):
        return f"{where}: {field} must be an ARN of 20 to 2048 characters (letters, digits and :_/+=,@.#-)"
    return None


def _invoke_lambda_problems(where: str, spec: Any) -> list[str]:
    if not isinstance(spec, Mapping):
        return [f"{where}: InvokeLambda must be an object"]
    problems = [p for p in (_arn_problem(where, "FunctionArn", spec.get("FunctionArn")),
                            _arn_problem(where, "RoleArn", spec.get("RoleArn"))) if p]
    kind = spec.get("InvocationType")
    if kind not in INVOCATION_TYPES:
        problems.append(f"{where}: InvocationType must be EVENT or REQUEST_RESPONSE, got {kind!r}")
    policy = spec.get("ActionFailurePolicy")
    if policy is not None and policy not in FAILURE_POLICIES:
        problems.append(f"{where}: ActionFailurePolicy must be CONTINUE or DROP, got {policy!r}")
    retry = spec.get("RetryTimeMinutes")
    if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int)
                              or not 0 <= retry <= MAX_RETRY_MINUTES):
        problems.append(f"{where}: RetryTimeMinutes must be a whole number from 0 to {MAX_RETRY_MINUTES} (36 hours), "
                        f"got {retry!r}")
    unknown = sorted(set(spec) - {"FunctionArn", "RoleArn", "InvocationType", "ActionFailurePolicy",
                                  "RetryTimeMinutes"})
    if unknown:
        problems.append(f"{where}: InvokeLambda has no field {', '.join(unknown)}")
    return problems


def _rule_problems(where: str, rule: Any) -> list[str]:
    if not isinstance(rule, Mapping):
        return [f"{where}: a rule must be an object with Actions (and optionally Name, Conditions, Unless)"]
    problems = []
    name = rule.get("Name")
    if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= 32 or not _NAME.fullmatch(name)):
        problems.append(f"{where}: Name must be 1 to 32 letters, digits, '_', '.' or '-', got {name!r}")
    for field, limit in (("Conditions", MAX_CONDITIONS), ("Unless", MAX_UNLESS)):
        value = rule.get(field, [])
        if not isinstance(value, list):
            problems.append(f"{where}: {field} must be a list")
        elif len(value) > limit:
            problems.append(f"{where}: {len(value)} {field}; a rule holds at most {limit}")
    actions = rule.get("Actions")
    if not isinstance(actions, list) or not actions:
        problems.append(f"{where}: Actions is required: a list of 1 to {MAX_ACTIONS} actions")
        return problems
    if len(actions) > MAX_ACTIONS:
        problems.append(f"{where}: {len(actions)} Actions; a rule holds at most {MAX_ACTIONS}")
    for n, action in enumerate(actions, start=1):
        at = f"{where} action {n}"
        if not isinstance(action, Mapping) or len(action) != 1:
            problems.append(f"{at}: an action is an object with exactly one of {', '.join(ACTION_TYPES)}")
            continue
        kind, spec = next(iter(action.items()))
        if kind not in ACTION_TYPES:
            problems.append(f"{at}: {kind!r} is not a Mail Manager action (one of {', '.join(ACTION_TYPES)})")
        elif kind == "InvokeLambda":
            problems += _invoke_lambda_problems(at, spec)
    return problems


def check_mail_manager_rule_set(rule_set: Any) -> list[str]:
    """What ``rule_set`` (``CreateRuleSet``'s ``{"RuleSetName": ..., "Rules": [...]}``, or the rules alone) breaks.

    One line per problem, empty when it keeps the documented limits: at most 40 rules; per rule 1 to
    10 actions, up to 10 conditions and 10 "unless" conditions, a Name of up to 32 characters; each
    action one member of the RuleAction union; InvokeLambda with FunctionArn, RoleArn, InvocationType
    EVENT or REQUEST_RESPONSE, ActionFailurePolicy CONTINUE or DROP, RetryTimeMinutes 0 to 2160. The
    conditions themselves and the other actions' fields are not checked.
    """
    problems: list[str] = []
    if isinstance(rule_set, Mapping):
        name = rule_set.get("RuleSetName")
        if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= 100
                                 or not _NAME.fullmatch(name)):
            problems.append(f"RuleSetName must be 1 to 100 letters, digits, '_', '.' or '-', got {name!r}")
        rules = rule_set.get("Rules")
    else:
        rules = rule_set
    if not isinstance(rules, list):
        return [*problems, "Rules must be a list of rules"]
    if len(rules) > MAX_RULES:
        problems.append(f"{len(rules)} Rules; a rule set holds at most {MAX_RULES}")
    for n, rule in enumerate(rules[: MAX_RULES + 1], start=1):
        label = rule.get("Name") if isinstance(rule, Mapping) and isinstance(rule.get("Name"), str) else None
        problems += _rule_problems(f"rule {n}" + (f" ({label})" if label else ""), rule)
    return problems
