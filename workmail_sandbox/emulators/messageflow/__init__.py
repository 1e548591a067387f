"""The emulated Amazon WorkMail Message Flow API (``workmailmessageflow``).

Answers real boto3 calls in-process (see :mod:`workmail_sandbox.emulators._core`)::

    client = boto3.client("workmailmessageflow", region_name="us-east-1")
    raw = client.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    client.put_raw_message_content(messageId=event["messageId"],
                                   content={"s3Reference": {"bucket": bucket, "key": key}})

Operations: ``GetRawMessageContent`` and ``PutRawMessageContent`` (all of the
API). Regions: the three WorkMail regions. Messages are put in transit by the
sandbox (``SERVICE.backend(account, region).add_message(...)``), never by an
AWS call: AWS has no such operation.

What it enforces, with its source:

- **24-hour window** (lambda-content.md; API reference): Get and Put reach a
  message only within 24 hours of its receipt (at exactly 24 hours it is still
  reachable; one second later it is ``ResourceNotFoundException``, "Message
  <id> not found."). Unknown ids give the same error.
- **The execution role** (lambda-content-access.md): while a function run by
  the sandbox's Lambda runtime calls (``invocation.current_invocation()`` is set),
  its role's inline and attached managed policies must allow
  ``workmailmessageflow:GetRawMessageContent`` / ``PutRawMessageContent`` on
  the message ARN ``arn:aws:workmailmessageflow:<region>:<account>:message/<org>/<incoming|outgoing>/<id>``;
  otherwise ``AccessDeniedException`` (HTTP 403) in AWS's wording. Calls made
  outside a function (a learner's notebook) act as the sandbox's own user and
  are allowed.
- **MessageFrozen** (update-with-lambda.md; API reference): Put on redirected
  mail (a ``Resent-*`` header, or ``mark_redirected``).
- **InvalidContentLocation** (update-with-lambda.md; API reference): the S3
  object is read from moto's S3; a missing bucket, a bucket of another account
  or Region, a missing key or version, a delete marker, or a bucket policy that
  does not let ``workmail.<region>.amazonaws.com`` read the object (request
  context ``aws:SourceArn`` = the message ARN, ``aws:SourceAccount``,
  ``aws:SecureTransport`` = true) is refused, naming which.
- **MessageRejected** (API reference, ``RawMessageContent``): the new content
  must pass :func:`workmail_sandbox.mail.replacement.check_replacement`.
- **Effect** (update-with-lambda.md; API reference): a Put changes what is
  delivered only when made during a live synchronous Run Lambda invocation for
  that message. Otherwise it still succeeds and Get returns the new content,
  but delivery keeps the old one (``effective_content``), and ``history``
  records the update as not effective, with the reason.

Deviations and assumptions:

- After ``finish_transit`` (delivered or sent) Get still answers until 24 hours
  after receipt: asynchronous rules run *while* delivery happens and AWS's
  samples fetch content from them. Put still succeeds but has no effect.
  AWS says only that the API reaches messages "in transit".
- Error messages other than "Message <id> not found." are the kit's wording
  (AWS's are not documented); each names the offending value and, for a
  bucket policy or role problem, a fix. AccessDenied messages start with AWS's
  standard sentence and add a "(Sandbox: ...)" explanation.
- Check order: unknown id (404), the execution role (403), the 24-hour window
  (404), MessageFrozen, the S3 location (bucket, account, Region, bucket
  policy, key, version), then the MIME rules. AWS does not document its order.
- The role is checked only for messages that exist: for an unknown id the
  emulator answers 404 without an IAM check, because the message ARN (which
  holds the organization and direction) cannot be built.
- Only the role's identity policies are evaluated (no permission boundary,
  session policy or SCP), by :mod:`workmail_sandbox.iam`. A role of another
  account is always denied (the API has no resource policies). An invocation
  with no ``role_arn`` is treated as the sandbox's own user.
- With ``objectVersion`` the bucket policy must allow both ``s3:GetObject`` and
  ``s3:GetObjectVersion`` (the AWS doc's example policy grants both); without
  it, ``s3:GetObject``. Bucket ACLs, S3 Block Public Access and KMS keys are not
  considered.
- The ``messageId`` and ``key`` patterns of the model (``[a-z0-9\\-]*``,
  ``[a-zA-Z0-9\\-/]*``) are not enforced: whether AWS enforces them is not
  documented. An id that was never added is simply not found.
- ``MessageRejected`` is HTTP 400 (not documented). Required and immutable
  headers are assumptions documented in :mod:`workmail_sandbox.mail.replacement`
  (required: Date, From; immutable: Message-ID, Date, From, Sender,
  Return-Path).
- ``add_message`` also makes sure the two AWS managed Message Flow policies
  exist in moto's IAM (:func:`~.models.ensure_managed_policies`), as they do in
  every AWS account.
"""

from __future__ import annotations

from ...workmail_service import WORKMAIL_REGIONS
from .._core import EmulatedService
from .models import CONTENT_WINDOW, ContentUpdate, MessageFlowBackend, StoredMessage, ensure_managed_policies
from .responses import MessageFlowResponses

__all__ = [
    "CONTENT_WINDOW",
    "SERVICE",
    "ContentUpdate",
    "MessageFlowBackend",
    "MessageFlowResponses",
    "StoredMessage",
    "ensure_managed_policies",
]

SERVICE = EmulatedService(
    "workmailmessageflow",
    MessageFlowBackend,
    MessageFlowResponses(),
    regions=WORKMAIL_REGIONS,
)
