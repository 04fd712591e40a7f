"""compile: the exported MLIR through one IREE compiler, for one target and profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iree_matrix import _proc, arm, host, targets
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
            argv, timeout=ctx.timeout, log=ctx.log, read_only=[mlir.parent], writable=[out], check=False
        )
        target = targets.parse(job.labels["arch"])
        if done.returncode != 0:
            raise _compile_failure(done, target)
        metrics = {"seconds": round(done.seconds, 3), "module_bytes": module.stat().st_size}
        if target.arch.name == "armv6":
            kernel = _armv6_kernel(module, out, ctx.log)
            metrics["kernel"] = kernel
            if not kernel["armv6_ok"]:
                return Outcome(
                    Status.FAIL,
                    metrics=metrics,
                    error_class="kernel-isa",
                    message=f"the module's kernels are not ARMv6 code an ARM1176 can run: {kernel}",
                    command=tuple(argv),
                )
        return Outcome(Status.OK, metrics=metrics, command=tuple(argv))


def _compile_failure(done: _proc.Completed, target: targets.Target) -> Exception:
    """IREE's embedded linker runs without libgcc: on ARM32 what the CPU lacks (integer division on
    armv6, f16 conversion) becomes an undefined __aeabi_* symbol. Name them: that is the finding."""
    missing = arm.undefined_symbols(done.output) if target.arch.triple.startswith("arm") else []
    if not missing:
        return _proc.failure(done, "compile-error")
    message = f"undefined symbols at link: {', '.join(missing)}\n{_proc.excerpt(done.output)}"
    return _proc.failure(done, "link-error", message)


def _armv6_kernel(module: Path, out: Path, log: Path) -> dict[str, Any]:
    """The ARM attributes of the kernel library inside the module (it must run on an ARM1176)."""
    kernels = arm.module_kernels(module, out / "kernels")
    if not kernels:
        return {"armv6_ok": False, "error": "no embedded kernel ELF found in the module"}
    facts = [arm.arm_attributes(k, log=log) for k in kernels]
    keep = ("Tag_CPU_arch", "Tag_FP_arch", "Tag_Advanced_SIMD_arch", "float_abi")
    return {
        "armv6_ok": all(f["armv6_ok"] for f in facts),
        "elves": len(kernels),
        **{k: facts[0].get(k) for k in keep},
    }
