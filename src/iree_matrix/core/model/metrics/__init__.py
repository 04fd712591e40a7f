"""Each stage's metrics as one frozen dataclass (`metrics_view.StageMetrics`), a module per stage, read
back without importing the stages; and the `[benchmark]` key opting cells in to a stage (`opt_in_docs()`)."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Optional

from iree_matrix.core import modules
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.metrics_view import StageMetrics

if TYPE_CHECKING:
    from iree_matrix.core.model.results import Record


@functools.cache
def declared() -> tuple[type[StageMetrics], ...]:
    """Every stage's metrics dataclass: each module's of this package and of kernel/model/ (found by name,
    so this layer imports nothing above it)."""
    return tuple(
        kind
        for module in modules(__name__, "iree_matrix.kernel.model")
        for _, kind in inspect.getmembers(module, inspect.isclass)
        if issubclass(kind, StageMetrics) and kind.__module__ == module.__name__
    )


def of_stage(stage: str) -> Optional[type[StageMetrics]]:
    """The dataclass of a stage's metrics, None for a stage that writes none."""
    return next((kind for kind in declared() if kind.stage == stage), None)


def opt_in_docs() -> dict[str, str]:
    """Each declared opt-in key with what it does (`StageMetrics.opt_in_doc`; stages that share a
    key, as flops and peak share `roofline`, join their sentences)."""
    keys = sorted({kind.opt_in for kind in declared() if kind.opt_in})
    return {k: "; ".join(d.opt_in_doc for d in declared() if d.opt_in == k and d.opt_in_doc) for k in keys}


def module_sha256(record: Record) -> Optional[str]:
    """The module digest a compile or a run record carries (both write it, of the same module)."""
    if record.stage == "compile":
        return record.metric.of(CompileMetrics).module_sha256
    return record.metric.of(RunMetrics).module_sha256 if record.stage == "run" else None
