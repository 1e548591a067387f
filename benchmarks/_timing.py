"""Paired timing helpers shared by the benchmark scripts.

This VM's speed drifts by 20-40 % over minutes, so every comparison runs the
candidate and its baseline alternately in one process and reports the median of
the per-pair ratios, never absolute times alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Paired:
    candidate_ms: float
    baseline_ms: float
    ratio: float  # median of candidate/baseline over the pairs
    pairs: int


def paired(candidate: Callable[[], object], baseline: Callable[[], object], *, pairs: int = 15, warmup: int = 2) -> Paired:
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
