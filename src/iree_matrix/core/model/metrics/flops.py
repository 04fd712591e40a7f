"""The flops stage's metrics (stages/flops.py): torch's count of one call, the roofline's numerator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model.metrics_view import StageMetrics, metric


class FlopsMetrics(StageMetrics, stage="flops"):
    opt_in = "roofline"  # [benchmark] roofline: the cells whose FLOPs meet this machine's peak
    opt_in_doc = "count each of these cells' FLOPs and bytes, so the report sets them against the peak"

    flops: Optional[int] = metric("FLOPs of one call (torch's FlopCounterMode: 2 per multiply-add)")
    bytes_min: Optional[int] = metric("parameters, inputs and outputs once each")
    bytes_ops: Optional[int] = metric("every op's tensors in and out")
    parameters_bytes: Optional[int] = metric("parameters and buffers")
    ops: Any = metric("per ATen op (and convolution weight shape): calls, flops, bytes")
    kinds: Mapping[str, Any] = metric("per op kind (opkinds.py): flops, bytes", {})
    method: str = metric("how they were counted", "")
    torch_version: str = metric("the torch that counted", "")
