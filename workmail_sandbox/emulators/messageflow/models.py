"""State and rules of the emulated Message Flow API: messages in transit, no HTTP.

One :class:`MessageFlowBackend` per (account, region). It holds plain data
(bytes, datetimes, dataclasses) so the framework can deep-copy it for snapshots.
The two AWS operations are methods named after them; the methods below the
``Sandbox control`` line are **not** AWS operations: the sandbox's control API
and the flow engine call them to put mail in transit and to inspect what
delivery would use.

The S3 objects and IAM roles it reads are moto's, through :mod:`workmail_sandbox._moto`
(a bucket's ``region_name``, ``account_id`` and ``policy`` as JSON bytes or None;
an object's versions, oldest first; a role's inline and managed policy documents).
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ... import _moto
from ...errors import ConfigurationError, MessageParseError, SandboxError
from ...iam import MESSAGE_FLOW_FULL_ACCESS_POLICY, MESSAGE_FLOW_READ_ONLY_POLICY, PolicyError, parse_policy
from ...invocation import Invocation, current_invocation
from ...mail import ParsedMessage, check_replacement, parse_message
from ...permissions import message_flow_role_decision, workmail_bucket_read_decision
from ...workmail_service import message_arn, organization_arn
from .._core import STATE
from .exceptions import (
    AccessDeniedException,
    InvalidContentLocation,
    MessageFrozen,
    MessageRejected,
    ResourceNotFoundException,
)

__all__ = [
    "CONTENT_WINDOW",
    "ContentUpdate",
    "MESSAGE_FLOW_MANAGED_POLICIES",
    "MessageFlowBackend",
    "StoredMessage",
    "ensure_managed_policies",
    "moto_managed_policy_data",
]

#: The API reaches a message only within 24 hours of its receipt (lambda-content.md).
CONTENT_WINDOW = _dt.timedelta(hours=24)

#: AWS managed policy name -> the document the kit falls back to if moto lacks it.
MESSAGE_FLOW_MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "AmazonWorkMailMessageFlowReadOnlyAccess": MESSAGE_FLOW_READ_ONLY_POLICY,
    "AmazonWorkMailMessageFlowFullAccess": MESSAGE_FLOW_FULL_ACCESS_POLICY,
}

_MESSAGE_ID = re.compile(r"[a-z0-9-]{1,120}")
_ROLE_ARN = re.compile(r"arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):role/(?:.*/)?[^/]+")
#: How many allowed role decisions the Message Flow API remembers (then it starts again).
ROLE_DECISION_CACHE_SIZE = 256
#: (role, function, operation, account, Region, the role's policy names and texts) -> allowed. See _authorize.
_ALLOWED_ROLE_CALLS: dict[tuple[Any, ...], bool] = {}
_DIRECTIONS = ("INBOUND", "OUTBOUND")
_MAX_PROBLEMS_SHOWN = 3


@dataclass(frozen=True)
class ContentUpdate:
    """One PutRawMessageContent call that passed every check."""

    #: When it was made (the sandbox clock).
    at: _dt.datetime
    bucket: str
    key: str
    object_version: str | None
    #: Size of the new content in bytes.
    size: int
    #: True when delivery uses this content (a live synchronous invocation for this message).
    effective: bool
    #: Why it took effect, or why it did not.
    reason: str
    #: The Lambda request id of the calling invocation, None for a call from outside a function.
    request_id: str | None = None


@dataclass
class StoredMessage:
    """One message WorkMail holds while it is in transit."""

    message_id: str
    organization_id: str
    direction: str  # INBOUND or OUTBOUND
    received_at: _dt.datetime
    #: The content as received.
    original: bytes
    #: What GetRawMessageContent returns: the content of the last PutRawMessageContent, effective or not.
    content: bytes
    #: What delivery uses: the content of the last *effective* PutRawMessageContent.
    effective: bytes
    redirected: bool
    in_transit: bool = True
    updates: list[ContentUpdate] = field(default_factory=list)


class MessageFlowBackend:
    """The Message Flow API of one account in one region."""

    def __init__(self, account_id: str, region_name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.messages: dict[str, StoredMessage] = {}

    # ------------------------------------------------------------------ AWS operations

    def get_raw_message_content(self, message_id: str) -> bytes:
        """The message's current raw MIME content."""
        message = self._find(message_id)
        self._authorize("GetRawMessageContent", message)
        self._check_window(message)
        return message.content

    def put_raw_message_content(self, message_id: str, content: dict[str, Any]) -> None:
        """Replace the message's content with the S3 object ``content["s3Reference"]`` names."""
        message = self._find(message_id)
        self._authorize("PutRawMessageContent", message)
        self._check_window(message)
        if message.redirected:
            raise MessageFrozen(
                f"Message {message_id} is frozen and cannot be updated, typically because it is a redirected email."
            )
        ref = content.get("s3Reference") or {}
        bucket, key, version = ref.get("bucket", ""), ref.get("key", ""), ref.get("objectVersion")
        new = self._read_s3_object(message, bucket, key, version)
        problems = check_replacement(message.original, new)
        if problems:
            shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
            more = len(problems) - _MAX_PROBLEMS_SHOWN
            tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
            raise MessageRejected(f"Message content in {_where(bucket, key, version)} is invalid: {shown}{tail}.")
        effective, reason, invocation = self._effect(message)
        message.content = new
        if effective:
            message.effective = new
        message.updates.append(
            ContentUpdate(
                at=STATE.clock.now(),
                bucket=bucket,
                key=key,
                object_version=version,
                size=len(new),
                effective=effective,
                reason=reason,
                request_id=invocation.request_id if invocation else None,
            )
        )

    # ------------------------------------------------------------------ Sandbox control (not AWS operations)

    def add_message(
        self,
        raw: bytes,
        *,
        organization_id: str,
        direction: str,
        message_id: str | None = None,
        redirected: bool | None = None,
        received_at: _dt.datetime | None = None,
        headers: ParsedMessage | None = None,
    ) -> str:
        """Put a message in transit and return its ``messageId`` (sandbox control, not AWS).

        ``redirected=None`` detects redirection: any RFC 5322 ``Resent-*`` header.
        ``received_at`` defaults to the sandbox clock's now. ``headers``: the
        caller's own ``parse_message`` of exactly these bytes (the flow engine
        has one), so they are not parsed a second time; None parses them here.
        """
        if not isinstance(raw, (bytes, bytearray)):
            raise SandboxError(
                f"add_message needs the raw message as bytes, got {type(raw).__name__}.",
                fix="pass the .eml bytes (Path(...).read_bytes() or message.as_bytes())",
            )
        raw = bytes(raw)
        if headers is None:
            try:
                headers = parse_message(raw, headers_only=True, max_bytes=None)
            except MessageParseError as exc:
                raise MessageParseError(f"add_message: {exc.problem}", fix=exc.fix) from exc
        organization_arn(self.region_name, self.account_id, organization_id)  # validates the id and region
        direction_upper = direction.upper() if isinstance(direction, str) else direction
        if direction_upper not in _DIRECTIONS:
            raise ConfigurationError(
                f"direction must be one of {', '.join(_DIRECTIONS)}, got {direction!r}.",
                fix="pass direction='INBOUND' for received mail or 'OUTBOUND' for mail being sent",
            )
        if message_id is None:
            message_id = str(uuid.uuid4())
            while message_id in self.messages:  # pragma: no cover - a uuid4 collision
                message_id = str(uuid.uuid4())
        elif not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id):
            raise ConfigurationError(
                f"{message_id!r} is not a valid messageId: it must be 1 to 120 characters of a-z, 0-9 and '-'.",
                fix="leave message_id=None to get a generated one (a lower-case uuid4)",
            )
        elif message_id in self.messages:
            raise SandboxError(
                f"A message with messageId {message_id!r} is already in transit in "
                f"{self.account_id}/{self.region_name}.",
                fix="use another message_id, or leave it None to get a generated one",
            )
        ensure_managed_policies(self.account_id)
        self.messages[message_id] = StoredMessage(
            message_id=message_id,
            organization_id=organization_id,
            direction=direction_upper,
            received_at=received_at or STATE.clock.now(),
            original=raw,
            content=raw,
            effective=raw,
            redirected=_has_resent_field(headers) if redirected is None else bool(redirected),
        )
        return message_id

    def mark_redirected(self, message_id: str) -> None:
        """Mark a message as redirected: PutRawMessageContent then raises MessageFrozen (sandbox control)."""
        self._control(message_id).redirected = True

    def finish_transit(self, message_id: str) -> None:
        """The message was delivered or sent: later PutRawMessageContent calls have no effect (sandbox control).

        GetRawMessageContent still answers until 24 hours after receipt.
        """
        self._control(message_id).in_transit = False

    def effective_content(self, message_id: str) -> bytes:
        """What delivery uses: the content as of the last effective update (sandbox control).

        Not limited by the 24-hour window: it is the sandbox looking, not the API.
        """
        return self._control(message_id).effective

    def history(self, message_id: str) -> list[ContentUpdate]:
        """Every accepted PutRawMessageContent on the message, oldest first (sandbox control)."""
        return list(self._control(message_id).updates)

    def message(self, message_id: str) -> StoredMessage:
        """The stored message record: treat it as read-only (sandbox control)."""
        return self._control(message_id)

    def message_arn(self, message_id: str) -> str:
        """The message's IAM resource ARN (``...:message/<org>/<incoming|outgoing>/<id>``)."""
        return self._arn(self._control(message_id))

    # ------------------------------------------------------------------ helpers

    def _control(self, message_id: str) -> StoredMessage:
        message = self.messages.get(message_id)
        if message is None:
            known = ", ".join(sorted(self.messages)[:5]) or "none"
            raise SandboxError(
                f"No message {message_id!r} was added in {self.account_id}/{self.region_name} (known: {known}).",
                fix="use the messageId add_message returned (it is also the event's messageId)",
            )
        return message

    def _arn(self, message: StoredMessage) -> str:
        return message_arn(
            self.region_name, self.account_id, message.organization_id, message.direction, message.message_id
        )

    def _find(self, message_id: str) -> StoredMessage:
        message = self.messages.get(message_id)
        if message is None:
            raise ResourceNotFoundException(f"Message {message_id} not found.")
        return message

    def _check_window(self, message: StoredMessage) -> None:
        if STATE.clock.now() - message.received_at > CONTENT_WINDOW:
            raise ResourceNotFoundException(f"Message {message.message_id} not found.")

    def _effect(self, message: StoredMessage) -> tuple[bool, str, Invocation | None]:
        invocation = current_invocation()
        if not message.in_transit:
            why = "delivered" if message.direction == "INBOUND" else "sent"
            return False, f"no effect: the message had already been {why}", invocation
        if invocation is None:
            return False, "no effect: not called from a Run Lambda function", invocation
        if invocation.workmail_mode != "sync":
            called = {
                "async": "an asynchronous Run Lambda invocation",
                None: "a function invocation that is not a Run Lambda rule's",
            }.get(invocation.workmail_mode, f"a {invocation.workmail_mode!r} invocation")
            return False, f"no effect: called from {called}; only synchronous rules can update mail", invocation
        if invocation.message_id != message.message_id:
            return (
                False,
                f"no effect: the invocation is for message {invocation.message_id}, not this one",
                invocation,
            )
        if not invocation.live:
            return (
                False,
                "no effect: the synchronous invocation had timed out; WorkMail no longer waited for it",
                invocation,
            )
        return True, f"applied: synchronous Run Lambda invocation {invocation.request_id}", invocation

    # -- IAM: the calling function's execution role --------------------------------

    def _authorize(self, operation: str, message: StoredMessage) -> None:
        """The execution role's decision (``message_flow_role_decision``); an allowed one is remembered.

        An allowed decision is reused for the next message while the role, the function, the
        operation and the text of every policy of the role are the same, and only when those
        policies cannot tell two messages of this account and Region apart (no Condition; each
        Resource and NotResource is ``*``, ``...:message/*`` or ``...:*`` with whole-segment
        wildcards): then the decision is the same for every message. Anything else, and every
        refusal (its message names the message), runs the full check each time.
        """
        invocation = current_invocation()
        if invocation is None or not invocation.role_arn:
            return  # the sandbox's own user (a learner's notebook): allowed
        key = self._role_call_key(invocation.role_arn, invocation.function_name, operation)
        if key is not None and key in _ALLOWED_ROLE_CALLS:
            return
        check = message_flow_role_decision(
            invocation.role_arn,
            function_name=invocation.function_name,
            operation=operation,
            message_arn=self._arn(message),
            account=self.account_id,
            region=self.region_name,
        )
        if not check.allowed:
            raise AccessDeniedException(check.reason)
        if key is not None and all(
            _same_for_every_message(name, text) for name, text in key[5]
        ):
            if len(_ALLOWED_ROLE_CALLS) >= ROLE_DECISION_CACHE_SIZE:
                _ALLOWED_ROLE_CALLS.clear()
            _ALLOWED_ROLE_CALLS[key] = True

    def _role_call_key(self, role_arn: str, function_name: str, operation: str) -> tuple[Any, ...] | None:
        """What an allowed decision depends on, or None (a role of another account, no such role, a
        policy document that is not JSON text): those always get the full check."""
        match = _ROLE_ARN.fullmatch(role_arn)
        if match is None or match["account"] != self.account_id:
            return None
        documents = _moto.role_policy_documents(self.account_id, match["partition"], role_arn)
        if documents is None or not all(isinstance(text, str) for _, text in documents):
            return None
        return (role_arn, function_name, operation, self.account_id, self.region_name, tuple(documents))

    # -- S3: where the new content is ------------------------------------------------

    def _read_s3_object(self, message: StoredMessage, bucket_name: str, key: str, version: str | None) -> bytes:
        where = _where(bucket_name, key, version)
        bucket = _moto.find_s3_bucket(bucket_name)
        if bucket is None:
            raise InvalidContentLocation(f"Unable to read {where}: the bucket {bucket_name} does not exist.")
        if bucket.account_id != self.account_id:
            raise InvalidContentLocation(
                f"Unable to read {where}: the bucket {bucket_name} belongs to account {bucket.account_id}, "
                f"not to account {self.account_id} of the message. The bucket must be in the same account "
                "and Region as the WorkMail organization."
            )
        if bucket.region_name != self.region_name:
            raise InvalidContentLocation(
                f"Unable to read {where}: the bucket {bucket_name} is in Region {bucket.region_name}, "
                f"but the message is in {self.region_name}. The bucket must be in the same account and "
                "Region as the WorkMail organization."
            )
        self._check_bucket_policy(message, bucket, key, version, where)
        versions = _moto.s3_object_versions(bucket, key)
        if not versions:
            raise InvalidContentLocation(f"Unable to read {where}: there is no object {key} in bucket {bucket_name}.")
        if version is None:
            body = versions[-1][1]
            if body is None:
                raise InvalidContentLocation(
                    f"Unable to read {where}: the object {key} was deleted (its latest version is a delete marker)."
                )
        else:
            found = [
                body
                for vid, body in versions
                if str(vid) == version or (version == "null" and vid in (None, "null"))
            ]
            if not found:
                raise InvalidContentLocation(
                    f"Unable to read {where}: the object {key} has no version {version} "
                    f"(it has {len(versions)} version{'s' if len(versions) != 1 else ''})."
                )
            body = found[0]
            if body is None:
                raise InvalidContentLocation(f"Unable to read {where}: version {version} is a delete marker.")
        return body

    def _check_bucket_policy(
        self, message: StoredMessage, bucket: Any, key: str, version: str | None, where: str
    ) -> None:
        check = workmail_bucket_read_decision(
            bucket.name,
            bucket.policy,
            key=key,
            version=version,
            message_arn=self._arn(message),
            organization_id=message.organization_id,
            account=self.account_id,
            region=self.region_name,
        )
        if not check.allowed:
            raise InvalidContentLocation(f"Unable to read {where}: {check.reason}")


@functools.lru_cache(maxsize=256)
def _same_for_every_message(name: str, text: str) -> bool:
    """Does policy ``text`` decide alike for every message ARN of one account and Region?

    Message ARNs there differ only after ``:message/`` (organization, direction and messageId:
    no colon, no further ``message/``), so a Resource or NotResource pattern matches all of them
    or none when it is ``*``, or six segments whose resource part is ``*`` or ``message/*`` and
    whose other segments are ``*`` or have no wildcard. Conditions are left to the full check
    (False), as are documents that cannot be read.
    """
    try:
        policy = parse_policy(text, name=name)
    except PolicyError:
        return False
    for statement in policy.statements:
        if statement.conditions:
            return False
        for pattern in (*(statement.resources or ()), *(statement.not_resources or ())):
            if not _uniform_pattern(pattern):
                return False
    return True


def _uniform_pattern(pattern: str) -> bool:
    if pattern == "*":
        return True
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[5] not in ("*", "message/*"):
        return False
    return all(part == "*" or ("*" not in part and "?" not in part) for part in parts[:5])


def _has_resent_field(headers: ParsedMessage) -> bool:
    """``headers.resent`` (any ``Resent-*`` field) read from the field names alone.

    ``ParsedMessage.resent`` first builds a ``Header`` for every field; the names are all it needs.
    """
    return any(name.lower().startswith("resent-") for name in headers.message)  # field names


def _where(bucket: str, key: str, version: str | None) -> str:
    return f"s3://{bucket}/{key}" + (f" (version {version})" if version is not None else "")


def moto_managed_policy_data(name: str) -> dict[str, Any] | None:
    """moto's bundled copy of the AWS managed policy ``name`` (``CreateDate``, ``Document``, ...), or None."""
    data = _moto.bundled_aws_managed_policies().get(name)
    return copy.deepcopy(data) if data is not None else None


def ensure_managed_policies(account_id: str | None = None, partition: str = "aws") -> list[str]:
    """Make the two AWS managed Message Flow policies exist in moto's IAM; return their ARNs.

    moto bundles both (``AmazonWorkMailMessageFlowReadOnlyAccess`` and
    ``AmazonWorkMailMessageFlowFullAccess``) but loads AWS managed policies only
    with ``config={"iam": {"load_aws_managed_policies": True}}``. Without it a
    role cannot attach them (``NoSuchEntity``). This adds them, as moto would,
    at their real ARNs (idempotent). Documents come from moto's bundled copy,
    or from :mod:`workmail_sandbox.iam` if moto ever drops them.
    """
    account_id = account_id or STATE.account_id
    arns = []
    for name, fallback in MESSAGE_FLOW_MANAGED_POLICIES.items():
        arn = f"arn:{partition}:iam::aws:policy/{name}"
        arns.append(arn)
        if _moto.has_managed_policy(account_id, partition, arn):
            continue
        data = moto_managed_policy_data(name) or {
            "CreateDate": "2021-01-28T12:40:08+00:00",
            "UpdateDate": "2021-01-28T12:40:08+00:00",
            "DefaultVersionId": "v1",
            "Path": "/",
            "Document": fallback,
        }
        _moto.add_aws_managed_policy(account_id, partition, name, data)
    return arns
