"""Email flow rules: patterns, specificity, precedence, actions, and "Test configuration".

WorkMail has no API for email flow rules (they are made in the console), so the
sandbox keeps them here and decides, for one recipient at a time, which rule
applies, exactly as the documentation describes and, where it is silent, as the
documented choices below say.

Sources (summarised in docs/aws-behaviour.md §2.1, §4.1-§4.4a):

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

Modules
-------

One concept per module; import from ``workmail_sandbox.rules`` itself:

* :mod:`.actions`: the action constants, their console labels and effects, and
  the two precedence tables;
* :mod:`.patterns`: :class:`Pattern`, :class:`Specificity`, :func:`parse_pattern`;
* :mod:`.settings`: :class:`PrecedenceSettings`, the choices AWS leaves open;
* :mod:`.model`: :class:`Rule` and the quotas it is checked against;
* :mod:`.matching`: which rules match one recipient and which one applies
  (specificity, then action, then position);
* :mod:`.evaluation`: :class:`Evaluation` and :class:`RuleMatch`, the outcome
  for one recipient and why;
* :mod:`.ruleset`: :class:`RuleSet`, the organization's rules in order;
* :mod:`.files`: the rule file format's keys, and reading and writing JSON and YAML.

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
  recipient that is not an address is a :class:`RuleError`. ``test_configuration``
  (the console's Test configuration box) refuses such a sender with a
  :class:`RuleError` and picks no rule (``check_addresses=False`` evaluates it).
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

from ..errors import MessageParseError, RuleError
from ..events import INBOUND, OUTBOUND
from ..mail import normalize_address
from ..responses import FALLBACK_ACTION_TYPES
from ._messages import _located, _relocated, _short, _suggest, _type_name
from .actions import (
    _FALLBACKS,
    _RANK,
    ACTION_EFFECTS,
    ACTION_LABELS,
    ACTIONS,
    BOUNCE,
    BYPASS_SPAM_CHECK,
    DEFAULT,
    DROP,
    INBOUND_ACTIONS,
    MOVE_TO_JUNK,
    OUTBOUND_ACTIONS,
    ROUTE_TO_SMTP_GATEWAY,
    RUN_LAMBDA,
)
from .evaluation import (
    _RECORD_COLUMNS,
    FROM_HEADER,
    SENDER_HEADER,
    Evaluation,
    RuleMatch,
    _Candidate,
    _combine,
    _patterns_text,
    _specificity_gap,
    _why_lost,
    _why_won,
)
from .files import _KEY_ALIASES, _MISSING_FIX, _RULE_KEYS, _check_keys, _parse_json, _parse_yaml
from .matching import _MAX_WEIGHT, _Index, _Side, _weight
from .model import (
    _EXAMPLE_ARN,
    _FUNCTION_ARN,
    MAX_RULE_TIMEOUT_MINUTES,
    MAX_SENDER_PATTERNS_PER_ORGANIZATION,
    MAX_SENDER_PATTERNS_PER_RULE,
    Rule,
    _as_tuple,
    _best,
    _check_action,
    _check_patterns,
)
from .patterns import (
    _IPV4ISH,
    _KEYS,
    _KINDS,
    _LABEL,
    _LOCAL,
    ADDRESS,
    DOMAIN,
    STAR,
    WILDCARD_DOMAIN,
    Pattern,
    Specificity,
    _address_key,
    _check_domain,
    _plus_fix,
    parse_pattern,
)
from .ruleset import _DIRECTIONS, RuleSet, _direction
from .settings import _SETTING_VALUES, LAMBDA_RULES_MODES, RUN_LAMBDA_MODES, SPECIFICITY_MODES, PrecedenceSettings

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

#: Names outside ``__all__`` that were importable from this package when it was
#: one module (``rules.py``). They are still importable from here; listing them
#: also marks the imports above as deliberate re-exports.
_REEXPORTED = (
    # from other modules of the kit
    MessageParseError, RuleError, INBOUND, OUTBOUND, normalize_address, FALLBACK_ACTION_TYPES,
    # .actions
    ACTION_EFFECTS, _FALLBACKS, _RANK,
    # .patterns
    STAR, WILDCARD_DOMAIN, DOMAIN, ADDRESS, _KINDS, _LABEL, _LOCAL, _IPV4ISH, _KEYS,
    _address_key, _check_domain, _plus_fix,
    # .settings
    _SETTING_VALUES,
    # .model
    _FUNCTION_ARN, _EXAMPLE_ARN, _as_tuple, _best, _check_action, _check_patterns,
    # .evaluation
    SENDER_HEADER, FROM_HEADER, _RECORD_COLUMNS, _Candidate, _combine, _patterns_text, _specificity_gap,
    _why_lost, _why_won,
    # .matching
    _MAX_WEIGHT, _Index, _Side, _weight,
    # .ruleset
    _DIRECTIONS, _direction,
    # .files
    _RULE_KEYS, _KEY_ALIASES, _MISSING_FIX, _check_keys, _parse_json, _parse_yaml,
    # ._messages
    _located, _relocated, _short, _suggest, _type_name,
)
