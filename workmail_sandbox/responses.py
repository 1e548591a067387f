"""What a synchronous Run Lambda function returns, checked and turned into decisions.

Source: "Configuring AWS Lambda for Amazon WorkMail", sections *Synchronous Run
Lambda response schema* and *Synchronous Run Lambda limits and failures*
(https://docs.aws.amazon.com/workmail/latest/adminguide/lambda.html#synchronous-schema).

Documented rules applied here:

* the response is ``{"actions": [{"action": {"type", "parameters"?}, "recipients"?, "allRecipients"?}]}``;
* inbound types: DEFAULT, BOUNCE, DROP, BYPASS_SPAM_CHECK, MOVE_TO_JUNK; outbound: DEFAULT, BOUNCE, DROP;
* ``parameters`` is documented only for BOUNCE, as ``{"bounceMessage": "..."}``;
* ``allRecipients: true`` applies to every recipient no other entry names;
  recipients the response leaves out (when no entry sets ``allRecipients``) get the
  rule's fallback action;
* recipients may be *added*: they are delivered as BCC and, inbound, must belong
  to the organization;
* at most 10 actions: the recipients of actions past the tenth get the fallback;
* at most 256 KB of response and at most 500 recipients for outbound functions;
* an invalid response counts as a failed invocation: WorkMail retries until the
  rule timeout and then applies the fallback to every recipient.

Where AWS is silent (documented choices, not facts):

* 256 KB is 262,144 bytes of compact UTF-8 JSON;
* the 500-recipient limit counts the distinct addresses the response names;
* a recipient named by two actions gets the first one, with a warning;
* an empty ``actions`` list is accepted with a warning: every recipient gets the fallback.

Known quirk accepted with a warning: AWS's own ``workmail-update-email`` sample
returns ``"allRecipients": "true"`` as a string; a string "true"/"false" is read
as the boolean it spells.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import EventError, ResponseError
from .events import INBOUND, OUTBOUND
from .events import normalize_direction as _event_direction

__all__ = [
    "FALLBACK_ACTION_TYPES",
    "INBOUND_ACTION_TYPES",
    "MAX_ACTIONS",
    "MAX_OUTBOUND_RECIPIENTS",
    "MAX_RESPONSE_BYTES",
    "OUTBOUND_ACTION_TYPES",
    "Action",
    "Decision",
    "Resolution",
    "ResponseProblem",
    "SyncResponse",
    "check_response",
    "resolve_response",
]

INBOUND_ACTION_TYPES = ("DEFAULT", "BOUNCE", "DROP", "BYPASS_SPAM_CHECK", "MOVE_TO_JUNK")
OUTBOUND_ACTION_TYPES = ("DEFAULT", "BOUNCE", "DROP")
ACTION_TYPES = {INBOUND: INBOUND_ACTION_TYPES, OUTBOUND: OUTBOUND_ACTION_TYPES}
#: A synchronous rule's fallback is any of the rule's own actions but Run Lambda.
FALLBACK_ACTION_TYPES = {
    INBOUND: INBOUND_ACTION_TYPES,
    OUTBOUND: OUTBOUND_ACTION_TYPES + ("ROUTE_TO_SMTP_GATEWAY",),
}
MAX_ACTIONS = 10
MAX_RESPONSE_BYTES = 256 * 1024
MAX_OUTBOUND_RECIPIENTS = 500

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ResponseProblem:
    """One thing wrong with a response: an error makes the response invalid."""

    severity: Severity
    field: str
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        text = f"{self.severity}: {self.field}: {self.message}"
        return text + (f" Fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Action:
    """One entry of ``actions``: what to do, and for whom."""

    type: str
    recipients: tuple[str, ...] = ()
    all_recipients: bool = False
    parameters: Mapping[str, Any] | None = None

    @property
    def bounce_message(self) -> str | None:
        """The text WorkMail puts in the bounce email (BOUNCE only)."""
        return (self.parameters or {}).get("bounceMessage")

    def to_dict(self) -> dict[str, Any]:
        """The entry as WorkMail's camelCase JSON."""
        action: dict[str, Any] = {"type": self.type}
        if self.parameters:
            action["parameters"] = dict(self.parameters)
        entry: dict[str, Any] = {"action": action}
        if self.recipients:
            entry["recipients"] = list(self.recipients)
        if self.all_recipients:
            entry["allRecipients"] = True
        return entry


@dataclass(frozen=True)
class SyncResponse:
    """A synchronous response; ``to_dict()`` is exactly what a handler returns."""

    actions: tuple[Action, ...]

    @classmethod
    def for_all(cls, action_type: str, *, bounce_message: str | None = None) -> SyncResponse:
        """One action for every recipient (``allRecipients: true``)."""
        parameters = {"bounceMessage": bounce_message} if bounce_message is not None else None
        return cls((Action(action_type, all_recipients=True, parameters=parameters),))

    def to_dict(self) -> dict[str, Any]:
        """Exactly what a handler returns to WorkMail."""
        return {"actions": [a.to_dict() for a in self.actions]}

    def to_json(self) -> str:
        """The response as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any, *, direction: str) -> SyncResponse:
        """Parse a response; raise :class:`ResponseError` listing every error."""
        response, problems = _parse(data, normalize_direction(direction))
        errors = [p for p in problems if p.severity == "error"]
        if errors or response is None:
            raise ResponseError(
                "The response is invalid: " + "; ".join(f"{p.field}: {p.message}" for p in errors),
                fix=errors[0].fix if errors and errors[0].fix else None,
            )
        return response


@dataclass(frozen=True)
class Decision:
    """What happens to one recipient."""

    recipient: str
    action: str
    source: str  # "actions[3]" or "fallback: <why>"
    bounce_message: str | None = None
    added: bool = False  # not an original recipient: delivered as BCC

    @property
    def is_fallback(self) -> bool:
        """True when the rule's fallback action decided, not the response."""
        return self.source.startswith("fallback")


@dataclass
class Resolution:
    """A response resolved into one decision per recipient.

    ``valid`` is False when WorkMail would treat the response as a failed
    invocation (retry until the rule timeout, then the fallback for everyone);
    ``decisions`` then hold that final fallback outcome.
    """

    direction: str
    fallback: str
    valid: bool
    decisions: dict[str, Decision]
    problems: list[ResponseProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[ResponseProblem]:
        """The problems that make the response invalid."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ResponseProblem]:
        """Problems WorkMail tolerates (the response is still applied)."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def added_recipients(self) -> list[str]:
        """Recipients the response added; WorkMail delivers them as BCC."""
        return [d.recipient for d in self.decisions.values() if d.added]

    def report(self) -> str:
        """A plain-text report a learner can read."""
        lines = [f"{'valid' if self.valid else 'INVALID'} {self.direction} response, fallback {self.fallback}"]
        lines += [f"  {p}" for p in self.problems]
        for d in self.decisions.values():
            extra = f" bounceMessage={d.bounce_message!r}" if d.bounce_message else ""
            lines.append(f"  {d.recipient}: {d.action}{' (added, BCC)' if d.added else ''} <- {d.source}{extra}")
        return "\n".join(lines)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per recipient, for tables and JSON output."""
        return [
            {
                "recipient": d.recipient,
                "action": d.action,
                "source": d.source,
                "added": d.added,
                "bounce_message": d.bounce_message,
            }
            for d in self.decisions.values()
        ]

    def to_dataframe(self):
        """The decisions as a pandas DataFrame, one row per recipient."""
        import pandas as pd

        return pd.DataFrame(self.to_records(), columns=["recipient", "action", "source", "added", "bounce_message"])


# ---------------------------------------------------------------------- parsing


def normalize_direction(direction: str) -> str:
    """``"inbound"`` -> ``"INBOUND"``; anything else is a :class:`ResponseError`."""
    try:
        return _event_direction(direction)
    except EventError:
        raise ResponseError(
            f"The direction must be INBOUND or OUTBOUND, got {direction!r}.",
            fix="pass direction='inbound' or direction='outbound'",
        ) from None


def _as_bool(value: Any, path: str, problems: list[ResponseProblem]) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        problems.append(
            ResponseProblem(
                "warning",
                path,
                f"is the string {value!r}, not a boolean; accepted as AWS's own "
                "workmail-update-email sample relies on it",
                fix=f"return {value.strip().lower()} (a JSON boolean)",
            )
        )
        return value.strip().lower() == "true"
    problems.append(ResponseProblem("error", path, f"must be true or false, got {value!r}"))
    return None


def _parse(data: Any, direction: str) -> tuple[SyncResponse | None, list[ResponseProblem]]:
    problems: list[ResponseProblem] = []
    add = problems.append
    allowed = ACTION_TYPES[direction]
    if data is None:
        add(
            ResponseProblem(
                "error",
                "(response)",
                "the function returned nothing (null); a synchronous rule needs an object with 'actions'",
                fix="return {'actions': [{'allRecipients': True, 'action': {'type': 'DEFAULT'}}]}",
            )
        )
        return None, problems
    if isinstance(data, (str, bytes)):
        add(
            ResponseProblem(
                "error",
                "(response)",
                "the function returned a string, not an object",
                fix="return the dict itself, not json.dumps(...) of it",
            )
        )
        return None, problems
    if not isinstance(data, Mapping):
        add(ResponseProblem("error", "(response)", f"must be an object with 'actions', got {type(data).__name__}"))
        return None, problems
    try:
        size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    except RecursionError:
        add(ResponseProblem("error", "(response)", "nests too deeply to serialise as JSON"))
        return None, problems
    except (TypeError, ValueError) as exc:
        add(ResponseProblem("error", "(response)", f"cannot be serialised as JSON: {exc}"))
        return None, problems
    if size > MAX_RESPONSE_BYTES:
        add(
            ResponseProblem(
                "error",
                "(response)",
                f"is {size:,} bytes, over WorkMail's 256 KB ({MAX_RESPONSE_BYTES:,}-byte) limit",
            )
        )
    for key in sorted(set(data) - {"actions"}):
        add(ResponseProblem("warning", key, "is not a documented response field and is ignored"))
    raw_actions = data.get("actions")
    if not isinstance(raw_actions, list):
        add(
            ResponseProblem(
                "error",
                "actions",
                "is required and must be a list",
                fix="return {'actions': [...]}",
            )
        )
        return None, problems
    if not raw_actions:
        add(ResponseProblem("warning", "actions", "is empty: every recipient gets the fallback action"))

    actions: list[Action] = []
    for i, entry in enumerate(raw_actions):
        path = f"actions[{i}]"
        if not isinstance(entry, Mapping):
            add(ResponseProblem("error", path, f"must be an object, got {type(entry).__name__}"))
            continue
        action = entry.get("action")
        if not isinstance(action, Mapping):
            add(ResponseProblem("error", f"{path}.action", "is required and must be an object with a 'type'"))
            continue
        action_type = action.get("type")
        if not isinstance(action_type, str) or action_type not in allowed:
            hint = None
            if isinstance(action_type, str) and action_type.upper() in allowed:
                hint = f"write it in capitals: {action_type.upper()!r}"
            elif direction == OUTBOUND and action_type in INBOUND_ACTION_TYPES:
                hint = "BYPASS_SPAM_CHECK and MOVE_TO_JUNK exist only for inbound mail"
            add(
                ResponseProblem(
                    "error",
                    f"{path}.action.type",
                    f"must be one of {', '.join(allowed)} for {direction.lower()} mail, got {action_type!r}",
                    fix=hint,
                )
            )
            continue
        parameters = action.get("parameters")
        if parameters is not None:
            if not isinstance(parameters, Mapping):
                add(ResponseProblem("error", f"{path}.action.parameters", "must be an object"))
                continue
            if "bounceMessage" in parameters:
                if action_type != "BOUNCE":
                    add(
                        ResponseProblem(
                            "error",
                            f"{path}.action.parameters.bounceMessage",
                            f"is only for BOUNCE actions, not {action_type}",
                        )
                    )
                    continue
                if not isinstance(parameters["bounceMessage"], str):
                    add(ResponseProblem("error", f"{path}.action.parameters.bounceMessage", "must be a string"))
                    continue
            for key in sorted(set(parameters) - {"bounceMessage"}):
                add(ResponseProblem("warning", f"{path}.action.parameters.{key}", "is not documented and is ignored"))
        all_recipients = False
        if "allRecipients" in entry:
            parsed = _as_bool(entry["allRecipients"], f"{path}.allRecipients", problems)
            if parsed is None:
                continue
            all_recipients = parsed
        recipients: list[str] = []
        if "recipients" in entry and entry["recipients"] is not None:
            raw = entry["recipients"]
            if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
                add(ResponseProblem("error", f"{path}.recipients", "must be a list of address strings"))
                continue
            for j, address in enumerate(raw):
                value = address.strip().lower()
                if "@" not in value:
                    add(ResponseProblem("error", f"{path}.recipients[{j}]", f"is not an email address: {address!r}"))
                    continue
                recipients.append(value)
        if not recipients and not all_recipients:
            add(
                ResponseProblem(
                    "error",
                    path,
                    "names no recipients and does not set allRecipients",
                    fix="add 'recipients': [...] or 'allRecipients': True",
                )
            )
            continue
        actions.append(Action(action_type, tuple(recipients), all_recipients, parameters or None))
    return SyncResponse(tuple(actions)), problems


def check_response(data: Any, *, direction: str) -> list[ResponseProblem]:
    """Every problem with a response, errors and warnings, without resolving it."""
    return _parse(data, normalize_direction(direction))[1]


# -------------------------------------------------------------------- resolving


def resolve_response(
    data: Any,
    *,
    direction: str,
    recipients: Sequence[str],
    org_domains: Iterable[str] = (),
    fallback: str = "DEFAULT",
) -> Resolution:
    """Turn a response into one decision per recipient, as WorkMail applies it.

    ``recipients`` are the event's recipients; ``fallback`` is the rule's
    fallback action. Problems are returned in the resolution, never raised,
    except for a fallback that no rule could have.
    """
    direction = normalize_direction(direction)
    fallback = str(fallback).upper()
    if fallback not in FALLBACK_ACTION_TYPES[direction]:
        raise ResponseError(
            f"The fallback action must be one of {', '.join(FALLBACK_ACTION_TYPES[direction])} "
            f"for {direction.lower()} rules, got {fallback!r}.",
            fix="a synchronous rule's fallback is one of its ordinary actions, never Run Lambda",
        )
    domains = {d.strip().lower() for d in org_domains}
    originals = list(dict.fromkeys(r.strip().lower() for r in recipients))
    response, problems = _parse(data, direction)

    def all_fallback(why: str) -> dict[str, Decision]:
        return {r: Decision(r, fallback, f"fallback: {why}") for r in originals}

    if response is None or any(p.severity == "error" for p in problems):
        return Resolution(direction, fallback, False, all_fallback("invalid response"), problems)

    named: set[str] = set()
    for action in response.actions:
        named.update(action.recipients)
    if direction == OUTBOUND and len(named) > MAX_OUTBOUND_RECIPIENTS:
        problems.append(
            ResponseProblem(
                "error",
                "actions",
                f"name {len(named)} recipients; outbound functions may name at most {MAX_OUTBOUND_RECIPIENTS}",
            )
        )
    if direction == INBOUND:
        for i, action in enumerate(response.actions):
            for address in action.recipients:
                if address not in originals and address.rsplit("@", 1)[-1] not in domains:
                    problems.append(
                        ResponseProblem(
                            "error",
                            f"actions[{i}].recipients",
                            f"adds {address}, outside the organization; inbound functions may only add "
                            "recipients in the organization's domains"
                            + ("" if domains else " (no organization domains were given)"),
                            fix="add only addresses of your organization, or pass org_domains=[...]",
                        )
                    )
    if any(p.severity == "error" for p in problems):
        return Resolution(direction, fallback, False, all_fallback("invalid response"), problems)

    if len(response.actions) > MAX_ACTIONS:
        problems.append(
            ResponseProblem(
                "warning",
                f"actions[{MAX_ACTIONS}:]",
                f"{len(response.actions) - MAX_ACTIONS} action(s) past the tenth get the fallback action",
            )
        )
    decisions: dict[str, Decision] = {}
    all_action: tuple[int, Action] | None = None
    all_beyond = False
    for i, action in enumerate(response.actions):
        beyond = i >= MAX_ACTIONS
        if action.all_recipients and beyond:
            all_beyond = True
        if action.all_recipients:
            if all_action is not None and not beyond:
                problems.append(
                    ResponseProblem(
                        "warning",
                        f"actions[{i}].allRecipients",
                        f"is also set by actions[{all_action[0]}]; the first one wins",
                    )
                )
            elif all_action is None and not beyond:
                all_action = (i, action)
        for address in action.recipients:
            if address in decisions:
                if decisions[address].source != f"actions[{i}]":
                    problems.append(
                        ResponseProblem(
                            "warning",
                            f"actions[{i}].recipients",
                            f"{address} is already named by {decisions[address].source}; the first one wins",
                        )
                    )
                continue
            added = address not in originals
            if beyond:
                decisions[address] = Decision(address, fallback, "fallback: action past the tenth", added=added)
            else:
                decisions[address] = Decision(
                    address, action.type, f"actions[{i}]", action.bounce_message, added=added
                )
    for address in originals:
        if address in decisions:
            continue
        if all_action is not None:
            i, action = all_action
            decisions[address] = Decision(address, action.type, f"actions[{i}] (allRecipients)", action.bounce_message)
        elif all_beyond:
            decisions[address] = Decision(address, fallback, "fallback: action past the tenth")
        else:
            decisions[address] = Decision(address, fallback, "fallback: not named by the response")
    ordered = {a: decisions[a] for a in originals}
    ordered.update({a: d for a, d in decisions.items() if a not in ordered})
    return Resolution(direction, fallback, True, ordered, problems)
