"""The stages, one module each, behind one small interface (`stages.base`).

A stage computes its job's key (a hash of everything that decides its output) and, when the store
has no entry for that key, executes into a staging directory and returns an `Outcome`. Stages do
not catch exceptions to make statuses: `outcome.from_exception` does that, in one place.
"""

from __future__ import annotations

from typing import Callable

from iree_matrix.outcome import Outcome
from iree_matrix.stages.base import Context, Stage

__all__ = ["Context", "Outcome", "Stage", "get"]


def _table() -> dict[str, Callable[[], Stage]]:
    from iree_matrix.stages.compile import CompileStage
    from iree_matrix.stages.dispatches import DispatchesStage
    from iree_matrix.stages.export import ExportStage
    from iree_matrix.stages.install import InstallStage
    from iree_matrix.stages.peer import PeerStage
    from iree_matrix.stages.run import RunStage
    from iree_matrix.stages.runtime_build import RuntimeBuildStage

    return {
        "runtime-build": RuntimeBuildStage,
        "install": InstallStage,
        "export": ExportStage,
        "compile": CompileStage,
        "run": RunStage,
        "peer": PeerStage,
        "dispatches": DispatchesStage,
    }


def get(name: str) -> Stage:
    return _table()[name]()
