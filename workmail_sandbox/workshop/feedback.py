"""Feedback shared by the exercises: how a failing function is reported, and the likeliest fix.

A function that raised is quoted from its own CloudWatch log (the ``[ERROR]``
line and the line of your cell, or file, that failed), never with a traceback,
once however many messages it failed on, with the last lines it printed.
"""

from __future__ import annotations

from typing import Any

from .harness import Trial
from .report import Report, join_names

__all__ = ["DOCS", "error_hint", "outcome_words", "report_function_errors"]

DOCS = "https://docs.aws.amazon.com/workmail/latest/adminguide/"


def error_hint(summary: str, kind: str) -> str:
    """The likeliest fix for one way a function failed."""
    if kind == "invalid response":
        return (
            "A synchronous function must answer {'actions': [...]}: each entry an action with a type in capitals "
            "and recipients or allRecipients. Returning None, a string, or a lower-case type is invalid "
            "(lesson 06; https://docs.aws.amazon.com/workmail/latest/adminguide/lambda.html#synchronous-schema)."
        )
    if kind == "timeout":
        from . import harness

        return (
            f"The check gives your function {harness.CHECK_TIMEOUT_SECONDS} seconds (WorkMail waits at most 15): "
            "look for a loop or a wait that never ends."
        )
    if kind == "permission":
        return "WorkMail could not invoke the function; run workshop.start(n) to get back to a known state."
    if "MessageFrozen" in summary:
        return (
            "Redirected mail cannot be changed: catch flow.exceptions.MessageFrozen and answer DEFAULT, as the "
            "AWS templates do (lesson 05)."
        )
    if "InvalidContentLocation" in summary:
        return (
            "WorkMail could not read your S3 object: put it in os.environ['BUCKET'] (its bucket policy lets "
            "WorkMail read it), in this account and Region (lesson 05)."
        )
    if "MessageRejected" in summary:
        return (
            "The new content breaks a MIME rule: parse with policy.default, change only the Subject, and write it "
            "with policy.SMTP (lesson 05). The error message names the rule."
        )
    if "ResourceNotFoundException" in summary:
        return "Fetch the message by the event's messageId, within 24 hours (lesson 05)."
    if "AccessDenied" in summary:
        return "The check's role allows the Message Flow API, S3 PutObject on BUCKET and cloudwatch:PutMetricData."
    if summary.startswith("KeyError"):
        return (
            "A key your function reads is not there. The event has summaryVersion, envelope, sender, subject, "
            "messageId, invocationId, flowDirection and truncated (lesson 03); the check sets only the "
            "environment variables listed by workshop.start(n)."
        )
    if summary.startswith("NameError"):
        return (
            "A name is not defined in the deployed function: deploy_handler copies the imports, constants and "
            "helper functions your handler uses, so define them at the top level of the cell."
        )
    if summary.startswith("Runtime."):
        return "Lambda could not load the handler: define it with def at the top level of the cell."
    return (
        "Read the error line above. To see the whole log, deploy it with deploy_handler and call "
        "sb.runtime.invoke(name, event) (lessons 01 and 06)."
    )


def report_function_errors(trial: Trial, report: Report) -> None:
    """One failing finding per distinct way the function failed, with the messages it failed on."""
    for error in trial.function_errors():
        where = join_names(error.files)
        what = {
            "error": "raised an error",
            "invalid response": "gave an invalid answer",
            "timeout": "did not answer in time",
            "permission": "could not be invoked",
        }[error.kind]
        report.fail(
            f"Your function {what} on {len(error.files)} message(s): {where}",
            expected="an answer for every message, with no error",
            happened=error.quote or error.summary,
            hint=error_hint(error.summary, error.kind),
            log=error.log,
        )


def outcome_words(result: Any, recipient: str) -> str:
    """Where a recipient ended, and why, in words: what your function answered, or why the fallback applied."""
    o = result.recipients.get(recipient)
    if o is None:
        return "it was not a recipient WorkMail received"
    if o.source in ("lambda", "fallback"):
        return result.explain(recipient).split(": ", 1)[1]
    return f"{o.outcome} ({o.action}, {o.reason})"
