"""The sandbox: cold start, the runtime's per-invocation overhead, and lambda.invoke (issue #3).

Three measurements, each paired with its baseline in the same run (this VM's
speed drifts by 20-40 % over minutes; ``docs/performance.md`` §1):

1. **Cold start**, whole fresh processes run in turn (order reversed every other
   round), wall time from spawn to exit: the kit's cold start (import the kit,
   ``sandbox.start()``, ``deploy_app()`` of hello-world through the emulated SAR,
   an organization from ``lessons.create_example_organization`` and
   ``lessons.grant_workmail``).
   Baseline: a process that only imports what that work needs (``boto3``,
   ``moto``, ``moto.cloudformation.parsing``, ``samtranslator``) and, like the
   kit, skips the ``rfc3987_syntax`` import (``_block_slow_optional_imports``
   in ``workmail_sandbox/sandbox.py`` keeps jsonschema from building
   rfc3987-syntax's grammar, about 1.4 s of wall time here; §4 of
   ``docs/performance.md``).
   A baseline that paid for that import would flatter the kit by the cost of an
   import the kit never makes; this one does the least the task needs.
   Target: median per-round ratio <= 2.4. Measured (medians of 5 rounds): on
   a quiet machine 2.01, 2.07, 2.17, 2.15, 2.05, 2.03 (per round 1.66-2.44);
   with another test run loading it (load indicator 1.28 and 1.09) 1.68 and
   1.95: load slows the short baseline more and pulls the ratio down, so a miss
   is a real regression, while a heavily loaded run can hide one. The kit's
   extra is mostly ``deploy_app`` (about 1.8 s: the CloudFormation and SAM
   transform, moto's backends) and a bigger heap to tear down at exit. 2.4 is
   met with 10-20 % to spare and catches a regression of about 0.5 s (+16 %),
   e.g. losing the rfc3987 skip (an estimated 3x).
   For reading only: kit / the same imports with ``rfc3987_syntax`` imported
   (jsonschema's default; about 1.05x), and kit / a bare ``import moto`` +
   ``mock_aws().start()`` (about 10x). The kit's split is measured inside the
   child and reported back as JSON.
2. **Runtime overhead per invocation**, one process: ``sb.runtime.invoke(fn,
   event)`` on a no-op handler (deployed with boto3 ``lambda.create_function``
   from a zip) against calling the same handler function object directly,
   alternately; the median of the per-pair differences. The direct call is the
   floor: the handler's own work, nothing else. Target: < 1 ms (measured
   0.09-0.22 ms in five runs; 0.25-0.33 ms with the per-invocation safety checks).
3. **boto3 ``lambda.invoke``** with the runtime installed (the handler runs)
   against moto's own non-executing invoke (runtime uninstalled: moto echoes
   the payload), in alternating blocks; ``install()``/``uninstall()`` and the
   cold start after each install stay outside the timed calls. moto's invoke is
   the floor for an invoke request through boto3 (the request, moto's dispatch,
   the response), with no handler run. Target: median per-block ratio <= 2.5.
   Measured 1.29-1.58 over nine runs on this 2-core machine before the
   per-invocation safety checks (the sandbox's hooks compared and restored
   after each call, in-process invocations serialized); 1.57, 1.77 and 2.34
   in three runs after them (the paired overhead of section 2 went from
   0.16-0.28 ms to 0.25-0.33 ms). The echo is about 1 ms, so the machine's
   noise moves this ratio by +-0.4; 2.5 still catches a runtime that doubles
   the cost of an invoke request.

The script exits 1 when a target is missed, naming it with the measured value
and the target (``make bench`` stops).

Run: ``.venv/bin/python benchmarks/bench_sandbox.py`` (``--pairs N`` cold-start
rounds, default 5; ``--skip-cold`` for sections 2 and 3 only).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _processes import Case, alternate, environment_note, round_ratios  # noqa: E402
from _timing import Targets, verdict  # noqa: E402

COLD_TARGET = 2.4  # kit / baseline with rfc3987_syntax skipped; figures in the docstring
OVERHEAD_TARGET_MS = 1.0
INVOKE_TARGET = 2.5

# ------------------------------------------------------------------ 1. child processes

KIT_CODE = """
import time as _t
_t0 = _t.perf_counter()
import workmail_sandbox
from workmail_sandbox import lessons, sandbox
from workmail_sandbox.deploy import deploy_app
_t1 = _t.perf_counter()
sb = sandbox.start()
_t2 = _t.perf_counter()
hello = deploy_app()
_t3 = _t.perf_counter()
org_id, org_arn, _users = lessons.create_example_organization(sb)
_t4 = _t.perf_counter()
statement = lessons.grant_workmail(sb, hello["FunctionName"], org_arn)["Statement"]
_t5 = _t.perf_counter()
import json, sys
assert hello["FunctionName"] and "workmail.us-east-1.amazonaws.com" in statement, (hello, statement)
print(json.dumps({
    "imports": _t1 - _t0, "start": _t2 - _t1, "deploy": _t3 - _t2, "org": _t4 - _t3, "permission": _t5 - _t4,
    "total": _t5 - _t0, "rfc3987_loaded": sys.modules.get("rfc3987_syntax") is not None,
}))
"""

BASELINE_CODE = """
import time as _t
_t0 = _t.perf_counter()
{block}import boto3, moto, moto.cloudformation.parsing, samtranslator
_t1 = _t.perf_counter()
import json, sys
print(json.dumps({{"imports": _t1 - _t0, "total": _t1 - _t0,
                  "rfc3987_loaded": sys.modules.get("rfc3987_syntax") is not None}}))
"""
# Exactly what sandbox._block_slow_optional_imports does (jsonschema not imported yet).
SKIP_RFC3987 = 'import sys; sys.modules["rfc3987_syntax"] = None\n'

BARE_CODE = """
import time as _t
_t0 = _t.perf_counter()
import moto
from moto import mock_aws
_t1 = _t.perf_counter()
mock_aws().start()
_t2 = _t.perf_counter()
import json
print(json.dumps({"imports": _t1 - _t0, "start": _t2 - _t1, "total": _t2 - _t0}))
"""

SPLIT = ("imports", "start", "deploy", "org", "permission")


def cold_start(pairs: int, warmup: int, targets: Targets) -> None:
    kit = Case("kit", "kit: import, start, deploy_app, org + grant_workmail", KIT_CODE)
    # The baseline skips exactly what the kit skips (nothing, if WORKMAIL_SANDBOX_KEEP_RFC3987 is set).
    skip = "" if os.environ.get("WORKMAIL_SANDBOX_KEEP_RFC3987") else SKIP_RFC3987
    fair = Case(
        "fair", "baseline: the imports, rfc3987_syntax skipped as the kit does", BASELINE_CODE.format(block=skip)
    )
    full = Case("full", "the imports, rfc3987_syntax imported (jsonschema's default)", BASELINE_CODE.format(block=""))
    bare = Case("bare", "import moto + mock_aws().start()", BARE_CODE)
    cases = [kit, fair, full, bare]
    print(f"\n1. Cold start, whole fresh processes ({pairs} rounds, order reversed every other round)")
    print(f"   environment notes: {environment_note()}", flush=True)
    alternate(cases, pairs, warmup=warmup)

    ratio = {c.key: round_ratios(kit, c) for c in cases[1:]}
    cpu_ratio = {c.key: round_ratios(kit, c, lambda r: r.cpu_s) for c in cases[1:]}
    kit_vs_fair = statistics.median(ratio["fair"])
    ok = targets.check("cold start, kit / baseline with rfc3987_syntax skipped (wall)", kit_vs_fair, COLD_TARGET)

    width = max(len(c.label) for c in cases)
    print(
        f"   {'process':<{width}} {'wall s':>7} {'cpu s':>6} {'in child':>8}"
        f"  {'kit/this wall':>13} {'(cpu)':>6}  target"
    )
    for case in cases:
        wall = case.median(lambda r: r.wall_s)
        cpu = case.median(lambda r: r.cpu_s)
        inner = case.median(lambda r: r.report["total"])
        if case is kit:
            tail = f"{'':>13} {'':>6}"
            target = ""
        else:
            tail = f"{statistics.median(ratio[case.key]):>13.2f} {statistics.median(cpu_ratio[case.key]):>6.2f}"
            target = f"<= {COLD_TARGET}  {verdict(ok)}" if case is fair else "(for reading)"
        print(f"   {case.label:<{width}} {wall:>7.2f} {cpu:>6.2f} {inner:>8.2f}  {tail}  {target}")

    split = {key: kit.median(lambda r, k=key: r.report[k]) for key in SPLIT}
    outside = kit.median(lambda r: r.wall_s - r.report["total"])
    print(
        "   kit split, medians measured in the child (s): "
        + " | ".join(f"{k} {v:.2f}" for k, v in split.items())
        + f" | interpreter start-up + exit {outside:.2f}"
    )
    fair_outside = fair.median(lambda r: r.wall_s - r.report["total"])
    fair_imports = fair.median(lambda r: r.report["imports"])
    print(f"   baseline: imports {fair_imports:.2f} s | start-up + exit {fair_outside:.2f} s")
    for case in cases[1:]:
        print(f"   per-round kit/{case.key:<4} wall ratios: " + " ".join(f"{x:.2f}" for x in ratio[case.key]))
    busy = statistics.median(r.wall_s / r.cpu_s for c in cases for r in c.runs if r.cpu_s > 0)
    print(f"   load indicator: median child wall/cpu {busy:.2f} (about 1.0 when the children had a core to themselves)")
    loaded = {c.key: sorted({r.report.get("rfc3987_loaded") for r in c.runs}) for c in (kit, fair, full)}
    print(f"   rfc3987_syntax imported in the child: {loaded}")
    if loaded["kit"] != [False] or loaded["fair"] != [False]:
        print("   note: rfc3987_syntax was imported by the kit or the baseline: the comparison is not like for like")
    if not ok:
        print(f"   MISSED by {kit_vs_fair / COLD_TARGET - 1:.0%}: ratio {kit_vs_fair:.2f} against <= {COLD_TARGET}")


# ------------------------------------------------------------------ 2 and 3. one process

NOOP_SOURCE = "def handler(event, context):\n    return None\n"
#: A documented 2018-10-10 inbound event from the project's samples.
SAMPLE_EVENT = Path(__file__).resolve().parent.parent / "data" / "events" / "valid-2018-10-10-inbound.json"
EVENT = json.loads(SAMPLE_EVENT.read_text(encoding="utf-8"))
FUNCTION = "bench-noop"


def _deploy_noop(sb) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("noop.py", NOOP_SOURCE)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = sb.client("iam").create_role(RoleName="bench-noop-role", AssumeRolePolicyDocument=json.dumps(trust))
    sb.client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="noop.handler",
        Code={"ZipFile": buf.getvalue()},
        Timeout=3,
    )


def _loaded_handler(sb):
    """The handler function object the runtime loaded (a no-op), to call it directly."""
    for env in getattr(sb.runtime, "_environments", {}).values():
        if env.key[2] == FUNCTION and env.handler is not None:
            return env.handler, "the runtime's loaded handler object"
    namespace: dict = {}
    exec(compile(NOOP_SOURCE, "noop.py", "exec"), namespace)  # same source, if the runtime's internals moved
    return namespace["handler"], "the same source, compiled here"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def runtime_overhead(sb, reps: int, targets: Targets) -> None:
    print(f"\n2. Runtime overhead per invocation (no-op handler, {reps} alternating pairs, one process)")
    first = sb.runtime.invoke(FUNCTION, EVENT)  # cold start: unzip + import
    assert first.function_error is None and first.payload is None, first.payload
    handler, origin = _loaded_handler(sb)
    for _ in range(20):
        sb.runtime.invoke(FUNCTION, EVENT)
        handler(EVENT, None)
    perf = time.perf_counter
    invoke_s, direct_s, diff_s = [], [], []
    for i in range(reps):
        if i % 2 == 0:
            t0 = perf()
            result = sb.runtime.invoke(FUNCTION, EVENT)
            t1 = perf()
            handler(EVENT, None)
            t2 = perf()
            a, b = t1 - t0, t2 - t1
        else:
            t0 = perf()
            handler(EVENT, None)
            t1 = perf()
            result = sb.runtime.invoke(FUNCTION, EVENT)
            t2 = perf()
            a, b = t2 - t1, t1 - t0
        invoke_s.append(a)
        direct_s.append(b)
        diff_s.append(a - b)
    assert result.function_error is None and not result.cold_start
    overhead_ms = statistics.median(diff_s) * 1000
    ok = targets.check("runtime overhead per invocation", overhead_ms, OVERHEAD_TARGET_MS, unit=" ms", strict=True)
    print(f"   direct call: {origin}; cold first invoke {first.init_duration_ms or 0:.1f} ms init")
    print(f"   {'':<34} {'median ms':>10} {'p10 ms':>8} {'p90 ms':>8}  target")
    for label, values in (
        ("sb.runtime.invoke(fn, event)", invoke_s),
        ("handler(event, None), direct", direct_s),
        ("overhead (paired difference)", diff_s),
    ):
        ms = [v * 1000 for v in values]
        target = f"< {OVERHEAD_TARGET_MS:g} ms  {verdict(ok)}" if values is diff_s else ""
        print(f"   {label:<34} {statistics.median(ms):>10.4f} {_pct(ms, 0.1):>8.4f} {_pct(ms, 0.9):>8.4f}  {target}")
    if not ok:
        print(f"   MISSED by {overhead_ms - OVERHEAD_TARGET_MS:.3f} ms ({overhead_ms / OVERHEAD_TARGET_MS - 1:.0%})")


def boto3_invoke(sb, blocks: int, per_block: int, targets: Targets) -> None:
    print(
        f"\n3. boto3 lambda.invoke: runtime installed vs moto's own invoke"
        f" ({blocks} block pairs x {per_block} calls)"
    )
    lam = sb.client("lambda")
    payload = json.dumps(EVENT).encode()
    runtime = sb.runtime
    perf = time.perf_counter

    def call() -> bytes:
        return lam.invoke(FunctionName=FUNCTION, Payload=payload)["Payload"].read()

    def block(installed: bool, costs: dict[str, list[float]]) -> list[float]:
        t0 = perf()
        runtime.install() if installed else runtime.uninstall()
        costs["install" if installed else "uninstall"].append(perf() - t0)
        t0 = perf()
        first = call()  # after install(): a cold start (uninstall() dropped the environment)
        costs["first_installed" if installed else "first_moto"].append(perf() - t0)
        assert first == (b"null" if installed else payload), first[:80]  # the handler ran / moto echoed
        times = []
        for _ in range(per_block):
            t0 = perf()
            call()
            times.append(perf() - t0)
        return times

    costs: dict[str, list[float]] = {k: [] for k in ("install", "uninstall", "first_installed", "first_moto")}
    for _ in range(2):  # warm-up: client, moto's dispatch
        call()
    installed_ms, moto_ms, ratios = [], [], []
    try:
        for i in range(blocks):
            if i % 2 == 0:
                a = block(True, costs)
                b = block(False, costs)
            else:
                b = block(False, costs)
                a = block(True, costs)
            installed_ms += [x * 1000 for x in a]
            moto_ms += [x * 1000 for x in b]
            ratios.append(statistics.median(a) / statistics.median(b))
    finally:
        runtime.install()
    ratio = statistics.median(ratios)
    ok = targets.check("boto3 lambda.invoke, runtime installed / moto's echo", ratio, INVOKE_TARGET)
    print(f"   {'':<46} {'median ms':>10} {'p90 ms':>8}  {'ratio':>6}  target")
    print(
        f"   {'lambda.invoke, runtime installed (runs handler)':<46} {statistics.median(installed_ms):>10.3f}"
        f" {_pct(installed_ms, 0.9):>8.3f}"
    )
    print(
        f"   {'lambda.invoke, moto simple backend (echo)':<46} {statistics.median(moto_ms):>10.3f}"
        f" {_pct(moto_ms, 0.9):>8.3f}  {ratio:>6.2f}  <= {INVOKE_TARGET}  {verdict(ok)}"
    )
    print("   per-block ratios: " + " ".join(f"{x:.2f}" for x in ratios))
    med = {k: statistics.median(v) * 1000 for k, v in costs.items()}
    print(
        f"   outside the timed calls (median ms): install() {med['install']:.3f} | uninstall() {med['uninstall']:.3f}"
        f" | first invoke after install (cold start) {med['first_installed']:.2f}"
        f" | first after uninstall {med['first_moto']:.2f}"
    )
    if not ok:
        print(f"   MISSED by {ratio / INVOKE_TARGET - 1:.0%}: ratio {ratio:.2f} against <= {INVOKE_TARGET}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="cold-start rounds (each runs all 4 processes)")
    parser.add_argument("--warmup", type=int, default=0, help="untimed cold-start rounds first")
    parser.add_argument("--reps", type=int, default=2000, help="runtime.invoke / direct call pairs")
    parser.add_argument("--blocks", type=int, default=40, help="lambda.invoke block pairs")
    parser.add_argument("--per-block", type=int, default=15, help="lambda.invoke calls per block")
    parser.add_argument("--skip-cold", action="store_true", help="only sections 2 and 3")
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)  # the default now; old command lines
    args = parser.parse_args()

    started = time.perf_counter()
    targets = Targets()
    if not args.skip_cold:
        cold_start(args.pairs, args.warmup, targets)  # before the parent imports anything heavy

    from workmail_sandbox import sandbox

    sb = sandbox.start()
    try:
        _deploy_noop(sb)
        runtime_overhead(sb, args.reps, targets)
        boto3_invoke(sb, args.blocks, args.per_block, targets)
    finally:
        sandbox.stop()
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return targets.report()


if __name__ == "__main__":
    sys.exit(main())
