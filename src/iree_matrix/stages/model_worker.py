"""What the export and peer stages share: both run a worker script that builds the model inside an
environment, from the same arguments, with the same benchmark settings, and both are keyed by the
same description of the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import host, processes, shipped
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import file_sha256
from iree_matrix.matrix.models import ModelRef
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.base import Context


def model_sources(ref: ModelRef) -> dict[str, str]:
    """Hashes of the code that defines the model: editing it invalidates its results."""
    scripts = shipped.scripts_dir()
    files = [scripts / "export_model.py", scripts / "models" / "api.py"]
    return {**{f.name: file_sha256(f) for f in files}, "model": ref.source_hash()}


def weights_for(job: Job, ctx: Context) -> Optional[Path]:
    return ctx.spec.weights.get(job.label.model)


def key_fields(job: Job, ctx: Context) -> dict[str, Any]:
    """Everything about the model and the measurement that decides a worker's output."""
    weights = weights_for(job, ctx)
    bench = ctx.spec.benchmark
    return {
        "model": job.model,
        "function": job.function,
        "sources": model_sources(ctx.spec.models[job.model or ""]),
        "weights": file_sha256(weights) if weights is not None else None,
        "env": ctx.env_identity(),
        "seed": bench.seed,
        "repetitions": bench.repetitions,
        "threads": bench.thread_count(),
        "host": host.identity(),
    }


def command(job: Job, ctx: Context, python: str, script: str, *extra: str) -> tuple[list[str], list[Path]]:
    """The worker's argv and the paths it reads (the script's directory, the model, the weights)."""
    ref = ctx.spec.models[job.model or ""]
    bench = ctx.spec.benchmark
    worker = shipped.scripts_dir() / script
    argv = [
        python, str(worker), *ref.worker_args(), "--function", job.function,
        "--seed", str(bench.seed), "--repetitions", str(bench.repetitions),
        "--threads", str(bench.thread_count()), *extra,
    ]  # fmt: skip
    weights = weights_for(job, ctx)
    if weights is not None:
        argv += ["--weights", str(weights)]
    return argv, [worker.parent, *ref.mounts(), *([weights.parent] if weights else [])]


def read_result(path: Path, done: processes.Completed) -> dict:
    """The worker's result file; its absence after a clean exit means the model's own code ended
    the process first (`os._exit(0)`, `sys.exit()` in a factory), which is said, not an errno."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        said = (
            "Its last words: " + processes.excerpt(done.output, max_lines=5)
            if done.output
            else "It printed nothing."
        )
        raise StageFailure(
            "model-error",
            f"the model's process exited (status {done.returncode}) before writing its result "
            f"({path.name}): does the model's code call os._exit() or sys.exit()? " + said,
        ) from None
