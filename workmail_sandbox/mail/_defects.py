"""The problems :attr:`~workmail_sandbox.mail.ParsedMessage.defects` lists.

Human-readable text for the stdlib parser's defects, and the kit's own RFC
checks on the raw header block (line length, 8-bit bytes) and, for a
headers-only parse, on the unparsed body (a missing closing boundary).
"""

from __future__ import annotations

import email.errors
import email.message

from .headers import ONCE_ONLY_HEADERS, header_block_lines

_MAX_LINE = 998  # RFC 5322 2.1.1: at most 998 characters before CRLF
REQUIRED_FIELDS = ("Date", "From")  # RFC 5322 3.6: the only required fields
ONCE_ONLY_LOWER = {name.lower(): name for name in ONCE_ONLY_HEADERS}

_DEFECT_TEXT: dict[type, str] = {
    email.errors.CloseBoundaryNotFoundDefect: (
        "multipart without a closing boundary line; the last part may be cut off (RFC 2046 5.1.1)"
    ),
    email.errors.StartBoundaryNotFoundDefect: (
        "multipart whose boundary never appears in the body, so its parts cannot be split"
    ),
    email.errors.NoBoundaryInMultipartDefect: "multipart Content-Type without a boundary parameter",
    email.errors.MultipartInvariantViolationDefect: "declared multipart but has no parts; read as one part",
    email.errors.FirstHeaderLineIsContinuationDefect: "first header line starts with whitespace",
    email.errors.MisplacedEnvelopeHeaderDefect: "an mbox 'From ' line in the middle of the headers",
    email.errors.MissingHeaderBodySeparatorDefect: (
        "a line that is not 'Name: value' ended the headers; the lines after it were read as body"
    ),
    email.errors.InvalidMultipartContentTransferEncodingDefect: (
        "multipart with a Content-Transfer-Encoding other than 7bit, 8bit or binary"
    ),
    email.errors.InvalidBase64PaddingDefect: "base64 body with bad padding",
    email.errors.InvalidBase64CharactersDefect: "base64 body with characters outside the base64 alphabet (ignored)",
    email.errors.InvalidBase64LengthDefect: "base64 body with an impossible length; left undecoded",
}


def describe(defect: Exception) -> str:
    text = _DEFECT_TEXT.get(type(defect))
    if text:
        return text
    detail = str(defect).strip()
    return detail or type(defect).__name__


def raw_header_checks(raw: bytes) -> list[str]:
    """Line length (RFC 5322 2.1.1) and 8-bit bytes (RFC 5322 2.2) in the header block."""
    found: list[str] = []
    eight_bit: list[str] = []
    current = "?"
    for line in header_block_lines(raw):
        if line[:1] not in (b" ", b"\t"):
            current = line.split(b":", 1)[0].strip().decode("ascii", "replace")
        if len(line) > _MAX_LINE:
            found.append(
                f"header {current}: a line is {len(line)} characters long; "
                f"RFC 5322 2.1.1 allows at most {_MAX_LINE} before CRLF"
            )
        if not line.isascii() and current not in eight_bit:
            eight_bit.append(current)
    for name in eight_bit:
        found.append(
            f"header {name}: unencoded 8-bit bytes; headers must be US-ASCII "
            "(RFC 5322 2.2) unless sent as SMTPUTF8 (RFC 6532); use RFC 2047 encoded words"
        )
    return found


def boundary_check_headers_only(message: email.message.Message) -> list[str]:
    """Without a full parse, spot a multipart body whose closing boundary is missing."""
    try:
        if message.get_content_maintype() != "multipart":
            return []
        boundary = message.get_boundary()
    except Exception:
        return []
    body = message.get_payload()
    if not boundary or not isinstance(body, str):
        return []
    if f"--{boundary}--" not in body:
        return [f"message: {_DEFECT_TEXT[email.errors.CloseBoundaryNotFoundDefect]}"]
    return []
