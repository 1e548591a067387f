"""A real SMTP door into the sandbox's emulated WorkMail organizations (aiosmtpd, loopback only).

::

    with SmtpDoor(sb, port=0, submission_port=0) as door:   # sb = workmail_sandbox.sandbox.start()
        smtplib.SMTP("127.0.0.1", door.port, local_hostname="localhost").sendmail(
            "carlos@example.org", ["alice@example.com"], raw)
    org.mailbox("alice@example.com").inbox                  # routed through org's rules

docs/smtp.md has every reply and what differs from WorkMail's MX. In short:

**Inbound** (``port``; WorkMail's MX, no AUTH): each transaction (``MAIL FROM`` ...
``DATA``) is one SMTP conversation (docs/aws-behaviour.md §2.3): ``DATA`` goes to
``org.receive(raw, envelope=SmtpEnvelope(mail_from, rcpt_tos))``, so a Run Lambda
function runs once per transaction with exactly its recipients. Each ``RCPT TO`` is
checked when it arrives: in an organization's domain it must be a user or a group
(:meth:`Organization.recipient_kind`; the emulator has no aliases), else ``550 5.1.1``;
in no organization's domain it is relaying, ``550 5.7.1``, unless Amazon SES receiving
takes it (a verified SES domain identity of the sandbox's Region whose active receipt
rule set has an enabled rule matching it: ``DATA`` then runs
:func:`workmail_sandbox.ses.receiving.ses_receive`, docs/ses.md). The organization is the
registered Python object (:meth:`Organization.for_domain`): the rules and mailboxes set
on it are the ones used. A recipient a rule or function bounces is accepted (250), then
bounced to the envelope sender, as WorkMail does; ``MAIL FROM:<>`` gets no bounce (the
door puts ``Return-Path: <>`` on top so the flow knows; it adds no other header).
*Kit choice*: one transaction belongs to one organization; a recipient of another gets
``452 4.5.3`` (RFC 5321 §4.5.3.1.10: a sender retries such recipients in a new
transaction instead of bouncing them).

**Submission** (``submission_port``, off by default): AUTH PLAIN or LOGIN over plain TCP
(``auth_require_tls=False``: a loopback sandbox without TLS). A user logs in with their
address and :data:`DEFAULT_PASSWORD` (``"sandbox"``) unless :meth:`SmtpDoor.set_password`
gave another; ``MAIL FROM`` must be that user (else ``553 5.7.1``); recipients may be
anywhere; ``DATA`` goes to ``org.send`` (outbound rules).

**Threads**: each port's asyncio loop runs in a thread of its own. The sandbox is not
thread-safe: look-ups and routing hold :data:`SANDBOX_LOCK` (process-wide; hold it too
when you route mail from another thread while a door runs), and routing runs in a
worker thread (``run_in_executor``), so a slow function delays other sessions' RCPT and
DATA replies but not their greeting, EHLO or MAIL. Binding to anything but loopback is
refused unless ``allow_remote=True`` (with a warning). Stop the door before the sandbox.

One concept: SMTP into the sandbox (both ports, their replies, the routing they hand
mail to); what happens to the mail is the organization's or SES receiving's.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import datetime as _dt
import hmac
import logging
import re
import socket
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiosmtpd import __version__ as _aiosmtpd_version
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .errors import ConfigurationError, MessageParseError, SandboxError, WorkMailSandboxError
from .events import SmtpEnvelope
from .flow import FlowResult
from .mail.addresses import normalize_address
from .mail.parsing import MAX_MESSAGE_BYTES
from .network import is_loopback
from .organization import Organization

__all__ = ["DEFAULT_PASSWORD", "SANDBOX_LOCK", "SmtpDoor", "SmtpTransaction"]

#: Every password a user of an emulated organization has on the submission port, unless set otherwise.
DEFAULT_PASSWORD = "sandbox"
#: Held while a door looks something up in the sandbox or routes a message (the sandbox is not thread-safe).
SANDBOX_LOCK = threading.RLock()

INBOUND_PORT = "inbound"
SUBMISSION_PORT = "submission"
#: How long a reply's text may be (RFC 5321 §4.5.3.1.5 allows 512 octets per reply line).
_REPLY_CHARS = 400
_log = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class SmtpTransaction:
    """One ``DATA`` the door answered: who sent what to whom, the reply, and the flow's result.

    ``port`` is ``"inbound"`` or ``"submission"``; ``mail_from`` as given (``"<>"``
    for a null sender); ``result`` the :class:`~workmail_sandbox.flow.FlowResult`, or the
    :class:`~workmail_sandbox.ses.receiving.SesReceipt` for mail SES receiving took
    (None when routing failed: ``reply`` says why).
    """

    port: str
    peer: str
    mail_from: str
    recipients: tuple[str, ...]
    organization_id: str | None
    reply: str
    result: FlowResult | Any | None
    at: _dt.datetime

    @property
    def accepted(self) -> bool:
        return self.reply.startswith("250")


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
#: ``<local@domain>`` with dot-atom local part and domain, or ``<>``, then nothing or white space and parameters.
_PLAIN_PATH = re.compile(
    rf"[ \t]*<(?:({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*))?>((?:[ \t]+[^ \t].*)?)[ \t]*", re.DOTALL
)


def _reply(code: str, text: str) -> str:
    """One reply line: ``code`` and ``text`` on one line, ASCII, at most about 400 characters."""
    flat = " ".join(str(text).split()).encode("ascii", "backslashreplace").decode("ascii")
    return f"{code} {flat if len(flat) <= _REPLY_CHARS else flat[: _REPLY_CHARS - 3] + '...'}"


class _DoorEnvelope(Envelope):
    """aiosmtpd's envelope plus the organization the transaction's recipients belong to."""

    def __init__(self) -> None:
        super().__init__()
        self.organization: Organization | None = None
        self.ses = False  #: the recipients are Amazon SES receiving's, not an organization's


class _DoorSMTP(SMTP):
    """aiosmtpd's SMTP with the kit's size reply (RFC 3463 5.3.4) and a session counter."""

    door: SmtpDoor | None = None

    def _create_envelope(self) -> Envelope:
        return _DoorEnvelope()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.door is not None:
            self.door._count("connections")
        super().connection_made(transport)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd reads every MAIL/RCPT address with the email package's RFC 5322 header parser
        # (and defines a typing.Protocol class per call): about 70 us, a third of the loop's time
        # per recipient. A plain <local@domain> (dot-atoms) or <> gets the same answer from a regex;
        # anything else still goes to aiosmtpd (tests/test_smtp_door.py compares the two).
        match = _PLAIN_PATH.fullmatch(arg) if arg else None
        if match is None:
            return super()._getaddr(arg)
        address, rest = match.group(1) or "<>", (match.group(2) or "").lstrip()
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return super()._getaddr(arg)
        return address, rest

    async def push(self, status: Any) -> None:
        # aiosmtpd's two size replies ("552 Error: message size exceeds ..." at MAIL FROM SIZE=,
        # "552 Error: Too much mail data" after DATA) in the kit's words, with the enhanced code.
        if isinstance(status, str) and status.startswith("552 Error:"):
            status = "552 5.3.4 Message size exceeds fixed maximum message size"
        await super().push(status)


class _Listener(Controller):
    """aiosmtpd's threaded controller serving on a socket the door bound itself."""

    def __init__(self, door: SmtpDoor, handler: Any, sock: socket.socket, **smtp_kwargs: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **smtp_kwargs)
        self._door = door
        self._sock = sock

    def factory(self) -> SMTP:
        server = _DoorSMTP(self.handler, **self.SMTP_kwargs)
        server.door = self._door
        return server

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)

    def _trigger_server(self) -> None:
        # aiosmtpd connects to make the server build one SMTP object (errors in factory() show at
        # start); building it directly needs no connection, which the guard refuses off loopback.
        self._factory_invoker()


class _LoginData:
    """What a successful AUTH leaves on the session: the user's address."""

    def __init__(self, address: str) -> None:
        self.login = address.encode()
        self.address = address


def _not_login_data_warning(record: logging.LogRecord) -> bool:
    """aiosmtpd 1.4 logs a deprecation warning about its own ``Session.login_data`` on every AUTH: drop it."""
    return not str(record.msg).startswith("Session.login_data is deprecated")


if _not_login_data_warning not in logging.getLogger("mail.log").filters:  # aiosmtpd's logger
    logging.getLogger("mail.log").addFilter(_not_login_data_warning)


class SmtpDoor:
    """Real SMTP into the sandbox's organizations: an inbound port (WorkMail's MX) and an optional submission port.

    ``port=0`` (or ``submission_port=0``) picks a free port: read :attr:`port` after
    :meth:`start`. ``max_message_bytes`` (advertised as ``SIZE``) is at most the kit's
    :data:`~workmail_sandbox.mail.parsing.MAX_MESSAGE_BYTES`. :attr:`transactions` keeps the
    last ``history`` transactions; :attr:`stats` counts connections, transactions, refusals.
    """

    def __init__(
        self,
        sandbox: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 2525,
        submission_port: int | None = None,
        allow_remote: bool = False,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        hostname: str = "workmail-sandbox.localhost",
        history: int = 1000,
        auth_wait: float = 5.0,
    ) -> None:
        if getattr(sandbox, "mode", None) != "sandbox":
            raise SandboxError(
                "The SMTP door serves the offline sandbox's emulated organizations, not aws mode.",
                fix="sb = workmail_sandbox.sandbox.start(); SmtpDoor(sb).start()",
            )
        host = "127.0.0.1" if host.strip().lower() == "localhost" else host.strip()
        if not (host and is_loopback(host)):
            if not allow_remote:
                raise SandboxError(
                    f"The SMTP door binds to loopback only; {host or '(all interfaces)'!r} would let other "
                    "machines in, and the sandbox has no authentication worth the name.",
                    fix="use host='127.0.0.1' (the default), or pass allow_remote=True on a network you trust",
                )
            warnings.warn(
                f"SmtpDoor listens on {host or 'every interface'}: any machine that reaches it can send mail "
                "into the sandbox, and the submission port's passwords travel in clear text (no TLS).",
                UserWarning, stacklevel=2,
            )
        for name, value in (("port", port), ("submission_port", submission_port)):
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 65535):
                raise ConfigurationError(f"{name} must be a TCP port (0-65535), got {value!r}.",
                                         fix=f"pass {name}=0 to pick a free port")
        if not isinstance(max_message_bytes, int) or not 1 <= max_message_bytes <= MAX_MESSAGE_BYTES:
            raise ConfigurationError(
                f"max_message_bytes must be 1 to {MAX_MESSAGE_BYTES:,} (the kit's message limit), "
                f"got {max_message_bytes!r}.",
                fix="leave it out for the kit's limit, or pass a smaller number",
            )
        self.sandbox = sandbox
        self.host = host
        self.max_message_bytes = max_message_bytes
        self.hostname = hostname
        self.auth_wait = auth_wait
        self._ports: dict[str, int | None] = {INBOUND_PORT: port, SUBMISSION_PORT: submission_port}
        self._passwords: dict[str, str] = {}
        self._listeners: dict[str, _Listener] = {}
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._stats_lock = threading.Lock()
        #: Counters: connections, transactions, accepted, refused recipients, failed transactions.
        self.stats: collections.Counter[str] = collections.Counter()
        #: The last ``history`` transactions (both ports), oldest first.
        self.transactions: collections.deque[SmtpTransaction] = collections.deque(maxlen=history)

    # ------------------------------------------------------------ life cycle

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return bool(self._listeners)

    @property
    def port(self) -> int:
        """The inbound port (the one the OS picked, after :meth:`start`, for ``port=0``)."""
        return self._ports[INBOUND_PORT] or 0

    @property
    def submission_port(self) -> int | None:
        """The submission port, None when it is off."""
        return self._ports[SUBMISSION_PORT]

    def start(self) -> SmtpDoor:
        """Bind the ports and serve (idempotent); returns the door."""
        if self.running:
            return self
        if not getattr(self.sandbox, "started", False):
            raise SandboxError(
                "The sandbox is not running, so the SMTP door would have no organization to deliver to.",
                fix="start the sandbox first: sb = workmail_sandbox.sandbox.start(); SmtpDoor(sb).start()",
            )
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="smtp-door")
        ident = f"workmail-sandbox SMTP door (aiosmtpd {_aiosmtpd_version})"
        common = {"server_hostname": self.hostname, "ident": ident, "data_size_limit": self.max_message_bytes,
                  "decode_data": False, "enable_SMTPUTF8": True, "auth_require_tls": False}
        try:
            for kind, handler, extra in (
                (INBOUND_PORT, _InboundHandler(self), {"auth_exclude_mechanism": ["LOGIN", "PLAIN"]}),
                (SUBMISSION_PORT, _SubmissionHandler(self), {"authenticator": self._authenticate}),
            ):
                wanted = self._ports[kind]
                if wanted is None:
                    continue
                sock = self._bind(wanted, kind)
                listener = _Listener(self, handler, sock, **common, **extra)
                try:
                    listener.start()
                except BaseException:
                    sock.close()
                    raise
                self._listeners[kind] = listener
                self._ports[kind] = sock.getsockname()[1]
        except BaseException:
            self.stop()
            raise
        return self

    def _bind(self, port: int, kind: str) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP, not socket.create_server's 0: asyncio turns Nagle off (TCP_NODELAY) only
        # for sockets that say TCP, and with Nagle on every multi-line reply (EHLO) waits ~40 ms for an ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # rebind at once after stop()
            sock.bind((self.host, port))
            sock.listen()
            return sock
        except OSError as exc:
            sock.close()
            raise SandboxError(
                f"The SMTP door cannot listen on {self.host}:{port} ({kind} port): {exc.strerror or exc}.",
                fix=f"pass another {'port' if kind == INBOUND_PORT else 'submission_port'}= (0 picks a free one), "
                "or stop what uses it",
            ) from None

    def stop(self) -> None:
        """Stop serving and free the ports (idempotent). A transaction being routed is finished first."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)  # while the loops still run: they get the answer
        listeners, self._listeners = self._listeners, {}
        for listener in listeners.values():
            listener.stop()

    def __enter__(self) -> SmtpDoor:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        if not self.running:
            return "<SmtpDoor stopped>"
        sub = f", submission {self.host}:{self.submission_port}" if self.submission_port else ""
        return f"<SmtpDoor inbound {self.host}:{self.port}{sub}: {self.stats['transactions']} transactions>"

    # ------------------------------------------------------------ passwords

    def set_password(self, address: str, password: str) -> None:
        """Give ``address`` its own submission password (instead of :data:`DEFAULT_PASSWORD`)."""
        if not isinstance(password, str) or not password:
            raise ConfigurationError("A password must be a non-empty str.", fix="door.set_password(address, 'pw')")
        self._passwords[normalize_address(address)] = password

    def password_for(self, address: str) -> str:
        """The submission password of ``address``."""
        return self._passwords.get(normalize_address(address), DEFAULT_PASSWORD)

    # ------------------------------------------------------------ the sandbox, one caller at a time

    async def _in_sandbox(self, fn: Callable[..., _T], *args: Any) -> _T:
        executor = self._executor
        try:
            if executor is None:
                raise RuntimeError("stopped")
            future = asyncio.get_running_loop().run_in_executor(executor, _locked, fn, *args)
        except RuntimeError:  # stop() has shut the worker down
            raise SandboxError("The SMTP door is stopping.", fix="connect again once it has been started") from None
        return await future

    async def _look_up(self, address: str) -> tuple[Organization | None, str | None]:
        """:meth:`_organization_of`: on the loop when the lock is free (it is quick), else in a worker."""
        if SANDBOX_LOCK.acquire(blocking=False):
            try:
                return self._organization_of(address)
            finally:
                SANDBOX_LOCK.release()
        return await self._in_sandbox(self._organization_of, address)

    def _organization_of(self, address: str) -> tuple[Organization | None, str | None]:
        """(the organization owning the address's domain, what the address is there); with the lock held."""
        org = Organization.for_domain(self.sandbox, address.rpartition("@")[2])
        if org is None:
            return None, None
        return org, org.recipient_kind(address)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """aiosmtpd's authenticator (runs on the loop): the password, then the user look-up under the lock."""
        refused = AuthResult(success=False, handled=False)
        if not isinstance(auth_data, LoginPassword):
            return refused
        try:
            address = normalize_address(auth_data.login.decode("utf-8", "replace"))
        except MessageParseError:
            self._count("failed_logins")
            return refused
        password = auth_data.password.decode("utf-8", "replace")
        if not hmac.compare_digest(password.encode(), self.password_for(address).encode()):
            self._count("failed_logins")
            return refused
        if not SANDBOX_LOCK.acquire(timeout=self.auth_wait):
            busy = "454 4.7.0 Temporary authentication failure: the sandbox is busy routing a message; try again"
            return AuthResult(success=False, handled=False, message=busy)
        try:
            _, kind = self._organization_of(address)
        except Exception as exc:  # noqa: BLE001 - a failed look-up is a temporary failure, never a crash
            return AuthResult(success=False, handled=False, message=_reply("454 4.7.0", _problem(exc)))
        finally:
            SANDBOX_LOCK.release()
        if kind != "user":
            self._count("failed_logins")
            return refused
        return AuthResult(success=True, auth_data=_LoginData(address))

    # ------------------------------------------------------------ statistics

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    async def _route(self, port: str, session: Session, envelope: Envelope,
                     work: Callable[[], tuple[Organization | None, Any]]) -> str:
        """Run ``work`` (look-up and routing) in the sandbox; the DATA reply: 250 with the trace id, or why not."""
        org: Organization | None = None
        result: FlowResult | None = None
        try:
            org, routed = await self._in_sandbox(work)
            result, reply = routed, f"250 2.0.0 Ok: queued as {routed.trace_id}"
        except MessageParseError as exc:
            reply = _reply("554 5.6.0", f"Message cannot be read: {exc.problem}")
        except Exception as exc:  # noqa: BLE001 - any failure inside the kit is a temporary SMTP failure
            if not isinstance(exc, WorkMailSandboxError):
                _log.exception("SMTP door: routing failed")
            reply = _reply("451 4.3.0", f"Routing failed in the sandbox: {_problem(exc)}")
        self._count("transactions")
        self._count("accepted" if result is not None else "failed")
        peer = session.peer
        self.transactions.append(
            SmtpTransaction(
                port=port,
                peer=":".join(map(str, peer[:2])) if isinstance(peer, tuple) else str(peer),
                mail_from=str(envelope.mail_from),
                recipients=tuple(envelope.rcpt_tos),
                organization_id=org.id if org is not None else None,
                reply=reply,
                result=result,
                at=_dt.datetime.now(_dt.UTC),
            )
        )
        return reply


def _locked(fn: Callable[..., _T], *args: Any) -> _T:
    with SANDBOX_LOCK:
        return fn(*args)


def _problem(exc: Exception) -> str:
    return exc.problem if isinstance(exc, WorkMailSandboxError) else f"{type(exc).__name__}: {exc}"


class _Handler:
    """What both ports share: MAIL FROM and RCPT TO read as the kit reads addresses."""

    def __init__(self, door: SmtpDoor) -> None:
        self.door = door

    def _accept_mail(self, envelope: Envelope, address: str, mail_options: list[str]) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    def _accept_rcpt(self, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    def _refuse_rcpt(self, code: str, text: str) -> str:
        self.door._count("refused_recipients")
        return _reply(code, text)

    @staticmethod
    def _envelope(envelope: Envelope, mail_from: str | None) -> SmtpEnvelope:
        return SmtpEnvelope(mail_from=mail_from, recipients=tuple(normalize_address(r) for r in envelope.rcpt_tos))


class _InboundHandler(_Handler):
    """The inbound port: mail from the internet to the organizations' recipients."""

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """aiosmtpd's EHLO lines without ``AUTH``: an MX offers none (AUTH then answers 504)."""
        session.host_name = hostname
        return [r for r in responses if not r[4:].upper().startswith("AUTH")]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if address != "<>":
            try:
                normalize_address(address)
            except MessageParseError:
                return _reply("553 5.1.7", f"<{address}>: Sender address is not local@domain")
        return self._accept_mail(envelope, address, mail_options)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            org, kind = await self.door._look_up(normalize_address(address))
        except MessageParseError:
            return self._refuse_rcpt("553 5.1.3", f"<{address}>: Recipient address is not local@domain")
        except Exception as exc:  # noqa: BLE001 - a failed look-up is a temporary failure, never a crash
            if not isinstance(exc, WorkMailSandboxError):
                _log.exception("SMTP door: recipient look-up failed")
            return _reply("451 4.3.0", f"<{address}>: {_problem(exc)}")
        assert isinstance(envelope, _DoorEnvelope)
        if org is None:
            return await self._ses_rcpt(envelope, address, rcpt_options)
        if kind is None:
            unknown = f"<{address}>: Recipient address rejected: User unknown in WorkMail organization {org.alias}"
            return self._refuse_rcpt("550 5.1.1", unknown)
        if envelope.ses or (envelope.organization is not None and envelope.organization.id != org.id):
            return self._refuse_rcpt(
                "452 4.5.3",
                f"<{address}>: Recipient of WorkMail organization {org.alias}, this transaction is for "
                f"{envelope.organization.alias if envelope.organization else 'Amazon SES receiving'}: "
                "send it in a new transaction",
            )
        envelope.organization = org
        return self._accept_rcpt(envelope, address, rcpt_options)

    async def _ses_rcpt(self, envelope: _DoorEnvelope, address: str, rcpt_options: list[str]) -> str:
        """A recipient in no organization's domain: Amazon SES receiving's, or relaying (550 5.7.1)."""
        from .ses.receiving import ses_accepts

        try:
            accepted, why = await self.door._in_sandbox(ses_accepts, normalize_address(address), self.door.sandbox)
        except Exception as exc:  # noqa: BLE001 - a failed look-up is a temporary failure, never a crash
            return _reply("451 4.3.0", f"<{address}>: {_problem(exc)}")
        if not accepted and "verified SES domain" in why:
            return self._refuse_rcpt(
                "550 5.7.1", f"Relaying denied: <{address}> is in no domain of a WorkMail organization in this sandbox"
            )
        if not accepted:
            return self._refuse_rcpt("550 5.1.1", f"<{address}>: Recipient address rejected by Amazon SES: {why}")
        if envelope.organization is not None:
            return self._refuse_rcpt("452 4.5.3", f"<{address}>: Recipient of Amazon SES receiving, this transaction "
                                     f"is for {envelope.organization.alias}: send it in a new transaction")
        envelope.ses = True
        return self._accept_rcpt(envelope, address, rcpt_options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope, _DoorEnvelope)
        if envelope.ses:
            return await self._ses_data(session, envelope)
        assert envelope.organization is not None
        org, raw = envelope.organization, bytes(envelope.original_content or b"")
        if envelope.mail_from == "<>":  # how the flow learns the sender is null (no bounces)
            raw = b"Return-Path: <>" + (b"\r\n" if b"\r\n" in raw[:2000] else b"\n") + raw
            smtp_envelope = self._envelope(envelope, None)
        else:
            smtp_envelope = self._envelope(envelope, normalize_address(str(envelope.mail_from)))
        return await self.door._route(INBOUND_PORT, session, envelope,
                                      lambda: (org, org.receive(raw, envelope=smtp_envelope)))


    async def _ses_data(self, session: Session, envelope: _DoorEnvelope) -> str:
        """DATA for Amazon SES receiving: the active receipt rule set runs on the message (no TLS here)."""
        from .ses.receiving import SesReceiving

        raw = bytes(envelope.original_content or b"")
        sender = "" if envelope.mail_from == "<>" else normalize_address(str(envelope.mail_from))
        recipients = [normalize_address(r) for r in envelope.rcpt_tos]

        def work() -> tuple[Any, Any]:
            receiving = SesReceiving(self.door.sandbox)
            return None, receiving.receive(raw, recipients=recipients, sender=sender or None, tls=False)

        return await self.door._route(INBOUND_PORT, session, envelope, work)


class _SubmissionHandler(_Handler):
    """The submission port: an authenticated user of an organization sends mail."""

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        login = session.auth_data if session.authenticated else None
        if not isinstance(login, _LoginData):
            return "530 5.7.0 Authentication required"
        try:
            sender = normalize_address(address)
        except MessageParseError:
            sender = ""
        if sender != login.address:
            return _reply("553 5.7.1", f"<{address}>: Sender address rejected: not owned by user {login.address}")
        return self._accept_mail(envelope, address, mail_options)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            normalize_address(address)
        except MessageParseError:
            return self._refuse_rcpt("553 5.1.3", f"<{address}>: Recipient address is not local@domain")
        return self._accept_rcpt(envelope, address, rcpt_options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        login = session.auth_data
        assert isinstance(login, _LoginData)
        raw, smtp_envelope = bytes(envelope.original_content or b""), self._envelope(envelope, login.address)

        def send() -> tuple[Organization, FlowResult]:
            org = Organization.for_domain(self.door.sandbox, login.address.rpartition("@")[2])
            if org is None:
                raise SandboxError(f"{login.address}'s organization is gone.", fix="log in again as a current user")
            return org, org.send(raw, envelope=smtp_envelope)

        return await self.door._route(SUBMISSION_PORT, session, envelope, send)
