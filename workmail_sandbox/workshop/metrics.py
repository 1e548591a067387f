"""Exercise 4, log metrics asynchronously: the mail its check routes, the baseline, and how metrics are judged."""

from __future__ import annotations

from typing import Any

from ..flow import FlowSettings
from ..organization import Organization
from .feedback import DOCS, report_function_errors
from .harness import Trial, emails_dir
from .report import Report, join_names

__all__ = ["METRIC_NAME", "METRIC_NAMESPACE", "baseline", "judge"]

#: Where exercise 4's function puts its metric: namespace, name, and a ``Direction`` dimension.
METRIC_NAMESPACE = "WorkMailWorkshop"
METRIC_NAME = "Messages"


def judge(trial: Trial, report: Report, baseline: Any) -> None:
    """Route 01 and 07 in, 02 and 35 out; judge the rule's mode, delivery against ``baseline``, and the metric."""
    inbound = ("01-plain-inbound.eml", "07-duplicate-recipients.eml")
    outbound = ("02-plain-outbound.eml", "35-internal-only.eml")
    for name in inbound:
        trial.receive(name)
    for name in outbound:
        trial.send(name)
    report_function_errors(trial, report)

    invocations = [i for r in trial.results.values() for i in r.invocations]
    log = trial.organization.event_log()
    ignored = int((log["eventName"] == "LAMBDA_RESULT_IGNORED").sum()) if len(log) else 0
    if any(i.synchronous for i in invocations):
        report.fail(
            "The rule ran synchronously: WorkMail waited for your function before it delivered each message",
            expected="an asynchronous rule: the function runs while the message is delivered",
            happened=f"{len(invocations)} synchronous invocation(s); a slow or failing function would hold up "
            "or change delivery",
            hint="Counting needs no say in delivery: set METRICS_RULE = {'synchronous': False} (an asynchronous "
            f"rule has no fallback action or rule timeout; {DOCS}lambda.html).",
        )
    elif invocations:
        report.ok(
            f"The rule ran asynchronously: {ignored} invocation(s), each LAMBDA_RESULT_IGNORED in the event log "
            "(WorkMail delivers without waiting)"
        )

    changed = []
    total = 0
    for name, result in trial.results.items():
        for recipient, outcome in result.recipients.items():
            total += 1
            before = baseline.get((name, recipient))
            if before != outcome.outcome:
                changed.append(f"{name}: {recipient} {before} -> {outcome.outcome} ({outcome.reason})")
    if changed:
        report.fail(
            f"Delivery changed for {len(changed)} recipient(s)",
            expected="every recipient where it would be without the rule",
            happened="\n".join(changed),
            hint="Metrics must not change delivery: use an asynchronous rule, and answer DEFAULT if the rule is "
            "synchronous.",
        )
    else:
        report.ok(f"Delivery was unchanged: {total} recipients of {len(trial.results)} messages ended where they "
                  "would without the rule")

    for direction, names in (("INBOUND", inbound), ("OUTBOUND", outbound)):
        dims = [{"Name": "Direction", "Value": direction}]
        total_sum = trial.metric_sum(METRIC_NAMESPACE, METRIC_NAME, dims)
        label = f"{METRIC_NAMESPACE}/{METRIC_NAME} (Direction={direction})"
        if total_sum == len(names):
            report.ok(f"CloudWatch metric {label} counts {len(names)} {direction.lower()} messages")
            continue
        if total_sum is None:
            found = trial.learner_metrics()
            report.fail(
                f"CloudWatch has no data for {label}",
                expected=f"a sum of {len(names)}: one per {direction.lower()} message "
                f"({join_names(list(names))})",
                happened=("metrics your function put: " + "; ".join(found)) if found else "no metric at all",
                hint="Call boto3.client('cloudwatch').put_metric_data(Namespace=NAMESPACE, MetricData=[{"
                "'MetricName': 'Messages', 'Dimensions': [{'Name': 'Direction', 'Value': event['flowDirection']}], "
                "'Value': 1, 'Unit': 'Count'}]).",
            )
        else:
            report.fail(
                f"CloudWatch metric {label} counts {total_sum:g}, not {len(names)}",
                expected=f"{len(names)}: one per {direction.lower()} message ({join_names(list(names))})",
                happened=f"a sum of {total_sum:g}",
                hint="Put Value 1 once per invocation: WorkMail calls the function once per message here "
                "(07-duplicate-recipients.eml has three recipients, 35-internal-only.eml four).",
            )

    answers = [a.payload for i in invocations if not i.synchronous for a in i.attempts if a.ok]
    changing = [a for a in answers if isinstance(a, dict) and any(
        (x.get("action") or {}).get("type") not in (None, "DEFAULT") for x in a.get("actions", []) or []
        if isinstance(x, dict))]
    if changing:
        report.note(
            "Your function answered with actions other than DEFAULT; an asynchronous rule ignores the answer, so "
            "delivery did not change",
            hint="Return nothing (or DEFAULT) from a function that only observes.",
        )


def baseline(trial: Trial) -> dict[tuple[str, str], str]:
    """Where each recipient of exercise 4's mail ends without any rule."""

    org = Organization.attach(trial.sandbox, trial.state.organization_id,
                              settings=FlowSettings(unknown_recipients="create-mailbox"))
    emails = emails_dir()
    outcomes = {}
    for name, route in (("01-plain-inbound.eml", org.receive), ("07-duplicate-recipients.eml", org.receive),
                        ("02-plain-outbound.eml", org.send), ("35-internal-only.eml", org.send)):
        for recipient, o in route(emails / name).recipients.items():
            outcomes[(name, recipient)] = o.outcome
    return outcomes
