"""export: the model's MLIR from iree-turbine, its inputs and torch eager's outputs and times
(`scripts/export_model.py` in the exporter environment)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from iree_matrix.core import shipped
from iree_matrix.core.atomic_files import read_json
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import digest, file_sha256
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics_view import nonfinite_words
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Status
from iree_matrix.core.system import process_output, processes
from iree_matrix.iree import versions
from iree_matrix.kernel.stages import kernel_generated as generated
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.matrix.plan import EnvSpec, Job, PlannedFunction
from iree_matrix.matrix.spec import Cell, onnx_opset
from iree_matrix.stages import model_worker as worker
from iree_matrix.stages.artifacts import EXPORT_INFO, MLIR, MLIRBC, ONNX, REFERENCE, export_digests
from iree_matrix.stages.base import Context, Stage

WORKER = "export_model.py"
ONNX_WORKER = "export_onnx.py"  # an `onnx` form's export (it imports export_model.py)
WHERE_SCRIPT = "mlir_where.py"  # what writes model.where.json (export_model.py imports it)


def environment(cell: Cell, extra: Sequence[str] = ()) -> EnvSpec:
    """torch + turbine, plus what the model itself needs (e.g. transformers for upstream variants)."""
    extras = "".join("+" + re.sub(r"[^A-Za-z0-9.]+", "", requirement) for requirement in extra)
    name = f"torch{cell.torch}-turbine{cell.turbine}{extras}"
    requirements = versions.exporter_requirements(cell.torch, cell.turbine) + tuple(extra)
    return EnvSpec("exporter", cell.python, requirements, name)


class ExportStage(Stage):
    name = "export"
    rank = 30
    exclusive = True  # it times torch eager
    warms_up = True  # the quiet lock is taken after the model's first call (worker.QuietHandshake)
    metrics = ExportMetrics.described()

    def plan(self, unit: PlannedFunction) -> None:
        """One export per function and exporter environment, reused by every compiler."""
        cell = unit.cell
        opset = onnx_opset(cell.form)
        onnx = (versions.ONNX_REQUIREMENT,) if opset is not None else ()
        env = environment(cell, (*unit.ref.requirements, *onnx))
        # An ONNX export is an exporter of its own (one per opset), beside the environment's MLIR.
        exporter = env.id if opset is None else f"{env.id}-opset{opset}"
        form = f"onnx:{opset}" if opset is not None else ""
        labels = unit.labels(turbine=cell.turbine, exporter=exporter, form=form)
        deps = (unit.install(env),)
        unit.planned[self.name] = unit.add(self.name, f"{unit.name}/{exporter}", deps, labels, env)

    def key(self, job: Job, ctx: Context) -> str:
        fields = {"stage": self.name, **worker.key_fields(job, ctx)}
        if (opset := onnx_opset(job.label.form)) is not None:
            fields["onnx_opset"] = opset
            fields["onnx_worker"] = file_sha256(shipped.scripts_dir() / ONNX_WORKER)
        elif ctx.spec.bytecode:  # keys of text-only exports stay as they were
            fields["bytecode"] = True
        if _modules(ctx) and opset is None:  # where.json names op modules (a recipe's too), as it says
            fields["modules"] = file_sha256(shipped.scripts_dir() / WHERE_SCRIPT)
        # A recipe's export is its worker's too (the model name has the recipe).
        if recipe := _recipe(job, ctx):
            fields["recipe_worker"] = file_sha256(shipped.scripts_dir() / recipes.WORKER)
            fields["fx_worker"] = file_sha256(shipped.scripts_dir() / recipes.FX_WORKER)
            if recipes.REWRITE in recipe.split(recipes.JOIN):  # other recipes' keys as they were
                fields["rewrite_worker"] = file_sha256(shipped.scripts_dir() / recipes.REWRITE_WORKER)
        return digest(fields)

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        env = ctx.environment(job)
        if (opset := onnx_opset(job.label.form)) is not None:
            script, extra = ONNX_WORKER, ["--opset", str(opset)]
        else:
            script, extra = WORKER, ["--bytecode"] if ctx.spec.bytecode else []
        recipe = _recipe(job, ctx)
        if _modules(ctx) and opset is None:
            extra.append("--modules")
        if recipe and opset is None:
            script, extra = recipes.WORKER, ["--recipe", recipe, *extra]
        try:
            argv, done = worker.run(self.name, env, job, ctx, out, script, "--out", str(out), *extra)
            if done.returncode != 0:
                raise _failure(out, done)
            info = worker.read_result(out / EXPORT_INFO.path, done, RESULT_FIELDS)
            if forged := forged_words(out):
                raise StageFailure("model-error", forged)
        except processes.Timeout as exc:
            # A timeout, whatever files exist: the model's code may forge export.json, and the worker
            # ends by os._exit once its outputs are written, so a process that does not end is not its.
            exc.doing = _PHASES.get(_phase(out), ("", ""))[1]  # a hang at import is not one in forward()
            raise
        finally:
            for note in (PHASE_FILE, PHASE_FILE + ".part"):  # the worker's progress note, never stored
                (out / note).unlink(missing_ok=True)
        # The importer is the environment's package as the tool installed it, never the worker's word.
        info["importer"] = importer(env.describe().get("packages") or {}) or info.get("importer")
        # A line each: the exit hang's first (findings/exporters.py reads it from the first line), and
        # the metric that marks it, from the tool's table (ONNX: no MLIR import, no hang).
        why = versions.EXIT_HANGS.get(info.get("importer") or "") if opset is None else None
        said = [words for words in (exit_hang_words(info.get("importer"), why), model_words(info)) if words]
        hang = {"exit_hang": {"known": why}} if why else {}
        metrics = ExportMetrics.checked({**export_metrics(info, out), **hang})
        return Outcome(Status.OK, metrics=metrics, message="\n".join(said) or None, command=tuple(argv))


# What export.json must hold to be the worker's: what `export_metrics` reads unconditionally.
RESULT_FIELDS: dict[str, tuple[type, ...]] = {
    "seconds": (int, float),
    "eager_ms": (dict,),
    "parameters": (int,),
    "torch_threads": (int,),
}


def _recipe(job: Job, ctx: Context) -> str:
    """The export recipe of the job's model ("" for the pipeline's default export)."""
    ref = ctx.spec.models.get(job.model or "")
    return ref.recipe if ref is not None else ""


def importer(packages: dict[str, str]) -> str | None:
    """The IREE compiler package of an exporter environment's pins (turbine's importer lives there)."""
    name = next((n for n in ("iree-base-compiler", "iree-compiler") if n in packages), None)
    return f"{name} {packages[name]}" if name else None


def forged_words(out: Path) -> str | None:
    """Why a well-formed export.json is not the worker's, which writes it last (None when it may be)."""
    made = (out / MLIR.path).is_file() or (out / ONNX.path).is_file()
    if made and any((out / REFERENCE.path).glob("*.npy")):
        return None
    return (
        f"its export.json is not the worker's: no {MLIR.path} (or {ONNX.path}) and no torch outputs "
        "beside it. The model's code runs in the worker's process: does it write that file?"
    )


def exit_hang_words(importer: str | None, why: str | None) -> str | None:
    """The known finding of an importer whose process hangs at exit (`why`: `versions.EXIT_HANGS`,
    never the worker's word: it ends by os._exit)."""
    if why is None:
        return None
    return (
        f"exported; the importer's Python process hangs at exit ({importer}: {why}); the worker "
        "ends by os._exit once its outputs are written, as a script of yours should (or `del` the "
        "export's output and gc.collect() before it ends)"
    )


def model_words(info: dict[str, Any]) -> str | None:
    """What the model itself did that the export's record says (None when nothing)."""
    said = []
    changed = info.get("changes_inputs")
    if isinstance(changed, list) and changed:
        said.append(
            f"the model changes its input in place ({', '.join(map(str, changed))}): torch's reference is "
            "its first call on a copy of the inputs as built, and IREE is given the same inputs"
        )
    state = info.get("changes_state")
    if isinstance(state, list) and state:
        said.append(
            f"the model changes its own state in forward() ({', '.join(map(str, state))}): torch's reference "
            "is its first call from its state as built, and that state is what IREE is given"
        )
    found = info.get("reference_nonfinite")
    if isinstance(found, dict) and found:
        said.append(
            f"torch's own outputs hold NaN or inf ({nonfinite_words(found)}): the model's, not IREE's; the "
            "runs check IREE's outputs only where torch's are finite"
        )
    return "; ".join(said) or None


_MODEL_FACTS = ("changes_inputs", "changes_state", "reference_nonfinite")  # what `model_words` says


def export_metrics(info: dict[str, Any], out: Path) -> dict[str, Any]:
    """The record's metrics from the worker's export.json (`info`) and the files it wrote in `out`."""
    return {
        "seconds": round(info["seconds"], 3),
        **({"mlir_bytes": (out / MLIR.path).stat().st_size} if (out / MLIR.path).is_file() else {}),
        "eager_ms": info["eager_ms"],
        # One thread's CPU time per call beside the wall time: what load moves least.
        **{name: info[name] for name in ("eager_cpu_ms", "eager_cpu_ms_error") if name in info},
        "parameters": info["parameters"],
        "torch_threads": info["torch_threads"],
        # The compiler package whose importer wrote the MLIR (turbine's torch importer lives there).
        **({"importer": info["importer"]} if info.get("importer") else {}),
        **({"mlirbc_bytes": (out / MLIRBC.path).stat().st_size} if (out / MLIRBC.path).is_file() else {}),
        **({"onnx_bytes": (out / ONNX.path).stat().st_size} if (out / ONNX.path).is_file() else {}),
        **{name: info[name] for name in ("onnx_opset", "onnx_exporter") if name in info},
        # What the model itself does (model_words says it in the record's message).
        **{name: info[name] for name in _MODEL_FACTS if info.get(name)},
        **export_digests(out),
    }


# The worker's phases (export_model.py) -> the error class of a failure in them (by whose code runs
# there: the model's, turbine's, a recipe's) and what it was doing; the worker's own code is none.
_PHASES = {
    "model": ("model-error", "while the model was being built"),
    "eager": ("model-error", "while the model's forward() ran"),
    "import": ("turbine-import", "while turbine was imported"),
    "export": ("export-error", "while turbine exported the model"),
    "onnx": ("onnx-export", "while torch.onnx exported the model"),
    "recipe": ("recipe-error", "while the export recipe's program ran in torch"),
}
PHASE_FILE = ".phase"  # export_model.py's PHASE_FILE: the phase it last entered


def _failure(out: Path, done: processes.Completed) -> StageFailure:
    if (error := read_json(out / "error.json")) is None:
        return _ended(out, done)
    phase = error.get("phase")
    if phase not in _PHASES:  # export_model.py's HARNESS: its own code failed
        return _harness(f"{error.get('message')}")
    return StageFailure(_PHASES[phase][0], error["message"])


def _ended(out: Path, done: processes.Completed) -> StageFailure:
    """The worker ended without error.json (killed, or by the model's code): its phase says whose code ran."""
    phase = _phase(out)
    said = process_output.excerpt(done.output, max_lines=5)
    last = f" Its last words: {said}" if said else ""
    if phase not in _PHASES and not done.killed:
        return _harness(f"the export worker ended (status {done.returncode}) in its own code.{last}")
    in_model = phase in ("model", "eager")
    ask = " Does the model's code end its own process, or its parent's?" if in_model else ""
    error_class, doing = _PHASES.get(phase, ("internal", "in its own code"))
    return processes.failure(
        done,
        error_class,
        f"the export's process ended (status {done.returncode}) without writing its outcome, "
        f"{doing}.{ask}{last}",
    )


def _phase(out: Path) -> str:
    """The phase the worker last entered (export_model.py's note), or "" where it left none."""
    try:
        return (out / PHASE_FILE).read_text().strip()
    except OSError:
        return ""


def _harness(message: str) -> StageFailure:
    """The export worker's own failure: iree-matrix's bug, never stored (the next run tries again)."""
    return StageFailure(
        "internal",
        f"{message} (the export worker's own failure, not the model's or turbine's: a bug in iree-matrix; "
        "please report it)",
        cacheable=False,
    )


STAGE = ExportStage()


def _modules(ctx: Context) -> bool:
    """Whether a kernel's generated spec names a torch module it replaces: the exports then say each
    op's module (a second torch.export)."""
    return any(not d.op for k in ctx.spec.kernels.values() if k.generated for d in generated.declarations(k))
