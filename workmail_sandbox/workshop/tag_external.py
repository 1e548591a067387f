"""Exercise 1, tag external mail: the mail its check routes and how the subjects are judged."""

from __future__ import annotations

from typing import Any

from .feedback import outcome_words, report_function_errors
from .harness import Trial, emails_dir, file_subject
from .report import Report, join_names

__all__ = ["TAG", "judge"]

#: The subject tag of exercise 1.
TAG = "[EXTERNAL]"


def judge(trial: Trial, report: Report, _: Any) -> None:
    """Route 01, 12, 40 and 20 in, 35 out; judge the subject of every copy the mailboxes received."""
    emails = emails_dir()
    external = ("01-plain-inbound.eml", "12-subject-iso-8859-1-q.eml", "40-reply-already-tagged.eml")
    for name in external:
        trial.receive(name)
    trial.receive("20-redirected.eml", recipients=["alice@example.com"])
    trial.send("35-internal-only.eml")
    report_function_errors(trial, report)

    def canonical(subject: str) -> str:
        return " ".join(subject.replace(TAG, f"{TAG} ").split())

    for name in external:
        result = trial.results[name]
        original = file_subject(emails / name)
        already = TAG.lower() in original.lower()
        expected = original if already else f"{TAG} {original}"
        copies = [c for c in trial.copies(name) if c.kind == "message"]
        seen = f"{original!r} from {result.mail_from}"
        if not copies:
            recipient = next(iter(result.recipients), "alice@example.com")
            report.fail(
                f"{recipient} never received {seen}",
                expected=f"delivered with the subject {expected!r}",
                happened=outcome_words(result, recipient),
                hint="Answer DEFAULT for every recipient: tagging changes the content, not the delivery.",
                log=trial.log_tail(name),
            )
            continue
        for copy in copies:
            tags = copy.subject.lower().count(TAG.lower())
            if canonical(copy.subject) == canonical(expected):
                how = "kept its one tag" if already else f"as {copy.subject!r}"
                report.ok(f"{copy.where} received {seen} {how}")
            elif tags > expected.lower().count(TAG.lower()):
                report.fail(
                    f"{copy.where} received {seen} with the tag twice",
                    expected=repr(expected) + (" (it already carries the tag)" if already else ""),
                    happened=repr(copy.subject),
                    hint="Add the tag only when the subject does not contain it yet: a reply to tagged mail keeps "
                    "it, and a retried invocation fetches the message you already changed.",
                    log=trial.log_tail(name),
                )
            elif tags == 0:
                report.fail(
                    f"{copy.where} received {seen} without the tag",
                    expected=repr(expected),
                    happened=repr(copy.subject),
                    hint=why_untagged(trial, name),
                    log=[] if trial.failed_on(name) else trial.log_tail(name),
                )
            else:
                report.fail(
                    f"{copy.where} received {seen} with an unexpected subject",
                    expected=repr(expected),
                    happened=repr(copy.subject),
                    hint=f"Put {TAG} and one space in front of the original subject, and keep the rest as it was.",
                    log=trial.log_tail(name),
                )

    name = "20-redirected.eml"
    original = file_subject(emails / name)
    copies = [c for c in trial.copies(name) if c.kind == "message"]
    if trial.failed_on(name):
        pass  # report_function_errors named this message with the error: one crash, one finding
    elif copies and all(c.subject == original for c in copies):
        report.ok(
            f"the redirected message {original!r} reached {join_names(sorted({c.where for c in copies}))} unchanged "
            "(WorkMail cannot change redirected mail) and your function carried on"
        )
    else:
        report.fail(
            f"the redirected message {original!r} was not delivered unchanged",
            expected="delivered to alice@example.com with its subject unchanged",
            happened=join_names([f"{c.where}: {c.subject!r}" for c in copies]) or outcome_words(
                trial.results[name], "alice@example.com"),
            hint="Answer DEFAULT for redirected mail too.",
        )

    name = "35-internal-only.eml"
    original = file_subject(emails / name)
    copies = [c for c in trial.copies(name) if c.kind == "message"]
    tagged = sorted({c.where for c in copies if TAG.lower() in c.subject.lower()})
    reached = sorted({c.where for c in copies})
    result = trial.results[name]
    sender = result.mail_from
    delivered = [r for r, o in result.recipients.items() if o.outcome == "sent"]
    if tagged:
        report.fail(
            f"{sender}'s internal mail {original!r} was tagged for {join_names(tagged)}",
            expected=repr(original),
            happened=repr(next(c.subject for c in copies if c.where == tagged[0])),
            hint="Tag only mail from outside: compare the domain of event['envelope']['mailFrom']['address'] with "
            "ORG_DOMAINS (sales.example.com is the organization's too), or read event['flowDirection']. The check "
            "runs your function for outbound mail as well.",
            log=trial.log_tail(name),
        )
    elif set(reached) >= {"alice@example.com", "bob@example.com", "dave@sales.example.com"}:
        report.ok(f"{sender}'s internal mail {original!r} reached {join_names(delivered)} untouched")
    else:
        report.fail(
            f"{sender}'s internal mail {original!r} did not reach every recipient",
            expected="alice@example.com, bob@example.com, dave@sales.example.com and the finance group",
            happened=f"reached {join_names(reached) or 'nobody'}",
            hint="Answer DEFAULT for every recipient.",
        )


def why_untagged(trial: Trial, name: str) -> str:
    """The likeliest reason an external message arrived without the tag."""
    if trial.failed_on(name):
        return "Your function failed on this message (see above), so the fallback action delivered it unchanged."
    if not trial.synchronous:
        return (
            "The rule runs asynchronously: WorkMail delivers while the function runs and ignores "
            "PutRawMessageContent. Leave rule= out (the check's rule is synchronous)."
        )
    updates = trial.updates(name)
    if not updates:
        return "Did the function call PutRawMessageContent, and does the rule run synchronously?"
    if not any(u.effective for u in updates):
        return f"PutRawMessageContent was called but changed nothing: {updates[-1].reason}"
    return "The content you put has no tag in its Subject: check what your function wrote to S3."
