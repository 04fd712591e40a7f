"""Expand a matrix into stage jobs with dependencies and stable ids. Pure: installs and runs nothing.

    install(env) ─┬─ export(model, exporter env)                      reused by every compiler
                  ├─ compile(export, compiler env, arch, profile)     reused by every runtime
                  └─ run(compile, runtime env)

Job ids are `<stage>:<cell>`, e.g.
`compile:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default`; a run whose
runtime differs from its compiler gets a `/rt<version>` suffix.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Callable, Optional

from iree_matrix import targets, versions
from iree_matrix.errors import SelectionError, SpecError
from iree_matrix.flags import Profile
from iree_matrix.models import MAIN, ModelRef
from iree_matrix.records import Labels, tools_runtime
from iree_matrix.spec import BYTECODE, DEFAULT_DEVICE, STAGES, Cell, MatrixSpec


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """An environment to realise: a Python and an exact requirement list, on an architecture.

    `tools` names a directory of IREE runtime tools the user built (`iree-run-module`,
    `iree-benchmark-module`): the environment is then the architecture's base system with that
    directory, and installs no packages (how armv6, which has no IREE wheel, gets a runtime).
    """

    kind: str  # exporter | compiler | runtime
    python: str
    requirements: tuple[str, ...]
    name: str  # "torch2.13.0-turbine3.9.0", "iree-compiler3.9.0"
    arch: str = dataclasses.field(default_factory=targets.host_arch)
    tools: Optional[str] = None
    # A runtime built from source by a `runtime-build` job ("src:3.9.0+static"): its tools directory
    # is that job's stored artifact, known only once it ran (the install job takes it from there).
    build: Optional[str] = None

    @property
    def id(self) -> str:
        suffix = "" if self.arch == targets.host_arch() else f"-{self.arch}"
        return f"py{self.python}-{self.name}{suffix}"


@dataclasses.dataclass(frozen=True)
class Job:
    stage: str
    cell: str
    deps: tuple[str, ...]
    labels: Mapping[str, str]
    env: EnvSpec  # the environment this stage runs in (or, for install, realises)
    profile: Optional[Profile] = None
    model: Optional[str] = None  # the model's name (spec.models has its code)
    function: str = MAIN  # which of the model's functions

    @property
    def id(self) -> str:
        return f"{self.stage}:{self.cell}"

    @functools.cached_property
    def label(self) -> Labels:
        """The labels, typed (`records.Labels`): what a stage reads them through."""
        return Labels.of(self.labels, job=self.id)

    @functools.cached_property
    def target(self) -> targets.Target:
        """The CPU target of a compile, run or dispatches job (parsed once, from its arch label)."""
        return targets.parse(self.label.arch)


@dataclasses.dataclass(frozen=True)
class Plan:
    jobs: tuple[Job, ...]  # dependencies always come before their dependants

    def __len__(self) -> int:
        return len(self.jobs)

    def by_id(self) -> dict[str, Job]:
        return {job.id: job for job in self.jobs}

    def count(self, stage: str) -> int:
        return sum(1 for job in self.jobs if job.stage == stage)

    def closure(self, roots: Iterable[str]) -> set[str]:
        """The ids of `roots` and of everything they depend on, transitively."""
        by_id = self.by_id()
        found: set[str] = set()
        stack = list(roots)
        while stack:
            job_id = stack.pop()
            if job_id not in found:
                found.add(job_id)
                stack.extend(by_id[job_id].deps)
        return found


def exporter_env(cell: Cell, extra: Sequence[str] = ()) -> EnvSpec:
    """torch + turbine, plus what the model itself needs (e.g. transformers for upstream variants)."""
    name = f"torch{cell.torch}-turbine{cell.turbine}"
    for requirement in extra:
        name += "+" + re.sub(r"[^A-Za-z0-9.]+", "", requirement)
    return EnvSpec(
        "exporter", cell.python, versions.exporter_requirements(cell.torch, cell.turbine) + tuple(extra), name
    )


def peer_env(cell: Cell, extra: Sequence[str] = ()) -> EnvSpec:
    """torch and the other runtimes IREE is compared with (ONNX Runtime, TFLite via litert-torch)."""
    requirements = (f"torch=={cell.torch}", "numpy", *versions.PEER_REQUIREMENTS, *extra)
    return EnvSpec("peers", cell.python, requirements, f"torch{cell.torch}-peers")


def compiler_env(cell: Cell, python: str = "") -> EnvSpec:
    """`python`: the matrix's `compiler_python` (else the cell's own)."""
    return EnvSpec(
        "compiler",
        python or cell.python,
        (versions.compiler_requirement(cell.compiler),),
        f"iree-compiler{cell.compiler}",
    )


def runtime_env(cell: Cell, runtime_dirs: Mapping[str, str] = {}, python: str = "") -> EnvSpec:  # noqa: B006
    arch = targets.parse(cell.arch).arch.name
    cell = dataclasses.replace(cell, python=python or cell.python)
    tools = runtime_dirs.get(arch)
    if tools is not None:
        return EnvSpec("runtime", cell.python, (), f"runtime-dir-{_short(tools)}", arch, tools)
    if versions.is_source_runtime(cell.runtime):
        name = "iree-" + cell.runtime.replace(":", "")  # iree-src3.9.0+static
        return EnvSpec("runtime", cell.python, (), name, arch, build=cell.runtime)
    requirement = versions.runtime_requirement(cell.runtime)
    return EnvSpec("runtime", cell.python, (requirement,), f"iree-runtime{cell.runtime}", arch)


def runtime_build_job(
    spec: MatrixSpec, runtime: str, arch: str, python: str, add: Callable[[Job], str]
) -> str:
    """The job that builds `runtime` ("src:3.9.0+static") for `arch` from IREE's source; a cross
    build first needs the plain native build of the same source, for its host tools."""
    release, variants = versions.parse_source_runtime(runtime)
    deps: tuple[str, ...] = ()
    if arch != targets.host_arch():
        deps = (runtime_build_job(spec, versions.source_runtime(release), targets.host_arch(), python, add),)
    labels = Labels(
        runtime=runtime,
        arch=arch,
        runtime_source=spec.iree_source(release),
        linkage="static" if "static" in variants else "dynamic",
    ).as_dict()
    env = EnvSpec("toolchain", python, (), f"toolchain-{arch}", targets.host_arch())
    return add(Job("runtime-build", f"{runtime}/{arch}", deps, labels, env))


def with_runtime_builds(plan: Plan, spec: MatrixSpec, runtime: str, arch: str, python: str) -> Plan:
    """The plan plus a build nothing runs on (what `armv6-smoke` reports of a dynamic twin: what it
    would need from the board's C library)."""
    jobs = {job.id: job for job in plan.jobs}
    runtime_build_job(spec, runtime, arch, python, lambda job: jobs.setdefault(job.id, job).id)
    return Plan(_ordered(jobs.values()))


def _short(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()[:8]


def runs_anywhere(env: EnvSpec) -> bool:
    """False for a runtime IREE publishes no wheel for, when the user gave no tools directory."""
    return (
        env.tools is not None
        or env.build is not None
        or env.kind != "runtime"
        or targets.ARCHES[env.arch].wheel_machine is not None
    )


def build(spec: MatrixSpec, runtime_dirs: Mapping[str, str] = {}) -> Plan:  # noqa: B006 - read only
    """`runtime_dirs`: architecture -> directory of runtime tools, replacing the runtime wheel."""
    jobs: dict[str, Job] = {}

    def add(job: Job) -> str:
        jobs.setdefault(job.id, job)
        return job.id

    def install(env: EnvSpec) -> str:
        labels = Labels(env=env.id, kind=env.kind, python=env.python).as_dict()
        deps: tuple[str, ...] = ()
        if env.build is not None:  # its tools are what a runtime-build job makes
            deps = (runtime_build_job(spec, env.build, env.arch, env.python, add),)
        return add(Job("install", env.id, deps, labels, env))

    for cell in spec.cells:
        ref = spec.models.get(cell.model) or ModelRef(cell.model, Path(cell.model), "build")
        for function in ref.functions:
            _add_cell(spec, cell, ref, function, runtime_dirs, add, install)
    return Plan(_ordered(jobs.values()))


def _add_cell(
    spec: MatrixSpec,
    cell: Cell,
    ref: ModelRef,
    function: str,
    runtime_dirs: Mapping[str, str],
    add: Callable[[Job], str],
    install: Callable[[EnvSpec], str],
) -> None:
    """One chain of export -> compile -> run for one function of one cell's model."""
    exp_env = exporter_env(cell, ref.requirements)
    comp_env = compiler_env(cell, spec.compiler_python)
    rt_env = runtime_env(cell, runtime_dirs, spec.compiler_python)
    unit = ref.unit(function)
    export_labels = Labels(
        model=unit,
        source_model=cell.model,
        function=function,
        python=cell.python,
        torch=cell.torch,
        turbine=cell.turbine,
        exporter=exp_env.id,
    )
    export_cell = f"{unit}/{exp_env.id}"
    if spec.peers:
        env = peer_env(cell, ref.requirements)
        labels = Labels(model=unit, source_model=cell.model, function=function, python=cell.python,
                        torch=cell.torch, peers=",".join(spec.peers)).as_dict()  # fmt: skip
        add(
            Job("peer", f"{unit}/{env.id}", (install(env),), labels, env, model=cell.model, function=function)
        )
    export_id = add(
        Job(
            "export",
            export_cell,
            (install(exp_env),),
            export_labels.as_dict(),
            exp_env,
            model=cell.model,
            function=function,
        )
    )

    form = cell.form if cell.form == BYTECODE else ""
    compile_labels = dataclasses.replace(
        export_labels, compiler=cell.compiler, arch=cell.arch, profile=cell.profile, form=form
    )
    compile_cell = f"{export_cell}/iree{cell.compiler}/{cell.arch}/{cell.profile}"
    if form:
        compile_cell += "/mlirbc"  # the text form's ids stay as they were
    compile_id = add(
        Job(
            "compile",
            compile_cell,
            (export_id, install(comp_env)),
            compile_labels.as_dict(),
            comp_env,
            profile=spec.profiles[cell.profile],
            model=cell.model,
            function=function,
        )
    )

    if form:
        # The bytecode form asks whether the compiler reads it: its module is the text form's
        # (the compile records the module's digest), so it is not run again.
        return
    if rt_env.tools is not None:
        run_cell = f"{compile_cell}/{rt_env.name}"
    elif cell.runtime == cell.compiler:
        run_cell = compile_cell
    else:
        run_cell = f"{compile_cell}/rt{cell.runtime.replace(':', '')}"  # /rt3.13.0, /rtsrc3.9.0+static
    # No runtime exists for this target (armv6 without --armv6-runtime): the run is planned
    # anyway and records why it was skipped, so the table says so instead of going blank.
    # A firmware (bare metal): the run links the runtime it builds itself (cortex_m.py), nothing to install.
    bare_metal = targets.parse(cell.arch).arch.bare_metal
    deps = (export_id, compile_id) + ((install(rt_env),) if runs_anywhere(rt_env) and not bare_metal else ())
    if bare_metal:
        if not versions.is_source_runtime(cell.runtime):
            raise SpecError(
                f"arch {cell.arch!r} with runtime {cell.runtime!r}: a bare-metal target runs IREE's runtime "
                f'built here from source; name it runtime = ["src:{cell.runtime}"]'
            )
        source = spec.iree_source(versions.parse_source_runtime(cell.runtime)[0])
        run_labels = dataclasses.replace(compile_labels, runtime=cell.runtime, runtime_source=source)
    elif rt_env.tools is None:
        run_labels = dataclasses.replace(compile_labels, runtime=cell.runtime)
    else:
        runtime = tools_runtime(rt_env.tools)
        run_labels = dataclasses.replace(compile_labels, runtime=runtime, runtime_tools=rt_env.tools)
    for device in spec.benchmark.devices:
        # The first HAL driver is the cell's plain run; another is the same module on that driver.
        own = device if device != DEFAULT_DEVICE else ""
        cell_id = f"{run_cell}/{device}" if own else run_cell
        labels = dataclasses.replace(run_labels, device=own).as_dict()
        add(Job("run", cell_id, deps, labels, rt_env, model=cell.model, function=function))
    if spec.benchmark.profiles_dispatches(unit, cell.profile) and run_cell == compile_cell:
        # Op-wise bisection of this cell, by its own runtime: each executable timed on its own.
        labels = run_labels.as_dict()
        add(Job("dispatches", run_cell, deps, labels, rt_env, model=cell.model, function=function))


def _ordered(jobs: Iterable[Job]) -> tuple[Job, ...]:
    """By stage, then cell — except that a job always comes after what it depends on (a cross
    runtime build after the native one whose host tools it needs)."""
    rank = {stage: i for i, stage in enumerate(STAGES)}
    pending = sorted(jobs, key=lambda j: (rank[j.stage], j.cell))
    by_id = {j.id: j for j in pending}
    out: list[Job] = []
    placed: set[str] = set()

    def place(job: Job) -> None:
        if job.id in placed:
            return
        placed.add(job.id)
        for dep in job.deps:
            if dep in by_id:
                place(by_id[dep])
        out.append(job)

    for job in pending:
        place(job)
    return tuple(out)


def select(plan: Plan, patterns: Sequence[str]) -> Plan:
    """Jobs whose cell (or `stage:cell`) matches any glob, plus everything they depend on."""
    if not patterns:
        return plan
    wanted: set[str] = set()
    for pattern in patterns:
        matched = [
            j.id
            for j in plan.jobs
            if fnmatch.fnmatchcase(j.cell, pattern) or fnmatch.fnmatchcase(j.id, pattern)
        ]
        if not matched:
            raise SelectionError(
                f"--select {pattern!r} matches no job; `--list` prints the ids "
                f"(e.g. {plan.jobs[-1].cell if plan.jobs else '-'})"
            )
        wanted.update(matched)
    closure = plan.closure(wanted)
    return Plan(tuple(j for j in plan.jobs if j.id in closure))


def describe(plan: Plan) -> str:
    stages = [s for s in STAGES if s not in ("runtime-build", "peer", "dispatches") or plan.count(s)]
    counts = ", ".join(f"{plan.count(s)} {s}" for s in stages)
    lines = [f"{len(plan)} jobs: {counts}"]
    lines += [f"  {job.id}" for job in plan.jobs]
    return "\n".join(lines)
