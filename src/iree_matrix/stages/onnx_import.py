"""An `onnx` form's import: the compiler's own ONNX importer (the `iree-import-onnx` console script of
iree-base-compiler / iree-compiler) writes the MLIR the compile stage reads, beside the module."""

from __future__ import annotations

from pathlib import Path
from typing import Union

from iree_matrix.core.errors import StageFailure, StageSkipped
from iree_matrix.core.model import store
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs import Environment
from iree_matrix.iree import versions
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.artifacts import ONNX
from iree_matrix.stages.base import Context

IMPORTER, MODULE = "iree-import-onnx", "iree.compiler.tools.import_onnx"
_MLIR = "model.mlir"
_Failed = tuple[Exception, str, list[str]]  # the failure, the importer's output, its argv

# Exit 3: no importer in the package. Exit 4 (printing the module): the importer imports a package
# its compiler does not install (iree-base-compiler 3.0.0's imports iree.runtime), as a fresh
# environment's would too.
HAS_IMPORTER = f"""
import importlib, importlib.util, sys
if not importlib.util.find_spec({MODULE!r}):
    sys.exit(3)
try:
    importlib.import_module({MODULE!r} + ".__main__")
except ModuleNotFoundError as missing:
    top = (missing.name or "").split(".")[0]
    if missing.name and not missing.name.startswith("iree.compiler") and top in ("iree", "onnx", "numpy"):
        print(missing.name)
        sys.exit(4)
    raise
"""


def importer_needs(compiler: str, probe_output: str) -> str:
    """The cell's words when the compiler's importer imports a package its wheel does not install."""
    lines = probe_output.strip().splitlines()
    missing = lines[-1].strip() if lines else "?"
    fix = (
        f"the runtime of the same release beside it: pip install '{versions.runtime_requirement(compiler)}'"
        if missing.startswith("iree.runtime")
        else f"{missing.split('.')[0]} installed beside it"
    )
    return (
        f"IREE {compiler}'s {IMPORTER} imports {missing}, which its compiler package does not "
        f"install (No module named '{missing}'): it cannot start without {fix}"
    )


def imported(env: Environment, job: Job, ctx: Context, out: Path) -> Union[Path, _Failed]:
    """The export's model.onnx through this compiler's iree-import-onnx into `out`/model.mlir: its path,
    or the failure (the exception, the importer's output, its argv); no importer is a skip."""
    probe = env.run(ProcessRequest([env.python(), "-c", HAS_IMPORTER], timeout=120, log=ctx.log, check=False))
    if probe.returncode == 3:
        raise StageSkipped(
            f"IREE {job.label.compiler}'s compiler package ships no ONNX importer ({IMPORTER}, {MODULE})"
        )
    if probe.returncode == 4:
        raise StageFailure("onnx-import", importer_needs(job.label.compiler, probe.output))
    source = ctx.read(ONNX)
    argv = [env.tool(IMPORTER), source.name, "-o", str(out / _MLIR)]
    with store.scratch(out, [source]) as cwd:  # never in the export's entry
        request = ctx.request(argv, read_only=[source.parent], writable=[out, cwd], check=False, cwd=cwd)
        done = env.run(request)
    if done.returncode != 0 or not (out / _MLIR).is_file():
        return processes.failure(done, "onnx-import"), done.output, argv
    return out / _MLIR
