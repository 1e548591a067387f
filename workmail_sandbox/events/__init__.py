"""The event WorkMail passes to a Run Lambda function, with every documented limit.

Source: "Configuring AWS Lambda for Amazon WorkMail", section *Lambda event data*
(https://docs.aws.amazon.com/workmail/latest/adminguide/lambda.html#lambda-data);
summarised in docs/aws-behaviour.md §2.3.

Modules:

* :mod:`.view`: :class:`WorkMailEvent`, a typed, read-only view over the raw
  event dict, in the spirit of Powertools' event data classes: a handler can
  read ``event.envelope.mail_from`` and still pass the event on as a plain
  mapping.
* :mod:`.checks`: :func:`check_event`, every documented rule an event breaks.
* :mod:`.building`: :func:`build_event`, which makes one event from addresses
  and a subject and applies the 256-character subject cut and the 128 KB
  truncation.
* :mod:`.from_message`: :func:`events_from_message`, which turns a MIME
  message plus an optional SMTP envelope into the events WorkMail would send,
  one per SMTP conversation.
* :mod:`.schema`: versions, directions, field names and limits;
  :mod:`.serialization`: the compact JSON the size is counted in.

The assumptions made where AWS does not say are listed in :mod:`.building` and
:mod:`.from_message`; each is a keyword argument you can change.
"""

from __future__ import annotations

from .building import build_event
from .checks import EventProblem, check_event
from .from_message import SmtpEnvelope, events_from_message
from .schema import (
    DEFAULT_SUMMARY_VERSION,
    FLOW_DIRECTIONS,
    INBOUND,
    KNOWN_SUMMARY_VERSIONS,
    OUTBOUND,
    PAYLOAD_LIMIT_BYTES,
    SUBJECT_LIMIT_CHARS,
    normalize_direction,
)
from .serialization import JSONLimitError, load_json, payload_size, serialize_event
from .view import Envelope, WorkMailEvent

__all__ = [
    "DEFAULT_SUMMARY_VERSION",
    "FLOW_DIRECTIONS",
    "INBOUND",
    "KNOWN_SUMMARY_VERSIONS",
    "OUTBOUND",
    "PAYLOAD_LIMIT_BYTES",
    "SUBJECT_LIMIT_CHARS",
    "EventProblem",
    "Envelope",
    "SmtpEnvelope",
    "WorkMailEvent",
    "build_event",
    "check_event",
    "events_from_message",
    "normalize_direction",
    "JSONLimitError",
    "load_json",
    "payload_size",
    "serialize_event",
]
