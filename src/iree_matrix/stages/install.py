"""install: resolve an environment's requirements once, fetch the wheels, build the environment."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from iree_matrix import envs
from iree_matrix.core import hashing
from iree_matrix.core.model.metrics.install import InstallMetrics
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.records import Labels
from iree_matrix.core.model.results import Status
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system import processes
from iree_matrix.matrix.plan import Builder, EnvSpec, Job
from iree_matrix.matrix.wheelhouse import PINS_FILE, Pins
from iree_matrix.stages.artifacts import TOOLS
from iree_matrix.stages.base import Context, Stage


class InstallStage(Stage):
    name = "install"
    rank = 20
    io_bound = True  # downloads and disk (an install reused from an existing environment takes a moment)
    timeout = 1800.0
    metrics = InstallMetrics.described()

    def provide(self, builder: Builder, env: EnvSpec) -> str:
        """The job that realises `env` (a runtime built from source waits for the build)."""
        labels = Labels(env=env.id, kind=env.kind, python=env.python).as_dict()
        deps: tuple[str, ...] = ()
        if env.build is not None:  # its tools are what a runtime-build job makes
            deps = (builder.need("runtime-build", env),)
        return builder.add(Job(self.name, env.id, deps, labels, env))

    def key(self, job: Job, ctx: Context) -> str:
        env = _env(job, ctx)
        target = ctx.backend.target(env)
        return self.keyed(
            backend=envs.name_of(ctx.backend, env),
            requirements=sorted(env.requirements),
            tools=hashing.tools_digest(env.tools) if env.tools else None,
            target=dataclasses.asdict(target),
        )

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        if entry.record.status is not Status.OK:
            return True  # a definite resolution failure stays a failure
        return ctx.backend.open(_env(job, ctx), entry.record.env.get("lock_digest", "")) is not None

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        start = time.monotonic()
        env_spec = _env(job, ctx)
        target = ctx.backend.target(env_spec)
        if job.env.requirements:
            pins = ctx.wheelhouse.pin(job.env.requirements, target, log=ctx.log)
            wheels = ctx.wheelhouse.fetch(pins, log=ctx.log)
        else:  # a runtime directory on the target's base system: nothing to install
            pins, wheels = Pins((), target, ()), []
            processes.note(ctx.log, f"nothing to install: the runtime's tools are {env_spec.tools}")
        env = ctx.backend.create(env_spec, pins, wheels, ctx.bounds)
        (out / PINS_FILE).write_text(pins.to_json())
        metrics = InstallMetrics(round(time.monotonic() - start, 3), len(pins.packages)).written()
        return Outcome(Status.OK, metrics=metrics, env=dict(env.describe()))


def _env(job: Job, ctx: Context) -> EnvSpec:
    """A runtime built from source: the tools directory its runtime-build job stored."""
    if job.env.build is None or job.env.tools is not None:
        return job.env
    return dataclasses.replace(job.env, tools=str(ctx.read(TOOLS)))


STAGE = InstallStage()
