"""Every option of every command, declared once, typed, one meaning per name; the groups several
commands take; and the typed settings a command line makes (`plan_settings`, `run_options`), after
which no command reads argparse's namespace."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix import stages
from iree_matrix.commands import option_types as kinds
from iree_matrix.commands.option_types import Option, Positional, Switch, given, kernel_name, taking
from iree_matrix.core import shipped
from iree_matrix.core.errors import UserError
from iree_matrix.core.input_files import directory_problem
from iree_matrix.envs.cache_usage import absolute, default_cache
from iree_matrix.execution.workflow import PlanSettings, RunOptions


def backend_names() -> tuple[str, ...]:
    """`--backend`'s choices: `auto` and every backend of the registry."""
    from iree_matrix.envs.backends import BACKENDS

    return ("auto", *BACKENDS)


def _number(flag: str, help: str, default: int, **more: Any) -> Option[int]:
    """A whole-number option (`N`) with its default, which its help ends with."""
    return Option(flag, f"{help} (default: %(default)s)", int, default=default, metavar="N", **more)


# --- where: the cache, the results, the matrix -----------------------------------------------------

CACHE: Option[Path] = Option(
    "--cache",
    "wheelhouse, environments and artifacts (default: ~/.cache/iree-matrix, or $IREE_MATRIX_CACHE)",
    # Absolute where parsed: a stage runs its tools in other directories; core/cache_layout.py says
    # what is in it.
    kinds.directory,
)
RESULTS_DIR: Option[Path] = Option(
    "--results-dir",
    "where results.jsonl and the report go (default: runs/<matrix file name>; the published results/ "
    "are written only by `iree-matrix publish`)",
    kinds.directory,
)


# `show` and `bisect`: the results set a job is looked up in.
JOBS_RESULTS = RESULTS_DIR.but(default=Path("results"), help="the results set it is in (default: results)")
# `compare` and `calibrate`: the run whose modules are timed again.
RUN_RECORDS = RESULTS_DIR.but(
    default=Path("runs/default"), help="whose run records give the modules (default: %(default)s)"
)
MATRIX: Option[Path] = Option("--matrix", "the matrix file", kinds.matrix_file)
TO: Option[Path] = Option("--to", "the directory written to", Path, metavar="DIR")
STORE: Option[Path] = Option(
    "--store",
    "with --scheduler/--cluster: the content-addressed store every worker reads and writes at the same "
    "path (default: CACHE/store)",
    absolute,
)

# --- which jobs of the matrix, and how they run ----------------------------------------------------

SELECT: Option[str] = Option(
    "--select",
    "only jobs whose id matches (repeatable), plus what they depend on",
    metavar="GLOB",
    repeat=True,
)
LIST = Switch("--list", "print the plan and run nothing")
STRICT = Switch(
    "--strict",
    "exit 1 when a stage failed, timed out or mismatched; a cross cell the runtime refuses is an answer, "
    "not a failure (default: 0; the last line says)",
)
REFRESH_RELEASES = Switch(
    "--refresh-releases",
    'ask the package index again what selectors such as compiler = "all" mean, instead of reusing '
    "RESULTS_DIR/releases.json",
)
# Installs and compiles overlap (timed stages still run alone); capped because each compile is
# itself multi-threaded and the large ones take gigabytes.
DEFAULT_JOBS = max(1, min(4, os.cpu_count() or 1))
JOBS: Option[int] = Option(
    "--jobs",
    f"stages run at once (default {DEFAULT_JOBS}: one per CPU, at most 4; timed stages run alone)",
    int,
    default=DEFAULT_JOBS,
)
BACKEND: Option[str] = Option(
    "--backend",
    "where stages run: Docker images, host venvs, mixed (venvs for this host's CPU, images for "
    "aarch64/armv6), or auto (venvs when every environment is for this host, else Docker)",
    default="auto",
    choices=backend_names,
)
UNSANDBOXED = Switch(
    "--unsandboxed",
    "on the venv backend, run the user's model code (export, peer, flops) without bubblewrap where "
    "bubblewrap cannot run: the model then reaches the host's /dev, processes and kernel log "
    "(default: such a stage refuses; docs/failures.md)",
)
RETRY_FAILED = Switch("--retry-failed", "re-run stages whose stored result is a failure")
RETIME: Option[str] = Option(
    "--retime",
    "measure the timed stages (run, export, peer, dispatches) whose job id matches again, even when "
    "stored, e.g. --retime 'run:*' (repeatable)",
    metavar="GLOB",
    repeat=True,
)
# `--wait`: wait for whoever holds what the command needs (the cache; the results directory for
# publish, merge and results, whose help says so) instead of stopping.
WAIT = Switch(
    "--wait",
    "when another run uses the cache, wait for it to end (it is named: pid, command, since when) instead "
    "of stopping",
)
WAIT_WRITER_HELP = (
    "when another iree-matrix command writes the results directory (a publish, merge or forget; a "
    "running matrix only while it appends a record), wait for it instead of stopping (it is named: "
    "pid, command, since when)"
)
TIMEOUT: Option[str] = Option(
    "--timeout",
    "each stage's limit, over the matrix file's [timeouts]: one number for every stage (--timeout 600) "
    "or per stage (--timeout export=300,run=120; both: --timeout 600,run=120); a stage past it is "
    "recorded as a timeout and tried again on the next run",
    metavar="SECONDS|STAGE=SECONDS,...",
)


def parse_timeouts(text: Optional[str]) -> dict[str, float]:
    """`--timeout`'s value as stage -> seconds: "600" every stage, "export=300,run=120" those, both
    (a named stage wins); a bad value is a one-line error."""
    if not text:
        return {}
    known = stages.names()
    out: dict[str, float] = {}  # "": every stage
    for item in (part.strip() for part in text.split(",")):
        stage, sep, value = item.rpartition("=")
        if sep and stage not in known:
            raise UserError(f"--timeout {text!r}: unknown stage {stage!r} (known: {', '.join(known)})")
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not 0 < seconds < math.inf:
            raise UserError(
                f"--timeout {text!r}: {item!r} is not a positive number of seconds; e.g. --timeout 600 "
                "or --timeout export=300,run=120"
            )
        out[stage] = seconds
    every = out.pop("", None)
    return {**({name: every for name in known} if every is not None else {}), **out}


RUNTIME_DIR: Option[str] = Option(
    "--runtime-dir",
    "run ARCH's modules with the IREE runtime tools in DIR (iree-run-module, iree-benchmark-module) "
    "instead of a runtime wheel",
    metavar="ARCH=DIR",
    repeat=True,
)
ARMV6_RUNTIME: Option[str] = Option("--armv6-runtime", "same as --runtime-dir armv6=DIR", metavar="DIR")
IREE_SOURCE: Option[str] = Option(
    "--iree-source",
    "IREE's source for the matrix's \"src:RELEASE\" runtimes (built here with cmake): a directory, "
    "a tarball, or git+URL@TAG; RELEASE= names one release (default: every one; without this option "
    "IREE's repository at the release's tag, or the matrix's iree_source; offline: a tarball of "
    "IREE's tree at the tag, docs/arm.md \"Getting IREE's source\"); default: $IREE_MATRIX_IREE_SOURCE",
    metavar="[RELEASE=]SRC",
    repeat=True,
)
MODEL: Option[str] = Option(
    "--model",
    "run these models only, instead of the matrix file's (repeatable): a built-in name, "
    "path/to/file.py:factory or package.module:factory; a file given with --matrix adds the cells its "
    "[[include]] tables name; results go to runs/<matrix file name>-<models> unless --results-dir",
    metavar="REF",
    repeat=True,
)
KERNEL: Option[str] = Option(
    "--kernel",
    "also plan each cell with this kernel swapped in (a directory with a kernel.toml: C sources, a "
    "transform spec, the object it names), beside the matrix file's `kernels` (repeatable)",
    metavar="DIR",
    repeat=True,
)
SHARD: Option[str] = Option(
    "--shard",
    "run only the K-th of N independent parts of the plan (each cell's chain whole; shared prerequisites "
    "may run in several shards); `iree-matrix merge` joins the shards' results",
    metavar="K/N",
)
SCHEDULER: Option[str] = Option(
    "--scheduler",
    "run each stage as a task on this Dask scheduler's workers (tcp://host:8786); results.jsonl is "
    "written here only; the store must be shared (--store)",
    metavar="ADDRESS",
)
CLUSTER: Option[str] = Option(
    "--cluster", "start N Dask worker processes on this machine and run on them", metavar="local:N"
)
PROFILES: Option[str] = Option(
    "--profiles",
    "comma-separated profiles replacing the matrix's (default: {default}); built-in or the matrix's own "
    "[profile.NAME]",
)

# --- the flag search and the recipe search ----------------------------------------------------------

KNOBS: Option[str] = Option(
    "--knobs", "comma-separated profiles: the search space, each tried alone in batch 1 (default: {default})"
)
BUDGET = _number("--budget", "compiles (candidates) per function and compiler after batch 1", 12)
WIDTH = _number("--width", "candidates per function and compiler in each batch after the first", 4)
# The flag search's batches (each a sitting of candidates), not a sitting's rounds (`--rounds`);
# their old names still taken.
DESCENT_BATCHES = _number(
    "--descent-batches",
    "at most this many batches of the search",
    6,
    renamed_from=("--descent-rounds", "--rounds"),
)
MAX_MINUTES: Option[float] = Option(
    "--max-minutes",
    "start no batch after the first that would end past M minutes from the start, judged by what each "
    "measured run has cost so far (default: no limit)",
    float,
    metavar="M",
)
FUNCTIONS: Option[str] = Option(
    "--functions", "comma-separated globs (default: all)", default="*", metavar="GLOBS"
)
REUSE_BATCH_1 = Switch(
    "--reuse-batch-1",
    "reuse batch 1's stored runs from an earlier search in RESULTS_DIR instead of measuring them again "
    "(e.g. to descend further with a larger budget; the descent batches and the last sitting are "
    "measured afresh, so the verdicts stay paired)",
    renamed_from=("--reuse-round-1",),
)
RECIPES: Option[str] = Option(
    "--recipes",
    "comma-separated recipes to try (e.g. 'eager,eager+select-cache') instead of the search's batches; "
    "choices: {choices}",
    metavar="LIST",
)
RECIPE_BATCHES: Option[int] = Option(
    "--recipe-batches",
    "1: each choice alone; 2: then their combination",
    int,
    default=2,
    choices=(1, 2),
    renamed_from=("--recipe-rounds",),
)

# --- paired sittings: advise, compare, calibrate, bundle --advise ------------------------------------

ROUNDS = _number("--rounds", "paired rounds", 8)
REPETITIONS = _number("--repetitions", "timed calls per arm and round", 3)
NO_PROOF = Switch(
    "--no-proof",
    "skip the pick's proof (its neighbourhood: every one-knob change timed against it; it costs about "
    "as many sittings of the pick as it has neighbours): a quick sitting, an answer unproved",
)
NO_GAP = Switch(
    "--no-gap",
    "skip the profile of an answer that takes more than 1.2× the best peer's time (its pick and the "
    "peers run once more with their per-op profilers, seconds each): the answer then does not say "
    "which op kinds hold the gap",
)


LIBRARY: Option[str] = Option(
    "--library", "what is tried on the gap (kernels/, or none)", kinds.library, metavar="DIR"
)
PROOF_STEPS: Option[int] = Option(
    "--proof-steps",
    "at most this many steps of the proof's local search (each a sitting of the centre and its "
    "neighbours; default: %(default)s)",
    int,
    default=3,
    metavar="N",
)
RELEASE: Option[str] = Option("--release", "the IREE release to advise on (default: the published answer's)")
PICKS: Option[str] = Option(
    "--picks",
    "comma-separated configurations to try instead of the published picks (profiles joined with '+', "
    "e.g. channels-last+im2col)",
    metavar="CONFIGS",
)
FLEET: Option[str] = Option(
    "--fleet",
    "also compile the answer for this LLVM CPU (x86-64-v3, x86-64-v4, znver4, …) and time it here: the "
    "flags to ship to CPUs other than this one (repeatable)",
    metavar="CPU",
    repeat=True,
)
PAIRS = _number("--pairs", "null pairs", 54)
CONTROLS = _number("--controls", "control pairs of two builds of one function", 8)
MAX_CALL_MS: Option[float] = Option(
    "--max-call-ms",
    "leave out modules slower than this per call (default: %(default)s)",
    float,
    default=300.0,
    metavar="MS",
)
OUT: Option[Path] = Option("--out", "where to write (default: --results-dir)", kinds.directory)
JSON = Switch("--json", "print the answer as JSON")

# --- bundles ---------------------------------------------------------------------------------------

PYTHON: Option[str] = Option("--python", "a CPython version, X.Y", metavar="X.Y")
MACHINE: Option[str] = Option(
    "--machine",
    "the target's CPU, for GPU cells (default: this machine's; a CPU cell's is its arch's)",
    choices=("x86_64", "aarch64"),
)
MAX_SIZE: Option[float] = Option(
    "--max-size", "refuse a bundle larger than this", kinds.mebibytes, metavar="MIB"
)
ADVISE: Option[str] = Option(
    "--advise",
    "instead of a matrix file: advise's arms for MODEL (default, the published picks, the naive build, "
    "ONNX Runtime), compiled for --cpu, and a paired sitting there that makes that CPU's answer",
    metavar="MODEL",
)
CPU: Option[str] = Option(
    "--cpu", "with --advise: the target's CPU (znver4, emeraldrapids, …)", metavar="LLVM_CPU"
)
BUNDLE: Option[Path] = Option(
    "--bundle",
    "a run bundle as shipped (its folder or bundle.json), for results from a bundle another machine made "
    "(those made here are known by their digest)",
    Path,
    metavar="DIR",
    repeat=True,
)
NO_HELLO = Switch("--no-hello", "skip the C hello world (needs Docker)")

# --- questions and records ---------------------------------------------------------------------------

COMPILER: Option[str] = Option("--compiler", "the compiler release", metavar="C")
RUNTIME: Option[str] = Option("--runtime", "the runtime release", metavar="R")
ARCH: Option[str] = Option(
    "--arch",
    "the run target: an arch as the results name it (armv6, aarch64-cortex-a72, ...) or a board "
    "(pi-zero, pi4, pi3); default: the one most runs are for",
)
RELEASES = Switch(
    "--releases",
    "every release's pass/fail in full (by default the answer leads: release, flags, peer, CPU identity)",
)
TARGET: Option[str] = Option(
    "--target",
    "a GPU target instead (vulkan-spirv, cuda or cuda:sm_80, rocm or rocm:gfx942): which releases compile "
    "the model for it, and run it where a device was present (e.g. --results-dir results/gpu)",
)
TORCH: Option[str] = Option("--torch", "required unless --onnx-opset")
TURBINE: Option[str] = Option("--turbine", "required unless --onnx-opset")
ONNX_OPSET: Option[int] = Option(
    "--onnx-opset",
    "instead: which compilers import torch.onnx.export's model at opset N (iree-import-onnx)",
    int,
    metavar="N",
)
THREADS: Option[int] = Option(
    "--threads",
    "torch's (and the runtime's) thread count in the re-creation (default: the matrix default, this "
    "machine's CPU count); the bytes should not depend on it",
    kinds.count,
)
LOG = Switch("--log", "also print the job's log")
COMMANDS = Switch(
    "--commands",
    "print only the command lines the job's cell ran, from the export on, as shell: the recorded ones "
    "(export, iree-compile, iree-run-module with QEMU_CPU), a runtime built here (cmake) and a firmware "
    "(arm-none-eabi-gcc, qemu-system-arm) as this iree-matrix runs them",
)
PERFORMANCE = Switch("--performance", "also print the performance table")
ALL = Switch("--all", "prune: every environment image, not just unused")

# --- operands ----------------------------------------------------------------------------------------

MODEL_REF: Positional[str] = Positional(
    "model_ref", "a reference model (mobilenet_v2) or your own: path/to/model.py:build", metavar="MODEL"
)
A: Positional[str] = Positional("a", "a release (3.12.0) or a profile (default)", metavar="A")
B: Positional[str] = Positional("b", "the other one (3.13.0, channels-last); B is compared to A", metavar="B")
JOB: Positional[str] = Positional("job", "a job id as printed (run:tiny_cnn/…), or a glob matching one job")
JOBS_GLOBS: Positional[str] = Positional(
    "jobs", "compile or run job ids of the published set, or globs", metavar="JOB", nargs="+"
)
GLOBS: Positional[str] = Positional(
    "globs", "forget: job ids or cells (globs)", metavar="GLOB", nargs="*", default=[]
)
RUN_DIRS: Positional[Path] = Positional(
    "dirs", "run directories (or results.jsonl files)", Path, metavar="DIR", nargs="+"
)
RUN: Positional[Path] = Positional("run", "the directory a run wrote, e.g. runs/default", Path)
MODEL_NAME: Positional[str] = Positional(
    "name", "a model or function name as in the report, e.g. mobilenet_v2"
)
KERNEL_NAME: Positional[str] = Positional("kernel", "a kernel's name, e.g. depthwise3x3", kernel_name)
CACHE_ACTION: Positional[str] = Positional("action", None, nargs="?", choices=("du", "prune"), default="du")
CACHE_PARTS: Positional[str] = Positional("parts", None, metavar="PART", nargs="*", default=[])
IMAGES_ACTION: Positional[str] = Positional(
    "action", None, nargs="?", choices=("list", "build", "prune"), default="list"
)
RESULTS_ACTION: Positional[str] = Positional("action", None, choices=("forget", "archive-timings"))


# --- groups --------------------------------------------------------------------------------------------


def add_matrix_options(m: argparse.ArgumentParser, default_matrix: str) -> None:
    """Which matrix, which of its jobs, where they run, and what is measured again."""
    MATRIX.add(m, help=f"matrix file (default: matrix/{default_matrix})")
    for option in (SELECT, LIST, STRICT, REFRESH_RELEASES, JOBS, BACKEND, UNSANDBOXED, RETRY_FAILED, RETIME):
        option.add(m)
    for then in (WAIT, TIMEOUT, RUNTIME_DIR, ARMV6_RUNTIME, IREE_SOURCE, MODEL, KERNEL, RESULTS_DIR, CACHE):
        then.add(m)
    # `--results-dir`'s default (runs/<matrix file name>) depends on `--matrix`: `plan_settings`
    # completes it from this, once, so no command reads it before it is known.
    m.set_defaults(default_matrix=default_matrix)


def add_scale_options(m: argparse.ArgumentParser) -> None:
    """Scale out: a CI shard of the plan, or the plan on a Dask cluster."""
    SHARD.add(m)
    where = m.add_mutually_exclusive_group()
    SCHEDULER.add(where)
    CLUSTER.add(where)
    STORE.add(m)


def add_profile_list(parser: argparse.ArgumentParser, option: Option[str], defaults: Sequence[str]) -> None:
    """A comma-separated list of compile profiles (`tune --profiles`, `search --knobs`)."""
    default = ",".join(defaults)
    option.add(parser, default=default, help=option.help.format(default=default))


add_paired_options = taking(ROUNDS, REPETITIONS)


# --- typed settings from a command line -----------------------------------------------------------------


def cache_dir(args: argparse.Namespace) -> Path:
    """`--cache` (checked when parsed), else the default cache: $IREE_MATRIX_CACHE checked here, where
    a file there (or above it) was `cache prune`'s mkdir traceback and `cache`'s silence."""
    if (given := CACHE.of(args)) is not None:
        return given
    cache = default_cache()
    if "IREE_MATRIX_CACHE" in os.environ and (blocked := directory_problem(cache)):
        raise UserError(f"$IREE_MATRIX_CACHE {cache}: {blocked}; name a directory (or a new path)")
    return cache


def default_results_dir(given: Path | None, matrix_path: Path, models: Sequence[str] = ()) -> Path:
    """`--results-dir` (`given`) or runs/<matrix file name>, with `--model`'s names after a `-`
    (runs/default-my_net): a run of some models is kept apart from the file's run."""
    from iree_matrix.findings.publish import run_dir

    results_dir = given if given is not None else run_dir(matrix_path)
    if given is None and models:
        results_dir = results_dir.with_name(f"{results_dir.name}-{models_part(models)}")
    if results_dir.exists() and not results_dir.is_dir():
        raise UserError(f"--results-dir {results_dir}: exists and is not a directory")
    return results_dir


# A results folder's name stays short enough to type and to sit under a path limit with its files.
_MODELS_PART_CHARS = 60


def models_part(models: Sequence[str]) -> str:
    """`--model`'s models as part of a folder name: their printed names (`my_net.py:build` is
    `my_net`) joined by `+`, the first ones and a count when they are many."""
    from iree_matrix.matrix.models import name_of

    names = list(dict.fromkeys(name_of(m).replace("/", "_") for m in models))
    if len(joined := "+".join(names)) <= _MODELS_PART_CHARS:
        return joined
    kept = names[:1]
    for name in names[1:]:
        if len("+".join([*kept, name])) > _MODELS_PART_CHARS - 12:
            break
        kept.append(name)
    return "+".join(kept)[: _MODELS_PART_CHARS - 12] + f"+{len(names) - len(kept)}-more"


def matrix_path(args: argparse.Namespace) -> Path:
    """`--matrix`, else the command's own matrix file (`add_matrix_options`)."""
    return MATRIX.of(args) or shipped.matrix_dir() / getattr(args, "default_matrix", "default.toml")


def results_dir(args: argparse.Namespace) -> Optional[Path]:
    """Where a command writes its results: `--results-dir`, else for a matrix command runs/<matrix file name>
    (and `--model`'s names, `default_results_dir`); None for a command that takes neither."""
    if getattr(args, "default_matrix", None) is None:
        return RESULTS_DIR.of(args)
    return default_results_dir(RESULTS_DIR.of(args), matrix_path(args), MODEL.each(args))


def run_options(args: argparse.Namespace) -> RunOptions:
    """How a plan is run, from the command line once: where, how many at once, what again, and
    what a failed cell exits with."""
    scheduler, cluster = SCHEDULER.of(args), CLUSTER.of(args)
    where = None
    if scheduler is not None or cluster is not None:
        from iree_matrix.execution.execute import Cluster

        where = Cluster(scheduler=scheduler, cluster=cluster, store=STORE.of(args))
    return RunOptions(
        backend=BACKEND.of(args) or "auto",
        jobs=JOBS.of(args) or 0,
        retry_failed=RETRY_FAILED.of(args),
        retime=RETIME.each(args),
        strict=STRICT.of(args),
        cluster=where,
        wait=WAIT.of(args),
        unsandboxed=UNSANDBOXED.of(args),
    )


def plan_settings(args: argparse.Namespace) -> PlanSettings:
    """A matrix command's settings (`add_matrix_options`, `add_scale_options`, `--profiles`)."""
    resolved = results_dir(args)
    assert resolved is not None, "plan_settings is for the commands add_matrix_options made"
    return PlanSettings(
        matrix=matrix_path(args),
        results_dir=resolved,
        cache=cache_dir(args),
        run=run_options(args),
        models=MODEL.each(args),
        kernels=KERNEL.each(args),
        select=SELECT.each(args),
        listing=LIST.of(args),
        refresh_releases=REFRESH_RELEASES.of(args),
        timeouts=parse_timeouts(TIMEOUT.of(args)),
        iree_sources=IREE_SOURCE.each(args),
        runtime_dirs=RUNTIME_DIR.each(args),
        armv6_runtime=ARMV6_RUNTIME.of(args),
        shard=SHARD.of(args),
        store=STORE.of(args),
        profiles=tuple(globs(PROFILES.of(args))),
        given=given(args),
    )


def paired(args: argparse.Namespace) -> tuple[int, int]:
    """`--rounds` and `--repetitions` of a paired sitting (advise, compare, calibrate), checked:
    fewer rounds than `stats.MIN_PAIRED_ROUNDS` can give no verdict."""
    from iree_matrix.core.model import stats

    rounds, repetitions = ROUNDS.of(args) or 0, REPETITIONS.of(args) or 0
    if rounds < stats.MIN_PAIRED_ROUNDS or repetitions < 1:
        raise UserError(
            f"--rounds {rounds} --repetitions {repetitions}: expected rounds ≥ {stats.MIN_PAIRED_ROUNDS} "
            "(fewer cannot give a verdict), repetitions ≥ 1"
        )
    return rounds, repetitions


def globs(text: Optional[str]) -> list[str]:
    """A comma-separated option's items (`--functions`, `--knobs`, `--recipes`, `--picks`)."""
    return [g.strip() for g in (text or "").split(",") if g.strip()]
