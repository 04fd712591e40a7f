"""Medians with a distribution-free confidence interval (what "beyond noise" means in the reports):
timings are not normal, so the k-th smallest and largest of n bound the median with probability
1 - 2 P(Binomial(n, 1/2) < k); five repetitions give [min, max] at 93.75 %.
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
    return sum(math.comb(n, i) for i in range(k)) / (1 << n)  # 2**n, an int (int ** int is Any to mypy)


def _rank(n: int, level: float) -> int:
    """The largest k whose k-th smallest and largest of n bound the median with probability >= level, or 0."""
    k = 0
    while k + 1 <= n // 2 and 1 - 2 * _below(n, k + 1) >= level:
        k += 1
    return k


# The fewest repetitions whose median has an interval at LEVEL (5): with fewer, no verdict at all.
MIN_REPETITIONS = next(n for n in range(1, 64) if _rank(n, LEVEL) > 0)
# With fewer paired rounds not even all equal signs reach p < 0.05: no verdict can be had.
MIN_PAIRED_ROUNDS = 6
TOO_FEW_REPETITIONS = "too few repetitions"


def median_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    xs = sorted(values)
    if (n := len(xs)) == 0:
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


#
# Two builds timed in alternating rounds of one sitting: what the machine does meanwhile falls on both
# arms of a round alike, so each round's ratio B/A is what they differ by, and the sign-flip permutation
# test on the mean log-ratio needs no distribution. A verdict also needs the median ratio to differ from
# 1 by MIN_EFFECT (one module differs from itself a little systematically); `iree-matrix calibrate`
# measures the false-positive rate the reports quote.

ALPHA = 0.05  # the test's two-sided level
MIN_EFFECT = 0.03  # |median ratio - 1| below this is "no difference" whatever the test says
SAME_MODULE = "same module"
NO_DIFFERENCE = "no difference"
FASTER = "faster"
SLOWER = "slower"
TOO_FEW = "too few rounds"
_EXACT_ROUNDS = 16  # up to 2^16 sign patterns enumerated; beyond, a fixed-seed sample of them
_SAMPLED = 20000


@dataclasses.dataclass(frozen=True)
class Paired:
    """B against A over paired rounds: B's time over A's per round (> 1: B is slower)."""

    ratio: float  # the median of the rounds' ratios
    low: float  # the rounds' smallest and largest ratio
    high: float
    p_value: float  # the sign-flip permutation test's, two-sided (1.0 when not tested)
    rounds: int
    verdict: str  # faster | slower | no difference | same module | too few rounds (B relative to A)

    @property
    def speedup(self) -> float:
        """A's time over B's: > 1 when B is faster."""
        return 1.0 / self.ratio if self.ratio > 0 else math.nan

    def describe(self) -> str:
        if self.verdict == SAME_MODULE:
            return "same module, no difference (byte-identical: not timed)"
        if self.verdict == TOO_FEW:
            return f"{self.ratio:.3g}× over {self.rounds} rounds: too few rounds for a verdict"
        return (
            f"{self.verdict}: {self.ratio:.3g}× the time (rounds {self.low:.3g}–{self.high:.3g}, "
            f"{self.rounds} paired rounds, p = {self.p_value:.2g})"
        )


def same_module() -> Paired:
    """Byte-identical modules need no timing: they are one program."""
    return Paired(1.0, 1.0, 1.0, 1.0, 0, SAME_MODULE)


def sign_flip_p(diffs: Sequence[float]) -> float:
    """Two-sided p-value of the mean of `diffs` under "each sign equally likely": the share of sign
    patterns whose |mean| reaches the observed one (exact up to 16 values, else sampled)."""
    if (n := len(diffs)) == 0:
        return 1.0
    observed = abs(sum(diffs)) - 1e-12 * max(1.0, sum(abs(d) for d in diffs))
    if n <= _EXACT_ROUNDS:  # each pattern's bit i flips the sign of diffs[i]
        flipped = (
            sum(-d if (pattern >> i) & 1 else d for i, d in enumerate(diffs)) for pattern in range(2**n)
        )
        return sum(abs(total) >= observed for total in flipped) / (1 << n)
    import random

    rng = random.Random(0)
    hits = sum(abs(sum(d if rng.random() < 0.5 else -d for d in diffs)) >= observed for _ in range(_SAMPLED))
    return (hits + 1) / (_SAMPLED + 1)


def paired(a: Sequence[float], b: Sequence[float]) -> Paired:
    """B against A from per-round times (a[i] and b[i] taken in round i, one after the other)."""
    if not (rounds := [(x, y) for x, y in zip(a, b) if x > 0 and y > 0]):
        raise ValueError("no paired rounds with positive times")
    ratios = sorted(y / x for x, y in rounds)
    ratio = statistics.median(ratios)
    if (n := len(ratios)) < MIN_PAIRED_ROUNDS:
        return Paired(ratio, ratios[0], ratios[-1], 1.0, n, TOO_FEW)
    p = sign_flip_p([math.log(r) for r in ratios])
    no_difference = p >= ALPHA or abs(ratio - 1.0) < MIN_EFFECT
    verdict = NO_DIFFERENCE if no_difference else SLOWER if ratio > 1 else FASTER
    return Paired(ratio, ratios[0], ratios[-1], p, n, verdict)
