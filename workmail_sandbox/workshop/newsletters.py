"""Exercise 3, route newsletters to junk: the mail its check routes and how the folders are judged."""

from __future__ import annotations

from typing import Any

from .feedback import outcome_words, report_function_errors
from .harness import Trial, emails_dir, file_subject
from .report import Report

__all__ = ["judge"]

_BULK_HEADERS = ("List-Unsubscribe", "List-Id", "Precedence")


def _bulk_headers(path: Any) -> list[str]:
    """The bulk-mail headers a sample message carries (what the hint names)."""
    from email.parser import BytesHeaderParser
    from email.policy import default

    headers = BytesHeaderParser(policy=default).parsebytes(path.read_bytes())
    found = [h for h in _BULK_HEADERS if headers[h] is not None]
    return [f"Precedence: {headers['Precedence']}" if h == "Precedence" else h for h in found]


def judge(trial: Trial, report: Report, _: Any) -> None:
    """Route two bulk messages, two ordinary ones and spam in; judge the folder each landed in."""
    emails = emails_dir()
    cases = (
        ("17-newsletter.eml", "junk"),
        ("38-promotion-list-unsubscribe.eml", "junk"),
        ("39-newsletter-draft-review.eml", "inbox"),
        ("01-plain-inbound.eml", "inbox"),
        ("18-spam-fail.eml", "junk"),
    )
    for name, _folder in cases:
        trial.receive(name)
    report_function_errors(trial, report)
    for name, folder in cases:
        result = trial.results[name]
        subject = file_subject(emails / name)
        recipient = next(iter(result.recipients))
        outcome = result.recipients[recipient]
        bulk = _bulk_headers(emails / name)
        spam = outcome.spam_verdict == "FAIL"
        why = (
            f"bulk mail ({', '.join(bulk)})" if bulk
            else "spam (X-SES-Spam-Verdict: FAIL)" if spam
            else "no List-* or Precedence header"
        )
        seen = f"{recipient}: {subject!r} from {result.mail_from}, {why}"
        if outcome.outcome == folder:
            report.ok(f"{seen}, landed in {folder}")
            continue
        if bulk:
            hint = (
                "The event carries only the subject: fetch the message with GetRawMessageContent and look at its "
                "headers. List-Unsubscribe or Precedence: bulk (either one) means bulk mail: answer MOVE_TO_JUNK."
            )
        elif spam:
            hint = (
                "Answer DEFAULT for mail that is not bulk: DEFAULT keeps WorkMail's spam check, which sends spam to "
                "junk; BYPASS_SPAM_CHECK would put it in the inbox."
            )
        else:
            hint = (
                "Decide from the headers, not from words in the subject: this message has no List-Unsubscribe, "
                "List-Id or Precedence: bulk header, so it gets DEFAULT."
            )
        if trial.failed_on(name):
            hint = "Your function failed on this message (see above), so the fallback action applied. " + hint
        report.fail(
            f"{seen}, landed in {outcome.outcome}",
            expected=folder,
            happened=outcome_words(result, recipient),
            hint=hint,
            log=[] if trial.failed_on(name) else trial.log_tail(name),
        )
