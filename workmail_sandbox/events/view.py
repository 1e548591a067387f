"""A typed, read-only view over the raw event dict: :class:`WorkMailEvent`.

In the spirit of Powertools' event data classes: a handler can read
``event.envelope.mail_from`` and still pass the event on as a plain mapping.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from ..errors import EventError
from ._dict_view import DictView
from .checks import check_event
from .schema import PAYLOAD_LIMIT_BYTES
from .serialization import JSONLimitError, load_json, payload_size, serialize_event

__all__ = ["Envelope", "WorkMailEvent"]


class Envelope(DictView):
    """The ``envelope`` object: the SMTP envelope of the message."""

    @property
    def mail_from(self) -> str:
        """The From address; when a user sends as or on behalf of another user,
        the address of the user represented, not of the actual sender."""
        return self._data["mailFrom"]["address"]

    @property
    def recipients(self) -> list[str]:
        """Recipient addresses, with no distinction between To, CC and BCC; inbound,
        only those in the organization's domains, from one SMTP conversation."""
        return [r["address"] for r in self._data["recipients"]]


class WorkMailEvent(DictView):
    """The event a Run Lambda rule passes to a function, as a read-only view.

    Build one with :func:`build_event`, :func:`events_from_message` or
    :meth:`from_dict`; wrapping a raw dict with ``WorkMailEvent(raw)`` does no
    checking, like Powertools' data classes.
    """

    @property
    def summary_version(self) -> str:
        """Version of the event format; it changes only on a backwards-incompatible change."""
        return self._data["summaryVersion"]

    @property
    def envelope(self) -> Envelope:
        """The envelope of the email message: ``mail_from`` and ``recipients``."""
        return Envelope(self._data["envelope"])

    @property
    def sender(self) -> str | None:
        """The address of the user who sent the message on behalf of another user;
        set only when a message is sent on behalf of another user."""
        sender = self._data.get("sender")
        return sender.get("address") if sender else None

    @property
    def subject(self) -> str:
        """The email subject line, truncated when it exceeds 256 characters."""
        return self._data["subject"]

    @property
    def message_id(self) -> str | None:
        """The id to fetch or update the full message with the Message Flow API."""
        return self._data.get("messageId")

    @property
    def invocation_id(self) -> str | None:
        """Unique per invocation, the same across retries of one event: use it to
        spot retries and avoid doing work twice."""
        return self._data.get("invocationId")

    @property
    def flow_direction(self) -> str | None:
        """``INBOUND`` or ``OUTBOUND``: the direction of the email flow."""
        return self._data.get("flowDirection")

    @property
    def truncated(self) -> bool:
        """True when the payload exceeded 128 KB and the recipient list was cut to
        fit; it is about the payload size, not the subject line."""
        return self._data["truncated"]

    # Conveniences that are not WorkMail fields.

    @property
    def raw_event(self) -> Mapping[str, Any]:
        """The raw event dict (the same object as :attr:`raw`)."""
        return self._data

    @property
    def size(self) -> int:
        """The payload size in bytes, compact UTF-8 JSON."""
        return payload_size(self._data)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the raw event, safe to change."""
        return copy.deepcopy(dict(self._data))

    def to_json(self, *, indent: int | None = None) -> str:
        """The event as JSON text: compact by default, as sizes are counted."""
        if indent is None:
            return serialize_event(self._data).decode("utf-8")
        return json.dumps(self._data, ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        strict: bool = True,
        payload_limit: int = PAYLOAD_LIMIT_BYTES,
    ) -> WorkMailEvent:
        """Check a raw event against the documented rules and wrap it.

        Raises :class:`~workmail_sandbox.errors.EventError` naming the first field
        and rule broken; every problem found is in its ``problems`` attribute.
        ``strict=False`` accepts pre-2020 events, which lack ``messageId``,
        ``invocationId`` and ``flowDirection``.
        """
        problems = check_event(data, strict=strict, payload_limit=payload_limit)
        if problems:
            first = problems[0]
            more = f" ({len(problems) - 1} more problem(s) in .problems)" if len(problems) > 1 else ""
            error = EventError(first.field, first.rule + more, fix=first.fix)
            error.problems = problems  # type: ignore[attr-defined]  # extra detail on the kit's own error
            raise error
        raw = data.raw if isinstance(data, DictView) else data
        return cls(copy.deepcopy(dict(raw)))

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        *,
        strict: bool = True,
        payload_limit: int = PAYLOAD_LIMIT_BYTES,
    ) -> WorkMailEvent:
        """Parse JSON text and check it as :meth:`from_dict` does."""
        try:
            data = load_json(text)
        except JSONLimitError as exc:
            raise EventError("(document)", exc.problem[:1].lower() + exc.problem[1:], fix=exc.fix) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EventError(
                "(document)",
                f"is not valid JSON: {exc}",
                fix="pass the event exactly as the function receives it, a JSON object",
            ) from None
        return cls.from_dict(data, strict=strict, payload_limit=payload_limit)

    def __repr__(self) -> str:
        return (
            f"WorkMailEvent(direction={self.flow_direction!r}, mail_from={self.envelope.mail_from!r}, "
            f"recipients={len(self._data['envelope']['recipients'])}, subject={self.subject!r}, "
            f"truncated={self.truncated!r})"
        )
