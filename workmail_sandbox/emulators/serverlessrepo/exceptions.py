"""The Serverless Application Repository errors the emulator raises: one class per AWS error code.

Every error shape in botocore's ``serverlessrepo`` model (API 2017-09-08) has two
members, ``ErrorCode`` (the HTTP status as text) and ``Message``; the wire form is
``{"errorCode": ..., "message": ...}``. botocore copies the message into
``error.response["Error"]["Message"]``; the emulator also sends both members, so
``error.response["ErrorCode"]`` and ``error.response["Message"]`` are there as
after a real call. HTTP statuses come from the model.
"""

from __future__ import annotations

from .._core import AWSError

__all__ = [
    "BadRequestException",
    "ConflictException",
    "ForbiddenException",
    "NotFoundException",
    "ServerlessRepoError",
]


class ServerlessRepoError(AWSError):
    """Base of the SAR errors: sends the modeled ``ErrorCode`` and ``Message`` members."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorCode=self.code, Message=message)


class BadRequestException(ServerlessRepoError):
    """One of the parameters in the request is invalid (HTTP 400)."""

    code = "BadRequestException"
    status = 400


class ForbiddenException(ServerlessRepoError):
    """The client is not authenticated (HTTP 403)."""

    code = "ForbiddenException"
    status = 403


class NotFoundException(ServerlessRepoError):
    """The resource specified in the request doesn't exist (HTTP 404)."""

    code = "NotFoundException"
    status = 404


class ConflictException(ServerlessRepoError):
    """The resource already exists (HTTP 409)."""

    code = "ConflictException"
    status = 409
