"""Expand a matrix into stage jobs with dependencies and stable ids `<stage>:<cell>` (pure)."""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Optional, Protocol

from iree_matrix.core.errors import SelectionError
from iree_matrix.core.model.records import Labels
from iree_matrix.iree import targets
from iree_matrix.iree.flags import Profile
from iree_matrix.matrix.models import MAIN, ModelRef
from iree_matrix.matrix.spec import Cell, MatrixSpec


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """An environment to realise: a Python and exact requirements on an arch, or user-built `tools`."""

    kind: str  # exporter | compiler | runtime
    python: str
    requirements: tuple[str, ...]
    name: str  # "torch2.13.0-turbine3.9.0", "iree-compiler3.9.0"
    arch: str = dataclasses.field(default_factory=targets.host_arch)
    tools: Optional[str] = None
    # A runtime built from source by a `runtime-build` job: its tools are known only once it ran.
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
        by_id = self.by_id()
        found: set[str] = set()
        stack = list(roots)
        while stack:
            if (job_id := stack.pop()) not in found:
                found.add(job_id)
                stack.extend(by_id[job_id].deps)
        return found


def runs_anywhere(env: EnvSpec) -> bool:
    """False for a runtime IREE publishes no wheel for, when the user gave no tools directory."""
    return (
        env.tools is not None
        or env.build is not None
        or env.kind != "runtime"
        or targets.ARCHES[env.arch].wheel_machine is not None
    )


class PlanStage(Protocol):
    """What a stage adds to a plan, per function of every cell; jobs others need it plans in `provide`."""

    name: str
    optional: bool  # `describe` counts its jobs only when the plan has some

    def plan(self, unit: PlannedFunction) -> None: ...

    def provide(self, builder: Builder, env: EnvSpec) -> str: ...


@dataclasses.dataclass(frozen=True)
class Planned:
    """What a stage planned for a unit, as the stages after it build on it."""

    cell: str
    labels: Labels
    env: EnvSpec
    deps: tuple[str, ...] = ()
    id: str = ""  # its job, when it planned one (a run on several HAL drivers plans several)


class Builder:
    """The jobs planned so far (one per id), and the stages that plan them."""

    def __init__(
        self,
        spec: MatrixSpec,
        stages: Sequence[PlanStage],
        runtime_dirs: Mapping[str, str] = {},  # noqa: B006 - read only
        jobs: Iterable[Job] = (),
    ) -> None:
        self.spec, self.runtime_dirs, self.stages = spec, runtime_dirs, tuple(stages)
        self._by_name = {stage.name: stage for stage in self.stages}
        self.jobs: dict[str, Job] = {job.id: job for job in jobs}

    def add(self, job: Job) -> str:
        self.jobs.setdefault(job.id, job)
        return job.id

    def need(self, stage: str, env: EnvSpec) -> str:
        """The id of the job `stage` plans for `env` (installs it; builds its runtime)."""
        return self._by_name[stage].provide(self, env)

    def plan(self) -> Plan:
        return Plan(_ordered(self.jobs.values(), [stage.name for stage in self.stages]))


@dataclasses.dataclass
class PlannedFunction:
    """One function of one cell, while the stages plan it in order: what each planned, for the next."""

    builder: Builder
    cell: Cell
    ref: ModelRef
    function: str
    planned: dict[str, Planned] = dataclasses.field(default_factory=dict)  # stage -> what it planned

    @property
    def spec(self) -> MatrixSpec:
        return self.builder.spec

    @property
    def name(self) -> str:
        return self.ref.function_name(self.function)

    def labels(self, **more: str) -> Labels:
        """The labels of a job that runs this unit's model: function, Python, torch, and `more`."""
        cell = self.cell
        fields = dict(model=self.name, source_model=cell.model, function=self.function, python=cell.python)
        return Labels(**fields, torch=cell.torch, **more)

    def install(self, env: EnvSpec) -> str:
        """The id of the job that installs `env` (every stage's job depends on its environment's)."""
        return self.builder.need("install", env)

    def add(
        self,
        stage: str,
        cell: str,
        deps: tuple[str, ...],
        labels: Labels,
        env: EnvSpec,
        profile: Optional[Profile] = None,
    ) -> Planned:
        """A job of this unit, as the stages after it build on it."""
        job = Job(stage, cell, deps, labels.as_dict(), env, profile, self.cell.model, self.function)
        return Planned(cell, labels, env, id=self.builder.add(job))


def build(
    spec: MatrixSpec,
    stages: Sequence[PlanStage],
    runtime_dirs: Mapping[str, str] = {},  # noqa: B006 - read only
) -> Plan:
    """Every stage's jobs for every function of every cell (`runtime_dirs`: arch -> tools for the wheel)."""
    builder = Builder(spec, stages, runtime_dirs)
    for cell in spec.cells:
        ref = spec.models.get(cell.model) or ModelRef(cell.model, Path(cell.model), "build")
        for function in ref.functions:
            unit = PlannedFunction(builder, cell, ref, function)
            for stage in builder.stages:
                stage.plan(unit)
    return builder.plan()


def _ordered(jobs: Iterable[Job], stages: Sequence[str]) -> tuple[Job, ...]:
    """By stage, then cell, each job after what it depends on."""
    rank = {stage: i for i, stage in enumerate(stages)}
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
        matched = [j.id for j in plan.jobs if any(fnmatch.fnmatchcase(n, pattern) for n in (j.cell, j.id))]
        if not matched:
            raise SelectionError(
                f"--select {pattern!r} matches no job; `--list` prints the ids "
                f"(e.g. {plan.jobs[-1].cell if plan.jobs else '-'})"
            )
        wanted.update(matched)
    closure = plan.closure(wanted)
    return Plan(tuple(j for j in plan.jobs if j.id in closure))


def describe(plan: Plan, stages: Sequence[PlanStage]) -> str:
    shown = [s.name for s in stages if not s.optional or plan.count(s.name)]
    lines = [f"{len(plan)} jobs: " + ", ".join(f"{plan.count(s)} {s}" for s in shown)]
    lines += [f"  {job.id}" for job in plan.jobs]
    return "\n".join(lines)
