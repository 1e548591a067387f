"""A lesson's first cell and lesson 01's deployment, each in a fresh process (issue #15).

What it measures, each case a fresh ``python -c`` (a fresh kernel's interpreter, without
the kernel), run round by round with the order reversed every other round
(``benchmarks/_processes.py``):

1. **``lessons.setup(n)``** for every lesson n: the child imports
   ``workmail_sandbox.lessons``, then calls ``lessons.setup(n)``; it reports both
   times. Target: the median of the ``setup(n)`` call under 1.5 s for every n. The
   import is reported beside it (a lesson's first cell pays for it too).
2. **Lesson 01's deployment**: the child runs the code cells of
   ``notebooks/01_deploy_hello_world.ipynb`` in order, in ``notebooks/`` (stdout
   captured), and times the cells that deploy the SAR application: from the
   cell that creates the change set (``change = sar.create_cloud_formation_change_set(``)
   to the one that waits for ``stack_create_complete``. Target: median under 2 s.
   The notebook is read as it stands, so an edit to those cells is measured as it is.

Baseline, in the same rounds: a fresh process that imports boto3 and moto, starts
``mock_aws()`` (Lambda without Docker) and makes one moto call
(``lambda.list_functions``): the least work any set-up needs (the interpreter, the
two libraries, one botocore model and one moto backend). Each case's in-child time
is divided by the baseline's in-child time of the same round; the median of those
per-round ratios is printed for reading. The targets are absolute, as the issue
states them; the ratio tells how much of a miss is this machine's load.

Exits 1 when a target is missed (naming it, its measurement and the target), as
the other scripts do; a child that fails stops the script with its error.

Run: ``.venv/bin/python benchmarks/bench_lessons.py`` (``--rounds N``, default 5;
``--lessons 0,1,2`` for some lessons only; ``--warmup N`` rounds not counted, default 1).
``--other-kit DIR`` (a source tree holding ``workmail_sandbox/``, e.g. ``git archive HEAD
workmail_sandbox notebooks | tar -x -C DIR``) also runs every kit case with that tree first on
``sys.path``, in the same rounds: a before/after comparison on a machine whose load moves the
absolute times (``--other-notebook`` for that tree's lesson 01). Its cases are for reading only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _processes import Case, alternate, environment_note  # noqa: E402
from _timing import Targets, verdict  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_deploy_hello_world.ipynb"
SETUP_TARGET_S = 1.5
DEPLOY_TARGET_S = 2.0
#: The first and the last of the deployment's cells, found by these pieces of their code.
DEPLOY_FIRST = "change = sar.create_cloud_formation_change_set("
DEPLOY_LAST = 'get_waiter("stack_create_complete")'

BASELINE = """
import time
_t0 = time.perf_counter()
import json
import boto3
from moto import mock_aws
mock = mock_aws(config={"lambda": {"use_docker": False}})
mock.start()
boto3.client("lambda", region_name="us-east-1").list_functions()
_t1 = time.perf_counter()
mock.stop()
print(json.dumps({"total": _t1 - _t0}))
"""

PREFIX = """
import sys
sys.path.insert(0, {kit!r})
"""

LESSON = """
import time
_t0 = time.perf_counter()
import json
from workmail_sandbox import lessons
_t1, _c1 = time.perf_counter(), time.process_time()
state = lessons.setup({n})
_t2, _c2 = time.perf_counter(), time.process_time()
assert state.lesson == {n}
print(json.dumps({{"import": _t1 - _t0, "setup": _t2 - _t1, "total": _t2 - _t0, "setup_cpu": _c2 - _c1}}))
"""

DEPLOY = """
import contextlib, io, json, os, time
_t0 = time.perf_counter()
from IPython.display import display
os.chdir({folder!r})
cells = {cells!r}
scope = {{"display": display, "__name__": "__main__"}}
took, cpu = [], []
for index, source in enumerate(cells):
    start, start_cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, f"<cell {{index}}>", "exec"), scope)
    took.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
deploy = sum(took[{first}:])
assert scope["cfn"].describe_stacks(StackName=scope["STACK"])["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
print(json.dumps({{"first_cell": took[0], "deploy": deploy, "total": time.perf_counter() - _t0,
                  "deploy_cpu": sum(cpu[{first}:])}}))
"""


def deploy_cells(path: Path) -> tuple[list[str], int]:
    """Notebook 01's code cells up to the end of the deployment, and the index of its first cell."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    first = next((i for i, c in enumerate(cells) if DEPLOY_FIRST in c and "try:" not in c), None)
    last = next((i for i, c in enumerate(cells) if DEPLOY_LAST in c), None)
    if first is None or last is None or last < first:
        sys.exit(f"{path.name}: cannot find the deployment's cells ({DEPLOY_FIRST!r} ... {DEPLOY_LAST!r}); "
                 "update DEPLOY_FIRST / DEPLOY_LAST in this script to the notebook's code")
    return cells[: last + 1], first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--lessons", default="0,1,2,3,4,5,6,7,8")
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK, help="lesson 01 from elsewhere (another revision)")
    parser.add_argument("--other-kit", type=Path, help="also measure the kit in this source tree (for reading)")
    parser.add_argument("--other-notebook", type=Path, help="lesson 01 for --other-kit (default: --notebook)")
    args = parser.parse_args()
    numbers = [int(x) for x in args.lessons.split(",") if x.strip()]

    def kit_cases(prefix: str, tag: str, notebook: Path) -> list[Case]:
        cells, first = deploy_cells(notebook)
        made = [Case(f"{tag}L{n}", f"{tag}lessons.setup({n})", prefix + LESSON.format(n=n)) for n in numbers]
        made.append(Case(f"{tag}dep", f"{tag}lesson 01: the deployment cells",
                         prefix + DEPLOY.format(folder=str(notebook.parent), cells=cells, first=first)))
        return made

    cases = [Case("base", "baseline: boto3 + moto, mock_aws, one call", BASELINE)]
    cases += kit_cases("", "", args.notebook)
    others = []
    if args.other_kit:
        others = kit_cases(PREFIX.format(kit=str(args.other_kit.resolve())), "other: ",
                           args.other_notebook or args.notebook)
    cases += others
    print(f"{len(cases)} cases, {args.rounds} rounds (+{args.warmup} warm-up); environment notes: "
          f"{environment_note()}", flush=True)
    started = time.perf_counter()
    alternate(cases, args.rounds, warmup=args.warmup)

    base = cases[0]
    targets = Targets()

    def ratio(case: Case, key: str) -> float:
        return statistics.median(r.report[key] / b.report["total"] for r, b in zip(case.runs, base.runs, strict=True))

    header = f"{'case':<44} {'median s':>9} {'min s':>6} {'max s':>6} {'cpu s':>6} {'import s':>9} {'/ base':>7}"
    print(f"\n{header}  target")
    print(f"{base.label:<44} {base.median(lambda r: r.report['total']):>9.2f} "
          f"{min(r.report['total'] for r in base.runs):>6.2f} {max(r.report['total'] for r in base.runs):>6.2f}")
    for case in cases[1:]:
        key = "deploy" if case.key.endswith("dep") else "setup"
        values = [r.report[key] for r in case.runs]
        median = statistics.median(values)
        limit = DEPLOY_TARGET_S if key == "deploy" else SETUP_TARGET_S
        ok = (median < limit) if case in others else targets.check(case.label, median, limit, unit=" s", strict=True)
        imported = (f"{case.median(lambda r: r.report['import']):>9.2f}" if "import" in case.runs[0].report
                    else f"{'':>9}")
        cpu = case.median(lambda r, key=key: r.report[f"{key}_cpu"])
        print(f"{case.label:<44} {median:>9.2f} {min(values):>6.2f} {max(values):>6.2f} {cpu:>6.2f} {imported} "
              f"{ratio(case, key):>7.2f}  < {limit:g} s {verdict(ok)}")
    dep = next(c for c in cases if c.key == "dep")
    print(f"\nlesson 01 in the deployment's child: first cell (imports + setup(1)) "
          f"{dep.median(lambda r: r.report['first_cell']):.2f} s; the cells up to the stack "
          f"{dep.median(lambda r: r.report['total']):.2f} s in all")
    busy = statistics.median(r.wall_s / r.cpu_s for c in cases for r in c.runs if r.cpu_s > 0)
    print(f"load indicator: median child wall/cpu {busy:.2f} (about 1.0 when the children had a core to themselves)")
    print(f"{time.perf_counter() - started:.0f} s in all")
    return targets.report()


if __name__ == "__main__":
    sys.exit(main())
