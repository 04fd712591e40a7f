"""compile: the exported MLIR through one IREE compiler, for one target and profile."""

from __future__ import annotations

from pathlib import Path

from iree_matrix import host, targets
from iree_matrix._hashing import digest
from iree_matrix.flags import compile_flags, target_cpu
from iree_matrix.outcome import Outcome
from iree_matrix.plan import Job
from iree_matrix.results import Status
from iree_matrix.stages import Context
from iree_matrix.store import Entry

MODULE = "module.vmfb"


class CompileStage:
    name = "compile"
    exclusive = False

    def _flags(self, job: Job) -> list[str]:
        assert job.profile is not None
        return compile_flags(job.labels["compiler"], job.labels["arch"], job.profile)

    def key(self, job: Job, ctx: Context) -> str:
        assert job.profile is not None
        return digest(
            {
                "stage": self.name,
                "mlir": ctx.dep("export").record.key,  # the export key names its MLIR exactly
                "env": ctx.env_identity(),
                "arch": job.labels["arch"],
                "profile": [job.profile.target_cpu, job.profile.opt_level, list(job.profile.flags)],
                # `target-cpu=host` means this machine's CPU: part of what decides the module.
                "host": host.identity() if self._tunes_for_host(job) else None,
            }
        )

    def _tunes_for_host(self, job: Job) -> bool:
        assert job.profile is not None
        return target_cpu(targets.parse(job.labels["arch"]), job.profile) == "host"

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        return True

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        flags = self._flags(job)  # raises StageSkipped when this compiler lacks a flag
        env = ctx.environment(job)
        mlir = ctx.dep("export").artifact("model.mlir")
        module = out / MODULE
        argv = [env.tool("iree-compile"), str(mlir), *flags, "-o", str(module)]
        done = env.run(
            argv,
            timeout=ctx.timeout,
            log=ctx.log,
            read_only=[mlir.parent],
            writable=[out],
            error_class="compile-error",
        )
        metrics = {"seconds": round(done.seconds, 3), "module_bytes": module.stat().st_size}
        return Outcome(Status.OK, metrics=metrics, command=tuple(argv))
