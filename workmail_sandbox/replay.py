"""Replay a whole mail corpus through an emulated organization, and the functions behind two CLI commands.

* :func:`replay` (also ``Organization.replay``): route every message of a
  folder of ``.eml`` files, an mbox file or a Maildir (read one at a time with
  :func:`workmail_sandbox.mail.iter_messages`, so a large corpus never sits in
  memory) and return a DataFrame with one row per recipient.
* :func:`test_rule`: ``workmail-sandbox test-rule --rules FILE --sender A
  --recipient B [--direction ...]``, the console's Test configuration box.

Both work without a notebook. ``workmail-sandbox replay DIR --rules FILE
[--function PATH:HANDLER] [--csv OUT]`` (a fresh sandbox, an organization,
optionally your function, the corpus replayed, a CSV written) is
:func:`workmail_sandbox.replay_folder.replay_folder`.

The replay DataFrame
--------------------

One row per recipient of every message (a message WorkMail would never
receive, such as inbound mail with no recipient in the organization's
domains, or a file that is not mail, gets one row with ``outcome`` ``failed``
and the reason):

=================  ================================================================
``message``        the message's name: its path in the folder, ``file.mbox:N`` or the Maildir key
``direction``      ``INBOUND`` or ``OUTBOUND``
``subject``        the subject
``recipient``      the recipient (lower case)
``rule``           the rule that decided (None: no rule matched)
``action``         the action applied (DEFAULT, DROP, BOUNCE, MOVE_TO_JUNK, ...)
``source``         where the action came from: rule, no rule, lambda, fallback, ses, delivery
``invocation``     the invocationId of the synchronous invocation that decided, if any
``attempts``       attempts of that invocation (retries + 1)
``outcome``        inbox, junk, dropped, bounced, sent or failed
``reason``         why, in words
``time_ms``        wall-clock milliseconds to route the whole message
``waited_s``       simulated seconds from receipt to delivery (retries move the clock)
=================  ================================================================

Memory stays flat: by default the organization keeps only metadata of the
copies it delivers (``FlowSettings(keep_content=False)`` for the replay), and
each copy put in transit for a function is forgotten once delivered (its
``messageId`` cannot be fetched afterwards). Pass ``keep_content=True`` to keep
everything. The event log is kept (in memory and in CloudWatch Logs); pass
``keep_log=False`` to keep it in CloudWatch Logs only.
"""

from __future__ import annotations

from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, MessageParseError
from .mail import ParsedMessage, iter_messages, parse_message, read_eml
from .rules import Evaluation, RuleSet

if TYPE_CHECKING:  # pragma: no cover - annotations only (organization imports this module)
    from .organization import Organization

__all__ = [
    "REPLAY_COLUMNS",
    "SAMPLE_DOMAINS",
    "replay",
    "test_rule",
]

REPLAY_COLUMNS = (
    "message", "direction", "subject", "recipient", "rule", "action", "source", "invocation", "attempts",
    "outcome", "reason", "time_ms", "waited_s",
)
#: The organization of the kit's sample mail (data/emails, data/generate_corpus.py, data/rules).
SAMPLE_DOMAINS = ("example.com", "sales.example.com")
DIRECTIONS = ("auto", "inbound", "outbound")


def _stream(source: Path) -> Iterator[tuple[str, ParsedMessage | MessageParseError]]:
    """``iter_messages`` (headers only), carrying on past a message that cannot be read.

    ``iter_messages`` stops at the first unreadable message (it raises); from
    there the same layout is walked item by item (:func:`_resilient`), each
    unreadable message yielding its error instead of a parse.
    """
    done = 0
    try:
        for name, parsed in iter_messages(source, headers_only=True, max_bytes=None):
            done += 1
            yield name, parsed
        return
    except MessageParseError:
        pass
    yield from _resilient(source, skip=done)


def _resilient(root: Path, *, skip: int) -> Iterator[tuple[str, ParsedMessage | MessageParseError]]:
    """The layouts of ``iter_messages``, in its order, reading each message on its own."""
    import mailbox

    def parse(data: bytes) -> ParsedMessage:
        return parse_message(data, headers_only=True, max_bytes=None)

    def read(path: Path) -> ParsedMessage:
        return read_eml(path, headers_only=True, max_bytes=None)

    items: Iterator[tuple[str, Any]]
    box: Any = None
    if root.is_dir() and (root / "cur").is_dir() and (root / "new").is_dir():
        box = mailbox.Maildir(root, factory=None, create=False)
        items = ((key, lambda k=key: parse(box.get_bytes(k))) for key in sorted(box.iterkeys()))
    elif root.is_dir():
        paths = sorted((p for p in root.rglob("*.eml") if p.is_file()), key=lambda q: q.relative_to(root).as_posix())
        items = ((p.relative_to(root).as_posix(), lambda q=p: read(q)) for p in paths)
    else:
        with root.open("rb") as fh:
            is_mbox = fh.read(5) == b"From "
        if is_mbox:
            box = mailbox.mbox(root, create=False)
            items = (
                (f"{root.name}:{n}", lambda k=key: parse(box.get_bytes(k)))
                for n, key in enumerate(box.iterkeys(), 1)
            )
        else:
            items = iter([(root.name, lambda: read(root))])
    try:
        for index, (name, load) in enumerate(items):
            if index < skip:
                continue
            try:
                yield name, load()
            except MessageParseError as exc:
                yield name, exc
    finally:
        if isinstance(box, mailbox.mbox):
            box.close()


def _count(source: Path) -> int | None:
    """How many messages a folder holds (for the progress bar); None when unknown without reading."""
    if source.is_dir() and not ((source / "cur").is_dir() and (source / "new").is_dir()):
        return sum(1 for p in source.rglob("*.eml") if p.is_file())
    if source.is_dir():
        return sum(1 for sub in ("cur", "new") for p in (source / sub).iterdir() if p.is_file())
    return None


def _progress(iterable: Any, total: int | None, enabled: bool, desc: str) -> Any:
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm comes with the kit's "lab" extra; without it, no bar
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="msg")


def replay(
    org: Organization,
    source: str | PathLike,
    *,
    progress: bool = True,
    direction: str = "auto",
    keep_content: bool = False,
    keep_log: bool = True,
    conversations: Any = "single",
):
    """Route every message of ``source`` through ``org``; one DataFrame row per recipient (see module doc).

    ``direction``: ``"auto"`` (inbound unless the From domain is one of the
    organization's), ``"inbound"`` or ``"outbound"``. ``progress``: a tqdm bar
    (notebook-aware; none when tqdm is not installed).
    """
    import pandas as pd

    wanted = str(direction).strip().lower()
    if wanted not in DIRECTIONS:
        raise ConfigurationError(
            f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}.",
            fix="use 'auto' (from the From domain), 'inbound' or 'outbound'",
        )
    root = Path(source)
    if not root.exists():
        raise ConfigurationError(
            f"{root}: no such file or folder.", fix="pass a folder of .eml files, an mbox file or a Maildir folder"
        )
    saved_settings, saved_keep = org.settings, org.log.keep
    org.settings = saved_settings.but(keep_content=keep_content)
    org.log.keep = keep_log
    rows: list[tuple[Any, ...]] = []
    stream: Any = None
    try:
        stream = _progress(_stream(root), _count(root), progress, f"replay {root.name}")
        for name, parsed in stream:
            if isinstance(parsed, MessageParseError):
                rows.append((name, None, "", None, None, None, "delivery", None, 0, "failed",
                             f"not a readable message: {parsed.problem}", 0.0, 0.0))
                continue
            result = org.route(parsed, direction=wanted, conversations=conversations)
            d = result.direction
            deciders = {i.invocation_id: len(i.attempts) for i in result.invocations if i.synchronous}
            waited = (result.completed_at - result.received_at).total_seconds() if result.completed_at else 0.0
            total = result.timings.get("total", 0.0)
            if not result.recipients:
                rows.append((name, d, result.subject, None, None, None, "delivery", None, 0, "failed",
                             result.note, total, waited))
                continue
            for o in result.recipients.values():
                rows.append((
                    name, d, result.subject, o.recipient, o.rule, o.action, o.source, o.invocation_id,
                    deciders.get(o.invocation_id, 0) if o.invocation_id else 0, o.outcome, o.reason, total, waited,
                ))
    finally:
        org.settings = saved_settings
        org.log.keep = saved_keep
        if hasattr(stream, "close"):
            stream.close()
    return pd.DataFrame.from_records(rows, columns=list(REPLAY_COLUMNS))


# ------------------------------------------------------------------ CLI functions


def test_rule(rules_path: str | PathLike, sender: str, recipient: str, direction: str = "inbound") -> Evaluation:
    """Which rule applies to mail from ``sender`` to ``recipient``, and why (``print(result.explain())``).

    The WorkMail console's Test configuration box (test-email-flow-rule.md),
    over a rule file (JSON or YAML). Raises :class:`~workmail_sandbox.errors.RuleError`
    for a bad file or address.
    """
    return RuleSet.from_file(rules_path).test_configuration(sender, recipient, direction)
