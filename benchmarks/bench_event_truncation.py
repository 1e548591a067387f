"""Building a truncated event vs serialising the full event once.

What it measures: for 10,000, 100,000 and 1,000,000 recipients (every one of
those events is over WorkMail's 128 KB payload limit), ``build_event(...)``
from the plain recipient list, which returns the truncated event.

Baseline: ``json.dumps`` of the full, untruncated event (already built as a
dict), timed alternately with the candidate in the same run; the median of the
per-pair ratios is reported. It is the yardstick issue #2 chose, not the floor
of the task: a naive truncation serialises the whole event at least once just
to learn that it is too big; building the truncated event should cost well
under that.

Target (issue #2): ratio at most 0.5 at every size. The script exits 1 when a
size misses it, naming the size, the ratio and the target (``make bench`` stops).

Run: ``.venv/bin/python benchmarks/bench_event_truncation.py`` (``--sizes``,
``--pairs`` to change the sizes or the number of pairs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Targets, paired, verdict  # noqa: E402

from workmail_sandbox import PAYLOAD_LIMIT_BYTES, build_event  # noqa: E402

TARGET = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)  # the default now; old command lines
    args = parser.parse_args()

    print(f"{'recipients':>11} {'full JSON':>11} {'build_event':>12} {'kept':>6} {'ratio':>6}  target <= {TARGET}")
    targets = Targets()
    for n in args.sizes:
        recipients = [f"user{i:07d}@example.com" for i in range(n)]
        full = {
            "summaryVersion": "2018-10-10",
            "envelope": {
                "mailFrom": {"address": "sender@example.org"},
                "recipients": [{"address": a} for a in recipients],
            },
            "subject": "Quarterly report",
            "messageId": "00000000-0000-0000-0000-000000000000",
            "invocationId": "00000000000000000000000000000000",
            "flowDirection": "INBOUND",
            "truncated": False,
        }
        size = len(json.dumps(full, ensure_ascii=False, separators=(",", ":")).encode())
        assert size > PAYLOAD_LIMIT_BYTES, "every size must be over 128 KB"

        def candidate(recipients=recipients):
            return build_event(mail_from="sender@example.org", recipients=recipients, subject="Quarterly report")

        def baseline(full=full):
            return json.dumps(full, ensure_ascii=False, separators=(",", ":")).encode()

        event = candidate()
        assert event.truncated and event.size <= PAYLOAD_LIMIT_BYTES
        pairs = args.pairs if n < 1_000_000 else max(5, args.pairs // 3)
        result = paired(candidate, baseline, pairs=pairs)
        ok = targets.check(f"build_event / full json.dumps, {n:,} recipients", result.ratio, TARGET)
        print(
            f"{n:>11,} {result.baseline_ms:>9.2f}ms {result.candidate_ms:>10.2f}ms "
            f"{len(event.envelope.recipients):>6,} {result.ratio:>6.3f}  {verdict(ok)}"
        )
    return targets.report()


if __name__ == "__main__":
    sys.exit(main())
