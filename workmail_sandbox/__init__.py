"""workmail-sandbox: learn and test Amazon WorkMail Run Lambda rules offline.

The public API is what ``__all__`` lists; everything else may change. Lessons
import from here, from :mod:`workmail_sandbox.widgets`, and from boto3 itself.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .errors import (
    ConfigurationError,
    EventError,
    MessageParseError,
    ResponseError,
    RuleError,
    SandboxError,
    WorkMailSandboxError,
)
from .events import (
    INBOUND,
    OUTBOUND,
    PAYLOAD_LIMIT_BYTES,
    SUBJECT_LIMIT_CHARS,
    SmtpEnvelope,
    WorkMailEvent,
    build_event,
    check_event,
    events_from_message,
)
from .mime import ParsedMessage, iter_messages, parse_message, read_eml
from .responses import Action, Resolution, SyncResponse, check_response, resolve_response
from .service import END_OF_SUPPORT, WORKMAIL_REGIONS, days_until_end_of_support
from .aws import AwsAccount, connect
from .sandbox import Sandbox, start, stop
from .flow.results import FlowResult
from .flow.settings import FlowSettings, RetryPolicy
from .organization import Organization

try:
    __version__ = version("workmail-sandbox")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "END_OF_SUPPORT",
    "INBOUND",
    "OUTBOUND",
    "Organization",
    "PAYLOAD_LIMIT_BYTES",
    "SUBJECT_LIMIT_CHARS",
    "WORKMAIL_REGIONS",
    "Action",
    "AwsAccount",
    "ConfigurationError",
    "EventError",
    "FlowResult",
    "FlowSettings",
    "MessageParseError",
    "ParsedMessage",
    "Resolution",
    "ResponseError",
    "RetryPolicy",
    "RuleError",
    "Sandbox",
    "SandboxError",
    "SmtpEnvelope",
    "SyncResponse",
    "WorkMailEvent",
    "WorkMailSandboxError",
    "__version__",
    "build_event",
    "check_event",
    "check_response",
    "connect",
    "days_until_end_of_support",
    "events_from_message",
    "iter_messages",
    "parse_message",
    "read_eml",
    "resolve_response",
    "start",
    "stop",
]
