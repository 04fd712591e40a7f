"""`iree-matrix bisect JOB`: where a mismatching run's IREE output leaves torch's. From the stored records
alone it finds the run's cell (the export's, compiler's and runtime's environments, the model's arguments,
the compile's flags), runs scripts/bisect_outputs.py in the exporter's environment, sandboxed as the export
stage runs the model's code, and prints its table: the first module whose output differs from torch's."""

from __future__ import annotations

import dataclasses
import fnmatch
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional, TextIO

from iree_matrix.core import shipped
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.model import store
from iree_matrix.core.model.results import Record, Status, dep_of, latest_by_job, no_log
from iree_matrix.core.system import bubblewrap, process_output
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs import Environment
from iree_matrix.envs.venv import VenvBackend
from iree_matrix.findings import results_folder
from iree_matrix.iree import targets
from iree_matrix.matrix.models import readable_beside
from iree_matrix.matrix.plan import EnvSpec

SCRIPT = "bisect_outputs.py"
TIMEOUT = 1800.0  # seconds: an export, a compile and one call of a wrapper returning every activation

# The export worker's arguments that say which model it built, each with a value (export_model.py's
# `add_model_arguments`): what the bisection's own load takes again.
_MODEL_ARGS = ("--module", "--file", "--import-root", "--factory", "--function", "--weights", "--seed")
# The compile's own outputs, not flags that decide the module (`compile.target_outputs`, statistics).
_OUTPUT_FLAGS = ("--iree-scheduling-dump-statistics", "--iree-hal-dump", "--iree-llvmcpu-embedded-linker")


@dataclasses.dataclass(frozen=True)
class Cell:
    """What a bisection of one run needs, read from its cell's records."""

    run: Record
    exporter: Mapping[str, object]  # the export record's environment
    compiler: Mapping[str, object]
    runtime: Mapping[str, object]
    model_args: tuple[str, ...]  # export_model.py's arguments naming the model
    flags: tuple[str, ...]  # the compile's iree-compile flags, its own outputs left out
    reads: tuple[Path, ...]  # the model's files (and weights) the export read


def find_run(latest: Mapping[str, Record], job: str, path: Path) -> Record:
    """The one run record `job` (an id or a glob) names, a mismatch; else one line saying why not."""
    matches = [j for j in latest if j == job] or sorted(j for j in latest if fnmatch.fnmatchcase(j, job))
    if len(matches) != 1:
        what = "no job" if not matches else f"{len(matches)} jobs ({', '.join(matches[:3])} …)"
        raise UserError(f"{path}: {what} matching {job!r}; bisect takes one run job id, e.g. 'run:MODEL/…'")
    record = latest[matches[0]]
    if record.stage != "run" or record.status is not Status.MISMATCH:
        raise UserError(
            f"{record.job}: a {record.stage} record whose status is {record.status.value}, not a mismatch: "
            "bisect takes a run whose outputs differ from torch's"
        )
    return record


def model_arguments(command: Sequence[str]) -> tuple[str, ...]:
    """The model's arguments in an export worker's recorded command (export_model.py's)."""
    return tuple(x for flag, value in zip(command, command[1:]) if flag in _MODEL_ARGS for x in (flag, value))


def compile_flags(command: Sequence[str]) -> tuple[str, ...]:
    """The flags of a recorded iree-compile command that decide the module: every `--` flag but the
    output (`-o`) and the compile's own dumps and statistics."""
    return tuple(arg for arg in command[1:] if arg.startswith("--") and not arg.startswith(_OUTPUT_FLAGS))


def cell(run: Record, latest: Mapping[str, Record]) -> Cell:
    """The run's cell from its records; one line naming what is missing or not bisectable."""
    export, compiled = dep_of(run, latest, "export"), dep_of(run, latest, "compile")
    if export is None or compiled is None or not export.command or not compiled.command:
        raise UserError(
            f"{run.job}: its export or compile record (with its command) is not in this results set"
        )
    if export.label.form:
        raise UserError(
            f"{run.job}: an {export.label.form} export is not bisected (its model is an ONNX file)"
        )
    script = Path(export.command[1]).name if len(export.command) > 1 else ""
    if script != "export_model.py":
        raise UserError(
            f"{run.job}: its export ran {script or 'no worker'} (a recipe's export), which bisect does not "
            "wrap; bisect the model without its recipe (`iree-matrix matrix --model FILE:FACTORY`) instead"
        )
    if (arch := run.label.arch) and targets.parse(arch).arch.name != targets.host_arch():
        raise UserError(f"{run.job}: a {arch} cell; bisect compiles and runs for this host only")
    envs = [export.env or {}, compiled.env or {}, run.env or {}]
    if any(env.get("backend") != "venv" or not env.get("path") for env in envs):
        backends = ", ".join(str(env.get("backend")) for env in envs)
        raise UserError(
            f"{run.job}: its environments are not all venvs ({backends}); bisect opens venvs only"
        )
    args = model_arguments(export.command)
    reads = [Path(v) for f, v in zip(args, args[1:]) if f in ("--file", "--weights")]
    missing = [str(p) for p in reads if not p.is_file()]
    if missing:  # records merged from another machine name its paths
        raise UserError(
            f"{run.job}: the export read {', '.join(missing)}, which is not here; bisect runs that model"
        )
    given = dict(zip(args, args[1:]))
    if (root := given.get("--import-root")) and (module := given.get("--module")):
        top = Path(root) / module.split(".")[0]
        reads.append(top if top.is_dir() else top.with_name(top.name + ".py"))
    readable = tuple(readable_beside(p) for p in reads)
    return Cell(run, envs[0], envs[1], envs[2], args, compile_flags(compiled.command), readable)


def _open(described: Mapping[str, object], kind: str) -> Environment:
    """The recorded environment, opened through the venv backend of the directory its path is in
    (checked complete and undamaged there, as a stage opens it)."""
    path = Path(str(described["path"]))
    env_id = str(described.get("id") or "")
    python, _, name = env_id.removeprefix("py").partition("-")
    spec = EnvSpec(kind, python, (), name)
    opened = None
    if name and spec.id == env_id:
        opened = VenvBackend(path.parent).open(spec, str(described.get("lock_digest") or ""))
    if opened is None:
        raise UserError(
            f"{path}: the {kind} environment the records name is not there (removed, or another cache)"
        )
    return opened


def run(
    job: str, results_dir: Path, out_dir: Optional[Path], *, unsandboxed: bool = False, out: TextIO
) -> int:
    """Bisect the mismatching run `job` of `results_dir`: print the table and where IREE leaves torch."""
    results = results_folder.load(results_dir, None)
    if not results.source.is_file():
        raise UserError(no_log(results.source, "runs/default"))
    latest = latest_by_job(results.logged)
    found = cell(find_run(latest, job, results.source), latest)
    bubblewrap.allow_unsandboxed(unsandboxed)
    exporter = _open(found.exporter, "exporter")
    compiler = _open(found.compiler, "compiler")
    runtime = _open(found.runtime, "runtime")
    where = Path(out_dir or tempfile.mkdtemp(prefix="iree-matrix-bisect-")).resolve()
    where.mkdir(parents=True, exist_ok=True)
    script = shipped.scripts_dir() / SCRIPT
    tools = ["--compile", compiler.tool("iree-compile"), "--run", runtime.tool("iree-run-module")]
    flags = ["--only-flags", *(f"--flag={flag}" for flag in found.flags)]
    argv = [exporter.python(), str(script), *found.model_args, "--out", str(where), *tools, *flags]
    read = [script.parent, *found.reads, *(Path(str(e["path"])) for e in (found.compiler, found.runtime))]
    print(f"bisecting {found.run.job} (its files in {where}) …", file=out, flush=True)
    request = ProcessRequest(
        argv, timeout=TIMEOUT, read_only=read, writable=[where], check=False, model_code="bisect"
    )
    try:
        done = exporter.run(request)
    except StageFailure as exc:  # the sandbox refused an input (a record naming /etc/shadow): one line
        raise UserError(f"{found.run.job}: {exc.message}") from None
    for why in store.disarm(where):  # the model's code wrote there: the store's rules
        print(f"{where}/{why} (the model's code wrote it; bisect's folder is data)", file=out)
    if done.returncode != 0:
        said = process_output.excerpt(done.output, max_lines=12)
        raise UserError(f"{found.run.job}: the bisection ended with status {done.returncode}: {said}")
    print(done.stdout.rstrip(), file=out)
    return 0
