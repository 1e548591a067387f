"""Mail through an emulated organization vs parsing the same mail once, per message.

For a generated corpus (``data/generate_corpus.py``, 10,000 messages by default,
30 % outbound), in one process, measured chunk by chunk against a baseline run
on the same chunk right before or after it (the order alternates):

1. **rules + events, no function**: ``Organization.plan(raw, direction="auto")``
   per message (headers-only parse, the rules per recipient, and the Run Lambda
   event of every SMTP conversation, for a rule set with synchronous Run Lambda
   rules in both directions plus the ``basic.yaml`` rules; nothing invoked).
   Target (issue #4): at most 1.0x a bare parse, since events need only the headers.
2. **Run Lambda, content-fetching handler**: ``Organization.route`` per message
   with those Run Lambda rules calling a deployed function that fetches the raw
   message with ``get_raw_message_content(...)["messageContent"].read()``:
   message put in transit, WorkMail's permission check, the invocation through
   the local Lambda runtime, the response validated and applied, delivery,
   event log. Target: at most 3.0x a bare parse.
3. (for information) **full delivery, no function**: ``Organization.route`` with
   the ``basic.yaml`` rules only (rules, delivery to mailboxes, event log).

The baseline is ``email.message_from_bytes(raw, policy=email.policy.default)``.
Before each chunk, what earlier chunks left behind (the event log, in memory
and in CloudWatch Logs, mailbox metadata, the function's own logs) is moved out
of the garbage collector's way (``gc.freeze()``): otherwise every collection
scans a heap that grows with the run, slowing the candidate and the baseline
alike and pulling the ratio towards 1, which would flatter the flow.
The organization keeps metadata only (``FlowSettings(keep_content=False)``, as
replay does), so memory does not grow with message bodies. Ratios are medians
of the per-chunk ratios; messages per second come from the summed times. Exit
status 1 with ``--check`` when a target is missed.
"""

from __future__ import annotations

import argparse
import email
import gc
import email.policy
import importlib.util
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Paired  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"rules + events": 1.0, "Run Lambda (fetch content)": 3.0}

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


def baseline(chunk: list[bytes]) -> None:
    for raw in chunk:
        email.message_from_bytes(raw, policy=email.policy.default)


def chunked(candidate, chunks: list[list[bytes]]) -> tuple[Paired, float, float]:
    """Candidate and baseline on each chunk, alternating which goes first; (result, candidate s, baseline s)."""
    a_total = b_total = 0.0
    a_times, b_times, ratios = [], [], []
    for i, chunk in enumerate(chunks):
        # What earlier chunks left behind (event logs, mailbox metadata) would otherwise make every
        # garbage collection slower for both sides alike and pull the ratio towards 1.
        gc.collect()
        gc.freeze()
        order = (candidate, baseline) if i % 2 == 0 else (baseline, candidate)
        took = {}
        for fn in order:
            start = time.perf_counter()
            fn(chunk)
            took[fn] = time.perf_counter() - start
        a_times.append(took[candidate])
        b_times.append(took[baseline])
        ratios.append(took[candidate] / took[baseline])
        a_total += took[candidate]
        b_total += took[baseline]
    result = Paired(statistics.median(a_times) * 1000, statistics.median(b_times) * 1000, statistics.median(ratios),
                    len(chunks))
    return result, a_total, b_total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="corpus size (default 10,000)")
    parser.add_argument("--chunk", type=int, default=250, help="messages per paired chunk (default 250)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 if a ratio misses its target")
    args = parser.parse_args()

    from workmail_sandbox import sandbox
    from workmail_sandbox.flow import FlowSettings
    from workmail_sandbox.handlers import deploy_handler
    from workmail_sandbox.organization import Organization
    from workmail_sandbox.rules import Rule, RuleSet

    gen = _generator()
    corpus = list(gen.generate_messages(args.messages, seed=args.seed))
    size = sum(map(len, corpus))
    chunks = [corpus[i : i + args.chunk] for i in range(0, len(corpus), args.chunk)]
    print(f"corpus: {len(corpus):,} generated messages, {size / len(corpus) / 1024:.1f} KB on average, "
          f"{len(chunks)} chunks of {args.chunk}; baseline: email.message_from_bytes(policy=default)")

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
    print(f"{'case':<28} {'msg/s':>9} {'parse msg/s':>12} {'ratio':>6}  target")
    missed = False
    details = []
    for name, rules, candidate in cases:
        org.rules = rules
        org.clear_mail()
        candidate(corpus[:50])  # warm-up: imports, the function's cold start
        baseline(corpus[:50])
        result, cand_s, base_s = chunked(candidate, chunks)
        target = TARGETS.get(name)
        ok = target is None or result.ratio <= target
        missed |= not ok
        verdict = "(information)" if target is None else (f"<= {target}  {'ok' if ok else 'MISSED'}")
        rates = f"{len(corpus) / cand_s:>9,.0f} {len(corpus) / base_s:>12,.0f}"
        print(f"{name:<28} {rates} {result.ratio:>6.2f}  {verdict}")
        invoked = sum(1 for r in org.log.records if r["event"]["eventName"] == "LAMBDA_INVOKED")
        logged = f"{len(org.log.records):,} log events, {invoked:,} invocations" if org.log.records else "nothing logged"
        details.append(f"{name}: {result.candidate_ms:.1f} vs {result.baseline_ms:.1f} ms per chunk (median), "
                       f"{logged}")
    for line in details:
        print("  " + line)
    sandbox.stop()
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
