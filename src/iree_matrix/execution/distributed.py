"""Run a plan on a Dask cluster (`--scheduler tcp://host:8786` or `--cluster local:N`): each job one Dask
task, submitted when its dependencies succeeded, running the serial executor's `Executor.run_one` on a
worker, so keys, reuse and records are the serial run's. Only this process writes results.jsonl; workers
share the store (`--store`, one path everywhere) and keep their own environments; worker resources and the
quiet lock: docs/scale-out.md."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from iree_matrix import stages
from iree_matrix.core import console
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import StageFailure, StorageError, UserError
from iree_matrix.core.model.outcome import from_exception
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.core.model.store import Entry, Store
from iree_matrix.core.system.locks import machine_lock
from iree_matrix.envs import Backend
from iree_matrix.envs.backends import BACKENDS
from iree_matrix.execution.eta import in_image
from iree_matrix.execution.execute import Executor, Options, blocked_record
from iree_matrix.execution.summary import Summary
from iree_matrix.iree import targets
from iree_matrix.matrix.plan import Job, Plan
from iree_matrix.matrix.spec import MatrixSpec
from iree_matrix.stages.base import quiet_around

logger = console.logger(__name__)

LABEL = 0.001  # how much of a label resource a task asks for: "has it", not "uses it up"
EVENTS = "iree-matrix"


# -- resources ------------------------------------------------------------------------------------


def resources(job: Job, backend: str) -> dict[str, float]:
    """What a task asks of its worker."""
    need = {f"arch-{job.env.arch}": LABEL}
    if in_image(job, backend):
        need["docker"] = LABEL
    if stages.get(job.stage).exclusive:
        need["quiet"] = 1.0
    return need


def machine_resources(
    *, emulated: bool = True, quiet: bool = True, docker: Optional[bool] = None
) -> dict[str, float]:
    """What a worker on this machine can offer: its architecture, those qemu-user runs for it (binfmt
    handler registered), Docker when a daemon answers, and `quiet` unless told its timings don't count."""
    from iree_matrix.core.system import binfmt, containers

    host = targets.host_arch()
    offered: dict[str, float] = {f"arch-{host}": 1}
    for arch in targets.ARCHES.values():
        qemu = arch.platform.qemu
        if emulated and arch.name != host and qemu and binfmt.entry(qemu) is not None:
            offered[f"arch-{arch.name}"] = 1
    if docker if docker is not None else containers.state(timeout=5).ok:
        offered["docker"] = 1
    if quiet:
        offered["quiet"] = 1
    return offered


def resources_text(offered: Mapping[str, float]) -> str:
    """`dask worker --resources`' syntax."""
    return " ".join(f"{name}={value:g}" for name, value in sorted(offered.items()))


# -- the worker side ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Task:
    """Everything a worker needs for one job (pickled by Dask)."""

    run: str  # this matrix run's token: a worker keeps one executor pair per run
    spec: MatrixSpec
    backend: str  # venv | docker
    options: Options
    cache: str  # the orchestrator's --cache: a worker's own cache unless $IREE_MATRIX_CACHE says
    store: str  # the shared store as the orchestrator sees it (a worker: $IREE_MATRIX_STORE)
    job: Job
    deps: tuple[tuple[str, Record], ...]  # dependency job id -> its (successful) record
    installs: tuple[Job, ...]  # the install jobs among the dependencies


@dataclasses.dataclass(frozen=True)
class Done:
    record: Record
    entry: Optional[Entry]
    reused: bool
    worker: str


class _Discard:
    """A worker publishes nothing: the orchestrator is the only writer of results.jsonl."""

    def latest(self) -> dict[str, Record]:
        return {}

    def append(self, record: Record) -> None:
        pass


class _WorkerRun:
    """One worker's view of one matrix run: an executor for installs (its own cache and store) and
    one for every other stage (the shared store)."""

    def __init__(self, task: Task) -> None:
        cache = Path(os.environ.get("IREE_MATRIX_CACHE") or task.cache)
        self.shared = Store(Path(os.environ.get("IREE_MATRIX_STORE") or task.store))
        backend: Backend = BACKENDS[task.backend](cache, task.spec)
        sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the worker's run
        common: dict[str, Any] = dict(cache=cache, results=_Discard(), backend=backend, options=task.options)
        self.installer = Executor(task.spec, Plan(()), out=sink, **common)
        self.runner = Executor(task.spec, Plan(()), out=sink, **common)
        self.runner.store = self.shared


_RUNS: dict[str, _WorkerRun] = {}
_RUNS_LOCK = threading.Lock()


def run_task(task: Task) -> Done:
    """A worker's unit: make sure the job's environments exist here, then run the job."""
    with _RUNS_LOCK:  # this worker's executors for the run, made by its first task
        if task.run not in _RUNS:
            _RUNS.clear()  # an earlier run's executors: done with
            _RUNS[task.run] = _WorkerRun(task)
        here = _RUNS[task.run]
    try:
        from distributed import get_worker

        dask = get_worker()
    except (ImportError, ValueError):  # not on a Dask worker (a direct call)
        dask = None
    worker = "local" if dask is None else str(dask.name)
    job = task.job
    if job.stage == "install":
        with machine_lock(exclusive=False):
            _event(dask, job, worker)
            return Done(*here.installer.run_one(job, {}), worker)
    deps = {
        d: Entry(record, here.shared.entry_path(d.split(":", 1)[0], record.key)) for d, record in task.deps
    }
    with machine_lock(exclusive=False):
        for install in task.installs:  # realised on another worker, maybe: make sure of it here
            record, entry, _ = here.installer.run_one(install, {})
            if record.status is not Status.OK or entry is None:
                return Done(blocked_record(job, record, f" on worker {worker}"), None, False, worker)
            deps[install.id] = entry
    # A stage that takes the lock itself after its model's first call (`warms_up`) is not held here.
    timed, timeout = quiet_around(stages.get(job.stage)), stages.timeout(task.spec, job.stage)
    with machine_lock(exclusive=timed, job=job.id, timeout=timeout):
        _event(dask, job, worker)
        return Done(*here.runner.run_one(job, deps), worker)


def _event(dask: Any, job: Job, worker: str) -> None:
    if dask is not None:
        dask.log_event(EVENTS, {"job": job.id, "name": worker})  # "worker" is its address


# -- the orchestrator -----------------------------------------------------------------------------


def parse_cluster(text: str) -> int:
    """`local:N` -> N (worker processes on this machine)."""
    kind, _, count = (text or "").partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise UserError(
            f"--cluster {text!r}: expected local:N with N >= 1 worker processes, e.g. --cluster local:2"
        )
    return int(count)


def _dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise UserError(
            "--scheduler/--cluster need Dask: python3 -m pip install 'iree-matrix[distributed]' "
            "(or 'dask[distributed]')"
        ) from None
    return distributed


@contextlib.contextmanager
def connect(
    scheduler: Optional[str] = None, cluster: Optional[str] = None, cache: Optional[Path] = None
) -> Iterator[Any]:  # a distributed.Client: Dask has no types here (pyproject's mypy overrides)
    """A Dask client: to a running scheduler, or to N worker processes started here (each with
    one thread and this machine's resources, sharing `cache`)."""
    distributed = _dask()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=30)
        except OSError as exc:
            raise UserError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with client:
            yield client
        return
    count = parse_cluster(cluster or "")
    env = {"IREE_MATRIX_CACHE": str(cache)} if cache is not None else {}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    with (
        distributed.LocalCluster(
            n_workers=count,
            threads_per_worker=1,
            processes=True,
            resources=machine_resources(),
            dashboard_address=None,
            env=env,
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


class DaskExecutor(Executor):
    """The serial executor's bookkeeping (the run lock, reuse of published records, progress, the
    not-run rule, one writer of results.jsonl) with Dask doing the running."""

    def __init__(
        self,
        spec: MatrixSpec,
        plan: Plan,
        *,
        backend_name: str,
        client: Callable[[], contextlib.AbstractContextManager[Any]],
        store: Optional[Path] = None,
        **common: Any,  # the serial executor's: cache, results, backend, options, out
    ) -> None:
        super().__init__(spec, plan, **common)
        if store is not None:  # else the cache's
            self.store = Store(Path(store))
        self.backend_name = backend_name
        self._client = client
        self.placement: dict[str, str] = {}  # job id -> the worker that ran (or reused) it
        self._token = uuid.uuid4().hex
        self._jobs = plan.by_id()

    def _schedule(self, summary: Summary) -> None:
        distributed = _dask()
        with self._client() as client:
            self._check_workers(client)
            client.subscribe_topic(EVENTS, self._on_event)
            waiting = list(self.plan.jobs)
            running: dict[Any, Job] = {}
            done = distributed.as_completed()
            try:
                while waiting or running:
                    waiting = self._submit_ready(client, waiting, running, done, summary)
                    if not running:
                        if waiting:
                            raise RuntimeError(f"scheduler stalled with {len(waiting)} jobs waiting")
                        break
                    future = next(done)
                    job = running.pop(future)
                    summary.records[job.id] = self._collect(job, future, summary)
            except (KeyboardInterrupt, StorageError):
                self.progress.note("interrupted: cancelling the cluster's tasks (completed results are kept)")
                client.cancel(list(running))
                raise
            finally:
                with contextlib.suppress(Exception):
                    client.unsubscribe_topic(EVENTS)

    def _check_workers(self, client: Any) -> None:
        if not (workers := client.scheduler_info().get("workers", {})):
            client.wait_for_workers(1, timeout=60)
            workers = client.scheduler_info().get("workers", {})
        offered = [w.get("resources", {}) for w in workers.values()]
        asked = [(n, a) for job in self.plan.jobs for n, a in resources(job, self.backend_name).items()]
        if missing := Counter(n for n, amount in asked if not any(o.get(n, 0) >= amount for o in offered)):
            needs = ", ".join(f"{name} ({count} jobs)" for name, count in sorted(missing.items()))
            raise UserError(
                f"no worker of the cluster offers {needs}; start one with "
                f'dask worker SCHEDULER --resources "{resources_text(machine_resources())}" '
                "(python -m iree_matrix.execution.distributed resources prints a machine's)"
            )

    def _submit_ready(
        self,
        client: Any,  # Dask's Client, its as_completed and futures: untyped (see `connect`)
        waiting: Sequence[Job],
        running: dict[Any, Job],
        done: Any,
        summary: Summary,
    ) -> list[Job]:
        still_waiting: list[Job] = []
        for job in self._ready(waiting, summary, still_waiting):
            task = Task(
                run=self._token,
                spec=self.spec,
                backend=self.backend_name,
                options=self.options,
                cache=str(self.cache),
                store=str(self.store.root),
                job=job,
                deps=tuple((d, summary.records[d]) for d in job.deps),
                installs=tuple(self._jobs[d] for d in job.deps if self._jobs[d].stage == "install"),
            )
            need, key = resources(job, self.backend_name), f"{job.id}#{self._token[:8]}"
            future = client.submit(run_task, task, key=key, resources=need, pure=False)
            running[future] = job
            done.add(future)
        return still_waiting

    def _collect(self, job: Job, future: Any, summary: Summary) -> Record:
        try:
            result: Done = future.result()
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker), a worker-side bug
            if type(exc).__name__ == "KilledWorker":
                exc = StageFailure(
                    "worker-lost", f"every worker that took this job was lost: {exc}", cacheable=False
                )
            return self._finish(job, from_exception(exc))
        self.placement[job.id] = result.worker
        self._publish(result.record)
        if result.reused:
            summary.reused.add(job.id)
            self.progress.reused(job, result.record)
        else:
            self.progress.finished(job, result.record)
        return result.record

    def _on_event(self, event: Any) -> None:
        """A worker took a job (a reused result too: the worker only knows once it has looked)."""
        _, message = event
        job_id, worker = str(message.get("job", "")), str(message.get("name", ""))
        if job_id in self._jobs:
            self.placement[job_id] = worker
            self.progress.note(f"{job_id.split(':', 1)[0]:<7} {job_id.split(':', 1)[1]} ... on {worker}")

    def placement_line(self) -> str:
        """Which worker ran (or found stored) how many jobs."""
        counts = Counter(self.placement.values())
        return "workers: " + (", ".join(f"{w}: {n} jobs" for w, n in sorted(counts.items())) or "none")


def executor(
    matrix: MatrixSpec, plan: Plan, cache: Path, results: ResultsLog, backend: str, options: Options
) -> DaskExecutor:
    """The executor `iree-matrix matrix --scheduler/--cluster` (`options.cluster`) runs."""
    where = options.cluster
    assert where is not None, "a distributed run names its cluster"
    _dask()  # a bad --cluster is refused by load_plan, before anything is planned
    store = where.store or CacheLayout(Path(cache)).store
    place = f"scheduler {where.scheduler}" if where.scheduler else f"{where.cluster} (this machine)"
    logger.info(f"distributed: {place}; shared store: {store}")
    return DaskExecutor(
        matrix,
        plan,
        cache=cache,
        results=results,
        backend=BACKENDS[backend](cache, matrix),
        backend_name=backend,
        client=lambda: connect(where.scheduler, where.cluster, cache),
        store=store,
        options=options,
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m iree_matrix.execution.distributed resources [--no-emulated] [--no-quiet] [--no-docker]`:
    this machine's worker resources, in `dask worker --resources` syntax."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "resources" or set(args[1:]) - {"--no-emulated", "--no-quiet", "--no-docker"}:
        print(
            "usage: python -m iree_matrix.execution.distributed resources [--no-emulated] [--no-quiet] "
            "[--no-docker]"
        )
        return 2
    offered = machine_resources(
        emulated="--no-emulated" not in args,
        quiet="--no-quiet" not in args,
        docker=False if "--no-docker" in args else None,
    )
    print(resources_text(offered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
