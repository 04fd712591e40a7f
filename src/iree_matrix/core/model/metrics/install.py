"""The install stage's metrics (stages/install.py): how long realising an environment took."""

from __future__ import annotations

from typing import Optional

from iree_matrix.core.model.metrics_view import StageMetrics, metric


class InstallMetrics(StageMetrics, stage="install"):
    seconds: Optional[float] = metric("the install's wall time")
    packages: Optional[int] = metric("how many packages the environment's pins hold")
