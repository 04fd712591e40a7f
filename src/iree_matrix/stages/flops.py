"""flops: the floating-point operations and bytes of one call of a function by op kind, the
roofline's numerator (`scripts/flops.py`, torch's FlopCounterMode, in its exporter environment)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from iree_matrix.core import shipped
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.metrics.flops import FlopsMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Status
from iree_matrix.iree import opkinds
from iree_matrix.matrix.plan import Job, PlannedFunction
from iree_matrix.stages import model_worker as worker
from iree_matrix.stages.base import Context, Stage

WORKER = "flops.py"


class FlopsStage(Stage):
    name = "flops"
    rank = 92
    optional = True
    metrics = FlopsMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """For a cell `[benchmark] roofline` names: the function's FLOPs, in its exporter's environment."""
        if unit.spec.benchmark.opts_in(FlopsMetrics.opt_in, unit.name, unit.cell.profile):
            exported = unit.planned["export"]
            unit.add(self.name, exported.cell, (unit.install(exported.env),), exported.labels, exported.env)

    def key(self, job: Job, ctx: Context) -> str:
        fields = worker.key_fields(job, ctx)
        # what decides the count: the model, its weights, the inputs' seed, torch
        decided = {k: fields[k] for k in ("model", "function", "sources", "weights", "env", "seed")}
        return self.keyed(**decided, worker=file_sha256(shipped.scripts_dir() / WORKER))

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        argv, counted = worker.result(self.name, job, ctx, out, "flops.json", WORKER, "--out", str(out))
        kinds = by_kind(counted.get("ops") or [])
        return Outcome(Status.OK, metrics=FlopsMetrics(**counted, kinds=kinds).written(), command=tuple(argv))


def by_kind(ops: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """FLOPs and bytes per op kind (opkinds.of_torch), kinds without either left out."""
    kinds: dict[str, dict[str, int]] = {}
    for op in ops:
        kind = opkinds.of_torch(str(op.get("op", "")), op.get("weight_shape"))
        entry = kinds.setdefault(kind, {"flops": 0, "bytes": 0})
        entry["flops"] += int(op.get("flops") or 0)
        entry["bytes"] += int(op.get("bytes") or 0)
    return {k: v for k, v in kinds.items() if v["flops"] or v["bytes"]}


STAGE = FlopsStage()
