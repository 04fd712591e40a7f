"""export: the model's MLIR from iree-turbine, its example inputs and torch eager's outputs/latency.

Runs `scripts/export_model.py` inside the exporter environment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from iree_matrix import _proc, _resources, host
from iree_matrix._hashing import digest, file_sha256
from iree_matrix.errors import StageFailure
from iree_matrix.models import ModelRef
from iree_matrix.outcome import Outcome
from iree_matrix.plan import Job
from iree_matrix.results import Status
from iree_matrix.stages import Context
from iree_matrix.store import Entry

WORKER = "export_model.py"


def model_sources(ref: ModelRef) -> dict[str, str]:
    """Hashes of the code that defines the model: editing it invalidates its exports."""
    scripts = _resources.scripts_dir()
    files = [scripts / WORKER, scripts / "models" / "api.py"]
    return {**{f.name: file_sha256(f) for f in files}, "model": ref.source_hash()}


class ExportStage:
    name = "export"
    exclusive = True  # it times torch eager

    def key(self, job: Job, ctx: Context) -> str:
        return digest(
            {
                "stage": self.name,
                "model": job.model,
                "function": job.function,
                "sources": model_sources(ctx.spec.models[job.model or ""]),
                "weights": weights_hash(job, ctx),
                "env": ctx.env_identity(),
                "seed": ctx.spec.benchmark.seed,
                "repetitions": ctx.spec.benchmark.repetitions,
                "threads": ctx.spec.benchmark.thread_count(),
                "host": host.identity(),
            }
        )

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        return True

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        env = ctx.environment(job)
        ref = ctx.spec.models[job.model or ""]
        worker = _resources.scripts_dir() / WORKER
        argv = [
            env.python(), str(worker), *ref.worker_args(), "--function", job.function,
            "--seed", str(ctx.spec.benchmark.seed), "--repetitions", str(ctx.spec.benchmark.repetitions),
            "--threads", str(ctx.spec.benchmark.thread_count()),
            "--out", str(out),
        ]  # fmt: skip
        weights = weights_for(job, ctx)
        if weights is not None:
            argv += ["--weights", str(weights)]
        done = env.run(
            argv,
            timeout=ctx.timeout,
            log=ctx.log,
            read_only=[worker.parent, *ref.mounts(), *([weights.parent] if weights else [])],
            writable=[out],
            check=False,
        )
        if done.returncode != 0:
            raise _failure(out, done)
        info = json.loads((out / "export.json").read_text())
        metrics = {
            "seconds": round(info["seconds"], 3),
            "mlir_bytes": (out / "model.mlir").stat().st_size,
            "eager_ms": info["eager_ms"],
            "parameters": info["parameters"],
            "torch_threads": info["torch_threads"],
        }
        return Outcome(Status.OK, metrics=metrics, command=tuple(argv))


def weights_for(job: Job, ctx: Context) -> Optional[Path]:
    return ctx.spec.weights.get(job.labels["model"])


def weights_hash(job: Job, ctx: Context) -> Optional[str]:
    weights = weights_for(job, ctx)
    return file_sha256(weights) if weights is not None else None


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
