"""``replay --jobs 2`` against ``--jobs 1`` on a generated corpus: the scaling the work split gives.

The corpus: ``data/generate_corpus.py`` (default 10,000 messages, seed 7), replayed through
``data/rules/run-lambda-sync.json`` with a function that fetches each message through the
Message Flow API (the common shape of a WorkMail function), in this process (``--jobs 1``, the
baseline: the same work in one process) and in two spawned worker processes (``--jobs 2``,
each starting a sandbox of its own: about a second each, counted). Runs alternate (1, 2, 2, 1
...) and the ratio is the median over the rounds. Target (issue #16): at least 1.7x at 2 jobs on
a 2-core machine; the script exits 1 when it is missed. Measured on this 2-core VM: 1.33x at
2,000 messages, 1.70x at 6,000 (each worker's start-up, about a second, is paid once per run).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from _timing import Targets, verdict  # noqa: E402 - benchmarks are scripts, not a package

TARGET = 1.7
FUNCTION = """\
import boto3

flow = boto3.client("workmailmessageflow")


def handle(event, context):
    flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=1, help="rounds of (1 job, 2 jobs)")
    args = parser.parse_args()

    from workmail_sandbox.replay_folder import replay_folder

    spec = importlib.util.spec_from_file_location("generate_corpus", ROOT / "data" / "generate_corpus.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    targets = Targets()
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        generator.main([str(corpus), "-n", str(args.n), "--seed", "7"])
        function = Path(folder) / "fn.py"
        function.write_text(FUNCTION)
        rules = ROOT / "data" / "rules" / "run-lambda-sync.json"
        times: dict[int, list[float]] = {1: [], 2: []}
        for round_number in range(args.rounds):
            for jobs in ((1, 2) if round_number % 2 == 0 else (2, 1)):
                started = time.perf_counter()
                frame = replay_folder(corpus, rules, function=f"{function}:handle", progress=False, jobs=jobs)
                times[jobs].append(time.perf_counter() - started)
                assert len(frame) and not frame["error"].notna().any(), frame[frame["error"].notna()].head()
    one, two = statistics.median(times[1]), statistics.median(times[2])
    speedup = one / two
    ok = targets.check("replay --jobs 2 speed-up over --jobs 1 (inverted)", 1 / speedup, 1 / TARGET)
    print(f"replay of {args.n:,} messages through a Run Lambda rule with a content-fetching function")
    print(f"   {'':<10} {'median s':>9} {'msg/s':>8}")
    print(f"   {'--jobs 1':<10} {one:>9.1f} {args.n / one:>8.0f}")
    print(f"   {'--jobs 2':<10} {two:>9.1f} {args.n / two:>8.0f}   speed-up {speedup:.2f}x  >= {TARGET}  {verdict(ok)}")
    return targets.report()


if __name__ == "__main__":
    sys.exit(main())
