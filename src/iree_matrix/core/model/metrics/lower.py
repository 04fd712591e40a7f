"""The lower stage's metrics (stages/lower.py): an export's MLIR lowered by another release."""

from __future__ import annotations

from typing import Optional

from iree_matrix.core.model.metrics_view import StageMetrics, metric


class LowerMetrics(StageMetrics, stage="lower"):
    seconds: Optional[float] = metric("the lowering's wall time (iree-compile --compile-to=input)")
    lowered_by: Optional[str] = metric("the IREE release that lowered it")
    mlir_bytes: Optional[int] = metric("the lowered MLIR's size")
    mlir_sha256: Optional[str] = metric("its digest (what each compile reads)")
    source_mlir_sha256: Optional[str] = metric("the export's MLIR it was lowered from")
