"""The Message Flow API's operations: parameters in, botocore-shaped dict out.

One method per operation, named as boto3 names it. Parameters arrive already
checked by botocore against the service model (required members, types,
minimum lengths); the backend applies the service's own rules.
"""

from __future__ import annotations

import io
from typing import Any

from botocore.response import StreamingBody

from .models import MessageFlowBackend

__all__ = ["MessageFlowResponses"]


class MessageFlowResponses:
    """``GetRawMessageContent`` and ``PutRawMessageContent`` (API 2019-05-01)."""

    def get_raw_message_content(self, backend: MessageFlowBackend, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /messages/{messageId}`` -> ``{"messageContent": StreamingBody}``."""
        raw = backend.get_raw_message_content(params["messageId"])
        return {"messageContent": StreamingBody(io.BytesIO(raw), len(raw))}

    def put_raw_message_content(self, backend: MessageFlowBackend, params: dict[str, Any]) -> dict[str, Any]:
        """``POST /messages/{messageId}`` with ``content.s3Reference`` -> ``{}``."""
        backend.put_raw_message_content(params["messageId"], params["content"])
        return {}
