"""What :func:`workmail_sandbox.lessons.try_handler` shows: one readable block per run of your handler.

:class:`TryResult` holds the :class:`~workmail_sandbox.FlowResult` of the one
message routed, what changed in the message (headers and body, compared with
the delivered copy), and the function's own log (its ``print`` and
``logging`` output, tracebacks pointing at your cell). It prints as plain text
(``__repr__``) and shows as HTML in a notebook (``_repr_html_``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default as _default_policy
from pathlib import Path
from typing import Any

from .errors import ConfigurationError
from .handler_logs import tail

__all__ = ["SAMPLES_DIR", "TryResult", "header_changes", "sample_path"]

#: The kit's sample mail (``data/emails`` of the checkout).
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "data" / "emails"
#: Header values longer than this are cut in the change list.
_SHOWN = 90
#: How many of the log's last lines the block shows (``TryResult.log`` has them all).
LOG_LINES = 15


def sample_path(message: str | Path) -> Path:
    """``message`` as a file: a path that exists, or a sample's name in ``data/emails`` (``01-plain-inbound.eml``)."""
    if not isinstance(message, (str, Path)) or not str(message).strip():
        raise ConfigurationError(
            f"try_handler needs the path or name of an .eml file, not {message!r}.",
            fix="pass a sample's name, e.g. '01-plain-inbound.eml' (the samples are in data/emails)",
        )
    path = Path(message).expanduser()
    if path.is_file():
        return path
    candidate = SAMPLES_DIR / path.name
    if candidate.is_file():
        return candidate
    raise ConfigurationError(
        f"There is no message file {str(message)!r} (looked in the current folder and in {SAMPLES_DIR}).",
        fix="pass a sample's name such as '01-plain-inbound.eml' (data/emails/README.md lists them) or the path of "
        "your own .eml file",
    )


def _headers(content: bytes) -> list[tuple[str, str]]:
    message = BytesHeaderParser(policy=_default_policy).parsebytes(content)
    return [(name, " ".join(str(value).split())) for name, value in message.items()]


def _body(content: bytes) -> bytes:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = content.partition(separator)
        if found:
            return body.replace(b"\r\n", b"\n")
    return b""


def header_changes(before: bytes, after: bytes) -> tuple[list[tuple[str, str | None, str | None]], bool]:
    """``([(header, old value or None, new value or None)], body changed)`` between two messages.

    Headers are compared by name, in order (a header that appears twice is
    compared occurrence by occurrence); folding whitespace does not count.
    """
    old, new = _headers(before), _headers(after)
    names: dict[str, None] = {}
    for name, _ in old + new:
        names.setdefault(name.lower(), None)
    changes: list[tuple[str, str | None, str | None]] = []
    for lower in names:
        was = [(n, v) for n, v in old if n.lower() == lower]
        now = [(n, v) for n, v in new if n.lower() == lower]
        for index in range(max(len(was), len(now))):
            a = was[index][1] if index < len(was) else None
            b = now[index][1] if index < len(now) else None
            if a != b:
                label = (now[index] if index < len(now) else was[index])[0]
                changes.append((label, a, b))
    return changes, _body(before) != _body(after)


def _cut(value: str | None) -> str:
    if value is None:
        return "(none)"
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 2] + "…'"


@dataclass
class TryResult:
    """One run of your handler on one message: outcome per recipient, what changed, your function's log.

    ``result`` is the :class:`~workmail_sandbox.FlowResult` (``result.explain(r)``,
    ``result.invocations``); ``changes`` lists ``(header, before, after)``
    between the message sent and the copy delivered; ``body_changed`` says
    whether the body differs (None when no copy was delivered); ``log`` is
    what the function printed and logged (every attempt), with tracebacks
    pointing at your cell (the block shows its last :data:`LOG_LINES`); ``deployed`` is ``"created"`` or ``"updated"``;
    ``seconds`` the wall time of the whole call.
    """

    function_name: str
    message: str
    direction: str
    rule: dict[str, Any]
    result: Any
    changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    body_changed: bool | None = None
    log: list[str] = field(default_factory=list)
    deployed: str = "created"
    seconds: float = 0.0

    @property
    def outcomes(self) -> dict[str, str]:
        """``{recipient: outcome}`` (``inbox``, ``junk``, ``bounced``, ...)."""
        return self.result.outcomes

    def explanations(self) -> list[str]:
        """One learner-worded line (or two) per recipient."""
        return [self.result.explain(recipient) for recipient in self.result.recipients]

    def _rule_words(self) -> str:
        if self.rule.get("synchronous"):
            return (f"synchronous {self.direction} Run Lambda rule, fallback {self.rule.get('fallback_action')}, "
                    f"rule timeout {self.rule.get('rule_timeout_minutes')} min")
        return f"asynchronous {self.direction} Run Lambda rule"

    def headline(self) -> str:
        return f"Your function {self.function_name} ({self.deployed}) ran on {self.message} ({self._rule_words()})."

    def _change_lines(self) -> list[str]:
        if self.body_changed is None:
            return ["(no copy was delivered, so there is nothing to compare)"]
        lines = [f"{name}: {_cut(before)} -> {_cut(after)}" for name, before, after in self.changes]
        lines.append("body changed" if self.body_changed else "body unchanged")
        if not self.changes:
            lines.insert(0, "headers unchanged")
        return lines

    def __repr__(self) -> str:
        parts = [self.headline(), "Outcome:"]
        parts += [f"  {line}" for text in self.explanations() for line in text.splitlines()]
        parts.append("What changed in the message:")
        parts += [f"  {line}" for line in self._change_lines()]
        parts.append("Your function's log (print and logging):")
        parts += [f"  {line}" for line in (tail(self.log, LOG_LINES) or ["(nothing printed or logged)"])]
        return "\n".join(parts)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        def section(title: str, body: str) -> str:
            return f'<div style="margin-top:6px"><b>{html.escape(title)}</b>{body}</div>'

        rows = "".join(
            f'<li style="white-space:pre-wrap">{html.escape(text)}</li>' for text in self.explanations()
        )
        changes = "".join(f"<li>{html.escape(line)}</li>" for line in self._change_lines())
        log = "\n".join(tail(self.log, LOG_LINES)) if self.log else "(nothing printed or logged)"
        return (
            '<div class="wms-try-handler" style="border-left:4px solid #0969da;padding:4px 10px;color:#1f2328">'
            f"<div>{html.escape(self.headline())}</div>"
            + section("Outcome", f'<ul class="wms-try-outcome" style="margin:2px 0">{rows}</ul>')
            + section("What changed in the message", f'<ul class="wms-try-changes" style="margin:2px 0">{changes}</ul>')
            + section(
                "Your function's log (print and logging)",
                '<pre class="wms-try-log" style="margin:2px 0;padding:4px;background:#f6f8fa">'
                f"{html.escape(log)}</pre>",
            )
            + "</div>"
        )
