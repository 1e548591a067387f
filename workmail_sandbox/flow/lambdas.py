"""Running the Run Lambda rules of one message: transit, WorkMail's checks, retries, responses.

Facts followed (lambda.md; docs/aws-behaviour.md §2.1-§2.5): the message is put in transit first
and the event's ``messageId`` is that copy's; WorkMail's permission check comes
before every attempt; synchronous attempts have a 15-second limit, and a
failure (function error, invalid response, timeout, no permission) is retried
with the same ``invocationId`` until the rule timeout, then the fallback
applies to every recipient (timeout 0: no retry); asynchronous invocations run
once and their result is ignored. The retry schedule is the kit's
:class:`~workmail_sandbox.flow.settings.RetryPolicy`, on the simulated clock.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .. import _moto
from ..responses import resolve_response
from ..rules import DEFAULT
from .planning import Job, Plan
from .results import Attempt, FlowResult, InvocationRecord
from .settings import FlowSettings

if TYPE_CHECKING:  # pragma: no cover
    from ..organization import Organization

__all__ = ["LambdaSteps"]


@dataclass
class Decision:
    """What happens to one recipient, and why (before delivery)."""

    action: str
    rule: str | None
    source: str
    reason: str
    bounce_message: str | None = None
    invocation_id: str | None = None
    added: bool = False
    #: Decided by an asynchronous Run Lambda rule (its action is DEFAULT; RULE_APPLIED shows RUN_LAMBDA).
    async_lambda: bool = False


class LambdaSteps:
    """The Run Lambda part of :class:`~workmail_sandbox.flow.engine._Router` (a mixin: it shares the router's state)."""

    # The router's state these steps use (set in _Router.__init__).
    org: Organization
    p: Plan
    settings: FlowSettings
    sandbox: Any
    clock: Any
    direction: str
    domains: set[str]
    result: FlowResult
    message_ids: dict[int, str]
    decisions: dict[str, Decision]
    conversation_of: dict[str, int]

    def event(self, name: str, **fields: Any) -> None:  # pragma: no cover - the router's
        raise NotImplementedError

    def put_in_transit(self) -> None:
        """Each conversation's copy in transit (``Sandbox.put_message_in_transit``, given the plan's header parse)."""
        needed = sorted({job.conversation for job in self.p.jobs})
        backend = self.org._messageflow()
        for conv in needed:
            self.message_ids[conv] = backend.add_message(
                self.p.raw, organization_id=self.org.id, direction=self.direction, headers=self.p.parsed
            )
        self.result.message_ids = tuple(self.message_ids[c] for c in needed)

    def run_jobs(self, synchronous: bool) -> None:
        for job in self.p.jobs:
            if job.synchronous == synchronous:
                record = self._invoke(job)
                self.result.invocations.append(record)

    def _event_for(self, job: Job, message_id: str) -> dict[str, Any]:
        data = dict(job.event.raw)  # type: ignore[union-attr]  # jobs that reach a function always have an event
        data["messageId"] = message_id
        return data

    def _invoke(self, job: Job) -> InvocationRecord:
        rule = job.rule
        message_id = self.message_ids[job.conversation]
        event = self._event_for(job, message_id) if job.event is not None else {}
        record = InvocationRecord(
            rule=rule.name,
            function_arn=rule.function_arn or "",
            synchronous=rule.synchronous,
            invocation_id=event.get("invocationId", ""),
            message_id=message_id,
            recipients=job.recipients,
            conversation=job.conversation,
            event=event,
            fallback=rule.fallback_action,
            started_at=self.clock.now(),
        )
        if rule.synchronous:
            deciders = [r for r in job.recipients if self.p.evaluations[r].synchronous_rule is rule]
            record.decides = bool(deciders)
            self._run_sync(job, record, event, deciders)
        else:
            self._run_async(job, record, event)
        record.ended_at = self.clock.now()
        return record

    def _attempt(self, job: Job, record: InvocationRecord, event: dict[str, Any], mode: str) -> Attempt:
        """One call, with WorkMail's checks; the Attempt says whether it succeeded and why not."""
        org = self.org
        number = len(record.attempts) + 1
        at = self.clock.now()
        arn = job.rule.function_arn or ""
        common = {
            "ruleName": job.rule.name,
            "functionArn": arn,
            "invocationId": record.invocation_id or None,
            "workmailMessageId": record.message_id,
            "attempt": number,
            "synchronous": job.rule.synchronous,
        }
        if job.problem is not None:
            attempt = Attempt(number, at, None, False, job.problem)
            self.event("LAMBDA_FAILED", **common, reason=job.problem)
            return attempt
        runtime = self.sandbox.runtime
        allowed, why = _check_permission(org, runtime, arn)
        if not allowed:
            reason = f"no permission: {why}"
            self.event("LAMBDA_FAILED", **common, reason=reason)
            return Attempt(number, at, None, False, reason)
        try:
            result = runtime.invoke(
                arn,
                event,
                workmail_mode=mode,
                message_id=record.message_id,
                limit_seconds=self.settings.invocation_limit_seconds if mode == "sync" else None,
            )
        except ClientError as exc:
            reason = f"the invocation failed: {exc}"
            self.event("LAMBDA_FAILED", **common, reason=reason)
            return Attempt(number, at, None, False, reason)
        self.event("LAMBDA_INVOKED", **common, requestId=result.request_id, coldStart=result.cold_start)
        attempt = Attempt(
            number, at, result.request_id, result.ok, None, result.duration_ms, result.timed_out, result.payload,
            log=result.log_text,
        )
        if not result.ok:
            payload = result.payload if isinstance(result.payload, dict) else {}
            message = str(payload.get("errorMessage", result.payload))
            if result.timed_out:
                attempt.error = f"timed out: {message}"
            else:
                attempt.error = f"function error: {payload.get('errorType', 'Error')}: {message}"
            self.event("LAMBDA_FAILED", **common, requestId=result.request_id, reason=attempt.error)
        return attempt

    def _run_async(self, job: Job, record: InvocationRecord, event: dict[str, Any]) -> None:
        """Asynchronous: one attempt, result ignored, delivery never affected (lambda.md; aws-behaviour §2.1)."""
        attempt = self._attempt(job, record, event, "async")
        record.attempts.append(attempt)
        if attempt.ok:
            record.outcome, record.reason = "ignored", "asynchronous: the result is ignored"
            self.event(
                "LAMBDA_RESULT_IGNORED",
                ruleName=job.rule.name,
                invocationId=record.invocation_id,
                requestId=attempt.request_id,
                reason="asynchronous invocation: WorkMail ignores what the function returns",
            )
        else:
            record.outcome, record.reason = "failed", f"{attempt.error}; delivery is not affected"

    def _run_sync(self, job: Job, record: InvocationRecord, event: dict[str, Any], deciders: list[str]) -> None:
        """Synchronous: retry with backoff and the same invocationId until the rule timeout, then fallback."""
        rule = job.rule
        timeout_min = rule.rule_timeout_minutes or 0
        deadline = self.clock.now() + _dt.timedelta(minutes=timeout_min)
        retry = self.settings.retry
        fallback = rule.fallback_action or DEFAULT
        while True:
            attempt = self._attempt(job, record, event, "sync")
            record.attempts.append(attempt)
            if attempt.ok:
                resolution = resolve_response(
                    attempt.payload,
                    direction=self.direction,
                    recipients=job.recipients,
                    org_domains=self.domains,
                    fallback=fallback,
                )
                if resolution.valid:
                    record.resolution = resolution
                    record.outcome = "applied"
                    record.reason = "; ".join(str(w) for w in resolution.warnings)
                    self.event(
                        "LAMBDA_SUCCEEDED",
                        ruleName=rule.name,
                        invocationId=record.invocation_id,
                        requestId=attempt.request_id,
                        attempt=attempt.number,
                        actions=_group_actions(resolution.decisions.values()),
                        warnings=[str(w) for w in resolution.warnings] or None,
                    )
                    self._apply_resolution(job, record, resolution, deciders)
                    return
                attempt.ok = False
                attempt.error = "invalid response: " + "; ".join(f"{e.field}: {e.message}" for e in resolution.errors)
                self.event(
                    "LAMBDA_FAILED",
                    ruleName=rule.name,
                    invocationId=record.invocation_id,
                    requestId=attempt.request_id,
                    attempt=attempt.number,
                    reason=attempt.error,
                )
            if job.problem is not None:
                why = f"the function cannot be run ({job.problem})"
                break
            if timeout_min == 0:
                why = f"rule timeout 0: no retry after {attempt.error}"
                break
            delay = retry.delay(len(record.attempts))
            now = self.clock.now()
            if now + _dt.timedelta(seconds=delay) > deadline:
                if deadline > now:
                    self.clock.advance(deadline - now)
                why = (
                    f"the {timeout_min}-minute rule timeout ran out after {len(record.attempts)} attempts; "
                    f"last error: {attempt.error}"
                )
                break
            self.event(
                "LAMBDA_RETRY_SCHEDULED",
                ruleName=rule.name,
                invocationId=record.invocation_id,
                attempt=len(record.attempts) + 1,
                delaySeconds=delay,
                reason=attempt.error,
            )
            self.clock.advance(seconds=delay)
        record.outcome, record.reason = "fallback", why
        self.event(
            "LAMBDA_FALLBACK_APPLIED",
            ruleName=rule.name,
            invocationId=record.invocation_id,
            action=fallback,
            recipients=list(deciders),
            reason=why,
        )
        for r in deciders:
            self.decisions[r] = Decision(
                fallback, rule.name, "fallback", f"fallback {fallback}: {why}", invocation_id=record.invocation_id
            )

    def _apply_resolution(self, job: Job, record: InvocationRecord, resolution: Any, deciders: list[str]) -> None:
        """The response's decisions for the recipients this rule decides, and the recipients it added."""
        if not record.decides:
            return  # another synchronous rule decides for these recipients (lambda_rules: all-matching)
        rule = job.rule
        deciding = set(deciders)
        for address, decision in resolution.decisions.items():
            source = "fallback" if decision.is_fallback else "lambda"
            reason = decision.source if decision.is_fallback else f"the function's response, {decision.source}"
            made = Decision(
                decision.action, rule.name, source, reason, decision.bounce_message, record.invocation_id
            )
            if decision.added:
                if address in self.conversation_of:
                    continue  # already a recipient of the message: it keeps its own decision
                made.added = True
                made.reason = f"added by the function, delivered as BCC ({decision.source})"
                self.conversation_of[address] = job.conversation
                self.decisions[address] = made
            elif address in deciding:
                self.decisions[address] = made

    # -- stage 3: decisions for everyone


def _policy_revision(arn: str) -> tuple[str, str] | None:
    """The function's resource-policy revision (RevisionId and statements); None without a policy or function."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "lambda":
        return None
    try:
        return _moto.lambda_policy_revision(parts[4], parts[3], parts[6], parts[7] if len(parts) > 7 else None)
    except Exception:  # a Region or account moto has no backend for: let the full check say why
        return None


#: How many permission decisions one organization remembers (then it starts again).
PERMISSION_CACHE_SIZE = 256


def _check_permission(org: Organization, runtime: Any, arn: str) -> tuple[bool, str]:
    """``Runtime.check_workmail_permission``, remembered per function and policy revision.

    The check is a pure function of the function ARN, the organization and the
    function's resource policy, so the answer is reused while the policy's
    revision (its RevisionId and statements: moto's RemovePermission keeps the
    RevisionId) is the same: ``add_permission``/``remove_permission``, a
    redeployed function with another policy, a reset sandbox or a restored
    snapshot with another policy all miss the cache. Without a policy (or
    without the function) the full check runs every time and says why.
    """
    revision = _policy_revision(arn)
    cache = org._permission_cache
    key = (arn, *revision) if revision is not None else None
    if key is not None:
        cached = cache.get(key)
        if cached is not None:
            return cached
    answer = runtime.check_workmail_permission(arn, organization_arn=org.arn, region=org.region,
                                               account=org.account_id)
    if key is not None:
        if len(cache) >= PERMISSION_CACHE_SIZE:
            cache.clear()
        cache[key] = answer
    return answer


def _group_actions(decisions: Iterable[Any]) -> list[dict[str, Any]]:
    grouped: dict[str, list[str]] = {}
    for d in decisions:
        grouped.setdefault(d.action, []).append(d.recipient)
    return [{"action": a, "recipients": rs} for a, rs in grouped.items()]


