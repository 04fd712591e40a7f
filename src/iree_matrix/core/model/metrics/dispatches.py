"""The dispatches stage's metrics (stages/dispatches.py): each executable of a module timed alone."""

from __future__ import annotations

from typing import Any, Optional

from iree_matrix.core.model.metrics_view import TimingContext, metric


class DispatchesMetrics(TimingContext, stage="dispatches"):
    dispatches: list[Any] = metric("per executable: IREE's name, its op, median, min, max (µs), n", [])
    benchmarked: Optional[int] = metric("how many were timed")
    sum_median_us: Optional[float] = metric("their medians' sum")
    not_benchmarked: list[Any] = metric(
        "those whose benchmark module did not compile, with the compiler's words", []
    )
