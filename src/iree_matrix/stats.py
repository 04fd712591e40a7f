"""Medians with a distribution-free confidence interval: what "beyond noise" means in the reports.

Timings on a shared machine are not normal (a preempted repetition is 2x, never 0.5x), so the
interval of the median comes from order statistics (the sign test): with n repetitions, the
k-th smallest and k-th largest bound the median with probability 1 - 2 P(Binomial(n, 1/2) < k).
Five repetitions give [min, max] at 93.75 %; fewer than five give no interval at 90 %.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any, Optional

LEVEL = 0.90  # the least coverage asked of an interval


@dataclasses.dataclass(frozen=True)
class Interval:
    median: float
    low: float
    high: float
    coverage: float  # the interval's exact coverage (>= LEVEL), 0.0 when too few samples
    n: int

    def faster_than(self, other: Interval) -> bool:
        """Beyond noise: this interval lies wholly below the other's."""
        return self.coverage > 0 and other.coverage > 0 and self.high < other.low

    def slower_than(self, other: Interval) -> bool:
        return other.faster_than(self)


def _below(n: int, k: int) -> float:
    """P(Binomial(n, 1/2) < k)."""
    return sum(math.comb(n, i) for i in range(k)) / 2**n


def _rank(n: int, level: float) -> int:
    """The largest k whose k-th smallest and k-th largest of n bound the median with probability
    >= level; 0 when no k does."""
    k = 0
    while k + 1 <= n // 2 and 1 - 2 * _below(n, k + 1) >= level:
        k += 1
    return k


def median_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("no values")
    k = _rank(n, level)
    if k == 0:  # too few samples for an interval at this level: the whole range, no coverage claimed
        return Interval(statistics.median(xs), xs[0], xs[-1], 0.0, n)
    return Interval(statistics.median(xs), xs[k - 1], xs[n - k], 1 - 2 * _below(n, k), n)


def of_latency(latency: Any) -> Optional[Interval]:
    """The interval of a stored `latency_ms` ({median, min, max, n[, times]}): from the repetitions
    when kept, else from min/max, which are the order statistics used only when k = 1 (n = 5)."""
    if not isinstance(latency, Mapping) or not isinstance(latency.get("median"), (int, float)):
        return None
    times = latency.get("times")
    if isinstance(times, list) and times and all(isinstance(t, (int, float)) for t in times):
        return median_interval(times)
    n = latency.get("n")
    if not isinstance(n, int) or n < 1:
        return None
    low, high = latency.get("min", latency["median"]), latency.get("max", latency["median"])
    coverage = 1 - 2 * _below(n, 1) if _rank(n, LEVEL) == 1 else 0.0
    return Interval(float(latency["median"]), float(low), float(high), coverage, n)
