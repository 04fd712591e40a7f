"""install: resolve an environment's requirements once, fetch the wheels, build the environment."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from iree_matrix import _hashing
from iree_matrix._hashing import digest
from iree_matrix.outcome import Outcome
from iree_matrix.plan import Job
from iree_matrix.results import Status
from iree_matrix.stages.base import Context
from iree_matrix.store import Entry
from iree_matrix.wheelhouse import Lock


class InstallStage:
    name = "install"
    exclusive = False

    def key(self, job: Job, ctx: Context) -> str:
        target = ctx.backend.target(job.env)
        return digest(
            {
                "stage": self.name,
                "backend": ctx.backend.name,
                "requirements": sorted(job.env.requirements),
                "tools": _hashing.tools_digest(job.env.tools) if job.env.tools else None,
                "target": dataclasses.asdict(target),
            }
        )

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        if entry.record.status is not Status.OK:
            return True  # a definite resolution failure stays a failure
        return ctx.backend.open(job.env, entry.record.env.get("lock_digest", "")) is not None

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        start = time.monotonic()
        target = ctx.backend.target(job.env)
        if job.env.requirements:
            lock = ctx.wheelhouse.lock(job.env.requirements, target, log=ctx.log)
            wheels = ctx.wheelhouse.fetch(lock, log=ctx.log)
        else:  # a runtime directory on the target's base system: nothing to install
            lock, wheels = Lock((), target, ()), []
        env = ctx.backend.create(job.env, lock, wheels, timeout=ctx.timeout, log=ctx.log)
        (out / "lock.json").write_text(lock.to_json())
        return Outcome(
            Status.OK,
            metrics={"seconds": round(time.monotonic() - start, 3), "packages": len(lock.packages)},
            env=dict(env.describe()),
        )
