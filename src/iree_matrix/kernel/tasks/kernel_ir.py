"""`iree-matrix kernel ir MODEL`: the module a kernel's transform spec runs on, for one release and
profile: the cell's own iree-compile stopped after preprocessing, planned and run as a one-cell matrix,
each op with its model line and torch module; for a kernel whose spec the tool writes, the C prototype the
spec calls too (or why none can be written). `kernel spec` prints that spec itself."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from iree_matrix.core import shipped
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.store import Store
from iree_matrix.core.toml_text import tomllib
from iree_matrix.execution.workflow import PlanSettings, RunOptions, given_kernels, load_plan
from iree_matrix.iree import ir_ops, versions
from iree_matrix.kernel.iree import spec_gen
from iree_matrix.kernel.stages import kernel_generated as generated
from iree_matrix.kernel.stages.kernel_compiled import without_spec
from iree_matrix.tasks.runs import run_plan

_EXPORTER_AXES = ("python", "torch", "turbine", "arch")
SPEC_KINDS = "kernel.toml's function and replaces = { module, class or op = ... }"


def run(
    model: str, release: str, profile: str, kernel: str | None, cache: Path, out: TextIO, spec: bool = False
) -> int:
    if spec and (not kernel or not given_kernels((kernel,))[0].generated):
        raise UserError(f"kernel spec: give --kernel DIR, a kernel whose spec the tool writes ({SPEC_KINDS})")
    base = tomllib.loads((shipped.matrix_dir() / "default.toml").read_text(encoding="utf-8"))
    release = release or max(base["compiler"], key=versions.release_order)
    with tempfile.TemporaryDirectory(prefix="kernel-ir-") as tmp:
        where = Path(tmp)
        axes = {k: base[k] for k in _EXPORTER_AXES}
        file, colon, factory = model.rpartition(":")  # a file of the user's: relative to here, not to tmp
        named = str(Path(file).resolve()) + colon + factory if file.endswith(".py") else model
        axes.update(compiler=[release], runtime=[release], models=[named])
        text = "".join(f"{k} = {json.dumps(v)}\n" for k, v in axes.items()) + "[benchmark]\nrepetitions = 1\n"
        (where / "kernel-ir.toml").write_text(text, encoding="utf-8")
        settings = PlanSettings(
            where / "kernel-ir.toml",
            where / "results",
            cache,
            RunOptions(wait=True),
            kernels=(kernel,) if kernel else (),
            select=("compile:*",),
            profiles=(profile,),  # "data-tiling+loop-unrolling": combined as `tune --profiles` does
        )
        loaded = load_plan(settings)
        _, summary = run_plan(loaded, settings.run, cache, out=sys.stderr)
        records = list(summary.records.values())
        export = next((r for r in records if r.stage == "export" and r.key), None)
        plain = next((r for r in records if r.stage == "compile" and not r.label.kernel and r.command), None)
        if export is None or plain is None:
            raise UserError(f"{model}: no export and compile to print the IR of (see the run above)")
        mlir = Store(CacheLayout(cache).store).entry_path("export", export.key) / "model.mlir"
        found = next(iter(loaded.matrix.kernels.values()), None)
        argv = [a for a in plain.command if "/staging/" not in a]  # its outputs in a staging entry
        argv = [*without_spec(argv, where / "ir.mlir"), *(found.requires_flags if found else ())]
        argv += generated.IR_FLAGS
        (where / mlir.name).symlink_to(mlir)
        done = subprocess.run(argv, cwd=where, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            out.write(done.stderr)
            return 1
        ir = (where / "ir.mlir").read_text(encoding="utf-8", errors="replace")
    modules = generated.modules_of(mlir)
    if not spec:
        out.write(annotated(ir, modules, generated.modules_of(mlir, "frames")))
    if found is not None and found.generated:
        try:
            text, protos = generated.written(found, plain.label.model, release, ir, mlir)
            said = f"\n// kernel {found.name!r}: the generated spec calls\n" + "\n".join(protos) + "\n"
            out.write(text if spec else said)
        except spec_gen.NotGenerated as exc:
            why = f"kernel {found.name!r}, IREE {release}: no spec can be generated: {exc}"
            if spec:
                raise UserError(why) from None
            out.write(f"\n// {why}\n")
    elif not modules:
        out.write(
            "\n// (torch modules are recorded for a matrix with a kernel whose spec the tool writes: "
            "--kernel DIR with replaces = { module = ... })\n"
        )
    return 0


def annotated(ir: str, modules: dict[str, str], frames: dict[str, str]) -> str:
    """The IR without its locations and resources, each op that came from the model followed by
    `// <- module Class · file.py:line`."""
    lines = []
    for line in ir.split("\n{-#", 1)[0].splitlines():
        if line.startswith("#loc"):
            continue
        model_lines = sorted({n for n in ir_ops.LOC_LINE.findall(line)}, key=int)
        bare = ir_ops.strip_locations(line).rstrip()
        said = [modules[n] for n in model_lines if n in modules] or [
            frames[n] for n in model_lines if n in frames
        ]
        where = [Path(frames[n]).name for n in model_lines if n in frames and n in modules]
        lines.append(f"{bare}  // <- {', '.join(dict.fromkeys(said + where))}" if said else bare)
    return "\n".join(lines) + "\n"
