"""Small UTF-8 files the user names (rule files, stand-in files), read within a size limit.

A path is read only when ``stat`` says it is a regular file no larger than the limit, so a
folder, a FIFO or a device is refused before it is opened (a FIFO could block for ever) and
a huge file is never loaded; at most ``max_bytes + 1`` bytes are read, which catches a file
that grows while it is read. Every problem becomes one ``error_type`` with the path, the
problem and a fix. (Messages have their own reader, :func:`workmail_sandbox.mail.parsing.read_regular_file`,
whose errors name message-specific fixes.)
"""

from __future__ import annotations

import stat
from pathlib import Path

from .errors import WorkMailSandboxError


def read_small_text_file(
    path: Path,
    max_bytes: int,
    error_type: type[WorkMailSandboxError],
    *,
    kind: str,
    fix_missing: str,
    fix_not_regular: str,
    fix_too_large: str,
) -> str:
    """The UTF-8 text of ``path``; ``kind`` names the file in the size message ("a rule file")."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            what = "a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO or device"
            raise error_type(f"{path}: {what}, not a regular file; {kind} is read only from a regular file.",
                             fix=fix_not_regular)
        if st.st_size > max_bytes:
            raise error_type(
                f"{path}: the file is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit for {kind}.",
                fix=fix_too_large,
            )
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise error_type(
                f"{path}: the file grew past the {max_bytes:,}-byte limit while it was read.",
                fix="check that nothing is still writing to it",
            )
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise error_type(f"{path}: no such file.", fix=fix_missing) from None
    except UnicodeDecodeError as error:
        problem = f"{path}: not UTF-8 text ({error.reason} at byte {error.start})."
        raise error_type(problem, fix="save it as UTF-8") from None
    except OSError as error:
        raise error_type(f"{path}: cannot be read ({error.strerror}).", fix="check the path and permissions") from None
