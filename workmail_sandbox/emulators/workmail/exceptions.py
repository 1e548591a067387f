"""The WorkMail errors the emulator raises: one class per AWS error code.

Every WorkMail error shape in botocore's model (API 2017-10-01) has one member,
``Message``, and no HTTP status of its own: the service answers them all with
HTTP 400. botocore copies ``Message`` into the parsed error response, so the
emulator does the same (``error.response["Message"]``).

Messages follow AWS's wording and name the offending value.

``AccessDeniedException`` is not in the model's error shapes: IAM raises it for
every service. WorkMail speaks JSON 1.1, whose services answer it with HTTP 400
(an assumption: the WorkMail documentation does not give the status).
"""

from __future__ import annotations

from .._core import AWSError

__all__ = [
    "AccessDeniedException",
    "DirectoryInUseException",
    "DirectoryUnavailableException",
    "EmailAddressInUseException",
    "EntityAlreadyRegisteredException",
    "EntityNotFoundException",
    "EntityStateException",
    "InvalidParameterException",
    "InvalidPasswordException",
    "MailDomainInUseException",
    "MailDomainNotFoundException",
    "NameAvailabilityException",
    "OrganizationNotFoundException",
    "OrganizationStateException",
    "ResourceNotFoundException",
    "WorkMailError",
]


class WorkMailError(AWSError):
    """Base of the WorkMail errors: HTTP 400, with the modeled ``Message`` member."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message, Message=message)


class InvalidParameterException(WorkMailError):
    code = "InvalidParameterException"


class OrganizationNotFoundException(WorkMailError):
    code = "OrganizationNotFoundException"


class OrganizationStateException(WorkMailError):
    code = "OrganizationStateException"


class NameAvailabilityException(WorkMailError):
    code = "NameAvailabilityException"


class DirectoryInUseException(WorkMailError):
    code = "DirectoryInUseException"


class DirectoryUnavailableException(WorkMailError):
    code = "DirectoryUnavailableException"


class EntityNotFoundException(WorkMailError):
    code = "EntityNotFoundException"


class EntityStateException(WorkMailError):
    code = "EntityStateException"


class EntityAlreadyRegisteredException(WorkMailError):
    code = "EntityAlreadyRegisteredException"


class EmailAddressInUseException(WorkMailError):
    code = "EmailAddressInUseException"


class InvalidPasswordException(WorkMailError):
    code = "InvalidPasswordException"


class MailDomainNotFoundException(WorkMailError):
    code = "MailDomainNotFoundException"


class MailDomainInUseException(WorkMailError):
    code = "MailDomainInUseException"


class ResourceNotFoundException(WorkMailError):
    code = "ResourceNotFoundException"


class AccessDeniedException(WorkMailError):
    """The calling function's execution role does not allow ``workmail:<Operation>`` on the organization."""

    code = "AccessDeniedException"
