"""Run a SAM project's function on one message as WorkMail would: what ``workmail-sandbox invoke`` runs.

``sam local invoke`` for WorkMail. :func:`invoke_project` starts a sandbox (or
uses the running one, which it leaves running), creates an organization whose
mail domains are the message's recipient domains (outbound: the sender's), deploys
the project with :func:`~workmail_sandbox.deploy.project.deploy_project`, lets
WorkMail invoke the function when the stack does not already, attaches one Run
Lambda rule (synchronous or asynchronous) for it, routes the message through the
organization and gathers what happened::

    from workmail_sandbox.project_invoke import invoke_project

    run = invoke_project("examples/my_workmail_function", "data/emails/01-plain-inbound.eml")
    print(run.report())                  # per recipient, subject before/after, header diff, log, AWS calls
    run.recipients[0].outcome, run.content.subject_after, [str(c) for c in run.calls]

Choices (*choice*: ``sam local invoke`` has no WorkMail to copy): **one attempt** (rule
timeout 0, ``rule_timeout_minutes=`` changes it: a failing synchronous function gets the
fallback DEFAULT at once); a template parameter named ``OrganizationId``, or whose
``AllowedPattern`` accepts organization ids, gets the organization's id unless given;
``lambda add-permission`` (principal ``workmail.<region>.amazonaws.com``, ``SourceArn``
the organization, ``SourceAccount``) only when the stack does not already let WorkMail
invoke the function (:func:`~workmail_sandbox.permissions.workmail_invoke_decision`);
recipients get a mailbox on delivery (``unknown_recipients="create-mailbox"``); in a
running sandbox, an organization that already holds the domains is used.
:func:`deploy_for_organization` and :func:`using_stand_ins` serve ``replay --project`` too.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import call_log
from . import sandbox as sandbox_module
from .deploy.project import DeployedFunction, Project, deploy_project, find_template
from .errors import ConfigurationError, MessageParseError, SandboxError
from .flow import FlowSettings
from .mail import ParsedMessage, parse_message, read_eml
from .organization import Organization
from .permissions import workmail_invoke_decision
from .rules import Rule, RuleSet
from .workmail_service import service_principal

__all__ = [
    "ContentChange",
    "OrganizationDeployment",
    "ProjectInvocation",
    "RecipientResult",
    "deploy_for_organization",
    "invoke_project",
    "using_stand_ins",
]

MODES = ("sync", "async")
DIRECTIONS = ("inbound", "outbound")
#: How many log lines (the last) and recipients (the first) :meth:`ProjectInvocation.report` shows.
REPORT_LOG_LINES = REPORT_RECIPIENTS = 20
_ORG_ID_SAMPLES = ("m-0123456789abcdef0123456789abcdef", "m-fedcba9876543210fedcba9876543210")


# ------------------------------------------------------------------------ deploying


@dataclass
class OrganizationDeployment:
    """A project deployed for an organization: the function the rule runs, and how it may be invoked."""

    project: Project
    function: DeployedFunction
    #: Parameters given the organization's id because the user gave none.
    filled_parameters: list[str]
    #: ``"stack"`` (the stack's own resources let WorkMail invoke it) or ``"granted"`` (add-permission made here).
    permission: str
    permission_reason: str


def organization_parameters(path: str | os.PathLike[str], given: Mapping[str, Any]) -> list[str]:
    """The template's parameters that take an organization id and were not ``given``.

    A parameter named ``OrganizationId``, or whose ``AllowedPattern`` accepts organization ids
    (``m-`` and 32 hex digits). A template that cannot be read gives none (deploy_project then
    says what is wrong with it).
    """
    from .sam.templates import load_template

    try:
        template = load_template(find_template(path).read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - deploy_project reports the template's problem in one line
        return []
    declared = template.get("Parameters")
    if not isinstance(declared, Mapping):
        return []
    found = []
    for name, spec in declared.items():
        if name in given:
            continue
        pattern = spec.get("AllowedPattern") if isinstance(spec, Mapping) else None
        if name == "OrganizationId" or (isinstance(pattern, str) and _takes_organization_ids(pattern)):
            found.append(str(name))
    return found


def _takes_organization_ids(pattern: str) -> bool:
    """True for an AllowedPattern that accepts organization ids and refuses other text."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    accepts = all(compiled.fullmatch(sample) for sample in _ORG_ID_SAMPLES)
    return accepts and compiled.fullmatch("example") is None and compiled.fullmatch("") is None


def deploy_for_organization(
    path: str | os.PathLike[str],
    org: Organization,
    *,
    function: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    skip: Sequence[str] = (),
    stack_name: str | None = None,
) -> OrganizationDeployment:
    """Deploy the SAM project at ``path`` for ``org`` and make sure WorkMail may invoke its function.

    Parameters taking an organization id get ``org.id`` unless given; ``function`` is the
    logical id (needed when the project has several functions); a ``nodejs*`` function is set
    to run in worker processes (``isolation="process"``: the runtime runs Node.js only there).
    Warnings of the build are in ``deployment.project.warnings`` (not issued). Raises :class:`SandboxError` (one line)
    for a project that cannot be deployed.
    """
    given = dict(parameters or {})
    filled = organization_parameters(path, given)
    values = {**given, **dict.fromkeys(filled, org.id)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the same notes are in project.warnings
        project = deploy_project(path, values, stack_name=stack_name, region=org.region, skip=tuple(skip))
    deployed = project.function(function)
    runtime = getattr(org.sandbox, "runtime", None)
    if deployed.runtime.startswith("nodejs") and runtime is not None:
        runtime.set_isolation(deployed.name, "process")  # Node.js functions run in worker processes only
    decision = workmail_invoke_decision(
        deployed.arn, organization_arn=org.arn, region=org.region, account=org.account_id
    )
    if decision.allowed:
        return OrganizationDeployment(project, deployed, filled, "stack", decision.reason)
    lam = org.sandbox.client("lambda", region_name=org.region)
    statement = f"workmail-sandbox-{org.id}"
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.remove_permission(FunctionName=deployed.name, StatementId=statement)  # an earlier run's, now stale
    principal = service_principal(org.region)
    lam.add_permission(FunctionName=deployed.name, StatementId=statement, Action="lambda:InvokeFunction",
                       Principal=principal, SourceArn=org.arn, SourceAccount=org.account_id)  # fmt: skip
    return OrganizationDeployment(project, deployed, filled, "granted", decision.reason)


@contextlib.contextmanager
def using_stand_ins(path: str | os.PathLike[str] | None, sb: Any, *, keep: bool = False) -> Iterator[list[str]]:
    """Load the stand-ins a file declares for the block; yields their targets (``service.Operation``, URL prefixes).

    They are removed afterwards unless ``keep`` (a sandbox stopped after the block clears them anyway).
    """
    if path is None:
        yield []
        return
    from .stand_ins import load_stand_ins

    made = load_stand_ins(Path(path), sb)
    try:
        yield [s.target for s in made]
    finally:
        if not keep:
            for stand_in in made:
                stand_in.remove()


# ------------------------------------------------------------------------ the result


@dataclass
class RecipientResult:
    """Where one recipient's copy went: ``outcome`` is inbox, junk, dropped, bounced, sent or failed."""

    recipient: str
    outcome: str
    action: str
    rule: str | None
    source: str
    reason: str
    bounce_message: str | None = None
    added: bool = False

    def line(self) -> str:
        by = f"rule {self.rule!r}, " if self.rule else ""
        extra = f"; bounce message {self.bounce_message!r}" if self.bounce_message else ""
        extra += f": {self.reason}" if self.source in ("ses", "delivery") and self.reason else ""
        added = " (added by the function, BCC)" if self.added else ""
        return f"{self.recipient}{added}: {self.outcome} ({self.action}; {by}{self.source}){extra}"


@dataclass
class ContentChange:
    """The message before the function and the content delivery used after it."""

    subject_before: str
    subject_after: str
    #: A unified diff of the header blocks (unfolded lines), empty when the headers are the same.
    header_diff: list[str]
    body_changed: bool
    #: Every PutRawMessageContent the function made: size, whether it took effect, and why.
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when delivery used other content than the message as received."""
        return bool(self.header_diff) or self.body_changed


@dataclass
class ProjectInvocation:
    """What :func:`invoke_project` did: the function's run, each recipient's fate, the content, logs and calls.

    ``status`` is ``"succeeded"`` (the function ran without error; synchronous: its
    response was applied), ``"failed"`` (an error, a timeout, or a synchronous response
    WorkMail cannot use; ``error`` says which) or ``"not invoked"`` (the rule never ran
    it: ``note`` says why, e.g. SES blocked a virus).
    """

    project: str
    eml: str
    stack_name: str
    logical_id: str
    function_name: str
    function_arn: str
    runtime: str
    mode: str
    direction: str
    organization_id: str
    organization_alias: str
    #: False when the running sandbox's organization that holds the domains was used.
    organization_created: bool
    domains: list[str]
    parameters: dict[str, str]
    filled_parameters: list[str]
    permission: str
    permission_reason: str
    stand_ins: list[str]
    status: str
    invocation_outcome: str
    invocation_reason: str
    attempts: int
    request_ids: list[str]
    duration_ms: float
    response: Any
    error: dict[str, Any] | None
    timed_out: bool
    recipients: list[RecipientResult]
    skipped: list[str]
    content: ContentChange
    logs: list[str]
    calls: list[call_log.AwsCall]
    http_calls: list[str]
    warnings: list[str]
    note: str = ""

    @property
    def ok(self) -> bool:
        """True when the function ran without error (the command's exit status 0)."""
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON values (``workmail-sandbox invoke --json``)."""
        data = asdict(self)
        data["ok"] = self.ok
        data["content"]["changed"] = self.content.changed
        data["calls"] = [call.to_dict() for call in self.calls]
        return data

    def report(self, log_lines: int = REPORT_LOG_LINES) -> str:
        """A short text: the run, each recipient, the subject and header changes, the log tail, the AWS calls."""
        mode = "synchronous" if self.mode == "sync" else "asynchronous"
        lines = [
            f"{self.logical_id} ({self.function_name}, {self.runtime}): {mode} {self.direction} Run Lambda rule, "
            f"message {self.eml}",
            f"  organization {self.organization_id} ({self.organization_alias}"
            f"{'' if self.organization_created else ', already in the sandbox'}): {', '.join(self.domains)}",
        ]
        lines += [f"  {name}: filled in with the organization's id" for name in self.filled_parameters]
        lines.append(
            "  permission: the stack already lets WorkMail invoke the function"
            if self.permission == "stack"
            else "  permission: granted here (lambda add-permission), the stack did not allow WorkMail"
        )
        if self.stand_ins:
            lines.append(f"  stand-ins: {', '.join(self.stand_ins)}")
        lines.append(self._function_line())
        lines.append("recipients:")
        lines += [f"  {r.line()}" for r in self.recipients[:REPORT_RECIPIENTS]] or ["  (none)"]
        if len(self.recipients) > REPORT_RECIPIENTS:
            rest = Counter(r.outcome for r in self.recipients[REPORT_RECIPIENTS:])
            counts = ", ".join(f"{outcome} {n}" for outcome, n in rest.most_common())
            lines.append(f"  ... {sum(rest.values())} more ({counts}); --json lists every recipient")
        if self.skipped:
            lines.append(f"  not for this organization: {', '.join(self.skipped)}")
        if self.note and self.status != "not invoked":
            lines.append(f"  note: {self.note}")
        lines += self._content_lines()
        lines += self._log_lines(log_lines)
        lines.append(f"AWS calls by the function ({len(self.calls)}):")
        lines += [f"  {call}" for call in self.calls] or ["  (none)"]
        lines += [f"  HTTP (stand-in) {url}" for url in self.http_calls]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _function_line(self) -> str:
        attempts = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        if self.status == "not invoked":
            return f"function: not invoked ({self.note or 'no recipient reached the rule'})"
        if self.status == "succeeded":
            shown = "" if self.mode == "async" else f": {_short_json(self.response)}"
            return f"function: succeeded in {self.duration_ms:.1f} ms ({attempts}){shown}"
        error = self.error or {}
        what = f"{error.get('type', 'Error')}: {error.get('message', '')}".rstrip(": ")
        then = "; the rule's fallback applied" if self.invocation_outcome == "fallback" else ""
        return f"function: FAILED ({attempts}): {what}{then}"

    def _content_lines(self) -> list[str]:
        c = self.content
        lines = ["message:"]
        if c.subject_before == c.subject_after:
            lines.append(f"  subject: {c.subject_before!r} (unchanged)")
        else:
            lines.append(f"  subject: {c.subject_before!r} -> {c.subject_after!r}")
        if c.header_diff:
            lines.append("  headers:")
            lines += [f"    {line}" for line in c.header_diff]
        else:
            lines.append("  headers: unchanged")
        lines.append(f"  body: {'changed' if c.body_changed else 'unchanged'}")
        for update in c.updates:
            took = "took effect" if update["effective"] else "no effect"
            lines.append(f"  PutRawMessageContent ({update['size']:,} bytes): {took}: {update['reason']}")
        return lines

    def _log_lines(self, count: int) -> list[str]:
        shown = self.logs[-count:] if count > 0 else []
        cut = len(self.logs) - len(shown)
        head = f"log ({len(self.logs)} lines)" if not cut else f"log (last {len(shown)} of {len(self.logs)} lines)"
        return [f"{head}:", *[f"  {line}" for line in shown]] if self.logs else ["log: (empty)"]


def _short_json(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------------------------ the message


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def _organization_domains(message: ParsedMessage, direction: str, eml: Any) -> list[str]:
    """Inbound: the recipients' domains; outbound: the From (and Sender) domains."""
    outbound = direction == "outbound"
    addresses = [*message.from_addresses, message.sender_address or ""] if outbound else message.recipients
    domains = list(dict.fromkeys(_domain(a) for a in addresses if "@" in a))
    if not domains:
        what = "a From address" if outbound else "a recipient (To, Cc or Bcc)"
        raise MessageParseError(
            f"{eml}: the message has no {what}, so the organization has no domain.",
            fix="add the header, or give the organization's domains (--org-domain)",
        )
    return domains


def _header_block(raw: bytes) -> tuple[list[str], bytes]:
    """The unfolded header lines and the body (line ends as LF)."""
    text = raw.replace(b"\r\n", b"\n")
    head, _, body = text.partition(b"\n\n")
    lines: list[str] = []
    for line in head.decode("utf-8", "surrogateescape").split("\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()
        elif line:
            lines.append(line)
    return lines, body.rstrip(b"\n")


def _content_after(sb: Any, before: bytes, flow: Any) -> ContentChange:
    """The content delivery used (the copy in transit's), compared with the message as received."""
    message_id = flow.message_ids[0] if flow.message_ids else None
    after = sb.message_content(message_id) if message_id else before
    history = sb.message_history(message_id) if message_id else []
    old_headers, old_body = _header_block(before)
    new_headers, new_body = _header_block(after)
    return ContentChange(
        subject_before=parse_message(before, headers_only=True).subject,
        subject_after=parse_message(after, headers_only=True, max_bytes=None).subject,
        header_diff=list(difflib.unified_diff(old_headers, new_headers, "before", "after", lineterm="", n=1)),
        body_changed=old_body != new_body,
        updates=[{"size": u.size, "effective": u.effective, "reason": u.reason} for u in history],
    )


# ------------------------------------------------------------------------ invoking


def _every(call: Any, key: str, **arguments: Any) -> list[Any]:
    """Every item of a paginated list operation (NextToken)."""
    items: list[Any] = []
    while True:
        page = call(**arguments)
        items += page.get(key, [])
        if not page.get("NextToken"):
            return items
        arguments["NextToken"] = page["NextToken"]


def _organization_for(sb: Any, domains: list[str], settings: FlowSettings) -> tuple[Organization, bool]:
    """A new organization with ``domains``, or the running sandbox's one that already holds some of them.

    A domain belongs to one organization at most (RegisterMailDomain), so in a running
    sandbox where one organization holds some of the domains, that organization is used
    (the other domains are then outside it; its own mail, rules and settings are untouched:
    they belong to its Python object). Returns ``(organization, created)``.
    """
    client = sb.client("workmail")
    summaries = _every(client.list_organizations, "OrganizationSummaries")
    owners: dict[str, str] = {}
    for summary in (o for o in summaries if o.get("State") == "Active"):
        for item in _every(client.list_mail_domains, "MailDomains", OrganizationId=summary["OrganizationId"]):
            if item["DomainName"].lower() in domains:
                owners[item["DomainName"].lower()] = summary["OrganizationId"]
    if not owners:
        taken, alias, n = {o["Alias"] for o in summaries}, "invoke", 1
        while alias in taken:
            n += 1
            alias = f"invoke-{n}"
        return Organization.create(sb, alias, domains=domains, settings=settings), True
    if len(set(owners.values())) == 1:
        return Organization.attach(sb, next(iter(owners.values())), settings=settings), False
    held = ", ".join(f"{d} ({o})" for d, o in sorted(owners.items()))
    raise SandboxError(
        f"The running sandbox's organizations already hold {held}, and a domain belongs to one organization only.",
        fix="give domains of one organization (or of none) with domains= (--org-domain), or sb.reset() first",
    )


def _log_lines(sb: Any, function_name: str, since_ms: int) -> list[str]:
    """The function's CloudWatch Logs lines written since ``since_ms`` (its group, every stream)."""
    config = sb.client("lambda").get_function_configuration(FunctionName=function_name)
    group = (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{function_name}"
    logs = sb.client("logs")
    lines: list[str] = []
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=since_ms)
        events = [event for page in pages for event in page.get("events", [])]
    except logs.exceptions.ResourceNotFoundException:
        return []
    for event in sorted(events, key=lambda e: (e.get("timestamp", 0), e.get("ingestionTime", 0))):
        lines += str(event.get("message", "")).rstrip("\n").split("\n")
    return lines


def _error_of(attempt: Any) -> dict[str, Any] | None:
    if attempt is None or attempt.ok:
        return None
    payload = attempt.payload if isinstance(attempt.payload, dict) else {}
    if attempt.request_id is not None and "errorMessage" in payload:
        return {"type": str(payload.get("errorType", "Error")), "message": str(payload["errorMessage"])}
    if attempt.timed_out:
        return {"type": "Timeout", "message": attempt.error or "timed out"}
    kind = "InvalidResponse" if (attempt.error or "").startswith("invalid response") else "InvocationFailed"
    return {"type": kind, "message": attempt.error or ""}


def invoke_project(
    path: str | os.PathLike[str],
    eml: str | os.PathLike[str],
    *,
    function: str | None = None,
    mode: str = "sync",
    parameters: Mapping[str, Any] | None = None,
    stand_ins: str | os.PathLike[str] | None = None,
    skip: Sequence[str] = (),
    direction: str = "inbound",
    domains: Sequence[str] | None = None,
    rule_timeout_minutes: int = 0,
) -> ProjectInvocation:
    """Deploy the SAM project at ``path`` and run its function on the message ``eml`` through a Run Lambda rule.

    ``function``: the function's logical id (needed when the project has several);
    ``mode``: ``"sync"`` or ``"async"``; ``parameters``: template parameters (a dict; one
    taking an organization id gets the organization's unless given); ``stand_ins``: a
    stand-in file (YAML or Python) for calls nothing in the sandbox answers; ``skip``:
    resources to leave out of the stack;
    ``direction``: ``"inbound"`` or ``"outbound"``; ``domains``: the organization's
    domains (default: the recipients' inbound, the sender's outbound);
    ``rule_timeout_minutes`` (synchronous): how long WorkMail retries a failing
    function before the fallback (default 0: one attempt).

    Uses the running sandbox (left running) or starts one and stops it afterwards.
    Raises a kit error (:class:`SandboxError`, :class:`MessageParseError`, ...; one line
    with the fix) when the project, the message or a parameter cannot be used; a
    function that fails is a result (``status == "failed"``), not an exception.
    """
    wanted_mode, wanted_direction = str(mode).strip().lower(), str(direction).strip().lower()
    for name, value, allowed in (("mode", wanted_mode, MODES), ("direction", wanted_direction, DIRECTIONS)):
        if value not in allowed:
            raise ConfigurationError(f"{name} must be {' or '.join(allowed)}, got {value!r}.", fix=f"use {allowed[0]}")
    given = dict(parameters or {})
    if not Path(path).exists():
        raise SandboxError(
            f"{path}: no such project folder or template.",
            fix="give the folder that holds template.yaml (the one you run sam build in)",
        )
    if stand_ins is not None and not Path(stand_ins).is_file():
        raise SandboxError(f"{stand_ins}: no such stand-in file.", fix="give a .yaml or .py stand-in file")
    message = read_eml(eml, headers_only=True)  # only regular files; errors name the file
    org_domains = (
        [d.strip().lower() for d in domains] if domains else _organization_domains(message, wanted_direction, eml)
    )
    running = sandbox_module.current() is not None
    with sandbox_module.sandbox() as sb:
        org, created = _organization_for(sb, org_domains, FlowSettings(unknown_recipients="create-mailbox"))
        held = [d for d in org.domains if not d.endswith(".awsapps.com")]
        deployment = deploy_for_organization(path, org, function=function, parameters=given, skip=skip)
        fn = deployment.function
        sync = wanted_mode == "sync"
        rule = Rule(f"invoke {fn.logical_id}", wanted_direction, ("*",), ("*",), "RUN_LAMBDA", function_arn=fn.arn,
                    synchronous=sync, fallback_action="DEFAULT" if sync else None,
                    rule_timeout_minutes=rule_timeout_minutes if sync else None)  # fmt: skip
        org.rules = RuleSet([rule])
        call_log.install()
        with using_stand_ins(stand_ins, sb, keep=not running) as targets:
            answered = len(sb.stand_in_calls())
            since_ms = int(time.time() * 1000) - 1
            with call_log.CallRecorder() as recorder:
                flow = org.route(message, direction=wanted_direction)
            http = [c.request for c in sb.stand_in_calls()[answered:] if not isinstance(c.request, dict)]
        record = next((i for i in flow.invocations if i.function_arn == fn.arn), None)
        content = _content_after(sb, message.raw, flow)
        logs = _log_lines(sb, fn.name, since_ms) if record is not None else []
    attempts = record.attempts if record is not None else []
    last = attempts[-1] if attempts else None
    status = "not invoked" if record is None else "succeeded" if record.outcome in ("applied", "ignored") else "failed"
    return ProjectInvocation(
        project=str(path),
        eml=str(eml),
        stack_name=deployment.project.stack_name,
        logical_id=fn.logical_id,
        function_name=fn.name,
        function_arn=fn.arn,
        runtime=fn.runtime,
        mode=wanted_mode,
        direction=wanted_direction,
        organization_id=org.id,
        organization_alias=org.alias,
        organization_created=created,
        domains=held,
        parameters=dict(deployment.project.parameters),
        filled_parameters=deployment.filled_parameters,
        permission=deployment.permission,
        permission_reason=deployment.permission_reason,
        stand_ins=targets,
        status=status,
        invocation_outcome=record.outcome if record is not None else "",
        invocation_reason=record.reason if record is not None else "",
        attempts=len(attempts),
        request_ids=[a.request_id for a in attempts if a.request_id],
        duration_ms=sum(a.duration_ms for a in attempts),
        response=last.payload if last is not None and last.ok else None,
        error=_error_of(last),
        timed_out=bool(last is not None and last.timed_out),
        recipients=[
            RecipientResult(o.recipient, o.outcome, o.action, o.rule, o.source, o.reason, o.bounce_message, o.added)
            for o in flow.recipients.values()
        ],
        skipped=list(flow.skipped),
        content=content,
        logs=logs,
        calls=list(recorder.calls),
        http_calls=[f"{request.method} {request.url}" for request in http],
        warnings=list(deployment.project.warnings),
        note=flow.note or ("" if record is not None else "no recipient reached the Run Lambda rule"),
    )
