"""What the notebooks share: a known starting state in one call, and the "On real AWS" gate.

``setup(lesson)`` resets the sandbox and builds what the lesson needs (an
organization with users, the hello-world function deployed through the
emulated Serverless Application Repository, WorkMail's permission to invoke
it), so a learner who fell behind, or a workshop host between exercises,
catches up with one cell. It is fast: the hello-world function is installed
straight through the service APIs (:func:`workmail_sandbox.deploy.install_app`,
no CloudFormation; lesson 01 shows the real deployment), and later calls in
the same kernel restore a snapshot.

In aws mode ``setup(n)`` connects to your account instead and, in a notebook,
skips every later code cell except the "On real AWS" ones (the cells that call
:func:`aws_only`), so Run All runs exactly the part meant for a real account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import aws
from . import sandbox as sandbox_module
from ._gc_pause import with_paused_gc
from .emulators._core import STATE
from .errors import ConfigurationError, SandboxError
from .sam.templates import resource_capabilities
from .sandbox import AWS, SANDBOX, get_mode

__all__ = [
    "LESSONS",
    "LessonState",
    "aws_only",
    "create_example_organization",
    "grant_workmail",
    "read_template",
    "resource_capabilities",
    "setup",
    "try_handler",
]

#: Lesson number -> title, in order. ``setup(n)`` prepares the state lesson n starts from.
LESSONS = {
    0: "Start here",
    1: "Deploy hello world",
    2: "Grant permissions",
    3: "Events",
    4: "Email flow rules",
    5: "Message content",
    6: "Synchronous actions",
    7: "Workshop",
    8: "Test your function",
    9: "Moving on from WorkMail",
}

ORG_ALIAS = "example-org"
ORG_DOMAINS = ("example.com", "sales.example.com")
USERS = ("alice", "bob", "carol", "dave")
PASSWORD = "Sandbox-Passw0rd!"


@dataclass
class LessonState:
    """What :func:`setup` built; every field is a plain value a lesson can print."""

    lesson: int
    sandbox: Any
    organization_id: str | None = None
    organization_arn: str | None = None
    domains: tuple[str, ...] = ()
    users: dict[str, str] = field(default_factory=dict)
    hello_world: dict[str, Any] | None = None

    @property
    def function_name(self) -> str | None:
        return self.hello_world["FunctionName"] if self.hello_world else None

    @property
    def function_arn(self) -> str | None:
        return self.hello_world["FunctionArn"] if self.hello_world else None

    @property
    def mode(self) -> str:
        return getattr(self.sandbox, "mode", "sandbox")

    def summary(self) -> str:
        if self.mode != "sandbox":
            return (
                f"Lesson {self.lesson:02d} ({LESSONS[self.lesson]}) in {self.mode} mode: "
                f"account {self.sandbox.account_id}, region {self.sandbox.region}."
            )
        lines = [f"Lesson {self.lesson:02d} ({LESSONS[self.lesson]}) is ready in {self.sandbox.region}."]
        if self.organization_id:
            lines.append(f"  organization {self.organization_id} ({', '.join(self.domains)})")
        if self.hello_world:
            lines.append(f"  function     {self.function_name}")
            lines.append(f"  bucket       {self.hello_world['BucketName']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def create_example_organization(sb: Any, alias: str = ORG_ALIAS) -> tuple[str, str, dict[str, str]]:
    """An organization with example.com and sales.example.com, four users and a finance group.

    Made through the real boto3 ``workmail`` API (answered by the emulator).
    Returns (organization id, ARN, {email: user id}).
    """
    client = sb.client("workmail")
    org_id = client.create_organization(Alias=alias)["OrganizationId"]
    for domain in ORG_DOMAINS:
        client.register_mail_domain(OrganizationId=org_id, DomainName=domain)
    client.update_default_mail_domain(OrganizationId=org_id, DomainName=ORG_DOMAINS[0])
    users = {}
    for name in USERS:
        user_id = client.create_user(OrganizationId=org_id, Name=name, DisplayName=name.title(), Password=PASSWORD)[
            "UserId"
        ]
        domain = ORG_DOMAINS[1] if name == "dave" else ORG_DOMAINS[0]
        client.register_to_work_mail(OrganizationId=org_id, EntityId=user_id, Email=f"{name}@{domain}")
        users[f"{name}@{domain}"] = user_id
    group_id = client.create_group(OrganizationId=org_id, Name="finance")["GroupId"]
    client.register_to_work_mail(OrganizationId=org_id, EntityId=group_id, Email="finance@example.com")
    client.associate_member_to_group(OrganizationId=org_id, GroupId=group_id, MemberId=users["alice@example.com"])
    arn = client.describe_organization(OrganizationId=org_id)["ARN"]
    return org_id, arn, users


def grant_workmail(sb: Any, function_name: str, organization_arn: str, statement_id: str = "AllowWorkMail") -> dict:
    """``lambda.add_permission`` as the AWS docs show it (principal, SourceArn of one organization),
    plus SourceAccount, the confused-deputy guard Lambda recommends for service principals."""
    return sb.client("lambda").add_permission(
        FunctionName=function_name,
        StatementId=statement_id,
        Action="lambda:InvokeFunction",
        Principal=f"workmail.{sb.region}.amazonaws.com",
        SourceArn=organization_arn,
        SourceAccount=sb.account_id,
    )


_snapshots: dict[tuple[str, int], Any] = {}


@with_paused_gc  # a fresh kernel imports and builds long-lived state here (docs/performance.md §10)
def setup(lesson: int, *, region: str | None = None) -> LessonState:
    """Reset the sandbox to the state lesson ``lesson`` starts from.

    0-1: an empty sandbox; 2+: an organization and the hello-world function;
    3+: WorkMail may invoke it (lesson 02 teaches that step). In aws mode:
    see the module docstring.
    """

    if lesson not in LESSONS:
        raise ConfigurationError(
            f"There is no lesson {lesson!r}; the lessons are numbered {min(LESSONS)} to {max(LESSONS)}.",
            fix="pass the number at the start of the notebook's name, e.g. setup(4)",
        )
    global _skip_notice_shown
    _skip_notice_shown = False  # a new notebook (or a restart of this one): aws_only() explains once
    if sandbox_module.get_mode() == sandbox_module.AWS:
        return _setup_aws(lesson, region)
    sb = sandbox_module.start(region)
    key = (sb.region, min(lesson, 3))
    if key in _snapshots:
        sb.restore(_snapshots[key]["snapshot"])
        return LessonState(lesson, sb, **_snapshots[key]["fields"])
    sb.reset()
    fields: dict[str, Any] = {}
    if lesson >= 2:
        from .deploy.direct import install_app

        org_id, arn, users = create_example_organization(sb)
        hello = install_app("hello_world")
        fields = {
            "organization_id": org_id,
            "organization_arn": arn,
            "domains": ORG_DOMAINS,
            "users": users,
            "hello_world": hello,
        }
        if lesson >= 3:
            sb.client("lambda").remove_permission(
                FunctionName=hello["FunctionName"], StatementId=_template_statement(sb, hello["FunctionName"])
            )
            grant_workmail(sb, hello["FunctionName"], arn)
    _snapshots[key] = {"snapshot": sb.snapshot(), "fields": fields}
    return LessonState(lesson, sb, **fields)


def _setup_aws(lesson: int, region: str | None) -> LessonState:
    """aws mode: connect, and let only the "On real AWS" cells of this notebook run."""

    account = aws.connect(region)
    skipping = _skip_sandbox_cells()
    state = LessonState(lesson, account)
    print(
        f"aws mode: account {account.account_id}, region {account.region}. The sandbox walk-through of "
        + ("this lesson is skipped: each of its cells prints 'skipped'; the 'On real AWS' cells run."
           if skipping else "this lesson needs the sandbox: run the 'On real AWS' cells only.")
    )
    return state


AWS_CELL_MARKERS = ("aws_only(", "# also on real AWS")
SKIPPED = "print('skipped: a sandbox cell (aws mode runs only the On real AWS cells)')\n"


def skip_unless_aws_cell(lines: list[str]) -> list[str]:
    """IPython input transformer: a cell that neither calls aws_only() nor is marked
    ``# also on real AWS`` (it defines what the On real AWS cells use) becomes a one-line notice."""
    source = "".join(lines)
    if any(marker in source for marker in AWS_CELL_MARKERS) or not source.strip() or source.lstrip().startswith("%"):
        return lines
    return [SKIPPED]


def _skip_sandbox_cells() -> bool:
    """Install :func:`skip_unless_aws_cell` in the running IPython kernel, once. False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the lab extra brings IPython
        return False
    shell = get_ipython()
    if shell is None:
        return False
    if skip_unless_aws_cell not in shell.input_transformers_post:
        shell.input_transformers_post.append(skip_unless_aws_cell)
    return True


def _template_statement(sb: Any, function_name: str) -> str:
    """The Sid of the SAM template's broad ``organization/*`` statement, replaced from lesson 03 on."""
    policy = json.loads(sb.client("lambda").get_policy(FunctionName=function_name)["Policy"])
    return policy["Statement"][0]["Sid"]


#: Whether aws_only() has said why it skips since the last setup(): it says so once per notebook.
_skip_notice_shown = False


def aws_only(env: Any = None) -> bool:
    """Gate for a lesson's "On real AWS" cells: True in aws mode, else False.

    Outside aws mode the first call after :func:`setup` says why the cells are
    skipped; later calls skip silently, so a notebook prints the notice once.
    """
    global _skip_notice_shown
    mode = getattr(env, "mode", None) or get_mode()
    if mode == AWS:
        return True
    if not _skip_notice_shown:
        _skip_notice_shown = True
        print(
            "Skipped: the On real AWS cells run against a real AWS account. To run them, restart the kernel "
            "with WORKMAIL_SANDBOX_MODE=aws and credentials for an account with a WorkMail organization "
            "(us-east-1, us-west-2 or eu-west-1)."
        )
    return False


def _sandbox_side() -> bool:
    """True when template URLs must be read from the emulated SAR (never from the network)."""

    return STATE.active or STATE.ever_started or get_mode() == SANDBOX


def read_template(template_url: str, *, timeout: float = 30.0) -> str:
    """The template text behind a SAR ``TemplateUrl`` (``get_application()["Version"]["TemplateUrl"]``).

    Sandbox mode: read in-process from the emulated SAR; an URL the sandbox did
    not give out is a :class:`~workmail_sandbox.errors.SandboxError`, and nothing
    is fetched. aws mode: fetched over HTTPS (SAR's URLs are pre-signed S3 URLs
    that expire, so fetch it soon after ``get_application``).
    """
    if not isinstance(template_url, str) or not template_url:
        raise ConfigurationError(
            f"read_template needs the TemplateUrl string, not {template_url!r}.",
            fix='pass sar.get_application(ApplicationId=...)["Version"]["TemplateUrl"]',
        )
    if _sandbox_side():
        if not STATE.active:
            raise SandboxError(
                "The sandbox is not running, so its Serverless Application Repository cannot be read.",
                fix="start it first (workmail_sandbox.sandbox.start()), then call get_application again",
            )
        from .emulators.serverlessrepo import read_template_url

        return read_template_url(template_url)
    if not template_url.startswith("https://"):
        raise ConfigurationError(
            f"{template_url} is not an https:// URL; SAR's TemplateUrl always is.",
            fix='pass sar.get_application(ApplicationId=...)["Version"]["TemplateUrl"] unchanged',
        )
    import urllib.request

    with urllib.request.urlopen(template_url, timeout=timeout) as answer:  # noqa: S310 - https only, checked above
        data = answer.read()
    return data.decode("utf-8")


def try_handler(
    handler: Any,
    message: Any = "01-plain-inbound.eml",
    *,
    synchronous: bool = True,
    name: str = "my-function",
    direction: str = "inbound",
    fallback_action: str = "DEFAULT",
    rule_timeout_minutes: int = 0,
    environment: dict[str, str] | None = None,
    managed_policies: tuple[str, ...] | list[str] = (),
) -> Any:
    """Your handler on one message, end to end, in one call: the shortest path to your own function.

    Deploys ``handler`` (a function written in a cell, or module source) as
    the Lambda function ``name`` (called again, it updates the function's
    code and configuration), lets the example organization invoke it (lesson 02), attaches one
    Run Lambda rule for every sender and recipient (``direction``,
    ``synchronous``; a synchronous rule gets ``fallback_action`` and
    ``rule_timeout_minutes``, 0 by default so that a failure shows once,
    without retries) and routes ``message`` (a sample's name from
    ``data/emails`` or a path) through it. Returns a
    :class:`~workmail_sandbox._quickpath.TryResult`: the outcome per
    recipient, what changed in the message, and what your function printed
    and logged.

    It works in the sandbox's example organization (``example.com``; made if
    the sandbox has none, without resetting anything else). Recipients with
    no mailbox get one, so any sample is delivered (the workshop's checks do the same).
    """
    import time

    from ._quickpath import TryResult, header_changes, sample_path
    from .deploy.handler import deploy_handler
    from .flow import FlowSettings
    from .organization import Organization

    started = time.perf_counter()
    if sandbox_module.get_mode() == sandbox_module.AWS:
        raise ConfigurationError(
            "try_handler routes a message through the sandbox's emulated organization; this kernel is in aws mode.",
            fix="run it in a kernel without WORKMAIL_SANDBOX_MODE=aws; on AWS, deploy with deploy_handler and "
            "attach the rule in the console (lesson 06, On real AWS)",
        )
    if direction not in ("inbound", "outbound"):
        raise ConfigurationError(
            f"direction must be 'inbound' or 'outbound', not {direction!r}.",
            fix="pass direction='outbound' with a message sent by a user of example.com, e.g. '02-plain-outbound.eml'",
        )
    path = sample_path(message)
    sb = sandbox_module.current()
    if sb is None or not sb.started:
        sb = sandbox_module.start()
    workmail = sb.client("workmail")
    org_id = next(
        (o["OrganizationId"] for o in workmail.list_organizations()["OrganizationSummaries"]
         if o.get("Alias") == ORG_ALIAS and o.get("State") == "Active"),
        None,
    )
    if org_id is None:
        org_id, arn, _ = create_example_organization(sb)
    else:
        arn = workmail.describe_organization(OrganizationId=org_id)["ARN"]
    lam = sb.client("lambda")
    try:
        lam.get_function_configuration(FunctionName=name)
        deployed = "updated"
    except lam.exceptions.ResourceNotFoundException:
        deployed = "created"
    function = deploy_handler(handler, name=name, environment=environment, managed_policies=list(managed_policies))
    statement = f"AllowWorkMail-{org_id}"[:100]
    try:
        granted = json.loads(lam.get_policy(FunctionName=name)["Policy"]).get("Statement", [])
    except lam.exceptions.ResourceNotFoundException:
        granted = []
    if not any(s.get("Sid") == statement for s in granted):  # granted by an earlier call otherwise
        grant_workmail(sb, name, arn, statement_id=statement)
    rule: dict[str, Any] = {"name": f"{name}-rule", "senders": ["*"], "recipients": ["*"], "action": "RUN_LAMBDA",
                            "function_arn": function["FunctionArn"], "synchronous": bool(synchronous)}
    if synchronous:
        rule.update(fallback_action=fallback_action, rule_timeout_minutes=rule_timeout_minutes)
    org = Organization.attach(sb, org_id, rules={direction: [rule]},
                              settings=FlowSettings(unknown_recipients="create-mailbox"))
    result = org.receive(path) if direction == "inbound" else org.send(path)
    sent = path.read_bytes()
    copies = [item.content for box in org.mailboxes.values() for item in [*box.inbox, *box.junk]
              if item.trace_id == result.trace_id and item.kind == "message" and item.content]
    copies += [item.content for item in org.outbox
               if item.trace_id == result.trace_id and item.kind == "message" and item.content]
    changes, body_changed = header_changes(sent, copies[0]) if copies else ([], None)
    log = [line for invocation in result.invocations for line in invocation.own_log()]
    return TryResult(name, path.name, direction, rule, result, changes, body_changed, log, deployed,
                     time.perf_counter() - started)
