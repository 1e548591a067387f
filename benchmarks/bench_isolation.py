"""What a worker process costs: a warm process-isolated invocation of a no-op, and a worker's cold start.

Baseline: calling the no-op handler directly (the least an invocation needs). The
candidate: ``sb.runtime.invoke`` of the same function deployed with
``isolation="process"``: the event handed over the Lambda Runtime API to the
worker, the answer posted back, the log written. Median of paired differences,
one process (benchmarks/_timing.py's style). Target: under 2 ms per warm call
(python-lambda-local measured 8.7 ms per call here; SAM CLI starts a container per
call). Cold starts (a new worker: interpreter, runtime interface client, the
function's import) are printed for reading, for Python and, when ``node`` is
installed, Node.js.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import Targets, verdict  # noqa: E402 - benchmarks are scripts, not a package

TARGET_MS = 2.0
NOOP = "def handler(event, context):\n    return None\n"
NODE_NOOP = "export const handler = async () => null;\n"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})  # fmt: skip


def deploy(sb, name: str, runtime: str, filename: str, source: str, handler: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(filename, source)
    role = sb.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    sb.client("lambda").create_function(FunctionName=name, Runtime=runtime, Role=role, Handler=handler,
                                        Code={"ZipFile": buffer.getvalue()})  # fmt: skip
    sb.runtime.set_isolation(name, "process")


def cold_starts(sb, name: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        sb.runtime.clear()
        started = time.perf_counter()
        result = sb.runtime.invoke(name, {})
        assert result.ok, result.payload
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5)
    args = parser.parse_args()

    import workmail_sandbox as wms

    targets = Targets()
    sb = wms.start()
    try:
        deploy(sb, "iso-noop", "python3.12", "app.py", NOOP, "app.handler")
        namespace: dict = {}
        exec(NOOP, namespace)  # noqa: S102 - the same no-op, called directly: the baseline
        direct = namespace["handler"]
        assert sb.runtime.invoke("iso-noop", {}).ok  # warm the worker
        differences, worker_ms, direct_ms = [], [], []
        for _ in range(args.pairs):
            started = time.perf_counter()
            result = sb.runtime.invoke("iso-noop", {})
            middle = time.perf_counter()
            direct({}, None)
            ended = time.perf_counter()
            assert result.ok and not result.cold_start
            worker_ms.append((middle - started) * 1000)
            direct_ms.append((ended - middle) * 1000)
            differences.append(worker_ms[-1] - direct_ms[-1])
        overhead = statistics.median(differences)
        ok = targets.check("warm process-isolated invocation overhead", overhead, TARGET_MS, unit=" ms", strict=True)
        python_cold = cold_starts(sb, "iso-noop", args.cold)
        node_cold: list[float] = []
        node_warm = None
        if shutil.which("node") and Path(__file__).resolve().parent.parent.joinpath(
            "workmail_sandbox", "lambda_runtime", "bootstrap_node.mjs"
        ).exists():
            deploy(sb, "iso-node", "nodejs20.x", "index.mjs", NODE_NOOP, "index.handler")
            assert sb.runtime.invoke("iso-node", {}).ok
            warm = []
            for _ in range(args.pairs // 3):
                started = time.perf_counter()
                sb.runtime.invoke("iso-node", {})
                warm.append((time.perf_counter() - started) * 1000)
            node_warm = statistics.median(warm)
            node_cold = cold_starts(sb, "iso-node", args.cold)
    finally:
        wms.stop()
    print(f"Warm invocation of a no-op in a worker process ({args.pairs} pairs, one process)")
    print(f"   {'':<44} {'median ms':>10}  target")
    print(f"   {'sb.runtime.invoke, isolation=process':<44} {statistics.median(worker_ms):>10.3f}")
    print(f"   {'handler(event, None), direct (baseline)':<44} {statistics.median(direct_ms):>10.4f}")
    print(f"   {'overhead (paired difference)':<44} {overhead:>10.3f}  < {TARGET_MS:g} ms  {verdict(ok)}")
    print(f"Cold start of a worker (a new process; {args.cold} rounds, median ms, for reading)")
    print(f"   Python (awslambdaric or the kit's bootstrap): {statistics.median(python_cold):.0f}")
    if node_cold:
        print(f"   Node.js (the kit's bootstrap): {statistics.median(node_cold):.0f}; warm call {node_warm:.3f} ms")
    else:
        print("   Node.js: not measured (node or the kit's Node.js bootstrap is missing)")
    return targets.report()


if __name__ == "__main__":
    sys.exit(main())
