"""The transform spec the tool writes for a kernel declared by what it replaces (kernel.toml
`function` and `replaces = { module = ... }` or `{ class = ... }`): written per compile from that
cell's own IR (iree/spec_gen.py), kept in the compile's entry beside its module (`kernel-spec.mlir`;
its digest in the record, `custom_kernel.spec_sha256`, spec "generated").

The IR is the cell's iree-compile itself, its flags and the kernel's `requires_flags`, stopped after
preprocessing (`--compile-to=preprocessing`, a phase every release 3.3.0 ... 3.13.0 has) with
`--mlir-print-debuginfo`; the torch module of each op comes from the export's model.where.json
(`modules`, written when the matrix has such a kernel: stages/export.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.model.metrics.kernel import KernelMetrics
from iree_matrix.core.system import process_output
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs import Environment
from iree_matrix.iree import compile_errors, spec_gen, versions
from iree_matrix.matrix.kernels import Kernel
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.base import Context
from iree_matrix.stages.compile_kernel import kernel_of, without_spec
from iree_matrix.stages.kernel import GENERATED_SPEC

SPEC_FILE = GENERATED_SPEC  # in the compile's entry and its scratch directory
IR_FLAGS = ("--compile-to=preprocessing", "--mlir-print-debuginfo")
_IR_FILE = "preprocessed.mlir"


def declaration(kernel: Kernel) -> spec_gen.Declaration:
    return spec_gen.Declaration(
        kernel.name, kernel.function, kernel.replaces_module, kernel.replaces_class, kernel.args
    )


def counted(release: str) -> bool:
    """Whether `release` spells a workgroup count `count(...)` (3.4.0 on; the date releases before)."""
    return versions.is_valid(release) and versions.release_order(release) >= versions.release_order("3.4.0")


def modules_of(mlir: Path) -> dict[str, str]:
    """The export's {model.mlir line: "path Class"} (model.where.json's `modules`), {} if none."""
    where = mlir.with_name(mlir.stem + compile_errors.WHERE_SUFFIX)
    try:
        found = json.loads(where.read_text(encoding="utf-8")).get("modules", {})
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def write(
    job: Job, ctx: Context, env: Environment, request: ProcessRequest, mlir: Path, cwd: Path, out: Path
) -> None:
    """Run the cell's compile to preprocessing, write the spec into the entry (`out`) and link it into
    the compile's scratch directory `cwd`; a form it cannot write is the compile's one-line failure."""
    kernel = kernel_of(job, ctx)
    stop = cwd / _IR_FILE
    argv = [*without_spec(list(request.argv), stop), *IR_FLAGS]
    done = env.run(dataclasses.replace(request, argv=argv))
    if done.returncode != 0:
        named = compile_errors.first_error(done.output)
        said = named.text() if named is not None else process_output.excerpt(done.output, max_lines=3)
        raise StageFailure(
            "kernel-not-generated", f"kernel {kernel.name!r}: the IR to match was not printed: {said}"
        )
    modules = modules_of(mlir)
    if not modules:
        raise StageFailure(
            "kernel-not-generated",
            f"kernel {kernel.name!r}: the export recorded no torch module per op (model.where.json), "
            "so no spec can be written from replaces",
        )
    try:
        text, prototypes = spec_gen.spec(
            stop.read_text(encoding="utf-8", errors="replace"), modules, declaration(kernel), kernel.object,
            counted(job.label.compiler),
        )  # fmt: skip
    except spec_gen.NotGenerated as exc:
        raise StageFailure(
            "kernel-not-generated", f"kernel {kernel.name!r}, IREE {job.label.compiler}: {exc}"
        ) from None
    built = ctx.dep("kernel").record.metric.of(KernelMetrics)
    if kernel.function not in (built.object_functions or []):
        shown = " ".join(prototypes[0].split())
        raise StageFailure(
            "kernel-rejected",
            f"kernel {kernel.name!r}: {kernel.object} defines no function {kernel.function} "
            f"(it defines {', '.join(built.object_functions or []) or 'none'}); "
            f"the generated spec calls {shown}",
        )
    (out / SPEC_FILE).write_text(text, encoding="utf-8")
    (cwd / SPEC_FILE).symlink_to(out / SPEC_FILE)
