"""The peak stage's metrics (stages/peak.py): the machine's measured ceilings, the roofline's roof."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model.metrics_view import StageMetrics, metric


class PeakMetrics(StageMetrics, stage="peak"):
    opt_in = "roofline"  # [benchmark] roofline: the cells whose FLOPs meet this machine's peak
    opt_in_doc = "measure this machine's FMA and memory ceilings, the roofline's roof, beside these cells"

    gflops_1: Optional[float] = metric("FMA peak on one thread, GFLOP/s")
    gflops_all: Optional[float] = metric("on `threads` threads")
    triad_gbs_1: Optional[float] = metric("STREAM triad on one thread, GB/s")
    triad_gbs_all: Optional[float] = metric("on `threads` threads")
    threads: Optional[int] = metric("the matrix's thread count")
    isa: str = metric("the vectors the kernel used", "")
    fma: Optional[bool] = metric("whether the compiler targeted FMA")
    lanes: int = metric("float lanes per vector", 0)
    chains: Optional[int] = metric("independent FMA chains")
    triad_bytes: Optional[int] = metric("the triad's arrays")
    check: Optional[float] = metric("a triad value (kept so nothing is optimised away)")
    method: str = metric("the kernel, compiler and flags", "")
    cpu: str = metric("the CPU model", "")
    isa_flags: tuple[str, ...] = metric("its vector and FMA flags (/proc/cpuinfo)", ())
    load_average: Mapping[str, Any] = metric("1-minute load average before and after", {})
    other_load: Optional[float] = metric("cores other programs kept busy meanwhile")
