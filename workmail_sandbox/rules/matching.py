"""Matching and precedence: which rules match one recipient, and which of them applies.

Each direction's rules are compiled into an index (:class:`_Index`, one lookup
table per pattern kind and side); :func:`_evaluate` finds the rules whose
patterns match the recipient and the sender (Sender header, then From, for
inbound mail; Sender or From for outbound), orders them by specificity, then by
the action's place in the documentation's table, then by their place in the
rule list, and picks the winner and the Run Lambda rules that run, as the
:class:`PrecedenceSettings` say. :meth:`RuleSet.evaluate
<workmail_sandbox.rules.RuleSet.evaluate>` is the public entry point.
"""

from __future__ import annotations

from ..errors import RuleError
from ..events import INBOUND
from .actions import DEFAULT, RUN_LAMBDA
from .evaluation import FROM_HEADER, SENDER_HEADER, Evaluation
from .model import Rule
from .patterns import ADDRESS, DOMAIN, STAR, WILDCARD_DOMAIN, Pattern, _address_key
from .settings import PrecedenceSettings

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

    __slots__ = ("rules", "senders", "recipients", "ranks", "tails", "lambdas", "evaluations")

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        #: Finished evaluations by (settings, direction, recipient, Sender, From): mail between the same
        #: people is decided once (an Evaluation is frozen; the index is dropped when the rules change).
        self.evaluations: dict[tuple[PrecedenceSettings, str, str, str | None, str | None], Evaluation] = {}
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


# --------------------------------------------------------------- precedence


def _weight(mode: str, s: Pattern, r: Pattern) -> int:
    """:func:`~.evaluation._combine` as one int (same order), for the evaluation's hot path."""
    if mode == "sender-first":
        return (s.weight << 16) | r.weight
    if mode == "recipient-first":
        return (r.weight << 16) | s.weight
    if mode == "sum":
        a, b = s.specificity, r.specificity
        return ((a.level + b.level) << 16) | (a.labels + b.labels)
    return max(s.weight, r.weight)


_MAX_WEIGHT = 1 << 27  # above any weight _weight returns


def _evaluate(
    index: _Index, settings: PrecedenceSettings, d: str, recipient: str, sender_header: str | None,
    from_address: str | None,
) -> Evaluation:
    """:meth:`~workmail_sandbox.rules.RuleSet.evaluate` on one direction's compiled rules ``index``.

    ``d`` is that direction, already checked (INBOUND or OUTBOUND).
    """
    memo = (settings, d, recipient, sender_header, from_address)
    known = index.evaluations.get(memo)
    if known is not None:
        return known
    rkey, rdomain = _address_key(recipient)
    if not rdomain:
        raise RuleError(
            f"The recipient {recipient!r} is not an email address.",
            fix="pass one recipient address, for example 'alice@example.com'",
        )
    rmatch = index.recipients.lookup(rkey, rdomain)
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
                by_sender, by_from = sender_m.get(i), from_m.get(i)
                if by_sender is not None and (by_from is None or by_sender.weight >= by_from.weight):
                    s, header = by_sender, SENDER_HEADER
                elif by_from is not None:
                    s, header = by_from, FROM_HEADER
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
        matched_header: str | None = winner[2]
    elif running:
        matched_header = running[0][2]
    else:
        matched_header = None
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
        matched_header=matched_header,
        settings=settings,
        rules=rules,
        candidates=tuple(candidates),
        winner_index=winner[1] if winner is not None else None,
        running_indices=tuple([c[1] for c in running]) if running else (),
    )
    if len(index.evaluations) >= 10_000:
        index.evaluations.clear()
    index.evaluations[memo] = evaluation
    return evaluation
