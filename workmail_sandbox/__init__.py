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
from typing import TYPE_CHECKING

from ._lazy import lazy_names
from .aws import AwsAccount, connect
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
from .responses import Action, Resolution, SyncResponse, check_response, resolve_response
from .rules import Rule, RuleSet
from .sandbox import Sandbox, start, stop
from .ses import _hooks as _ses_hooks
from .workmail_service import END_OF_SUPPORT, WORKMAIL_REGIONS, days_until_end_of_support

if TYPE_CHECKING:  # pragma: no cover - the lazy names below, for type checkers and IDEs
    from .deploy.handler import deploy_handler
    from .deploy.project import Project, deploy_project
    from .endpoint import serve
    from .migrate import Comparison as Comparison
    from .migrate import compare_port as compare_port
    from .permissions import InvokeCheck, workmail_bucket_policy, workmail_may_invoke
    from .ses import build_ses_event as build_ses_event
    from .ses import check_ses_event as check_ses_event
    from .ses.receiving import SesReceipt as SesReceipt
    from .ses.receiving import SesReceiving as SesReceiving
    from .ses.receiving import ses_receive as ses_receive

#: Names imported on first use: deploying and permission checks bring in the emulators,
#: which the CLI's ``event`` and ``check-*`` commands never need (about 0.1 s of start-up).
_LAZY = {
    "deploy_handler": ".deploy.handler",
    "deploy_project": ".deploy.project",
    "Project": ".deploy.project",
    "serve": ".endpoint",
    "InvokeCheck": ".permissions",
    "workmail_bucket_policy": ".permissions",
    "workmail_may_invoke": ".permissions",
    # Amazon SES receiving (docs/ses.md)
    "build_ses_event": ".ses",
    "check_ses_event": ".ses",
    "ses_receive": ".ses.receiving",
    "SesReceiving": ".ses.receiving",
    "SesReceipt": ".ses.receiving",
    # a WorkMail function and its SES port compared (docs/migrating.md)
    "compare_port": ".migrate",
    "Comparison": ".migrate",
}


_ses_hooks.install()  # SendBounce and receipt-rule quotas: before any boto3 session is made


__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY)

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
    "Comparison",
    "ConfigurationError",
    "EventError",
    "FlowResult",
    "FlowSettings",
    "InvokeCheck",
    "MessageParseError",
    "ParsedMessage",
    "Resolution",
    "ResponseError",
    "Project",
    "RetryPolicy",
    "Rule",
    "RuleError",
    "RuleSet",
    "Sandbox",
    "SandboxError",
    "SesReceipt",
    "SesReceiving",
    "SmtpEnvelope",
    "SyncResponse",
    "WorkMailEvent",
    "WorkMailSandboxError",
    "__version__",
    "build_event",
    "build_ses_event",
    "check_event",
    "check_response",
    "check_ses_event",
    "compare_port",
    "connect",
    "days_until_end_of_support",
    "deploy_handler",
    "deploy_project",
    "events_from_message",
    "iter_messages",
    "parse_message",
    "read_eml",
    "resolve_response",
    "serve",
    "ses_receive",
    "start",
    "stop",
    "workmail_bucket_policy",
    "workmail_may_invoke",
]
