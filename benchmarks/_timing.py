"""Paired timing and target checks shared by the benchmark scripts.

This VM's speed drifts by 20-40 % over minutes, so every comparison runs the
candidate and its baseline alternately in one process and reports the median of
the per-pair ratios, never absolute times alone.

:class:`Targets` collects each script's targets; ``sys.exit(targets.report())``
makes a script exit 1 when one is missed (``make bench`` then stops).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Paired:
    candidate_ms: float
    baseline_ms: float
    ratio: float  # median of candidate/baseline over the pairs
    pairs: int


def paired(
    candidate: Callable[[], object], baseline: Callable[[], object], *, pairs: int = 15, warmup: int = 2
) -> Paired:
    """Time ``candidate`` and ``baseline`` alternately; medians and the median ratio."""
    for _ in range(warmup):
        candidate()
        baseline()
    a_times, b_times, ratios = [], [], []
    for i in range(pairs):
        order = (candidate, baseline) if i % 2 == 0 else (baseline, candidate)
        took = {}
        for fn in order:
            start = time.perf_counter()
            fn()
            took[fn] = time.perf_counter() - start
        a_times.append(took[candidate])
        b_times.append(took[baseline])
        ratios.append(took[candidate] / took[baseline])
    return Paired(
        statistics.median(a_times) * 1000,
        statistics.median(b_times) * 1000,
        statistics.median(ratios),
        pairs,
    )


# ------------------------------------------------------------------ targets


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


@dataclass
class Target:
    name: str
    measured: float
    limit: float
    unit: str = "x"  # "x" for a ratio, or a unit such as " ms"
    strict: bool = False  # "<" rather than "<="

    @property
    def ok(self) -> bool:
        return self.measured < self.limit if self.strict else self.measured <= self.limit

    def describe(self) -> str:
        op = "<" if self.strict else "<="
        over = f", {self.measured / self.limit - 1:.0%} over" if not self.ok and self.limit > 0 else ""
        return f"{self.name}: measured {self.measured:.3g}{self.unit}, target {op} {self.limit:g}{self.unit}{over}"


class Targets:
    """The targets one benchmark script is held to.

    ``check()`` each measurement as it comes (it returns whether it was met, for
    the script's own table), then end the script with ``sys.exit(targets.report())``:
    it lists every missed target with its measured value and returns 1 if any
    was missed, so ``make bench`` stops there.
    """

    def __init__(self) -> None:
        self.checked: list[Target] = []

    def check(self, name: str, measured: float, limit: float, *, unit: str = "x", strict: bool = False) -> bool:
        target = Target(name, measured, limit, unit, strict)
        self.checked.append(target)
        return target.ok

    def report(self) -> int:
        missed = [t for t in self.checked if not t.ok]
        print(f"\n{len(self.checked) - len(missed)}/{len(self.checked)} targets met")
        for target in missed:
            print(f"TARGET MISSED: {target.describe()}")
        sys.stdout.flush()
        return 1 if missed else 0
