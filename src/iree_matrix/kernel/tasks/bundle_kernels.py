"""A user's kernel in a sitting bundle (`bundle --advise MODEL --cpu CPU --kernel DIR`): which kernels
travel, and each kernel arm described as `advise --kernel` describes its own, so the sitting comes home as
an answer by the same rule. The object is built and linked here (the machine there needs no C compiler);
a plugin travels beside the modules and run.py loads it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import console, shipped
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.configuration import NamedCpu
from iree_matrix.core.model.results import Record, Status
from iree_matrix.execution.bundle import KERNEL_ARM, BundledRun, arm_of
from iree_matrix.execution.workflow import Loaded, PlanSettings
from iree_matrix.kernel import kernels as kernel_files

logger = console.logger(__name__)


def refuse_on_gpu(plan: PlanSettings) -> None:
    """A kernel is linked into llvm-cpu executables: a GPU sitting cannot take one."""
    if plan.kernels:
        raise UserError(
            f"bundle --kernel {plan.kernels[0]}: a kernel is linked into llvm-cpu executables; a GPU "
            "sitting (--target) takes none: bundle it for a CPU (--cpu LLVM_CPU)"
        )


def chosen(plan: PlanSettings, model: str, release: str) -> tuple[PlanSettings, tuple[str, ...]]:
    """The plan with the kernels the sitting bundle carries, and their names: each `--kernel`, checked;
    without one, the kernel the published answer for `model` by `release` takes, where it is here."""
    names = []
    for given in plan.kernels:
        try:
            kernel = kernel_files.load(Path(given).expanduser())
        except kernel_files.KernelError as exc:
            raise UserError(f"bundle --kernel {given}: {exc}") from None
        if not kernel.for_model(model):
            raise UserError(
                f"bundle --kernel {given}: kernel {kernel.name!r} is meant for {', '.join(kernel.models)} "
                f"(its {kernel_files.KERNEL_FILE}'s models), not {model}: add {model} there to time it"
            )
        names.append(kernel.name)
    if plan.kernels:
        return plan, tuple(dict.fromkeys(names))
    if (found := published_kernel(model, release)) is None:
        return plan, ()
    directory, kernel, where = found
    logger.info(
        f"bundle --advise {model}: the published answer on {where} takes the kernel `{kernel.name}` "
        f"({kernel.shown_directory()}): its arms travel too (--kernel DIR names another)"
    )
    return dataclasses.replace(plan, kernels=(str(directory),)), (kernel.name,)


def published_kernel(model: str, release: str) -> Optional[tuple[Path, kernel_files.Kernel, str]]:
    """The kernel a published answer for `model` by `release` takes (its directory, the kernel, the
    identity), where that directory is a kernel here (the working directory's, or the results' checkout's);
    None where none does (said where it does but is not here)."""
    from iree_matrix.findings import advice

    results = shipped.results_dir()
    published = advice.published(results / advice.DIRNAME)
    mine = [a for a in published if a.model == model and a.release == release]
    taken = [a for a in mine if a.kernel is not None and a.kernel.directory]
    for answer in taken:
        assert answer.kernel is not None
        for root in (Path.cwd(), results.parent):
            if ((directory := root / answer.kernel.directory) / kernel_files.KERNEL_FILE).is_file():
                try:
                    kernel = kernel_files.load(directory)
                except kernel_files.KernelError:
                    continue
                if kernel.for_model(model):
                    return directory, kernel, answer.identity.short
    if taken:
        named = taken[0].kernel.directory if taken[0].kernel is not None else ""
        logger.warning(
            f"bundle --advise {model}: the published answer takes the kernel in {named}, which is not "
            "here: no kernel arm travels (--kernel DIR names it)"
        )
    return None


def describe_arms(
    sittings: list[dict[str, Any]],
    loaded: Loaded,
    latest: Mapping[str, Record],
    found: Sequence[BundledRun],
    cpu: str,
) -> None:
    """Each sitting's kernel arms as advise keeps its own, and an arm with why for each kernel cell that did
    not compile here, so the answer there says the kernel was tried."""
    from iree_matrix.advise.advise_sitting import build_command
    from iree_matrix.core.model.metrics.compile import CompileMetrics
    from iree_matrix.iree.flags import compile_flags

    kernels = loaded.matrix.kernels
    jobs = loaded.plan.by_id()
    compile_of = {cell.job: cell.compile_job for cell in found}
    travelled = set(compile_of.values())
    for sitting in sittings:
        arms = sitting["arms"]
        compiles = {compile_of[a["job"]]: a for a in arms if a["kind"] == KERNEL_ARM and a.get("job")}
        wanted = (sitting["model"], sitting["function"])
        cells = [job for job in loaded.plan.jobs if job.stage == "compile" and job.label.kernel]
        planned = [j for j in cells if (j.label.source_model or j.label.model, j.label.function) == wanted]
        for job in planned:
            kernel = kernels[job.label.kernel]
            arm = compiles.get(job.id)
            if arm is None and job.id not in travelled:  # its compile failed: the arm says why
                config = arm_of(job.label.config, NamedCpu(cpu))[0]
                if (failed := latest.get(job.id)) is None or failed.status is Status.NOT_RUN:
                    failed = _failed_dep(job.id, jobs, latest) or failed
                name, base, release = str(config), str(config.without_kernel()), job.label.compiler
                flags = compile_flags(release, job.label.arch, job.profile) if job.profile else []
                arm = {
                    "name": name,
                    "kind": KERNEL_ARM,
                    "config": base,
                    "base": base,
                    "kernel": kernel.name,
                    "release": release,
                    "flags": flags,
                    "error": _why_not(failed),
                }
                if failed is not None and failed.error_class == "kernel-not-applied":
                    arm["applied"] = False
                arms.append(arm)
            if arm is None:
                continue
            # As advise keeps its own (a plugin's run flag names the kernel's directory here: what
            # loads it there is the bundle's copy).
            arm.update(kernel.arm_flags(arm["flags"], arm["release"]))
            arm.update(kernel_dir=kernel.shown_directory(), source=f"--kernel {kernel.shown_directory()}")
            built = next((latest.get(d) for d in jobs[job.id].deps if d.startswith("kernel:")), None)
            if built is not None and built.command:
                arm["kernel_build"] = build_command(built, kernel)
            if (compiled := latest.get(job.id)) is not None and compiled.status is Status.OK:
                arm["applied"] = compiled.metric.of(CompileMetrics).kernel_applied


def _failed_dep(job_id: str, jobs: Mapping[str, Any], latest: Mapping[str, Record]) -> Optional[Record]:
    """The first dependency of `job_id` that did not end ok (the kernel's C build, say)."""
    for dep in jobs[job_id].deps:
        if (record := latest.get(dep)) is not None and record.status is not Status.OK:
            return record
    return None


def _why_not(failed: Optional[Record]) -> str:
    """Why a kernel cell did not compile, in its record's words (or its failed dependency's)."""
    if failed is None:
        return "its compile did not run here, so it did not travel"
    words = (failed.message or "").strip().splitlines()
    return f"{failed.error_class or failed.status.value}: {words[0] if words else failed.status.value}"[:1000]
