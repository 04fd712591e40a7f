"""Re-create (`iree-matrix reproduce JOB…`) published cells from their records alone, in a fresh cache, and
say per cell whether the module and the outputs are the same bytes. Each cell is planned from its labels
with its environments' package versions pinned (`PIP_CONSTRAINT`) and runs as its own `iree-matrix matrix
--select JOB`; compared are the MLIR, the module (and its first differing part), the outputs and the pins.
A module compiled for `host` on another CPU is said to be so rather than reported as a mismatch."""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, TextIO

from packaging.version import VERSION_PATTERN

from iree_matrix.core import console, toml_text
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.model import metrics
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.records import name_problem, shown
from iree_matrix.core.model.results import Record, Status, dep_of, latest_by_job, no_log
from iree_matrix.core.model.store import Store
from iree_matrix.core.system import bubblewrap
from iree_matrix.execution import stage_times
from iree_matrix.execution.progress import Steps, cost
from iree_matrix.execution.workflow import EXIT_INTERRUPTED
from iree_matrix.findings import results_folder
from iree_matrix.iree import flags, versions
from iree_matrix.matrix import models

logger = console.logger(__name__)

EXIT_DIFFERENT = 1
_STAGES = ("compile", "run")


def run(
    results_dir: Path,
    jobs: Sequence[str],
    cache: Optional[Path] = None,
    backend: Optional[str] = None,
    threads: Optional[int] = None,
    *,
    unsandboxed: bool = False,
    out: TextIO,
) -> int:
    """Re-create the cells `jobs` names (ids or globs) of `results_dir` in a fresh `cache` (default: a
    temporary one), on `backend` (default: each record's); print each verdict on `out`; 1 when any differs."""
    from iree_matrix.stages.compile import host_cpu

    published = results_folder.load(results_dir, None)
    path = published.source
    if not path.is_file():
        raise UserError(no_log(path, "results"))
    latest = latest_by_job(published.checked)  # nothing runs from a log with a bad line
    chosen = select(latest, jobs, path)
    _require_sandbox(chosen, backend, unsandboxed)
    cache, temporary = _fresh_cache(cache)
    logger.info(f"reproducing {len(chosen)} cell(s) of {path} in {cache}")
    expected = [_expected_seconds(record, latest) for record in chosen]
    logger.info(
        cost(
            "reproduce",
            f"{len(chosen)} cell(s), each made again from nothing (its environments installed, "
            "then export, compile and run)",
            sum(expected),
            "fewer JOB globs; a compile job instead of its run (no timing); downloads into the fresh cache "
            "come on top",
        )
    )
    steps = Steps(expected)
    verdicts = []
    try:
        for record in chosen:
            made = _recreate(record, latest, cache, backend, threads)
            verdict = compare(record, latest, made, here_cpu=host_cpu())
            steps.finished(record.job)  # progress on stderr; the cell's verdict is the answer
            print(f"{record.job}\n{verdict.text()}", flush=True, file=out)
            verdicts.append(verdict)
    except KeyboardInterrupt:  # what finished is printed; the cell under way is dropped
        print(summary(verdicts), file=out)
        logger.warning(f"interrupted: {len(verdicts)} of {len(chosen)} cells reproduced (above)")
        return EXIT_INTERRUPTED
    finally:
        if temporary:
            shutil.rmtree(cache, ignore_errors=True)
    print(summary(verdicts), file=out)
    return EXIT_DIFFERENT if any(v.different for v in verdicts) else 0


def _require_sandbox(chosen: Sequence[Record], backend: Optional[str], unsandboxed: bool) -> None:
    """Each cell's export runs the model's code: on host venvs only inside bubblewrap, or with
    `--unsandboxed`; refused here in one line rather than by each cell's matrix in its log."""
    bubblewrap.allow_unsandboxed(unsandboxed)
    if all((backend or r.env.get("backend")) == "docker" for r in chosen):
        return
    if (refused := bubblewrap.refusal("export")) is not None:
        raise UserError(refused)


def _expected_seconds(record: Record, latest: Mapping[str, Record]) -> float:
    """What re-creating a cell costs here now: its published stages' own times and an install per
    environment (the published median), scaled by the load as the matrix's first estimate is."""
    from iree_matrix.execution.eta import load_factor

    stages = ("export", "compile", "run") if record.stage == "run" else ("export", "compile")
    chain = [dep_of(record, latest, stage) for stage in stages]
    slower: float = load_factor() ** 0.5  # as the matrix's estimate takes the load before a stage finished
    seconds = sum((r.seconds or 0.0) * slower for r in chain if r is not None)
    return seconds + len(chain) * stage_times.published().by_stage.get("install", 60.0)


# --- which cells ------------------------------------------------------------------------------


def select(latest: Mapping[str, Record], globs: Sequence[str], path: Path) -> list[Record]:
    """The compile and run records the globs name; a one-line error for what cannot be compared."""
    chosen: dict[str, Record] = {}
    for glob in globs:
        found = [r for job, r in latest.items() if job == glob or fnmatch.fnmatchcase(job, glob)]
        found = [r for r in found if r.stage in _STAGES]
        if not found:
            raise UserError(f"{path}: no compile or run job matches {glob!r} (`iree-matrix show` names jobs)")
        chosen.update((r.job, r) for r in found)
    records = sorted(chosen.values(), key=lambda r: r.job)
    if undigested := [r.job for r in records if metrics.module_sha256(r) is None]:
        raise UserError(
            f"{path}: {undigested[0]}"
            + (f" (and {len(undigested) - 1} more)" if len(undigested) > 1 else "")
            + " has no module sha256 to compare with (a failed cell, or one published before records "
            "carried digests, schema 1): re-run it with this iree-matrix, or pick cells that have one"
        )
    for record in records:
        if problem := unreproducible(record):
            raise UserError(f"{path}: {record.job}: {problem}")
        constraints(record, latest)  # what pip would be handed, checked before anything runs
    return records


# The labels a re-created cell's matrix file is written from: releases, which must read as versions
# (a runtime only when the run had one of its own), and names.
_VERSION_LABELS = ("python", "torch", "turbine", "compiler")
_NAME_LABELS = ("model", "source_model", "arch", "profile", "form", "device")


def label_problem(record: Record) -> str:
    """Why the record's labels cannot be written into a matrix file ("" when they can): each release
    a version, each name of the safe alphabet and length (`records.name_problem`)."""
    label = record.label
    runtime = ("runtime",) if label.runtime and label.runtime != label.compiler else ()
    for name in (*_VERSION_LABELS, *runtime, *_NAME_LABELS):
        text = getattr(label, name)
        if not (problem := name_problem(text)) and name not in _NAME_LABELS and not versions.is_valid(text):
            problem = f"is {shown(text)}, not a version"
        if problem:
            return f"label {name!r} {problem}"
    return ""


def unreproducible(record: Record) -> str:
    """Why a record's cell cannot be planned from its labels alone ("" when it can)."""
    if problem := label_problem(record):
        return problem
    label = record.label
    if (model := label.planned_model) not in models.builtin_names():
        return f"model {model!r} is not built in: reproduce plans built-in models only"
    kernel = label.config.kernel
    if kernel:  # said as what it is: its profile label `default+k:NAME` is no profile of a matrix's
        return (
            f"a cell with the kernel {kernel!r}: reproduce does not plan kernels; re-make it by hand "
            "from `iree-matrix show JOB --commands --results-dir DIR` (the kernel's build, compile and run)"
        )
    if label.profile not in flags.BUILTIN_PROFILES:
        return f"profile {label.profile!r} is the matrix's own: reproduce knows the built-in profiles only"
    runtime = label.runtime
    if record.stage == "run" and (not runtime[:1].isdigit() or label.runtime_tools):
        return f"runtime {runtime!r} was built from source or is a tools directory, not a release"
    return ""


# --- re-create one cell -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Made:
    """What re-creating one cell gave: its records (the new run's latest per job), and its log."""

    records: Mapping[str, Record]
    log: Path
    returncode: int


def matrix_text(record: Record, threads: Optional[int] = None) -> str:
    """A matrix file whose plan has the record's cell (and its dependencies); with `threads`, that
    `[benchmark] threads`. Written by a serializer from labels `unreproducible` has checked: a label
    is a value of the file, never a line of it."""
    label = record.label
    runtime = label.runtime or "same"
    document: dict[str, Any] = {
        "description": f"iree-matrix reproduce {record.job}",
        **{k: [getattr(label, k)] for k in ("python", "torch", "turbine", "compiler")},
        "runtime": runtime if runtime == "same" else [runtime],
        "arch": [label.arch],
        "models": [label.planned_model],
        "profiles": [label.profile],
    }
    if label.form:  # MLIR bytecode (text, the default, is not labelled)
        document["forms"] = [label.form]
    # repetitions 1: what is compared is bytes, not time
    benchmark: dict[str, Any] = {"repetitions": 1}
    if label.device:
        benchmark["devices"] = [label.device]
    if threads is not None:
        benchmark["threads"] = int(threads)
    document["benchmark"] = benchmark
    return toml_text.dumps(document)


def constraints(record: Record, latest: Mapping[str, Record]) -> list[str]:
    """`name==version` for every package of the cell's environments that all agree on, from the
    records of its export, compile and run (each names its environment's packages)."""
    seen: dict[str, set[str]] = {}
    for dep in (dep_of(record, latest, "export"), dep_of(record, latest, "compile"), record):
        if dep is None:
            continue
        if (packages := dep.env.get("packages")) is not None and not isinstance(packages, Mapping):
            raise UserError(f"{shown(dep.job)}: its env.packages is not a table of names and versions")
        for name, version in (packages or {}).items():
            why = package_problem(name, version)
            if why is not None:  # a received record's: never handed to pip
                raise UserError(
                    f"{shown(dep.job)}: its env.packages {why}, which iree-matrix never writes; nothing is "
                    "handed to pip (a name such as '--extra-index-url …' would be read as pip's option)"
                )
            seen.setdefault(name.lower(), set()).add(str(version))
    return sorted(f"{name}=={versions.pop()}" for name, versions in seen.items() if len(versions) == 1)


# PEP 508's project name (https://peps.python.org/pep-0508/#names), and a PEP 440 version as packaging's
# Version parses it, with no whitespace around it.
_PROJECT_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,198}[A-Za-z0-9])?")
_VERSION = re.compile(VERSION_PATTERN, re.VERBOSE | re.IGNORECASE)


def package_problem(name: object, version: object) -> Optional[str]:
    """Why (`name`, `version`) of a record's env.packages is not a PEP 508 project name with a PEP 440
    version, as pip's resolution gives them (None when it is)."""
    if not isinstance(name, str) or not _PROJECT_NAME.fullmatch(name):
        return f"names a package {shown(str(name))} that is no PEP 508 project name"
    if not isinstance(version, str) or len(version) > 100 or not _VERSION.fullmatch(version):
        return f"gives {name} a version {shown(str(version))} that is no PEP 440 version"
    return None


def _recreate(
    record: Record, latest: Mapping[str, Record], cache: Path, backend: Optional[str], threads: Optional[int]
) -> Made:
    work = CacheLayout(cache).reproduce / record.job.replace("/", "__").replace(":", "--")
    work.mkdir(parents=True, exist_ok=True)
    (work / "matrix.toml").write_text(matrix_text(record, threads))
    (work / "constraints.txt").write_text("\n".join(constraints(record, latest)) + "\n")
    argv = [sys.executable, "-m", "iree_matrix", "matrix", "--matrix", str(work / "matrix.toml")]
    argv += ["--select", record.job, "--cache", str(cache), "--results-dir", str(work / "results")]
    argv += ["--backend", backend or str(record.env.get("backend") or "auto")]
    argv += ["--unsandboxed"] if bubblewrap.unsandboxed_allowed() else []
    env = {k: v for k, v in os.environ.items() if k not in ("IREE_MATRIX_STORE", "IREE_MATRIX_CACHE")}
    env["PIP_CONSTRAINT"] = str(work / "constraints.txt")
    log = work / "matrix.log"
    with open(log, "w") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)

    return Made(latest_by_job(results_folder.load(work / "results", None).logged), log, done.returncode)


def _fresh_cache(given: Optional[Path]) -> tuple[Path, bool]:
    if given is None:
        return Path(tempfile.mkdtemp(prefix="iree-matrix-reproduce-")), True
    if not Store(CacheLayout(given).store).is_empty():
        raise UserError(
            f"--cache {given}: its store already holds results, so nothing would be made again; "
            "name a new directory"
        )
    given.mkdir(parents=True, exist_ok=True)
    return given.resolve(), False


def _cpu_identity(host_cpu: str) -> str:
    """The identity part of a compile's `host_cpu` ("<identity> (znver4)"): LLVM's name is there
    only once a compiler was asked, so two records of one CPU may differ by it."""
    return host_cpu.split(" (", 1)[0]


# The spellings by which a compile asks for the host it runs on (target CPU or its features): such a
# module embeds that host's CPU name and feature string, so only a machine of the same CPU identity
# can re-make its bytes. A module for a named CPU (`avx2`: x86-64-v3) or none is the same anywhere.
_HOST_FLAGS = ("-target-cpu=host", "-target-cpu-features=host")


def _for_host(compiled: Record) -> bool:
    """Whether a compile asked for the host's CPU; a record without its command is taken to have
    (the published cells before target CPUs were recorded were all `host`)."""
    if not compiled.command:
        return True
    return any(arg.startswith("--iree-llvm") and arg.endswith(_HOST_FLAGS) for arg in compiled.command)


# --- compare ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Verdict:
    job: str
    lines: tuple[str, ...]
    different: bool
    module_same: Optional[bool] = None  # None: not compared (another host CPU, nothing made)
    outputs_same: Optional[bool] = None

    def text(self) -> str:
        return "\n".join(f"  {line}" for line in self.lines)


def compare(published: Record, latest: Mapping[str, Record], made: Made, *, here_cpu: str) -> Verdict:
    """The re-created cell against its published record (pure: both as records)."""
    new = made.records.get(published.job)
    if new is None or new.status is Status.NOT_RUN or "module_sha256" not in new.metrics:
        why = (
            "its job was not planned from the record's labels"
            if new is None
            else f"{new.status.value}: {(new.message or new.error_class or '').splitlines()[0:1]}"
        )
        return Verdict(published.job, (f"not re-created ({why}); log: {made.log}",), different=True)
    lines: list[str] = []
    different = False
    if new.status is not published.status:
        lines.append(f"status  {new.status.value}, published {published.status.value}")
        different = True
    # the MLIR first: the model's weights are a function of its seed alone, so the
    # same packages export the same bytes on any CPU and with any thread count
    export_old = dep_of(published, latest, "export")
    export_new = made.records.get(export_old.job) if export_old is not None else None
    old_mlir = export_old.metric.of(ExportMetrics).mlir_sha256 if export_old is not None else None
    new_mlir = export_new.metric.of(ExportMetrics).mlir_sha256 if export_new is not None else None
    if old_mlir and new_mlir:
        if old_mlir == new_mlir:
            lines.append(f"mlir    same sha256 {new_mlir[:12]}")
        else:
            different = True
            lines.append(f"mlir    DIFFERENT sha256: {old_mlir[:12]} published, {new_mlir[:12]} here")
    compile_old = dep_of(published, latest, "compile") or published
    compile_new = made.records.get(compile_old.job) or new
    old_cpu = compile_old.metric.of(CompileMetrics).host_cpu
    old_module, new_module = metrics.module_sha256(published) or "", metrics.module_sha256(new) or ""
    module_same: Optional[bool] = new_module == old_module
    if module_same:
        lines.append(f"module  same sha256 {new_module[:12]}")
    elif old_cpu is not None and _cpu_identity(old_cpu) != _cpu_identity(here_cpu) and _for_host(compile_old):
        module_same = None
        lines.append(
            f"module  not comparable: compiled for `host` on {old_cpu}, this host is {here_cpu} "
            f"(sha256 {old_module[:12]} published, {new_module[:12]} here)"
        )
    else:
        different = True
        parts = [c.metric.of(CompileMetrics).module_parts_sha256 for c in (compile_old, compile_new)]
        part = first_differing_part(*parts)
        lines.append(
            f"module  DIFFERENT sha256: {old_module[:12]} published, "
            f"{new_module[:12]} here; first difference: {part}"
        )
    outputs_same = None
    if published.stage == "run":
        old_run, new_run = published.metric.of(RunMetrics), new.metric.of(RunMetrics)
        old, got = old_run.outputs_sha256, new_run.outputs_sha256
        outputs_same = None if old is None else old == got
        if old is None:
            lines.append("outputs not compared: the published run has no outputs sha256")
        elif outputs_same:
            lines.append(f"outputs same sha256 {(got or '')[:12]}")
        elif module_same is None:
            lines.append("outputs differ, as the module does (compiled for another CPU)")
        elif old_run.matches and new_run.matches:
            different = True
            lines.append(
                "outputs DIFFERENT bits, both within torch's tolerance "
                f"(max abs err {old_run.max_abs_err:.3g} published, {new_run.max_abs_err:.3g} here)"
            )
        else:
            different = True
            lines.append(f"outputs DIFFERENT: sha256 {old[:12]} published, {(got or '')[:12]} here")
    lines.append(_env_line(published, new))
    return Verdict(published.job, tuple(lines), different, module_same, outputs_same)


def first_differing_part(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """Which part of two modules of different sha256 differs first: the bytecode, an executable."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping) or not old or not new:
        return "unknown (a record has no part digests)"
    if set(old) != set(new):
        return f"the parts themselves ({', '.join(sorted(set(old) ^ set(new)))})"
    for name in sorted(old, key=lambda name: (name != "module.fb", name)):
        if old[name] != new[name]:
            return "the bytecode (module.fb)" if name == "module.fb" else f"executable {name}"
    return "the container only (every part is equal)"


def _env_line(published: Record, new: Record) -> str:
    old_pins, new_pins = published.env.get("lock_digest"), new.env.get("lock_digest")
    if old_pins and old_pins == new_pins:
        return f"env     same pins {str(old_pins)[:12]} ({_packages(published.env)})"
    old_p, new_p = published.env.get("packages") or {}, new.env.get("packages") or {}
    changed = [
        f"{n} {old_p.get(n)}->{new_p.get(n)}"
        for n in sorted({*old_p, *new_p})
        if old_p.get(n) != new_p.get(n)
    ]
    what = ", ".join(changed) or "same versions, other wheels or interpreter"
    return f"env     other pins ({what})"


def _packages(env: Mapping[str, Any]) -> str:
    packages = env.get("packages") or {}
    iree = [f"{n} {v}" for n, v in sorted(packages.items()) if n.startswith("iree")]
    return ", ".join(iree) or f"{len(packages)} packages"


def summary(verdicts: Sequence[Verdict]) -> str:
    n = len(verdicts)
    modules = sum(v.module_same is True for v in verdicts)
    other_cpu = sum(v.module_same is None and not v.different for v in verdicts)
    runs = [v for v in verdicts if v.job.startswith("run:")]
    outputs = sum(v.outputs_same is True for v in runs)
    different = sum(v.different for v in verdicts)
    text = f"{n} cell(s): {modules}/{n} same module sha256, {outputs}/{len(runs)} runs same outputs sha256"
    if other_cpu:
        text += f", {other_cpu} compiled for another host CPU"
    return text + (f"; {different} DIFFERENT" if different else "; no difference")
