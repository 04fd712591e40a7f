"""export: the model's MLIR from iree-turbine, its example inputs and torch eager's outputs/latency.

Runs `scripts/export_model.py` inside the exporter environment.
"""

from __future__ import annotations

import json
from pathlib import Path

from iree_matrix import _proc
from iree_matrix._hashing import digest
from iree_matrix.errors import StageFailure
from iree_matrix.outcome import Outcome
from iree_matrix.plan import Job
from iree_matrix.results import Status
from iree_matrix.stages import _model_worker as worker
from iree_matrix.stages.base import Context
from iree_matrix.stages.compile import export_digests
from iree_matrix.store import Entry

WORKER = "export_model.py"


class ExportStage:
    name = "export"
    exclusive = True  # it times torch eager

    def key(self, job: Job, ctx: Context) -> str:
        fields = {"stage": self.name, **worker.key_fields(job, ctx)}
        if ctx.spec.bytecode:  # keys of text-only exports stay as they were
            fields["bytecode"] = True
        return digest(fields)

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        return True

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        env = ctx.environment(job)
        extra = ["--bytecode"] if ctx.spec.bytecode else []
        argv, reads = worker.command(job, ctx, env.python(), WORKER, "--out", str(out), *extra)
        done = env.run(argv, timeout=ctx.timeout, log=ctx.log, read_only=reads, writable=[out], check=False)
        if done.returncode != 0:
            raise _failure(out, done)
        info = worker.read_result(out / "export.json", done)
        metrics = {
            "seconds": round(info["seconds"], 3),
            "mlir_bytes": (out / "model.mlir").stat().st_size,
            "eager_ms": info["eager_ms"],
            "parameters": info["parameters"],
            "torch_threads": info["torch_threads"],
            # The compiler package whose importer wrote the MLIR (turbine's torch importer lives there).
            **({"importer": info["importer"]} if info.get("importer") else {}),
            **(
                {"mlirbc_bytes": (out / "model.mlirbc").stat().st_size}
                if (out / "model.mlirbc").is_file()
                else {}
            ),
            **export_digests(out),
        }
        return Outcome(Status.OK, metrics=metrics, command=tuple(argv))


def _failure(out: Path, done: _proc.Completed) -> StageFailure:
    try:
        error = json.loads((out / "error.json").read_text())
    except (OSError, ValueError):
        return _proc.failure(done, "export-error")
    # A model that cannot even be built is the model's problem; one that builds but does not
    # export is the finding this stage exists to record.
    error_class = {"model": "model-error", "eager": "model-error", "import": "turbine-import"}.get(
        error["phase"], "export-error"
    )
    return StageFailure(error_class, error["message"])
