"""Email flow rules: patterns, specificity, precedence, actions, and "Test configuration".

WorkMail has no API for email flow rules (they are made in the console), so the
sandbox keeps them here and decides, for one recipient at a time, which rule
applies, exactly as the documentation describes and, where it is silent, as the
documented choices below say.

Sources (tags as in the project's fact sheet):

* "Managing email flows", awsdocs/amazon-workmail-administration-guide
  ``doc_source/email-flows.md`` (https://docs.aws.amazon.com/workmail/latest/adminguide/email-flows.html):
  the two action tables, the four pattern forms, ``+`` not allowed, Sender header
  before From (inbound), recipient AND (Sender or From) (outbound), one rule per
  recipient, "most specific rule" then "most restrictive action", and **"the order
  of precedence for actions is the same as the order in which they are listed"**
  in the two tables.
* "Configuring AWS Lambda for Amazon WorkMail" (``lambda.md``): synchronous or
  asynchronous Run Lambda, the fallback action (never a Lambda action), the rule
  timeout (0 to 240 minutes), and "synchronous rules accept only ``*`` as the
  destination condition".
* "Amazon WorkMail quotas" (``workmail_limits.md``): 250 sender patterns per rule,
  1,000 sender patterns per organization.
* "Testing an email flow rule" (``test-email-flow-rule.md``): the console's
  **Test configuration** box takes a sender and a recipient and shows the action;
  :meth:`RuleSet.test_configuration` mirrors it.

The model
---------

* :class:`Pattern`: one parsed pattern; its :class:`Specificity` orders it.
* :class:`Rule`: a frozen rule (name, direction, sender and recipient patterns,
  action, and for Run Lambda the function ARN, synchronous flag, fallback action
  and rule timeout). ``Rule.inbound(...)``, ``Rule.outbound(...)`` and
  ``Rule.run_lambda(...)`` build one with ``*`` patterns by default.
* :class:`PrecedenceSettings`: the three things AWS does not say, each with a
  default.
* :class:`RuleSet`: the organization's ordered rules, both directions, with
  ``add``/``remove``/``validate``, ``evaluate`` and ``test_configuration``, and
  loading from and saving to JSON or YAML.
* :class:`Evaluation`: the outcome for one recipient, with every matching rule,
  why each one lost, ``explain()`` text and ``to_dataframe()``.

Actions and their precedence
----------------------------

One tuple per direction, in the documentation's table order, which is the
precedence order (the first is the "most restrictive")::

    inbound:  DROP, BOUNCE, MOVE_TO_JUNK, DEFAULT, BYPASS_SPAM_CHECK, RUN_LAMBDA
    outbound: DEFAULT, DROP, BOUNCE, ROUTE_TO_SMTP_GATEWAY, RUN_LAMBDA

Taken literally, as the kit does: outbound Default outranks Drop at equal
specificity, and Run Lambda ranks last in both directions.

Rule file format (``RuleSet.from_file`` / ``to_file``; JSON, or YAML read with
``yaml.safe_load``)::

    description: optional free text
    settings:                      # optional; these are the defaults
      specificity: sender-first    # sender-first | recipient-first | sum | max
      run_lambda: compete          # compete | in-addition
      lambda_rules: winner         # winner | all-matching
    inbound:                       # rules in order; each name unique in the set
      - name: drop-spammers
        senders: ["spam.example.net", "*.spam.example.net"]   # 1 to 250 patterns
        recipients: ["*"]                                     # at least 1 pattern
        action: DROP               # a constant or the console label, any case
        description: optional free text
      - name: hello-world
        senders: ["*"]
        recipients: ["*"]          # synchronous rules take only "*"
        action: RUN_LAMBDA
        function_arn: arn:aws:lambda:us-east-1:123456789012:function:my-function
        synchronous: true
        fallback_action: DEFAULT   # synchronous only; never RUN_LAMBDA
        rule_timeout_minutes: 60   # synchronous only; 0 to 240
    outbound: [...]                # same keys; actions of the outbound table

In YAML, quote patterns that start with ``*`` (``"*"``, ``"*.example.com"``):
unquoted, YAML reads ``*`` as an alias.

Documented choices, where AWS is silent
---------------------------------------

Patterns

* ``*example.com`` (the spelling of the older docs) is read as ``*.example.com``:
  the domain and all its subdomains. It never matches ``notexample.com``.
* Among wildcard domains, the one with more labels is more specific
  (``*.eu.example.com`` beats ``*.example.com``). Specificity is therefore
  ``(level, labels)``: address (3) > domain (2) > wildcard domain (1, labels) > ``*`` (0).
* Surrounding spaces are trimmed; a space inside, an empty pattern, ``*`` anywhere
  but the front, IP addresses and CIDR ranges (no version of the doc mentions
  them), quoted local parts and non-ASCII domains (write them in punycode,
  ``xn--...``) are refused. Domains need two labels; a wildcard may cover a
  top-level domain (``*.org``).
* Matching is case-insensitive (patterns and addresses are lower-cased).
* A pattern repeated within one rule counts once (for matching and for quotas).
* Every rule needs at least one sender pattern and one recipient pattern; an empty
  list is not "no condition". The builders default both to ``*``.
* The quotas count sender patterns only (AWS documents no recipient quota); the
  1,000 per organization counts both directions of the rule set.

Matching

* A rule matches a recipient when one of its recipient patterns matches the
  recipient and one of its sender patterns matches the sender address chosen
  below; the most specific matching pattern on each side is the one that counts.
* Inbound: every rule is tried with the Sender header first; only when no rule
  matches with Sender (or there is none) are the rules tried with From.
* Outbound: a rule matches when the recipient matches and Sender or From matches;
  when both match, the more specific match counts (Sender on a tie).
* A sender that is not an address (an empty From, ``<>``) matches only ``*``; a
  recipient that is not an address is a :class:`RuleError`.
* Each recipient is evaluated on its own (``evaluate_recipients``).

Precedence

* Rules are ordered by specificity (see ``PrecedenceSettings.specificity``), then
  by the action's place in the table, then by their place in the rule list (the
  last step only decides between rules with the same specificity and the same
  action, such as two Run Lambda rules with different functions).

Rules

* Rule names are unique within a rule set, compared without regard to case.
* Run Lambda rules need a function ARN of the form
  ``arn:aws:lambda:<region>:<12-digit account>:function:<name>[:<version or alias>]``.
  The Region is not compared with the organization's (the rule set does not know it).
* A synchronous rule needs both a fallback action and a rule timeout, written
  out; an asynchronous rule takes neither. Only Run Lambda rules take any of the
  four Run Lambda fields.
* Route to SMTP gateway is an action only; which gateway is not modelled.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from .errors import MessageParseError, RuleError
from .events import INBOUND, OUTBOUND
from .mime import normalize_address
from .responses import FALLBACK_ACTION_TYPES

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "BOUNCE",
    "BYPASS_SPAM_CHECK",
    "DEFAULT",
    "DROP",
    "INBOUND_ACTIONS",
    "LAMBDA_RULES_MODES",
    "MAX_RULE_TIMEOUT_MINUTES",
    "MAX_SENDER_PATTERNS_PER_ORGANIZATION",
    "MAX_SENDER_PATTERNS_PER_RULE",
    "MOVE_TO_JUNK",
    "OUTBOUND_ACTIONS",
    "ROUTE_TO_SMTP_GATEWAY",
    "RUN_LAMBDA",
    "RUN_LAMBDA_MODES",
    "SPECIFICITY_MODES",
    "Evaluation",
    "Pattern",
    "PrecedenceSettings",
    "Rule",
    "RuleMatch",
    "RuleSet",
    "Specificity",
    "parse_pattern",
]

# ----------------------------------------------------------------- actions

DROP = "DROP"
BOUNCE = "BOUNCE"
MOVE_TO_JUNK = "MOVE_TO_JUNK"
DEFAULT = "DEFAULT"
BYPASS_SPAM_CHECK = "BYPASS_SPAM_CHECK"
RUN_LAMBDA = "RUN_LAMBDA"
ROUTE_TO_SMTP_GATEWAY = "ROUTE_TO_SMTP_GATEWAY"

#: Inbound actions in the order of the documentation's table, which is the order
#: of precedence (most restrictive first). Source: awsdocs
#: amazon-workmail-administration-guide ``doc_source/email-flows.md``, "Inbound
#: email rule actions", and "The order of precedence for actions is the same as
#: the order in which they are listed" in that table.
INBOUND_ACTIONS = (DROP, BOUNCE, MOVE_TO_JUNK, DEFAULT, BYPASS_SPAM_CHECK, RUN_LAMBDA)
#: Outbound actions in the order of the documentation's table (same source,
#: "Outbound email rule actions"). Literally: Default outranks Drop.
OUTBOUND_ACTIONS = (DEFAULT, DROP, BOUNCE, ROUTE_TO_SMTP_GATEWAY, RUN_LAMBDA)
ACTIONS = {INBOUND: INBOUND_ACTIONS, OUTBOUND: OUTBOUND_ACTIONS}

#: The console labels the documentation uses, for display (the current console
#: may word them differently).
ACTION_LABELS = {
    INBOUND: {
        DROP: "Drop email",
        BOUNCE: "Send bounce response",
        MOVE_TO_JUNK: "Deliver to junk folder",
        DEFAULT: "Default",
        BYPASS_SPAM_CHECK: "Never deliver to junk folder",
        RUN_LAMBDA: "Run Lambda",
    },
    OUTBOUND: {
        DEFAULT: "Default",
        DROP: "Drop email",
        BOUNCE: "Send bounce response",
        ROUTE_TO_SMTP_GATEWAY: "Route to SMTP gateway",
        RUN_LAMBDA: "Run Lambda",
    },
}

#: What each action does, in a few words (from the documentation's tables).
ACTION_EFFECTS = {
    INBOUND: {
        DROP: "not delivered; the sender is not told",
        BOUNCE: "not delivered; the sender gets a bounce message",
        MOVE_TO_JUNK: "delivered to the junk folder, even if the spam filter would not flag it",
        DEFAULT: "spam check, then spam goes to the junk folder and the rest to the inbox",
        BYPASS_SPAM_CHECK: "always delivered to the inbox, even spam",
        RUN_LAMBDA: "passed to a Lambda function before or while it is delivered",
    },
    OUTBOUND: {
        DEFAULT: "sent normally",
        DROP: "not sent; the sender is not told",
        BOUNCE: "not sent; the sender is told the administrator blocked it",
        ROUTE_TO_SMTP_GATEWAY: "sent through the configured SMTP gateway",
        RUN_LAMBDA: "passed to a Lambda function before or while it is sent",
    },
}

_RANK = {d: {a: i for i, a in enumerate(actions)} for d, actions in ACTIONS.items()}
#: A synchronous rule's fallback: any action of its direction but Run Lambda.
_FALLBACKS = {d: tuple(a for a in actions if a != RUN_LAMBDA) for d, actions in ACTIONS.items()}
assert {d: set(v) for d, v in _FALLBACKS.items()} == {d: set(v) for d, v in FALLBACK_ACTION_TYPES.items()}

# ------------------------------------------------------------------ limits

#: "Sender patterns per rule: 250" (Amazon WorkMail quotas, workmail_limits.md).
MAX_SENDER_PATTERNS_PER_RULE = 250
#: "Sender patterns per organization: 1,000" (same source).
MAX_SENDER_PATTERNS_PER_ORGANIZATION = 1000
#: The rule timeout of a synchronous Run Lambda rule is at most 240 minutes (lambda.md).
MAX_RULE_TIMEOUT_MINUTES = 240

_FUNCTION_ARN = re.compile(
    r"arn:aws:lambda:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?"
)
_EXAMPLE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-function"

# ---------------------------------------------------------------- settings

SPECIFICITY_MODES = ("sender-first", "recipient-first", "sum", "max")
RUN_LAMBDA_MODES = ("compete", "in-addition")
LAMBDA_RULES_MODES = ("winner", "all-matching")


@dataclass(frozen=True)
class PrecedenceSettings:
    """How the rules engine decides where the documentation says nothing.

    ``specificity``: how a rule's specificity is taken when it has both sender
    and recipient patterns. AWS only says "the most specific rule" and its
    example compares sender patterns (an address beats a domain).

    * ``"sender-first"`` (default): compare the matched sender pattern's
      specificity, then the matched recipient pattern's. The documentation's
      examples are about senders, and inbound rules matched only the sender
      until 2020, so the sender comes first.
    * ``"recipient-first"``: the recipient pattern first, then the sender's.
    * ``"sum"``: the two levels added (address 3, domain 2, wildcard 1, ``*`` 0),
      then the wildcard labels added.
    * ``"max"``: the more specific of the two patterns only.

    ``run_lambda``: whether a Run Lambda rule competes with the other actions.

    * ``"compete"`` (default): the literal reading. Run Lambda is the last row of
      both tables, so it is just the least restrictive action: it wins only when
      it is more specific than every other matching rule, or when nothing else
      of its specificity matches.
    * ``"in-addition"``: the winning non-Lambda rule decides the action and the
      winning Run Lambda rule runs as well (a common expectation, undocumented).

    ``lambda_rules``: what happens when several Run Lambda rules match one
    recipient (AWS does not say whether more than one can fire).

    * ``"winner"`` (default): only the single winning rule runs, the literal
      precedence reading ("the action of the most specific rule is applied").
    * ``"all-matching"``: every matching Run Lambda rule runs, in precedence
      order (in ``"compete"`` mode only when a Run Lambda rule wins).
    """

    specificity: str = "sender-first"
    run_lambda: str = "compete"
    lambda_rules: str = "winner"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("specificity", SPECIFICITY_MODES),
            ("run_lambda", RUN_LAMBDA_MODES),
            ("lambda_rules", LAMBDA_RULES_MODES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise RuleError(
                    f"settings.{name} must be one of {', '.join(allowed)}; got {value!r}.",
                    fix=f"use settings.{name}: {_suggest(value, allowed) or allowed[0]}",
                )

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "settings") -> PrecedenceSettings:
        """Settings from a mapping (the ``settings`` section of a rule file)."""
        if data is None:
            return cls()
        if isinstance(data, PrecedenceSettings):
            return data
        if not isinstance(data, Mapping):
            raise RuleError(
                f"{where} must be a mapping, got {_type_name(data)}.",
                fix="write settings as keys: specificity, run_lambda, lambda_rules",
            )
        known = ("specificity", "run_lambda", "lambda_rules")
        _check_keys(data, known, where)
        for key, value in data.items():
            if not isinstance(value, str):
                raise RuleError(
                    f"{where}.{key} must be text, got {_type_name(value)} {value!r}.",
                    fix=f"use one of {', '.join(_SETTING_VALUES[key])}",
                )
        try:
            return cls(**{k: data[k].strip().lower() for k in data})
        except RuleError as error:
            raise RuleError(error.problem.replace("settings.", f"{where}.", 1), fix=error.fix) from None

    def to_dict(self) -> dict[str, str]:
        """The settings as the rule file writes them."""
        return {"specificity": self.specificity, "run_lambda": self.run_lambda, "lambda_rules": self.lambda_rules}

    def describe(self) -> str:
        """One sentence for ``explain()``."""
        order = {
            "sender-first": "sender pattern first, then recipient pattern",
            "recipient-first": "recipient pattern first, then sender pattern",
            "sum": "sum of the sender and recipient pattern levels",
            "max": "the more specific of the sender and recipient patterns",
        }[self.specificity]
        return order


_SETTING_VALUES = {"specificity": SPECIFICITY_MODES, "run_lambda": RUN_LAMBDA_MODES, "lambda_rules": LAMBDA_RULES_MODES}

# ---------------------------------------------------------------- patterns

STAR = "star"
WILDCARD_DOMAIN = "wildcard domain"
DOMAIN = "domain"
ADDRESS = "address"
_KINDS = (STAR, WILDCARD_DOMAIN, DOMAIN, ADDRESS)


class Specificity(NamedTuple):
    """How specific a pattern is: tuples compare, the larger is more specific.

    ``level``: address 3, domain 2, wildcard domain 1, ``*`` 0. ``labels``: for a
    wildcard domain, the number of labels after ``*.`` (the kit's choice: more
    labels is more specific); 0 otherwise.
    """

    level: int
    labels: int = 0

    @property
    def kind(self) -> str:
        """``"address"``, ``"domain"``, ``"wildcard domain"`` or ``"star"``."""
        return _KINDS[self.level]


@dataclass(frozen=True)
class Pattern:
    """One sender or recipient pattern, parsed and lower-cased.

    ``text`` is the pattern as the kit writes it (``*example.com`` becomes
    ``*.example.com``); ``value`` is the address, the domain, the wildcard's
    domain (without ``*.``) or ``""`` for ``*``.
    """

    text: str
    kind: str
    value: str
    specificity: Specificity = field(init=False, compare=False)
    #: ``specificity`` as one int (level * 256 + labels), for fast comparison.
    weight: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        level = _KINDS.index(self.kind)
        spec = Specificity(level, self.value.count(".") + 1 if self.kind == WILDCARD_DOMAIN else 0)
        object.__setattr__(self, "specificity", spec)
        object.__setattr__(self, "weight", spec.level * 256 + min(spec.labels, 255))

    def matches(self, address: str) -> bool:
        """Tell whether ``address`` matches (case-insensitive). The rule set uses an index instead."""
        key, domain = _address_key(address)
        if self.kind == STAR:
            return True
        if self.kind == ADDRESS:
            return key == self.value
        if self.kind == DOMAIN:
            return domain == self.value
        return domain == self.value or domain.endswith("." + self.value)

    def __str__(self) -> str:
        return self.text


_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LOCAL = re.compile(r"[a-z0-9!#$%&'/=?^_`{|}~.-]+")
_IPV4ISH = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?")


def parse_pattern(text: Any, *, what: str = "pattern") -> Pattern:
    """Parse one pattern, or raise :class:`RuleError` saying what is wrong and how to fix it.

    ``what`` names the pattern in messages (``"sender pattern"``).
    """
    if not isinstance(text, str):
        raise RuleError(
            f"{what} {text!r} is {_type_name(text)}, not text.",
            fix="write each pattern as text: an address, a domain, '*.domain' or '*'",
        )
    raw = text
    text = text.strip().lower()
    shown = repr(raw)
    if not text:
        raise RuleError(
            f"{what} {shown} is empty.",
            fix="write an address (jane@example.com), a domain (example.com), '*.example.com' or '*'",
        )
    if any(c.isspace() for c in text):
        raise RuleError(
            f"{what} {shown} contains a space; a pattern is one address or domain.",
            fix="put each address or domain in its own pattern, without spaces",
        )
    if "+" in text:
        raise RuleError(
            f"{what} {shown} contains '+', which WorkMail does not allow in patterns.",
            fix=_plus_fix(text),
        )
    if text == "*":
        return Pattern("*", STAR, "")
    if text.startswith("*"):
        rest = text[1:]
        if "*" in rest:
            raise RuleError(
                f"{what} {shown} has more than one '*'; '*' may appear only once, at the front.",
                fix="write '*.example.com' for a domain and its subdomains, or '*' for everything",
            )
        if "@" in rest:
            domain = rest.rpartition("@")[2]
            raise RuleError(
                f"{what} {shown} puts '*' in front of an address; a wildcard goes only in front of a domain.",
                fix=f"write the domain {domain!r} for every address in it, or '*.{domain}' to include subdomains",
            )
        domain = rest[1:] if rest.startswith(".") else rest
        _check_domain(domain, raw, what, min_labels=1)
        return Pattern(f"*.{domain}", WILDCARD_DOMAIN, domain)
    if "*" in text:
        where = text.index("*")
        raise RuleError(
            f"{what} {shown} has '*' at position {where + 1}; WorkMail allows '*' only at the front of a domain.",
            fix="write '*.example.com' for a domain and its subdomains, a full address, or '*' for everything",
        )
    if text.count("@") > 1 or text.startswith('"'):
        raise RuleError(
            f"{what} {shown} is not a plain address: it has more than one '@' or a quoted local part.",
            fix="write a plain address such as jane@example.com",
        )
    if "@" in text:
        local, _, domain = text.partition("@")
        if not local or not domain:
            raise RuleError(
                f"{what} {shown} is not an address: it needs text on both sides of '@'.",
                fix="write a full address such as jane@example.com, or a domain such as example.com",
            )
        if not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
            raise RuleError(
                f"{what} {shown} has a local part ({local!r}) with characters WorkMail patterns do not take.",
                fix="use letters, digits and . - _ in the part before '@'",
            )
        _check_domain(domain, raw, what, min_labels=2)
        return Pattern(text, ADDRESS, text)
    _check_domain(text, raw, what, min_labels=2)
    return Pattern(text, DOMAIN, text)


def _plus_fix(text: str) -> str:
    if "@" in text:
        local, _, domain = text.partition("@")
        base = local.split("+", 1)[0]
        if base:
            return f"use the address without the '+' part ({base}@{domain}), or the domain {domain!r}"
        return f"use the domain {domain!r}, or an address without '+'"
    return "remove the '+'; patterns are an address, a domain, '*.domain' or '*'"


def _check_domain(domain: str, raw: str, what: str, *, min_labels: int) -> None:
    shown = repr(raw)
    if "/" in domain or ":" in domain or _IPV4ISH.fullmatch(domain) or domain.startswith("["):
        raise RuleError(
            f"{what} {shown} looks like an IP address or CIDR range; WorkMail email flow rules "
            "match addresses and domains only (no version of the documentation mentions IP patterns).",
            fix="write the sender's domain instead; IP filtering is done in Amazon SES, before WorkMail",
        )
    if not domain.isascii():
        try:
            hint = domain.encode("idna").decode("ascii")
        except UnicodeError:
            hint = "its xn-- (punycode) form"
        raise RuleError(
            f"{what} {shown} has a non-ASCII domain.",
            fix=f"write the domain in punycode: {hint}",
        )
    if domain.endswith("."):
        raise RuleError(
            f"{what} {shown} ends with a dot.",
            fix=f"write {domain.rstrip('.')!r} without the trailing dot",
        )
    labels = domain.split(".")
    bad = [label for label in labels if not _LABEL.fullmatch(label)]
    if bad or len(domain) > 253:
        detail = f"label {bad[0]!r} is not valid" if bad else "it is longer than 253 characters"
        raise RuleError(
            f"{what} {shown} is not a valid domain: {detail}.",
            fix="use labels of letters, digits and '-' (not at either end), separated by single dots",
        )
    if len(labels) < min_labels:
        raise RuleError(
            f"{what} {shown} is a single label ({domain!r}), not a domain.",
            fix=f"write a full domain such as {domain}.com, or '*.{domain}' for everything under it",
        )
    if labels[-1].isdigit():
        raise RuleError(
            f"{what} {shown} ends in a numeric label, which no domain has.",
            fix="write the sender's domain name instead",
        )


_KEYS: dict[str, tuple[str, str]] = {}


def _address_key(address: Any) -> tuple[str, str]:
    """``(lower-case address, domain)``; a sender that is not an address gets domain ``""``."""
    found = _KEYS.get(address) if isinstance(address, str) else None
    if found is not None:
        return found
    try:
        key = normalize_address(address)
    except MessageParseError:
        return (str(address).strip().lower() if isinstance(address, str) else "", "")
    found = (key, key.rpartition("@")[2])
    if len(_KEYS) >= 100_000:
        _KEYS.clear()
    _KEYS[address] = found
    return found


# ------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One email flow rule, checked when it is made (:class:`RuleError` otherwise).

    ``direction`` is INBOUND or OUTBOUND (any case). ``sender_patterns`` and
    ``recipient_patterns`` each hold at least one pattern (a single str is one
    pattern); they are stored lower-cased, without repeats. ``action`` is one of
    the direction's actions: a constant (``"DROP"``) or the console label
    (``"Drop email"``), any case. Run Lambda rules also take ``function_arn``,
    ``synchronous``, and for synchronous rules ``fallback_action`` and
    ``rule_timeout_minutes`` (0 to 240).
    """

    name: str
    direction: str
    sender_patterns: tuple[str, ...]
    recipient_patterns: tuple[str, ...]
    action: str
    function_arn: str | None = None
    synchronous: bool = False
    fallback_action: str | None = None
    rule_timeout_minutes: int | None = None
    description: str = ""
    senders: tuple[Pattern, ...] = field(init=False, repr=False, compare=False)
    recipients: tuple[Pattern, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name.strip():
            raise _located(
                "rule", "the rule name must be non-empty text", f"got {name!r}",
                "give the rule a name such as 'drop-spam'",
            )
        name = name.strip()
        where = f'rule "{name}"'
        set_ = lambda attr, value: object.__setattr__(self, attr, value)  # noqa: E731
        set_("name", name)
        direction = str(self.direction).strip().upper() if isinstance(self.direction, str) else None
        if direction not in ACTIONS:
            raise _located(
                where, f"direction must be INBOUND or OUTBOUND, got {self.direction!r}", "",
                "use 'inbound' or 'outbound'",
            )
        set_("direction", direction)
        set_("action", _check_action(self.action, direction, "action", where, allow_lambda=True))
        senders = _check_patterns(self.sender_patterns, "sender", where)
        recipients = _check_patterns(self.recipient_patterns, "recipient", where)
        if len(senders) > MAX_SENDER_PATTERNS_PER_RULE:
            raise _located(
                where,
                f"{len(senders):,} sender patterns; WorkMail allows at most {MAX_SENDER_PATTERNS_PER_RULE} per rule "
                "(Amazon WorkMail quotas)",
                "",
                "split the patterns over several rules with the same action, or use domain and '*.domain' patterns",
            )
        set_("senders", senders)
        set_("recipients", recipients)
        set_("sender_patterns", tuple(p.text for p in senders))
        set_("recipient_patterns", tuple(p.text for p in recipients))
        if not isinstance(self.description, str):
            raise _located(where, "description must be text", f"got {_type_name(self.description)}", "quote it")
        self._check_lambda_fields(where)

    def _check_lambda_fields(self, where: str) -> None:
        lambda_fields = {
            "function_arn": self.function_arn is not None,
            "synchronous": self.synchronous is not False,
            "fallback_action": self.fallback_action is not None,
            "rule_timeout_minutes": self.rule_timeout_minutes is not None,
        }
        if self.action != RUN_LAMBDA:
            extra = [k for k, present in lambda_fields.items() if present]
            if extra:
                raise _located(
                    where,
                    f"{extra[0]} is set but the action is {self.action}; only Run Lambda rules take "
                    "function_arn, synchronous, fallback_action and rule_timeout_minutes",
                    "",
                    f"remove {extra[0]}, or set action: RUN_LAMBDA",
                )
            return
        arn = self.function_arn
        if arn is None:
            raise _located(where, "a Run Lambda rule needs function_arn", "", f"add function_arn: {_EXAMPLE_ARN}")
        if not isinstance(arn, str) or not _FUNCTION_ARN.fullmatch(arn.strip()):
            raise _located(
                where,
                f"function_arn {arn!r} is not a Lambda function ARN "
                "(arn:aws:lambda:<region>:<12-digit account>:function:<name>[:<version or alias>])",
                "",
                f"copy the function's ARN from the Lambda console or deployment output, e.g. {_EXAMPLE_ARN}",
            )
        object.__setattr__(self, "function_arn", arn.strip())
        if not isinstance(self.synchronous, bool):
            raise _located(
                where,
                f"synchronous must be true or false, got {_type_name(self.synchronous)} {self.synchronous!r}",
                "",
                "write synchronous: true (the function can change delivery) or false (it only observes)",
            )
        if not self.synchronous:
            for key in ("fallback_action", "rule_timeout_minutes"):
                if lambda_fields[key]:
                    raise _located(
                        where,
                        f"{key} is set on an asynchronous Run Lambda rule; only synchronous rules have one "
                        "(an asynchronous function never affects delivery)",
                        "",
                        f"remove {key}, or set synchronous: true",
                    )
            return
        if self.recipient_patterns != ("*",):
            others = [p for p in self.recipient_patterns if p != "*"]
            raise _located(
                where,
                f"recipient pattern {others[0]!r}: synchronous Run Lambda rules accept only '*' as recipient pattern "
                "(Configuring AWS Lambda for Amazon WorkMail)",
                "",
                "set recipients: ['*'] and let the function choose per recipient in its response, "
                "or make the rule asynchronous",
            )
        if self.fallback_action is None:
            raise _located(
                where,
                "a synchronous Run Lambda rule needs fallback_action, applied when the function cannot be run",
                "",
                f"add fallback_action: one of {', '.join(_FALLBACKS[self.direction])}",
            )
        fallback = _check_action(self.fallback_action, self.direction, "fallback_action", where, allow_lambda=False)
        object.__setattr__(self, "fallback_action", fallback)
        timeout = self.rule_timeout_minutes
        if timeout is None:
            raise _located(
                where,
                "a synchronous Run Lambda rule needs rule_timeout_minutes (how long WorkMail retries a failed call)",
                "",
                f"add rule_timeout_minutes: a whole number from 0 (no retry) to {MAX_RULE_TIMEOUT_MINUTES}",
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int):
            raise _located(
                where,
                f"rule_timeout_minutes must be a whole number of minutes, got {_type_name(timeout)} {timeout!r}",
                "",
                f"write a whole number from 0 to {MAX_RULE_TIMEOUT_MINUTES}",
            )
        if not 0 <= timeout <= MAX_RULE_TIMEOUT_MINUTES:
            raise _located(
                where,
                f"rule_timeout_minutes is {timeout}; it must be 0 to {MAX_RULE_TIMEOUT_MINUTES} minutes "
                "(Configuring AWS Lambda for Amazon WorkMail)",
                "",
                f"use at most {MAX_RULE_TIMEOUT_MINUTES} (4 hours); 0 applies the fallback at once, without retries",
            )

    # ------------------------------------------------------------ builders

    @classmethod
    def inbound(
        cls, name: str, action: str, *, senders: str | Iterable[str] = ("*",),
        recipients: str | Iterable[str] = ("*",), description: str = "",
    ) -> Rule:
        """An inbound rule; patterns default to ``*``."""
        return cls(name, INBOUND, _as_tuple(senders), _as_tuple(recipients), action, description=description)

    @classmethod
    def outbound(
        cls, name: str, action: str, *, senders: str | Iterable[str] = ("*",),
        recipients: str | Iterable[str] = ("*",), description: str = "",
    ) -> Rule:
        """An outbound rule; patterns default to ``*``."""
        return cls(name, OUTBOUND, _as_tuple(senders), _as_tuple(recipients), action, description=description)

    @classmethod
    def run_lambda(
        cls, name: str, direction: str, function_arn: str, *, synchronous: bool,
        fallback_action: str | None = None, rule_timeout_minutes: int | None = None,
        senders: str | Iterable[str] = ("*",), recipients: str | Iterable[str] = ("*",), description: str = "",
    ) -> Rule:
        """A Run Lambda rule; patterns default to ``*``. Synchronous rules need a fallback and a timeout."""
        return cls(
            name, direction, _as_tuple(senders), _as_tuple(recipients), RUN_LAMBDA,
            function_arn=function_arn, synchronous=synchronous, fallback_action=fallback_action,
            rule_timeout_minutes=rule_timeout_minutes, description=description,
        )

    # ------------------------------------------------------------ views

    @property
    def is_run_lambda(self) -> bool:
        """True for a Run Lambda rule."""
        return self.action == RUN_LAMBDA

    @property
    def label(self) -> str:
        """The action's console label (``"Drop email"``)."""
        return ACTION_LABELS[self.direction][self.action]

    @property
    def rank(self) -> int:
        """The action's place in the documentation's table (0 is the most restrictive)."""
        return _RANK[self.direction][self.action]

    def best_sender_match(self, address: str) -> Pattern | None:
        """The most specific sender pattern ``address`` matches, or None."""
        return _best(self.senders, address)

    def best_recipient_match(self, address: str) -> Pattern | None:
        """The most specific recipient pattern ``address`` matches, or None."""
        return _best(self.recipients, address)

    def to_dict(self) -> dict[str, Any]:
        """The rule as the rule file writes it (direction is the section it sits in)."""
        data: dict[str, Any] = {
            "name": self.name,
            "senders": list(self.sender_patterns),
            "recipients": list(self.recipient_patterns),
            "action": self.action,
        }
        if self.is_run_lambda:
            data["function_arn"] = self.function_arn
            data["synchronous"] = self.synchronous
            if self.synchronous:
                data["fallback_action"] = self.fallback_action
                data["rule_timeout_minutes"] = self.rule_timeout_minutes
        if self.description:
            data["description"] = self.description
        return data

    @classmethod
    def from_dict(cls, data: Any, direction: str, *, where: str | None = None) -> Rule:
        """A rule from one entry of a rule file's ``inbound`` or ``outbound`` list.

        ``where`` (``'inbound[2]'``) starts every error message; the rule's name
        is added to it when there is one.
        """
        where = where or f"{str(direction).lower()} rule"
        if not isinstance(data, Mapping):
            raise RuleError(
                f"{where}: a rule must be a mapping with name, senders, recipients and action; "
                f"got {_type_name(data)} {_short(data)}.",
                fix="write each rule as keys, for example {name: drop-spam, senders: ['spam.example.net'], "
                "recipients: ['*'], action: DROP}",
            )
        name = data.get("name")
        if isinstance(name, str) and name.strip():
            where = f'{where} "{name.strip()}"'
        _check_keys(data, _RULE_KEYS, where)
        for key in ("name", "senders", "recipients", "action"):
            if key not in data:
                raise RuleError(f"{where}: {key} is missing.", fix=_MISSING_FIX[key])
        try:
            return cls(
                data["name"],
                direction,
                _as_tuple(data["senders"], where=where, key="senders"),
                _as_tuple(data["recipients"], where=where, key="recipients"),
                data["action"],
                function_arn=data.get("function_arn"),
                synchronous=data.get("synchronous", False),
                fallback_action=data.get("fallback_action"),
                rule_timeout_minutes=data.get("rule_timeout_minutes"),
                description=data.get("description") or "",
            )
        except RuleError as error:
            raise _relocated(error, where) from None


_RULE_KEYS = (
    "name", "senders", "recipients", "action", "function_arn", "synchronous",
    "fallback_action", "rule_timeout_minutes", "description",
)
_KEY_ALIASES = {
    "sender": "senders", "sender_patterns": "senders", "from": "senders",
    "recipient": "recipients", "recipient_patterns": "recipients", "to": "recipients", "destination": "recipients",
    "timeout": "rule_timeout_minutes", "rule_timeout": "rule_timeout_minutes",
    "timeout_minutes": "rule_timeout_minutes",
    "fallback": "fallback_action", "arn": "function_arn", "lambda_arn": "function_arn", "function": "function_arn",
    "sync": "synchronous", "run_synchronously": "synchronous", "type": "action",
}
_MISSING_FIX = {
    "name": "add name: a short unique name such as 'drop-spam'",
    "senders": "add senders: ['*'] to match every sender, or list addresses and domains",
    "recipients": "add recipients: ['*'] to match every recipient, or list addresses and domains",
    "action": "add action: one of the direction's actions, for example DEFAULT",
}


def _best(patterns: Iterable[Pattern], address: str) -> Pattern | None:
    best = None
    for p in patterns:
        if p.matches(address) and (best is None or p.specificity > best.specificity):
            best = p
    return best


def _check_action(value: Any, direction: str, key: str, where: str, *, allow_lambda: bool) -> str:
    allowed = ACTIONS[direction] if allow_lambda else _FALLBACKS[direction]
    if not isinstance(value, str):
        raise _located(
            where, f"{key} must be text, got {_type_name(value)} {value!r}", "", f"use one of {', '.join(allowed)}"
        )
    text = value.strip()
    upper = text.upper().replace(" ", "_").replace("-", "_")
    by_label = {label.lower(): action for action, label in ACTION_LABELS[direction].items()}
    action = upper if upper in ACTIONS[direction] else by_label.get(text.lower())
    if action is None:
        other = OUTBOUND if direction == INBOUND else INBOUND
        if upper in ACTIONS[other] or text.lower() in {lbl.lower() for lbl in ACTION_LABELS[other].values()}:
            problem = f"{key} {value!r} exists only for {other.lower()} rules"
        else:
            problem = f"{key} {value!r} is not an {direction.lower()} action"
        suggestion = _suggest(upper, allowed)
        fix = f"use one of {', '.join(allowed)}" + (f" (did you mean {suggestion}?)" if suggestion else "")
        raise _located(where, problem, "", fix)
    if not allow_lambda and action == RUN_LAMBDA:
        raise _located(
            where,
            f"{key} cannot be RUN_LAMBDA: the fallback applies when the function cannot be run, "
            "so it cannot itself be a Lambda action (Configuring AWS Lambda for Amazon WorkMail)",
            "",
            f"use one of {', '.join(allowed)}",
        )
    return action


def _check_patterns(value: Any, side: str, where: str) -> tuple[Pattern, ...]:
    items = (value,) if isinstance(value, str) else value
    if isinstance(items, Mapping) or not isinstance(items, Iterable) or isinstance(items, bytes | bytearray):
        raise _located(
            where,
            f"{side} patterns must be a list of text, got {_type_name(value)}",
            "",
            f"write {side}s: ['*'] or a list of addresses and domains",
        )
    parsed: dict[str, Pattern] = {}
    for item in items:
        try:
            pattern = parse_pattern(item, what=f"{side} pattern")
        except RuleError as error:
            raise _relocated(error, where) from None
        parsed.setdefault(pattern.text, pattern)
    if not parsed:
        raise _located(
            where,
            f"no {side} pattern; every rule needs at least one (an empty list is not 'no condition')",
            "",
            f"write {side}s: ['*'] to match every {side}",
        )
    return tuple(parsed.values())


def _as_tuple(value: Any, *, where: str | None = None, key: str | None = None) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    if where is not None and (value is None or isinstance(value, Mapping) or not isinstance(value, Iterable)):
        raise RuleError(
            f"{where}: {key} must be a list of patterns, got {_type_name(value)} {_short(value)}.",
            fix=f"write {key}: ['*'] or a list of addresses and domains",
        )
    return tuple(value) if isinstance(value, Iterable) and not isinstance(value, Mapping) else value


def _located(where: str, problem: str, detail: str, fix: str) -> RuleError:
    message = f"{where}: {problem}" + (f", {detail}" if detail else "") + "."
    error = RuleError(message, fix=fix)
    error.detail = message[len(where) + 2 :]
    return error


def _relocated(error: RuleError, where: str) -> RuleError:
    """The same error, said about ``where`` instead of wherever it was raised."""
    detail = getattr(error, "detail", None) or error.problem
    new = RuleError(f"{where}: {detail}", fix=error.fix)
    new.detail = detail
    return new


def _check_keys(data: Mapping, known: Sequence[str], where: str) -> None:
    for key in data:
        if key in known:
            continue
        hint = _KEY_ALIASES.get(str(key).lower()) if known is _RULE_KEYS else None
        hint = hint or _suggest(str(key), known)
        raise RuleError(
            f"{where}: unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else "") + ".",
            fix=f"use only {', '.join(known)}",
        )


def _suggest(value: str, choices: Iterable[str]) -> str | None:
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def _type_name(value: Any) -> str:
    return {
        type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "text",
        list: "a list", tuple: "a list", dict: "a mapping",
    }.get(type(value), f"a {type(value).__name__}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------ index


class _Side:
    """Precompiled lookup for one side (senders or recipients) of one direction's rules."""

    __slots__ = ("address", "domain", "wildcard", "star", "cache")

    def __init__(self) -> None:
        self.address: dict[str, list[tuple[int, Pattern]]] = {}
        self.domain: dict[str, list[tuple[int, Pattern]]] = {}
        self.wildcard: dict[str, list[tuple[int, Pattern]]] = {}
        self.star: list[tuple[int, Pattern]] = []
        self.cache: dict[str, dict[int, Pattern]] = {}

    def add(self, index: int, pattern: Pattern) -> None:
        if pattern.kind == STAR:
            self.star.append((index, pattern))
        else:
            table = {ADDRESS: self.address, DOMAIN: self.domain, WILDCARD_DOMAIN: self.wildcard}[pattern.kind]
            table.setdefault(pattern.value, []).append((index, pattern))

    def lookup(self, key: str, domain: str) -> dict[int, Pattern]:
        """Rule index -> the most specific of that rule's patterns matching the address."""
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        found: dict[int, Pattern] = {}
        # From the least to the most specific: later entries overwrite earlier ones.
        for i, p in self.star:
            found[i] = p
        if domain:
            if self.wildcard:
                labels = domain.split(".")
                for start in range(len(labels) - 1, -1, -1):
                    for i, p in self.wildcard.get(".".join(labels[start:]), ()):
                        found[i] = p
            for i, p in self.domain.get(domain, ()):
                found[i] = p
            for i, p in self.address.get(key, ()):
                found[i] = p
        if len(self.cache) >= 50_000:
            self.cache.clear()
        self.cache[key] = found
        return found


class _Index:
    """One direction's rules, compiled for evaluation."""

    __slots__ = ("rules", "senders", "recipients", "ranks", "tails", "lambdas")

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.senders = _Side()
        self.recipients = _Side()
        self.ranks = tuple(r.rank for r in rules)
        #: The low bits of a candidate's sort order: action rank, then position.
        self.tails = tuple((rank << 16) | i for i, rank in enumerate(self.ranks))
        self.lambdas = frozenset(i for i, r in enumerate(rules) if r.action == RUN_LAMBDA)
        for i, rule in enumerate(rules):
            for p in rule.senders:
                self.senders.add(i, p)
            for p in rule.recipients:
                self.recipients.add(i, p)


# -------------------------------------------------------------- evaluation

SENDER_HEADER = "Sender"
FROM_HEADER = "From"


def _combine(mode: str, s: Specificity, r: Specificity) -> tuple[int, ...]:
    if mode == "sender-first":
        return (s.level, s.labels, r.level, r.labels)
    if mode == "recipient-first":
        return (r.level, r.labels, s.level, s.labels)
    if mode == "sum":
        return (s.level + r.level, s.labels + r.labels)
    return tuple(max(s, r))


def _weight(mode: str, s: Pattern, r: Pattern) -> int:
    """:func:`_combine` as one int (same order), for the evaluation's hot path."""
    if mode == "sender-first":
        return (s.weight << 16) | r.weight
    if mode == "recipient-first":
        return (r.weight << 16) | s.weight
    if mode == "sum":
        a, b = s.specificity, r.specificity
        return ((a.level + b.level) << 16) | (a.labels + b.labels)
    return max(s.weight, r.weight)


_MAX_WEIGHT = 1 << 27  # above any weight _weight returns


@dataclass(frozen=True)
class RuleMatch:
    """One rule as the evaluation saw it: matched or not, and what became of it.

    ``outcome`` is ``"winner"`` (its action applies), ``"runs"`` (a Run Lambda
    rule that runs too, per the settings), ``"lost"`` or ``"no match"``;
    ``reason`` says why in words. For a matching rule, ``header`` is the header
    whose address matched its sender patterns, ``sender_pattern`` and
    ``recipient_pattern`` the most specific patterns that matched and
    ``specificity`` the combined key (larger is more specific).
    """

    rule: Rule
    index: int
    matched: bool
    outcome: str
    reason: str
    header: str | None = None
    sender_pattern: Pattern | None = None
    recipient_pattern: Pattern | None = None
    specificity: tuple[int, ...] = ()

    @property
    def where(self) -> str:
        """``inbound[2] "block-partner"``: the rule's place in the rule set."""
        return f'{self.rule.direction.lower()}[{self.index}] "{self.rule.name}"'

    def to_record(self) -> dict[str, Any]:
        """The row ``to_dataframe()`` shows."""
        rule = self.rule
        mode = ("sync" if rule.synchronous else "async") if rule.is_run_lambda else ""
        return {
            "rule": rule.name,
            "position": f"{rule.direction.lower()}[{self.index}]",
            "action": rule.action,
            "label": rule.label,
            "lambda": mode,
            "matched": self.matched,
            "header": self.header,
            "sender_pattern": self.sender_pattern.text if self.sender_pattern else None,
            "sender_kind": self.sender_pattern.kind if self.sender_pattern else None,
            "recipient_pattern": self.recipient_pattern.text if self.recipient_pattern else None,
            "recipient_kind": self.recipient_pattern.kind if self.recipient_pattern else None,
            "specificity": self.specificity or None,
            "rank": rule.rank,
            "outcome": self.outcome,
            "reason": self.reason,
        }


_RECORD_COLUMNS = (
    "rule", "position", "action", "label", "lambda", "matched", "header", "sender_pattern", "sender_kind",
    "recipient_pattern", "recipient_kind", "specificity", "rank", "outcome", "reason",
)


@dataclass(frozen=True)
class Evaluation:
    """What the rules do with one recipient of one message.

    ``action`` is the winning rule's action, or DEFAULT when no rule matches
    (WorkMail's default behaviour). ``winner`` is that rule (None for the
    default); ``lambda_rules`` the Run Lambda rules that run for this recipient,
    in precedence order; ``matched_header`` ``"Sender"`` or ``"From"`` (the
    header whose address matched the winner), None when nothing matched;
    ``matches`` every matching rule, in precedence order, each with its outcome
    and reason.

    When a synchronous function runs, its response decides delivery
    (:func:`workmail_sandbox.responses.resolve_response`, with the rule's
    fallback); ``delivery_action`` is then None. Asynchronous functions never
    change delivery.
    """

    direction: str
    recipient: str
    sender_header: str | None
    from_address: str | None
    action: str
    winner: Rule | None
    lambda_rules: tuple[Rule, ...]
    matched_header: str | None
    settings: PrecedenceSettings
    #: The direction's rules when the evaluation was made (for explanations).
    rules: tuple[Rule, ...] = field(repr=False, compare=False, default=())
    #: ``(order, index, header, sender pattern, recipient pattern)`` per matching rule.
    candidates: tuple[tuple[int, int, str, Pattern, Pattern], ...] = field(repr=False, compare=False, default=())
    winner_index: int | None = field(repr=False, compare=False, default=None)
    running_indices: tuple[int, ...] = field(repr=False, compare=False, default=())

    @cached_property
    def matches(self) -> tuple[RuleMatch, ...]:
        """Every matching rule, in precedence order, with its outcome and the reason (built on first use)."""
        settings = self.settings
        mode = settings.specificity
        ranked = [
            _Candidate(i, self.rules[i], h, s, r, _combine(mode, s.specificity, r.specificity), self.rules[i].rank)
            for _, i, h, s, r in sorted(self.candidates)
        ]
        by_index = {c.index: c for c in ranked}
        winner = by_index.get(self.winner_index) if self.winner_index is not None else None
        running = [by_index[i] for i in self.running_indices]
        out = []
        for c in ranked:
            if winner is not None and c.index == winner.index:
                rivals = ranked
                if settings.run_lambda == "in-addition":
                    rivals = [o for o in ranked if o.rule.action != RUN_LAMBDA]
                outcome, reason = "winner", _why_won(c, rivals, len(rivals) < len(ranked))
            elif c.index in self.running_indices:
                outcome = "runs"
                if settings.run_lambda == "in-addition" and c.index == running[0].index:
                    if winner is None:
                        reason = (
                            "runs: the most specific matching Run Lambda rule; no other rule matches, so the "
                            "action is DEFAULT (setting run_lambda: in-addition)"
                        )
                    else:
                        reason = "runs in addition to the winning rule (setting run_lambda: in-addition)"
                else:
                    reason = "also runs: every matching Run Lambda rule runs (setting lambda_rules: all-matching)"
            else:
                outcome = "lost"
                ref = winner
                if settings.run_lambda == "in-addition" and c.rule.action == RUN_LAMBDA:
                    ref = running[0]
                reason = _why_lost(c, ref, mode)
            out.append(RuleMatch(c.rule, c.index, True, outcome, reason, c.header, c.sender, c.recipient, c.key))
        return tuple(out)

    @property
    def is_default(self) -> bool:
        """True when no rule matched and WorkMail's default behaviour applies."""
        return self.winner is None and not self.lambda_rules

    @property
    def label(self) -> str:
        """The console label of ``action``."""
        return ACTION_LABELS[self.direction][self.action]

    @property
    def winner_match(self) -> RuleMatch | None:
        """The winner's :class:`RuleMatch`."""
        return next((m for m in self.matches if m.outcome == "winner"), None)

    @property
    def losers(self) -> tuple[RuleMatch, ...]:
        """Matching rules whose action does not apply (and, for Run Lambda, that do not run)."""
        return tuple(m for m in self.matches if m.outcome == "lost")

    @property
    def function_arns(self) -> tuple[str, ...]:
        """The ARNs of the functions that run, in order."""
        return tuple(r.function_arn for r in self.lambda_rules if r.function_arn)

    @property
    def synchronous_rule(self) -> Rule | None:
        """The first synchronous Run Lambda rule that runs, if any."""
        return next((r for r in self.lambda_rules if r.synchronous), None)

    @property
    def delivery_action(self) -> str | None:
        """What delivery does without asking a function, or None when a synchronous function decides.

        An asynchronous function does not affect delivery, so a recipient whose
        only rule is an asynchronous Run Lambda rule gets DEFAULT.
        """
        if self.synchronous_rule is not None:
            return None
        return DEFAULT if self.action == RUN_LAMBDA else self.action

    def considered(self) -> tuple[RuleMatch, ...]:
        """One :class:`RuleMatch` per rule of the direction: the matching ones in
        precedence order, then the others in list order, each saying why it did not match."""
        matched = {m.index for m in self.matches}
        rest = [self._no_match(i, r) for i, r in enumerate(self.rules) if i not in matched]
        return self.matches + tuple(rest)

    def _no_match(self, index: int, rule: Rule) -> RuleMatch:
        if rule.best_recipient_match(self.recipient) is None:
            reason = (
                f"recipient {self.recipient!r} matches none of its recipient patterns {list(rule.recipient_patterns)}"
            )
        else:
            patterns = list(rule.sender_patterns)
            from_match = self.from_address is not None and rule.best_sender_match(self.from_address) is not None
            if self.direction == INBOUND and self.matched_header == SENDER_HEADER and from_match:
                reason = (
                    f"From {self.from_address!r} would match, but the Sender header matched other rules, "
                    "so From is not tried (Sender first)"
                )
            elif self.sender_header is not None and self.from_address is not None:
                reason = (
                    f"neither Sender {self.sender_header!r} nor From {self.from_address!r} "
                    f"matches its sender patterns {patterns}"
                )
            elif self.sender_header is not None:
                reason = f"Sender {self.sender_header!r} matches none of its sender patterns {patterns}"
            elif self.from_address is not None:
                reason = f"From {self.from_address!r} matches none of its sender patterns {patterns}"
            else:
                reason = "there is no Sender or From address to match its sender patterns"
        return RuleMatch(rule, index, False, "no match", reason)

    def explain(self) -> str:
        """Readable text: the result, the winning rule, why every other rule lost or did not match."""
        d = self.direction
        lines = [f"{d.capitalize()} rules for recipient {self.recipient}"]
        lines.append(
            f"  Sender header: {self.sender_header or '(none)'}    From: {self.from_address or '(none)'}"
        )
        if self.matched_header == SENDER_HEADER:
            lines.append("  Matched with the Sender header (it is tried first).")
        elif self.matched_header == FROM_HEADER:
            if d == INBOUND and self.sender_header:
                lines.append("  Matched with From: the Sender header matched no rule.")
            elif d == INBOUND:
                lines.append("  Matched with From: there is no Sender header.")
            else:
                lines.append("  Matched with From.")
        lines.append(f"Result: {self.action} ({self.label}): {ACTION_EFFECTS[d][self.action]}.")
        win = self.winner_match
        if win is None and not self.lambda_rules:
            lines.append("  No rule matches, so WorkMail's default behaviour applies.")
        if win is not None:
            lines.append(f"Winning rule: {win.where}: {_patterns_text(win)}")
            lines.append(f"  why: {win.reason}")
        for rule in self.lambda_rules:
            match = next(m for m in self.matches if m.rule is rule)
            if rule.synchronous:
                minutes = rule.rule_timeout_minutes
                if minutes == 0:
                    when = "if a call fails, at once (rule timeout 0: no retries)"
                else:
                    when = f"if it still fails after {minutes} minute{'s' if minutes != 1 else ''} of retries"
                what = (
                    f"synchronous: {rule.function_arn} runs before delivery and its response decides; "
                    f"{when}, the fallback {rule.fallback_action} applies"
                )
            else:
                what = (
                    f"asynchronous: {rule.function_arn} runs while the message is handled "
                    "and does not change delivery"
                )
            if match.outcome == "runs":
                lines.append(f"{'Also runs' if win is not None else 'Runs'}: {match.where}: {match.reason}")
            lines.append(f"  Run Lambda, {what}.")
        if self.action == RUN_LAMBDA and self.delivery_action == DEFAULT:
            lines.append(f"  Delivery: {DEFAULT} ({ACTION_EFFECTS[d][DEFAULT]}).")
        losers = self.losers
        if losers:
            lines.append("Other matching rules:")
            lines += [f"  - {m.where} ({m.rule.action}): lost: {m.reason}" for m in losers]
        others = self.considered()[len(self.matches):]
        if others:
            lines.append("Rules that did not match:")
            lines += [f"  - {m.where} ({m.rule.action}): {m.reason}" for m in others]
        order = " > ".join(ACTIONS[d])
        lines.append(
            "How WorkMail decides: the most specific rule wins (address > domain > wildcard domain > '*'; "
            f"{self.settings.describe()}); at equal specificity the most restrictive action wins, in the "
            f"order of the documentation's table: {order}."
        )
        changed = {k: v for k, v in self.settings.to_dict().items() if v != getattr(PrecedenceSettings(), k)}
        if changed:
            listed = ", ".join(f"{k}: {v}" for k, v in changed.items())
            lines.append(f"Settings changed from the defaults: {listed}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per rule considered (see :meth:`considered`)."""
        return [m.to_record() for m in self.considered()]

    def to_dataframe(self):
        """The rules considered as a pandas DataFrame, one row per rule."""
        import pandas as pd

        return pd.DataFrame(self.to_records(), columns=list(_RECORD_COLUMNS))


def _patterns_text(m: RuleMatch) -> str:
    s, r = m.sender_pattern, m.recipient_pattern
    return (
        f"sender pattern {s.text!r} ({s.kind}, matched {m.header}), "
        f"recipient pattern {r.text!r} ({r.kind}), action {m.rule.action} ({m.rule.label})"
    )


class _Candidate(NamedTuple):
    index: int
    rule: Rule
    header: str
    sender: Pattern
    recipient: Pattern
    key: tuple[int, ...]
    rank: int


def _why_lost(c: _Candidate, ref: _Candidate, mode: str) -> str:
    if c.key < ref.key:
        return "less specific: " + _specificity_gap(c, ref, mode)
    if c.rank > ref.rank:
        return f"same specificity, less restrictive: {c.rule.action} ranks below {ref.rule.action}"
    return f'same specificity and action as "{ref.rule.name}", which comes earlier in the rule list'


def _specificity_gap(c: _Candidate, ref: _Candidate, mode: str) -> str:
    if mode in ("sum", "max"):
        return (
            f"{mode} of sender and recipient specificity {c.key} vs {ref.key} in \"{ref.rule.name}\" "
            f"(sender '{c.sender.text}' + recipient '{c.recipient.text}' vs "
            f"'{ref.sender.text}' + '{ref.recipient.text}')"
        )
    sides = [("sender", c.sender, ref.sender), ("recipient", c.recipient, ref.recipient)]
    if mode == "recipient-first":
        sides.reverse()
    for side, mine, theirs in sides:
        if mine.specificity != theirs.specificity:
            if mine.kind != theirs.kind:
                head = f"{mine.kind} rule vs {theirs.kind} rule"
            else:
                head = (
                    f"shorter wildcard domain ({mine.specificity.labels} vs {theirs.specificity.labels} labels)"
                )
            return f"{head} (\"{ref.rule.name}\"): {side} pattern '{mine.text}' vs '{theirs.text}'"
    return f"specificity {c.key} vs {ref.key}"  # pragma: no cover - unreachable when keys differ


# ----------------------------------------------------------------- rule set


class RuleSet:
    """An organization's email flow rules, both directions, in order.

    Rule names are unique (compared without regard to case); the organization
    quota of 1,000 sender patterns is checked on every change. ``settings`` is a
    :class:`PrecedenceSettings` (a mapping is accepted too).
    """

    def __init__(
        self, rules: Iterable[Rule] = (), *, settings: PrecedenceSettings | Mapping[str, str] | None = None,
        description: str = "",
    ) -> None:
        self._rules: list[Rule] = []
        self._index: dict[str, _Index] = {}
        self.settings = settings  # type: ignore[assignment]
        self.description = description
        for rule in rules:
            self.add(rule)

    # ------------------------------------------------------------ contents

    @property
    def settings(self) -> PrecedenceSettings:
        """The :class:`PrecedenceSettings` in force."""
        return self._settings

    @settings.setter
    def settings(self, value: PrecedenceSettings | Mapping[str, str] | None) -> None:
        self._settings = PrecedenceSettings.from_dict(value)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, in order."""
        return tuple(self._rules)

    @property
    def inbound(self) -> tuple[Rule, ...]:
        """The inbound rules, in order."""
        return self.rules_for(INBOUND)

    @property
    def outbound(self) -> tuple[Rule, ...]:
        """The outbound rules, in order."""
        return self.rules_for(OUTBOUND)

    def rules_for(self, direction: str) -> tuple[Rule, ...]:
        """One direction's rules, in order."""
        d = _direction(direction)
        return tuple(r for r in self._rules if r.direction == d)

    @property
    def sender_pattern_count(self) -> int:
        """Sender patterns over all rules (WorkMail allows 1,000 per organization)."""
        return sum(len(r.sender_patterns) for r in self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(tuple(self._rules))

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Rule):
            return item in self._rules
        return isinstance(item, str) and self._find(item) is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleSet):
            return NotImplemented
        # Only the order within each direction matters for evaluation.
        return (self.inbound, self.outbound, self.settings) == (other.inbound, other.outbound, other.settings)

    def __repr__(self) -> str:
        return f"RuleSet({len(self.inbound)} inbound, {len(self.outbound)} outbound, settings={self.settings})"

    def get(self, name: str) -> Rule:
        """The rule called ``name`` (any case), or :class:`RuleError`."""
        rule = self._find(name)
        if rule is None:
            raise self._unknown(name)
        return rule

    def _find(self, name: str) -> Rule | None:
        wanted = name.strip().lower()
        return next((r for r in self._rules if r.name.lower() == wanted), None)

    def _unknown(self, name: str) -> RuleError:
        hint = _suggest(name, [r.name for r in self._rules])
        return RuleError(
            f"There is no rule called {name!r}" + (f" (did you mean {hint!r}?)" if hint else "") + ".",
            fix="use one of "
            + (", ".join(repr(r.name) for r in self._rules) or "the rules you added (there are none)"),
        )

    def _where(self, rule: Rule, index: int | None = None) -> str:
        if index is None:
            index = sum(1 for r in self._rules if r.direction == rule.direction)
        return f'{rule.direction.lower()}[{index}] "{rule.name}"'

    def add(self, rule: Rule, *, position: int | None = None) -> Rule:
        """Add ``rule`` (at the end, or at ``position`` in the whole list); returns it."""
        if not isinstance(rule, Rule):
            raise RuleError(
                f"RuleSet.add takes a Rule, got {_type_name(rule)}.",
                fix="build one with Rule.inbound(...), Rule.outbound(...) or Rule.run_lambda(...)",
            )
        self._check_new(rule, self._where(rule), self._rules)
        if position is None:
            self._rules.append(rule)
        else:
            self._rules.insert(position, rule)
        self._index.clear()
        return rule

    def remove(self, name: str | Rule) -> Rule:
        """Remove the rule called ``name`` (or that rule); returns it. Takes effect at once, as in WorkMail."""
        rule = self.get(name.name if isinstance(name, Rule) else name)
        self._rules.remove(rule)
        self._index.clear()
        return rule

    @staticmethod
    def _check_new(rule: Rule, where: str, existing: Sequence[Rule]) -> None:
        clash = next((r for r in existing if r.name.lower() == rule.name.lower()), None)
        if clash is not None:
            raise RuleError(
                f"{where}: the name {rule.name!r} is already used by the {clash.direction.lower()} rule "
                f"{clash.name!r}; rule names must be unique.",
                fix=f"give this rule another name, for example {rule.name + '-2'!r}",
            )
        total = sum(len(r.sender_patterns) for r in existing) + len(rule.sender_patterns)
        if total > MAX_SENDER_PATTERNS_PER_ORGANIZATION:
            raise RuleError(
                f"{where}: with this rule the rule set has {total:,} sender patterns; WorkMail allows at most "
                f"{MAX_SENDER_PATTERNS_PER_ORGANIZATION:,} per organization (Amazon WorkMail quotas).",
                fix="merge addresses into domain or '*.domain' patterns, or remove rules you no longer need",
            )

    def validate(self) -> RuleSet:
        """Check the whole set again (names unique, quotas, each rule); returns ``self``.

        Rules are checked when they are made, so this only finds problems
        introduced by going around the API.
        """
        seen: list[Rule] = []
        counts = {INBOUND: 0, OUTBOUND: 0}
        for rule in self._rules:
            where = f'{str(rule.direction).lower()}[{counts.get(rule.direction, 0)}] "{rule.name}"'
            try:
                again = Rule(
                    rule.name, rule.direction, rule.sender_patterns, rule.recipient_patterns, rule.action,
                    function_arn=rule.function_arn, synchronous=rule.synchronous,
                    fallback_action=rule.fallback_action, rule_timeout_minutes=rule.rule_timeout_minutes,
                    description=rule.description,
                )
            except RuleError as error:
                raise _relocated(error, where) from None
            self._check_new(again, where, seen)
            seen.append(again)
            counts[again.direction] += 1
        return self

    # ---------------------------------------------------------- evaluation

    def _compiled(self, direction: str) -> _Index:
        index = self._index.get(direction)
        if index is None:
            index = self._index[direction] = _Index(self.rules_for(direction))
        return index

    def evaluate(
        self, direction: str, recipient: str, *, sender_header: str | None = None, from_address: str | None,
    ) -> Evaluation:
        """Decide what happens to one recipient of a message.

        Inbound: the rules are tried with the ``Sender`` header first, then, if
        there is none or it matches no rule, with ``From``. Outbound: a rule
        needs the recipient and Sender or From to match. Returns an
        :class:`Evaluation`; DEFAULT when no rule matches.
        """
        d = _direction(direction)
        index = self._compiled(d)
        rkey, rdomain = _address_key(recipient)
        if not rdomain:
            raise RuleError(
                f"The recipient {recipient!r} is not an email address.",
                fix="pass one recipient address, for example 'alice@example.com'",
            )
        rmatch = index.recipients.lookup(rkey, rdomain)
        settings = self._settings
        mode = settings.specificity
        sender_first = mode == "sender-first"
        tails = index.tails
        candidates: list[tuple[int, int, str, Pattern, Pattern]] = []
        if rmatch:
            sender_m = index.senders.lookup(*_address_key(sender_header)) if sender_header else {}
            from_m = index.senders.lookup(*_address_key(from_address)) if from_address else {}
            if d == INBOUND:
                for header, smatch in ((SENDER_HEADER, sender_m), (FROM_HEADER, from_m)):
                    if not smatch:
                        continue
                    small, large = (rmatch, smatch) if len(rmatch) <= len(smatch) else (smatch, rmatch)
                    for i in small:
                        if i in large:
                            s, r = smatch[i], rmatch[i]
                            w = (s.weight << 16) | r.weight if sender_first else _weight(mode, s, r)
                            candidates.append((((_MAX_WEIGHT - w) << 24) | tails[i], i, header, s, r))
                    if candidates:
                        break
            else:
                for i, r in rmatch.items():
                    s, f = sender_m.get(i), from_m.get(i)
                    if s is not None and (f is None or s.weight >= f.weight):
                        header = SENDER_HEADER
                    elif f is not None:
                        s, header = f, FROM_HEADER
                    else:
                        continue
                    w = (s.weight << 16) | r.weight if sender_first else _weight(mode, s, r)
                    candidates.append((((_MAX_WEIGHT - w) << 24) | tails[i], i, header, s, r))
        lambdas = index.lambdas
        if settings.run_lambda == "compete":
            winner = min(candidates) if candidates else None
            if winner is not None and winner[1] in lambdas:
                if settings.lambda_rules == "all-matching":
                    running = sorted(c for c in candidates if c[1] in lambdas)
                else:
                    running = [winner]
            else:
                running = []
        else:
            others = [c for c in candidates if c[1] not in lambdas]
            winner = min(others) if others else None
            mine = [c for c in candidates if c[1] in lambdas]
            if settings.lambda_rules == "all-matching":
                running = sorted(mine)
            else:
                running = [min(mine)] if mine else []
        rules = index.rules
        if winner is not None:
            header = winner[2]
        elif running:
            header = running[0][2]
        else:
            header = None
        win = rules[winner[1]] if winner is not None else None
        # Built without the frozen dataclass's __init__ (one object.__setattr__ per
        # field): this runs for every recipient of large corpora.
        evaluation = object.__new__(Evaluation)
        evaluation.__dict__.update(
            direction=d,
            recipient=rkey,
            sender_header=sender_header,
            from_address=from_address,
            action=win.action if win is not None else DEFAULT,
            winner=win,
            lambda_rules=tuple([rules[c[1]] for c in running]) if running else (),
            matched_header=header,
            settings=settings,
            rules=rules,
            candidates=tuple(candidates),
            winner_index=winner[1] if winner is not None else None,
            running_indices=tuple([c[1] for c in running]) if running else (),
        )
        return evaluation

    def evaluate_recipients(
        self, direction: str, recipients: Iterable[str], *, sender_header: str | None = None,
        from_address: str | None,
    ) -> dict[str, Evaluation]:
        """One :class:`Evaluation` per recipient (each recipient gets its own rule), keyed by the lower-case address."""
        results: dict[str, Evaluation] = {}
        for recipient in recipients:
            evaluation = self.evaluate(direction, recipient, sender_header=sender_header, from_address=from_address)
            results.setdefault(evaluation.recipient, evaluation)
        return results

    def test_configuration(
        self, sender: str, recipient: str, direction: str = "inbound", from_address: str | None = None,
    ) -> Evaluation:
        """The console's **Test configuration** box: a sender and a recipient in, the action out.

        ``sender`` is the message's From address; pass ``from_address`` as well
        to test a message whose Sender header (``sender``) and From differ.
        ``evaluation.explain()`` says what applies and why.
        """
        if from_address is None:
            return self.evaluate(direction, recipient, from_address=sender)
        return self.evaluate(direction, recipient, sender_header=sender, from_address=from_address)

    # -------------------------------------------------------- load and save

    def to_dict(self) -> dict[str, Any]:
        """The rule set as the rule file writes it."""
        data: dict[str, Any] = {}
        if self.description:
            data["description"] = self.description
        data["settings"] = self.settings.to_dict()
        data["inbound"] = [r.to_dict() for r in self.inbound]
        data["outbound"] = [r.to_dict() for r in self.outbound]
        return data

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> RuleSet:
        """A rule set from the file format (see the module docstring).

        Errors name the rule by direction, index and name, and the field:
        ``inbound[2] "block-partner": sender pattern ...``; ``source`` (a file
        name) is put in front.
        """
        prefix = f"{source}: " if source else ""
        try:
            return cls._from_dict(data)
        except RuleError as error:
            if not prefix:
                raise
            raise RuleError(prefix + error.problem, fix=error.fix) from None

    @classmethod
    def _from_dict(cls, data: Any) -> RuleSet:
        if data is None:
            raise RuleError(
                "the rule set is empty.",
                fix="write at least one of inbound: [...] and outbound: [...] (see data/rules/README.md)",
            )
        if not isinstance(data, Mapping):
            raise RuleError(
                f"the rule set must be a mapping with inbound, outbound and settings; got {_type_name(data)}.",
                fix="start the file with 'inbound:' (YAML) or '{\"inbound\": [...]}' (JSON)",
            )
        _check_keys(data, ("description", "settings", "inbound", "outbound"), "the rule set")
        description = data.get("description") or ""
        if not isinstance(description, str):
            raise RuleError("description must be text.", fix="quote the description")
        ruleset = cls(settings=PrecedenceSettings.from_dict(data.get("settings")), description=description)
        for direction in (INBOUND, OUTBOUND):
            section = direction.lower()
            entries = data.get(section)
            if entries is None:
                continue
            if not isinstance(entries, list):
                raise RuleError(
                    f"{section} must be a list of rules, got {_type_name(entries)}.",
                    fix=f"write {section}: followed by rules, each starting with '- name: ...'",
                )
            for i, entry in enumerate(entries):
                rule = Rule.from_dict(entry, direction, where=f"{section}[{i}]")
                cls._check_new(rule, f'{section}[{i}] "{rule.name}"', ruleset._rules)
                ruleset._rules.append(rule)
        return ruleset

    @classmethod
    def from_file(cls, path: str | Path) -> RuleSet:
        """Load a ``.json``, ``.yaml`` or ``.yml`` rule file; every problem is a :class:`RuleError`."""
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in (".json", ".yaml", ".yml"):
            raise RuleError(
                f"{p}: rule files are .json, .yaml or .yml, got {suffix or 'no extension'!r}.",
                fix="rename the file with one of those extensions, matching its content",
            )
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RuleError(f"{p}: no such file.", fix="check the path (data/rules/ holds the examples)") from None
        except UnicodeDecodeError as error:
            raise RuleError(
                f"{p}: not UTF-8 text ({error.reason} at byte {error.start}).", fix="save it as UTF-8"
            ) from None
        except OSError as error:
            raise RuleError(f"{p}: cannot be read ({error.strerror}).", fix="check the path and permissions") from None
        data = _parse_json(text, p) if suffix == ".json" else _parse_yaml(text, p)
        return cls.from_dict(data, source=str(p))

    def to_file(self, path: str | Path) -> Path:
        """Write the rule set as JSON or YAML (chosen by the extension); returns the path."""
        p = Path(path)
        suffix = p.suffix.lower()
        data = self.to_dict()
        if suffix == ".json":
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        elif suffix in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        else:
            raise RuleError(
                f"{p}: rule files are .json, .yaml or .yml, got {suffix or 'no extension'!r}.",
                fix="pick a file name ending in .json, .yaml or .yml",
            )
        p.write_text(text, encoding="utf-8")
        return p


def _why_won(c: _Candidate, ranked: list[_Candidate], lambdas_aside: bool = False) -> str:
    rivals = [o for o in ranked if o.index != c.index]
    if not rivals:
        return "the only matching rule" + (" besides Run Lambda rules, which run in addition" if lambdas_aside else "")
    tied = [o for o in rivals if o.key == c.key]
    if not tied:
        return "the most specific matching rule"
    worse = [o for o in tied if o.rank > c.rank]
    if worse:
        return (
            f"same specificity as {', '.join(repr(o.rule.name) for o in tied)}; most restrictive action: "
            f"{c.rule.action} ranks above {worse[0].rule.action} in the documentation's table"
        )
    return "same specificity and action as another rule; it comes first in the rule list"


_DIRECTIONS = {"inbound": INBOUND, "INBOUND": INBOUND, "outbound": OUTBOUND, "OUTBOUND": OUTBOUND}


def _direction(direction: Any) -> str:
    found = _DIRECTIONS.get(direction) if isinstance(direction, str) else None
    if found is not None:
        return found
    value = str(direction).strip().upper() if isinstance(direction, str) else None
    if value not in ACTIONS:
        raise RuleError(
            f"The direction must be inbound or outbound, got {direction!r}.",
            fix="pass direction='inbound' or direction='outbound'",
        )
    return value


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RuleError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}).",
            fix="fix the JSON syntax there (a missing comma or quote is the usual cause), or write the rules as YAML",
        ) from None


def _parse_yaml(text: str, path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        if "alias" in str(error):
            fix = "quote patterns that start with '*' (YAML reads * as an alias): write \"*\" or \"*.example.com\""
        else:
            fix = "fix the YAML there (indentation and ':' after each key are the usual causes)"
        raise RuleError(f"{path}: not valid YAML ({at}{problem}).", fix=fix) from None
