"""A small Python client for the sandbox's controls (:mod:`workmail_sandbox.endpoint.control`).

Standard library only (``urllib.request``), so a test suite, a CI script or a
notebook in another environment can drive a sandbox served by
``workmail-sandbox serve`` without the kit's dependencies::

    from workmail_sandbox.endpoint.client import SandboxClient

    api = SandboxClient("http://127.0.0.1:5055")
    org = api.create_example_organization()
    api.set_rules(org["id"], Path("data/rules/basic.yaml"))
    result = api.send_message(org["id"], Path("data/emails/01-plain-inbound.eml"))
    result["outcomes"]                      # {"alice@example.com": "inbox"}
    api.mailbox(org["id"], "alice@example.com")["items"]

One method per route; each returns the decoded JSON answer (a message's bytes
for the ``raw`` routes). A non-2xx answer raises :class:`ControlAPIError` (a
:class:`~workmail_sandbox.errors.SandboxError`) with the server's error, its
fix and the HTTP status. The client never uses a proxy: the endpoint is on
this machine.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import SandboxError

__all__ = ["ControlAPIError", "SandboxClient", "SandboxError"]

PREFIX = "/workmail-sandbox-api/"


class ControlAPIError(SandboxError):
    """A control the server refused: ``status`` (400, 404, 405, 409, 413), ``error``, ``fix``, the ``answer``."""

    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        self.status = status
        self.error = str(answer.get("error") or answer)
        self.answer = answer
        super().__init__(f"{self.error} (HTTP {status})", fix=answer.get("fix"))


class SandboxClient:
    """The controls of the sandbox served at ``url`` (``LocalEndpoint.url``, e.g. ``http://127.0.0.1:5055``)."""

    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SandboxError(f"{url!r} is not the endpoint's URL.", fix="pass http://127.0.0.1:5055 (ep.url)")
        self.url = f"{parsed.scheme}://{parsed.netloc}"
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ------------------------------------------------------------------ transport

    def request(
        self, method: str, path: str, *, body: bytes | None = None, json_body: Any = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:  # fmt: skip
        """One control call: the JSON answer, or the bytes of an ``application/octet-stream`` one."""
        url = self.url + PREFIX + path.lstrip("/")
        if query:
            pairs = [(k, v) for k, values in query.items() if values is not None
                     for v in ([values] if isinstance(values, str) else values)]  # fmt: skip
            url += "?" + urllib.parse.urlencode(pairs)
        headers = {"Accept": "application/json"}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif body is not None:
            headers["Content-Type"] = "application/octet-stream"
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                data = response.read()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                answer = {"error": raw.decode("utf-8", "replace")[:500] or str(error.reason)}
            raise ControlAPIError(error.code, answer) from None
        except urllib.error.URLError as error:
            raise SandboxError(
                f"Nothing answers at {self.url} ({error.reason}).",
                fix="start the endpoint: workmail-sandbox serve (or workmail_sandbox.endpoint.serve())",
            ) from None
        return json.loads(data) if "json" in kind else data

    # ------------------------------------------------------------------ the sandbox

    def routes(self) -> list[dict[str, str]]:
        """Every control: ``{"route": "GET /health", "does": ...}``."""
        return self.request("GET", "")["routes"]

    def health(self) -> dict[str, Any]:
        """``{"status": "running", "region": ..., "account": ...}``."""
        return self.request("GET", "health")

    def reset(self) -> dict[str, Any]:
        """Back to an empty sandbox (named snapshots are kept)."""
        return self.request("POST", "reset")

    def snapshot(self, name: str) -> dict[str, Any]:
        """Keep a snapshot of the whole sandbox under ``name``."""
        return self.request("POST", "snapshots", json_body={"name": name})

    def snapshots(self) -> list[dict[str, Any]]:
        """The named snapshots: name, when taken, the sandbox clock then."""
        return self.request("GET", "snapshots")["snapshots"]

    def restore(self, name: str) -> dict[str, Any]:
        """Return the sandbox to the snapshot ``name``."""
        return self.request("POST", f"snapshots/{_segment(name)}/restore")

    def delete_snapshot(self, name: str) -> dict[str, Any]:
        """Forget the snapshot ``name``."""
        return self.request("DELETE", f"snapshots/{_segment(name)}")

    def clock(self) -> str:
        """The simulated clock's time (ISO 8601)."""
        return self.request("GET", "clock")["now"]

    def advance_clock(self, **amounts: float) -> dict[str, Any]:
        """Move the simulated clock forward: ``advance_clock(hours=25)`` (weeks, days, minutes, seconds too)."""
        return self.request("POST", "clock/advance", json_body=amounts)

    # ------------------------------------------------------------------ organizations

    def organizations(self) -> list[dict[str, Any]]:
        """Every organization: id, alias, state, default domain, domains."""
        return self.request("GET", "organizations")["organizations"]

    def organization(self, org_id: str) -> dict[str, Any]:
        """One organization (by id or alias): ARN, domains, users, groups, rule counts, log group."""
        return self.request("GET", f"organizations/{_segment(org_id)}")

    def create_organization(
        self, alias: str, *, domains: Iterable[str] = (), users: Iterable[str] | Mapping[str, str] = (),
        groups: Mapping[str, Iterable[str]] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """An organization with these domains, users and groups (as ``Organization.create`` takes them)."""
        body: dict[str, Any] = {"alias": alias, "domains": list(domains),
                                "users": dict(users) if isinstance(users, Mapping) else list(users)}  # fmt: skip
        if groups is not None:
            body["groups"] = {name: list(members) for name, members in groups.items()}
        return self.request("POST", "organizations", json_body=body)

    def create_example_organization(self, alias: str | None = None) -> dict[str, Any]:
        """The lessons' example organization (example.com, sales.example.com, alice, bob, carol, dave, finance)."""
        return self.request("POST", "organizations/example", json_body={"alias": alias} if alias else None)

    def set_rules(self, org_id: str, rules: Any) -> dict[str, Any]:
        """Replace the organization's email flow rules.

        ``rules``: a rule file's path (``os.PathLike``), its text (YAML or JSON), a
        dict in the rule file format, or a ``RuleSet``.
        """
        if hasattr(rules, "to_dict"):
            rules = rules.to_dict()
        if isinstance(rules, os.PathLike):
            with open(rules, "rb") as handle:
                body = handle.read()
        elif isinstance(rules, str):
            body = rules.encode("utf-8")
        elif isinstance(rules, Mapping):
            body = json.dumps(rules).encode()
        else:
            raise SandboxError(f"rules must be a path, text, a dict or a RuleSet, not {type(rules).__name__}.",
                               fix="pass Path('data/rules/basic.yaml')")  # fmt: skip
        return self.request("PUT", f"organizations/{_segment(org_id)}/rules", body=body)

    def rules(self, org_id: str) -> dict[str, Any]:
        """The organization's rules as a rule file (a dict ``set_rules`` takes back)."""
        return self.request("GET", f"organizations/{_segment(org_id)}/rules")

    # ------------------------------------------------------------------ mail

    def send_message(
        self, org_id: str, message: bytes | str | os.PathLike, *, direction: str = "inbound",
        mail_from: str | None = None, recipients: Iterable[str] | None = None, conversations: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Route a message as ``Organization.receive`` (inbound) or ``send`` (outbound) does.

        ``message``: raw bytes or an ``.eml`` path. ``mail_from`` and ``recipients``
        give an SMTP envelope. Returns the trace id, ``outcomes`` ({recipient:
        inbox, junk, dropped, bounced, sent or failed}), the per-recipient records,
        the invocations and bounces, and a summary.
        """
        query = {"direction": direction, "mail_from": mail_from, "conversations": conversations,
                 "recipient": list(recipients) if recipients is not None else None}  # fmt: skip
        return self.request("POST", f"organizations/{_segment(org_id)}/messages", body=_raw(message), query=query)

    def mailboxes(self, org_id: str) -> list[dict[str, Any]]:
        """Every mailbox: address, name, inbox and junk counts."""
        return self.request("GET", f"organizations/{_segment(org_id)}/mailboxes")["mailboxes"]

    def mailbox(self, org_id: str, address: str) -> dict[str, Any]:
        """A mailbox: its counts and ``items`` (index, folder, subject, from, message ids, received at)."""
        return self.request("GET", f"organizations/{_segment(org_id)}/mailboxes/{_segment(address)}")

    def raw_message(self, org_id: str, address: str, index: int) -> bytes:
        """The bytes of item ``index`` of :meth:`mailbox` (as delivered: Bcc stripped, a function's update applied)."""
        return self.request("GET", f"organizations/{_segment(org_id)}/mailboxes/{_segment(address)}/{int(index)}/raw")

    def outbox(self, org_id: str) -> list[dict[str, Any]]:
        """Mail that left the organization: recipient, via (internet, smtp-gateway), subject, kind."""
        return self.request("GET", f"organizations/{_segment(org_id)}/outbox")["items"]

    def outbox_raw(self, org_id: str, index: int) -> bytes:
        """The bytes of outbox item ``index``."""
        return self.request("GET", f"organizations/{_segment(org_id)}/outbox/{int(index)}/raw")

    def events(self, org_id: str, trace_id: str | None = None) -> list[dict[str, Any]]:
        """The email event log, one row per event (the columns of ``Organization.event_log()``)."""
        query = {"trace_id": trace_id} if trace_id else None
        return self.request("GET", f"organizations/{_segment(org_id)}/events", query=query)["events"]

    def put_message_in_transit(
        self, message: bytes | str | os.PathLike, organization_id: str, *, direction: str = "INBOUND"
    ) -> str:
        """Put a message in transit (``sb.put_message_in_transit``); returns its messageId for the Message Flow API."""
        query = {"organization_id": organization_id, "direction": direction}
        return self.request("POST", "messages-in-transit", body=_raw(message), query=query)["message_id"]

    def message_in_transit(self, message_id: str) -> dict[str, Any]:
        """A message in transit: its size and every PutRawMessageContent on it (effective or not, and why)."""
        return self.request("GET", f"messages-in-transit/{_segment(message_id)}")

    def message_content(self, message_id: str) -> bytes:
        """The content delivery would use (``sb.message_content``)."""
        return self.request("GET", f"messages-in-transit/{_segment(message_id)}/raw")

    def __repr__(self) -> str:
        return f"<SandboxClient {self.url}>"


def _segment(value: str) -> str:
    return urllib.parse.quote(str(value), safe="@")


def _raw(message: bytes | str | os.PathLike) -> bytes:
    if isinstance(message, (bytes, bytearray)):
        return bytes(message)
    with open(message, "rb") as handle:
        return handle.read()
