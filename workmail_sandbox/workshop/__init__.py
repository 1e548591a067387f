"""Lesson 07's workshop: exercises, a one-call start for each, and checks that say what to fix.

::

    from workmail_sandbox import workshop

    workshop.start(1)                        # the known state exercise 1 starts from; prints the task
    report = workshop.check(1, tag_external) # deploy, route sample mail, judge what a learner would see
    report                                   # green/red list: expected, happened, hint
    report.raise_for_failure()               # for solution notebooks and tests
    workshop.check_all(globals())            # every exercise, by the functions' names

The exercises (:data:`EXERCISES`):

1. **Tag external mail** (``tag_external``): GetRawMessageContent, S3 and
   PutRawMessageContent from a synchronous rule; internal mail untouched;
   never tag twice.
2. **Bounce mail to a restricted group** (``restrict_finance``): outside mail to
   ``finance@example.com`` bounces with a bounce message; the other
   recipients still get it; internal senders may write to the group.
3. **Route newsletters to junk** (``junk_newsletters``): ``List-Unsubscribe`` or
   ``Precedence: bulk`` -> ``MOVE_TO_JUNK``, everything else ``DEFAULT``.
4. **Log metrics asynchronously** (``count_messages``, ``METRICS_RULE``): a
   CloudWatch count per direction from an asynchronous rule; delivery unchanged.

Why checks are safe to run at any time: each one runs in a copy of the
workshop's starting state (``lessons.setup(7)``) and restores the learner's
sandbox afterwards, so a check never breaks the next exercise and never
depends on what the learner did before. A check takes a few tenths of a second.

Sandbox differences: the checks route mail through the sandbox's emulated
organization (flow rules have no AWS API); the function gets a 5-second
timeout so a stuck function is reported quickly (WorkMail waits 15 s).
"""

from __future__ import annotations

from .exercises import (
    EXERCISES,
    METRIC_NAME,
    METRIC_NAMESPACE,
    RESTRICTED_GROUP,
    TAG,
    Exercise,
    ExerciseStart,
    check,
    check_all,
    check_metrics,
    check_newsletters,
    check_restricted_group,
    check_tag_external,
    start,
)
from .report import ExerciseFailed, Finding, Report, Scoreboard

__all__ = [
    "EXERCISES",
    "METRIC_NAME",
    "METRIC_NAMESPACE",
    "RESTRICTED_GROUP",
    "TAG",
    "Exercise",
    "ExerciseFailed",
    "ExerciseStart",
    "Finding",
    "Report",
    "Scoreboard",
    "check",
    "check_all",
    "check_metrics",
    "check_newsletters",
    "check_restricted_group",
    "check_tag_external",
    "start",
]
