"""What the local endpoint costs: ``lambda.invoke`` over HTTP against the same call in-process.

The endpoint reads the request (moto's router and parsers), makes the same boto3
call in-process and writes the answer back (moto's serializers), so its cost is
the HTTP round trip plus that second parse and serialize. Baseline: the same
``lambda.invoke`` of the same no-op function through the in-process sandbox,
which is the least the call needs. Both clients live in this process; the
endpoint runs on 127.0.0.1 in a thread. Pairs alternate, ratio = median of the
per-pair ratios (benchmarks/_timing.py).

Target: at most 3x.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import Targets, paired, verdict  # noqa: E402 - benchmarks are scripts, not a package

TARGET = 3.0
PAYLOAD = json.dumps({"summaryVersion": "2019-07-28", "flowDirection": "INBOUND"}).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--calls", type=int, default=20, help="calls per timed block")
    args = parser.parse_args()

    import boto3
    from bench_sandbox import FUNCTION, _deploy_noop

    import workmail_sandbox as wms
    from workmail_sandbox.endpoint import serve

    targets = Targets()
    sb = wms.start()
    endpoint = serve(0, smtp_port=None)
    try:
        _deploy_noop(sb)
        local = sb.client("lambda")
        env = endpoint.environment()
        remote = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=sb.region,
        ).client("lambda", endpoint_url=endpoint.url)  # fmt: skip

        def block(client) -> None:
            for _ in range(args.calls):
                answer = client.invoke(FunctionName=FUNCTION, Payload=PAYLOAD)
                answer["Payload"].read()

        assert remote.invoke(FunctionName=FUNCTION, Payload=PAYLOAD)["StatusCode"] == 200
        result = paired(lambda: block(remote), lambda: block(local), pairs=args.pairs, warmup=2)
    finally:
        endpoint.stop()
        wms.stop()
    per_call = 1 / args.calls
    ok = targets.check("lambda.invoke over the endpoint / in-process", result.ratio, TARGET)
    print(f"lambda.invoke of a no-op function ({result.pairs} pairs of {args.calls} calls)")
    print(f"   {'':<34} {'median ms/call':>15}  {'ratio':>6}  target")
    print(f"   {'over the endpoint (HTTP, loopback)':<34} {result.candidate_ms * per_call:>15.3f}")
    print(f"   {'in-process sandbox (baseline)':<34} {result.baseline_ms * per_call:>15.3f}  "
          f"{result.ratio:>6.2f}  <= {TARGET:g}  {verdict(ok)}")  # fmt: skip
    return targets.report()


if __name__ == "__main__":
    sys.exit(main())
