"""The sandbox's own controls over HTTP, under ``/workmail-sandbox-api/`` on the local endpoint.

AWS has no API for these (resetting the sandbox, moving its clock, setting an
organization's email flow rules, reading its mailboxes), so they are not AWS
operations: plain JSON over HTTP, in the manner of moto's ``/moto-api/``.
:class:`~workmail_sandbox.endpoint.client.SandboxClient` calls every route from
Python; ``curl`` does from a shell::

    curl -s -X POST http://127.0.0.1:5055/workmail-sandbox-api/organizations/example
    curl -s -X PUT --data-binary @data/rules/basic.yaml \\
        http://127.0.0.1:5055/workmail-sandbox-api/organizations/m-.../rules

Every answer is JSON (a message's bytes excepted); every error is one line,
``{"error": "...", "fix": "..."}``, with status 400 (a bad request: JSON, a
rule file, a parameter), 404 (no such route, organization, mailbox, snapshot or
message), 405 (a known path, another method), 409 (the sandbox's state does not
allow it: a name taken, too many snapshots), 413 (a body over the route's
limit) or 500 (a bug in the kit). ``GET /workmail-sandbox-api/`` lists the
routes (:data:`ROUTES`).

Organizations are the objects :meth:`Organization.registered
<workmail_sandbox.organization.Organization.registered>` returns, the ones the
SMTP door routes mail through: rules set here apply to mail sent to the door,
and mail from the door lands in the mailboxes read here. The API holds a
reference to each one it used until the sandbox is reset.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..errors import ConfigurationError, EventError, MessageParseError, RuleError, SandboxError
from ..events import SmtpEnvelope
from ..events.serialization import JSONLimitError, load_json
from ..mail import MAX_MESSAGE_BYTES
from ..organization import Organization
from ..rules import RuleSet
from ..rules.files import MAX_RULE_FILE_BYTES, _parse_json, _parse_yaml

__all__ = ["MAX_JSON_BODY_BYTES", "MAX_SNAPSHOTS", "ROUTES", "ControlAPI", "Route"]

#: Largest JSON body a control takes (they are a few keys; an organization with many users stays far below).
MAX_JSON_BODY_BYTES = 64 * 1024
#: Named snapshots kept at once: each holds a copy of the whole sandbox in memory.
MAX_SNAPSHOTS = 16
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CLOCK_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
_MAX_ADVANCE = _dt.timedelta(days=3660)

Answer = tuple[int, Any]


class _Refused(Exception):
    """A control that cannot be done: the status and the one-line error with its fix (and any extra keys)."""

    def __init__(self, status: int, error: str, fix: str, **extra: Any) -> None:
        super().__init__(error)
        self.status, self.error, self.fix, self.extra = status, error, fix, extra

    def answer(self) -> dict[str, Any]:
        return {"error": self.error, "fix": self.fix, **self.extra}


@dataclass(frozen=True)
class Route:
    """One control: ``method`` and ``pattern`` (``<name>`` segments are parameters), what it does."""

    method: str
    pattern: str
    handler: str
    summary: str

    def match(self, segments: list[str]) -> dict[str, str] | None:
        parts = self.pattern.split("/") if self.pattern else []
        if len(parts) != len(segments):
            return None
        found: dict[str, str] = {}
        for part, segment in zip(parts, segments):
            if part.startswith("<"):
                if not segment:
                    return None
                found[part[1:-1]] = segment
            elif part != segment:
                return None
        return found

    def __str__(self) -> str:
        return f"{self.method} /{self.pattern}"


_ORG = "organizations/<organization>"
#: Every control, in the order docs/endpoint.md lists them.
ROUTES: tuple[Route, ...] = (
    Route("GET", "", "_index", "this list of routes"),
    Route("GET", "health", "_health", "is the sandbox running; its Region and account"),
    Route("POST", "reset", "_reset", "back to an empty sandbox (named snapshots are kept)"),
    Route("GET", "snapshots", "_snapshots", "the named snapshots"),
    Route("POST", "snapshots", "_snapshot", 'keep a named snapshot of the whole sandbox: {"name": "..."}'),
    Route("POST", "snapshots/<name>/restore", "_restore", "return the sandbox to a named snapshot"),
    Route("DELETE", "snapshots/<name>", "_delete_snapshot", "forget a named snapshot (frees its memory)"),
    Route("GET", "clock", "_clock", "the simulated clock's time"),
    Route("POST", "clock/advance", "_advance", 'move the clock forward: {"hours": 25} (weeks, days, minutes, seconds)'),
    Route("GET", "organizations", "_organizations", "every organization: id, alias, state, domains"),
    Route("POST", "organizations", "_create_organization",
          'create one: {"alias": ..., "domains": [...], "users": [...], "groups": {address: [members]}}'),
    Route("POST", "organizations/example", "_create_example", "the lessons' example organization (example.com)"),
    Route("GET", _ORG, "_organization", "one organization: ARN, domains, users, groups, rule counts"),
    Route("PUT", f"{_ORG}/rules", "_put_rules", "replace the email flow rules with a rule file's text (YAML or JSON)"),
    Route("GET", f"{_ORG}/rules", "_get_rules", "the email flow rules, as a rule file (JSON)"),
    Route("POST", f"{_ORG}/messages", "_route_message",
          "route a raw message (?direction=inbound|outbound|auto, &mail_from=, &recipient=...); per-recipient outcome"),
    Route("GET", f"{_ORG}/mailboxes", "_mailboxes", "every mailbox: address, inbox and junk counts"),
    Route("GET", f"{_ORG}/mailboxes/<address>", "_mailbox", "a mailbox's messages: folder, subject, from, ids, time"),
    Route("GET", f"{_ORG}/mailboxes/<address>/<index>/raw", "_mailbox_raw", "one delivered message's bytes"),
    Route("GET", f"{_ORG}/outbox", "_outbox", "mail that left the organization (sent, gateway, bounces)"),
    Route("GET", f"{_ORG}/outbox/<index>/raw", "_outbox_raw", "one outbox message's bytes"),
    Route("GET", f"{_ORG}/events", "_events", "the email event log, one row per event (?trace_id=)"),
    Route("POST", "messages-in-transit", "_put_in_transit",
          "put a raw message in transit (?organization_id=, &direction=INBOUND|OUTBOUND): its messageId"),
    Route("GET", "messages-in-transit/<message_id>", "_in_transit",
          "a message in transit: its size and PutRawMessageContent history"),
    Route("GET", "messages-in-transit/<message_id>/raw", "_in_transit_raw", "the content delivery would use"),
)  # fmt: skip


class ControlAPI:
    """Answers ``(method, path, query, body)`` with ``(status, JSON-able answer or bytes)``.

    Every control but ``health`` holds the SMTP door's ``SANDBOX_LOCK`` (the
    sandbox is not thread-safe), so a control and an SMTP session never route
    mail at the same time. Named snapshots and the organizations used live as
    long as this object.
    """

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self._lock = _sandbox_lock()
        self._named: dict[str, tuple[Any, str, str]] = {}  # name -> (Snapshot, taken at, sandbox clock)
        self._kept: dict[str, Organization] = {}

    def __call__(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Answer:
        try:
            route, params = self._route(method.upper(), _segments(path))
            handler: Callable[..., Answer] = getattr(self, route.handler)
            if route.handler == "_health":
                return handler(params, query, body)
            with self._lock:
                return handler(params, query, body)
        except _Refused as refused:
            return refused.status, refused.answer()
        except (RuleError, ConfigurationError, MessageParseError, EventError, JSONLimitError) as error:
            return 400, {"error": _problem(error), "fix": error.fix or "see docs/endpoint.md"}
        except SandboxError as error:
            return 409, {"error": _problem(error), "fix": error.fix or "see docs/endpoint.md"}
        except ClientError as error:
            return _client_error(error)
        except Exception as error:  # a kit bug: still one JSON line, and the traceback in the server's log
            logging.getLogger(__name__).exception("control %s /%s failed", method, path)
            return 500, {"error": f"{type(error).__name__}: {error}",
                         "fix": "this is a bug in the kit: please report it with the request"}  # fmt: skip

    # ------------------------------------------------------------------ routing

    def _route(self, method: str, segments: list[str]) -> tuple[Route, dict[str, str]]:
        allowed = []
        for route in ROUTES:
            params = route.match(segments)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.append(route.method)
        where = "/" + "/".join(segments)
        if allowed:
            raise _Refused(405, f"{where} takes {', '.join(allowed)}, not {method}.", f"use {' or '.join(allowed)}")
        listing = [str(r) for r in ROUTES if r.pattern]
        raise _Refused(404, f"No control {method} {where}.", f"use one of: {'; '.join(listing)} (docs/endpoint.md)",
                       routes=listing)  # fmt: skip

    # ------------------------------------------------------------------ the sandbox

    def _index(self, params: dict, query: dict, body: bytes) -> Answer:
        return 200, {"routes": [{"route": str(r), "does": r.summary} for r in ROUTES]}

    def _health(self, params: dict, query: dict, body: bytes) -> Answer:
        sb = self.sandbox
        state = "running" if sb.started else "stopped"
        return 200, {"status": state, "region": sb.region, "account": sb.account_id}

    def _reset(self, params: dict, query: dict, body: bytes) -> Answer:
        self.sandbox.reset()
        self._kept.clear()
        return 200, {"reset": True, "snapshots": sorted(self._named)}

    def _snapshots(self, params: dict, query: dict, body: bytes) -> Answer:
        listing = [{"name": n, "taken_at": at, "clock": clock} for n, (_, at, clock) in self._named.items()]
        return 200, {"snapshots": listing}

    def _snapshot(self, params: dict, query: dict, body: bytes) -> Answer:
        data = _json_object(body, allowed=("name",))
        name = data.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise _Refused(400, f"A snapshot name must be 1 to 64 letters, digits, '.', '_' or '-', got {name!r}.",
                           'send {"name": "after-setup"}')  # fmt: skip
        if name in self._named:
            raise _Refused(409, f"There is already a snapshot named {name!r}.",
                           f"restore it, pick another name, or DELETE /snapshots/{name} first")  # fmt: skip
        if len(self._named) >= MAX_SNAPSHOTS:
            raise _Refused(409, f"{MAX_SNAPSHOTS} snapshots are kept already (each holds the whole sandbox).",
                           f"DELETE one of {', '.join(sorted(self._named))} first")  # fmt: skip
        snapshot = self.sandbox.snapshot()
        clock = _iso(snapshot.clock)
        self._named[name] = (snapshot, _iso(_dt.datetime.now(_dt.UTC)), clock)
        return 201, {"name": name, "clock": clock}

    def _named_snapshot(self, name: str) -> Any:
        if name not in self._named:
            known = ", ".join(sorted(self._named)) or "none yet"
            raise _Refused(404, f"No snapshot named {name!r} (known: {known}).",
                           'take one first: POST /snapshots {"name": ...}')  # fmt: skip
        return self._named[name][0]

    def _restore(self, params: dict, query: dict, body: bytes) -> Answer:
        snapshot = self._named_snapshot(params["name"])
        self.sandbox.restore(snapshot)
        live = Organization.registered(self.sandbox)
        self._kept = {org_id: org for org_id, org in self._kept.items() if org_id in live}
        return 200, {"restored": params["name"], "clock": _iso(self.sandbox.clock.now())}

    def _delete_snapshot(self, params: dict, query: dict, body: bytes) -> Answer:
        self._named_snapshot(params["name"]).release()
        del self._named[params["name"]]
        return 200, {"deleted": params["name"]}

    def _clock(self, params: dict, query: dict, body: bytes) -> Answer:
        return 200, {"now": _iso(self.sandbox.clock.now())}

    def _advance(self, params: dict, query: dict, body: bytes) -> Answer:
        data = _json_object(body, allowed=_CLOCK_UNITS)
        amounts: dict[str, float] = {}
        for unit, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise _Refused(400, f"{unit} must be a number of zero or more, got {value!r}.", 'send {"hours": 25}')
            amounts[unit] = float(value)
        if not amounts:
            units = ", ".join(_CLOCK_UNITS)
            raise _Refused(400, "Say how far to move the clock.", f'send {{"hours": 25}} (units: {units})')
        try:
            step = _dt.timedelta(**amounts)
        except OverflowError:
            step = _MAX_ADVANCE + _dt.timedelta(days=1)
        if step > _MAX_ADVANCE:
            raise _Refused(400, f"The clock moves at most {_MAX_ADVANCE.days} days at a time.", "move it in steps")
        now = self.sandbox.advance_clock(**amounts)
        return 200, {"now": _iso(now), "advanced_seconds": step.total_seconds()}

    # ------------------------------------------------------------------ organizations

    def _org(self, ref: str) -> Organization:
        """The registered object of organization ``ref`` (an id, or an alias), attached when none is."""
        live = Organization.registered(self.sandbox)
        org = live.get(ref)
        if org is None:
            summaries = self._summaries()
            match = [s for s in summaries if s["OrganizationId"] == ref] or [
                s for s in summaries if s.get("Alias", "").lower() == ref.lower() and s.get("State") == "Active"
            ]
            if not match:
                known = ", ".join(f"{s['OrganizationId']} ({s.get('Alias')})" for s in summaries) or "none yet"
                raise _Refused(404, f"No organization {ref!r} in the sandbox (known: {known}).",
                               "use an id from GET /organizations, or POST /organizations/example")  # fmt: skip
            org_id = match[0]["OrganizationId"]
            org = live.get(org_id)
            if org is None:
                if match[0].get("State") != "Active":
                    raise _Refused(409, f"Organization {ref} is {match[0].get('State')}, not Active.",
                                   "create a new organization")  # fmt: skip
                org = Organization.attach(self.sandbox, org_id)
        self._kept[org.id] = org
        return org

    def _summaries(self) -> list[dict[str, Any]]:
        client = self.sandbox.client("workmail")
        found: list[dict[str, Any]] = []
        for page in client.get_paginator("list_organizations").paginate():
            found.extend(page.get("OrganizationSummaries", []))
        return found

    def _organizations(self, params: dict, query: dict, body: bytes) -> Answer:
        client = self.sandbox.client("workmail")
        listing = []
        for summary in self._summaries():
            org_id = summary["OrganizationId"]
            domains: list[str] = []
            if summary.get("State") == "Active":
                token: dict[str, str] = {}
                while True:  # ListMailDomains has no botocore paginator
                    answer = client.list_mail_domains(OrganizationId=org_id, **token)
                    domains += [d["DomainName"] for d in answer.get("MailDomains", [])]
                    if not answer.get("NextToken"):
                        break
                    token = {"NextToken": answer["NextToken"]}
            listing.append({"id": org_id, "alias": summary.get("Alias"), "state": summary.get("State"),
                            "default_domain": summary.get("DefaultMailDomain"), "domains": domains})  # fmt: skip
        return 200, {"organizations": listing}

    def _describe(self, org: Organization) -> dict[str, Any]:
        return {
            "id": org.id, "arn": org.arn, "alias": org.alias, "region": org.region, "account": org.account_id,
            "domains": org.domains, "default_domain": org.default_domain, "users": org.users, "groups": org.groups,
            "rules": {"inbound": len(org.rules.inbound), "outbound": len(org.rules.outbound)},
            "log_group": org.log_group,
        }  # fmt: skip

    def _organization(self, params: dict, query: dict, body: bytes) -> Answer:
        return 200, self._describe(self._org(params["organization"]))

    def _create_organization(self, params: dict, query: dict, body: bytes) -> Answer:
        data = _json_object(body, allowed=("alias", "domains", "users", "groups"))
        alias = data.get("alias")
        if not isinstance(alias, str) or not alias:
            raise _Refused(400, "An organization needs an alias.", 'send {"alias": "example-corp", "domains": [...]}')
        users, groups = data.get("users", []), data.get("groups", {})
        shapes = {
            "domains": _strings(data.get("domains", [])),
            "users": _strings(users) or (isinstance(users, dict) and _strings(list(users.items()), pairs=True)),
            "groups": isinstance(groups, dict) and all(_strings(m) for m in groups.values()),
        }
        for key, ok in shapes.items():
            if not ok:
                raise _Refused(400, f"{key} has the wrong shape.", 'send {"domains": ["example.com"], '
                               '"users": ["alice"] (or {"alice": "Alice A."}), "groups": {"team": ["alice"]}}')
        org = Organization.create(self.sandbox, alias, domains=data.get("domains", ()), users=data.get("users", ()),
                                  groups=data.get("groups"))  # fmt: skip
        self._kept[org.id] = org
        return 201, self._describe(org)

    def _create_example(self, params: dict, query: dict, body: bytes) -> Answer:
        from ..lessons import ORG_ALIAS, create_example_organization

        data = _json_object(body, allowed=("alias",))
        alias = data.get("alias", ORG_ALIAS)
        if not isinstance(alias, str) or not alias:
            raise _Refused(400, f"alias must be a non-empty string, got {alias!r}.", 'send {"alias": "example-org"}')
        org_id, _, _ = create_example_organization(self.sandbox, alias)
        org = Organization.attach(self.sandbox, org_id)
        self._kept[org.id] = org
        return 201, self._describe(org)

    def _put_rules(self, params: dict, query: dict, body: bytes) -> Answer:
        org = self._org(params["organization"])
        _limit(body, MAX_RULE_FILE_BYTES, "a rule file")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _Refused(400, f"The rule file is not UTF-8 text ({error.reason} at byte {error.start}).",
                           "send the file as UTF-8") from None  # fmt: skip
        if not text.strip():
            raise _Refused(400, "The request has no rule file in its body.",
                           "send the file's text: curl -X PUT --data-binary @rules.yaml ...")  # fmt: skip
        kind = _one(query, "format") or ("json" if text.lstrip()[:1] in "{[" else "yaml")
        if kind not in ("json", "yaml"):
            raise _Refused(400, f"format must be json or yaml, got {kind!r}.",
                           "leave it out: a body starting with { or [ is JSON, any other YAML")  # fmt: skip
        source = Path(f"rules.{kind}")
        data = _parse_json(text, source) if kind == "json" else _parse_yaml(text, source)
        org.rules = RuleSet.from_dict(data, source=str(source))
        return 200, {"organization": org.id, "inbound": len(org.rules.inbound), "outbound": len(org.rules.outbound)}

    def _get_rules(self, params: dict, query: dict, body: bytes) -> Answer:
        return 200, self._org(params["organization"]).rules.to_dict()

    # ------------------------------------------------------------------ mail

    def _route_message(self, params: dict, query: dict, body: bytes) -> Answer:
        org = self._org(params["organization"])
        raw = _message(body)
        direction = _one(query, "direction") or "inbound"
        recipients = [r for value in query.get("recipient", []) for r in value.split(",") if r.strip()]
        mail_from = _one(query, "mail_from")
        envelope = SmtpEnvelope(mail_from=mail_from, recipients=recipients or None) if mail_from or recipients else None
        conversations = _one(query, "conversations") or "single"
        if conversations not in ("single", "per-domain"):
            raise _Refused(400, f"conversations must be single or per-domain, got {conversations!r}.",
                           "leave it out for one SMTP conversation")  # fmt: skip
        result = org.route(raw, direction=direction, envelope=envelope, conversations=conversations)
        return 200, {
            "organization": org.id, "trace_id": result.trace_id, "direction": result.direction,
            "subject": result.subject, "from": result.mail_from, "message_id": result.smtp_message_id,
            "workmail_message_ids": list(result.message_ids), "outcomes": result.outcomes,
            "recipients": result.to_records(), "skipped": list(result.skipped),
            "invocations": [i.to_record() for i in result.invocations],
            "bounces": [{"recipients": list(b.recipients), "to": b.to, "delivered": b.delivered, "reason": b.reason}
                        for b in result.bounces],
            "summary": result.summary(),
        }  # fmt: skip

    def _box(self, org: Organization, address: str) -> Any:
        key = address.strip().lower()
        if key not in org.mailboxes:
            known = ", ".join(org.mailboxes) or "none"
            raise _Refused(404, f"{key} has no mailbox in organization {org.alias} (mailboxes: {known}).",
                           "use a user's address; a group's mail is in its members' mailboxes")  # fmt: skip
        return org.mailboxes[key]

    def _mailboxes(self, params: dict, query: dict, body: bytes) -> Answer:
        org = self._org(params["organization"])
        boxes = [{"address": b.address, "name": b.name, "inbox": len(b.inbox), "junk": len(b.junk),
                  "created_on_delivery": b.created_on_delivery} for b in org.mailboxes.values()]  # fmt: skip
        return 200, {"organization": org.id, "mailboxes": boxes}

    def _mailbox(self, params: dict, query: dict, body: bytes) -> Answer:
        box = self._box(self._org(params["organization"]), params["address"])
        items = [_item(i, item, item.received_at) for i, item in enumerate([*box.inbox, *box.junk])]
        return 200, {"address": box.address, "inbox": len(box.inbox), "junk": len(box.junk), "items": items}

    def _mailbox_raw(self, params: dict, query: dict, body: bytes) -> Answer:
        box = self._box(self._org(params["organization"]), params["address"])
        return 200, _content([*box.inbox, *box.junk], params["index"], f"mailbox {box.address}")

    def _outbox(self, params: dict, query: dict, body: bytes) -> Answer:
        org = self._org(params["organization"])
        items = [{**_item(i, sent, sent.sent_at), "via": sent.via} for i, sent in enumerate(org.outbox)]
        return 200, {"organization": org.id, "items": items}

    def _outbox_raw(self, params: dict, query: dict, body: bytes) -> Answer:
        org = self._org(params["organization"])
        return 200, _content(org.outbox, params["index"], "the outbox")

    def _events(self, params: dict, query: dict, body: bytes) -> Answer:
        org = self._org(params["organization"])
        rows = org.log.to_records(_one(query, "trace_id"))
        for row in rows:
            row["time"] = _iso(row["time"])
        return 200, {"organization": org.id, "log_group": org.log_group, "events": rows}

    def _put_in_transit(self, params: dict, query: dict, body: bytes) -> Answer:
        ref = _one(query, "organization_id")
        if not ref:
            raise _Refused(400, "Say which organization the message is in transit for.",
                           "add ?organization_id=m-... (from GET /organizations)")  # fmt: skip
        org = self._org(ref)
        direction = (_one(query, "direction") or "INBOUND").upper()
        message_id = self.sandbox.put_message_in_transit(_message(body), organization_id=org.id, direction=direction)
        return 201, {"message_id": message_id, "organization": org.id, "direction": direction}

    def _transit(self, message_id: str, read: Callable[[str], Any]) -> Any:
        try:
            return read(message_id)
        except SandboxError as error:
            fix = error.fix or "use the message_id POST /messages-in-transit returned"
            raise _Refused(404, _problem(error), fix) from None

    def _in_transit(self, params: dict, query: dict, body: bytes) -> Answer:
        message_id = params["message_id"]
        content = self._transit(message_id, self.sandbox.message_content)
        history = self._transit(message_id, self.sandbox.message_history)
        updates = [{"at": _iso(u.at), "bucket": u.bucket, "key": u.key, "object_version": u.object_version,
                    "size": u.size, "effective": u.effective, "reason": u.reason, "request_id": u.request_id}
                   for u in history]  # fmt: skip
        return 200, {"message_id": message_id, "size": len(content), "updates": updates}

    def _in_transit_raw(self, params: dict, query: dict, body: bytes) -> Answer:
        return 200, bytes(self._transit(params["message_id"], self.sandbox.message_content))


# ---------------------------------------------------------------------- helpers


def _sandbox_lock() -> Any:
    """The SMTP door's process-wide lock; a lock of the API's own when the door cannot run (no aiosmtpd)."""
    try:
        from ..smtp_door import SANDBOX_LOCK
    except ImportError:
        return threading.RLock()
    return SANDBOX_LOCK


def _segments(path: str) -> list[str]:
    """The path's segments; WSGI gives the path as latin-1, so UTF-8 addresses are decoded again."""
    try:
        path = path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _strings(value: Any, *, pairs: bool = False) -> bool:
    """A JSON list of strings (``pairs``: of [string, string] pairs)."""
    if not isinstance(value, list):
        return False
    if pairs:
        return all(isinstance(k, str) and isinstance(v, str) for k, v in value)
    return all(isinstance(item, str) for item in value)


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1].strip() if values else None


def _limit(body: bytes, limit: int, what: str) -> None:
    if len(body) > limit:
        raise _Refused(413, f"The body is {len(body):,} bytes, over the {limit:,}-byte limit for {what}.",
                       "check that this is the right file")  # fmt: skip


def _json_object(body: bytes, *, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The body as a JSON object with only ``allowed`` keys (an empty body is ``{}``)."""
    _limit(body, MAX_JSON_BODY_BYTES, "a control's JSON")
    if not body.strip():
        return {}
    try:
        data = load_json(body, max_bytes=None, max_depth=16)
    except json.JSONDecodeError as error:
        raise _Refused(400, f"The body is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}).",
                       "send a JSON object, for example {\"hours\": 25}") from None  # fmt: skip
    except UnicodeDecodeError:
        raise _Refused(400, "The body is not UTF-8 text.", "send JSON as UTF-8") from None
    if not isinstance(data, dict):
        raise _Refused(400, f"The body must be a JSON object, got {type(data).__name__}.", "send {...}")
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise _Refused(400, f"Unknown key {unknown[0]!r}.", f"use only {', '.join(allowed)}")
    return data


def _message(body: bytes) -> bytes:
    _limit(body, MAX_MESSAGE_BYTES, "a message")
    if not body.strip():
        raise _Refused(400, "The request has no message in its body.",
                       "send the raw message: curl --data-binary @message.eml ...")  # fmt: skip
    return body


def _item(index: int, item: Any, when: _dt.datetime) -> dict[str, Any]:
    return {
        "index": index, "folder": getattr(item, "folder", None), "kind": item.kind, "subject": item.subject,
        "from": item.mail_from, "message_id": item.smtp_message_id, "workmail_message_id": item.message_id,
        "trace_id": item.trace_id, "received_at": _iso(when), "recipient": item.recipient, "bcc": item.bcc,
        "size": None if item.content is None else len(item.content),
    }  # fmt: skip


def _content(items: list[Any], index: str, where: str) -> bytes:
    if not index.isdigit() or int(index) >= len(items):
        raise _Refused(404, f"No message {index!r} in {where}: it holds {len(items)} (indexes 0 to {len(items) - 1}).",
                       "use an index from the listing")  # fmt: skip
    content = items[int(index)].content
    if content is None:
        raise _Refused(409, "This organization keeps metadata only, not the message bytes.",
                       "route mail with FlowSettings(keep_content=True) (the default outside replay)")  # fmt: skip
    return bytes(content)


def _iso(when: Any) -> str:
    return when.isoformat() if isinstance(when, (_dt.datetime, _dt.date)) else str(when)


def _problem(error: Any) -> str:
    return str(getattr(error, "problem", None) or error)


_NOT_FOUND = ("NotFound", "NoSuch")
_CONFLICT = ("InUse", "NameAvailability", "AlreadyRegistered", "StateException", "Conflict", "AlreadyExists")
_FIXES = {
    "NameAvailability": 'that alias is taken: send another one, {"alias": "..."}, or POST /reset first',
    "MailDomainInUse": "another organization has that domain: use other domains, or POST /reset first",
    "EmailAddressInUse": "another user or group has that address: use another one",
    "NotFound": "check the id: GET /organizations lists the organizations",
}


def _client_error(error: ClientError) -> Answer:
    """A ClientError from the emulators or moto: 404 for a missing resource, 409 for a conflict, else 400."""
    details = error.response.get("Error", {})
    code = str(details.get("Code") or "ServiceException")
    status = 404 if any(w in code for w in _NOT_FOUND) else 409 if any(w in code for w in _CONFLICT) else 400
    fix = next((text for word, text in _FIXES.items() if word in code), "this is the emulated service's AWS error")
    return status, {"error": f"{code}: {details.get('Message') or error}", "fix": fix}

