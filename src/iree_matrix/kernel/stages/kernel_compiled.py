"""What the compile stage says of a kernel of the user's (kernel/kernels.py) it swapped in: whether
its spec applied, the compiler's refusal in its words, and the words for a spec that matched
nothing (kernel/stages/kernel_seam.py's `judge_compile` and `judge_compile_failure` call it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system import process_output, processes
from iree_matrix.iree import compile_errors
from iree_matrix.kernel import kernels, mechanism, spec_text
from iree_matrix.kernel.iree import custom_dispatch
from iree_matrix.kernel.model.metrics import KernelMetrics
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.artifacts import MODULE
from iree_matrix.stages.base import Context


def module_sha256(compiled: Entry) -> str:
    return compiled.record.metric.of(CompileMetrics).module_sha256 or file_sha256(MODULE.of(compiled))


def kernel_facts(
    job: Job,
    ctx: Context,
    metrics: dict[str, Any],
    module: Path,
    kernel: kernels.Kernel,
    spec: Path,
    spec_digest: Optional[str],
) -> dict[str, Any]:
    """What the kernel's compile says of it: its object and spec, and whether the spec applied: the module
    holds the object's functions' names, or the spec's executables as parts; with neither, a module that
    differs from the one compiled without the kernel counts only where the kernel adds no flags."""
    built = ctx.dep("kernel").record.metric.of(KernelMetrics)
    baseline = module_sha256(ctx.dep("compile"))
    text = spec.read_text(encoding="utf-8", errors="replace")
    declared = spec_text.spec_executables(text)
    parts = [p for p in metrics.get("module_parts_sha256", {}) if p != "module.fb"]
    executables = sorted(
        p for p in parts if any(p.startswith(f"{name}_") or p == f"{name}.so" for name in declared)
    )
    data = module.read_bytes()
    provided = [*built.object_functions, *mechanism.of(kernel.mechanism).provided(text)]
    functions = [f for f in dict.fromkeys(provided) if f and f.encode() in data]
    identical = metrics["module_sha256"] == baseline
    return {
        "name": job.label.kernel,
        "directory": kernel.shown_directory(),  # for `iree-matrix kernel ir ... --kernel DIR`
        "object_sha256": built.object_sha256,
        # which of the kernel's specs this release took ([[specs]] windows), or "generated"
        "spec": kernels.GENERATED if kernel.generated else spec.name,
        "spec_sha256": file_sha256(spec) if kernel.generated else spec_digest,
        "baseline_job": next((d for d in job.deps if d.startswith("compile:")), ""),
        "baseline_module_sha256": baseline,
        "identical_to_baseline": identical,
        "functions_found": functions,
        "executables_found": executables,
        "applied": bool(functions or executables) or (not identical and not kernel.requires_flags),
        **mechanism.recorded(kernel),
    }


def not_applied_words(kernel: str, facts: Optional[dict[str, Any]] = None) -> str:
    """A spec that matched nothing: said, never taken for a speed-up of the kernel's."""
    facts = facts or {}
    how = (
        "the module is byte for byte the one compiled without it"
        if facts.get("identical_to_baseline", True)
        else "the module holds neither its object's functions nor its spec's executables"
    )
    return (
        f"kernel {kernel!r} was not applied: its transform spec matched nothing in this model, so {how} "
        "(a run would time IREE's own code)"
    )


def without_spec(argv: list[str], output: Path) -> list[str]:
    """A kernel cell's iree-compile command without its spec and object search path, writing to `output`: to
    tell a refusal of the kernel from one of the `requires_flags` it needs."""
    swaps = (f"{custom_dispatch.TRANSFORM_SPEC_FLAG}=", f"{custom_dispatch.OBJECT_SEARCH_PATH_FLAG}=")
    kept = [a for a in argv if not a.startswith(swaps)]
    at = kept.index("-o") if "-o" in kept else len(kept)
    return [*kept[:at], "-o", str(output), *kept[at + 2 :]]


def _said(done: processes.Completed, cause: str) -> str:
    named = compile_errors.first_error(done.output, cause)
    return named.text() if named is not None else process_output.excerpt(done.output, max_lines=5)


def kernel_refused(
    kernel: str,
    done: processes.Completed,
    spec_name: str,
    requires_flags: tuple[str, ...] = (),
    alone: Optional[processes.Completed] = None,
) -> Exception:
    """A compile the kernel broke: the compiler's words, said to be about its spec or object, or about its
    `requires_flags` with this configuration where the compile without its spec (`alone`) fails too."""
    if requires_flags and alone is not None and alone.returncode != 0 and not alone.killed:
        return StageFailure(
            "kernel-rejected",
            f"with kernel {kernel!r} this iree-compile refuses the kernel's required flags "
            f"({' '.join(requires_flags)}) with this configuration, spec or not (the cell compiles "
            f"without them): {_said(alone, compile_errors.KERNEL_FLAGS)}",
        )
    what = "its transform spec" if custom_dispatch.spec_refused(done.output, spec_name) else "it"
    return StageFailure(
        "kernel-rejected",
        f"with kernel {kernel!r} this iree-compile refuses {what} (the cell compiles without it): "
        f"{_said(done, compile_errors.KERNEL_CAUSE)}{custom_dispatch.older_spelling_hint(done.output)}",
    )
