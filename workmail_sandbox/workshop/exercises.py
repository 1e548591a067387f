"""The workshop's exercises and its public calls: ``start(n)``, ``check(n, handler)``, ``check_all``.

Each exercise's mail and judgement live in a module of their own
(:mod:`.tag_external`, :mod:`.restricted_group`, :mod:`.newsletters`,
:mod:`.metrics`). Every judgement is made from what a learner could see: the
subject of the copy in a mailbox, the folder it landed in, the bounce the
sender got, the event log, CloudWatch metrics, and the function's own log
when it failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import lessons
from ..errors import ConfigurationError
from . import metrics, newsletters, restricted_group, tag_external
from .feedback import DOCS
from .harness import Trial, isolated
from .metrics import METRIC_NAME, METRIC_NAMESPACE
from .report import Report, Scoreboard, join_names
from .restricted_group import RESTRICTED_GROUP
from .tag_external import TAG

__all__ = [
    "EXERCISES",
    "METRIC_NAME",
    "METRIC_NAMESPACE",
    "RESTRICTED_GROUP",
    "TAG",
    "Exercise",
    "ExerciseStart",
    "check",
    "check_all",
    "check_metrics",
    "check_newsletters",
    "check_restricted_group",
    "check_tag_external",
    "start",
]

_FLOW_FULL = "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"
_FLOW_READ = "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"
_SYNC = {"synchronous": True, "fallback_action": "DEFAULT", "rule_timeout_minutes": 0}
_ASYNC = {"synchronous": False}


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number, what the learner writes, and what the check gives the function."""

    number: int
    title: str
    handler_name: str
    task: str
    gives: str
    docs: tuple[str, ...]
    rule: Mapping[str, Any]
    directions: tuple[str, ...]
    judge: Callable[[Trial, Report, Any], None] = field(repr=False, compare=False)
    rule_variable: str | None = None
    #: What the check gives the function, from the lesson state: environment variables and role policies.
    environment: Callable[[Any], dict[str, str]] | None = field(default=None, repr=False, compare=False)
    managed_policies: tuple[str, ...] = ()
    inline_policy: Callable[[Any], dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    #: Computed before the function is deployed and handed to ``judge`` (exercise 4: delivery without the rule).
    before: Callable[[Trial], Any] | None = field(default=None, repr=False, compare=False)

    @property
    def function_name(self) -> str:
        return f"workshop-{self.number:02d}-{self.handler_name.replace('_', '-')}"


@dataclass
class ExerciseStart:
    """What :func:`start` prepared: printable, so a start cell shows the task and what is ready."""

    exercise: Exercise
    state: Any

    def __str__(self) -> str:
        ex, state = self.exercise, self.state
        sb = state.sandbox
        workmail = sb.client("workmail")
        groups = workmail.list_groups(OrganizationId=state.organization_id)["Groups"]
        group_lines = []
        for g in groups:
            members = workmail.list_group_members(OrganizationId=state.organization_id, GroupId=g["Id"])["Members"]
            emails = [state_email(state, m["Id"]) for m in members]
            group_lines.append(f"{g.get('Email') or g['Name']} (members: {join_names(emails)})")
        lines = [
            f"Exercise {ex.number} · {ex.title}: the sandbox is in the workshop's starting state.",
            f"  organization  {state.organization_id} ({join_names(list(state.domains))})",
            f"  users         {join_names(list(state.users))}",
            f"  groups        {join_names(group_lines) or '(none)'}",
            f"  bucket        {state.hello_world['BucketName']} (WorkMail may read it: its policy allows it)",
            "",
            f"Task: {ex.task}",
            f"Your function gets: {ex.gives}",
            f"AWS docs: {', '.join(ex.docs)}",
            f"Check: workshop.check({ex.number}, {ex.handler_name}"
            + (f", rule={ex.rule_variable})" if ex.rule_variable else ")"),
        ]
        return "\n".join(lines)

    __repr__ = __str__


def state_email(state: Any, entity_id: str) -> str:
    for address, user_id in state.users.items():
        if user_id == entity_id:
            return address
    return entity_id


# ---------------------------------------------------------------------- the list


def _bucket(state: Any) -> dict[str, str]:
    return {"BUCKET": state.hello_world["BucketName"]}


def _put_in_bucket(state: Any) -> dict[str, Any]:
    resource = f"arn:aws:s3:::{state.hello_world['BucketName']}/*"
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": resource}]}


def _put_metrics(state: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}],
    }


EXERCISES: dict[int, Exercise] = {
    1: Exercise(
        1,
        "Tag external mail",
        "tag_external",
        f"Put {TAG} in front of the subject of mail from outside the organization's domains, with "
        "GetRawMessageContent, S3 and PutRawMessageContent; leave internal mail alone and never tag twice.",
        "BUCKET (a bucket WorkMail may read updated messages from); its role may use the Message Flow API and "
        "s3:PutObject on BUCKET",
        (f"{DOCS}lambda-content.html", f"{DOCS}update-with-lambda.html", f"{DOCS}lambda.html#synchronous-rules"),
        _SYNC,
        ("inbound", "outbound"),
        tag_external.judge,
        environment=_bucket,
        managed_policies=(_FLOW_FULL,),
        inline_policy=_put_in_bucket,
    ),
    2: Exercise(
        2,
        "Bounce mail to a restricted group",
        "restrict_finance",
        f"Mail from outside the organization to {RESTRICTED_GROUP} bounces, with a bounce message; the other "
        "recipients of the same message still get it, and internal senders may write to the group.",
        "the event only (no environment variables); the group's address is in the event's recipients",
        (f"{DOCS}lambda.html#synchronous-schema", f"{DOCS}email-flows.html"),
        _SYNC,
        ("inbound", "outbound"),
        restricted_group.judge,
    ),
    3: Exercise(
        3,
        "Route newsletters to junk",
        "junk_newsletters",
        "Bulk mail (a List-Unsubscribe header, or Precedence: bulk) goes to the junk folder with MOVE_TO_JUNK; "
        "everything else gets DEFAULT.",
        "its role may read messages with GetRawMessageContent (AmazonWorkMailMessageFlowReadOnlyAccess)",
        (f"{DOCS}lambda-content.html", f"{DOCS}lambda.html#synchronous-schema"),
        _SYNC,
        ("inbound",),
        newsletters.judge,
        managed_policies=(_FLOW_READ,),
    ),
    4: Exercise(
        4,
        "Log metrics asynchronously",
        "count_messages",
        f"Count messages per direction in CloudWatch: put the metric {METRIC_NAMESPACE}/{METRIC_NAME} with the "
        "dimension Direction (INBOUND or OUTBOUND) and the value 1 for each message, from a rule that never holds "
        "up or changes delivery.",
        "its role may call cloudwatch:PutMetricData",
        (f"{DOCS}lambda.html", "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html"),
        _ASYNC,
        ("inbound", "outbound"),
        metrics.judge,
        rule_variable="METRICS_RULE",
        inline_policy=_put_metrics,
        before=metrics.baseline,
    ),
}

def _exercise(number: Any) -> Exercise:
    if isinstance(number, Exercise):
        return number
    if number not in EXERCISES:
        raise ConfigurationError(
            f"There is no exercise {number!r}; the workshop has exercises {join_names([str(n) for n in EXERCISES])}.",
            fix="pass the number in the exercise's heading, e.g. workshop.start(1)",
        )
    return EXERCISES[number]


def start(exercise: int = 1) -> ExerciseStart:
    """Put the sandbox in the state exercise ``exercise`` starts from (``lessons.setup(7)``), in one call.

    For a learner who fell behind, or a workshop host between exercises. It
    removes whatever was deployed or changed since; your Python functions
    stay defined. Returns what is ready, printable.
    """

    ex = _exercise(exercise)
    return ExerciseStart(ex, lessons.setup(7))


def check(exercise: int, handler: Any, *, rule: Mapping[str, Any] | None = None) -> Report:
    """Deploy ``handler``, route the exercise's sample mail through it, and report what a learner would see.

    ``handler`` is the learner's ``def name(event, context)`` (or its module
    source as a string). ``rule`` may change the Run Lambda rule's
    ``synchronous``, ``fallback_action`` and ``rule_timeout_minutes`` (the
    defaults are the exercise's). The check runs in a copy of the starting
    state and restores your sandbox afterwards, so checks are independent.
    """
    ex = _exercise(exercise)
    report = Report(ex.number, ex.title)
    started = time.perf_counter()
    with isolated() as state:
        trial = Trial(state, report, function_name=ex.function_name)
        before = ex.before(trial) if ex.before else None
        deployed = trial.deploy(
            handler,
            handler_name=ex.handler_name,
            environment=ex.environment(state) if ex.environment else None,
            managed_policies=ex.managed_policies,
            inline_policy=ex.inline_policy(state) if ex.inline_policy else None,
        )
        if deployed and trial.attach(ex.rule, rule, ex.directions):
            ex.judge(trial, report, before)
        report.results = dict(trial.results)
    report.seconds = time.perf_counter() - started
    return report


def check_tag_external(handler: Any, *, rule: Mapping[str, Any] | None = None) -> Report:
    """Exercise 1: :func:`check` for the function that tags external mail."""
    return check(1, handler, rule=rule)


def check_restricted_group(handler: Any, *, rule: Mapping[str, Any] | None = None) -> Report:
    """Exercise 2: :func:`check` for the function that bounces outside mail to the finance group."""
    return check(2, handler, rule=rule)


def check_newsletters(handler: Any, *, rule: Mapping[str, Any] | None = None) -> Report:
    """Exercise 3: :func:`check` for the function that routes newsletters to junk."""
    return check(3, handler, rule=rule)


def check_metrics(handler: Any, *, rule: Mapping[str, Any] | None = None) -> Report:
    """Exercise 4: :func:`check` for the function that counts messages in CloudWatch."""
    return check(4, handler, rule=rule)


def check_all(namespace: Mapping[str, Any]) -> Scoreboard:
    """Run every exercise's check on the functions found in ``namespace`` (``globals()`` in a notebook).

    Each exercise's function is looked up by its name (``tag_external``,
    ``restrict_finance``, ``junk_newsletters``, ``count_messages``) and exercise
    4's rule settings by ``METRICS_RULE``.
    """
    board = Scoreboard()
    for number, ex in EXERCISES.items():
        handler = namespace.get(ex.handler_name)
        if handler is None:
            board.rows.append((number, ex.title, None, f"no function named {ex.handler_name} yet"))
            continue
        rule = namespace.get(ex.rule_variable) if ex.rule_variable else None
        board.rows.append((number, ex.title, check(number, handler, rule=rule), ""))
    return board
