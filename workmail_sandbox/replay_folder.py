"""Replay a corpus against a rule file in a fresh sandbox: what ``workmail-sandbox replay`` runs.

:func:`replay_folder` starts a sandbox (or uses the running one), creates an
organization, deploys ``--function`` when given, and routes the corpus with
:func:`workmail_sandbox.replay.replay`.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path

from . import sandbox as sandbox_module
from .deploy.handler import deploy_handler
from .errors import ConfigurationError
from .flow import FlowSettings
from .organization import Organization
from .replay import SAMPLE_DOMAINS
from .rules import Rule, RuleSet

__all__ = ["replay_folder"]


def _function_spec(spec: str) -> tuple[Path, str]:
    path_text, colon, handler = spec.rpartition(":")
    if not colon or not path_text or not handler:
        raise ConfigurationError(
            f"--function takes PATH:HANDLER (a Python file and the handler's name), got {spec!r}.",
            fix="for example --function my_function.py:lambda_handler",
        )
    path = Path(path_text)
    if not path.is_file():
        raise ConfigurationError(f"{path}: no such Python file.", fix="give the path of the file defining the handler")
    if not handler.isidentifier():
        raise ConfigurationError(
            f"{handler!r} is not a Python function name.", fix="give the handler's name, e.g. lambda_handler"
        )
    return path, handler


def replay_folder(
    source: str | PathLike,
    rules_path: str | PathLike,
    function: str | None = None,
    csv: str | PathLike | None = None,
    *,
    domains: tuple[str, ...] | list[str] = SAMPLE_DOMAINS,
    users: tuple[str, ...] | list[str] = (),
    direction: str = "auto",
    progress: bool = True,
):
    """Replay a corpus against a rule file in a fresh sandbox; returns the DataFrame (and writes ``csv``).

    The organization (alias ``replay``) has ``domains`` (default: the sample
    organization's, example.com and sales.example.com) and ``users``; any
    other address of those domains gets a mailbox on first delivery
    (``unknown_recipients="create-mailbox"``), so your own exported mail
    replays without creating every user first.

    ``function`` (``"PATH:HANDLER"``): the Python file is deployed as a Lambda
    function (``app.py``, with AmazonWorkMailMessageFlowFullAccess on its
    role), the organization is allowed to invoke it (``lambda add-permission``
    with its ARN), and **every Run Lambda rule of the rule file runs it**
    instead of the function its ``function_arn`` names. Without ``function``,
    Run Lambda rules call the functions they name, which do not exist in a
    fresh sandbox: those invocations fail and the rules' fallbacks apply.

    If a sandbox is already running in this process (a notebook), it is used
    and left running; otherwise one is started and stopped afterwards.
    """
    rules = RuleSet.from_file(rules_path)
    spec = _function_spec(function) if function else None
    if spec is not None and not any(r.is_run_lambda for r in rules):
        raise ConfigurationError(
            f"{rules_path}: the rule set has no Run Lambda rule, so --function would never run.",
            fix="add a rule with action RUN_LAMBDA (see data/rules/run-lambda-sync.json), or leave --function out",
        )
    with sandbox_module.sandbox() as sb:
        alias = "replay"
        taken = {o["Alias"] for o in sb.client("workmail").list_organizations()["OrganizationSummaries"]}
        n = 1
        while alias in taken:
            n += 1
            alias = f"replay-{n}"
        settings = FlowSettings(unknown_recipients="create-mailbox")
        if spec is not None:
            path, handler = spec
            name = re.sub(r"[^A-Za-z0-9_-]", "-", f"replay-{path.stem}")[:64]
            deployed = deploy_handler(
                path.read_text(encoding="utf-8"),
                name=name,
                handler_name=handler,
                managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"],
                description=f"{path.name}:{handler}, deployed by workmail-sandbox replay",
            )
            arn = deployed["FunctionArn"]
            rules = RuleSet(
                [_with_function(r, arn) for r in rules], settings=rules.settings, description=rules.description
            )
        org = Organization.create(sb, alias, domains=list(domains), users=list(users), rules=rules, settings=settings)
        if spec is not None:
            org.grant_invoke(name)
        df = org.replay(source, progress=progress, direction=direction)
    if csv is not None:
        df.to_csv(csv, index=False)
    return df


def _with_function(rule: Rule, arn: str) -> Rule:
    if not rule.is_run_lambda:
        return rule
    return Rule(
        rule.name, rule.direction, rule.sender_patterns, rule.recipient_patterns, rule.action,
        function_arn=arn, synchronous=rule.synchronous, fallback_action=rule.fallback_action,
        rule_timeout_minutes=rule.rule_timeout_minutes, description=rule.description,
    )

