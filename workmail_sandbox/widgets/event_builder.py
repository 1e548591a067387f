"""EventBuilder: build a WorkMail Run Lambda event with controls and watch its limits.

The widget only collects input and calls the kit: addresses are read with
:func:`workmail_sandbox.mail.normalize_address`, inbound recipients are kept
with :func:`workmail_sandbox.mail.in_domains`, and the event is made by
:func:`workmail_sandbox.events.build_event`, which applies the 256-character
subject cut and the 128 KB truncation.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

import ipywidgets as W

from ..errors import EventError, MessageParseError
from ..events import (
    INBOUND,
    PAYLOAD_LIMIT_BYTES,
    SUBJECT_LIMIT_CHARS,
    WorkMailEvent,
    build_event,
    normalize_direction,
)
from ..events.building import new_invocation_id, new_message_id
from ..mail import in_domains, normalize_address
from ._common import (
    DESCRIPTION,
    StaticView,
    abbreviated_json,
    badge_html,
    classed,
    direction_toggle,
    labelled,
    set_visible,
    style_widget,
)

__all__ = ["EventBuilder"]

#: Recipients shown at the head and the tail of a long list in the preview.
PREVIEW_HEAD, PREVIEW_TAIL = 10, 5
#: At most this many generated recipients per click (a 100,000-line text box is already slow).
MAX_GENERATED = 100_000
_GENERATED = re.compile(r"^user(\d+)@", re.MULTILINE)
_FIELDS = (
    "direction", "mail_from", "on_behalf_of", "recipients", "subject", "org_domains", "message_id", "invocation_id",
)


def _lines(value: str | Iterable[str]) -> str:
    return value if isinstance(value, str) else "\n".join(value)


def _domains(value: str | Iterable[str]) -> str:
    return value if isinstance(value, str) else ", ".join(value)


class EventBuilder(StaticView, W.VBox):
    """Controls for one WorkMail event, a live JSON preview and badges for its limits.

    ``on_behalf_of`` is the address of the user who actually sent the message
    on behalf of ``mail_from`` (the event's ``sender``). ``message_id`` and
    ``invocation_id`` are fixed for the widget's life (generated once when
    None), so the output of a cell that shows the builder is reproducible.

    Inbound, recipients outside ``org_domains`` are left out, as WorkMail does;
    :attr:`dropped_recipients` lists them. Drive it from code with :meth:`set`.
    """

    def __init__(
        self,
        *,
        direction: str = "inbound",
        mail_from: str = "",
        on_behalf_of: str | None = None,
        recipients: str | Iterable[str] = (),
        subject: str = "",
        org_domains: str | Iterable[str] = ("example.com",),
        message_id: str | None = None,
        invocation_id: str | None = None,
    ) -> None:
        self.message_id = message_id if message_id is not None else new_message_id()
        self.invocation_id = invocation_id if invocation_id is not None else new_invocation_id()
        self._event: WorkMailEvent | None = None
        self._error: EventError | None = None
        self._dropped: list[str] = []
        self._kept_count = 0
        self._cache: tuple[Any, Any] | None = None
        self._holding = False

        self.direction_buttons = direction_toggle(
            direction, "wms-direction", ["mail arriving from outside", "mail your users send"]
        )
        self.from_input = labelled(W.Text, mail_from, "From", "wms-mail-from", placeholder="alice@example.org")
        self.sender_input = labelled(
            W.Text, on_behalf_of or "", "Sender", "wms-sender",
            placeholder="optional: who sent it on behalf of From",
        )
        self.domains_input = labelled(
            W.Text, _domains(org_domains), "Org domains", "wms-org-domains", placeholder="example.com, example.net"
        )
        self.recipients_input = labelled(
            W.Textarea, _lines(recipients), "Recipients", "wms-recipients",
            placeholder="one address per line", rows=6, continuous_update=False,
        )
        self.generate_count = classed(W.BoundedIntText(
            value=10_000, min=1, max=MAX_GENERATED, description="Generate N", style=DESCRIPTION,
            layout={"width": "16em"},
        ), "wms-generate-count")
        # The button is as wide as its label (never shrunk by the row: a cut label hides what it does).
        self.generate_button = classed(W.Button(
            description="Add generated recipients",
            tooltip="append user00001@<first org domain>, user00002@... to the recipients",
            layout={"width": "auto", "min_width": "max-content", "flex": "0 0 auto"},
        ), "wms-generate-button")
        # One line, like the subject field of a mail client; a longer subject scrolls inside it.
        self.subject_input = labelled(W.Textarea, subject, "Subject", "wms-subject", rows=1)
        self.subject_count = classed(W.HTML(), "wms-subject-count")

        self.error_flag = classed(W.HTML(), "wms-flag-error")
        self.dropped_flag = classed(W.HTML(), "wms-flag-dropped")
        self.subject_cut_flag = classed(W.HTML(), "wms-flag-subject-cut")
        self.truncated_flag = classed(W.HTML(), "wms-flag-truncated")
        self.size_info = classed(W.HTML(), "wms-event-size")
        self.preview = classed(W.HTML(), "wms-event-preview")

        controls = W.VBox(
            [
                self.direction_buttons,
                self.from_input,
                self.sender_input,
                self.domains_input,
                self.recipients_input,
                W.HBox([self.generate_count, self.generate_button], layout={"flex_flow": "row wrap"}),
                self.subject_input,
                self.subject_count,
            ],
            layout={"flex": "1 1 380px", "min_width": "320px"},
        )
        output = W.VBox(
            [
                self.error_flag,
                self.dropped_flag,
                self.subject_cut_flag,
                self.truncated_flag,
                self.size_info,
                self.preview,
            ],
            layout={"flex": "1 1 420px", "min_width": "320px"},
        )
        super().__init__(children=[style_widget(), W.HBox([controls, output], layout={"flex_flow": "row wrap"})])
        self.add_class("wms-event-builder")

        for control in (
            self.direction_buttons,
            self.from_input,
            self.sender_input,
            self.domains_input,
            self.recipients_input,
            self.subject_input,
        ):
            control.observe(self._on_change, names="value")
        self.generate_button.on_click(lambda _button: self.add_generated(self.generate_count.value))
        self._refresh()

    # -- public API ---------------------------------------------------------

    @property
    def event(self) -> WorkMailEvent:
        """The current event; raises the kit's EventError while the inputs make none."""
        if self._event is None:
            assert self._error is not None
            raise self._error
        return self._event

    @property
    def error(self) -> EventError | None:
        """Why the inputs make no event, or None when they do."""
        return self._error

    @property
    def subject_was_cut(self) -> bool:
        """True when the subject is longer than 256 characters and the event keeps only the first 256."""
        return len(self.subject_input.value) > SUBJECT_LIMIT_CHARS

    @property
    def dropped_recipients(self) -> list[str]:
        """Inbound: the recipients left out because they are outside the organization's domains."""
        return list(self._dropped)

    def set(self, **fields: Any) -> EventBuilder:
        """Set several inputs at once and rebuild the event once; returns the builder.

        Fields are the constructor's keyword arguments. ``recipients`` and
        ``org_domains`` take a list or the text as typed.
        """
        unknown = sorted(set(fields) - set(_FIELDS))
        if unknown:
            raise TypeError(
                f"EventBuilder.set() got unknown field(s) {', '.join(unknown)}; valid: {', '.join(_FIELDS)}"
            )
        self._holding = True
        try:
            if "message_id" in fields:
                self.message_id = fields["message_id"] if fields["message_id"] is not None else new_message_id()
            if "invocation_id" in fields:
                value = fields["invocation_id"]
                self.invocation_id = value if value is not None else new_invocation_id()
            if "direction" in fields:
                self.direction_buttons.value = normalize_direction(fields["direction"])
            if "mail_from" in fields:
                self.from_input.value = fields["mail_from"]
            if "on_behalf_of" in fields:
                self.sender_input.value = fields["on_behalf_of"] or ""
            if "org_domains" in fields:
                self.domains_input.value = _domains(fields["org_domains"])
            if "recipients" in fields:
                self.recipients_input.value = _lines(fields["recipients"])
            if "subject" in fields:
                self.subject_input.value = fields["subject"]
        finally:
            self._holding = False
        self._refresh()
        return self

    def add_generated(self, count: int) -> None:
        """Append ``count`` generated recipients (``user00001@<first org domain>``, ...)."""
        count = max(0, min(int(count), MAX_GENERATED))
        domains = self._org_domains()
        domain = domains[0] if domains else "example.com"
        current = self.recipients_input.value
        start = max((int(n) for n in _GENERATED.findall(current)), default=0) + 1
        new = "\n".join(f"user{i:05d}@{domain}" for i in range(start, start + count))
        self.recipients_input.value = f"{current.rstrip()}\n{new}".lstrip("\n") if current.strip() else new

    # -- computing ----------------------------------------------------------

    def _on_change(self, _change: dict[str, Any]) -> None:
        if not self._holding:
            self._refresh()

    def _org_domains(self) -> list[str]:
        parts = re.split(r"[\s,;]+", self.domains_input.value)
        return [d.lstrip("@").lower() for d in parts if d.strip("@ ")]

    def _recipients(self, direction: str, domains: list[str]) -> tuple[list[str], list[str]]:
        """(kept, dropped): addresses read line by line; inbound keeps the organization's."""
        key = (self.recipients_input.value, direction, tuple(domains))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        kept: list[str] = []
        dropped: list[str] = []
        for number, line in enumerate(self.recipients_input.value.splitlines(), 1):
            if not line.strip():
                continue
            try:
                address = normalize_address(line)
            except MessageParseError:
                raise EventError(
                    "envelope.recipients",
                    f"line {number} of Recipients, {line.strip()!r}, is not an email address",
                    fix="write one address per line, as local@domain",
                ) from None
            if direction == INBOUND and not in_domains(address, domains):
                dropped.append(address)
            else:
                kept.append(address)
        result = (list(dict.fromkeys(kept)), list(dict.fromkeys(dropped)))
        self._cache = (key, result)
        return result

    def _build(self) -> WorkMailEvent:
        """The event from the controls; the kit's checks (From, Sender) come first, as on the form."""
        direction = self.direction_buttons.value
        domains = self._org_domains()
        self._dropped, self._kept_count = [], 0
        kept, dropped = self._recipients(direction, domains)
        self._kept_count = len(kept)
        event = build_event(
            mail_from=self.from_input.value,
            recipients=kept,
            subject=self.subject_input.value,
            sender=self.sender_input.value.strip() or None,
            direction=direction,
            message_id=self.message_id,
            invocation_id=self.invocation_id,
        )
        if direction == INBOUND and not domains:
            raise EventError(
                "envelope.recipients",
                "inbound events list only recipients in the organization's domains, and none were given",
                fix="enter the organization's mail domains in Org domains, e.g. example.com",
            )
        self._dropped = dropped
        if direction == INBOUND and not kept:
            raise EventError(
                "envelope.recipients",
                f"no recipient is in the organization's domains ({', '.join(domains)}): "
                "WorkMail invokes no inbound rule for this message",
                fix=f"add a recipient at {domains[0]}, or choose Outbound",
            )
        return event

    # -- rendering ----------------------------------------------------------

    def _flag_texts(self) -> dict[str, str | None]:
        """The text of each flag, None when it is hidden (shared by the live and static views)."""
        event, dropped = self._event, self._dropped
        n = len(self.subject_input.value)
        truncated = None
        if event is not None and event.truncated:
            kept = len(event.raw["envelope"]["recipients"])
            truncated = (
                f"truncated: true — {kept:,} of {self._kept_count:,} recipients kept, "
                f"{event.size:,} bytes of {PAYLOAD_LIMIT_BYTES:,}"
            )
        left_out = None
        if dropped:
            shown = ", ".join(dropped[:5]) + (f", … ({len(dropped) - 5:,} more)" if len(dropped) > 5 else "")
            left_out = (
                f"{len(dropped):,} recipient{'s' if len(dropped) != 1 else ''} left out: outside the "
                f"organization's domains ({', '.join(self._org_domains())}); inbound events list only "
                f"the organization's recipients: {shown}"
            )
        return {
            "error": None if self._error is None else f"no event: {self._error}",
            "dropped": left_out,
            "subject_cut": f"subject cut: {n:,} → {SUBJECT_LIMIT_CHARS} characters" if self.subject_was_cut else None,
            "truncated": truncated,
        }

    def _size_text(self) -> str:
        event = self._event
        if event is None:
            return "no event"
        count = len(event.raw["envelope"]["recipients"])
        return (
            f"{event.flow_direction} event · {count:,} recipient{'s' if count != 1 else ''} · "
            f"{event.size:,} bytes of {PAYLOAD_LIMIT_BYTES:,} (128 KB)"
        )

    def _preview_text(self) -> str:
        if self._event is None:
            return "(no event: see the message above)"
        return abbreviated_json(
            self._event, max_items=PREVIEW_HEAD + PREVIEW_TAIL, head=PREVIEW_HEAD, tail=PREVIEW_TAIL
        )

    def _refresh(self) -> None:
        try:
            self._event, self._error = self._build(), None
        except EventError as exc:
            self._event, self._error = None, exc
        n = len(self.subject_input.value)
        over = f": the event keeps the first {SUBJECT_LIMIT_CHARS}" if n > SUBJECT_LIMIT_CHARS else ""
        self.subject_count.value = f'<span class="wms-muted">{n:,} / {SUBJECT_LIMIT_CHARS} characters{over}</span>'
        kinds = {"error": "error", "dropped": "info", "subject_cut": "warn", "truncated": "warn"}
        flags = {"error": self.error_flag, "dropped": self.dropped_flag,
                 "subject_cut": self.subject_cut_flag, "truncated": self.truncated_flag}
        for name, text in self._flag_texts().items():
            flags[name].value = badge_html(text, kinds[name]) if text else ""
            set_visible(flags[name], text is not None)
        self.size_info.value = f'<span class="wms-muted">{html.escape(self._size_text())}</span>'
        self.preview.value = f'<pre class="wms-pre">{html.escape(self._preview_text(), quote=False)}</pre>'

    def static_text(self) -> str:
        """The current state as plain text: flags, size line and JSON preview (deterministic)."""
        lines = ["WorkMail event builder: " + self._size_text()]
        lines += [f"! {text}" for text in self._flag_texts().values() if text]
        return "\n".join(lines + [self._preview_text()])

    def static_html(self) -> str:
        kinds = {"error": "error", "dropped": "info", "subject_cut": "warn", "truncated": "warn"}
        badges = "".join(
            "<div>" + badge_html(text, kinds[name], css_class="wms-flag-" + name.replace("_", "-")) + "</div>"
            for name, text in self._flag_texts().items()
            if text
        )
        return (
            f'<div class="wms-event-builder-static"><strong>WorkMail event builder</strong>{badges}'
            f'<div class="wms-muted">{html.escape(self._size_text())}</div>'
            f'<pre class="wms-pre wms-event-preview">{html.escape(self._preview_text(), quote=False)}</pre></div>'
        )

    def __repr__(self) -> str:
        return (
            f"EventBuilder(direction={self.direction_buttons.value!r}, mail_from={self.from_input.value!r}, "
            f"recipients={self._kept_count}, subject={self.subject_input.value[:40]!r})"
        )
