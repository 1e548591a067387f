"""The Message Flow API errors the emulator raises: one class per AWS error code.

Every error shape in botocore's ``workmailmessageflow`` model (API 2019-05-01)
has one member, ``message``; botocore copies it into the parsed error response
(``error.response["message"]``), and the framework does the same for the
modeled errors. HTTP statuses:
``ResourceNotFoundException`` is 404 in the model; the others carry no status
in the model and are 400 (the API reference gives 400 for
``InvalidContentLocation`` and ``MessageFrozen``; 400 for ``MessageRejected``
is an assumption). ``AccessDeniedException`` (403) is not in the model's error
list; AWS returns it for every service when IAM refuses the caller, and
botocore raises it as a plain ``ClientError`` with that code.

Messages follow AWS's wording where it is known and always name the offending value.
"""

from __future__ import annotations

from .._core import AWSError

__all__ = [
    "AccessDeniedException",
    "InvalidContentLocation",
    "MessageFlowError",
    "MessageFrozen",
    "MessageRejected",
    "ResourceNotFoundException",
]


class MessageFlowError(AWSError):
    """Base of the Message Flow errors: HTTP 400, with the modeled ``message`` member."""

    status = 400


class ResourceNotFoundException(MessageFlowError):
    """No message with that id is in transit, or it was received more than 24 hours ago."""

    code = "ResourceNotFoundException"
    status = 404


class InvalidContentLocation(MessageFlowError):
    """WorkMail could not read the S3 object PutRawMessageContent points at."""

    code = "InvalidContentLocation"


class MessageRejected(MessageFlowError):
    """The new MIME content breaks one of the documented rules."""

    code = "MessageRejected"


class MessageFrozen(MessageFlowError):
    """The message cannot be updated, typically because it is a redirected email."""

    code = "MessageFrozen"


class AccessDeniedException(MessageFlowError):
    """The calling function's execution role does not allow the action on the message ARN."""

    code = "AccessDeniedException"
    status = 403
