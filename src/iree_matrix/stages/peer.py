"""peer: the same model, inputs and thread count through the peers a matrix asks for
(scripts/peers.py; matrix/peers.py). A peer that cannot convert the model is a result in the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from iree_matrix.core import shipped
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Status
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.matrix.plan import EnvSpec, Job, PlannedFunction
from iree_matrix.matrix.spec import Cell
from iree_matrix.stages import model_worker as worker
from iree_matrix.stages.base import Context, Stage

WORKER = "peers.py"


def environment(cell: Cell, peers: Sequence[str], extra: Sequence[str] = ()) -> EnvSpec:
    """torch and the packages `peers` need (matrix/peers.py): `torch…-peers` with every peer's, else
    named by the peers that bring packages (`torch…-peers-onnxruntime`), so the two never share pins."""
    needed = peer_registry.requirements(peers)
    requirements = (f"torch=={cell.torch}", "numpy", *needed, *extra)
    bringing = [p for p in peers if p in peer_registry.names() and peer_registry.get(p).requirements]
    everything = needed == peer_registry.requirements(peer_registry.names())
    name = f"torch{cell.torch}-peers" + ("" if everything else "-" + ("-".join(bringing) or "torch"))
    return EnvSpec("peers", cell.python, requirements, name)


class PeerStage(Stage):
    name = "peer"
    rank = 60
    optional = True
    exclusive = True  # it times every peer
    warms_up = True  # the quiet lock is taken after the model's first call (worker.QuietHandshake)
    timeout = 1800.0
    # scripts/peers.py's report: per peer its latency or its failure (phase and message)
    metrics = PeerMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """With `peers = [...]`: one job per function and torch release, beside the exports."""
        if not unit.spec.peers:
            return
        env = environment(unit.cell, unit.spec.peers, unit.ref.requirements)
        labels = unit.labels(peers=",".join(unit.spec.peers))
        unit.add(self.name, f"{unit.name}/{env.id}", (unit.install(env),), labels, env)

    def key(self, job: Job, ctx: Context) -> str:
        return self.keyed(
            **worker.key_fields(job, ctx),
            worker=file_sha256(shipped.scripts_dir() / WORKER),
            # the asked peers' modules and what they share: an edit to one times it again
            frameworks={name: file_sha256(path) for name, path in _framework_files(ctx.spec.peers).items()},
            peers=list(ctx.spec.peers),
            **({"op_profile": True} if _profiles_ops(job, ctx) else {}),
        )

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        peers = ",".join(ctx.spec.peers)
        extra = ["--op-profile"] if _profiles_ops(job, ctx) else []
        argv, report = worker.result(
            self.name, job, ctx, out, "peers.json", WORKER, "--peers", peers, *extra, "--out", str(out)
        )
        return Outcome(Status.OK, metrics=PeerMetrics.checked(report), command=tuple(argv))


def _framework_files(peers: Sequence[str]) -> dict[str, Path]:
    """The modules the worker runs for `peers`, and the helpers they share (`__init__`)."""
    shared = shipped.scripts_dir() / peer_registry.PACKAGE / "__init__.py"
    return {"__init__": shared, **{name: peer_registry.get(name).path for name in peers}}


def _profiles_ops(job: Job, ctx: Context) -> bool:
    """Whether any profile's runs of the function are profiled per op: then its peers are too."""
    return any(ctx.spec.benchmark.opts_in("op_timings", job.label.model, name) for name in ctx.spec.profiles)


STAGE = PeerStage()
