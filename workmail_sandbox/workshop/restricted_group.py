"""Exercise 2, bounce mail to a restricted group: the mail its check routes and how delivery is judged."""

from __future__ import annotations

from typing import Any

from .feedback import DOCS, outcome_words, report_function_errors
from .harness import Trial, emails_dir, file_subject
from .report import Report, join_names

__all__ = ["RESTRICTED_GROUP", "judge"]

#: The group exercise 2 restricts (lessons.setup creates it, with alice as its member).
RESTRICTED_GROUP = "finance@example.com"


def judge(trial: Trial, report: Report, _: Any) -> None:
    """Route 37 in (outside mail to the group, bob in Cc) and 35 out (carol to the group); judge per recipient."""
    emails = emails_dir()
    outside = "37-external-to-finance.eml"
    internal = "35-internal-only.eml"
    trial.receive(outside)
    trial.send(internal)
    report_function_errors(trial, report)

    result = trial.results[outside]
    subject = file_subject(emails / outside)
    sender = result.mail_from
    group = result.recipients.get(RESTRICTED_GROUP)
    bounce = next((b for b in result.bounces if RESTRICTED_GROUP in b.recipients), None)
    seen = f"{subject!r} from {sender} (outside the organization)"
    if group is not None and group.outcome == "bounced" and bounce is not None and bounce.text:
        report.ok(f"{RESTRICTED_GROUP} bounced {seen}; {bounce.to} got your bounce message: {bounce.text!r}")
    elif group is not None and group.outcome == "bounced":
        report.fail(
            f"{RESTRICTED_GROUP} bounced {seen}, but without a bounce message",
            expected="a bounce whose text says why, from parameters.bounceMessage",
            happened=f"{sender} got the generic text: 'Your message could not be delivered to the following "
            "recipients'",
            hint="Give the BOUNCE action parameters: {'type': 'BOUNCE', 'parameters': {'bounceMessage': '...'}} "
            f"({DOCS}lambda.html#synchronous-schema).",
        )
    else:
        members = join_names(list(group.delivered_to)) if group is not None and group.delivered_to else ""
        happened = (
            f"delivered to {members} (the group's members), {group.outcome}" if members
            else outcome_words(result, RESTRICTED_GROUP)
        )
        hint = (
            "DROP tells nobody: answer BOUNCE so the sender learns the group does not take outside mail."
            if group is not None and group.outcome == "dropped"
            else f"Answer BOUNCE, with a bounceMessage, for {RESTRICTED_GROUP} when the sender's domain is not in "
            f"ORG_DOMAINS: {{'recipients': ['{RESTRICTED_GROUP}'], 'action': {{'type': 'BOUNCE', 'parameters': "
            "{'bounceMessage': '...'}}}."
        )
        report.fail(
            f"{RESTRICTED_GROUP} received {seen}",
            expected=f"bounced, with a bounce message to {sender}",
            happened=happened,
            hint=hint,
            log=[] if trial.failed_on(outside) else trial.log_tail(outside),
        )

    others = [r for r in result.recipients if r != RESTRICTED_GROUP]
    stopped = [r for r in others if result.recipients[r].outcome not in ("inbox", "junk")]
    if stopped:
        report.fail(
            f"{join_names(stopped)}, also a recipient of {subject!r}, did not get it",
            expected="delivered to the inbox: only the restricted group refuses outside mail",
            happened="; ".join(f"{r}: {outcome_words(result, r)}" for r in stopped),
            hint=f"Bounce only {RESTRICTED_GROUP}: name it in recipients, and give everyone else DEFAULT with "
            "allRecipients (it covers every recipient the other entries do not name).",
        )
    else:
        report.ok(f"{join_names(others)}, also a recipient of {subject!r}, received it")

    result = trial.results[internal]
    subject = file_subject(emails / internal)
    sender = result.mail_from
    stopped = [r for r, o in result.recipients.items() if o.outcome != "sent"]
    if stopped:
        report.fail(
            f"{sender} (inside the organization) could not write to {join_names(stopped)}",
            expected=f"{subject!r} delivered to every recipient, {RESTRICTED_GROUP} included",
            happened="; ".join(f"{r}: {outcome_words(result, r)}" for r in stopped),
            hint="Internal senders may write to the group: bounce only when the domain of "
            "event['envelope']['mailFrom']['address'] is not in ORG_DOMAINS. The check runs your function for "
            "outbound mail too.",
        )
    else:
        report.ok(f"{sender} (inside the organization) wrote {subject!r} to {join_names(list(result.recipients))}")
