"""An emulated WorkMail organization that routes mail through its email flow rules and Run Lambda functions.

One concept: the organization as its users see it (directory, rules, mailboxes, the
registry that lets mail arriving another way find the same object); the routing
itself is in :mod:`workmail_sandbox.flow`.

::

    from workmail_sandbox import sandbox
    from workmail_sandbox.organization import Organization

    sb = sandbox.start()
    org = Organization.create(sb, "example-corp", domains=["example.com"],
                              users=["alice@example.com", "bob@example.com"],
                              groups={"finance@example.com": ["alice@example.com"]},
                              rules="data/rules/basic.yaml")
    result = org.receive(Path("data/emails/01-plain-inbound.eml"))
    result.to_dataframe()            # one row per recipient: outcome, action, rule, reason
    org.mailbox("alice@example.com").inbox
    org.event_log()                  # every step, as WorkMail's email event logs

The organization itself is the emulated ``workmail`` service's (created through
the real boto3 ``workmail`` client, so its id, ARN, domains, users and groups
are what ``describe_organization``, ``list_users``... return). The rules, the
mailboxes, the outbox and the event log live on this object: AWS has no API
for flow rules (docs/aws-behaviour.md §4.5) and mailbox contents are reached through IMAP/EWS
(aws-behaviour §3.1), so they are sandbox-only.

How one message is routed (:meth:`Organization.receive` / :meth:`Organization.send`)
------------------------------------------------------------------------------------

1. **Read** the headers only (``parse_message(headers_only=True)``): the
   rules and the event need nothing else. Recipients come from the SMTP
   envelope when given, else To, Cc and Bcc. Inbound, only recipients in the
   organization's domains are WorkMail's; the others are listed in
   ``FlowResult.skipped`` (the sending server delivers them itself).
2. **SES first** (inbound; aws-behaviour §4.1): with ``X-SES-Virus-Verdict: FAIL``
   the default setting blocks the message before any rule runs (see
   :class:`~workmail_sandbox.flow.FlowSettings` ``virus_verdict``).
3. **Rules per recipient** (email-flows.md; aws-behaviour §4.4):
   :meth:`RuleSet.evaluate_recipients`, the ``Sender`` header tried before
   ``From`` inbound, recipient and (Sender or From) outbound; the rule set's
   precedence settings decide which rules win and which Run Lambda rules run.
4. **Run Lambda** (lambda.md; aws-behaviour §2.1-§2.5): one invocation per rule per
   SMTP conversation, with an event built by ``events_from_message`` for the
   recipients the rule covers in that conversation. Each conversation's copy
   is first put in transit (``sandbox.put_message_in_transit``) so the
   function can Get and Put its content; the event's ``messageId`` is that
   copy's id. Before each attempt WorkMail's permission check runs
   (``Runtime.check_workmail_permission``: same Region and account, a
   resource policy for ``workmail.<region>.amazonaws.com`` with this
   organization's ARN); a denied check is a failed attempt. (The answer is
   remembered per function and resource-policy revision, so a changed
   policy is checked again at once.)

   * **Synchronous**: the function is called with WorkMail's 15-second limit
     and the response is validated and resolved per recipient
     (``resolve_response`` with the rule's fallback and the organization's
     domains): BOUNCE with ``bounceMessage``, DROP, DEFAULT, MOVE_TO_JUNK,
     BYPASS_SPAM_CHECK, added recipients delivered as BCC, the fallback for
     recipients left out and for actions past the tenth. A failure (function
     error, invalid response, over 15 s, no permission) is retried **with the
     same invocationId** on the :class:`~workmail_sandbox.flow.RetryPolicy`
     schedule, on the sandbox's simulated clock, until the rule timeout;
     then the fallback applies to every recipient. Rule timeout 0: no retry,
     fallback at once. A function that cannot be run at all (its event cannot
     be built) gets the fallback at once.
   * **Asynchronous**: called while the message is delivered, after the
     delivery decisions; its result is ignored and it never changes delivery
     (a PutRawMessageContent it makes has no effect; the Message Flow
     emulator records why).
5. **Deliver** each recipient once, with the content the mailbox receives:
   the copy in transit's effective content (the last PutRawMessageContent
   made during a synchronous invocation), else the original; ``Bcc`` is
   stripped. Inbound: DEFAULT goes to the junk folder when
   ``X-SES-Spam-Verdict`` is FAIL, else to the inbox; MOVE_TO_JUNK to junk;
   BYPASS_SPAM_CHECK to the inbox even for spam; DROP nowhere; BOUNCE back
   to the sender. Outbound: DEFAULT is sent (an internal recipient's mailbox
   receives it, no inbound rules or spam check applied: *choice*), DROP,
   BOUNCE, ROUTE_TO_SMTP_GATEWAY sent via the gateway (recorded in
   :attr:`Organization.outbox`). A group's mail goes to each member's
   mailbox; an address of the organization's domains with no user or group
   is bounced (550 5.1.1) unless ``unknown_recipients="create-mailbox"``.
6. **Bounce messages**: one non-delivery report per distinct
   ``bounceMessage`` (and reason), with that text, to the envelope sender (envelope MAIL
   FROM, else Return-Path, else From, else Sender); a null sender (``<>``)
   gets none. An internal sender finds it in its inbox; an external one in
   the outbox.
7. **Finish**: the copies in transit are marked delivered
   (``finish_transit``); every step went to the event log (CloudWatch Logs
   and :meth:`Organization.event_log`).

**Nothing is lost**: every recipient ends in exactly one of ``inbox``,
``junk``, ``dropped``, ``bounced``, ``sent``, ``failed`` (with a reason);
:meth:`FlowResult.check` runs on every result.

More documented choices (AWS is silent)
---------------------------------------

* Several Run Lambda rules for one recipient follow the rule set's
  ``lambda_rules`` setting; when several synchronous ones run, the first in
  precedence order decides (``Evaluation.synchronous_rule``), the others run
  and are logged but their responses do not change delivery.
* A recipient a function adds that is already a recipient of the message
  keeps its own decision.
* The event lists the recipients of the conversation the rule covers (for a
  rule that loses some recipients to a more specific rule, fewer than the
  conversation's).
* The simulated clock moves only for retries (their delays, and to the end
  of the rule timeout before a fallback); how long a function really ran is
  reported in wall-clock milliseconds, not added to the clock.
* Mailboxes, outbox and event log belong to this Python object: attaching a
  second :class:`Organization` to the same id starts with empty mailboxes,
  and ``sandbox.snapshot()`` does not include them.
* Each object registers itself as *the* object of its id (the most recent wins; :meth:`Organization.for_domain`),
  so mail coming in another way (:mod:`workmail_sandbox.smtp_door`) uses its rules and mailboxes; an entry lapses
  when the sandbox stops or is reset (a fresh clock; ``restore()`` keeps it) or the organization is deleted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from .emulators import _core
from .errors import ConfigurationError, SandboxError
from .events import INBOUND, OUTBOUND, SmtpEnvelope
from .flow import (
    OUTCOMES,
    EventLog,
    FlowResult,
    FlowSettings,
    Mailbox,
    Plan,
    RetryPolicy,
)
from .flow import engine as _engine
from .flow.mailboxes import Outbox
from .replay import replay
from .rules import Evaluation, RuleSet
from .workmail_service import service_principal

__all__ = [
    "OUTCOMES",
    "FlowResult",
    "FlowSettings",
    "Mailbox",
    "Organization",
    "Plan",
    "RetryPolicy",
]

#: The password the sandbox gives the users it creates (WorkMail needs one; it is not stored).
SANDBOX_PASSWORD = "Sandbox-Passw0rd!"
#: Organization id -> (the most recent Organization object for it, the sandbox clock it was made under).
_REGISTRY: dict[str, tuple[Organization, object]] = {}
_REGISTRY_LOCK = threading.Lock()


class Organization:
    """An emulated WorkMail organization with mailboxes, email flow rules and an event log.

    Make one with :meth:`create` (a new organization, through the real boto3
    ``workmail`` client in the sandbox) or :meth:`attach` (an existing id, for
    example the pytest fixture ``workmail_org``'s). ``rules`` is a
    :class:`~workmail_sandbox.rules.RuleSet`, the path of a rule file
    (``data/rules/*.yaml``) or its dict; ``settings`` a
    :class:`~workmail_sandbox.flow.FlowSettings`.
    """

    def __init__(
        self,
        sandbox: Any,
        organization_id: str,
        *,
        rules: RuleSet | str | PathLike | Mapping | None = None,
        settings: FlowSettings | None = None,
    ) -> None:
        if getattr(sandbox, "mode", None) != "sandbox" or not getattr(sandbox, "started", False):
            raise SandboxError(
                "An emulated organization needs the running sandbox.",
                fix="sb = workmail_sandbox.sandbox.start(); Organization.create(sb, ...)",
            )
        self.sandbox = sandbox
        described = sandbox.client("workmail").describe_organization(OrganizationId=organization_id)
        if described.get("State") != "Active":
            raise SandboxError(
                f"Organization {organization_id} is {described.get('State')}, not Active.",
                fix="create a new organization with Organization.create(sandbox, alias)",
            )
        self.id: str = organization_id
        self.arn: str = described["ARN"]
        self.alias: str = described["Alias"]
        self.region: str = sandbox.region
        self.account_id: str = sandbox.account_id
        self.settings = settings or FlowSettings()
        self.rules = rules
        self._mailboxes: dict[str, Mailbox] = {}
        #: Mail that left the organization (sent to the internet or an SMTP gateway, and bounces).
        self.outbox: Outbox = Outbox()
        self._keep_mail = True
        #: WorkMail's permission decisions by (function ARN, policy RevisionId, policy statements).
        self._permission_cache: dict[tuple[str, str, str], tuple[bool, str]] = {}
        #: The email event log (in memory and in CloudWatch Logs).
        self.log = EventLog(account_id=self.account_id, region=self.region, log_group=lambda: self.log_group)
        with _REGISTRY_LOCK:
            _REGISTRY[organization_id] = (self, _core.STATE.clock)

    # ------------------------------------------------------------- creating

    @classmethod
    def create(
        cls,
        sandbox: Any,
        alias: str,
        *,
        domains: Iterable[str] = (),
        users: Iterable[str] | Mapping[str, str] = (),
        groups: Mapping[str, Iterable[str]] | None = None,
        rules: RuleSet | str | PathLike | Mapping | None = None,
        settings: FlowSettings | None = None,
    ) -> Organization:
        """Create an organization through the boto3 ``workmail`` API, with its domains, users and groups.

        ``domains``: mail domains to register; the first becomes the default
        (the test domain ``<alias>.awsapps.com`` exists anyway). ``users``:
        addresses (``"alice@example.com"``), or names (``"alice"``, given the
        default domain), or a mapping address -> display name. ``groups``:
        group address (or name) -> member addresses or names (users or groups
        created here). Each user and group is registered to WorkMail (enabled,
        with that address).
        """
        client = sandbox.client("workmail")
        org_id = client.create_organization(Alias=alias)["OrganizationId"]
        domains = [d.strip().lower() for d in ([domains] if isinstance(domains, str) else domains)]
        for domain in domains:
            client.register_mail_domain(OrganizationId=org_id, DomainName=domain)
        if domains:
            client.update_default_mail_domain(OrganizationId=org_id, DomainName=domains[0])
        default = domains[0] if domains else f"{alias.lower()}.awsapps.com"
        known = {*domains, f"{alias.lower()}.awsapps.com"}
        ids: dict[str, str] = {}
        names: set[str] = set()

        def address_of(ref: str) -> str:
            ref = ref.strip()
            return ref.lower() if "@" in ref else f"{ref.lower()}@{default}"

        def free_name(address: str) -> str:
            local = address.partition("@")[0]
            name, n = local, 1
            while name.lower() in names:
                n += 1
                name = f"{local}-{n}"
            names.add(name.lower())
            return name

        def check_domain(address: str) -> None:
            domain = address.rpartition("@")[2]
            if domain not in known:
                raise ConfigurationError(
                    f"{address} is not in one of the organization's domains ({', '.join(sorted(known))}).",
                    fix=f"add {domain!r} to domains=[...], or use an address of those domains",
                )

        user_items = users.items() if isinstance(users, Mapping) else ((u, None) for u in users)
        for ref, display in user_items:
            address = address_of(ref)
            check_domain(address)
            name = free_name(address)
            user_id = client.create_user(
                OrganizationId=org_id,
                Name=name,
                DisplayName=display or name.replace(".", " ").title(),
                Password=SANDBOX_PASSWORD,
            )["UserId"]
            client.register_to_work_mail(OrganizationId=org_id, EntityId=user_id, Email=address)
            ids[address] = user_id
        for ref in (groups or {}):
            address = address_of(ref)
            check_domain(address)
            group_id = client.create_group(OrganizationId=org_id, Name=free_name(address))["GroupId"]
            client.register_to_work_mail(OrganizationId=org_id, EntityId=group_id, Email=address)
            ids[address] = group_id
        for ref, members in (groups or {}).items():
            group_id = ids[address_of(ref)]
            for member in [members] if isinstance(members, str) else members:
                member_address = address_of(member)
                if member_address not in ids:
                    raise ConfigurationError(
                        f"Group {ref!r}: member {member!r} is not a user or group created here.",
                        fix="list it in users=[...] (or groups={...}) as well",
                    )
                client.associate_member_to_group(
                    OrganizationId=org_id, GroupId=group_id, MemberId=ids[member_address]
                )
        return cls(sandbox, org_id, rules=rules, settings=settings)

    @classmethod
    def attach(
        cls,
        sandbox: Any,
        organization_id: str,
        *,
        rules: RuleSet | str | PathLike | Mapping | None = None,
        settings: FlowSettings | None = None,
    ) -> Organization:
        """Route mail through an organization that already exists in the sandbox (by its id)."""
        return cls(sandbox, organization_id, rules=rules, settings=settings)

    @classmethod
    def registered(cls, sandbox: Any) -> dict[str, Organization]:
        """The live registered objects of ``sandbox`` by id (a stopped or reset sandbox's are dropped)."""
        with _REGISTRY_LOCK:
            for org_id, (org, clock) in list(_REGISTRY.items()):
                live = org.sandbox.started and clock is _core.STATE.clock
                if not live or getattr(org._workmail().organizations.get(org_id), "state", None) != "Active":
                    del _REGISTRY[org_id]
            return {org_id: org for org_id, (org, _) in _REGISTRY.items() if org.sandbox is sandbox}

    @classmethod
    def for_domain(cls, sandbox: Any, domain: str) -> Organization | None:
        """The registered object of the organization owning mail domain ``domain`` (attached if none yet), or None.

        Asks the workmail emulator (``list_organizations``, ``list_mail_domains``); a domain has one owner at most.
        """
        wanted, live = domain.strip().lower().rstrip("."), cls.registered(sandbox)
        for org in live.values():
            if wanted in org.domain_set:
                return org
        client = sandbox.client("workmail")
        for page in client.get_paginator("list_organizations").paginate():
            for summary in page.get("OrganizationSummaries", []):
                query: dict[str, Any] = {"OrganizationId": summary["OrganizationId"]}
                while summary.get("State") == "Active" and query["OrganizationId"] not in live:  # no paginator
                    answer = client.list_mail_domains(**query)
                    if any(d["DomainName"].lower() == wanted for d in answer.get("MailDomains", [])):
                        return cls.attach(sandbox, query["OrganizationId"])
                    if not answer.get("NextToken"):
                        break
                    query["NextToken"] = answer["NextToken"]
        return None

    @property
    def account(self) -> str:
        """The AWS account id (same as ``account_id``)."""
        return self.account_id

    # --------------------------------------------------------- the directory

    def _workmail(self) -> Any:
        return _core.registered_services()["workmail"].backend(self.account_id, self.region)

    def _messageflow(self) -> Any:
        return _core.registered_services()["workmailmessageflow"].backend(self.account_id, self.region)

    @property
    def domains(self) -> list[str]:
        """The organization's mail domains, lower case, the test domain first (read live)."""
        return self._workmail().organization_domains(self.id)

    @property
    def domain_set(self) -> set[str]:
        """The mail domains as a set (what "in the organization" means)."""
        return set(self._workmail()._helper_organization(self.id).domains)

    @property
    def default_domain(self) -> str:
        """The default mail domain (bounces come from ``MAILER-DAEMON@`` it)."""
        org = self._workmail()._helper_organization(self.id)
        return org.default_domain or org.test_domain

    @property
    def users(self) -> list[str]:
        """Addresses of the enabled users, in creation order."""
        org = self._workmail()._helper_organization(self.id)
        return [e.email.lower() for e in org.entities.values() if e.is_user and e.email]

    @property
    def groups(self) -> dict[str, list[str]]:
        """Group address -> the addresses its mail reaches (members of nested groups included)."""
        backend = self._workmail()
        org = backend._helper_organization(self.id)
        return {
            e.email.lower(): [m.lower() for m in backend.group_member_emails(self.id, e.id)]
            for e in org.entities.values()
            if e.is_group and e.email
        }

    def _mailbox_targets(self, address: str, *, create: bool) -> tuple[str, list[str]] | None:
        """Where mail for ``address`` (of the organization's domains) goes: (kind, mailbox addresses) or None."""
        backend = self._workmail()
        entity = backend.find_entity_by_email(self.id, address)
        if entity is not None:
            if entity.is_group:
                return "group", [m.lower() for m in backend.group_member_emails(self.id, entity.id)]
            return "user", [address]
        existing = self._mailboxes.get(address)
        if existing is not None and existing.created_on_delivery:
            return "created", [address]
        if create:
            self._mailboxes[address] = Mailbox(address, created_on_delivery=True, keep=self._keep_mail)
            return "created", [address]
        return None

    def recipient_kind(self, address: str) -> str | None:
        """What delivery finds for ``address`` (of the domains): ``"user"``, ``"group"``, ``"created"`` (a mailbox
        made on delivery: ``unknown_recipients="create-mailbox"``) or None (it would bounce, 550 5.1.1)."""
        targets = self._mailbox_targets(address.strip().lower(), create=False)
        if targets is not None:
            return targets[0]
        return "created" if self.settings.unknown_recipients == "create-mailbox" else None

    # ------------------------------------------------------------- mailboxes

    def mailbox(self, address: str, *, create: bool = False) -> Mailbox:
        """The mailbox of a user (``inbox`` and ``junk``); made on first use."""
        key = address.strip().lower()
        box = self._mailboxes.get(key)
        if box is not None:
            return box
        entity = self._workmail().find_entity_by_email(self.id, key)
        if entity is not None and entity.is_group:
            raise SandboxError(
                f"{key} is a group: groups have no mailbox, their mail goes to the members' mailboxes.",
                fix=f"look in the members' mailboxes: {', '.join(self.groups.get(key, [])) or '(no members)'}",
            )
        if entity is None and not create:
            raise SandboxError(
                f"{key} is not a user of organization {self.alias}.",
                fix=f"use one of {', '.join(self.users) or '(no users yet)'}, or create the user first",
            )
        box = self._mailboxes[key] = Mailbox(key, entity.name if entity is not None else "", keep=self._keep_mail)
        return box

    @property
    def mailboxes(self) -> dict[str, Mailbox]:
        """Every user's mailbox (and mailboxes made on delivery), by address."""
        for address in self.users:
            self.mailbox(address)
        return dict(self._mailboxes)

    @property
    def keep_mail(self) -> bool:
        """Whether delivered copies are kept in the mailboxes and the outbox (True, the default).

        False: routing records no copy (the FlowResult and the event log still say where each
        went), so memory does not grow with the mail routed; replay workers set it (nobody reads
        their mailboxes). Copies kept earlier stay.
        """
        return self._keep_mail

    @keep_mail.setter
    def keep_mail(self, value: bool) -> None:
        self._keep_mail = self.outbox.keep = bool(value)
        for box in self._mailboxes.values():
            box.keep = self._keep_mail

    def clear_mail(self) -> None:
        """Empty every mailbox, the outbox and the in-memory event log (rules and users stay)."""
        for box in self._mailboxes.values():
            box.clear()
        self.outbox.clear()
        self.log.clear()

    def mail(self):
        """Every message in the mailboxes and the outbox as a DataFrame (one row per copy)."""
        import pandas as pd

        rows = []
        for box in self._mailboxes.values():
            for item in [*box.inbox, *box.junk]:
                rows.append(
                    {"where": box.address, "folder": item.folder, "kind": item.kind, "subject": item.subject,
                     "from": item.mail_from, "bcc": item.bcc, "time": item.received_at, "traceId": item.trace_id}
                )
        for sent in self.outbox:
            rows.append(
                {"where": sent.recipient, "folder": f"sent ({sent.via})", "kind": sent.kind, "subject": sent.subject,
                 "from": sent.mail_from, "bcc": sent.bcc, "time": sent.sent_at, "traceId": sent.trace_id}
            )
        return pd.DataFrame(rows, columns=["where", "folder", "kind", "subject", "from", "bcc", "time", "traceId"])

    # ------------------------------------------------------------------ rules

    @property
    def rules(self) -> RuleSet:
        """The organization's email flow rules (set a RuleSet, a rule file's path or its dict)."""
        return self._rules

    @rules.setter
    def rules(self, value: RuleSet | str | PathLike | Mapping | None) -> None:
        if value is None:
            self._rules = RuleSet()
        elif isinstance(value, RuleSet):
            self._rules = value
        elif isinstance(value, (str, PathLike)):
            self._rules = RuleSet.from_file(value)
        elif isinstance(value, Mapping):
            self._rules = RuleSet.from_dict(value)
        else:
            raise ConfigurationError(
                f"rules must be a RuleSet, a rule file path or a dict, not {type(value).__name__}.",
                fix="pass RuleSet([...]) or 'data/rules/basic.yaml'",
            )

    def load_rules(self, path: str | PathLike) -> RuleSet:
        """Replace the rules with a rule file's (``.yaml``/``.json``); returns them."""
        self.rules = Path(path)
        return self._rules

    def test_configuration(self, sender: str, recipient: str, direction: str = "inbound") -> Evaluation:
        """The console's Test configuration box (``evaluation.explain()`` says why)."""
        return self._rules.test_configuration(sender, recipient, direction)

    def grant_invoke(self, function: str, *, statement_id: str = "AllowWorkMail") -> dict[str, Any]:
        """Let this organization invoke ``function``: the ``lambda add-permission`` call of lambda.md.

        The same call as ``boto3.client("lambda").add_permission(FunctionName=..., StatementId=...,
        Action="lambda:InvokeFunction", Principal="workmail.<region>.amazonaws.com", SourceArn=<org ARN>)``.
        """

        return self.sandbox.client("lambda").add_permission(
            FunctionName=function,
            StatementId=statement_id,
            Action="lambda:InvokeFunction",
            Principal=service_principal(self.region),
            SourceArn=self.arn,
        )

    # ---------------------------------------------------------------- routing

    def plan(
        self,
        message: Any,
        *,
        direction: str = "inbound",
        envelope: SmtpEnvelope | None = None,
        conversations: Any = "single",
    ) -> Plan:
        """A dry run: the rules per recipient and the events the functions would get. Nothing runs."""
        return _engine.plan(
            self, message, direction=_direction(direction), envelope=envelope, conversations=conversations
        )

    def receive(
        self, message: Any, envelope: SmtpEnvelope | None = None, *, conversations: Any = "single"
    ) -> FlowResult:
        """Route an inbound message (from outside) to the organization's recipients.

        ``message``: bytes, a path, an ``email`` Message or a ParsedMessage.
        ``envelope``: the SMTP envelope (MAIL FROM, RCPT TO), when it differs
        from the headers. ``conversations``: ``"single"`` (the default: one SMTP
        conversation), ``"per-domain"`` or a list of recipient lists; each
        conversation is a message in transit of its own with its own events.
        """
        return _engine.route(self, message, direction=INBOUND, envelope=envelope, conversations=conversations)

    def send(
        self, message: Any, envelope: SmtpEnvelope | None = None, *, conversations: Any = "single"
    ) -> FlowResult:
        """Route an outbound message (a user of the organization sending) to all its recipients."""
        return _engine.route(self, message, direction=OUTBOUND, envelope=envelope, conversations=conversations)

    def route(
        self,
        message: Any,
        *,
        direction: str,
        envelope: SmtpEnvelope | None = None,
        conversations: Any = "single",
    ) -> FlowResult:
        """:meth:`receive` (``direction="inbound"``) or :meth:`send` (``"outbound"``).

        ``direction="auto"``: outbound when the From (else Sender) address is in
        one of the organization's domains, else inbound (what replay uses).
        """
        return _engine.route(
            self, message, direction=_direction(direction), envelope=envelope, conversations=conversations
        )

    def replay(self, source: str | PathLike, *, progress: bool = True, direction: str = "auto", **kwargs: Any):
        """Route a whole corpus (a folder of .eml files, an mbox or a Maildir); one DataFrame row per recipient.

        See :func:`workmail_sandbox.replay.replay` for the columns and options.
        """
        return replay(self, source, progress=progress, direction=direction, **kwargs)

    # ------------------------------------------------------------- event log

    @property
    def log_group(self) -> str:
        """Where the email event log goes: the monitoring configuration's group, else ``/aws/workmail/<alias>``."""
        configured = self._workmail().monitoring_log_group(self.id)
        return configured or f"/aws/workmail/{self.alias}"

    def event_log(self, trace_id: str | None = None):
        """The email event log as a DataFrame (one row per event), optionally for one message."""
        return self.log.to_dataframe(trace_id)

    def __repr__(self) -> str:
        return (
            f"<Organization {self.alias} {self.id} {self.region}: {len(self._rules.inbound)} inbound and "
            f"{len(self._rules.outbound)} outbound rules>"
        )


def _direction(direction: str) -> str:
    value = str(direction).strip().upper()
    if value not in (INBOUND, OUTBOUND, "AUTO"):
        raise ConfigurationError(
            f"direction must be 'inbound', 'outbound' or 'auto', got {direction!r}.",
            fix="pass direction='inbound'; 'auto' means outbound when the From domain is the organization's",
        )
    return value
