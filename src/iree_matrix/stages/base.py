"""What every stage gets and implements (`Context`, `Stage`): kept apart from the
registry (`stages.get`) so a stage module imports this, never the package that imports it."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import digest
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system import host, process_output, processes
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.envs import Backend, Environment, key_inputs
from iree_matrix.matrix.plan import Builder, EnvSpec, Job, Planned, PlannedFunction
from iree_matrix.matrix.spec import MatrixSpec
from iree_matrix.matrix.wheelhouse import PINS_FILE, Pins, Wheelhouse
from iree_matrix.stages.artifacts import Artifact

# The machine's quiet lock for one job, taken when the stage asks (a stage that `warms_up`, once its
# model's first call has returned): called with `ended` (True once the stage no longer wants it, e.g.
# its worker ended while it waited), it waits in turn and holds the lock for its block.
QuietLock = Callable[[Callable[[], bool]], AbstractContextManager[Any]]


@dataclasses.dataclass(frozen=True)
class Context:
    """What a stage may use: the matrix, the shared services, and its dependencies' entries."""

    spec: MatrixSpec
    backend: Backend
    wheelhouse: Wheelhouse
    deps: Mapping[str, Entry]  # job id -> store entry, for every dependency (all succeeded)
    timeout: float
    log: Path
    cache: Optional[Path] = None  # the run's cache (runtime builds keep IREE's unpacked source there)
    # A stage that `warms_up` takes the quiet lock itself, through this; None: held around the whole
    # stage by whoever runs it, or not at all (a unit test's context).
    quiet: Optional[QuietLock] = None

    def dep(self, stage: str) -> Entry:
        found = [entry for job_id, entry in self.deps.items() if job_id.startswith(stage + ":")]
        if len(found) != 1:
            raise RuntimeError(f"expected one {stage} dependency, found {len(found)}")
        return found[0]

    def read(self, artifact: Artifact) -> Path:
        """Where `artifact` is in this job's dependency of the stage that stores it."""
        return artifact.of(self.dep(artifact.stage))

    def env_key_inputs(self) -> dict[str, Any]:
        """The job's environment as stage keys see it (packages, interpreter, base image)."""
        return key_inputs(self.dep("install").record.env)

    @property
    def bounds(self) -> Bounds:
        """What every command of this job runs under: its stage's limit and its log."""
        return Bounds(self.timeout, self.log)

    def request(self, argv: Sequence[str], **options: Any) -> ProcessRequest:
        """A command of this job: its timeout, its output appended to the job's log."""
        return self.bounds.request(argv, **options)

    def timed_key(self, stage: str, **inputs: Any) -> str:
        """The key of a stage that times something: its inputs, plus what decides a timing (`timing`)."""
        return digest({"stage": stage, **inputs, **self.timing()})

    def timing(self) -> dict[str, Any]:
        """What decides a timing in the job's environment besides what is timed: every timed stage's
        key holds these fields, under these names."""
        return {
            "env": self.env_key_inputs(),
            "repetitions": self.spec.benchmark.repetitions,
            **self.machine_timing(),
        }

    def machine_timing(self) -> dict[str, Any]:
        """What decides any timing on this machine (all peak's timing of the machine depends on)."""
        return {"threads": self.spec.benchmark.thread_count(), "host": host.identity()}

    def environment(self, job: Job) -> Environment:
        """The realised environment this job runs in (installed by its install dependency)."""
        install = self.dep("install")
        spec = built_env(job.env, install.record.env)
        # Damaged (its files' content) or removed meanwhile: rebuilt from its pins.
        env = self.backend.open(spec, install.record.env["lock_digest"]) or _rebuild(self, spec, install)
        if env is None:
            raise StageFailure(
                "env-missing",
                f"environment {job.env.id} was removed or damaged while the matrix ran; the next run "
                "rebuilds it",
                cacheable=False,
            )
        return env


def _rebuild(ctx: Context, spec: EnvSpec, install: Entry) -> Optional[Environment]:
    """The environment made again from its install's stored pins (the same wheels: the same
    environment), or None when the install stored none."""
    pins_file = install.artifact(PINS_FILE)
    if not pins_file.is_file():
        return None
    pins = Pins.from_json(pins_file.read_text(encoding="utf-8"))
    if pins.digest != install.record.env.get("lock_digest"):
        return None
    processes.note(ctx.log, f"iree-matrix: {spec.id} was damaged or removed: rebuilding it from its pins")
    wheels = ctx.wheelhouse.fetch(pins, log=ctx.log)
    return ctx.backend.create(spec, pins, wheels, ctx.bounds)


def built_env(env: EnvSpec, description: Mapping[str, Any]) -> EnvSpec:
    """A runtime built from source is, once built, a tools directory: the one its install recorded."""
    if env.build is None or env.tools is not None or not description.get("tools"):
        return env
    return dataclasses.replace(env, tools=str(description["tools"]))


class Stage:
    """A stage: what it adds to a plan (`PlanStage`), and how one of its jobs is keyed and run. Its
    defaults: it runs beside others, its stored entries stand, it plans nothing unless it says so, and no
    other stage asks it for a job."""

    name: str
    rank: int  # its place in the pipeline: the order stages plan in, and of the plan's jobs and the report's
    optional = False  # every plan has its jobs: `describe` counts them even when there are none
    exclusive = False  # timed: runs alone so other jobs don't perturb its measurements
    # Timed, and its worker makes the model's first call before the machine's quiet lock is taken
    # (`model_worker.QuietHandshake`): the lock is the stage's to take (`Context.quiet`), not held
    # around it, so a model that hangs in its first call holds up no other run.
    warms_up = False
    io_bound = False  # its time is downloads and disk, not computing (progress's host factor leaves it out)
    timeout = 900.0  # seconds a job may take, unless the matrix's [timeouts] says otherwise
    metrics: Mapping[str, str] = {}  # what its records' metrics hold: name -> meaning

    def key(self, job: Job, ctx: Context) -> str:
        raise NotImplementedError

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        raise NotImplementedError

    def keyed(self, **fields: Any) -> str:
        """A job's key: the stage's name and what decides the job's result."""
        return digest({"stage": self.name, **fields})

    def plan(self, unit: PlannedFunction) -> None:
        """Add this stage's jobs for one function of one cell (the stages before it have planned theirs)."""

    def provide(self, builder: Builder, env: EnvSpec) -> str:
        raise NotImplementedError(f"the {self.name} stage plans no job for another stage")

    def reusable(self, job: Job, ctx: Context, entry: Entry) -> bool:
        """Whether a stored entry still stands (e.g. its environment still exists)."""
        return not environment_fault(entry.record)


@functools.cache
def tool_version(tool: Optional[str]) -> str:
    """The first line of `tool --version` ("" without the tool): what a key names a host's tool by."""
    if tool is None:
        return ""
    lines = processes.run(ProcessRequest([tool, "--version"], timeout=60, check=False)).stdout.splitlines()
    return lines[0].strip() if lines else ""


def own_run(unit: PlannedFunction) -> Optional[Planned]:
    """The function's run on its compiler's own runtime (None: not run there), which a stage that
    measures the module again (dispatches, instructions) follows."""
    run = unit.planned.get("run")
    return run if run is not None and run.cell == unit.planned["compile"].cell else None


def quiet_around(stage: Stage) -> bool:
    """Whether whoever runs a job of `stage` holds the machine's quiet lock around the whole job (a
    timed stage that does not take it itself once its model has warmed up)."""
    return stage.exclusive and not stage.warms_up


def environment_fault(record: Record) -> bool:
    """A stored failure of the environment, not of the stage's inputs (a library of the compiler's
    venv missing): not reused, the stage runs again."""
    if record.status is Status.OK or record.error_class in ("environment-fault", "timeout", "internal"):
        return False
    root = record.env.get("path") or record.env.get("tools")
    return process_output.environment_fault(record.message or "", record.command, None, root) is not None
