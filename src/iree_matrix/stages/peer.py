"""peer: the same model, inputs and thread count through torch eager, torch.compile, ONNX Runtime
and TFLite — what IREE's latency is compared with. Runs `scripts/peers.py` in a peer environment.

A peer that cannot convert the model is a result inside this stage's record (its phase and
message), not a failure of the stage: that is information the report shows.
"""

from __future__ import annotations

import json
from pathlib import Path

from iree_matrix import _proc, _resources, host
from iree_matrix._hashing import digest, file_sha256
from iree_matrix.outcome import Outcome
from iree_matrix.plan import Job
from iree_matrix.results import Status
from iree_matrix.stages import Context
from iree_matrix.stages.export import model_sources, weights_for, weights_hash
from iree_matrix.store import Entry

WORKER = "peers.py"


class PeerStage:
    name = "peer"
    exclusive = True  # it times every peer

    def key(self, job: Job, ctx: Context) -> str:
        bench = ctx.spec.benchmark
        return digest(
            {
                "stage": self.name,
                "model": job.model,
                "function": job.function,
                "sources": model_sources(ctx.spec.models[job.model or ""]),
                "worker": file_sha256(_resources.scripts_dir() / WORKER),
                "weights": weights_hash(job, ctx),
                "peers": list(ctx.spec.peers),
                "env": ctx.env_identity(),
                "seed": bench.seed,
                "repetitions": bench.repetitions,
                "threads": bench.thread_count(),
                "host": host.identity(),
            }
        )

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        return True

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        env = ctx.environment(job)
        ref = ctx.spec.models[job.model or ""]
        bench = ctx.spec.benchmark
        worker = _resources.scripts_dir() / WORKER
        argv = [
            env.python(), str(worker), *ref.worker_args(), "--function", job.function,
            "--seed", str(bench.seed), "--threads", str(bench.thread_count()),
            "--repetitions", str(bench.repetitions), "--peers", ",".join(ctx.spec.peers), "--out", str(out),
        ]  # fmt: skip
        weights = weights_for(job, ctx)
        if weights is not None:
            argv += ["--weights", str(weights)]
        mounts = [worker.parent, *ref.mounts(), *([weights.parent] if weights else [])]
        done = env.run(argv, timeout=ctx.timeout, log=ctx.log, read_only=mounts, writable=[out], check=False)
        if done.returncode != 0 or not (out / "peers.json").exists():
            raise _proc.failure(done, "model-error")
        report = json.loads((out / "peers.json").read_text())
        return Outcome(Status.OK, metrics=report, command=tuple(argv))
