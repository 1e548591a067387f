"""Leaf MIME parts: body texts, inline images and attachments.

Stdlib quirks handled here (Python 3.11):

- ``get_content_type()``, ``get_filename()`` and friends re-parse the header
  on every call, and the parser itself costs most of a full parse; parts are
  therefore described from header objects read once per part (:func:`make_part`).
- ``get_content()`` raises ``LookupError`` for an unknown charset; bodies are
  decoded from the payload bytes with replacement characters instead.
- With no closing boundary the last part loses its final line break, as the
  parser takes it for the start of a boundary line that never comes.
"""

from __future__ import annotations

import email.message
from dataclasses import dataclass, field
from email import policy as _policy
from typing import Any

from ._text import bytes_to_text, clean
from .headers import Header

__all__ = ["Part", "child_parts", "content_type_of", "decode_payload", "is_attachment", "make_part"]


@dataclass(frozen=True)
class Part:
    """One leaf MIME part: a body text, an inline image or an attachment.

    ``size`` is the decoded payload size in bytes (after base64 or
    quoted-printable). The payload itself is decoded again on demand by
    :meth:`payload` so a list of parts stays small.
    """

    content_type: str
    filename: str | None
    size: int
    is_attachment: bool
    charset: str | None
    content_id: str | None
    disposition: str | None = None
    section: str = "1"
    _message: email.message.Message | None = field(default=None, repr=False, compare=False)
    #: The line separator of the message the part came from (an attached message keeps it).
    _linesep: str = field(default="\n", repr=False, compare=False)

    def payload(self) -> bytes:
        """Return the decoded payload bytes (an attached message as its bytes)."""
        if self._message is None:
            return b""
        return decode_payload(self._message, self.content_type, linesep=self._linesep)

    def text(self) -> str:
        """Return the payload as str: part's charset, bad bytes replaced, line ends as ``\\n``."""
        return bytes_to_text(self.payload(), self.charset)


def decode_payload(part: email.message.Message, content_type: str, *, linesep: str = "\n") -> bytes:
    """Decode one leaf part's payload; never raises (a mail server keeps going).

    An attached message (``message/*``) comes back as its bytes, with ``linesep``
    (the enclosing message's line separator) and its header lines as they were.
    """
    try:
        if content_type.startswith("message/") or part.is_multipart():
            inner = part.get_payload()
            if isinstance(inner, list):
                return b"".join(_as_bytes(m, linesep) for m in inner if isinstance(m, email.message.Message))
        data = part.get_payload(decode=True)
    except Exception:  # stdlib bugs on broken parts; degrade to the raw text
        data = None
    if isinstance(data, bytes):
        return data
    if data is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            return raw.encode("utf-8", "surrogateescape")
    return b""


def _as_bytes(message: email.message.Message, linesep: str) -> bytes:
    """An attached message's bytes as they were sent: ``linesep`` line ends, no header refolded."""
    try:
        return message.as_bytes(policy=_policy.default.clone(linesep=linesep, refold_source="none"))
    except Exception:
        return message.as_bytes(policy=_policy.compat32.clone(linesep=linesep))


def content_type_of(part: email.message.Message) -> str:
    """The part's content type; text/plain (RFC 2045's default) if it cannot be read."""
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def child_parts(part: email.message.Message, content_type: str) -> list[email.message.Message] | None:
    """Sub-parts of a multipart; None for a leaf (an attached message is a leaf)."""
    if not content_type.startswith("multipart/"):
        return None
    payload = part.get_payload()
    if not isinstance(payload, list):
        return None
    return [p for p in payload if isinstance(p, email.message.Message)]


def make_part(
    section: str, part: email.message.Message, content_type: str, headers: list[Header], *, linesep: str = "\n"
) -> Part:
    """Build a Part from header objects read once (each stdlib getter re-parses them)."""
    first: dict[str, Header] = {}
    for h in headers:
        first.setdefault(h.name.lower(), h)
    ct, cd, cid = first.get("content-type"), first.get("content-disposition"), first.get("content-id")
    ct_params, cd_params = _params(ct), _params(cd)
    if ct_params is None or cd_params is None:  # a header the new parser failed on: ask compat code
        charset, filename = _safe_call(part.get_content_charset), _safe_call(part.get_filename)
    else:
        charset, filename = ct_params.get("charset"), cd_params.get("filename") or ct_params.get("name")
    charset = (charset.strip().lower() or None) if isinstance(charset, str) else None
    filename = (clean(filename).strip() or None) if isinstance(filename, str) else None
    disposition = (cd.value.split(";", 1)[0].strip().lower() or None) if cd else None
    data = decode_payload(part, content_type, linesep=linesep)
    return Part(
        content_type=content_type,
        filename=filename,
        size=len(data),
        is_attachment=is_attachment(content_type, disposition, filename),
        charset=charset,
        content_id=(cid.value.strip() or None) if cid else None,
        disposition=disposition,
        section=section,
        _message=part,
        _linesep=linesep,
    )


def _params(header: Header | None) -> dict[str, Any] | None:
    """MIME parameters (RFC 2231 and encoded words decoded); {} when absent, None if unreadable."""
    if header is None:
        return {}
    try:
        return dict(header.obj.params)
    except Exception:
        return None


def _safe_call(getter: Any) -> Any:
    try:
        return getter()
    except Exception:
        return None


def is_attachment(content_type: str, disposition: str | None, filename: str | None) -> bool:
    """An attachment is what mail clients list as one.

    ``Content-Disposition: attachment``; or a named part not marked
    ``inline`` (older clients name files only in Content-Type); or an
    attached message (message/rfc822). Inline images with a Content-ID and
    ``inline`` disposition are not attachments.
    """
    if disposition == "attachment":
        return True
    if disposition == "inline":
        return False
    return filename is not None or content_type == "message/rfc822"
