"""peer: the same model, inputs and thread count through torch eager, torch.compile, ONNX Runtime
and TFLite — what IREE's latency is compared with. Runs `scripts/peers.py` in a peer environment.

A peer that cannot convert the model is a result inside this stage's record (its phase and
message), not a failure of the stage: that is information the report shows.
"""

from __future__ import annotations

from pathlib import Path

from iree_matrix import _proc, _resources
from iree_matrix._hashing import digest, file_sha256
from iree_matrix.outcome import Outcome
from iree_matrix.plan import Job
from iree_matrix.results import Status
from iree_matrix.stages import _model_worker as worker
from iree_matrix.stages.base import Context
from iree_matrix.store import Entry

WORKER = "peers.py"


class PeerStage:
    name = "peer"
    exclusive = True  # it times every peer

    def key(self, job: Job, ctx: Context) -> str:
        return digest(
            {
                "stage": self.name,
                **worker.key_fields(job, ctx),
                "worker": file_sha256(_resources.scripts_dir() / WORKER),
                "peers": list(ctx.spec.peers),
                **({"op_profile": True} if _profiles_ops(job, ctx) else {}),
            }
        )

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        return True

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        env = ctx.environment(job)
        peers = ",".join(ctx.spec.peers)
        extra = ["--op-profile"] if _profiles_ops(job, ctx) else []
        argv, reads = worker.command(
            job, ctx, env.python(), WORKER, "--peers", peers, *extra, "--out", str(out)
        )
        done = env.run(argv, timeout=ctx.timeout, log=ctx.log, read_only=reads, writable=[out], check=False)
        if done.returncode != 0:
            raise _proc.failure(done, "model-error")
        report = worker.read_result(out / "peers.json", done)
        return Outcome(Status.OK, metrics=report, command=tuple(argv))


def _profiles_ops(job: Job, ctx: Context) -> bool:
    """The peers of a function whose IREE runs are profiled per op are profiled too (a peer job
    has no compile profile: any profile's glob for the function counts)."""
    return any(ctx.spec.benchmark.profiles_ops(job.label.model, name) for name in ctx.spec.profiles)
