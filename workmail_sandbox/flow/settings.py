"""Settings of the emulated mail flow: the retry schedule and the choices AWS leaves open.

Every value here is either a documented WorkMail fact (named with its source) or a
choice the kit makes where AWS is silent (marked *choice*). Each is a field, so a
lesson or a test can change it::

    org.settings = FlowSettings(retry=RetryPolicy(first_delay_seconds=30))
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConfigurationError
from ..events import DEFAULT_SUMMARY_VERSION, KNOWN_SUMMARY_VERSIONS

__all__ = [
    "INVOCATION_LIMIT_SECONDS",
    "UNKNOWN_RECIPIENT_MODES",
    "VIRUS_MODES",
    "FlowSettings",
    "RetryPolicy",
]

#: "The Lambda function must respond within 15 seconds, or it is treated as a
#: failed invocation" (lambda.md, Synchronous Run Lambda limits; docs/aws-behaviour.md §2.5).
INVOCATION_LIMIT_SECONDS = 15.0

#: What happens to inbound mail whose ``X-SES-Virus-Verdict`` is FAIL (see FlowSettings).
VIRUS_MODES = ("block", "junk", "ignore")
#: What happens to mail for an address of the organization's domains that no user or group has.
UNKNOWN_RECIPIENT_MODES = ("bounce", "create-mailbox")


@dataclass(frozen=True)
class RetryPolicy:
    """When WorkMail calls a failed synchronous function again (*choice*: AWS does not publish it).

    AWS documents only that failed synchronous invocations (an error, an
    invalid response, no answer within 15 s) are retried "with exponential
    backoff" until the rule timeout, then the fallback applies to every
    recipient (lambda.md, Synchronous Run Lambda failures; aws-behaviour §2.5). The
    kit's schedule: the *n*-th retry comes ``first_delay_seconds *
    multiplier ** (n - 1)`` seconds after the failed attempt, capped at
    ``max_delay_seconds``. With the defaults (60 s, x2, 30 min cap) the
    attempts of a 240-minute rule are at minutes 0, 1, 3, 7, 15, 31, 61, 91,
    121, 151, 181 and 211: twelve attempts, then the fallback at minute 240,
    when the window ends. A retry is made only if it starts within the
    window (at the window's end exactly counts as within). Times are on the
    sandbox's simulated clock, so nobody waits.
    """

    first_delay_seconds: float = 60.0
    multiplier: float = 2.0
    max_delay_seconds: float = 1800.0

    def __post_init__(self) -> None:
        if not self.first_delay_seconds > 0:
            raise ConfigurationError(
                f"RetryPolicy.first_delay_seconds must be more than 0, got {self.first_delay_seconds!r}.",
                fix="use a positive number of seconds, e.g. 60",
            )
        if not self.multiplier >= 1:
            raise ConfigurationError(
                f"RetryPolicy.multiplier must be at least 1 (backoff never speeds up), got {self.multiplier!r}.",
                fix="use 2 for doubling delays, or 1 for a fixed delay",
            )
        if not self.max_delay_seconds >= self.first_delay_seconds:
            raise ConfigurationError(
                f"RetryPolicy.max_delay_seconds ({self.max_delay_seconds!r}) is below first_delay_seconds "
                f"({self.first_delay_seconds!r}).",
                fix="raise max_delay_seconds or lower first_delay_seconds",
            )

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure (1-based) before trying again."""
        if failed_attempts < 1:
            raise ValueError(f"failed_attempts starts at 1, got {failed_attempts}")
        exponent = min(failed_attempts - 1, 64)  # no float overflow for absurd attempt counts
        return min(self.first_delay_seconds * self.multiplier**exponent, self.max_delay_seconds)

    def schedule(self, rule_timeout_minutes: int) -> list[float]:
        """Seconds from the first attempt at which every attempt starts, for a rule timeout.

        ``schedule(0) == [0.0]``: no retry. The fallback applies at
        ``rule_timeout_minutes * 60`` seconds when every attempt fails.
        """
        window = float(rule_timeout_minutes) * 60.0
        times = [0.0]
        if window <= 0:
            return times
        while True:
            nxt = times[-1] + self.delay(len(times))
            if nxt > window:
                return times
            times.append(nxt)

    def describe(self, rule_timeout_minutes: int) -> str:
        """The schedule in words, e.g. for a lesson."""
        times = self.schedule(rule_timeout_minutes)
        if rule_timeout_minutes == 0:
            return "rule timeout 0: one attempt, no retry; the fallback applies at once if it fails"
        minutes = ", ".join(f"{t / 60:g}" for t in times)
        return (
            f"{len(times)} attempts, at minute {minutes}; if all fail, the fallback applies at minute "
            f"{rule_timeout_minutes} (end of the rule timeout)"
        )


@dataclass(frozen=True)
class FlowSettings:
    """How an emulated organization routes mail, where WorkMail's documentation leaves a choice.

    ``retry``: the :class:`RetryPolicy` for failed synchronous invocations.

    ``invocation_limit_seconds``: how long WorkMail waits for a synchronous
    function (15 s, documented). It is real time (the function really runs),
    so a test of the limit may lower it. Asynchronous invocations are not
    limited by WorkMail; the function's own ``Timeout`` applies.

    ``virus_verdict`` (*choice*), for inbound mail with ``X-SES-Virus-Verdict: FAIL``.
    AWS documents (aws-behaviour §4.1) inbound mail goes through SES first and that SES
    may block a known virus before any WorkMail rule runs, without saying
    whether it always does:

    * ``"block"`` (default): SES blocks it; no rule or function runs, every
      recipient ends ``dropped`` with the reason, and no bounce is sent
      (sending bounces to the forged senders of viruses is what mail servers
      avoid);
    * ``"junk"``: rules run; DEFAULT delivers it to the junk folder, as for spam;
    * ``"ignore"``: the verdict is not looked at.

    ``unknown_recipients`` (*choice*), for an address in the organization's
    domains that belongs to no user or group: ``"bounce"`` (default; WorkMail
    bounces mail for mailboxes that do not exist, see the
    ``IncomingEmailBounced`` metric) or ``"create-mailbox"`` (the sandbox
    makes a mailbox on first delivery: handy to replay your own exported mail
    without creating every user first).

    ``keep_content``: keep each delivered copy's bytes in the mailboxes and the
    outbox (True), or only its metadata (False; replay uses this, so memory
    stays flat on large corpora).

    ``strip_bcc``: remove the ``Bcc`` header from the copies that are
    delivered or sent, as mail servers do (True), or keep the bytes untouched.

    ``summary_version``: the event's ``summaryVersion``.
    """

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    invocation_limit_seconds: float = INVOCATION_LIMIT_SECONDS
    virus_verdict: str = "block"
    unknown_recipients: str = "bounce"
    keep_content: bool = True
    strip_bcc: bool = True
    summary_version: str = DEFAULT_SUMMARY_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.retry, RetryPolicy):
            raise ConfigurationError(
                f"FlowSettings.retry must be a RetryPolicy, got {type(self.retry).__name__}.",
                fix="pass retry=RetryPolicy(first_delay_seconds=..., multiplier=..., max_delay_seconds=...)",
            )
        if not (isinstance(self.invocation_limit_seconds, (int, float)) and self.invocation_limit_seconds > 0):
            raise ConfigurationError(
                f"FlowSettings.invocation_limit_seconds must be a positive number, got "
                f"{self.invocation_limit_seconds!r}.",
                fix="leave it at 15 (WorkMail's limit), or lower it to test the limit quickly",
            )
        for name, allowed in (("virus_verdict", VIRUS_MODES), ("unknown_recipients", UNKNOWN_RECIPIENT_MODES)):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigurationError(
                    f"FlowSettings.{name} must be one of {', '.join(allowed)}; got {value!r}.",
                    fix=f"use {name}={allowed[0]!r} (the default)",
                )
        if self.summary_version not in KNOWN_SUMMARY_VERSIONS:
            raise ConfigurationError(
                f"FlowSettings.summary_version must be one of {', '.join(KNOWN_SUMMARY_VERSIONS)}; "
                f"got {self.summary_version!r}.",
                fix=f"use {DEFAULT_SUMMARY_VERSION!r}",
            )

    def but(self, **changes: Any) -> FlowSettings:
        """A copy with some fields changed: ``settings.but(keep_content=False)``."""
        return replace(self, **changes)

    @staticmethod
    def window(rule_timeout_minutes: int) -> _dt.timedelta:
        """The rule timeout as a timedelta."""
        return _dt.timedelta(minutes=rule_timeout_minutes)
