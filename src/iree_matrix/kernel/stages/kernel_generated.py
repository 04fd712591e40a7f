"""The transform spec the tool writes for a kernel declared by what it replaces (`function` and
`replaces`), per compile from that cell's own IR (kernel/iree/spec_gen.py), kept beside its module
(`kernel-spec.mlir`). The IR is the cell's own iree-compile stopped after preprocessing with
`--mlir-print-debuginfo`; each op's torch module comes from the export's model.where.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import digest
from iree_matrix.core.system import process_output
from iree_matrix.iree import compile_errors, torch_ops, versions
from iree_matrix.kernel import mechanism
from iree_matrix.kernel.iree import spec_gen
from iree_matrix.kernel.kernels import SPEC_FILE, Kernel
from iree_matrix.kernel.model.metrics import KernelMetrics
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.artifacts import MLIR
from iree_matrix.stages.base import Context

# The IR on stdout (`-o -`): preprocessing's output, each op with its location.
IR_FLAGS = ("--compile-to=preprocessing", "--mlir-print-debuginfo")
_COUNTED_SINCE = versions.release_order("3.4.0")  # a workgroup count spelled `count(...)` (dates: before)


def declarations(kernel: Kernel, model: str = "") -> list[spec_gen.Declaration]:
    """The kernel's `function` + `replaces`, then each `[[calls]]`; given a cell's `model`, those for it."""
    return [d for d in kernel.declared if not model or kernel.for_model(model, d.models)]


def written(kernel: Kernel, model: str, release: str, ir: str, mlir: Path) -> tuple[str, list[str]]:
    """The spec for a cell of `model` by `release` from its `ir` (its export's `mlir`) and the C
    prototypes it calls, of the declarations for that model (spec_gen.NotGenerated: why none)."""
    if not (declared := declarations(kernel, model)):
        theirs = ", ".join(dict.fromkeys(m for d in declarations(kernel) for m in d.models))
        raise spec_gen.NotGenerated(f"no declaration is for the model {model!r} (they are for {theirs})")
    by_op = any(d.op for d in declared)
    if not (modules := modules_of(mlir)) and not by_op:
        raise spec_gen.NotGenerated("the export recorded no torch module per op (model.where.json)")
    lines = torch_ops.model_lines(mlir.read_text(encoding="utf-8")) if by_op else {}
    counted = versions.is_valid(release) and versions.release_order(release) >= _COUNTED_SINCE
    links = mechanism.of(kernel.mechanism).spec_links
    return spec_gen.spec(ir, modules, declared, kernel.object, counted, lines, links)


def modules_of(mlir: Path, key: str = "modules") -> dict[str, str]:
    """The export's {model.mlir line: "path Class"} (model.where.json's `modules`; `frames`: the
    model's file:line), {} if none."""
    where = mlir.with_name(mlir.stem + compile_errors.WHERE_SUFFIX)
    try:
        found = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = found.get(key, {}) if isinstance(found, dict) else {}
    return found if isinstance(found, dict) else {}


def spec_for(
    job: Job,
    ctx: Context,
    kernel: Kernel,
    run_compiler: Optional[Callable[[Sequence[str]], Any]],
    out: Optional[Path],
) -> Path:
    """The spec written from the compile's own IR (`run_compiler`), kept in its entry (`out`)."""
    assert run_compiler is not None and out is not None, "a generated spec is written by a compile"
    if (done := run_compiler([*kernel.requires_flags, *IR_FLAGS, "-o", "-"])).returncode != 0:
        named = compile_errors.first_error(done.output)
        said = named.text() if named is not None else process_output.excerpt(done.output, max_lines=3)
        raise StageFailure(
            "kernel-not-generated", f"kernel {kernel.name!r}: the IR to match was not printed: {said}"
        )
    try:
        text, prototypes = written(kernel, job.label.model, job.label.compiler, done.stdout, ctx.read(MLIR))
    except spec_gen.NotGenerated as exc:
        raise StageFailure(
            "kernel-not-generated", f"kernel {kernel.name!r}, IREE {job.label.compiler}: {exc}"
        ) from None
    built = ctx.dep("kernel").record.metric.of(KernelMetrics).object_functions or []
    called = {p.split(") void ")[1].split("(")[0]: p for p in prototypes}  # function: prototype
    # (a plugin's functions are imports it resolves by name at the run, not symbols it must define)
    if mechanism.of(kernel.mechanism).links_built and (missing := [f for f in called if f not in built]):
        shown = " ".join(called[missing[0]].split())
        raise StageFailure(
            "kernel-rejected",
            f"kernel {kernel.name!r}: {kernel.object} defines no function {missing[0]} (it defines "
            f"{', '.join(built) or 'none'}); the generated spec calls {shown}",
        )
    (out / SPEC_FILE).write_text(text, encoding="utf-8")
    return out / SPEC_FILE


def spec_digest(job: Job, ctx: Context, kernel: Kernel) -> Optional[str]:
    """The declaration and the generator's code (kernels.Kernel.spec_digest, in the kernel job's
    record), and, for a declaration by module, each op's module (a recipe's export gained them, its
    MLIR unchanged: a stored failure was reused). The IR is the compile's MLIR and flags, in its key."""
    spec = ctx.dep("kernel").record.metric.of(KernelMetrics).spec_sha256
    owners = modules_of(ctx.read(MLIR)) if any(not d.op for d in declarations(kernel)) else {}
    return digest({"spec": spec, "modules": owners}) if spec and owners else spec
