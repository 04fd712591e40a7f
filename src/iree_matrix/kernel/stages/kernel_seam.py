"""What the compile and run stages take from a cell's kernel, and what they say of it: the one interface
they call for every cell, so they hold no kernel branch of their own."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.errors import EnvironmentFault, StageFailure
from iree_matrix.core.system import processes
from iree_matrix.iree import crash_words
from iree_matrix.iree.flags import missing_flags
from iree_matrix.kernel import mechanism, recorded
from iree_matrix.kernel.kernels import Kernel, find
from iree_matrix.kernel.model.metrics import KernelMetrics
from iree_matrix.kernel.stages import kernel_compiled as compiled
from iree_matrix.kernel.stages import kernel_generated as generated
from iree_matrix.matrix.plan import Job, Planned, PlannedFunction
from iree_matrix.stages.artifacts import KERNEL_OBJECTS, KERNEL_SPEC, KERNEL_SPECS
from iree_matrix.stages.base import Context

# Runs this cell's iree-compile with these arguments added, in the compile's scratch directory.
RunCompiler = Callable[[Sequence[str]], processes.Completed]


@dataclasses.dataclass(frozen=True)
class CompilePart:
    """What a compile gains from the cell's kernel (`NO_COMPILE_PART`: none)."""

    flags: tuple[str, ...] = ()  # iree-compile flags: requires_flags, then the mechanism's
    inputs: tuple[Path, ...] = ()  # files placed beside the MLIR by their bare names (spec, objects)
    reads: tuple[Path, ...] = ()  # directories the compile reads
    key: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # merged into the compile's key
    needs: tuple[str, ...] = ()  # flags this compiler must list (--help-hidden) to take the kernel
    kernel: Optional[Kernel] = None
    spec: Optional[Path] = None


@dataclasses.dataclass(frozen=True)
class RunPart:
    """What a run gains from the cell's kernel (`NO_RUN_PART`: none)."""

    flags: tuple[str, ...] = ()  # runtime flags, before the call's own: a plugin, the kernel's run_flags
    reads: tuple[Path, ...] = ()
    key: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # merged into the run's key


NO_COMPILE_PART = CompilePart()
NO_RUN_PART = RunPart()


def spec_for(
    job: Job, ctx: Context, kernel: Kernel, run_compiler: Optional[RunCompiler], out: Optional[Path]
) -> Path:
    """The spec this compile takes: the kernel's own file for its release, as the kernel job stored it, or
    one written from the compile's own IR into `out`, the compile's entry."""
    if kernel.generated:
        return generated.spec_for(job, ctx, kernel, run_compiler, out)
    if not kernel.spec_windows:
        return ctx.read(KERNEL_SPEC)
    return ctx.read(KERNEL_SPECS) / kernel.spec_for(job.label.compiler)


def spec_digest(job: Job, ctx: Context, kernel: Kernel) -> Optional[str]:
    """What decides the spec `spec_for` takes, for the compile's key and record."""
    if kernel.generated:
        return generated.spec_digest(job, ctx, kernel)
    if not (built := ctx.dep("kernel").record.metric.of(KernelMetrics)).specs_sha256:
        return built.spec_sha256
    return built.specs_sha256.get(kernel.spec_for(job.label.compiler))


def kernel_of(job: Job, ctx: Context) -> Kernel:
    return find(ctx.spec.kernels, job.label.kernel)


def plan_compiles(unit: PlannedFunction, plan: Callable[[str, tuple[str, ...]], Planned]) -> Planned:
    """The cell's compile: a cell with a kernel after the same cell without it (what tells a spec that
    matched nothing)."""
    baseline = plan("", ())
    return plan(unit.cell.kernel, (unit.planned["kernel"].id, baseline.id)) if unit.cell.kernel else baseline


def run_deps(unit: PlannedFunction) -> tuple[str, ...]:
    loads = unit.cell.kernel and mechanism.of(find(unit.spec.kernels, unit.cell.kernel).mechanism).run_loads
    return (unit.planned["kernel"].id,) if loads else ()


def compile_key(job: Job, ctx: Context) -> Mapping[str, Any]:
    """The compile key's `kernel` entry, reading no file (with the module of the same cell without it)."""
    if not job.label.kernel:
        return {}
    kernel = kernel_of(job, ctx)
    # the names of the flags the mechanism swaps it in by (a compiler's --help-hidden must list them)
    names = (f.partition("=")[0] for f in mechanism.of(kernel.mechanism).compile_flags("spec", "."))
    return {
        "kernel": {
            "object": ctx.dep("kernel").record.metric.of(KernelMetrics).object_sha256,
            "spec": spec_digest(job, ctx, kernel),
            "flags": [*names, *kernel.requires_flags],
            "baseline": compiled.module_sha256(ctx.dep("compile")),
            "applied_by": "functions",
        }
    }


def compile_part(
    job: Job, ctx: Context, run_compiler: Optional[RunCompiler] = None, out: Optional[Path] = None
) -> CompilePart:
    """The spec for the compile's release, the objects beside the MLIR, the flags, and `compile_key`."""
    if not job.label.kernel:
        return NO_COMPILE_PART
    kernel = kernel_of(job, ctx)
    how, key = mechanism.of(kernel.mechanism), compile_key(job, ctx)
    spec = spec_for(job, ctx, kernel, run_compiler, out)
    objects = ctx.read(KERNEL_OBJECTS)
    built = tuple(sorted(objects.iterdir())) if how.links_built else ()
    return CompilePart(
        flags=(*kernel.requires_flags, *how.compile_flags(spec.name, ".")),
        inputs=(spec, *built),
        reads=(spec.parent, *((objects,) if built else ())),
        key=key,
        needs=tuple(key["kernel"]["flags"]),
        kernel=kernel,
        spec=spec,
    )


def check_compiler(part: CompilePart, job: Job, listing: str) -> None:
    """A compiler whose listing lacks a flag the kernel needs: the release's answer, it cannot take it."""
    if lacking := (missing_flags(part.needs, listing) if listing and part.kernel is not None else []):
        raise StageFailure(
            "kernel-rejected",
            f"with kernel {job.label.kernel!r}: IREE {job.label.compiler}'s iree-compile has no "
            f"{', '.join(lacking)} (iree-compile --help-hidden), so it cannot swap the kernel in",
        )


def judge_compile_failure(
    part: CompilePart, done: processes.Completed, argv: list[str], scratch: Path, run_again: RunCompiler
) -> Optional[Exception]:
    """A failed compile's refusal by the kernel (None: no kernel, or a limit's kill); where it adds flags,
    the compile runs again without its spec to tell the kernel from those flags."""
    if part.kernel is None or part.spec is None or done.returncode == 0 or done.killed:
        return None
    requires = part.kernel.requires_flags
    alone = run_again(compiled.without_spec(argv, scratch / "without-spec.vmfb")) if requires else None
    return compiled.kernel_refused(part.kernel.name, done, part.spec.name, requires, alone)


def judge_compile(
    part: CompilePart, job: Job, ctx: Context, metrics: dict[str, Any], module: Path
) -> tuple[dict[str, Any], Optional[StageFailure]]:
    """A compiled module's kernel metrics, and the failure where its spec was not applied."""
    if part.kernel is None or part.spec is None:
        return {}, None
    digest = part.key["kernel"]["spec"]
    facts = compiled.kernel_facts(job, ctx, metrics, module, part.kernel, part.spec, digest)
    if facts["applied"]:
        return {"custom_kernel": facts}, None
    words = compiled.not_applied_words(part.kernel.name, facts)
    return {"custom_kernel": facts}, StageFailure("kernel-not-applied", words)


def run_part(job: Job, ctx: Context) -> RunPart:
    """The plugin a run loads (by content in its key) and the kernel's runtime flags (`run_flags`)."""
    if not job.label.kernel:
        return NO_RUN_PART
    kernel = kernel_of(job, ctx)
    run_flags = list(kernel.run_flags)
    key: dict[str, Any] = {"run_flags": run_flags} if run_flags else {}
    if not (how := mechanism.of(kernel.mechanism)).run_loads:
        return RunPart(flags=tuple(run_flags), key=key)
    loaded = ctx.read(KERNEL_OBJECTS) / kernel.object
    key["plugin"] = ctx.dep("kernel").record.metric.of(KernelMetrics).object_sha256
    return RunPart(flags=(*how.load_flags(str(loaded)), *run_flags), reads=(loaded.parent,), key=key)


def run_words(
    job: Job, done: processes.Completed, argv: Sequence[str], again: Callable[[list[str]], str]
) -> str:
    """What a kernel cell's failed run says first (`again` on local-sync where local-task said none)."""
    return "" if not job.label.kernel or done.killed else crash_words.said_by_crash(argv, done, again)


def judge_run(job: Job, done: processes.Completed, words: str, crashed: bool) -> Optional[StageFailure]:
    """A run with a kernel that faulted: the kernel's crash, in the runtime's `words`; None otherwise."""
    if not job.label.kernel or not (crash_words.signal_of(done.returncode) is not None or crashed):
        return None
    return processes.failure(done, "kernel-crash", blamed(job.label.kernel, words))


def owned_fault(job: Job, fault: EnvironmentFault) -> StageFailure:
    """A kernel cell's compile or run whose output blamed its intact environment: the kernel's failure."""
    if not job.label.kernel or not fault.whole:
        return fault
    error_class = "kernel-rejected" if job.stage == "compile" else "kernel-crash"
    return StageFailure(error_class, blamed(job.label.kernel, fault.cause))


def judge_mismatch(job: Job, words: str) -> tuple[str, str]:
    """A run whose outputs differ from torch's: (error class, message), the kernel's where it has one."""
    return ("kernel-mismatch" if job.label.kernel else "numeric-mismatch"), blamed(job.label.kernel, words)


def blamed(kernel: str, words: str) -> str:
    """A run with a kernel swapped in whose outputs are wrong: the kernel's, not IREE's (the same cell
    without it says whether IREE alone matches)."""
    if not kernel:
        return words
    return f"with kernel {kernel!r} (the kernel's error, not IREE's: compare the cell without it): {words}"


# What a recorded cell's compile took besides its export, built before it (its kernel's job), as
# `show --commands` prints them: (record, latest, compiled, store) -> () for a cell without a kernel.
recorded_builds = recorded.built
