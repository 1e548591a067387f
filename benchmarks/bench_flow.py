"""Mail through an emulated organization vs parsing the same mail, per message.

What it measures: for a generated corpus (``data/generate_corpus.py``, 10,000
messages by default, 1.6 KB on average, 30 % outbound), in one process, three
cases, chunk by chunk (250 messages):

1. **rules + events, no function**: ``Organization.plan(raw, direction="auto")``
   per message (headers-only parse, the rules per recipient, and the Run Lambda
   event of every SMTP conversation, for a rule set with synchronous Run Lambda
   rules in both directions plus the ``basic.yaml`` rules; nothing invoked).
2. **Run Lambda, content-fetching handler**: ``Organization.route`` per message
   with those Run Lambda rules calling a deployed function that fetches the raw
   message with ``get_raw_message_content(...)["messageContent"].read()``:
   message put in transit, WorkMail's permission check, the invocation through
   the local Lambda runtime, the response validated and applied, delivery,
   event log.
3. (for information) **full delivery, no function**: ``Organization.route`` with
   the ``basic.yaml`` rules only (rules, delivery to mailboxes, event log).

Baselines, each run on the same chunk right before or after the case (the order
reversed every other chunk), both with ``email.policy.default``, the policy the
kit's reader (``workmail_sandbox.mail``) uses:

- **headers-only parse**: ``BytesHeaderParser(policy=default).parsebytes(raw)``.
  The floor for case 1: a WorkMail event needs the envelope and a few headers,
  never the body, and this parse does not even read the header values. (Parsing
  only the header block, as the kit does, was about 8 % slower on this corpus
  of small messages: the split costs more than the walk over a short body.)
- **full parse**: ``email.message_from_bytes(raw, policy=default)``, about 6x the
  headers-only parse here. The yardstick for case 2, whose function fetches
  the whole message (a real function would then parse it); a second column for
  the other cases.

Targets, checked on the median of the per-chunk ratios (in brackets: that
median in each of five runs on this shared 2-core VM):

- rules + events <= 3.5x the headers-only parse [3.15, 3.11, 3.14, 3.00, 3.16;
  per-chunk p10-p90 2.5-4.1; 0.49-0.51x the full parse]. 3.5 leaves about 11 %
  for noise and catches a regression of about 12 % or more. The goal of a later
  issue is 1.5x; the script prints how far the kit is from it (about 2.1x)
  without enforcing it.
- Run Lambda (fetch content) <= 3.0x the full parse [2.50, 2.09, 2.01, 2.37,
  2.63].

Before each chunk, what earlier chunks left behind (the event log, in memory
and in CloudWatch Logs, mailbox metadata, the function's own logs) is moved out
of the garbage collector's way (``gc.freeze()``): otherwise every collection
scans a heap that grows with the run, slowing the candidate and the baselines
alike and pulling the ratios towards 1, which would flatter the flow.
The organization keeps metadata only (``FlowSettings(keep_content=False)``, as
replay does), so memory does not grow with message bodies. Messages per second
come from the summed times. The script exits 1 when a target is missed, naming
it with the measured ratio and the target (``make bench`` stops).

Run: ``.venv/bin/python benchmarks/bench_flow.py`` (``--messages``, ``--chunk``,
``--seed`` to change the corpus).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import gc
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Targets  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASELINE_LABELS = {"headers": "headers-only parse", "full": "full parse"}
#: case -> (baseline, at most this median ratio). See the docstring for the figures behind them.
TARGETS = {"rules + events": ("headers", 3.5), "Run Lambda (fetch content)": ("full", 3.0)}
#: Where "rules + events" should get to (a later issue); printed with the gap, not enforced yet.
EVENTS_GOAL = 1.5

HANDLER = '''
import boto3

flow = boto3.client("workmailmessageflow")


def lambda_handler(event, context):
    flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
'''


def _generator():
    spec = importlib.util.spec_from_file_location("generate_corpus", ROOT / "data" / "generate_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_HEADER_PARSER = BytesHeaderParser(policy=email.policy.default)


def headers_only(chunk: list[bytes]) -> None:
    for raw in chunk:
        _HEADER_PARSER.parsebytes(raw)


def full_parse(chunk: list[bytes]) -> None:
    for raw in chunk:
        email.message_from_bytes(raw, policy=email.policy.default)


BASELINES = {"headers": headers_only, "full": full_parse}


@dataclass
class Chunked:
    candidate_s: float  # summed over the chunks
    candidate_ms: float  # median per chunk
    baseline_s: dict[str, float]
    baseline_ms: dict[str, float]
    ratio: dict[str, float]  # median of the per-chunk candidate/baseline ratios
    ratios: dict[str, list[float]]


def chunked(candidate: Callable[[list[bytes]], None], chunks: list[list[bytes]]) -> Chunked:
    """Candidate and every baseline on each chunk, the order reversed every other chunk."""
    sides = [("candidate", candidate), *BASELINES.items()]
    took: dict[str, list[float]] = {key: [] for key, _ in sides}
    for i, chunk in enumerate(chunks):
        # What earlier chunks left behind (event logs, mailbox metadata) would otherwise make every
        # garbage collection slower for all sides alike and pull the ratios towards 1.
        gc.collect()
        gc.freeze()
        for key, fn in sides if i % 2 == 0 else reversed(sides):
            start = time.perf_counter()
            fn(chunk)
            took[key].append(time.perf_counter() - start)
    ratios = {k: [a / b for a, b in zip(took["candidate"], took[k], strict=True)] for k in BASELINES}
    return Chunked(
        sum(took["candidate"]),
        statistics.median(took["candidate"]) * 1000,
        {k: sum(took[k]) for k in BASELINES},
        {k: statistics.median(took[k]) * 1000 for k in BASELINES},
        {k: statistics.median(v) for k, v in ratios.items()},
        ratios,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="corpus size (default 10,000)")
    parser.add_argument("--chunk", type=int, default=250, help="messages per paired chunk (default 250)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)  # the default now; old command lines
    args = parser.parse_args()

    from workmail_sandbox import sandbox
    from workmail_sandbox.deploy import deploy_handler
    from workmail_sandbox.flow import FlowSettings
    from workmail_sandbox.organization import Organization
    from workmail_sandbox.rules import Rule, RuleSet

    gen = _generator()
    corpus = list(gen.generate_messages(args.messages, seed=args.seed))
    size = sum(map(len, corpus))
    chunks = [corpus[i : i + args.chunk] for i in range(0, len(corpus), args.chunk)]
    print(f"corpus: {len(corpus):,} generated messages, {size / len(corpus) / 1024:.1f} KB on average, "
          f"{len(chunks)} chunks of {args.chunk}; baselines: {BASELINE_LABELS['headers']} "
          f"(BytesHeaderParser, policy=default) and {BASELINE_LABELS['full']} (message_from_bytes, policy=default)")

    sb = sandbox.start()
    org = Organization.create(
        sb, "bench-corp", domains=list(gen.ORG_DOMAINS), users=[a for _, a in gen.INTERNAL_USERS],
        groups={"finance@example.com": ["alice@example.com"], "sales@sales.example.com": ["dave@sales.example.com"],
                "support@example.com": ["bob@example.com"]},
        settings=FlowSettings(keep_content=False),
    )
    fn = deploy_handler(HANDLER, name="fetch-content",
                        managed_policies=["arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"])
    org.grant_invoke("fetch-content")
    basic = RuleSet.from_file(ROOT / "data" / "rules" / "basic.yaml")
    lambda_rules = [
        Rule.run_lambda("fetch-inbound", "inbound", fn["FunctionArn"], synchronous=True, fallback_action="DEFAULT",
                        rule_timeout_minutes=0),
        Rule.run_lambda("fetch-outbound", "outbound", fn["FunctionArn"], synchronous=True,
                        fallback_action="DEFAULT", rule_timeout_minutes=0),
    ]
    with_lambda = RuleSet([*lambda_rules, *basic], settings={"run_lambda": "in-addition"})

    def plan(chunk: list[bytes]) -> None:
        for raw in chunk:
            org.plan(raw, direction="auto")

    def route(chunk: list[bytes]) -> None:
        for raw in chunk:
            org.route(raw, direction="auto")

    cases = [
        ("rules + events", with_lambda, plan),
        ("Run Lambda (fetch content)", RuleSet(lambda_rules), route),
        ("full delivery, no function", basic, route),
    ]
    targets = Targets()
    print(f"{'case':<28} {'msg/s':>7} {'/headers-only':>13} {'/full parse':>11}  target")
    details = []
    for name, rules, candidate in cases:
        org.rules = rules
        org.clear_mail()
        candidate(corpus[:50])  # warm-up: imports, the function's cold start
        for fn in BASELINES.values():
            fn(corpus[:50])
        result = chunked(candidate, chunks)
        if name in TARGETS:
            key, limit = TARGETS[name]
            ok = targets.check(f"{name} / {BASELINE_LABELS[key]}", result.ratio[key], limit)
            verdict = f"<= {limit} {BASELINE_LABELS[key]}  {'ok' if ok else 'MISSED'}"
        else:
            verdict = "(information)"
        print(f"{name:<28} {len(corpus) / result.candidate_s:>7,.0f} {result.ratio['headers']:>13.2f} "
              f"{result.ratio['full']:>11.2f}  {verdict}")
        if name == "rules + events":
            gap = result.ratio["headers"] / EVENTS_GOAL
            details.append(f"{name}: goal (a later issue) <= {EVENTS_GOAL} headers-only; "
                           + ("met" if gap <= 1 else f"{gap:.1f}x away from it"))
        invoked = sum(1 for r in org.log.records if r["event"]["eventName"] == "LAMBDA_INVOKED")
        logged = (
            f"{len(org.log.records):,} log events, {invoked:,} invocations" if org.log.records else "nothing logged"
        )
        rates = ", ".join(f"{BASELINE_LABELS[k]} {len(corpus) / v:,.0f} msg/s" for k, v in result.baseline_s.items())
        details.append(f"{name}: {result.candidate_ms:.1f} ms per chunk (median); in the same run {rates}; {logged}")
        details.append(f"{name}: per-chunk ratios to headers-only, p10 {_pct(result.ratios['headers'], 0.1):.2f} "
                       f"p90 {_pct(result.ratios['headers'], 0.9):.2f}")
    for line in details:
        print("  " + line)
    sandbox.stop()
    return targets.report()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


if __name__ == "__main__":
    sys.exit(main())
