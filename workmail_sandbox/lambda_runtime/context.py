"""Lambda's Python context object: ``context`` and its identity and client-context parts."""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["Client", "ClientContext", "CognitoIdentity", "LambdaContext"]


class CognitoIdentity:
    """``context.identity``: always present, both fields ``None`` unless a Cognito caller."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id: str | None = None, pool_id: str | None = None) -> None:
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """``context.client_context.client``: the mobile app that called (fields may be ``None``)."""

    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, data: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, data.get(name))


class ClientContext:
    """``context.client_context``: what a mobile caller sent (``custom``, ``env``, ``client``)."""

    __slots__ = ("custom", "env", "client")

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom = data.get("custom")
        self.env = data.get("env")
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else client


class LambdaContext:
    """The ``context`` argument, with the attributes and method of Lambda's Python context."""

    def __init__(
        self,
        *,
        aws_request_id: str,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: str,
        log_group_name: str,
        log_stream_name: str,
        deadline_monotonic: float,
        client_context: Any = None,
        identity: CognitoIdentity | None = None,
    ) -> None:
        #: The request id of this invocation (a new uuid every call).
        self.aws_request_id = aws_request_id
        #: The function's name.
        self.function_name = function_name
        #: The version that runs: ``$LATEST`` or a published version number.
        self.function_version = function_version
        #: The ARN the caller used (with the alias or version if it named one).
        self.invoked_function_arn = invoked_function_arn
        #: The memory size, as a string as the Python runtime client sets it.
        self.memory_limit_in_mb = memory_limit_in_mb
        #: ``/aws/lambda/<function name>``.
        self.log_group_name = log_group_name
        #: The log stream of this execution environment.
        self.log_stream_name = log_stream_name
        #: The mobile client context, ``None`` unless the caller sent one.
        self.client_context = ClientContext(client_context) if isinstance(client_context, dict) else client_context
        #: The Cognito identity (fields ``None`` for WorkMail and boto3 callers).
        self.identity = identity if identity is not None else CognitoIdentity()
        #: Set only for multi-tenant functions; always ``None`` here.
        self.tenant_id = None
        self._deadline = deadline_monotonic

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out (0 once it has)."""
        left = int((self._deadline - time.monotonic()) * 1000)
        return left if left > 0 else 0

    def log(self, msg: Any) -> None:
        """Write to the function's log, as ``context.log`` does in Lambda."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},client_context={self.client_context},"
            f"identity={self.identity}])"
        )
