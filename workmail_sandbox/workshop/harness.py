"""How a check runs a learner's function: in a copy of the known state, and back to the learner's state after.

One :class:`Trial` per check: :func:`isolated` saves the learner's sandbox,
restores the workshop's starting state (``lessons.setup(7)``, a snapshot
restore of a few milliseconds), and puts the learner's state back when the
check ends, whatever happened. In between the trial deploys the function with
``deploy_handler``, lets the organization invoke it (``lessons.grant_workmail``),
attaches the exercise's Run Lambda rules to the example organization and
routes sample mail from ``data/emails``. It then reads what a learner could
read: the delivered copies (subject as the mailbox shows it), bounces, the
event log, CloudWatch metrics and the function's CloudWatch log.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default as _default_policy
from pathlib import Path
from typing import Any

from .. import lessons
from .. import sandbox as sbx
from ..errors import ConfigurationError, WorkMailSandboxError
from ..events import SmtpEnvelope
from ..flow import FlowSettings
from ..handler_logs import in_your_terms, own_lines, tail
from ..organization import Organization
from ..rules import RuleSet
from .report import Report, join_names

__all__ = ["Copy", "FunctionError", "Trial", "emails_dir", "isolated"]

#: Run Lambda rule fields a learner may choose (the rest is the check's).
RULE_CHOICES = ("synchronous", "fallback_action", "rule_timeout_minutes")
#: The function's own timeout in a check: a stuck function is reported in seconds (WorkMail waits 15 s).
CHECK_TIMEOUT_SECONDS = 5
_LOG_PREFIX = re.compile(r"^\S+Z [0-9a-f-]{36} ")
_ERROR_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)\n\s+(.+)')
#: How many lines of the function's own log a failed finding shows.
LOG_LINES = 5


def emails_dir() -> Path:
    """The sample mail (``data/emails`` of the checkout the kit runs from)."""
    path = Path(__file__).resolve().parents[2] / "data" / "emails"
    if not path.is_dir():
        raise ConfigurationError(
            f"The workshop's sample mail is not at {path}.",
            fix="run the workshop from a checkout of workmail-sandbox (pip install -e .), which has data/emails",
        )
    return path


@contextmanager
def isolated() -> Iterator[Any]:
    """The workshop's starting state for the length of a check; the learner's own state afterwards."""

    if sbx.get_mode() == sbx.AWS:
        raise ConfigurationError(
            "The workshop's checks route mail through the sandbox's emulated organization; this kernel is in aws mode.",
            fix="run the checks in a kernel without WORKMAIL_SANDBOX_MODE=aws; the 'On real AWS' section deploys "
            "your function to your account",
        )
    running = sbx.current()
    saved = running.snapshot() if running is not None else None
    try:
        yield lessons.setup(7, region=running.region if running is not None else None)
    finally:
        if saved is not None and running is not None and running.started:
            running.restore(saved)
        elif saved is None and sbx.current() is not None:  # no sandbox before: leave the starting state
            lessons.setup(7)


@dataclass
class Copy:
    """One delivered copy as a learner sees it: where, which folder, and the Subject of the delivered bytes."""

    where: str
    folder: str
    subject: str
    kind: str = "message"
    content: bytes | None = None


@dataclass
class FunctionError:
    """One distinct way the function failed, with the messages it failed on."""

    kind: str  # "error", "invalid response", "timeout", "permission"
    summary: str
    quote: str = ""
    files: list[str] = field(default_factory=list)
    #: The last lines the function printed or logged before it failed (the first time).
    log: list[str] = field(default_factory=list)


def delivered_subject(content: bytes | None, fallback: str) -> str:
    """The Subject header of delivered bytes, decoded (what a mail client shows)."""
    if not content:
        return fallback
    value = BytesHeaderParser(policy=_default_policy).parsebytes(content).get("Subject")
    return str(value) if value is not None else ""


def file_subject(path: Path) -> str:
    return delivered_subject(path.read_bytes(), "")


class Trial:
    """One check's run: deploy, attach rules, route, observe. Failures become findings, never tracebacks."""

    def __init__(self, state: Any, report: Report, *, function_name: str) -> None:
        self.state = state
        self.sandbox = state.sandbox
        self.report = report
        self.function_name = function_name
        self.function_arn: str | None = None
        self.organization: Any = None
        self.results: dict[str, Any] = {}
        self.emails = emails_dir()
        self.synchronous = True

    # ------------------------------------------------------------ deploying

    def deploy(
        self,
        handler: Any,
        *,
        handler_name: str,
        environment: Mapping[str, str] | None = None,
        managed_policies: tuple[str, ...] = (),
        inline_policy: Mapping[str, Any] | None = None,
    ) -> bool:
        """``deploy_handler`` plus ``grant_workmail``; False (and a finding) when it cannot be deployed."""
        import json

        from ..deploy.handler import deploy_handler

        if handler is None:
            self.report.fail(
                f"There is no function to check: define {handler_name}(event, context) and pass it to the check.",
                hint=f"run the exercise cell that defines {handler_name} first",
            )
            return False
        try:
            function = deploy_handler(
                handler,
                name=self.function_name,
                environment=environment,
                managed_policies=list(managed_policies),
                timeout=CHECK_TIMEOUT_SECONDS,
                handler_name=handler_name if isinstance(handler, str) else None,
            )
        except WorkMailSandboxError as error:
            self.report.fail(
                "Your function could not be deployed.",
                happened=error.problem,
                hint=error.fix or "define the handler at the top level of a cell, with def",
            )
            return False
        if inline_policy is not None:
            self.sandbox.client("iam").put_role_policy(
                RoleName=function["Role"].rsplit("/", 1)[-1],
                PolicyName="workshop",
                PolicyDocument=json.dumps(inline_policy),
            )
        lessons.grant_workmail(self.sandbox, self.function_name, self.state.organization_arn)
        self.function_arn = function["FunctionArn"]
        return True

    # ---------------------------------------------------------------- rules

    def attach(
        self, defaults: Mapping[str, Any], choices: Mapping[str, Any] | None, directions: tuple[str, ...]
    ) -> bool:
        """The organization with the exercise's Run Lambda rules; False (and a finding) for invalid choices."""

        fields = dict(defaults)
        if choices is not None:
            if not isinstance(choices, Mapping):
                self.report.fail(
                    f"The rule settings must be a dict, not {type(choices).__name__}.",
                    hint="pass rule={'synchronous': False}, for example",
                )
                return False
            unknown = [k for k in choices if k not in RULE_CHOICES]
            if unknown:
                self.report.fail(
                    f"The rule settings name {join_names([repr(k) for k in unknown])}, which the check sets itself.",
                    hint=f"choose only {join_names(list(RULE_CHOICES))}",
                )
                return False
            if choices.get("synchronous") is False:
                fields.pop("fallback_action", None)
                fields.pop("rule_timeout_minutes", None)
            elif choices.get("synchronous") is True and not fields.get("synchronous"):
                fields.update(fallback_action="DEFAULT", rule_timeout_minutes=0)
            fields.update(choices)
        base = {"senders": ["*"], "recipients": ["*"], "action": "RUN_LAMBDA", "function_arn": self.function_arn}
        data = {d: [{"name": f"{self.function_name}-{d}", **base, **fields}] for d in directions}
        try:
            rules = RuleSet.from_dict(data)
        except WorkMailSandboxError as error:
            self.report.fail(
                "The rule cannot be created: WorkMail's console would refuse these settings.",
                happened=error.problem,
                hint=error.fix or "",
            )
            return False
        self.synchronous = bool(fields.get("synchronous"))
        self.report.setting = _describe_rule(fields, directions)
        self.organization = Organization.attach(
            self.sandbox,
            self.state.organization_id,
            rules=rules,
            settings=FlowSettings(unknown_recipients="create-mailbox"),
        )
        self.report.organization = self.organization
        return True

    # -------------------------------------------------------------- routing

    def receive(self, name: str, *, recipients: list[str] | None = None) -> Any:
        envelope = SmtpEnvelope(recipients=recipients) if recipients else None
        result = self.organization.receive(self.emails / name, envelope)
        self.results[name] = result
        return result

    def send(self, name: str) -> Any:
        result = self.organization.send(self.emails / name)
        self.results[name] = result
        return result

    # ------------------------------------------------------------ observing

    def copies(self, name: str) -> list[Copy]:
        """Every copy of one routed message: mailbox folders (a group's members each get one) and the outbox."""
        result = self.results[name]
        found = []
        for box in self.organization.mailboxes.values():
            for item in [*box.inbox, *box.junk]:
                if item.trace_id == result.trace_id:
                    folder = "junk" if item in box.junk else "inbox"
                    found.append(Copy(box.address, folder, delivered_subject(item.content, item.subject),
                                      item.kind, item.content))
        for item in self.organization.outbox:
            if item.trace_id == result.trace_id:
                found.append(Copy(item.recipient, "sent", delivered_subject(item.content, item.subject),
                                  item.kind, item.content))
        return found

    def updates(self, name: str) -> list[Any]:
        """Every PutRawMessageContent made on the message's copies in transit (sandbox control)."""
        result = self.results[name]
        return [u for mid in result.message_ids for u in self.sandbox.message_history(mid)]

    def failed_on(self, name: str) -> bool:
        result = self.results.get(name)
        if not result:
            return False
        return any(not a.ok for i in result.invocations for a in i.attempts)

    def function_errors(self) -> list[FunctionError]:
        """The distinct failures of the function over every routed message, quoted from its log."""
        log = self._error_lines()
        errors: dict[tuple[str, str], FunctionError] = {}
        for name, result in self.results.items():
            for invocation in result.invocations:
                for attempt in invocation.attempts:
                    if attempt.ok or not attempt.error:
                        continue
                    kind, summary = _classify(attempt.error)
                    quote = log.get(attempt.request_id or "", "") if kind == "error" else ""
                    if kind == "invalid response":
                        quote = f"your function answered: {_short_json(attempt.payload)}"
                    key = (kind, summary)
                    printed = tail(_printed(attempt.log, invocation.function_arn), LOG_LINES)
                    error = errors.setdefault(key, FunctionError(kind, summary, quote, log=printed))
                    if name not in error.files:
                        error.files.append(name)
        return list(errors.values())

    def log_tail(self, name: str, count: int = LOG_LINES) -> list[str]:
        """The last lines the function printed or logged on message ``name`` (the error lines left out)."""
        result = self.results.get(name)
        if not result:
            return []
        lines = [line for i in result.invocations for a in i.attempts for line in _printed(a.log, i.function_arn)]
        return tail(lines, count)

    def _error_lines(self) -> dict[str, str]:
        """request id -> the error as Lambda logged it: the ``[ERROR]`` line and the line of your code that failed."""
        logs = self.sandbox.client("logs")
        quoted: dict[str, str] = {}
        try:
            pages = logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{self.function_name}")
            events = [e for page in pages for e in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            return quoted
        request = ""
        for event in sorted(events, key=lambda e: (e["timestamp"], e.get("ingestionTime", 0))):
            message = event["message"]
            if message.startswith("START RequestId: "):
                request = message.split()[2]
            elif message.startswith("[ERROR]") and request not in quoted:
                head = message.splitlines()[0].strip()
                frames = [  # the function's own frames: a cell or file it was written in, or app.py (not botocore's)
                    f for f in _ERROR_FRAME.findall(in_your_terms(message, self.function_arn))
                    if "/" not in f[0] or f[0].endswith("/app.py")
                ]
                if frames:
                    place, line, function, code = frames[-1]
                    where = place if place.startswith("your cell") else place.rsplit("/", 1)[-1]
                    head += f"\n  in {function}, line {line} of {where}: {code.strip()}"
                quoted[request] = head
        return quoted

    def metric_sum(self, namespace: str, metric: str, dimensions: list[dict[str, str]]) -> float | None:
        """The Sum of a CloudWatch metric over the last and next day (None when there is no data point)."""
        now = _dt.datetime.now(_dt.UTC)
        stats = self.sandbox.client("cloudwatch").get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=now - _dt.timedelta(days=1),
            EndTime=now + _dt.timedelta(days=1),
            Period=3 * 86400,
            Statistics=["Sum"],
        )
        points = stats.get("Datapoints", [])
        return sum(p["Sum"] for p in points) if points else None

    def learner_metrics(self) -> list[str]:
        """Every metric outside the AWS/ namespaces, as ``Namespace/Name (Dim=Value, ...)``."""
        found = set()
        for page in self.sandbox.client("cloudwatch").get_paginator("list_metrics").paginate():
            for m in page["Metrics"]:
                if m["Namespace"].startswith("AWS/"):
                    continue
                dims = ", ".join(f"{d['Name']}={d['Value']}" for d in m.get("Dimensions", []))
                found.add(f"{m['Namespace']}/{m['MetricName']}" + (f" ({dims})" if dims else ""))
        return sorted(found)


def _describe_rule(fields: Mapping[str, Any], directions: tuple[str, ...]) -> str:
    which = join_names(list(directions))
    if fields.get("synchronous"):
        return (
            f"the check attached {which} Run Lambda rules for every sender and recipient: synchronous, "
            f"fallback {fields.get('fallback_action')}, rule timeout {fields.get('rule_timeout_minutes')} minutes"
        )
    return f"the check attached {which} Run Lambda rules for every sender and recipient: asynchronous"


def _printed(log: str, function_arn: str | None) -> list[str]:
    """What the function printed or logged in one attempt, without the error Lambda wrote when it failed."""
    lines = own_lines(in_your_terms(log, function_arn)) if log else []
    for index in range(len(lines) - 1):  # Lambda's error entry: "[ERROR] Type: message", then the traceback
        if lines[index].startswith("[ERROR] ") and lines[index + 1] == "Traceback (most recent call last):":
            return lines[:index]
    return [line for line in lines if "Task timed out after" not in line]


def _classify(error: str) -> tuple[str, str]:
    if error.startswith("invalid response: "):
        return "invalid response", error[len("invalid response: "):]
    if error.startswith("timed out: "):  # Lambda's line: "<time> <request id> Task timed out after 5.00 seconds"
        return "timeout", _LOG_PREFIX.sub("", error[len("timed out: "):])
    if error.startswith("no permission: "):
        return "permission", error[len("no permission: "):]
    if error.startswith("function error: "):
        return "error", error[len("function error: "):]
    return "error", error


def _short_json(value: Any, limit: int = 200) -> str:
    import json

    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
