"""Whole-process timing for the benchmarks: fresh interpreters, run in turn.

Each case is a snippet run as ``sys.executable -c <code>`` in a new process.
The parent measures the wall time from spawn to exit (interpreter start-up and
the heap teardown at exit included, as a user waits for them) and the child's
CPU time (user + sys, from ``RUSAGE_CHILDREN``; the parent runs one child at a
time, so the delta belongs to that child). A child may report its own split by
printing one JSON object as the last line of stdout.

Cases run round by round, the order reversed every other round (A B C, C B A,
A B C, ...), so drift on this noisy VM hits every case alike and the per-round
ratios can be compared.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChildRun:
    wall_s: float
    cpu_s: float
    report: dict[str, Any]


@dataclass
class Case:
    key: str
    label: str
    code: str
    runs: list[ChildRun] = field(default_factory=list)

    def median(self, what: Callable[[ChildRun], float]) -> float:
        return statistics.median(what(run) for run in self.runs)


class ChildFailed(RuntimeError):
    pass


def run_child(code: str, *, timeout: float = 300.0, cwd: str | None = None) -> ChildRun:
    """Run ``code`` in a fresh ``sys.executable``; wall, CPU and the JSON it printed last."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ChildFailed(f"child timed out after {timeout:.0f} s") from None
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise ChildFailed(f"child exited {proc.returncode}\n--- stderr\n{err[-4000:]}\n--- stdout\n{out[-2000:]}")
    report: dict[str, Any] = {}
    lines = [line for line in out.splitlines() if line.strip()]
    if lines:
        try:
            report = json.loads(lines[-1])
        except ValueError:
            report = {}
    return ChildRun(wall, cpu, report)


def alternate(cases: Sequence[Case], rounds: int, *, warmup: int = 0, progress: bool = True) -> None:
    """Run every case once per round, order reversed every other round; results in ``case.runs``."""
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as cwd:  # nothing stray on sys.path
        for i in range(warmup):
            for case in cases:
                run_child(case.code, cwd=cwd)
            if progress:
                print(f"  warm-up round {i + 1}/{warmup} done", file=sys.stderr, flush=True)
        for i in range(rounds):
            order = list(cases) if i % 2 == 0 else list(reversed(cases))
            for case in order:
                case.runs.append(run_child(case.code, cwd=cwd))
            if progress:
                walls = "  ".join(f"{c.key}={c.runs[-1].wall_s:.2f}s" for c in cases)
                print(f"  round {i + 1}/{rounds}: {walls}", file=sys.stderr, flush=True)


def round_ratios(a: Case, b: Case, what: Callable[[ChildRun], float] = lambda r: r.wall_s) -> list[float]:
    """a/b for each round (both ran in that round, next to each other)."""
    return [what(x) / what(y) for x, y in zip(a.runs, b.runs, strict=True)]


def environment_note() -> str:
    """Settings that change what the children measure, if the caller set them."""
    notes = []
    for key in ("WORKMAIL_SANDBOX_KEEP_RFC3987", "PYTHONDONTWRITEBYTECODE", "PYTHONMALLOC", "PYTHONPATH"):
        if os.environ.get(key):
            notes.append(f"{key}={os.environ[key]}")
    return ", ".join(notes) or "none"
