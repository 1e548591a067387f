"""The actions of email flow rules, their console labels, and their order of precedence.

One tuple per direction, in the documentation's table order, which is the
precedence order (the first is the "most restrictive"). Source: "Managing email
flows", awsdocs/amazon-workmail-administration-guide ``doc_source/email-flows.md``.
"""

from __future__ import annotations

from ..events import INBOUND, OUTBOUND
from ..responses import FALLBACK_ACTION_TYPES

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
