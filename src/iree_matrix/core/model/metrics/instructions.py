"""The instructions stage's metrics (stages/instructions.py): callgrind's count of one call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.model.metrics_view import StageMetrics, metric, number


class InstructionsMetrics(StageMetrics, stage="instructions"):
    instructions: Mapping[str, Any] = metric(
        "per_call (instructions of one call), runs (iterations, total), counted (the function), device, tool",
        {},
    )

    @property
    def per_call(self) -> Optional[float]:
        return number(self.instructions.get("per_call"))
