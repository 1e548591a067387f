"""workmail-sandbox: learn and test Amazon WorkMail Run Lambda rules offline.

The public API is what ``__all__`` lists here, plus these documented submodules:
:mod:`.lessons` (each lesson's set-up), :mod:`.widgets` (the lessons' widgets),
:mod:`.workshop` (exercises and checks), :mod:`.sandbox` (the sandbox controls),
:mod:`.deploy`, :mod:`.rules`, :mod:`.flow`, :mod:`.iam` (the policy evaluator),
:mod:`.sam` and :mod:`.pytest_plugin`. Everything else (modules starting with
``_``, and what a documented module leaves out of its ``__all__``) may change.

The lessons import this package as ``wms``, :mod:`.lessons`, :mod:`.widgets`,
:mod:`.workshop`, :mod:`.iam` (lesson 02) and boto3 itself: the real API each
lesson teaches. ``docs/architecture.md`` shows how the modules fit together.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .aws import AwsAccount, connect
from .deploy.handler import deploy_handler
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
from .flow.results import FlowResult
from .flow.settings import FlowSettings, RetryPolicy
from .mail import ParsedMessage, iter_messages, parse_message, read_eml
from .organization import Organization
from .permissions import InvokeCheck, workmail_bucket_policy, workmail_may_invoke
from .responses import Action, Resolution, SyncResponse, check_response, resolve_response
from .rules import Rule, RuleSet
from .sandbox import Sandbox, start, stop
from .workmail_service import END_OF_SUPPORT, WORKMAIL_REGIONS, days_until_end_of_support

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
    "InvokeCheck",
    "MessageParseError",
    "ParsedMessage",
    "Resolution",
    "ResponseError",
    "RetryPolicy",
    "Rule",
    "RuleError",
    "RuleSet",
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
    "deploy_handler",
    "events_from_message",
    "iter_messages",
    "parse_message",
    "read_eml",
    "resolve_response",
    "start",
    "stop",
    "workmail_bucket_policy",
    "workmail_may_invoke",
]
