"""The kit's own errors: misuse of the kit, bad input files, bad settings.

Simulated *AWS* failures are never raised from here: they are botocore
``ClientError`` objects with the code AWS uses, so code written against the
sandbox handles them exactly as it would on AWS.

Hierarchy::

    WorkMailSandboxError            base class: catch this to catch any kit error
     ├── ConfigurationError         bad mode, region or setting
     ├── MessageParseError          an email that cannot be read
     ├── EventError                 an event that breaks a documented rule
     ├── ResponseError              a synchronous response that cannot be used
     ├── RuleError                  an email flow rule or rule set that is invalid
     └── SandboxError               the sandbox cannot do what was asked

Every message says what happened, the likely cause and the fix.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "EventError",
    "MessageParseError",
    "ResponseError",
    "RuleError",
    "SandboxError",
    "WorkMailSandboxError",
]


class WorkMailSandboxError(Exception):
    """Base class of every error the kit raises on purpose."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.problem = message
        self.fix = fix
        super().__init__(f"{message} Fix: {fix}" if fix else message)


class ConfigurationError(WorkMailSandboxError):
    """A mode, region or setting the kit cannot work with."""


class MessageParseError(WorkMailSandboxError):
    """An email that cannot be read, even with a mail server's best effort."""


class EventError(WorkMailSandboxError, ValueError):
    """An event that breaks a rule WorkMail documents for Run Lambda events.

    ``field`` is the JSON path of the offending value (``envelope.mailFrom.address``)
    and ``rule`` the documented rule it breaks.
    """

    def __init__(self, field: str, rule: str, *, fix: str | None = None) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}", fix=fix)


class ResponseError(WorkMailSandboxError, ValueError):
    """A synchronous Lambda response that cannot be used at all."""


class RuleError(WorkMailSandboxError, ValueError):
    """An email flow rule or rule set that WorkMail would refuse.

    ``detail`` is the message without its location prefix, when the rules
    package built it (so the error can be re-said about another location).
    """

    detail: str | None = None


class SandboxError(WorkMailSandboxError):
    """The sandbox cannot do what was asked (not started, wrong mode, ...)."""
