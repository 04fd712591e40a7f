"""lower: an export's MLIR lowered to linalg-on-tensors by one IREE release (`--compile-to=input`, its
constants inlined), for the 2023 compilers that cannot read what turbine writes today (a
`linalg:<release>` form; the exporter `…+linalg-iree<release>`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.metrics.lower import LowerMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Status
from iree_matrix.core.system import processes
from iree_matrix.iree import mlir_resources, versions
from iree_matrix.matrix.plan import EnvSpec, Job, PlannedFunction
from iree_matrix.matrix.spec import lowering_compiler
from iree_matrix.stages.artifacts import LOWERED, MLIR, export_digest
from iree_matrix.stages.base import Context, Stage

_INLINED = "inlined.mlir"  # the export with its constants inline: the lowering's input, not kept
LOWER_FLAGS = ("--compile-to=input",)


def environment(release: str, python: str) -> EnvSpec:
    """The lowering release's compiler environment: the very one its own compile cells install."""
    return EnvSpec("compiler", python, (versions.compiler_requirement(release),), f"iree-compiler{release}")


class LowerStage(Stage):
    name = "lower"
    rank = 35  # after export (30), before compile (40)
    optional = True  # only a `linalg:<release>` form plans its jobs
    metrics = LowerMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """One lowering per export and lowering release, reused by every compiler that reads it."""
        if (release := lowering_compiler(unit.cell.form)) is None:
            return
        export = unit.planned["export"]
        env = environment(release, unit.spec.compiler_python or unit.cell.python)
        exporter = f"{export.labels.exporter}+linalg-iree{release}"  # the export's, lowered by `release`
        labels = dataclasses.replace(export.labels, exporter=exporter, form=unit.cell.form)
        deps = (export.id, unit.install(env))
        unit.planned[self.name] = unit.add(self.name, f"{unit.name}/{exporter}", deps, labels, env)

    def key(self, job: Job, ctx: Context) -> str:
        return self.keyed(
            mlir=export_digest(ctx.dep("export"), "mlir_sha256"),
            env=ctx.env_key_inputs(),
            flags=list(LOWER_FLAGS),
            inline="dense_resource->dense",
        )

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        env = ctx.environment(job)
        source = ctx.read(MLIR)
        try:
            inlined = mlir_resources.inline_resources(source.read_text(encoding="utf-8"))
        except mlir_resources.ResourceError as exc:
            raise StageFailure("lower-error", f"{source.name}: {exc}") from None
        (out / _INLINED).write_text(inlined, encoding="utf-8")
        argv = [env.tool("iree-compile"), _INLINED, *LOWER_FLAGS, "-o", LOWERED.path]
        done = env.run(ctx.request(argv, writable=[out], check=False, cwd=out))
        (out / _INLINED).unlink(missing_ok=True)
        lowered = out / LOWERED.path
        if done.returncode != 0 or not lowered.is_file():
            raise processes.failure(done, "lower-error")
        metrics = LowerMetrics(
            seconds=round(done.seconds, 3),
            lowered_by=lowering_compiler(job.label.form),
            mlir_bytes=lowered.stat().st_size,
            mlir_sha256=file_sha256(lowered),
            source_mlir_sha256=file_sha256(source),
        )
        return Outcome(Status.OK, metrics=metrics.written(), command=tuple(argv))


STAGE = LowerStage()
